package app

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"winnow/internal/generate"
	"winnow/internal/testdata"
)

func findingKeys(docs []doc) []string {
	var out []string
	for _, d := range docs {
		b, _ := json.Marshal(d.Winnow.Samples)
		out = append(out, strings.Join([]string{d.Rule.Name, d.Winnow.Entity.Type, d.Winnow.Entity.Value,
			d.Event.Start, d.Event.End, d.Rule.Description, string(b)}, "|"))
	}
	sort.Strings(out)
	return out
}

func replay(t *testing.T, o ReplayOptions) result {
	t.Helper()
	var out, errb bytes.Buffer
	o.Analyze.Stdout, o.Analyze.Stderr = &out, &errb
	if o.Analyze.Output == "" {
		o.Analyze.Output = "json"
	}
	if o.Analyze.TZ == "" {
		o.Analyze.TZ = "UTC"
	}
	code, err := Replay(context.Background(), o)
	r := result{code: code, err: err, stdout: out.String(), stderr: errb.String()}
	for _, l := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		if l == "" {
			continue
		}
		var d doc
		if err := json.Unmarshal([]byte(l), &d); err != nil {
			t.Fatalf("bad JSON %q: %v", l, err)
		}
		r.docs = append(r.docs, d)
	}
	return r
}

// TestReplayReproducesFindings archives a real auth log while analysing
// it, replays the archive with the same configuration and expects exactly
// the same findings (rules, entities, ranges, descriptions, evidence
// lines); then replays with a lower threshold and --diff lists only the
// findings that are new.
func TestReplayReproducesFindings(t *testing.T) {
	path := testdata.File(t, "auth-logs/dfrws-2009/auth.all.log")
	dir := filepath.Join(t.TempDir(), "arch")
	orig := analyze(t, []string{path}, func(o *AnalyzeOptions) {
		o.Archive = dir
		o.MinSeverity = "info"
	})
	if orig.code != 0 || len(orig.docs) < 10 || !strings.Contains(orig.stderr, "archived") {
		t.Fatalf("original run: exit %d, %d findings, %v\n%s", orig.code, len(orig.docs), orig.err, orig.stderr)
	}
	again := replay(t, ReplayOptions{Archive: dir, Analyze: AnalyzeOptions{MinSeverity: "info"}})
	if again.code != 0 {
		t.Fatalf("replay: exit %d %v\n%s", again.code, again.err, again.stderr)
	}
	a, b := findingKeys(orig.docs), findingKeys(again.docs)
	if strings.Join(a, "\n") != strings.Join(b, "\n") {
		t.Errorf("replay differs from the original run:\noriginal %d findings, replay %d", len(a), len(b))
		for i := 0; i < min(len(a), len(b)); i++ {
			if a[i] != b[i] {
				t.Errorf("first difference:\n  %s\n  %s", a[i], b[i])
				break
			}
		}
	}
	same := replay(t, ReplayOptions{Archive: dir, Diff: true, Analyze: AnalyzeOptions{MinSeverity: "info"}})
	if len(same.docs) != 0 || !strings.Contains(same.stderr, "0 new") {
		t.Errorf("--diff with the same configuration: %d findings\n%s", len(same.docs), same.stderr)
	}
	looser := replay(t, ReplayOptions{Archive: dir, Diff: true,
		Analyze: AnalyzeOptions{MinSeverity: "info", Set: []string{"auth.brute_force.threshold=5"}}})
	if len(looser.docs) == 0 {
		t.Fatalf("a lower threshold found nothing new:\n%s", looser.stderr)
	}
	for _, d := range looser.docs {
		if d.Rule.Name != "auth.brute_force" {
			t.Errorf("--diff shows an unchanged rule: %s %s", d.Rule.Name, d.Rule.Description)
		}
	}
	// A window replays only its events.
	from, _ := time.Parse(time.RFC3339, "2026-03-01T00:00:00Z")
	win := replay(t, ReplayOptions{Archive: dir, From: from, Analyze: AnalyzeOptions{MinSeverity: "info"}})
	for _, d := range win.docs {
		if d.Event.Start < "2026-03-01" {
			t.Errorf("finding before the window: %s %s", d.Event.Start, d.Rule.Description)
		}
	}
	if len(win.docs) == 0 || len(win.docs) >= len(again.docs) {
		t.Errorf("window replay: %d findings of %d", len(win.docs), len(again.docs))
	}
}

