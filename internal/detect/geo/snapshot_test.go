package geo_test

import (
	"fmt"
	"testing"

	"winnow/internal/detect"
	"winnow/internal/detect/detecttest"
	"winnow/internal/detect/geo"
	"winnow/internal/event"
)

// TestSnapshotRestore: the accounts' last logins and learned places
// survive a restart: over two months of logins of twenty accounts from
// their usual networks, with trips and new networks, the findings of a
// run cut, snapshotted and resumed equal one run's.
func TestSnapshotRestore(t *testing.T) {
	db, _ := testDB(t)
	ips := []string{"137.30.1.1", "128.220.1.1", "198.51.100.7", "203.0.113.5", "192.0.2.9"}
	var evs []event.Event
	for i := 0; i < 3000; i++ {
		u := i % 20
		ip := ips[u%2]
		if i%97 == 0 || (i > 2000 && i%13 == 0) {
			ip = ips[2+(i/7)%3]
		}
		ev := login(float64(i)/2, fmt.Sprintf("user%02d", u), ip)
		ev.Ref.File, ev.Ref.Line = "auth.log", int64(i+1)
		evs = append(evs, ev)
	}
	var reg detect.Registry
	geo.Register(&reg, db)
	var en []detect.Enabled
	for _, s := range reg.Specs() {
		p, err := detect.NewParams(s, nil)
		if err != nil {
			t.Fatal(err)
		}
		en = append(en, detect.Enabled{Spec: s, Params: p})
	}
	if n := detecttest.CheckSnapshot(t, en, evs, detecttest.SnapshotOptions{}); n < 5 {
		t.Errorf("only %d findings", n)
	}
}
