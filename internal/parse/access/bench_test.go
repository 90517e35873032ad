package access

import (
	"testing"
	"time"

	"winnow/internal/event"
	"winnow/internal/parse"
	"winnow/internal/testdata"
)

// BenchmarkParse parses the real Elastic site log (10k combined lines of a
// public site), one line per op.
func BenchmarkParse(b *testing.B) {
	benchLines(b, readLines(b, testdata.File(b, "elastic-examples/apache_logs/apache_access.log")))
}

// BenchmarkParseScanner parses the Acunetix scan (quote-wrapped lines,
// most of them with payloads to decode).
func BenchmarkParseScanner(b *testing.B) {
	benchLines(b, readLines(b, testdata.File(b, "apache-scanner-logs/acunetix.txt")))
}

func benchLines(b *testing.B, lines [][]byte) {
	size := 0
	for _, l := range lines {
		size += len(l) + 1
	}
	p := New(parse.Options{Location: time.UTC})
	var ev event.Event
	b.SetBytes(int64(size / len(lines)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := p.Parse(lines[i%len(lines)], &ev); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "lines/s")
}

// BenchmarkDecode decodes a double-encoded traversal.
func BenchmarkDecode(b *testing.B) {
	src := []byte("file=..%252f..%252f..%252fetc%252fpasswd&x=%u0027+or+1=1")
	buf := make([]byte, 0, 256)
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		buf = AppendDecode(buf[:0], src, true)
	}
}
