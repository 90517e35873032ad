package access

import (
	"bytes"
	"net/url"
	"testing"
	"unicode/utf8"
)

func TestDecode(t *testing.T) {
	for _, tc := range []struct {
		in    string
		query bool
		want  string
	}{
		{"/plain/path.html", false, "/plain/path.html"},
		{"/a%20b", false, "/a b"},
		{"/a+b", false, "/a+b"},                   // '+' is literal in a path
		{"q=a+b", true, "q=a b"},                  // and a space in a query
		{"q=a%2Bb", true, "q=a+b"},                // an encoded '+' stays a '+'
		{"q=a%252Bb", true, "q=a+b"},              // even when double encoded
		{"%2527", false, "'"},                     // double encoding
		{"%25252527", false, "'"},                 // four layers: the limit
		{"%2525252527", false, "%27"},             // five: one layer is kept
		{"%u0027%u003c", false, "'<"},             // IIS %u
		{"%u2215", false, "/"},                    // division slash
		{"%uFF1Cscript%uFF1E", false, "<script>"}, // full-width
		{"%c0%ae%c0%ae%c0%af", false, "../"},      // overlong UTF-8
		{"%e0%80%ae", false, "."},                 // three-byte overlong
		{"%C3%A9t%C3%A9", false, "été"},           // real UTF-8 is kept
		{"%zz%2%", false, "%zz%2%"},               // invalid escapes are kept
		{"%", false, "%"},
		{"%u12", false, "%u12"},
		{"%ud800", false, "\uFFFD"},         // a lone surrogate
		{`\"x\"`, false, `"x"`},             // Apache's log escapes
		{`\x22x\x5C`, false, `"x\`},         // nginx's
		{`\x2`, false, `\x2`},               // a broken log escape
		{`a\`, false, `a\`},                 // a trailing backslash
		{"%00", false, "\x00"},              // null bytes are revealed
		{"passwd%2500", true, "passwd\x00"}, // double-encoded null
		{`\x25\x32\x37`, false, "'"},        // a logged escape that hides an escape
		{"%252e%252e%252f", false, "../"},
	} {
		if got := Decode(tc.in, tc.query); got != tc.want {
			t.Errorf("Decode(%q, %v) = %q, want %q", tc.in, tc.query, got, tc.want)
		}
	}
}

// TestDecodeAgreesWithNetURL: on one layer of valid escapes without
// overlong forms, Decode agrees with the standard library.
func TestDecodeAgreesWithNetURL(t *testing.T) {
	for _, s := range []string{"a%20b+c", "%41%42%43", "x=%E2%82%AC&y=%2F", "%3Cscript%3E"} {
		want, err := url.QueryUnescape(s)
		if err != nil {
			t.Fatal(err)
		}
		if got := Decode(s, true); got != want {
			t.Errorf("Decode(%q) = %q, net/url says %q", s, got, want)
		}
	}
}

func TestDecodeNoAlloc(t *testing.T) {
	s := "/products/blue-shirt.html"
	if n := testing.AllocsPerRun(100, func() { _ = Decode(s, true) }); n != 0 {
		t.Errorf("Decode of a plain string allocates %.1f times", n)
	}
	buf := make([]byte, 0, 256)
	src := []byte("/a%2520b%u0041")
	if n := testing.AllocsPerRun(100, func() { buf = AppendDecode(buf[:0], src, false) }); n != 0 {
		t.Errorf("AppendDecode into a large enough buffer allocates %.1f times", n)
	}
}

// FuzzDecode: no panics; the output is never longer than the input (so
// in-place rounds are safe) except where %uXXXX expands; decoding is
// idempotent once no escape is left; valid UTF-8 without escapes or
// overlong forms is unchanged.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{"%2527", "%u0027", "%c0%ae", `\x22`, "a+b", "%%%", "%u%u12", "\xc0", "\xef\xbc\x9c"} {
		f.Add(s, false)
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, s string, query bool) {
		got := Decode(s, query)
		if len(got) > len(s)+len(s)/2 {
			t.Fatalf("Decode(%q) grew to %q", s, got)
		}
		app := AppendDecode([]byte("prefix"), []byte(s), query)
		if !bytes.Equal(app[:6], []byte("prefix")) || string(app[6:]) != got {
			t.Fatalf("AppendDecode disagrees with Decode on %q: %q vs %q", s, app[6:], got)
		}
		if !needsDecode(s, query) && got != s {
			t.Fatalf("Decode changed %q to %q without anything to decode", s, got)
		}
		if utf8.ValidString(s) && !needsDecode(s, query) && got != s {
			t.Fatalf("valid plain string changed")
		}
	})
}
