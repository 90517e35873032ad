package correlate

import (
	"fmt"
	"net/netip"
	"testing"
	"time"

	"winnow/internal/event"
)

// BenchmarkBuild joins 10,000 findings on 3,000 IPs and 1,000 users
// (each IP finding names a user, so links form). Reports findings/s.
func BenchmarkBuild(b *testing.B) {
	t0 := time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)
	var alerts []event.Alert
	for i := 0; i < 10_000; i++ {
		ip := netip.AddrFrom4([4]byte{198, 51, byte(i / 250 % 12), byte(i % 250)})
		u := fmt.Sprintf("user%d", i%1000)
		a := event.Alert{Rule: fmt.Sprintf("auth.r%d", i%5), Severity: 21 + i%4*26, Score: 0.6,
			Start: t0.Add(time.Duration(i) * time.Second), End: t0.Add(time.Duration(i+60) * time.Second)}
		if i%3 == 0 {
			a.Entity, a.User = event.Entity{Type: event.EntityUser, Value: u}, u
		} else {
			a.Entity, a.SourceIP = event.Entity{Type: event.EntityIP, Value: ip.String()}, ip
			a.Related = []event.Entity{{Type: event.EntityUser, Value: u}}
		}
		alerts = append(alerts, a)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if len(Build(alerts, Config{}).Snapshot()) == 0 {
			b.Fatal("no incidents")
		}
	}
	b.ReportMetric(float64(len(alerts))*float64(b.N)/b.Elapsed().Seconds(), "findings/s")
}
