package auth

import (
	"bufio"
	"bytes"
	"context"
	"testing"
	"time"

	"winnow/internal/detect"
	"winnow/internal/event"
	"winnow/internal/generate"
	"winnow/internal/parse"
	"winnow/internal/parse/authlog"
)

// generatedEvents parses a generated auth.log of about n lines (with its
// attacks and Internet noise) into events, expanding repeats.
func generatedEvents(b *testing.B, n int) ([]event.Event, int64) {
	b.Helper()
	var buf bytes.Buffer
	gc := generate.DefaultAuthConfig()
	gc.Lines = n
	if _, err := generate.Auth(&buf, gc); err != nil {
		b.Fatal(err)
	}
	size := int64(buf.Len())
	p := authlog.New(parse.Options{Location: time.UTC, Year: 2026})
	var evs []event.Event
	sc := bufio.NewScanner(&buf)
	var line int64
	for sc.Scan() {
		line++
		raw := append([]byte(nil), sc.Bytes()...)
		var ev event.Event
		if err := p.Parse(raw, &ev); err != nil {
			continue
		}
		ev.Ref = event.Ref{File: "bench.log", Line: line}
		for c := max(ev.Count, 1); c > 0; c-- {
			ev.Count = 1
			evs = append(evs, ev)
		}
	}
	return evs, size
}

// BenchmarkAuthDetectors runs every auth detector through the Runner
// (GOMAXPROCS shards) over the events of a generated 200k-line day; one op
// is the whole day. Reports events/s.
func BenchmarkAuthDetectors(b *testing.B) {
	evs, size := generatedEvents(b, 200_000)
	var reg detect.Registry
	Register(&reg)
	var en []detect.Enabled
	for _, s := range reg.Specs() {
		p, _ := detect.NewParams(s, nil)
		en = append(en, detect.Enabled{Spec: s, Params: p})
	}
	b.SetBytes(size)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r, err := detect.NewRunner(context.Background(), detect.RunnerConfig{Workers: 2}, en, func(event.Alert) {})
		if err != nil {
			b.Fatal(err)
		}
		if err := r.Submit(evs); err != nil {
			b.Fatal(err)
		}
		if err := r.Close(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(evs))*float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkBruteForceObserve measures one source detector alone on one
// goroutine: the per-event cost of a table lookup and counting.
func BenchmarkBruteForceObserve(b *testing.B) {
	evs, size := generatedEvents(b, 200_000)
	var reg detect.Registry
	Register(&reg)
	spec, _ := reg.Get("auth.brute_force")
	p, _ := detect.NewParams(spec, nil)
	emit := func(event.Alert) {}
	b.SetBytes(size)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		d, _ := spec.New(p)
		for j := range evs {
			d.Observe(&evs[j], emit)
		}
		d.Flush(emit)
	}
	b.ReportMetric(float64(len(evs))*float64(b.N)/b.Elapsed().Seconds(), "events/s")
}
