package serve

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"winnow/internal/decide/crowdsec"
	"winnow/internal/source/syslognet"
)

// End to end: a brute force arriving over syslog becomes a ban that a
// CrowdSec bouncer reads from /v1/decisions/stream and that the nftables
// set file holds; the decisions survive in the data dir.
func TestServeDecisions(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "findings.jsonl")
	data := filepath.Join(dir, "data")
	nftFile := filepath.Join(dir, "bans.nft")
	yml := fmt.Sprintf(serveYAML, data, out, 20) + fmt.Sprintf(`decisions:
  enabled: true
  cost: {block_good: 5, miss_bad: 10}
  allowlist: {cidrs: [192.0.2.0/24]}
  bouncers:
    - name: fw
      key_sha256: %s
  nftables: %s
`, crowdsec.HashKey("bouncer-secret"), nftFile)
	d, _, stop := daemon(t, yml, nil)
	addr := d.Sources()[0].(*syslognet.Receiver).Addr()
	sendOctets(t, addr, failureLines("203.0.113.7", 25, "web7"))
	sendOctets(t, addr, failureLines("192.0.2.8", 25, "web7")) // allowlisted

	poll := func(key string) (int, map[string][]map[string]any) {
		req, _ := http.NewRequest("GET", "http://"+d.MetricsAddr().String()+"/v1/decisions/stream?startup=true", nil)
		req.Header.Set("X-Api-Key", key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body map[string][]map[string]any
		json.NewDecoder(resp.Body).Decode(&body)
		return resp.StatusCode, body
	}
	waitFor(t, "a ban on the brute-forcing address", func() bool {
		code, body := poll("bouncer-secret")
		for _, dc := range body["new"] {
			if dc["value"] == "203.0.113.7" && code == 200 {
				return true
			}
		}
		return false
	})
	if code, _ := poll("wrong"); code != http.StatusForbidden {
		t.Fatalf("wrong key: %d", code)
	}
	_, body := poll("bouncer-secret")
	for _, dc := range body["new"] {
		if dc["value"] == "192.0.2.8" {
			t.Fatal("allowlisted address banned")
		}
	}
	// The set file is rewritten just after the decision is made.
	waitFor(t, "the ban in the nftables file", func() bool {
		b, _ := os.ReadFile(nftFile)
		return strings.Contains(string(b), "203.0.113.7/32")
	})
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(data, "decisions.json")); err != nil || !strings.Contains(string(b), "203.0.113.7") {
		t.Fatalf("decisions not saved at drain: %v", err)
	}
}

func TestDecisionsConfigErrors(t *testing.T) {
	base := fmt.Sprintf(serveYAML, t.TempDir(), filepath.Join(t.TempDir(), "f.jsonl"), 20)
	for _, c := range []struct{ extra, want string }{
		{"decisions:\n  enabled: false\n  nftables: /tmp/x.nft\n", "decisions.enabled is false"},
		{"decisions:\n  enabled: true\n  bouncers: [{name: fw, key_sha256: abc}]\n", "64 hex"},
		{"decisions:\n  enabled: true\n  cost: {block_good: -1, miss_bad: 1}\n", "block_good"},
		{"decisions:\n  enabled: true\n  bogus: 1\n", "bogus"},
	} {
		cfg, err := ParseConfig("test.yaml", []byte(base+c.extra), nil)
		if err == nil {
			_, err = New(Options{Config: cfg, NewRegistry: registry, Formats: formats()})
		}
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: error %v, want %q", c.extra, err, c.want)
		}
	}
}
