package pipeline_test

import (
	"bufio"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"winnow/internal/detect"
	"winnow/internal/detect/auth"
	"winnow/internal/event"
	"winnow/internal/generate"
	"winnow/internal/parse"
	"winnow/internal/parse/authlog"
	"winnow/internal/pipeline"
	"winnow/internal/source"
)

// BenchmarkPipelineAuth runs the whole pipeline — read, parse, merge,
// route, every auth detector on 2 shards — over a generated 200k-line
// auth.log on disk; one op is the whole file. Reports lines/s.
func BenchmarkPipelineAuth(b *testing.B) {
	path := filepath.Join(b.TempDir(), "auth.log")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriter(f)
	gc := generate.DefaultAuthConfig()
	gc.Lines = 200_000
	truth, err := generate.Auth(w, gc)
	if err != nil {
		b.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	f.Close()
	inputs, errs := source.Expand([]string{path})
	if len(errs) > 0 {
		b.Fatal(errs)
	}
	var reg detect.Registry
	auth.Register(&reg)
	var en []detect.Enabled
	for _, s := range reg.Specs() {
		p, _ := detect.NewParams(s, nil)
		en = append(en, detect.Enabled{Spec: s, Params: p})
	}
	formats := &parse.Formats{}
	formats.Add(authlog.Format())
	b.SetBytes(inputs[0].Size)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		p, err := pipeline.New(pipeline.Config{Inputs: inputs, Formats: formats, Detectors: en, Workers: 2,
			Parse: parse.Options{Year: 2026, Location: time.UTC}})
		if err != nil {
			b.Fatal(err)
		}
		res, err := p.Run(context.Background(), func(event.Alert) {})
		if err != nil || res.Lines != int64(truth.Lines) {
			b.Fatalf("run: %v, %d lines of %d", err, res.Lines, truth.Lines)
		}
	}
	b.ReportMetric(float64(truth.Lines)*float64(b.N)/b.Elapsed().Seconds(), "lines/s")
}
