package bayes

import (
	"syscall"
	"testing"
	"time"

	"winnow/internal/event"
	"winnow/internal/parse"
	"winnow/internal/parse/access"
)

// cpuTime is the process's user+system CPU time: on a shared machine,
// items per CPU-second is the per-core rate that wall-clock ns/op hides.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// report adds items/s (wall clock) and items/cpu-s.
func report(b *testing.B, n int, cpu0 time.Duration, unit string) {
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), unit+"/s")
	if cpu := cpuTime() - cpu0; cpu > 0 {
		b.ReportMetric(float64(n)/cpu.Seconds(), unit+"/cpu-s")
	}
}

// BenchmarkScoreHTTP measures tokenising and scoring CSIC requests (4,000
// normal and 1,000 attacks, already parsed, as the pipeline hands events
// over) with a model trained on CSIC: requests/s.
func BenchmarkScoreHTTP(b *testing.B) {
	res := trainCSIC(b)
	m := res.model
	m.Compile()
	reqs := readCSIC(b, "csic2010/normalTrafficTraining.txt")[:4000]
	reqs = append(reqs, readCSIC(b, "csic2010/anomalousTrafficTraining.txt")[:1000]...)
	in := make([]HTTPRequest, len(reqs))
	size := 0
	for i, r := range reqs {
		in[i] = HTTPFromRaw(r)
		size += len(r.Method) + len(r.Target) + len(r.Body)
	}
	tok := NewTokens()
	b.SetBytes(int64(size / len(in)))
	b.ReportAllocs()
	n := 0
	cpu0 := cpuTime()
	for b.Loop() {
		tok.Reset()
		tok.HTTP(&in[n%len(in)])
		_ = m.Score(tok)
		n++
	}
	report(b, n, cpu0, "requests")
}

// BenchmarkScoreAccessLog scores access-log events of a real site with a
// model trained on that site (good) against a scanner's log (bad).
func BenchmarkScoreAccessLog(b *testing.B) {
	lines := readLines(b, "elastic-examples/apache_logs/apache_access.log")
	scan := readLines(b, "apache-scanner-logs/acunetix.txt")
	p := access.New(parse.Options{})
	evs := make([]event.Event, 0, len(lines))
	size := 0
	tr := NewTrainer(KindHTTP, Split{})
	tok := NewTokens()
	for i, set := range [][][]byte{lines, scan} {
		for j, l := range set {
			var ev event.Event
			if p.Parse(l, &ev) != nil {
				continue
			}
			tok.Reset()
			tok.Event(KindHTTP, &ev)
			tr.Add("train", int64(j), tok, i == 1)
			if i == 0 {
				evs = append(evs, ev)
				size += len(l)
			}
		}
	}
	m := tr.Model
	m.Compile()
	b.SetBytes(int64(size / len(evs)))
	b.ReportAllocs()
	n := 0
	cpu0 := cpuTime()
	for b.Loop() {
		tok.Reset()
		tok.Event(KindHTTP, &evs[n%len(evs)])
		_ = m.Score(tok)
		n++
	}
	report(b, n, cpu0, "requests")
}

// BenchmarkScoreDNS scores query names.
func BenchmarkScoreDNS(b *testing.B) {
	names, bad := readNames(b, "dns-tunneling/train.csv")
	tr := NewTrainer(KindDNS, Split{})
	tok := NewTokens()
	size := 0
	for i, n := range names {
		tok.Reset()
		tok.DNSName(n, "")
		tr.Add("t", int64(i), tok, bad[i])
		size += len(n)
	}
	m := tr.Model
	m.Compile()
	b.SetBytes(int64(size / len(names)))
	b.ReportAllocs()
	n := 0
	cpu0 := cpuTime()
	for b.Loop() {
		tok.Reset()
		tok.DNSName(names[n%len(names)], "")
		_ = m.Score(tok)
		n++
	}
	report(b, n, cpu0, "names")
}
