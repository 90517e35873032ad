package app

import (
	"strings"
	"testing"

	"winnow/internal/testdata"
)

// TestHostNameSourceInLoghubLinux: the loghub Linux sample logs sshd's PAM
// failures with host names (rhost=n219076184117.netvigator.com, 23 root
// failures in a minute). The host name is an entity: it has an incident at
// the default severity, with source.domain set.
func TestHostNameSourceInLoghubLinux(t *testing.T) {
	path := testdata.File(t, "loghub/Linux/Linux_2k.log")
	r := analyze(t, []string{path}, func(o *AnalyzeOptions) { o.Year = 2005 })
	if r.code != 0 {
		t.Fatalf("exit %d: %v\n%s", r.code, r.err, r.stderr)
	}
	const name = "n219076184117.netvigator.com"
	found := false
	for _, d := range incidents(r.docs) {
		if d.Winnow.Entity.Value != name {
			continue
		}
		found = true
		if d.Winnow.Entity.Type != "host" || d.Event.Severity < 47 || d.Rule.Name != "auth.brute_force" {
			t.Errorf("incident %s %s severity %d", d.Winnow.Entity.Type, d.Rule.Name, d.Event.Severity)
		}
		if n, _ := d.Winnow.Evidence["attempts"].(float64); n != 23 {
			t.Errorf("attempts %v, want 23", d.Winnow.Evidence["attempts"])
		}
	}
	if !found {
		t.Fatalf("no incident on %s:\n%s", name, r.stdout)
	}
	// source.domain in the ECS document
	raw := analyze(t, []string{path}, func(o *AnalyzeOptions) { o.Year = 2005 }).stdout
	if !strings.Contains(raw, `"source":{"domain":"`+name+`"}`) {
		t.Errorf("no source.domain for %s in:\n%s", name, raw)
	}
}
