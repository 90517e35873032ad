package app

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"winnow/internal/detect"
	"winnow/internal/generate/dnsgen"
	"winnow/internal/generate/weblog"
	"winnow/internal/state"
	"winnow/internal/testdata"
)

// findingKey identifies a finding across runs: rule, entity, episode
// start. findingBody is what it says.
func findingKey(d *doc) string {
	return d.Rule.Name + " " + d.Winnow.Entity.Type + ":" + d.Winnow.Entity.Value + " " + d.Event.Start
}

func findingBody(d *doc) string {
	ev, _ := json.Marshal(d.Winnow.Evidence)
	sm, _ := json.Marshal(d.Winnow.Samples)
	return fmt.Sprintf("end=%s sev=%d score=%g %s %s %s", d.Event.End, d.Event.Severity, d.Winnow.Score, d.Rule.Description, ev, sm)
}

func runWithState(t *testing.T, dir, file string, year int) result {
	t.Helper()
	r := analyze(t, []string{file}, func(o *AnalyzeOptions) {
		o.State, o.MinSeverity, o.Year, o.Workers, o.CheckpointEvery = dir, "info", year, 2, 5000
	})
	if r.err != nil || r.code != 0 {
		t.Fatalf("state run: code %d err %v\n%s", r.code, r.err, r.stderr)
	}
	return r
}

// TestStateHalves: a log analyzed in two runs with --state — the first
// half, then the whole file once it has grown — reports the same findings
// (rule, entity, episode start, end, numbers, evidence lines) as one run
// over the whole file: no line read twice, baselines and open episodes
// carried over. A finding of an episode still open at the end of the
// first run is reported again only when it grew. A third run with nothing
// new reports nothing. On real auth logs (secrepo, Elastic's example) and
// a generated web day with its attacks.
func TestStateHalves(t *testing.T) {
	dir := t.TempDir()
	web := filepath.Join(dir, "access.log.src")
	f, err := os.Create(web)
	if err != nil {
		t.Fatal(err)
	}
	wc := weblog.DefaultConfig()
	wc.Lines = 60000
	if _, err := weblog.Generate(f, wc); err != nil {
		t.Fatal(err)
	}
	f.Close()
	for _, c := range []struct {
		name, src string
		year      int
		min       int // findings the whole file must give at least
	}{
		{"secrepo", testdata.File(t, "auth-logs/secrepo/auth.log"), 2015, 200},
		{"elastic", testdata.File(t, "elastic-examples/suspicious_login_activity/auth.log"), 2016, 10},
		{"web", web, 2026, 20},
	} {
		t.Run(c.name, func(t *testing.T) {
			raw, err := os.ReadFile(c.src)
			if err != nil {
				t.Fatal(err)
			}
			cut := bytes.IndexByte(raw[len(raw)/2:], '\n') + len(raw)/2 + 1
			work := filepath.Join(t.TempDir(), "log")
			sdir := filepath.Join(t.TempDir(), "state")
			os.WriteFile(work, raw[:cut], 0o600)
			r1 := runWithState(t, sdir, work, c.year)
			af, err := os.OpenFile(work, os.O_APPEND|os.O_WRONLY, 0)
			if err != nil {
				t.Fatal(err)
			}
			af.Write(raw[cut:])
			af.Close()
			r2 := runWithState(t, sdir, work, c.year)
			r3 := runWithState(t, sdir, work, c.year)
			whole := analyze(t, []string{work}, func(o *AnalyzeOptions) { o.MinSeverity, o.Year, o.Workers = "info", c.year, 2 })

			// A finding reported several times in one run counts at its
			// latest (its body starts with its end time).
			latestOf := func(m map[string]string, d *doc) {
				if b := findingBody(d); b > m[findingKey(d)] {
					m[findingKey(d)] = b
				}
			}
			want := map[string]string{}
			for _, d := range findings(whole.docs) {
				latestOf(want, &d)
			}
			if len(want) < c.min {
				t.Fatalf("one run over the whole file gave %d findings, want at least %d", len(want), c.min)
			}
			got := map[string]string{}
			first := map[string]string{}
			for _, d := range findings(r1.docs) {
				if first[findingKey(&d)] != "" {
					t.Errorf("reported twice in one run: %s", findingKey(&d))
				}
				first[findingKey(&d)] = findingBody(&d)
				got[findingKey(&d)] = findingBody(&d)
			}
			again := 0
			second := map[string]bool{}
			for _, d := range findings(r2.docs) {
				k := findingKey(&d)
				if second[k] {
					t.Errorf("reported twice in one run: %s", k)
				}
				second[k] = true
				if b, ok := first[k]; ok {
					if b == findingBody(&d) {
						t.Errorf("reported twice, unchanged: %s", k)
					}
					again++
				}
				got[k] = findingBody(&d)
			}
			var missing, extra, differ []string
			for k, b := range want {
				g, ok := got[k]
				switch {
				case !ok:
					missing = append(missing, k)
				case g != b:
					differ = append(differ, k+"\n   got  "+g+"\n   want "+b)
				}
			}
			for k := range got {
				if _, ok := want[k]; !ok {
					extra = append(extra, k)
				}
			}
			sort.Strings(missing)
			sort.Strings(extra)
			sort.Strings(differ)
			if len(missing)+len(extra)+len(differ) > 0 {
				t.Errorf("two runs vs one: %d findings missing, %d extra, %d different (of %d)\nmissing %v\nextra %v\ndiffer %v",
					len(missing), len(extra), len(differ), len(want), head(missing), head(extra), head(differ))
			}
			if n := len(findings(r3.docs)); n != 0 {
				for _, d := range findings(r3.docs) {
					t.Logf("third run: %s\n   %s\n   second: %v", findingKey(&d), findingBody(&d), got[findingKey(&d)] == findingBody(&d))
				}
				t.Errorf("third run with no new data reported %d findings", n)
			}
			if !strings.Contains(r2.stderr, "resumed") {
				t.Errorf("second run does not say it resumed: %s", r2.stderr)
			}
			t.Logf("%s: %d findings; first run %d, second %d (%d of them updates of open episodes), third %d",
				c.name, len(want), len(findings(r1.docs)), len(findings(r2.docs)), again, len(findings(r3.docs)))
		})
	}
}

