package decide

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"winnow/internal/event"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func newTest(t *testing.T, mod func(*Policy)) (*Decider, *clock) {
	t.Helper()
	c := &clock{t: time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)}
	p := DefaultPolicy()
	if mod != nil {
		mod(&p)
	}
	d, err := New(p, c.now)
	if err != nil {
		t.Fatal(err)
	}
	return d, c
}

var episode int

// alert is a finding of a new incident each call (its own episode start).
func alert(rule, ip string, sev int) event.Alert {
	episode++
	return event.Alert{Rule: rule, Severity: sev, SourceIP: netip.MustParseAddr(ip),
		Entity: event.Entity{Type: event.EntityIP, Value: ip}, Start: time.Unix(int64(episode)*3600, 0)}
}

// TestIncidentUpdatesCountOnce: the reports of one growing incident are one
// piece of evidence, at their highest probability.
func TestIncidentUpdatesCountOnce(t *testing.T) {
	d, _ := newTest(t, nil)
	a := alert("web.scanner", "198.51.100.7", event.SeverityLow)
	for i := 0; i < 10; i++ {
		if got := d.Observe(a); got != nil {
			t.Fatalf("report %d of one low incident banned: %+v", i+1, got)
		}
	}
	// The incident grows to medium: now it pays.
	a.Severity = event.SeverityMedium
	if got := d.Observe(a); got == nil {
		t.Fatal("the incident's medium update did not ban")
	}
	// Named incidents: the same id is one incident whatever the alert says.
	d2, _ := newTest(t, nil)
	for i := 0; i < 5; i++ {
		if got := d2.ObserveIncident(alert("web.scanner", "198.51.100.8", event.SeverityLow), "inc-1"); got != nil {
			t.Fatalf("report %d of incident inc-1 banned", i+1)
		}
	}
}

func TestCostThreshold(t *testing.T) {
	d, _ := newTest(t, nil)
	if got := d.Observe(alert("auth.brute_force", "203.0.113.5", event.SeverityMedium)); got == nil {
		t.Fatal("a medium finding (p=0.6 > 1/3) did not ban")
	} else if got.Value != "203.0.113.5" || got.Scope != ScopeIP || got.Type != "ban" || got.Until.Sub(time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)) != 4*time.Hour {
		t.Fatalf("unexpected decision %+v", got)
	}
	// Low findings (p=0.15) accumulate by noisy-OR: two stay below 1/3
	// (0.2775), the third crosses it (0.386).
	for i := 1; i <= 3; i++ {
		got := d.Observe(alert("web.scanner", "198.51.100.7", event.SeverityLow))
		if (got != nil) != (i == 3) {
			t.Fatalf("low finding %d: decision %v", i, got)
		}
	}
	// Rules the policy never bans on alone.
	for i := 0; i < 10; i++ {
		if got := d.Observe(alert("auth.new_source", "192.0.2.9", event.SeverityHigh)); got != nil {
			t.Fatalf("auth.new_source banned %v", got)
		}
	}
	// Costs move the threshold: when a wrong ban costs 20× a miss, even a
	// high finding (0.85 < 20/21) does not pay.
	strict, _ := newTest(t, func(p *Policy) { p.Cost = Cost{BlockGood: 20, MissBad: 1} })
	if got := strict.Observe(alert("auth.brute_force", "203.0.113.5", event.SeverityHigh)); got != nil {
		t.Fatalf("strict policy banned %v", got)
	}
	if got := strict.Observe(alert("auth.success_after_failures", "203.0.113.5", event.SeverityCritical)); got == nil {
		t.Fatal("strict policy did not ban after a critical finding on top of a high one")
	}
}

func TestAllowlist(t *testing.T) {
	d, _ := newTest(t, func(p *Policy) {
		p.AllowNets = append(p.AllowNets, netip.MustParsePrefix("10.0.0.0/8"))
		p.AllowUsers = []string{"deploy"}
	})
	if got := d.Observe(alert("auth.brute_force", "10.1.2.3", event.SeverityCritical)); got != nil {
		t.Fatalf("allowlisted net banned: %v", got)
	}
	a := alert("auth.brute_force", "203.0.113.9", event.SeverityCritical)
	a.User = "deploy"
	if got := d.Observe(a); got != nil {
		t.Fatalf("finding about an allowlisted account banned: %v", got)
	}
	if got := d.Observe(event.Alert{Rule: "auth.unusual_hour", Severity: event.SeverityHigh, Entity: event.Entity{Type: event.EntityUser, Value: "bob"}}); got != nil {
		t.Fatalf("finding without an address banned: %v", got)
	}
	if s := d.Stats(); s.Allowlisted != 2 || s.Active != 0 {
		t.Fatalf("stats %+v", s)
	}
	// A range is never banned over an allowlisted address.
	d2, _ := newTest(t, func(p *Policy) { p.AllowNets = []netip.Prefix{netip.MustParsePrefix("198.51.100.200/32")} })
	for i := 1; i <= 4; i++ {
		d2.Observe(alert("auth.brute_force", fmt.Sprintf("198.51.100.%d", i), event.SeverityHigh))
	}
	for _, x := range d2.Active() {
		if x.Scope == ScopeRange {
			t.Fatalf("range banned over an allowlisted address: %+v", x)
		}
	}
	// SIGHUP-style policy change unbans a newly allowlisted address.
	d3, _ := newTest(t, nil)
	d3.Observe(alert("auth.brute_force", "203.0.113.77", event.SeverityHigh))
	p := DefaultPolicy()
	p.AllowNets = append(p.AllowNets, netip.MustParsePrefix("203.0.113.0/24"))
	if err := d3.SetPolicy(p); err != nil {
		t.Fatal(err)
	}
	if n := len(d3.Active()); n != 0 {
		t.Fatalf("%d decisions survive the allowlist change", n)
	}
}

