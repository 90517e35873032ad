package ioc

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"winnow/internal/event"
)

const sample = "# feed\r\n" +
	"203.0.113.7 scanner seen 2026-11-01\r\n" +
	"198.51.100.0/24,bulletproof hosting\r" +
	"2001:db8:bad::/48\n" +
	"::ffff:192.0.2.9\n" +
	"Evil.Example.com.\n" +
	"http://Malware.Example.net:80/drop/x.exe#frag\n" +
	"44D88612FEA8A8F36DE82E1278ABB02F eicar md5\n" +
	"3395856ce81f2b7382dee72602f798b642f14140\n" +
	"275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f\n" +
	"not an indicator!\n" +
	"\n; comment\n"

func build(t *testing.T, good string) *Set {
	t.Helper()
	var b Builder
	if err := b.Add(strings.NewReader(sample), "feed.txt", false); err != nil {
		t.Fatal(err)
	}
	if good != "" {
		if err := b.Add(strings.NewReader(good), "nsrl.txt", true); err != nil {
			t.Fatal(err)
		}
	}
	return b.Build()
}

func TestLoadAndMatch(t *testing.T) {
	s := build(t, `"SHA-1","MD5","CRC32","FileName","FileSize","ProductCode","OpSystemCode","SpecialCode"`+"\n"+
		`"0000002D9D62AEBE1E0E9DB6C4C4C7C16A163D2C","1D6EBB5A789ABD108FF578263E1F40F3","FFFFFFFF","_sfx_0024._p",4109,1337,"358",""`+"\n")
	if s.Len() != 11 {
		t.Fatalf("loaded %d indicators, want 11: %v", s.Len(), s.Counts())
	}
	if n, errs := s.Problems(); n != 1 || !strings.Contains(errs[0].Error(), "feed.txt:11") {
		t.Errorf("problems %d %v", n, errs)
	}
	want := map[Type]int{TypeIP: 2, TypeCIDR: 2, TypeDomain: 1, TypeURL: 1, TypeMD5: 2, TypeSHA1: 2, TypeSHA256: 1}
	for ty, n := range want {
		if s.Counts()[ty] != n {
			t.Errorf("%s: %d, want %d", ty, s.Counts()[ty], n)
		}
	}
	for _, c := range []struct {
		addr string
		want []string
	}{
		{"203.0.113.7", []string{"203.0.113.7"}},
		{"198.51.100.200", []string{"198.51.100.0/24"}},
		{"::ffff:198.51.100.1", []string{"198.51.100.0/24"}},
		{"2001:db8:bad:1::5", []string{"2001:db8:bad::/48"}},
		{"192.0.2.9", []string{"192.0.2.9"}},
		{"203.0.113.8", nil},
		{"198.51.101.1", nil},
	} {
		var got []string
		for _, id := range s.MatchAddr(netip.MustParseAddr(c.addr)) {
			got = append(got, s.Get(id).Value)
		}
		if fmt.Sprint(got) != fmt.Sprint(c.want) {
			t.Errorf("MatchAddr(%s) = %v, want %v", c.addr, got, c.want)
		}
	}
	if ids := s.MatchAddr(netip.MustParseAddr("203.0.113.7")); s.Get(ids[0]).Label != "scanner seen 2026-11-01" || s.Get(ids[0]).Line != 2 {
		t.Errorf("meta = %+v", s.Get(ids[0]))
	}
	for name, n := range map[string]int{"evil.example.com": 1, "a.b.evil.example.com": 1, "example.com": 0, "notevil.example.com": 0} {
		if got := len(s.MatchDomain(name)); got != n {
			t.Errorf("MatchDomain(%s) = %d, want %d", name, got, n)
		}
	}
	if len(s.MatchURL("HTTP://malware.example.net/drop/x.exe")) != 1 || len(s.MatchURL("http://malware.example.net/drop/y.exe")) != 0 {
		t.Error("URL matching")
	}
	if len(s.MatchHash("44d88612fea8a8f36de82e1278abb02f")) != 1 || len(s.MatchHash("0000002d9d62aebe1e0e9db6c4c4c7c16a163d2c")) != 1 {
		t.Error("hash matching")
	}
	if g := s.Get(s.MatchHash("1d6ebb5a789abd108ff578263e1f40f3")[0]); !g.Good || g.Source != "nsrl.txt" {
		t.Errorf("NSRL MD5 = %+v", g)
	}
}

