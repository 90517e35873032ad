package correlate

import (
	"fmt"
	"math"
	"math/rand/v2"
	"net/netip"
	"reflect"
	"sync"
	"testing"
	"time"

	"winnow/internal/event"
)

var t0 = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)

func ipEnt(s string) event.Entity   { return event.Entity{Type: event.EntityIP, Value: s} }
func userEnt(s string) event.Entity { return event.Entity{Type: event.EntityUser, Value: s} }

func at(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }

func fixture() []event.Alert {
	ip := netip.MustParseAddr("203.0.113.7")
	return []event.Alert{
		{Rule: "auth.brute_force", Entity: ipEnt("203.0.113.7"), SourceIP: ip, Severity: 73, Score: 0.9,
			Start: at(0), End: at(10), Related: []event.Entity{userEnt("deploy"), userEnt("root")}, Description: "brute"},
		{Rule: "auth.success_after_failures", Entity: ipEnt("203.0.113.7"), SourceIP: ip, User: "deploy",
			Severity: 99, Score: 1, Start: at(9), End: at(11), Description: "compromise"},
		{Rule: "auth.root_login", Entity: ipEnt("203.0.113.7"), SourceIP: ip, User: "root",
			Severity: 21, Score: 0.8, Start: at(0), End: at(10), Description: "root tries"},
		{Rule: "auth.sudo_sensitive", Entity: userEnt("deploy"), User: "deploy", Severity: 47, Score: 0.8,
			Start: at(12), End: at(12), Description: "sudo"},
		{Rule: "auth.invalid_user_enumeration", Entity: ipEnt("198.51.100.9"), Severity: 47, Score: 0.6,
			Start: at(0), End: at(60), Description: "sweep"},
		{Rule: "auth.new_source", Entity: userEnt("alice"), User: "alice", Severity: 21, Score: 0.5,
			Start: at(30), End: at(30), Description: "new source"},
	}
}

func TestIncidentJoinsRulesAndContext(t *testing.T) {
	got := Build(fixture(), Config{}).Snapshot()
	if len(got) != 4 {
		t.Fatalf("%d incidents, want 4: %+v", len(got), got)
	}
	order := []string{"ip:203.0.113.7", "user:deploy", "ip:198.51.100.9", "user:alice"}
	for i, want := range order {
		if got[i].Entity.String() != want {
			t.Errorf("rank %d = %s, want %s", i+1, got[i].Entity, want)
		}
	}
	ip := got[0]
	if ip.Severity != 99 || ip.Count != 3 || len(ip.Reasons) != 2 || len(ip.Context) != 1 {
		t.Fatalf("ip incident: severity %d count %d reasons %+v context %+v", ip.Severity, ip.Count, ip.Reasons, ip.Context)
	}
	if ip.Reasons[0].Rule != "auth.success_after_failures" || ip.Context[0].Rule != "auth.root_login" {
		t.Errorf("reasons %v context %v", ip.Reasons, ip.Context)
	}
	wantOwn := 1 - (1-0.9*0.73)*(1-0.99)*(1-LinkWeight*0.8*0.21)
	userOwn := 0.8 * 0.47
	wantRisk := 1 - (1-wantOwn)*(1-LinkWeight*userOwn)
	if math.Abs(ip.Risk-wantRisk) > 1e-9 {
		t.Errorf("risk = %v, want %v", ip.Risk, wantRisk)
	}
	if !reflect.DeepEqual(ip.Linked, []event.Entity{userEnt("deploy")}) {
		t.Errorf("linked = %v, want only user:deploy (root has no incident)", ip.Linked)
	}
	if !ip.Start.Equal(at(0)) || !ip.End.Equal(at(11)) {
		t.Errorf("range %v–%v", ip.Start, ip.End)
	}
	// an entity with only a weak observation: a weak incident, its
	// severity the observation's
	if a := got[3]; a.Severity != 21 || len(a.Reasons) != 1 || len(a.Context) != 0 {
		t.Errorf("weak incident %+v", a)
	}
}

func TestBuildIsOrderIndependent(t *testing.T) {
	want := Build(fixture(), Config{}).Snapshot()
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 20; i++ {
		in := fixture()
		rng.Shuffle(len(in), func(a, b int) { in[a], in[b] = in[b], in[a] })
		if got := Build(in, Config{}).Snapshot(); !reflect.DeepEqual(got, want) {
			t.Fatalf("order-dependent result on shuffle %d", i)
		}
	}
}

