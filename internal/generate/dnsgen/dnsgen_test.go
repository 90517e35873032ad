package dnsgen

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestDeterministicAndComplete(t *testing.T) {
	cfg := Config{Seed: 7, Duration: 90 * time.Minute, Clients: 10}
	var a, b bytes.Buffer
	ta, err := WritePcap(&a, cfg)
	if err != nil {
		t.Fatal(err)
	}
	tb, _ := WritePcap(&b, cfg)
	if !bytes.Equal(a.Bytes(), b.Bytes()) || ta.Packets != tb.Packets {
		t.Fatal("same seed, different captures")
	}
	var c bytes.Buffer
	cfg.Seed = 8
	WritePcap(&c, cfg)
	if bytes.Equal(a.Bytes(), c.Bytes()) {
		t.Error("different seeds, same capture")
	}
	if ta.Queries < 1000 || ta.Packets < 2*ta.Queries-200 || len(ta.Attacks) != 3 || ta.TunnelDomain == "" || ta.DGAResolved == "" {
		t.Errorf("truth %+v", ta)
	}
	var z bytes.Buffer
	tz, err := WriteZeek(&z, Config{Seed: 7, Duration: 90 * time.Minute, Clients: 10})
	if err != nil || tz.Queries != ta.Queries || tz.TunnelDomain != ta.TunnelDomain {
		t.Fatalf("zeek truth %+v err %v", tz, err)
	}
	lines := strings.Split(strings.TrimSpace(z.String()), "\n")
	if len(lines) != ta.Queries+9 || !strings.HasPrefix(lines[6], "#fields\tts\tuid") {
		t.Errorf("zeek: %d lines for %d queries; header %q", len(lines), ta.Queries, lines[6])
	}
	// Benign only: no attacks.
	tn, _ := WritePcap(&bytes.Buffer{}, Config{Seed: 1, Duration: time.Hour, NoAttacks: true})
	if len(tn.Attacks) != 0 || tn.TunnelDomain != "" {
		t.Errorf("no attacks: %+v", tn)
	}
}

func TestQueriesScale(t *testing.T) {
	tr, err := WritePcap(&bytes.Buffer{}, Config{Seed: 1, Queries: 20000, Duration: 30 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if tr.Queries < 17000 || tr.Queries > 26000 {
		t.Errorf("%d queries for 20000 asked", tr.Queries)
	}
}
