package app

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"winnow/internal/testdata"
)

// seriesDoc finds the series finding of rule about entity that starts
// within [from, to].
func seriesDoc(docs []doc, rule, entity string, from, to time.Time) *doc {
	for i := range docs {
		d := &docs[i]
		if d.Rule.Name != rule || d.Winnow.Entity.Value != entity {
			continue
		}
		start, err := time.Parse(time.RFC3339, d.Event.Start)
		if err == nil && !start.Before(from) && !start.After(to) {
			return d
		}
	}
	return nil
}

// checkVotes asserts the finding carries the ensemble's votes: every ready
// detector with its surprise, critical value and weight, several voting.
func checkVotes(t *testing.T, d *doc) {
	t.Helper()
	votes, ok := d.Winnow.Evidence["votes"].([]any)
	if !ok || len(votes) < 5 {
		t.Fatalf("%s: votes %v", d.Rule.Name, d.Winnow.Evidence["votes"])
	}
	voted := 0
	for _, v := range votes {
		m := v.(map[string]any)
		for _, k := range []string{"detector", "z", "critical", "weight", "voted"} {
			if _, ok := m[k]; !ok {
				t.Fatalf("vote without %s: %v", k, m)
			}
		}
		if m["voted"] == true {
			voted++
		}
	}
	if n, _ := d.Winnow.Evidence["detectors_voted"].(float64); voted < 3 || int(n) != voted {
		t.Errorf("%s: %d detectors voted (evidence says %v)", d.Rule.Name, voted, d.Winnow.Evidence["detectors_voted"])
	}
}

// TestSeriesBurstInElasticAuthLog: Elastic's suspicious-login sample has a
// burst of 147 failed logins from 24.151.103.17 on 2026-03-30, 15:54 to
// 16:01; the per-source failed-login series flags it as one anomaly
// episode through the whole pipeline, with the ensemble's votes and the
// evidence lines.
func TestSeriesBurstInElasticAuthLog(t *testing.T) {
	path := testdata.File(t, "elastic-examples/suspicious_login_activity/auth.log")
	r := analyze(t, []string{path}, func(o *AnalyzeOptions) { o.Only = []string{"series."} })
	if r.code != 0 || r.err != nil {
		t.Fatalf("exit %d: %v\n%s", r.code, r.err, r.stderr)
	}
	from := time.Date(2026, 3, 30, 15, 50, 0, 0, time.UTC)
	d := seriesDoc(r.docs, "series.failed_logins_by_source", "24.151.103.17", from, from.Add(15*time.Minute))
	if d == nil {
		for _, x := range r.docs {
			t.Logf("%s %s %s: %s", x.Rule.Name, x.Winnow.Entity.Value, x.Event.Start, x.Rule.Description)
		}
		t.Fatal("the 147-failure burst from 24.151.103.17 is not a series anomaly")
	}
	if total, _ := d.Winnow.Evidence["total"].(float64); total < 120 || total > 150 {
		t.Errorf("total %v failed logins, want most of the burst's 147", d.Winnow.Evidence["total"])
	}
	if d.Event.Start != "2026-03-30T15:54:00Z" {
		t.Errorf("episode starts %s, want the burst's first minute 15:54", d.Event.Start)
	}
	if end, _ := time.Parse(time.RFC3339, d.Event.End); end.Before(from.Add(9*time.Minute)) || end.After(from.Add(15*time.Minute)) {
		t.Errorf("episode ends %s, want about 16:00–16:02", d.Event.End)
	}
	if d.Winnow.Score < 0.9 || d.Source == nil || d.Source.IP != "24.151.103.17" {
		t.Errorf("score %v source %+v", d.Winnow.Score, d.Source)
	}
	checkVotes(t, d)
	if len(d.Winnow.Samples) == 0 || d.Winnow.Samples[0].File != path || !strings.Contains(d.Winnow.Samples[0].Text, "24.151.103.17") {
		t.Errorf("samples %+v", d.Winnow.Samples)
	}
	// The host's login-outcome mix in that batch is a chi-square finding
	// with its observed vs. expected table.
	mix := seriesDoc(r.docs, "series.auth_outcome_mix_by_host", "ip-10-77-20-248", from, from.Add(10*time.Minute))
	if mix == nil {
		t.Fatal("no chi-square finding for the burst's batch")
	}
	table, _ := mix.Winnow.Evidence["table"].([]any)
	if len(table) < 2 || mix.Winnow.Evidence["p_value"].(float64) > 1e-10 {
		t.Errorf("mix evidence %v", mix.Winnow.Evidence)
	}
	// Ordinary users' sessions are not anomalies.
	for _, x := range r.docs {
		u := x.Winnow.Entity.Value
		if strings.HasPrefix(u, "elastic_user_") && u != "elastic_user_0" {
			t.Errorf("benign user flagged: %s", x.Rule.Description)
		}
	}
}

