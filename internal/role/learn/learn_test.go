package learn

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"winnow/internal/app"
	"winnow/internal/event"
	"winnow/internal/testdata"
)

// doc is the part of a finding document the tests read.
type doc struct {
	Event struct {
		Severity int    `json:"severity"`
		Start    string `json:"start"`
	} `json:"event"`
	Rule struct {
		Name string `json:"name"`
	} `json:"rule"`
	Winnow struct {
		Entity struct {
			Value string `json:"value"`
		} `json:"entity"`
		Record   string         `json:"record"`
		Score    float64        `json:"score"`
		Evidence map[string]any `json:"evidence"`
	} `json:"winnow"`
}

// analyze runs 'winnow analyze' on files and returns the findings.
func analyze(t *testing.T, o app.AnalyzeOptions, files ...string) []doc {
	t.Helper()
	var out, errb bytes.Buffer
	o.Args, o.Output, o.Stdout, o.Stderr, o.Quiet = files, "json", &out, &errb, true
	o.MinSeverity = "info" // JSON then holds every finding, besides the incidents
	if code, err := app.Analyze(context.Background(), o); err != nil || code != 0 {
		t.Fatalf("analyze: exit %d %v\n%s", code, err, errb.String())
	}
	var docs []doc
	sc := bufio.NewScanner(&out)
	sc.Buffer(nil, 1<<24)
	for sc.Scan() {
		var d doc
		if err := json.Unmarshal(sc.Bytes(), &d); err != nil {
			t.Fatal(err)
		}
		if d.Winnow.Record == "finding" {
			docs = append(docs, d)
		}
	}
	return docs
}

// secrepoLabels label windows with every attacker finding, low included:
// on an Internet-facing server most brute forces are under its learned
// usual (low), and they are attackers all the same.
var secrepoLabels = FindingLabels{MinSeverity: event.SeverityLow}

