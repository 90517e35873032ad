package web

import (
	"bytes"
	"context"
	"testing"
	"time"

	"winnow/internal/detect"
	"winnow/internal/event"
	"winnow/internal/generate/weblog"
	"winnow/internal/parse"
	"winnow/internal/parse/access"
)

// BenchmarkDetectors runs every web detector (2 shards, as on the 2-core
// reference machine) over a generated day of a web shop (≈200k events per
// op, parsed once beforehand) and reports events per second.
func BenchmarkDetectors(b *testing.B) {
	var buf bytes.Buffer
	if _, err := weblog.Generate(&buf, weblog.DefaultConfig()); err != nil {
		b.Fatal(err)
	}
	p := access.New(parse.Options{Location: time.UTC})
	var evs []event.Event
	for _, l := range bytes.Split(bytes.TrimSuffix(buf.Bytes(), []byte("\n")), []byte("\n")) {
		var ev event.Event
		if err := p.Parse(l, &ev); err != nil {
			b.Fatal(err)
		}
		evs = append(evs, ev)
	}
	var reg detect.Registry
	Register(&reg)
	var en []detect.Enabled
	for _, s := range reg.Specs() {
		pa, err := detect.NewParams(s, nil)
		if err != nil {
			b.Fatal(err)
		}
		en = append(en, detect.Enabled{Spec: s, Params: pa})
	}
	b.SetBytes(int64(buf.Len()))
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
	b.ReportMetric(float64(b.N*len(evs))/b.Elapsed().Seconds(), "events/s")
}
