package archive

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"winnow/internal/event"
	"winnow/internal/generate"
	"winnow/internal/parse"
	"winnow/internal/parse/authlog"
)

// genEvents parses a generated auth.log of about n lines.
func genEvents(b testing.TB, n int) []event.Event {
	var buf bytes.Buffer
	gc := generate.DefaultAuthConfig()
	gc.Lines = n
	if _, err := generate.Auth(&buf, gc); err != nil {
		b.Fatal(err)
	}
	p := authlog.New(parse.Options{Location: time.UTC, Year: 2026})
	var evs []event.Event
	sc := bufio.NewScanner(&buf)
	var line int64
	for sc.Scan() {
		line++
		raw := append([]byte(nil), sc.Bytes()...)
		var ev event.Event
		if p.Parse(raw, &ev) != nil {
			continue
		}
		ev.Ref = event.Ref{File: "auth.log", Line: line}
		ev.Count = 1
		evs = append(evs, ev)
	}
	return evs
}

func writeArchive(b testing.TB, dir string, evs []event.Event) {
	w, err := NewWriter(Options{Dir: dir, Run: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	for i := 0; i < len(evs); i += 1024 {
		if err := w.Write(evs[i:min(i+1024, len(evs))]); err != nil {
			b.Fatal(err)
		}
	}
	if err := w.Close(nil); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkWrite archives 200k auth events; reports events/s and bytes
// per event on disk.
func BenchmarkWrite(b *testing.B) {
	evs := genEvents(b, 200_000)
	b.ReportAllocs()
	b.ResetTimer()
	var size int64
	for i := 0; i < b.N; i++ {
		dir := b.TempDir()
		writeArchive(b, dir, evs)
		size = dirSize(dir)
	}
	b.ReportMetric(float64(len(evs))*float64(b.N)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(size)/float64(len(evs)), "disk-B/event")
}

// BenchmarkRead replays 200k archived auth events in time order.
func BenchmarkRead(b *testing.B) {
	evs := genEvents(b, 200_000)
	dir := b.TempDir()
	writeArchive(b, dir, evs)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		n := 0
		_, err := Events(context.Background(), ReadOptions{Dir: dir, Location: time.UTC}, func(b []event.Event) error {
			n += len(b)
			return nil
		})
		if err != nil || n != len(evs) {
			b.Fatalf("read %d of %d: %v", n, len(evs), err)
		}
	}
	b.ReportMetric(float64(len(evs))*float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

func dirSize(dir string) int64 {
	var n int64
	filepath.Walk(dir, func(_ string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			n += fi.Size()
		}
		return nil
	})
	return n
}
