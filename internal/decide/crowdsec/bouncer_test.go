package crowdsec

import (
	"context"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"winnow/internal/decide"
	"winnow/internal/event"
)

// TestCustomBouncerRoundTrip runs Debian's crowdsec-custom-bouncer (a real
// CrowdSec client) against the handler on loopback: a ban reaches its
// script as "add", an unban as "del".
func TestCustomBouncerRoundTrip(t *testing.T) {
	bin, err := exec.LookPath("crowdsec-custom-bouncer")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("crowdsec-custom-bouncer not installed (.ci/run installs it)")
		}
		t.Skip("crowdsec-custom-bouncer not installed: apt-get install --no-install-recommends crowdsec-custom-bouncer")
	}
	dec, err := decide.New(decide.DefaultPolicy(), nil)
	if err != nil {
		t.Fatal(err)
	}
	h, err := New(dec, []Key{{Name: "custom", Hash: HashKey("test-key-123")}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })

	dir := t.TempDir()
	record := filepath.Join(dir, "calls.log")
	script := filepath.Join(dir, "record.sh")
	if err := os.WriteFile(script, []byte("#!/bin/sh\necho \"$1 $2 $3 $4\" >> "+record+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "bouncer.yaml")
	conf := "bin_path: " + script + "\nfeed_via_stdin: false\ntotal_retries: 0\nscenarios_containing: []\nscenarios_not_containing: []\norigins: []\n" +
		"piddir: " + dir + "\nupdate_frequency: 200ms\ncache_retention_duration: 1s\ndaemonize: false\nlog_mode: stdout\nlog_level: info\n" +
		"api_url: http://" + ln.Addr().String() + "/\napi_key: test-key-123\nprometheus:\n  enabled: false\n  listen_addr: 127.0.0.1\n  listen_port: 0\n"
	if err := os.WriteFile(cfg, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	ban := dec.Observe(event.Alert{Rule: "auth.brute_force", Severity: event.SeverityHigh, SourceIP: netip.MustParseAddr("203.0.113.50")})
	if ban == nil {
		t.Fatal("no decision")
	}

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "-c", cfg)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); _ = cmd.Wait() })

	waitFor := func(want string) {
		t.Helper()
		for ctx.Err() == nil {
			b, _ := os.ReadFile(record)
			if strings.Contains(string(b), want) {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
		b, _ := os.ReadFile(record)
		t.Fatalf("bouncer never ran %q; calls:\n%s\nbouncer output:\n%s", want, b, out.String())
	}
	waitFor("add 203.0.113.50 ")
	if !dec.Delete("203.0.113.50") {
		t.Fatal("delete found nothing")
	}
	waitFor("del 203.0.113.50 ")
	b, _ := os.ReadFile(record)
	if !strings.Contains(string(b), "auth.brute_force") {
		t.Fatalf("scenario not passed to the script: %s", b)
	}
}