func TestRepeatOffenderBackoff(t *testing.T) {
	d, c := newTest(t, nil)
	want := []time.Duration{4 * time.Hour, 8 * time.Hour, 16 * time.Hour}
	for i, w := range want {
		got := d.Observe(alert("auth.brute_force", "203.0.113.5", event.SeverityHigh))
		if got == nil {
			t.Fatalf("offence %d: no ban", i+1)
		}
		if got.Offence != i+1 || got.Until.Sub(c.t) != w {
			t.Fatalf("offence %d: %+v, want duration %v", i+1, got, w)
		}
		// While banned, more findings do not add a second decision.
		if again := d.Observe(alert("auth.brute_force", "203.0.113.5", event.SeverityHigh)); again.ID != got.ID {
			t.Fatalf("second decision while banned: %+v", again)
		}
		c.t = got.Until.Add(time.Second)
		if n := d.Expire(); n != 1 {
			t.Fatalf("expired %d, want 1", n)
		}
	}
	// Capped at MaxDuration.
	for i := 0; i < 10; i++ {
		got := d.Observe(alert("auth.brute_force", "203.0.113.5", event.SeverityHigh))
		if got.Until.Sub(c.t) > 7*24*time.Hour {
			t.Fatalf("ban longer than the cap: %v", got.Until.Sub(c.t))
		}
		c.t = got.Until
	}
}

func TestRangeEscalation(t *testing.T) {
	d, _ := newTest(t, nil)
	d.Observe(alert("auth.brute_force", "198.51.100.1", event.SeverityHigh))
	d.Observe(alert("auth.brute_force", "198.51.100.2", event.SeverityHigh))
	if n := len(d.Active()); n != 2 {
		t.Fatalf("%d active, want 2", n)
	}
	r := d.Observe(alert("web.scanner", "198.51.100.3", event.SeverityHigh))
	if r == nil || r.Scope != ScopeRange || r.Value != "198.51.100.0/24" {
		t.Fatalf("third neighbour: %+v, want a /24 range ban", r)
	}
	act := d.Active()
	if len(act) != 1 || act[0].Value != "198.51.100.0/24" {
		t.Fatalf("active after escalation: %+v", act)
	}
	// An address inside the banned range maps to the range decision.
	if got := d.Observe(alert("auth.brute_force", "198.51.100.99", event.SeverityHigh)); got == nil || got.ID != r.ID {
		t.Fatalf("address in a banned range: %+v", got)
	}
	v6, _ := newTest(t, nil)
	for i := 1; i <= 3; i++ {
		v6.Observe(alert("auth.brute_force", fmt.Sprintf("2001:db8:1:2::%x", i), event.SeverityHigh))
	}
	if act := v6.Active(); len(act) != 1 || act[0].Value != "2001:db8:1:2::/64" {
		t.Fatalf("IPv6 escalation: %+v", act)
	}
}

