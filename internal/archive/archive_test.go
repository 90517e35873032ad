package archive

import (
	"bufio"
	"context"
	"net/netip"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"winnow/internal/event"
	"winnow/internal/parse"
	"winnow/internal/parse/authlog"
	"winnow/internal/testdata"
)

// parseFile parses a real auth log into events (repeats expanded), in
// file order.
func parseFile(t testing.TB, rel string) []event.Event {
	t.Helper()
	path := testdata.File(t, rel)
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	p := authlog.New(parse.Options{Year: 2026, Location: time.UTC})
	var out []event.Event
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	var n int64
	for sc.Scan() {
		n++
		raw := append([]byte(nil), sc.Bytes()...)
		var ev event.Event
		if p.Parse(raw, &ev) != nil {
			continue
		}
		ev.Ref = event.Ref{File: path, Line: n}
		for c := max(ev.Count, 1); c > 0; c-- {
			ev.Count = 1
			out = append(out, ev)
		}
	}
	return out
}

func TestRoundTripEvents(t *testing.T) {
	evs := parseFile(t, "elastic-examples/suspicious_login_activity/auth.log")
	evs = append(evs, event.Event{Time: evs[len(evs)-1].Time, Kind: event.KindHTTP, Action: event.ActHTTPRequest,
		SrcIP: netip.MustParseAddr("2001:db8::7"), Outcome: event.OutcomeFailure, Count: 1,
		HTTP: &event.HTTP{Site: "www", Method: "GET", Path: "/a%20b", Query: "q=1", Status: 404, Bytes: -1,
			UserAgent: "curl/8", PathDecoded: "/a b", QueryDecoded: "q=1", Ext: ""},
		Ref: event.Ref{File: "access.log", Line: 9}, Raw: []byte(`2001:db8::7 - - [..] "GET /a%20b?q=1 HTTP/1.1" 404 -`)},
		event.Event{Time: evs[len(evs)-1].Time, Kind: event.KindDNS, Action: event.ActDNSQuery, Count: 1,
			SrcIP: netip.MustParseAddr("10.0.0.2"), SrcPort: 5353,
			DNS: &event.DNS{Name: "x.example.com", Registered: "example.com", QType: "TXT", RCode: "NOERROR", ID: 77,
				QTypeCode: 16, ServerIP: netip.MustParseAddr("10.0.0.1"), ServerPort: 53, Transport: "udp", QuerySize: 40,
				RespSize: 90, Answered: true, RTT: 3 * time.Millisecond, EDNS: true, EDNSSize: 1232, AnswerCount: 1,
				Answers: []event.Answer{{Type: "TXT", TTL: 60, Data: "<20 bytes>", Size: 21}}},
			Ref: event.Ref{File: "dns.pcap", Line: 3}})
	dir := t.TempDir()
	w, err := NewWriter(Options{Dir: dir, Run: "t1", RowGroupRows: 1000, FileRows: 3000})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < len(evs); i += 500 {
		if err := w.Write(evs[i:min(i+500, len(evs))]); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(nil); err != nil {
		t.Fatal(err)
	}
	if st := w.Stats(); st.Events != int64(len(evs)) || st.Files < 3 {
		t.Fatalf("stats %+v for %d events", st, len(evs))
	}
	var got []event.Event
	st, err := Events(context.Background(), ReadOptions{Dir: dir, Location: time.UTC}, func(b []event.Event) error {
		got = append(got, b...)
		return nil
	})
	if err != nil || len(st.Skipped) > 0 {
		t.Fatalf("read: %v %v", err, st.Skipped)
	}
	if len(got) != len(evs) {
		t.Fatalf("read %d events, wrote %d", len(got), len(evs))
	}
	// Events come back in time order; equal times keep their order within
	// a kind. Compare as multisets keyed by file:line.
	want := map[string][]event.Event{}
	for _, e := range evs {
		k := e.Ref.File + ":" + string(rune(e.Ref.Line))
		want[k] = append(want[k], e)
	}
	for i, g := range got {
		if i > 0 && g.Time.Before(got[i-1].Time) {
			t.Fatalf("event %d out of time order", i)
		}
		k := g.Ref.File + ":" + string(rune(g.Ref.Line))
		l := want[k]
		if len(l) == 0 {
			t.Fatalf("unexpected event %s", k)
		}
		if !equalEvent(l[0], g) {
			t.Fatalf("event %s changed:\nwant %+v\n got %+v", k, l[0], g)
		}
		want[k] = l[1:]
	}
}

func equalEvent(a, b event.Event) bool {
	if !a.Time.Equal(b.Time) || string(a.Raw) != string(b.Raw) || string(a.Msg) != string(b.Msg) {
		return false
	}
	a.Time, b.Time, a.Raw, b.Raw, a.Msg, b.Msg = time.Time{}, time.Time{}, nil, nil, nil, nil
	return reflect.DeepEqual(a, b)
}

func TestFindingsRoundTripAndWindows(t *testing.T) {
	dir := t.TempDir()
	w, err := NewWriter(Options{Dir: dir, Run: "r"})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 11, 22, 10, 30, 0, 0, time.UTC)
	alerts := []event.Alert{
		{Rule: "auth.brute_force", Description: "d", Entity: event.Entity{Type: event.EntityIP, Value: "203.0.113.7"},
			Start: t0, End: t0.Add(time.Minute), Severity: 47, Score: 0.6, Techniques: []string{"T1110.001"},
			SourceIP: netip.MustParseAddr("203.0.113.7"), Evidence: map[string]any{"attempts": 25.0},
			Samples: []event.Sample{{File: "a", Line: 1, Text: "x"}}, Related: []event.Entity{{Type: event.EntityUser, Value: "root"}}},
		{Rule: "auth.account_change", Entity: event.Entity{Type: event.EntityHost, Value: "h"},
			Start: t0.Add(2 * time.Hour), End: t0.Add(2 * time.Hour), Severity: 21, Score: 0.5},
	}
	if err := w.Close(alerts); err != nil {
		t.Fatal(err)
	}
	got, errs := Findings(dir, time.Time{}, time.Time{})
	if len(errs) > 0 || len(got) != 2 {
		t.Fatalf("findings %d, errs %v", len(got), errs)
	}
	if !reflect.DeepEqual(got[0], alerts[0]) {
		t.Errorf("finding changed:\nwant %+v\n got %+v", alerts[0], got[0])
	}
	if got, _ := Findings(dir, t0.Add(time.Hour), time.Time{}); len(got) != 1 || got[0].Rule != "auth.account_change" {
		t.Errorf("window from +1h: %v", got)
	}
	// The journal names the day's file with its row count.
	st, err := readState(dir)
	if err != nil || len(st.files) != 1 || len(st.begun) != 0 {
		t.Fatalf("journal: %+v %v", st, err)
	}
	for f, c := range st.files {
		if c.Rows != 2 || !strings.HasPrefix(f, "kind=finding/month=2026-11/part-r-") || c.At.IsZero() {
			t.Errorf("commit %+v", c)
		}
	}
}
