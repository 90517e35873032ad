package source

import (
	"bytes"
	"io"
	"testing"
)

// BenchmarkReader splits 64 MiB of 100-byte log lines; reports lines/s.
func BenchmarkReader(b *testing.B) {
	line := bytes.Repeat([]byte("x"), 99)
	data := bytes.Repeat(append(line, '\n'), 64<<20/100)
	lines := int64(len(data) / 100)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r, err := Open(Input{Name: "-"}, bytes.NewReader(data), Options{})
		if err != nil {
			b.Fatal(err)
		}
		var n int64
		for {
			ch, err := r.Next()
			if ch != nil {
				n += int64(len(ch.Lines))
			}
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
		}
		if n != lines {
			b.Fatalf("%d lines, want %d", n, lines)
		}
		r.Close()
	}
	b.ReportMetric(float64(lines)*float64(b.N)/b.Elapsed().Seconds(), "lines/s")
}