// TestEpisodes: findings of one entity far apart in time are separate
// incidents; one that bridges them merges them under the earlier ID.
func TestEpisodes(t *testing.T) {
	c := New(Config{Gap: time.Hour})
	a := event.Alert{Rule: "web.scanner", Entity: ipEnt("192.0.2.1"), Severity: 47, Score: 0.5, Start: at(0), End: at(10)}
	b := event.Alert{Rule: "web.scanner", Entity: ipEnt("192.0.2.1"), Severity: 47, Score: 0.5, Start: at(300), End: at(310)}
	ia, newA := c.Add(a)
	ib, newB := c.Add(b)
	if !newA || !newB || ia.ID == ib.ID || c.Len() != 2 {
		t.Fatalf("two episodes: new %v %v, ids %s %s, len %d", newA, newB, ia.ID, ib.ID, c.Len())
	}
	if ia.ID != FindingID(&a) {
		t.Errorf("incident id %s, want the opening finding's %s", ia.ID, FindingID(&a))
	}
	bridge := event.Alert{Rule: "web.flood", Entity: ipEnt("192.0.2.1"), Severity: 73, Score: 0.9, Start: at(50), End: at(260)}
	m, created := c.Add(bridge)
	if created || m.ID != ia.ID || !reflect.DeepEqual(m.Merged, []string{ib.ID}) || c.Len() != 1 {
		t.Fatalf("bridge: created %v id %s merged %v len %d", created, m.ID, m.Merged, c.Len())
	}
	if m.Count != 3 || m.Severity != 73 || !m.End.Equal(at(310)) {
		t.Errorf("merged incident %+v", m)
	}
	// the finding of the merged incident redelivered lands in the survivor
	if r, created := c.Add(b); created || r.ID != ia.ID || r.Count != 3 {
		t.Errorf("redelivered after merge: created %v id %s count %d", created, r.ID, r.Count)
	}
}

// TestRedeliveryAndGrowth: the same finding delivered again (a restart,
// a second worker) updates the incident; a stronger finding raises its
// severity; the ID never changes.
func TestRedeliveryAndGrowth(t *testing.T) {
	c := New(Config{})
	f := event.Alert{Rule: "auth.brute_force", Entity: ipEnt("192.0.2.9"), Severity: 47, Score: 0.5,
		Start: at(0), End: at(10), Evidence: map[string]any{"attempts": 25}}
	first, _ := c.Add(f)
	grown := f
	grown.End = at(20)
	grown.Evidence = map[string]any{"attempts": 60}
	again, created := c.Add(grown)
	if created || again.ID != first.ID || again.Count != 1 || len(again.Findings) != 1 ||
		again.Findings[0].Evidence["attempts"] != 60 || !again.End.Equal(at(20)) || again.Version != 2 {
		t.Fatalf("redelivery: created %v %+v", created, again)
	}
	worse := event.Alert{Rule: "auth.success_after_failures", Entity: ipEnt("192.0.2.9"), Severity: 99, Score: 1,
		Start: at(19), End: at(21)}
	up, _ := c.Add(worse)
	if up.ID != first.ID || up.Severity != 99 || up.Count != 2 || up.Strongest().Rule != "auth.success_after_failures" {
		t.Errorf("severity did not rise: %+v", up)
	}
}

// TestStreamMatchesBatch: findings added one by one in the order a live run
// emits them give the incidents Build gives.
func TestStreamMatchesBatch(t *testing.T) {
	alerts := fixture()
	batch := Build(alerts, Config{}).Snapshot()
	c := New(Config{})
	in := append([]event.Alert(nil), alerts...)
	// live order: by end time
	for i := range in {
		for j := i + 1; j < len(in); j++ {
			if arrivalLess(&in[j], &in[i]) {
				in[i], in[j] = in[j], in[i]
			}
		}
	}
	for _, a := range in {
		c.Add(a)
	}
	if got := c.Snapshot(); !reflect.DeepEqual(got, batch) {
		t.Errorf("stream and batch differ:\n%+v\n%+v", got, batch)
	}
}