func head(l []string) []string {
	if len(l) > 5 {
		return l[:5]
	}
	return l
}

// TestStateErrors: a damaged or foreign state is a usage error that names
// --fresh-state, never a crash; --fresh-state sets it aside and starts
// over; a state in use by another process is refused.
func TestStateErrors(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "auth.log")
	write(t, log, attack("\n"))
	sdir := filepath.Join(dir, "state")
	runWithState(t, sdir, log, 2026)
	snap := filepath.Join(sdir, state.FileName)
	b, _ := os.ReadFile(snap)
	b[len(b)/2] ^= 0xff
	os.WriteFile(snap, b, 0o600)
	r := analyze(t, []string{log}, func(o *AnalyzeOptions) { o.State = sdir })
	var ue UsageError
	if r.code != ExitUsage || !asUsage(r.err, &ue) || !errors.Is(r.err, state.ErrCorrupt) || !strings.Contains(r.err.Error(), "--fresh-state") {
		t.Fatalf("damaged state: code %d err %v", r.code, r.err)
	}
	r = analyze(t, []string{log}, func(o *AnalyzeOptions) { o.State, o.FreshState, o.MinSeverity = sdir, true, "info" })
	if r.err != nil || len(findings(r.docs)) == 0 {
		t.Fatalf("--fresh-state: code %d err %v, %d findings", r.code, r.err, len(findings(r.docs)))
	}
	if _, err := os.Stat(snap + ".discarded"); err != nil {
		t.Fatal("the damaged state was not kept aside")
	}
	d, err := state.Open(sdir)
	if err != nil {
		t.Fatal(err)
	}
	r = analyze(t, []string{log}, func(o *AnalyzeOptions) { o.State = sdir })
	d.Close()
	if r.code != ExitUsage || !errors.Is(r.err, state.ErrBusy) {
		t.Fatalf("busy state: code %d err %v", r.code, r.err)
	}
}

// TestEveryDetectorSnapshots: every detector analyze runs keeps its state
// across runs (detect.Snapshotter); a new stateful detector without it
// would silently start cold on every --state run and after every restart
// of serve. Each family's own test checks that its snapshots restore
// exactly (detecttest.CheckSnapshot).
func TestEveryDetectorSnapshots(t *testing.T) {
	stateless := map[string]bool{}
	var o AnalyzeOptions
	reg, _, err := o.registry()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range reg.Specs() {
		p, err := detect.NewParams(s, nil)
		if err != nil {
			t.Fatal(err)
		}
		d, err := s.New(p)
		if err != nil {
			t.Fatalf("%s: %v", s.Name, err)
		}
		if _, ok := d.(detect.Snapshotter); !ok && !stateless[s.Name] {
			t.Errorf("%s (%T) is not a detect.Snapshotter", s.Name, d)
		}
	}
}

// TestStatePcap: a packet capture analyzed with --state reports what a
// run without state reports; analyzed again unchanged, it is not read
// again and nothing is reported; its position counts events (a capture is
// decoded from its start and the events already taken skipped).
func TestStatePcap(t *testing.T) {
	dir := t.TempDir()
	pcap := filepath.Join(dir, "dns.pcap")
	f, err := os.Create(pcap)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := dnsgen.WritePcap(f, dnsgen.DefaultConfig()); err != nil {
		t.Fatal(err)
	}
	f.Close()
	sdir := filepath.Join(dir, "state")
	plain := analyze(t, []string{pcap}, func(o *AnalyzeOptions) { o.MinSeverity, o.Workers = "info", 2 })
	first := runWithState(t, sdir, pcap, 2026)
	if len(findings(first.docs)) == 0 || len(findings(first.docs)) != len(findings(plain.docs)) {
		t.Fatalf("with state %d findings, without %d", len(findings(first.docs)), len(findings(plain.docs)))
	}
	again := runWithState(t, sdir, pcap, 2026)
	if n := len(findings(again.docs)); n != 0 {
		t.Errorf("the unchanged capture again: %d findings", n)
	}
	d, err := state.Open(sdir)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	s, err := d.Load()
	if err != nil || len(s.Inputs) != 1 || s.Inputs[0].Events == 0 || !s.Inputs[0].Done {
		t.Fatalf("position %+v (%v)", s, err)
	}
}