// TestHuntAndLiveIndicators: the heaviest attacker of the generated day,
// put on an indicator list after the fact, is found in the archive by
// hunt (first/last seen, count), and live by ioc.match.
func TestHuntAndLiveIndicators(t *testing.T) {
	tmp := t.TempDir()
	gc := generate.DefaultAuthConfig()
	log := filepath.Join(tmp, "auth.log")
	truth, err := writeAuth(log, gc, os.Create)
	if err != nil {
		t.Fatal(err)
	}
	var attacker string
	for _, a := range truth.Attacks {
		if a.Name == "fast-brute-force" {
			attacker = a.SourceIPs[0]
		}
	}
	iocs := filepath.Join(tmp, "iocs.txt")
	write(t, iocs, "# test feed\n"+attacker+" brute forcer\n198.18.0.0/15 benchmark net\nnot-an-indicator!\n")
	dir := filepath.Join(tmp, "arch")
	if r := analyze(t, []string{log}, func(o *AnalyzeOptions) { o.Archive = dir; o.Year = 2026 }); r.code != 0 {
		t.Fatalf("analyze: %d %v", r.code, r.err)
	}
	var out, errb bytes.Buffer
	code, err := Hunt(context.Background(), HuntOptions{Archive: dir, IOCs: []string{iocs}, Output: "json", Stdout: &out, Stderr: &errb})
	if code != 0 || err != nil {
		t.Fatalf("hunt: %d %v\n%s", code, err, errb.String())
	}
	var hit huntHit
	if err := json.Unmarshal([]byte(strings.Split(out.String(), "\n")[0]), &hit); err != nil {
		t.Fatalf("hunt output %q: %v", out.String(), err)
	}
	if hit.Indicator != attacker || hit.Count < 300 || hit.Label != "brute forcer" || hit.ListLine != 2 || len(hit.Events) != 5 {
		t.Errorf("hunt hit = %+v", hit)
	}
	if !strings.Contains(errb.String(), "1 indicator lines skipped") {
		t.Errorf("malformed indicator line not reported: %s", errb.String())
	}
	live := analyze(t, []string{log}, func(o *AnalyzeOptions) { o.IOCs = []string{iocs}; o.Year = 2026; o.Only = []string{"ioc."} })
	inc := incidents(live.docs)
	if len(inc) != 1 || inc[0].Rule.Name != "ioc.match" || inc[0].Winnow.Entity.Value != attacker ||
		inc[0].Event.Severity != 73 {
		t.Errorf("live ioc.match: %+v", live.docs)
	}
}

// TestKeepUnknownAndRetention: events from a known-good address are not
// stored (counted instead), except failures; retention by size removes
// the oldest hours.
func TestKeepUnknownAndRetention(t *testing.T) {
	path := testdata.File(t, "elastic-examples/suspicious_login_activity/auth.log")
	tmp := t.TempDir()
	good := filepath.Join(tmp, "good.txt")
	write(t, good, "85.245.107.41 office\n")
	all, unknown := filepath.Join(tmp, "all"), filepath.Join(tmp, "unknown")
	analyze(t, []string{path}, func(o *AnalyzeOptions) { o.Archive = all })
	r := analyze(t, []string{path}, func(o *AnalyzeOptions) {
		o.Archive, o.Keep, o.KnownGood = unknown, "unknown", []string{good}
	})
	if !strings.Contains(r.stderr, "known-good events not stored") {
		t.Fatalf("no drop report:\n%s", r.stderr)
	}
	count := func(dir, ip string) (n int) {
		var out, errb bytes.Buffer
		iocs := filepath.Join(tmp, "ip.txt")
		write(t, iocs, ip+"\n")
		Hunt(context.Background(), HuntOptions{Archive: dir, IOCs: []string{iocs}, Output: "json", Stdout: &out, Stderr: &errb})
		var h huntHit
		json.Unmarshal(out.Bytes(), &h)
		return int(h.Count)
	}
	// Only the office's failed logins (its users' typos) stay: failures
	// are never eliminated as known good.
	if a, u := count(all, "85.245.107.41"), count(unknown, "85.245.107.41"); a < 500 || u == 0 || u > a/10 {
		t.Errorf("office address: %d events archived with --keep all, %d with --keep unknown (want many, a few failures)", a, u)
	}
	if a, u := count(all, "24.151.103.17"), count(unknown, "24.151.103.17"); a != u || a == 0 {
		t.Errorf("unknown address: %d vs %d", a, u)
	}
	var out bytes.Buffer
	before := dirBytes(all)
	if code, err := Prune(PruneOptions{Archive: all, MaxSize: before / 2, Stdout: &out}); code != 0 || err != nil {
		t.Fatalf("prune: %d %v", code, err)
	}
	if after := dirBytes(all); after > before/2 || after == 0 {
		t.Errorf("after prune to %d bytes: %d (%s)", before/2, after, out.String())
	}
}

func dirBytes(dir string) int64 {
	var n int64
	filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() && strings.HasSuffix(p, ".parquet") {
			n += fi.Size()
		}
		return nil
	})
	return n
}
