package serve

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"testing"
	"time"

	"winnow/internal/source/syslognet"
)

// BenchmarkLiveSyslogTCP drives winnow serve over loopback: syslog over TCP
// at a fixed rate (WINNOW_BENCH_RATE lines/s, default 100000) for
// WINNOW_BENCH_SECONDS (default 5; the README figure uses 60), with every
// auth detector on. The traffic is ordinary sshd noise with a new brute
// force (25 failures in a burst from a fresh address) every 200 ms. It
// reports the rate sustained, lines lost (sent minus events the daemon
// parsed) and the latency from a brute force's 20th failure leaving the
// sender to its finding appearing in the JSON Lines sink (p50, p99, max).
//
//	WINNOW_BENCH_SECONDS=60 go test -run '^$' -bench LiveSyslogTCP -benchtime 1x ./internal/serve/
func BenchmarkLiveSyslogTCP(b *testing.B) {
	rate := envInt("WINNOW_BENCH_RATE", 100000)
	secs := envInt("WINNOW_BENCH_SECONDS", 5)
	for range b.N {
		r := runLoad(b, rate, time.Duration(secs)*time.Second)
		b.ReportMetric(r.rate, "lines/s")
		b.ReportMetric(float64(r.lost), "lost")
		b.ReportMetric(r.p50.Seconds()*1000, "p50-ms")
		b.ReportMetric(r.p99.Seconds()*1000, "p99-ms")
		b.ReportMetric(r.max.Seconds()*1000, "max-ms")
		b.ReportMetric(float64(r.attacks), "attacks")
		b.ReportMetric(float64(r.missed), "missed")
		b.ReportMetric(float64(r.bytes)/float64(secs)/1e6, "MB/s")
	}
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

type loadResult struct {
	rate            float64
	lost, bytes     int64
	attacks, missed int
	p50, p99, max   time.Duration
}

func runLoad(b *testing.B, rate int, dur time.Duration) loadResult {
	dir := b.TempDir()
	out := filepath.Join(dir, "findings.jsonl")
	yml := fmt.Sprintf(`
listen: {metrics: ""}
inputs:
  - {name: syslog, type: syslog, network: tcp, address: "127.0.0.1:0", format: syslog}
sinks:
  - {type: jsonl, path: %s}
detectors:
  only: [auth.]
  params: {auth.brute_force: {threshold: 20}}
engine: {heartbeat: 100ms, timezone: UTC}
`, out)
	cfg, err := ParseConfig("bench.yaml", []byte(yml), nil)
	if err != nil {
		b.Fatal(err)
	}
	d, err := New(Options{Config: cfg, NewRegistry: registry, Formats: formats()})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx, nil) }()
	addr := d.Sources()[0].(*syslognet.Receiver).Addr()

	// The watcher tails the JSON sink and notes when each attacker's first
	// finding appears.
	var mu sync.Mutex
	sent20 := map[string]time.Time{}
	seen := map[string]time.Time{}
	stopWatch := make(chan struct{})
	watchDone := make(chan struct{})
	go func() {
		defer close(watchDone)
		var off int64
		var partial []byte
		for {
			f, err := os.Open(out)
			if err == nil {
				f.Seek(off, io.SeekStart)
				data, _ := io.ReadAll(f)
				f.Close()
				off += int64(len(data))
				now := time.Now()
				partial = append(partial, data...)
				for {
					i := bytes.IndexByte(partial, '\n')
					if i < 0 {
						break
					}
					var doc struct {
						Rule   struct{ Name string } `json:"rule"`
						Source struct{ IP string }   `json:"source"`
					}
					if json.Unmarshal(partial[:i], &doc) == nil && doc.Rule.Name == "auth.brute_force" {
						mu.Lock()
						if _, ok := seen[doc.Source.IP]; !ok {
							seen[doc.Source.IP] = now
						}
						mu.Unlock()
					}
					partial = partial[i+1:]
				}
			}
			select {
			case <-stopWatch:
				return
			case <-time.After(time.Millisecond):
			}
		}
	}()

	c, err := net.Dial("tcp", addr.String())
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	start := time.Now()
	var sent, nbytes int64
	var buf, msg []byte
	attack := 0
	const tick = 10 * time.Millisecond
	perTick := rate / int(time.Second/tick)
	nextAttack := start
	for k := 0; ; k++ {
		due := start.Add(time.Duration(k) * tick)
		if time.Since(start) >= dur {
			break
		}
		if w := time.Until(due); w > 0 {
			time.Sleep(w)
		}
		now := time.Now().UTC()
		buf = buf[:0]
		n := perTick
		var ip string
		var mark int
		if now.After(nextAttack) && time.Since(start) < dur-2*time.Second {
			attack++
			ip = fmt.Sprintf("198.18.%d.%d", attack/250, 1+attack%250)
			nextAttack = nextAttack.Add(200 * time.Millisecond)
		}
		ts := now.AppendFormat(nil, "2006-01-02T15:04:05.000000Z")
		for i := 0; i < n; i++ {
			msg = msg[:0]
			switch {
			case ip != "" && i < 25:
				msg = append(msg, "<38>1 "...)
				msg = append(msg, ts...)
				msg = append(msg, " web"...)
				msg = strconv.AppendInt(msg, int64(i%3), 10)
				msg = append(msg, " sshd 1000 - - Failed password for root from "...)
				msg = append(msg, ip...)
				msg = append(msg, " port "...)
				msg = strconv.AppendInt(msg, int64(30000+i), 10)
				msg = append(msg, " ssh2"...)
				if i == 19 {
					mark = len(buf)
				}
			case i%3 == 0:
				// background noise: one try each from ever new addresses
				seq := k*perTick + i
				msg = append(msg, "<38>1 "...)
				msg = append(msg, ts...)
				msg = append(msg, " web1 sshd 3000 - - Failed password for invalid user u"...)
				msg = strconv.AppendInt(msg, int64(i%97), 10)
				msg = append(msg, " from 100."...)
				msg = strconv.AppendInt(msg, int64(64+(seq>>16)&63), 10)
				msg = append(msg, '.')
				msg = strconv.AppendInt(msg, int64((seq>>8)&255), 10)
				msg = append(msg, '.')
				msg = strconv.AppendInt(msg, int64(seq&255), 10)
				msg = append(msg, " port 22 ssh2"...)
			case i%3 == 1:
				msg = append(msg, "<38>1 "...)
				msg = append(msg, ts...)
				msg = append(msg, " web2 sshd 2000 - - Accepted publickey for deploy from 10.0.0."...)
				msg = strconv.AppendInt(msg, int64(1+i%20), 10)
				msg = append(msg, " port 22 ssh2"...)
			default:
				msg = append(msg, "<86>1 "...)
				msg = append(msg, ts...)
				msg = append(msg, " web3 CRON 5000 - - pam_unix(cron:session): session opened for user root(uid=0) by (uid=0)"...)
			}
			buf = strconv.AppendInt(buf, int64(len(msg)), 10)
			buf = append(buf, ' ')
			buf = append(buf, msg...)
		}
		if ip != "" {
			// send up to and including the 20th failure, note the time, then the rest
			if _, err := c.Write(buf[:mark]); err != nil {
				b.Fatal(err)
			}
			// the 20th frame: "LEN SP MSG"
			sp := bytes.IndexByte(buf[mark:], ' ')
			l, _ := strconv.Atoi(string(buf[mark : mark+sp]))
			j := mark + sp + 1 + l
			if _, err := c.Write(buf[mark:j]); err != nil {
				b.Fatal(err)
			}
			mu.Lock()
			sent20[ip] = time.Now()
			mu.Unlock()
			if _, err := c.Write(buf[j:]); err != nil {
				b.Fatal(err)
			}
		} else if _, err := c.Write(buf); err != nil {
			b.Fatal(err)
		}
		sent += int64(n)
		nbytes += int64(len(buf))
	}
	elapsed := time.Since(start)
	c.Close()
	// Wait until every line is parsed (or 30 s), then for the findings.
	deadline := time.Now().Add(30 * time.Second)
	for d.live.Inputs()[0].Records < sent && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(2 * time.Second)
	b.StopTimer()
	close(stopWatch)
	<-watchDone
	got := d.live.Inputs()[0].Records
	cancel()
	<-done

	var lat []time.Duration
	missed := 0
	for ip, t0 := range sent20 {
		if t1, ok := seen[ip]; ok {
			lat = append(lat, max(t1.Sub(t0), 0))
		} else {
			missed++
		}
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	q := func(p float64) time.Duration {
		if len(lat) == 0 {
			return 0
		}
		return lat[min(len(lat)-1, int(p*float64(len(lat))))]
	}
	return loadResult{rate: float64(sent) / elapsed.Seconds(), lost: sent - got, bytes: nbytes,
		attacks: len(sent20), missed: missed, p50: q(0.5), p99: q(0.99), max: q(1)}
}