// halves writes the first and second half of a file's lines.
func halves(t *testing.T, path string) (string, string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := bytes.SplitAfter(b, []byte("\n"))
	dir := t.TempDir()
	a, c := filepath.Join(dir, "first.log"), filepath.Join(dir, "second.log")
	if err := os.WriteFile(a, bytes.Join(lines[:len(lines)/2], nil), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(c, bytes.Join(lines[len(lines)/2:], nil), 0o600); err != nil {
		t.Fatal(err)
	}
	return a, c
}

func entities(docs []doc, rules ...string) map[string]bool { return entitiesAt(docs, 0, rules...) }

// entitiesAt is entities for findings of at least severity sev.
func entitiesAt(docs []doc, sev int, rules ...string) map[string]bool {
	out := map[string]bool{}
	for _, d := range docs {
		if d.Event.Severity < sev {
			continue
		}
		for _, r := range rules {
			if d.Rule.Name == r {
				out[d.Winnow.Entity.Value] = true
			}
		}
	}
	return out
}

// TestForestFromFindings: the secrepo server's auth.log, first half
// (November to mid December) analysed into an archive; a forest learns
// per-source 10-minute behaviour labelled by the rule detectors' findings;
// applied to the second half (held out in time), it must find the sources
// the rules find there and flag few others — and the others must be real
// attackers (failed or invalid-user logins), not quiet sources.
func TestForestFromFindings(t *testing.T) {
	first, second := halves(t, testdata.File(t, "auth-logs/secrepo/auth.log"))
	arch := filepath.Join(t.TempDir(), "arch")
	analyze(t, app.AnalyzeOptions{Year: 2016, TZ: "UTC", ArchiveOptions: app.ArchiveOptions{Archive: arch}}, first)
	model := filepath.Join(t.TempDir(), "ssh.wnm")
	var out bytes.Buffer
	err := Forest(context.Background(), ForestOptions{Archive: ArchiveData{Dir: arch, Key: "source.ip", Findings: secrepoLabels}, Trees: 50,
		Out: model, Site: "test", Version: "test", Format: "json", Stdout: &out, Stderr: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	var rep ForestReport
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatal(err)
	}
	t.Logf("trained on %d windows (%d bad), OOB accuracy %.4f, threshold %.3f (%s); top features %v",
		rep.Rows, rep.Positives, *rep.OOBAccuracy, rep.Threshold, rep.ThresholdFrom, rep.Importance[:3])
	if rep.Positives < 50 || *rep.OOBAccuracy < 0.98 {
		t.Errorf("%d bad windows, OOB accuracy %.4f", rep.Positives, *rep.OOBAccuracy)
	}
	docs := analyze(t, app.AnalyzeOptions{Year: 2016, TZ: "UTC", Models: []string{model}, Site: "test"}, second)
	log, _ := os.ReadFile(second)
	rules := attackers(log, 30)
	learned := entities(docs, "forest.source_ip")
	found, extra := 0, []string{}
	for e := range rules {
		if learned[e] {
			found++
		}
	}
	for e := range learned {
		if !rules[e] {
			extra = append(extra, e)
		}
	}
	recall := float64(found) / float64(len(rules))
	t.Logf("second half: %d sources made ≥ 30 failed attempts, the forest flags %d; it finds %d of them (%.3f) and %d others",
		len(rules), len(learned), found, recall, len(extra))
	if recall < 0.93 {
		t.Errorf("forest finds %.3f of the sources with ≥ 30 failed attempts, want ≥ 0.93", recall)
	}
	for _, e := range extra {
		if !hasFailure(log, e) {
			t.Errorf("forest-only source %s has no failed, invalid-user, preauth or identification-less connection", e)
		}
	}
	for _, d := range docs {
		if d.Rule.Name == "forest.source_ip" {
			if tf, _ := d.Winnow.Evidence["top_features"].(string); tf == "" {
				t.Errorf("finding without an explanation: %v", d.Winnow.Evidence)
			}
			break
		}
	}
}

// attackers are the sources with at least n failed, invalid-user or
// preauth-disconnect lines in log: a reference that does not move when
// the rule detectors are retuned.
func attackers(log []byte, n int) map[string]bool {
	re := regexp.MustCompile(`(?:Invalid user .* from|Failed .* from|Received disconnect from|Connection closed by) (\d+\.\d+\.\d+\.\d+)`)
	count := map[string]int{}
	for _, m := range re.FindAllSubmatch(log, -1) {
		count[string(m[1])]++
	}
	out := map[string]bool{}
	for ip, c := range count {
		if c >= n {
			out[ip] = true
		}
	}
	return out
}

func hasFailure(log []byte, ip string) bool {
	for _, l := range bytes.Split(log, []byte("\n")) {
		// hostile SSH traffic: failed or invalid-user logins, break-in
		// warnings, or probes that never sent an SSH banner
		if bytes.Contains(l, []byte(ip)) && (bytes.Contains(l, []byte("Invalid user")) || bytes.Contains(l, []byte("Failed")) ||
			bytes.Contains(l, []byte("BREAK-IN")) || bytes.Contains(l, []byte("authentication failure")) ||
			bytes.Contains(l, []byte("[preauth]")) || bytes.Contains(l, []byte("Did not receive identification"))) {
			return true
		}
	}
	return false
}

// TestForestScanners: real web traffic (the first half of a public site's
// access log) and one vulnerability scanner (Acunetix), labelled by an
// analyst label file; applied to the held-out half of the site's log and
// to another scanner the model never saw (Netsparker).
func TestForestScanners(t *testing.T) {
	site := testdata.File(t, "elastic-examples/apache_logs/apache_access.log")
	acu := testdata.File(t, "apache-scanner-logs/acunetix.txt")
	net := testdata.File(t, "apache-scanner-logs/netsparker.txt")
	first, second := halves(t, site)
	arch := filepath.Join(t.TempDir(), "arch")
	analyze(t, app.AnalyzeOptions{TZ: "UTC", ArchiveOptions: app.ArchiveOptions{Archive: arch}}, first, acu)
	labels := filepath.Join(t.TempDir(), "labels.csv")
	if err := os.WriteFile(labels, []byte("# the Acunetix scanner\nip:192.168.4.25,bad\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	model := filepath.Join(t.TempDir(), "web.wnm")
	var out bytes.Buffer
	err := Forest(context.Background(), ForestOptions{Archive: ArchiveData{Dir: arch, Window: 60e9, LabelFiles: []string{labels},
		Findings: FindingLabels{Rules: []string{"none"}}}, Trees: 50, Out: model, Format: "text", Stdout: &out, Stderr: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	t.Log(out.String())
	docs := analyze(t, app.AnalyzeOptions{TZ: "UTC", Models: []string{model}, Only: []string{"forest."}}, second, net)
	flagged := entities(docs, "forest.source_ip")
	if !flagged["192.168.4.164"] {
		t.Error("the unseen scanner (Netsparker) was not flagged")
	}
	// Benign clients of the held-out half flagged.
	clients := map[string]bool{}
	b, _ := os.ReadFile(second)
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) > 0 {
			clients[f[0]] = true
		}
	}
	fp := 0
	for e := range flagged {
		if clients[e] {
			fp++
		}
	}
	t.Logf("held-out site log: %d clients, %d flagged", len(clients), fp)
	if float64(fp) > 0.01*float64(len(clients)) {
		t.Errorf("%d of %d benign clients flagged, want ≤ 1 %%", fp, len(clients))
	}
}

// TestVFDTFeedback: a Hoeffding tree learns the archive's windows in
// event-time order, is saved, reloaded and taught an analyst's verdicts;
// the updated tree follows them.
func TestVFDTFeedback(t *testing.T) {
	first, second := halves(t, testdata.File(t, "auth-logs/secrepo/auth.log"))
	arch := filepath.Join(t.TempDir(), "arch")
	analyze(t, app.AnalyzeOptions{Year: 2016, TZ: "UTC", ArchiveOptions: app.ArchiveOptions{Archive: arch}}, first)
	dir := t.TempDir()
	model := filepath.Join(dir, "v.wnm")
	var out bytes.Buffer
	o := VFDTOptions{Archive: ArchiveData{Dir: arch, Findings: secrepoLabels}, Out: model, Site: "test", Format: "json", Stdout: &out, Stderr: io.Discard}
	if err := VFDT(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	var rep VFDTReport
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatal(err)
	}
	t.Logf("prequential accuracy %.4f AUC %.4f over %d windows (%d bad); threshold %.3f", rep.Accuracy, rep.AUC, rep.Learned, rep.Bad, rep.Threshold)
	if rep.AUC < 0.95 || rep.Accuracy < 0.95 {
		t.Errorf("prequential accuracy %.4f AUC %.4f, want ≥ 0.95", rep.Accuracy, rep.AUC)
	}
	docs := analyze(t, app.AnalyzeOptions{Year: 2016, TZ: "UTC", Models: []string{model}, Site: "test"}, second)
	log, _ := os.ReadFile(second)
	rules := attackers(log, 30)
	learned := entities(docs, "vfdt.source_ip")
	found := 0
	for e := range rules {
		if learned[e] {
			found++
		}
	}
	t.Logf("second half: Hoeffding tree flags %d sources, %d of the %d with ≥ 30 failed attempts", len(learned), found, len(rules))
	if float64(found) < 0.9*float64(len(rules)) {
		t.Errorf("Hoeffding tree finds %d of %d sources with ≥ 30 failed attempts, want ≥ 90 %%", found, len(rules))
	}
	// The analyst says every source is good (a contrived verdict, so the
	// change is certain): the updated tree must stop flagging them.
	var labels bytes.Buffer
	for e := range rules {
		labels.WriteString(e + ",good\n")
	}
	lf := filepath.Join(dir, "verdicts.csv")
	if err := os.WriteFile(lf, labels.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	updated := filepath.Join(dir, "v2.wnm")
	arch2 := filepath.Join(t.TempDir(), "arch2")
	analyze(t, app.AnalyzeOptions{Year: 2016, TZ: "UTC", ArchiveOptions: app.ArchiveOptions{Archive: arch2}}, second)
	{
		o2 := VFDTOptions{Archive: ArchiveData{Dir: arch2, LabelFiles: []string{lf}}, Model: model, FeedbackOnly: true,
			Out: updated, Site: "test", Stdout: io.Discard, Stderr: io.Discard}
		if err := VFDT(context.Background(), o2); err != nil {
			t.Fatal(err)
		}
		model = updated
	}
	after := entities(analyze(t, app.AnalyzeOptions{Year: 2016, TZ: "UTC", Models: []string{updated}, Site: "test"}, second), "vfdt.source_ip")
	still := 0
	for e := range rules {
		if after[e] {
			still++
		}
	}
	t.Logf("after feedback: %d of the %d sources still flagged", still, len(rules))
	if still > len(rules)/10 {
		t.Errorf("%d sources marked good are still flagged after feedback", still)
	}
	// A model is refused when its features differ from the request.
	o3 := VFDTOptions{Archive: ArchiveData{Dir: arch2, Window: 3600e9}, Model: updated, Stdout: io.Discard, Stderr: io.Discard}
	if err := VFDT(context.Background(), o3); err == nil || !strings.Contains(err.Error(), "features") {
		t.Errorf("another window accepted: %v", err)
	}
}

// TestCampaigns: the batch command over an archive of secrepo's auth.log
// finds the 47-name campaign among the sources of the findings.
func TestCampaigns(t *testing.T) {
	arch := filepath.Join(t.TempDir(), "arch")
	analyze(t, app.AnalyzeOptions{Year: 2016, TZ: "UTC", Only: []string{"auth."}, ArchiveOptions: app.ArchiveOptions{Archive: arch}},
		testdata.File(t, "auth-logs/secrepo/auth.log"))
	var out bytes.Buffer
	if err := Campaigns(context.Background(), CampaignOptions{Archive: arch, Format: "json", Stdout: &out, Stderr: io.Discard}); err != nil {
		t.Fatal(err)
	}
	var rep CampaignReport
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d campaigns among %d suspects", len(rep.Campaigns), rep.Sources)
	ok := false
	for _, c := range rep.Campaigns {
		if len(c.Shared) == 47 && strings.Contains(strings.Join(c.Members, " "), "61.197.203.243") &&
			strings.Contains(strings.Join(c.Members, " "), "220.99.93.50") && strings.Contains(strings.Join(c.Members, " "), "218.25.17.234") {
			ok = true
		}
	}
	if !ok || len(rep.Campaigns) < 3 {
		t.Errorf("no 47-name campaign of the three heaviest sources among %d campaigns", len(rep.Campaigns))
	}
}

// TestRulesSignatures: association rules mined from the first half of
// secrepo's auth.log (per source and day: the account names it tried)
// are wordlist signatures; applied to the second half as a model, the
// sources that match them are attackers the rule detectors also flag.
func TestRulesSignatures(t *testing.T) {
	first, second := halves(t, testdata.File(t, "auth-logs/secrepo/auth.log"))
	arch := filepath.Join(t.TempDir(), "arch")
	analyze(t, app.AnalyzeOptions{Year: 2016, TZ: "UTC", Only: []string{"auth."}, ArchiveOptions: app.ArchiveOptions{Archive: arch}}, first)
	model := filepath.Join(t.TempDir(), "names.wnm")
	var out bytes.Buffer
	o := RulesOptions{Archive: arch, Transactions: "auth", Mining: rulesOptions(0.8, 3), Top: 20, Out: model, Format: "json", Stdout: &out, Stderr: io.Discard}
	if err := Rules(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	var rep RulesReport
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d transactions, %d rules; first: %s", rep.Transactions, rep.Total, rep.Rules[0])
	if len(rep.Rules) < 5 || rep.Rules[0].Lift < 5 || !strings.HasPrefix(rep.Rules[0].Then[0], "user=") {
		t.Errorf("rules %v", rep.Rules)
	}
	docs := analyze(t, app.AnalyzeOptions{Year: 2016, TZ: "UTC", Models: []string{model}}, second)
	matched := entities(docs, "assoc.auth")
	flagged := entities(docs, "auth.brute_force", "auth.invalid_user_enumeration")
	both := 0
	for e := range matched {
		if flagged[e] {
			both++
		}
	}
	log, _ := os.ReadFile(second)
	attackers := 0
	for e := range matched {
		if hasFailure(log, e) {
			attackers++
		}
	}
	t.Logf("second half: %d sources match a signature, %d of them with failed or invalid-user logins; %d of the %d sources the rule detectors flag",
		len(matched), attackers, both, len(flagged))
	if attackers < len(matched) {
		t.Errorf("%d matching sources without a failed login", len(matched)-attackers)
	}
	if float64(both) < 0.8*float64(len(flagged)) {
		t.Errorf("signatures match %d of the %d flagged sources, want ≥ 80 %%", both, len(flagged))
	}
	// Findings transactions: the detectors that fire together.
	out.Reset()
	if err := Rules(context.Background(), RulesOptions{Archive: arch, Transactions: "findings", Mining: rulesOptions(0.3, 0.5),
		Format: "json", Stdout: &out, Stderr: io.Discard}); err != nil {
		t.Fatal(err)
	}
	var fr RulesReport
	if err := json.Unmarshal(out.Bytes(), &fr); err != nil {
		t.Fatal(err)
	}
	// On 61 % of the source-days with one of the two, both fire.
	found := false
	for _, r := range fr.Rules {
		if strings.Join(r.If, ",") == "rule=auth.invalid_user_enumeration" && r.Then[0] == "rule=auth.brute_force" {
			found = r.Confidence > 0.7 && r.Support > 0.5
		}
	}
	if !found {
		t.Errorf("no rule invalid_user_enumeration → brute_force (confidence > 0.7, support > 0.5): %v", fr.Rules)
	}
}

// TestBackfill: series state backfilled from an archive of secrepo's
// first half, then the second half analysed with --state, gives exactly
// the series findings a run over the whole log gives on the second half;
// the second half alone (no baseline) gives others.
func TestBackfill(t *testing.T) {
	first, second := halves(t, testdata.File(t, "auth-logs/secrepo/auth.log"))
	both := filepath.Join(t.TempDir(), "whole.log")
	a, _ := os.ReadFile(first)
	b, _ := os.ReadFile(second)
	if err := os.WriteFile(both, append(a, b...), 0o600); err != nil {
		t.Fatal(err)
	}
	only := []string{"series.failed_logins_by_host", "series.failed_logins_by_host_outlier_count"}
	arch := filepath.Join(t.TempDir(), "arch")
	analyze(t, app.AnalyzeOptions{Year: 2016, TZ: "UTC", Only: only, ArchiveOptions: app.ArchiveOptions{Archive: arch}}, first)
	sdir := filepath.Join(t.TempDir(), "state")
	var out bytes.Buffer
	if err := Backfill(context.Background(), BackfillOptions{Archive: arch, State: sdir, Metrics: []string{"failed_logins_by_host"},
		Workers: 2, Stdout: &out, Stderr: io.Discard}); err != nil {
		t.Fatal(err)
	}
	t.Log(strings.TrimSpace(out.String()))
	keys := func(docs []doc, after string) []string {
		var k []string
		for _, d := range docs {
			if d.Event.Start >= after {
				k = append(k, d.Rule.Name+" "+d.Event.Start)
			}
		}
		slices.Sort(k)
		return k
	}
	cut := "2016-12-10T19:20:36Z" // the first half's last event
	whole := keys(analyze(t, app.AnalyzeOptions{Year: 2016, TZ: "UTC", Only: only, Workers: 2}, both), cut)
	resumed := keys(analyze(t, app.AnalyzeOptions{Year: 2016, TZ: "UTC", Only: only, Workers: 2, StateOptions: app.StateOptions{State: sdir}}, second), "")
	cold := keys(analyze(t, app.AnalyzeOptions{Year: 2016, TZ: "UTC", Only: only, Workers: 2}, second), "")
	t.Logf("second half: whole run %d findings, backfilled %d, cold %d", len(whole), len(resumed), len(cold))
	if !slices.Equal(whole, resumed) {
		t.Errorf("backfilled run differs from the whole run:\nwhole   %v\nresumed %v", whole, resumed)
	}
	if slices.Equal(whole, cold) || len(whole) < 3 {
		t.Errorf("the baseline made no difference (whole %v, cold %v)", whole, cold)
	}
	// series export reads the archive too.
	var csv bytes.Buffer
	code, err := app.SeriesExport(context.Background(), app.SeriesExportOptions{Archive: arch, Metrics: []string{"failed_logins_by_host"},
		Resolutions: "1m:2880", Format: "csv", Stdout: &csv, Stderr: io.Discard})
	if err != nil || code != 0 || !strings.Contains(csv.String(), "failed_logins_by_host,host,ip-172-31-27-153,60,") {
		t.Errorf("series export --archive: %d %v\n%.300s", code, err, csv.String())
	}
}

// TestModelRegistry: the daemon's registry carries compiled models'
// detectors (serve --model).
func TestModelRegistry(t *testing.T) {
	arch := filepath.Join(t.TempDir(), "arch")
	analyze(t, app.AnalyzeOptions{TZ: "UTC", ArchiveOptions: app.ArchiveOptions{Archive: arch}},
		testdata.File(t, "auth-logs/dfrws-2009/auth.all.log"))
	model := filepath.Join(t.TempDir(), "m.wnm")
	if err := Forest(context.Background(), ForestOptions{Archive: ArchiveData{Dir: arch}, Trees: 5, Out: model, Site: "a",
		Stdout: io.Discard, Stderr: io.Discard}); err != nil {
		t.Fatal(err)
	}
	var warn bytes.Buffer
	newReg, closeFn, err := app.ModelRegistry([]string{model}, nil, "b", &warn)
	if err != nil {
		t.Fatal(err)
	}
	defer closeFn()
	for range 2 { // a fresh registry per call, each with the model
		if _, ok := newReg().Get("forest.source_ip"); !ok {
			t.Fatal("no forest.source_ip in the daemon's registry")
		}
	}
	if !strings.Contains(warn.String(), `site "a"`) {
		t.Errorf("no warning about the model's site: %q", warn.String())
	}
}
