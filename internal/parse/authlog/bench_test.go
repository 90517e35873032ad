package authlog

import (
	"testing"
	"time"

	"winnow/internal/event"
	"winnow/internal/parse"
	"winnow/internal/testdata"
)

// BenchmarkParse parses the real secrepo auth.log (87k lines of internet
// SSH brute force), one line per op.
func BenchmarkParse(b *testing.B) {
	lines := readLines(b, testdata.File(b, "auth-logs/secrepo/auth.log"))
	benchLines(b, lines)
}

// BenchmarkParseElastic parses the elastic auth.log (sshd, sudo, useradd,
// chpasswd, systemd; includes Command allocations for sudo lines).
func BenchmarkParseElastic(b *testing.B) {
	lines := readLines(b, testdata.File(b, "elastic-examples/suspicious_login_activity/auth.log"))
	benchLines(b, lines)
}

func benchLines(b *testing.B, lines [][]byte) {
	size := 0
	for _, l := range lines {
		size += len(l) + 1
	}
	p := New(parse.Options{Location: time.UTC, Year: 2026})
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

// TestNoAllocs: once the interner has seen a file's strings, parsing its
// lines again allocates nothing (sudo Command lines excepted: they are
// left out here).
func TestNoAllocs(t *testing.T) {
	for _, f := range []string{"auth-logs/secrepo/auth.log", "loghub/OpenSSH/OpenSSH_2k.log", "auth-logs/dfrws-2009/auth.all.log"} {
		t.Run(f, func(t *testing.T) {
			lines := readLines(t, testdata.File(t, f))
			p := New(parse.Options{Location: time.UTC, Year: 2026})
			var ev event.Event
			var keep [][]byte
			for _, l := range lines {
				if p.Parse(l, &ev) == nil && ev.Command == "" {
					keep = append(keep, l)
				}
			}
			n := 0
			allocs := testing.AllocsPerRun(len(keep), func() {
				_ = p.Parse(keep[n%len(keep)], &ev)
				n++
			})
			if allocs != 0 {
				t.Errorf("%.3f allocs per line, want 0", allocs)
			}
		})
	}
}
