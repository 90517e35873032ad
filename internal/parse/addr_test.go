package parse

import (
	"net/netip"
	"testing"
)

// FuzzParseAddr checks the hand-written address parser against
// net/netip.ParseAddr.
func FuzzParseAddr(f *testing.F) {
	for _, s := range []string{"1.2.3.4", "255.255.255.255", "01.2.3.4", "1.2.3", "1.2.3.4.5", "256.1.1.1",
		"::", "::1", "1::", "2001:db8::1", "2001:db8:0:0:0:0:0:1", "::ffff:1.2.3.4", "::1.2.3.4", "1:2:3:4:5:6:1.2.3.4",
		"1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7::", "::1:2:3:4:5:6:7", "fe80::1%eth0", "fe80::1%", "12345::",
		":1::", "1:::2", "", "1.2.3.4%eth0", "::ffff:1.2.3.4%x", "1:2:3:4:5:6:7:1.2.3.4", "1:", "1:2:3:4:5:6:7:", "::1:",
		"1::2::3", "::ffff:1.2.3", "abcd::g", "1.2.3.4:", "[::1]", "::%eth0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := ParseAddr([]byte(s))
		want, err := netip.ParseAddr(s)
		if (err == nil) != ok {
			t.Fatalf("%q: ok=%v, netip err=%v", s, ok, err)
		}
		if ok && got != want.WithZone("").Unmap() {
			t.Fatalf("%q: %v, netip %v", s, got, want)
		}
	})
}
