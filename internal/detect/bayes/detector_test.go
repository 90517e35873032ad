package bayes

import (
	"context"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"winnow/internal/detect"
	"winnow/internal/event"
)

func httpEvent(ip string, at time.Time, line int64, method, path, query string) event.Event {
	return event.Event{Time: at, Kind: event.KindHTTP, Action: event.ActHTTPRequest, SrcIP: netip.MustParseAddr(ip),
		Ref: event.Ref{File: "access.log", Line: line}, Raw: []byte(method + " " + path + "?" + query),
		HTTP: &event.HTTP{Method: method, Path: path, Query: query, PathDecoded: path, QueryDecoded: query}}
}

// TestDetector runs bayes.http through the Runner: the client sending
// injections is reported once per episode with its tokens and evidence
// lines; the browsing client is not.
func TestDetector(t *testing.T) {
	m := toy(t)
	spec := Spec(m)
	if spec.Name != "bayes.http" || spec.Key != detect.KeySourceIP {
		t.Fatalf("spec %s key %v", spec.Name, spec.Key)
	}
	p, err := detect.NewParams(&spec, nil)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var alerts []event.Alert
	r, err := detect.NewRunner(context.Background(), detect.RunnerConfig{Workers: 2}, []detect.Enabled{{Spec: &spec, Params: p}},
		func(a event.Alert) { mu.Lock(); alerts = append(alerts, a); mu.Unlock() })
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	var evs []event.Event
	for i := 0; i < 40; i++ {
		at := t0.Add(time.Duration(i) * time.Second)
		evs = append(evs, httpEvent("198.51.100.7", at, int64(2*i+1), "GET", "/shop/item.jsp", "id=7&name=Green+Tea"))
		evs = append(evs, httpEvent("203.0.113.9", at, int64(2*i+2), "GET", "/shop/item.jsp", "id=7%27+or+%271%27%3D%271&name=x"))
	}
	// A second episode for the attacker, an hour later.
	evs = append(evs, httpEvent("203.0.113.9", t0.Add(time.Hour), 999, "GET", "/shop/index.jsp.bak", ""))
	if err := r.Submit(evs); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if len(alerts) != 2 {
		t.Fatalf("%d alerts, want 2: %+v", len(alerts), alerts)
	}
	for _, a := range alerts {
		if a.Entity.Value != "203.0.113.9" || a.Rule != "bayes.http" || len(a.Samples) == 0 {
			t.Errorf("alert %+v", a)
		}
	}
	var big event.Alert
	for _, a := range alerts {
		if a.Evidence["bad_events"] == 40 {
			big = a
		}
	}
	if big.Rule == "" || big.Severity < event.SeverityHigh || !strings.Contains(big.Description, "40 requests") {
		t.Fatalf("episode of 40: %+v", big)
	}
	toks, _ := big.Evidence["top_tokens"].([]string)
	ids, _ := big.Evidence["event_ids"].([]string)
	if len(toks) == 0 || len(ids) == 0 || ids[0] != "access.log:2" {
		t.Errorf("evidence %+v", big.Evidence)
	}
	if !big.Start.Equal(t0) || !big.End.Equal(t0.Add(39*time.Second)) {
		t.Errorf("range %v – %v", big.Start, big.End)
	}
	// Parameters are validated.
	bad, _ := detect.NewParams(&spec, map[string]string{"threshold": "2"})
	if _, err := spec.New(bad); err == nil {
		t.Error("threshold 2 accepted")
	}
	ok, _ := detect.NewParams(&spec, map[string]string{"threshold": "0.9", "min_events": "3"})
	if _, err := spec.New(ok); err != nil {
		t.Error(err)
	}
	for _, k := range []Kind{KindAuth, KindDNS} {
		s := Spec(New(k))
		if s.Name != "bayes."+k.String() || len(s.Kinds) != 1 {
			t.Errorf("%s spec %+v", k, s)
		}
	}
}

// TestUnfamiliarData (issue 10 item 15): a model applied to another site's
// requests sees mostly unknown tokens, and its Stats say so; on its own
// site's requests it does not.
func TestUnfamiliarData(t *testing.T) {
	m := toy(t)
	spec := Spec(m)
	p, _ := detect.NewParams(&spec, nil)
	run := func(path, query string) detect.Stats {
		d, err := spec.New(p)
		if err != nil {
			t.Fatal(err)
		}
		t0 := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
		for i := 0; i < 400; i++ {
			ev := httpEvent("198.51.100.7", t0.Add(time.Duration(i)*time.Second), int64(i+1), "GET",
				strings.ReplaceAll(path, "N", string(rune('a'+i%26))), strings.ReplaceAll(query, "N", string(rune('a'+i%26))))
			d.Observe(&ev, func(event.Alert) {})
		}
		return d.Stats()
	}
	if st := run("/wiki/Special:RandomN/history", "oldid=N&action=raw&ctype=text/css"); st.Examined == 0 || 2*st.Unfamiliar <= st.Examined {
		t.Errorf("another site: %d of %d events unfamiliar, want most", st.Unfamiliar, st.Examined)
	}
	if st := run("/shop/item.jsp", "id=1&name=Red+Wine"); st.Examined == 0 || st.Unfamiliar != 0 {
		t.Errorf("own site: %d of %d events unfamiliar, want none", st.Unfamiliar, st.Examined)
	}
}