func TestPerRuleEvidenceBounded(t *testing.T) {
	var alerts []event.Alert
	for i := 0; i < 50; i++ {
		alerts = append(alerts, event.Alert{Rule: "series.http_requests_by_client", Entity: ipEnt("192.0.2.5"),
			Severity: 21, Score: float64(i) / 50, Start: at(i), End: at(i + 1)})
	}
	incs := Build(alerts, Config{PerRule: 3}).Snapshot()
	if len(incs) != 1 || incs[0].Count != 50 || len(incs[0].Findings) != 3 || incs[0].Findings[0].Score != 49.0/50 {
		t.Fatalf("%+v", incs)
	}
	if incs[0].Reasons[0].Count != 50 {
		t.Errorf("reason count %d", incs[0].Reasons[0].Count)
	}
}

func TestMaxIncidents(t *testing.T) {
	c := New(Config{MaxIncidents: 100})
	for i := 0; i < 1000; i++ {
		c.Add(event.Alert{Rule: "auth.brute_force", Entity: ipEnt(fmt.Sprintf("10.0.%d.%d", i/256, i%256)),
			Severity: 47, Score: 0.5, Start: at(i), End: at(i)})
	}
	if c.Len() > 100 || c.Dropped() < 900 {
		t.Errorf("len %d dropped %d", c.Len(), c.Dropped())
	}
	// the latest survive
	for _, in := range c.Snapshot() {
		if in.End.Before(at(850)) {
			t.Errorf("old incident kept: %v", in.End)
		}
	}
}

func TestExpire(t *testing.T) {
	c := New(Config{Gap: time.Hour})
	c.Add(event.Alert{Rule: "r", Entity: ipEnt("192.0.2.1"), Severity: 47, Score: 1, Start: at(0), End: at(10)})
	c.Add(event.Alert{Rule: "r", Entity: ipEnt("192.0.2.2"), Severity: 47, Score: 1, Start: at(100), End: at(110)})
	if got := c.Expire(at(69)); len(got) != 0 {
		t.Errorf("expired too early: %v", got)
	}
	got := c.Expire(at(71))
	if len(got) != 1 || got[0].Entity.Value != "192.0.2.1" || c.Len() != 1 {
		t.Errorf("expire: %+v, len %d", got, c.Len())
	}
}

// TestConcurrentAdd: shards add findings from many goroutines (run with
// -race); the result is the batch result.
func TestConcurrentAdd(t *testing.T) {
	var alerts []event.Alert
	for i := 0; i < 400; i++ {
		alerts = append(alerts, event.Alert{Rule: fmt.Sprintf("r%d", i%4), Entity: ipEnt(fmt.Sprintf("10.0.0.%d", i%50)),
			Severity: 47, Score: 0.5, Start: at(i % 7), End: at(i%7 + 1)})
	}
	c := New(Config{})
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := w; i < len(alerts); i += 4 {
				c.Add(alerts[i])
				if i%50 == 0 {
					c.Snapshot()
				}
			}
		}(w)
	}
	wg.Wait()
	got := c.Snapshot()
	if len(got) != 50 {
		t.Fatalf("%d incidents, want 50", len(got))
	}
	total := 0
	for _, in := range got {
		total += in.Count
	}
	// 400 alerts, but each (rule, entity, start) repeats: 50 entities × 4
	// rules... count distinct finding IDs
	ids := map[string]bool{}
	for i := range alerts {
		ids[FindingID(&alerts[i])] = true
	}
	if total != len(ids) {
		t.Errorf("%d findings counted, want %d distinct", total, len(ids))
	}
}

func TestFindingID(t *testing.T) {
	a := event.Alert{Rule: "auth.brute_force", Entity: ipEnt("192.0.2.1"), Start: at(0), End: at(5)}
	b := a
	b.End, b.Severity, b.Description = at(50), 99, "grown"
	if FindingID(&a) != FindingID(&b) || len(FindingID(&a)) != 16 {
		t.Errorf("id changes with end/severity: %s %s", FindingID(&a), FindingID(&b))
	}
	for _, mod := range []func(*event.Alert){
		func(x *event.Alert) { x.Rule = "auth.password_spray" },
		func(x *event.Alert) { x.Entity = userEnt("192.0.2.1") },
		func(x *event.Alert) { x.Entity = ipEnt("192.0.2.2") },
		func(x *event.Alert) { x.Start = at(1) },
	} {
		c := a
		mod(&c)
		if FindingID(&c) == FindingID(&a) {
			t.Errorf("collision for %+v", c)
		}
	}
}
