package nft

import (
	"bytes"
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

func decisions(t *testing.T) ([]decide.Decision, time.Time) {
	t.Helper()
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	dec, err := decide.New(decide.DefaultPolicy(), func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	for _, ip := range []string{"203.0.113.5", "2001:db8::1", "198.51.100.1", "198.51.100.2", "198.51.100.3"} {
		dec.Observe(event.Alert{Rule: "auth.brute_force", Severity: event.SeverityHigh, SourceIP: netip.MustParseAddr(ip)})
	}
	return dec.Active(), now
}

func TestRender(t *testing.T) {
	ds, now := decisions(t)
	var b bytes.Buffer
	if err := Render(&b, ds, now, Options{}); err != nil {
		t.Fatal(err)
	}
	s := b.String()
	for _, want := range []string{
		"add element inet winnow ban4 { 203.0.113.5/32 timeout 14400s }",
		"add element inet winnow ban6 { 2001:db8::1/128 timeout 14400s }",
		"add element inet winnow ban4 { 198.51.100.0/24 timeout 14400s }",
		"flush set inet winnow ban4",
		"add rule inet winnow input ip saddr @ban4 drop",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("missing %q in\n%s", want, s)
		}
	}
	if strings.Contains(s, "198.51.100.1/32") {
		t.Errorf("an address inside a banned range is listed too:\n%s", s)
	}
	b.Reset()
	Render(&b, ds, now, Options{Table: "fw", NoChain: true})
	if strings.Contains(b.String(), "chain") || !strings.Contains(b.String(), "add set inet fw ban4") {
		t.Errorf("NoChain/Table not honoured:\n%s", b.String())
	}
}

// TestNftAccepts checks the script with the real nft in check mode (no
// kernel change) when nft is installed.
func TestNftAccepts(t *testing.T) {
	nft, err := exec.LookPath("nft")
	if err != nil {
		t.Skip("nft not installed (apt-get install nftables)")
	}
	ds, now := decisions(t)
	path := filepath.Join(t.TempDir(), "winnow.nft")
	if err := WriteFile(path, ds, now, Options{}); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(nft, "-c", "-f", path).CombinedOutput()
	if err != nil {
		if strings.Contains(string(out), "Operation not permitted") {
			t.Skipf("nft -c needs CAP_NET_ADMIN here: %s", out)
		}
		t.Fatalf("nft -c -f rejected the file: %v\n%s", err, out)
	}
}

func TestWriteFileRefusesSymlink(t *testing.T) {
	dir := t.TempDir()
	victim := filepath.Join(dir, "victim")
	os.WriteFile(victim, []byte("keep"), 0o600)
	link := filepath.Join(dir, "bans.nft")
	if err := os.Symlink(victim, link); err != nil {
		t.Fatal(err)
	}
	ds, now := decisions(t)
	if err := WriteFile(link, ds, now, Options{}); err == nil {
		t.Fatal("wrote through a symlink")
	}
	if b, _ := os.ReadFile(victim); string(b) != "keep" {
		t.Fatal("symlink target changed")
	}
	// A normal write replaces the file atomically and leaves no temp file.
	path := filepath.Join(dir, "ok.nft")
	if err := WriteFile(path, ds, now, Options{}); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(path, nil, now, Options{}); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 3 {
		t.Fatalf("temp files left behind: %v", entries)
	}
}
