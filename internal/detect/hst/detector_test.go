package hst

import (
	"bufio"
	"bytes"
	"strings"
	"testing"
	"time"

	"winnow/internal/detect"
	"winnow/internal/eval"
	"winnow/internal/event"
	"winnow/internal/generate/weblog"
	"winnow/internal/parse"
	"winnow/internal/parse/access"
)

// runClients feeds a generated web day to hst.http_client with params
// and returns its findings and which addresses attack.
func runClients(t *testing.T, params map[string]string) ([]event.Alert, map[string]bool) {
	t.Helper()
	var buf bytes.Buffer
	truth, err := weblog.Generate(&buf, weblog.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	attackers := map[string]bool{}
	for _, a := range truth.Attacks {
		for _, ip := range a.SourceIPs {
			attackers[ip] = true
		}
	}
	spec := ClientSpec()
	p, err := detect.NewParams(&spec, params)
	if err != nil {
		t.Fatal(err)
	}
	d, err := spec.New(p)
	if err != nil {
		t.Fatal(err)
	}
	var alerts []event.Alert
	emit := func(a event.Alert) { alerts = append(alerts, a) }
	pr := access.New(parse.Options{Location: time.UTC})
	sc := bufio.NewScanner(&buf)
	var last time.Time
	for n := int64(1); sc.Scan(); n++ {
		var ev event.Event
		ev.Ref.Line = n
		if pr.Parse(append([]byte(nil), sc.Bytes()...), &ev) != nil {
			continue
		}
		d.Observe(&ev, emit)
		if ev.Time.Sub(last) > time.Minute {
			d.Advance(ev.Time.Add(-time.Minute), emit)
			last = ev.Time
		}
	}
	d.Flush(emit)
	return alerts, attackers
}

// TestClientWindows: on the web generator's day, the HST scores of client
// windows rank attack windows above benign ones (every window scored),
// and with the defaults most reported clients are attackers, at low
// severity.
func TestClientWindows(t *testing.T) {
	all, attackers := runClients(t, map[string]string{"quantile": "1", "min_score": "0", "warmup": "0"})
	var scores []float64
	var bad []bool
	for _, a := range all {
		scores = append(scores, a.Score)
		bad = append(bad, attackers[a.Entity.Value])
	}
	auc := eval.AUCOf(scores, bad)
	alerts, _ := runClients(t, nil)
	reported, hits := map[string]bool{}, 0
	for _, a := range alerts {
		if a.Severity >= event.SeverityMedium || a.Rule != "hst.http_client" || !strings.Contains(a.Description, "unlike") {
			t.Errorf("alert %+v", a)
		}
		if !reported[a.Entity.Value] {
			reported[a.Entity.Value] = true
			if attackers[a.Entity.Value] {
				hits++
			}
		}
	}
	t.Logf("%d client windows scored, AUC attack vs benign %.4f; defaults report %d windows of %d clients, %d of them attackers",
		len(all), auc, len(alerts), len(reported), hits)
	if auc < 0.95 {
		t.Errorf("AUC %.4f, want ≥ 0.95", auc)
	}
	if len(reported) == 0 || 2*hits < len(reported) {
		t.Errorf("%d of %d reported clients attack", hits, len(reported))
	}
}