func TestMatchEvent(t *testing.T) {
	s := build(t, "")
	evs := []event.Event{
		{Time: time.Now(), Kind: event.KindAuth, SrcIP: netip.MustParseAddr("198.51.100.3")},
		{Kind: event.KindDNS, SrcIP: netip.MustParseAddr("10.0.0.1"), DNS: &event.DNS{Name: "x.evil.example.com"}},
		{Kind: event.KindHTTP, SrcIP: netip.MustParseAddr("10.0.0.1"), HTTP: &event.HTTP{Site: "malware.example.net", Path: "/drop/x.exe"}},
		{Kind: event.KindAuth, SrcIP: netip.MustParseAddr("10.0.0.1")},
		// Files seen on the wire (Zeek files.log) match by hash.
		{Kind: event.KindFile, SrcIP: netip.MustParseAddr("10.0.0.9"), File: &event.File{SHA1: "3395856ce81f2b7382dee72602f798b642f14140"}},
		// A flow's destination matches.
		{Kind: event.KindFlow, SrcIP: netip.MustParseAddr("10.0.0.1"), DstIP: netip.MustParseAddr("198.51.100.3"), Flow: &event.Flow{}},
	}
	want := []string{"source.ip", "dns.question.name", "url.full", "", "file.hash.sha1", "destination.ip"}
	for i := range evs {
		hits := s.MatchEvent(&evs[i], nil)
		got := ""
		if len(hits) > 0 {
			got = hits[0].Field
		}
		if got != want[i] {
			t.Errorf("event %d: %v, want %s", i, hits, want[i])
		}
	}
}

func FuzzAdd(f *testing.F) {
	f.Add([]byte(sample))
	f.Add([]byte("\"SHA-1\",\"MD5\"\n\"x\",\"y\"\r1.2.3.4/33\n::/0\n*.a.b\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		var b Builder
		if err := b.Add(strings.NewReader(string(data)), "f", false); err != nil {
			return
		}
		s := b.Build()
		for i := int32(0); i < int32(s.Len()); i++ {
			ind := s.Get(i)
			switch ind.Type {
			case TypeIP:
				if len(s.MatchAddr(netip.MustParseAddr(ind.Value))) == 0 {
					t.Fatalf("loaded address %q does not match itself", ind.Value)
				}
			case TypeCIDR:
				if len(s.MatchAddr(netip.MustParsePrefix(ind.Value).Addr())) == 0 {
					t.Fatalf("loaded range %q does not match its base", ind.Value)
				}
			case TypeDomain:
				if len(s.MatchDomain(ind.Value)) == 0 {
					t.Fatalf("loaded domain %q does not match itself", ind.Value)
				}
			case TypeURL:
				if len(s.MatchURL(ind.Value)) == 0 {
					t.Fatalf("loaded URL %q does not match itself", ind.Value)
				}
			}
		}
	})
}

// BenchmarkLoad loads one million indicators (addresses, domains, hashes).
func BenchmarkLoad(b *testing.B) {
	var sb strings.Builder
	for i := 0; i < 1_000_000; i++ {
		switch i % 3 {
		case 0:
			fmt.Fprintf(&sb, "%d.%d.%d.%d\n", 1+i>>24&0x7f, i>>16&0xff, i>>8&0xff, i&0xff)
		case 1:
			fmt.Fprintf(&sb, "host%d.bad%d.example\n", i, i%1000)
		default:
			fmt.Fprintf(&sb, "%064x\n", i)
		}
	}
	data := sb.String()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		var bl Builder
		if err := bl.Add(strings.NewReader(data), "big", false); err != nil {
			b.Fatal(err)
		}
		if s := bl.Build(); s.Len() != 1_000_000 {
			b.Fatal(s.Len())
		}
	}
	b.ReportMetric(1e6*float64(b.N)/b.Elapsed().Seconds(), "indicators/s")
}

// BenchmarkMatchEvent is the per-event cost of matching a DNS event (a
// miss, the common case) against a set of 300k indicators.
func BenchmarkMatchEvent(b *testing.B) {
	var sb strings.Builder
	for i := 0; i < 300_000; i++ {
		fmt.Fprintf(&sb, "10.%d.%d.%d\nbad%d.example\n", i>>16&0xff, i>>8&0xff, i&0xff, i)
	}
	var bl Builder
	_ = bl.Add(strings.NewReader(sb.String()+"192.0.2.0/24\n"), "f", false)
	s := bl.Build()
	ev := event.Event{Kind: event.KindDNS, SrcIP: netip.MustParseAddr("172.16.5.4"), DNS: &event.DNS{Name: "www.a.b.example.org"}}
	var hits []Hit
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		hits = s.MatchEvent(&ev, hits[:0])
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}
