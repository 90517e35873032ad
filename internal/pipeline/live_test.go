package pipeline_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"winnow/internal/detect"
	"winnow/internal/detect/auth"
	"winnow/internal/event"
	"winnow/internal/parse"
	"winnow/internal/parse/authlog"
	"winnow/internal/pipeline"
	"winnow/internal/source"
)

// chanSource is a live source fed by the test.
type chanSource struct {
	name   string
	ch     chan []string
	closed chan struct{}
	once   sync.Once
	n      int64
}

func newChanSource(name string) *chanSource {
	return &chanSource{name: name, ch: make(chan []string, 16), closed: make(chan struct{})}
}

func (c *chanSource) Name() string { return c.name }
func (c *chanSource) Live() bool   { return true }
func (c *chanSource) Close() error { c.once.Do(func() { close(c.closed) }); return nil }
func (c *chanSource) Next(ctx context.Context) (source.Batch, error) {
	select {
	case lines := <-c.ch:
		b := source.Batch{Pos: source.Position{Source: c.name, ID: "x", Line: c.n + int64(len(lines))}}
		for _, l := range lines {
			c.n++
			b.Records = append(b.Records, source.Record{B: []byte(l), N: c.n})
		}
		return b, nil
	case <-ctx.Done():
		return source.Batch{}, ctx.Err()
	case <-c.closed:
		return source.Batch{}, source.ErrSourceClosed
	}
}

func authDetectors(t *testing.T, only ...string) []detect.Enabled {
	t.Helper()
	reg := &detect.Registry{}
	auth.Register(reg)
	var out []detect.Enabled
	for _, name := range only {
		s, ok := reg.Get(name)
		if !ok {
			t.Fatalf("no detector %s", name)
		}
		p, _ := detect.NewParams(s, nil)
		out = append(out, detect.Enabled{Spec: s, Params: p})
	}
	return out
}

func failures(from, n int, ip string) []string {
	var out []string
	for i := from; i < from+n; i++ {
		out = append(out, fmt.Sprintf("Nov 22 10:%02d:%02d web1 sshd[%d]: Failed password for root from %s port %d ssh2", i/60, i%60, 100+i, ip, 40000+i))
	}
	return out
}

// A brute force is reported while it is going on (open), as soon as it
// crosses its threshold, without the input ending; the heartbeat closes
// the episode once the input goes quiet, and the final report follows.
func TestLiveFindingsAsTheyHappen(t *testing.T) {
	src := newChanSource("syslog")
	formats := &parse.Formats{}
	formats.Add(authlog.Format())
	now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	var clock sync.Mutex
	wall := func() time.Time { clock.Lock(); defer clock.Unlock(); return now }
	l, err := pipeline.NewLive(pipeline.LiveConfig{
		Inputs: []pipeline.LiveInput{{Source: src}}, Formats: formats,
		Parse:     parse.Options{Year: 2026, Location: time.UTC},
		Detectors: authDetectors(t, "auth.brute_force"), Heartbeat: 10 * time.Millisecond, Now: wall,
	})
	if err != nil {
		t.Fatal(err)
	}
	findings := make(chan event.Alert, 100)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- l.Run(ctx, func(a event.Alert) { findings <- a }) }()

	src.ch <- failures(0, 9, "203.0.113.7") // threshold 10
	select {
	case a := <-findings:
		t.Fatalf("finding before the threshold: %+v", a)
	case <-time.After(200 * time.Millisecond):
	}
	src.ch <- failures(9, 1, "203.0.113.7") // the 10th failure
	var first event.Alert
	select {
	case first = <-findings:
	case <-time.After(20 * time.Second):
		t.Fatal("no finding after the 10th failure")
	}
	if first.Rule != "auth.brute_force" || !first.Open || first.Entity.Value != "203.0.113.7" {
		t.Fatalf("first report %+v", first)
	}
	// The input goes quiet; wall time passes; the heartbeat closes it.
	clock.Lock()
	now = now.Add(24 * time.Hour)
	clock.Unlock()
	var final event.Alert
	select {
	case final = <-findings:
	case <-time.After(20 * time.Second):
		t.Fatal("the episode did not close on the heartbeat")
	}
	if final.Open || final.Start != first.Start {
		t.Fatalf("final report %+v", final)
	}
	st := l.Inputs()[0]
	if st.Events != 10 || st.Format != "syslog" && st.Format == "" {
		t.Fatalf("input stats %+v", st)
	}
	if ps := l.Positions(); len(ps) != 1 || ps[0].Line != 10 {
		t.Fatalf("positions %+v", ps)
	}
	// A checkpoint sees every event processed.
	var got []source.Position
	if err := l.Checkpoint(context.Background(), true, func(ps []source.Position, _ *detect.Snapshot) error { got = ps; return nil }); err != nil || len(got) != 1 {
		t.Fatalf("checkpoint: %v %v", err, got)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// Messages from a syslog receiver carry their sender's host name in the
// header: it becomes each event's host, for RFC 5424 and RFC 3164 with
// <PRI> alike, so one receiver serves many machines.
func TestLiveSyslogHost(t *testing.T) {
	src := newChanSource("syslog")
	formats := &parse.Formats{}
	formats.Add(authlog.Format())
	var mu sync.Mutex
	var seen []event.Event
	spec := &detect.Spec{Name: "test.record", Key: detect.KeyHost, Kinds: []event.Kind{event.KindAuth, event.KindSyslog},
		New: func(detect.Params) (detect.Detector, error) { return recorder{&mu, &seen}, nil }}
	p, _ := detect.NewParams(spec, nil)
	l, err := pipeline.NewLive(pipeline.LiveConfig{Inputs: []pipeline.LiveInput{{Source: src, Format: "syslog"}}, Formats: formats,
		Parse: parse.Options{Year: 2026, Location: time.UTC}, Detectors: []detect.Enabled{{Spec: spec, Params: p}}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- l.Run(ctx, func(event.Alert) {}) }()
	src.ch <- []string{
		"<38>1 2026-11-22T10:11:48.003Z web7 sshd 4242 - - Failed password for root from 192.0.2.1 port 22 ssh2",
		"<38>Nov 22 10:11:49 db2 sshd[77]: Failed password for root from 192.0.2.1 port 22 ssh2",
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		mu.Lock()
		n := len(seen)
		mu.Unlock()
		if n == 2 || time.Now().After(deadline) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	<-done
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != 2 {
		t.Fatalf("%d events", len(seen))
	}
	hosts := map[string]bool{seen[0].Host: true, seen[1].Host: true}
	if !hosts["web7"] || !hosts["db2"] {
		t.Fatalf("hosts %v", hosts)
	}
}