// TestSeriesBurstInSecrepo: secrepo's auth.log has a burst of about 200
// invalid-user probes from 222.161.209.92 in six minutes on Dec 26; with
// every detector enabled it is a series anomaly beside the auth findings.
func TestSeriesBurstInSecrepo(t *testing.T) {
	path := testdata.File(t, "auth-logs/secrepo/auth.log")
	// The log has no year (RFC 3164) and its copy's mtime varies: fix it.
	r := analyze(t, []string{path}, func(o *AnalyzeOptions) { o.MinSeverity = "info"; o.Year = 2025 })
	if r.code != 0 || r.err != nil {
		t.Fatalf("exit %d: %v", r.code, r.err)
	}
	from := time.Date(2025, 12, 26, 10, 40, 0, 0, time.UTC)
	d := seriesDoc(r.docs, "series.failed_logins_by_source", "222.161.209.92", from, from.Add(15*time.Minute))
	if d == nil {
		t.Fatal("the burst from 222.161.209.92 is not a series anomaly")
	}
	if total, _ := d.Winnow.Evidence["total"].(float64); total < 150 {
		t.Errorf("total %v", d.Winnow.Evidence["total"])
	}
	checkVotes(t, d)
	auth := false
	for _, x := range r.docs {
		if x.Winnow.Entity.Value == "222.161.209.92" && strings.HasPrefix(x.Rule.Name, "auth.") {
			auth = true
		}
		if strings.HasPrefix(x.Rule.Name, "series.") {
			if x.Threat == nil || len(x.Threat.Technique.ID) == 0 || x.Winnow.Score <= 0 || x.Winnow.Score > 1 {
				t.Errorf("%s: technique %+v score %v", x.Rule.Name, x.Threat, x.Winnow.Score)
			}
		}
	}
	if !auth {
		t.Error("the source's auth findings are missing")
	}
}

// TestSeriesExport exports the per-source failed-login series of the
// Elastic sample as CSV with scores: the burst's peak minute is there with
// its count and a high anomaly score; Parquet output is written too.
func TestSeriesExport(t *testing.T) {
	path := testdata.File(t, "elastic-examples/suspicious_login_activity/auth.log")
	var out, errb strings.Builder
	o := SeriesExportOptions{Args: []string{path}, Metrics: []string{"failed_logins_by_source"}, Resolutions: "1m:2880,30m:100",
		Scores: true, TZ: "UTC", Stdout: &out, Stderr: &errb, Stdin: strings.NewReader("")}
	if code, err := SeriesExport(context.Background(), o); code != 0 || err != nil {
		t.Fatalf("exit %d: %v\n%s", code, err, errb.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if lines[0] != "metric,entity_type,entity,step_seconds,timestamp,value,anomaly_score" {
		t.Fatalf("header %q", lines[0])
	}
	peak, best := false, 0.0
	for _, l := range lines {
		f := strings.Split(l, ",")
		if len(f) != 7 || f[2] != "24.151.103.17" || f[3] != "60" || f[4] < "2026-03-30T15:54" || f[4] > "2026-03-30T16:02" {
			continue
		}
		if s, err := strconv.ParseFloat(f[6], 64); err == nil {
			best = max(best, s)
		}
		if f[4] == "2026-03-30T15:58:00Z" && f[5] == "21" {
			peak = true
		}
	}
	if !peak || best < 0.9 {
		t.Fatalf("burst rows: peak minute found %v, best score %v", peak, best)
	}
	o.Output = filepath.Join(t.TempDir(), "s.parquet")
	o.Scores = false
	if code, err := SeriesExport(context.Background(), o); code != 0 || err != nil {
		t.Fatalf("parquet: exit %d: %v", code, err)
	}
	if fi, err := os.Stat(o.Output); err != nil || fi.Size() < 100 {
		t.Fatalf("parquet file: %v", err)
	}
	o.Resolutions = "1m"
	if code, err := SeriesExport(context.Background(), o); code != ExitUsage || err == nil {
		t.Fatalf("bad resolution: exit %d %v", code, err)
	}
}
