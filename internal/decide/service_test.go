package decide

import (
	"context"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"winnow/internal/event"
	"winnow/internal/sink"
)

func TestConfigPolicy(t *testing.T) {
	var c Config
	src := `
enabled: true
cost: {block_good: 1, miss_bad: 9}
ban: {duration: 1h, backoff: 3, max_duration: 24h}
range_after: 0
rule_probability: {web.rare_user_agent: 0}
allowlist: {cidrs: [192.0.2.0/24], users: [deploy]}
`
	dec := yaml.NewDecoder(strings.NewReader(src))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		t.Fatal(err)
	}
	p, err := c.Policy([]string{"10.0.0.0/8"}, []string{"backup"})
	if err != nil {
		t.Fatal(err)
	}
	if p.Threshold() != 0.1 || p.Duration != time.Hour || p.Backoff != 3 || p.MaxDuration != 24*time.Hour || p.RangeAfter != 0 {
		t.Fatalf("policy %+v", p)
	}
	if p.RuleProbability["web.rare_user_agent"] != 0 || p.RuleProbability["auth.new_source"] != 0 {
		t.Fatalf("rule probabilities %v", p.RuleProbability)
	}
	for _, a := range []string{"192.0.2.9", "10.1.1.1", "127.0.0.1"} {
		ok := false
		for _, n := range p.AllowNets {
			ok = ok || n.Contains(netip.MustParseAddr(a))
		}
		if !ok {
			t.Errorf("%s not allowlisted", a)
		}
	}
	c.Allowlist.CIDRs = []string{"nonsense"}
	if _, err := c.Policy(nil, nil); err == nil {
		t.Fatal("bad allowlist entry accepted")
	}
}

func TestSinkWritesSetAndSnapshot(t *testing.T) {
	dir := t.TempDir()
	snap := filepath.Join(dir, "decisions.json")
	c := &clock{t: time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)}
	newSink := func() (*Sink, *[][]Decision) {
		dc, err := New(DefaultPolicy(), c.now)
		if err != nil {
			t.Fatal(err)
		}
		var writes [][]Decision
		s, err := NewSink(dc, SinkOptions{Snapshot: snap, Tick: time.Hour,
			WriteSet: func(ds []Decision, _ time.Time) error { writes = append(writes, ds); return nil }})
		if err != nil {
			t.Fatal(err)
		}
		return s, &writes
	}
	s, writes := newSink()
	if len(*writes) != 1 || len((*writes)[0]) != 0 {
		t.Fatalf("start: %v", *writes)
	}
	f := &sink.Finding{Alert: event.Alert{Rule: "auth.brute_force", Severity: event.SeverityHigh, SourceIP: netip.MustParseAddr("203.0.113.5")}, Incident: "i1"}
	if err := s.Write(f); err != nil {
		t.Fatal(err)
	}
	if err := s.Write(f); err != nil { // an update: no change, no rewrite
		t.Fatal(err)
	}
	if len(*writes) != 2 || len((*writes)[1]) != 1 || (*writes)[1][0].Value != "203.0.113.5" {
		t.Fatalf("after a ban: %v", *writes)
	}
	if err := s.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := s.Write(f); err == nil {
		t.Fatal("Write after Close accepted")
	}
	// A restart restores the ban from the snapshot and writes the set.
	s2, writes2 := newSink()
	defer s2.Close(context.Background())
	if len(*writes2) != 1 || len((*writes2)[0]) != 1 {
		t.Fatalf("after restart: %v", *writes2)
	}
	// A corrupt snapshot is an error naming the file.
	os.WriteFile(snap, []byte("{garbage"), 0o600)
	dc, _ := New(DefaultPolicy(), c.now)
	if _, err := NewSink(dc, SinkOptions{Snapshot: snap}); err == nil || !strings.Contains(err.Error(), snap) {
		t.Fatalf("corrupt snapshot: %v", err)
	}
}