func TestChanges(t *testing.T) {
	d, c := newTest(t, nil)
	a := d.Observe(alert("auth.brute_force", "203.0.113.1", event.SeverityHigh))
	added, deleted, cur := d.Changes(0)
	if len(added) != 1 || added[0].ID != a.ID || len(deleted) != 0 {
		t.Fatalf("startup: +%v -%v", added, deleted)
	}
	if added, deleted, cur2 := d.Changes(cur); len(added)+len(deleted) != 0 || cur2 != cur {
		t.Fatalf("no change: +%v -%v", added, deleted)
	}
	b := d.Observe(alert("auth.brute_force", "192.0.2.50", event.SeverityHigh))
	d.Delete("203.0.113.1")
	// Added and deleted between polls: in neither list.
	x := d.Observe(alert("auth.brute_force", "192.0.2.60", event.SeverityHigh))
	d.Delete(x.Value)
	added, deleted, cur = d.Changes(cur)
	if len(added) != 1 || added[0].ID != b.ID || len(deleted) != 1 || deleted[0].ID != a.ID {
		t.Fatalf("incremental: +%v -%v", added, deleted)
	}
	// Expiry shows as a deletion.
	c.t = c.t.Add(5 * time.Hour)
	added, deleted, cur = d.Changes(cur)
	if len(added) != 0 || len(deleted) != 1 || deleted[0].ID != b.ID {
		t.Fatalf("after expiry: +%v -%v", added, deleted)
	}
	// A poller behind the trimmed log resyncs.
	d.Observe(alert("auth.brute_force", "203.0.113.3", event.SeverityHigh))
	d.Trim(cur + 1)
	added, _, _ = d.Changes(1)
	if len(added) != 1 || added[0].Value != "203.0.113.3" {
		t.Fatalf("resync: +%v", added)
	}
}

func TestSaveLoad(t *testing.T) {
	d, c := newTest(t, nil)
	d.Observe(alert("auth.brute_force", "203.0.113.1", event.SeverityHigh))
	d.Observe(alert("web.scanner", "2001:db8::1", event.SeverityLow))
	var buf bytes.Buffer
	if err := d.Save(&buf); err != nil {
		t.Fatal(err)
	}
	d2, _ := newTest(t, nil)
	d2.now = c.now
	if err := d2.Load(bytes.NewReader(buf.Bytes())); err != nil {
		t.Fatal(err)
	}
	if a := d2.Active(); len(a) != 1 || a[0].Value != "203.0.113.1" || a[0].Offence != 1 {
		t.Fatalf("restored %+v", a)
	}
	// Evidence survives: two more lows on the v6 address cross the threshold.
	d2.Observe(alert("web.scanner", "2001:db8::1", event.SeverityLow))
	if got := d2.Observe(alert("web.scanner", "2001:db8::1", event.SeverityLow)); got == nil {
		t.Fatal("restored evidence lost: third low finding did not ban")
	}
	// Repeat counting survives: after expiry the next ban is the second.
	c.t = c.t.Add(5 * time.Hour)
	if got := d2.Observe(alert("auth.brute_force", "203.0.113.1", event.SeverityHigh)); got == nil || got.Offence != 2 {
		t.Fatalf("after restore and expiry: %+v", got)
	}
	before := d2.Active()
	for _, bad := range []string{"", "{", `{"version":99}`, `{"version":1,"active":[{"value":"not-an-ip"}]}`, `{"version":1,"evidence":{"1.2.3.4":{"p_not":7}}}`, `{"version":1,"bogus":1}`} {
		err := d2.Load(bytes.NewReader([]byte(bad)))
		if err == nil {
			t.Fatalf("Load(%q) accepted", bad)
		}
		if bad == `{"version":99}` && !errors.Is(err, ErrSnapshotVersion) {
			t.Fatalf("Load(version 99) = %v, want ErrSnapshotVersion", err)
		}
		if after := d2.Active(); len(after) != len(before) {
			t.Fatalf("failed Load(%q) changed the decider", bad)
		}
	}
}

func TestBoundedUnderFlood(t *testing.T) {
	d, c := newTest(t, func(p *Policy) { p.MaxTracked = 1000; p.MaxActive = 500; p.RangeAfter = 0 })
	for i := 0; i < 20000; i++ {
		c.t = c.t.Add(time.Millisecond)
		ip := netip.AddrFrom4([4]byte{100, byte(i >> 16), byte(i >> 8), byte(i)})
		d.Observe(event.Alert{Rule: "web.scanner", Severity: event.SeverityMedium, SourceIP: ip})
	}
	s := d.Stats()
	if s.Tracked > 1000 || s.Active > 500 || s.ShedActive == 0 || s.Evicted == 0 {
		t.Fatalf("not bounded: %+v", s)
	}
	if len(d.log) > 4*500 {
		t.Fatalf("change log holds %d entries", len(d.log))
	}
}

func TestValidate(t *testing.T) {
	bad := []func(*Policy){
		func(p *Policy) { p.Cost = Cost{BlockGood: -1, MissBad: 1} },
		func(p *Policy) { p.SeverityProbability = map[string]float64{"huge": 0.5} },
		func(p *Policy) { p.SeverityProbability = map[string]float64{"low": 1.5} },
		func(p *Policy) { p.RangeAfter = 1 },
		func(p *Policy) { p.MaxDuration = time.Minute },
		func(p *Policy) { p.Backoff = 0.5 },
	}
	for i, mod := range bad {
		p := DefaultPolicy()
		mod(&p)
		if err := p.Validate(); err == nil {
			t.Errorf("case %d: bad policy accepted", i)
		}
	}
}
