package textsafe

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestTerminal(t *testing.T) {
	f := func(in, want string) {
		t.Helper()
		if got := Terminal(in); got != want {
			t.Errorf("Terminal(%q) = %q, want %q", in, got, want)
		}
	}
	f("", "")
	f("root", "root")
	f("Mozilla/5.0 (X11; Linux x86_64)", "Mozilla/5.0 (X11; Linux x86_64)")
	f("müller ünïcödé 日本", "müller ünïcödé 日本")
	f("a\\b", "a\\b")
	f("\x1b[2J", `\x1b[2J`)
	f("x\x1b[1A\x1b[2Ky", `x\x1b[1A\x1b[2Ky`)
	f("\x1b]8;;http://evil\x07click\x1b]8;;\x07", `\x1b]8;;http://evil\x07click\x1b]8;;\x07`)
	f("a\rb\nc\td", `a\x0db\x0ac\x09d`)
	f("del\x7f", `del\x7f`)
	f("c1\u009bX", `c1\u{9b}X`)
	f("bidi\u202egnp.exe", `bidi\u{202e}gnp.exe`)
	f("bad\xffutf8\xc3", `bad\xffutf8\xc3`)
}

func TestTerminalNoAlloc(t *testing.T) {
	s := strings.Repeat("clean text ", 10)
	if n := testing.AllocsPerRun(100, func() { _ = Terminal(s) }); n != 0 {
		t.Fatalf("clean input allocated %v times", n)
	}
}

func FuzzTerminal(f *testing.F) {
	for _, s := range []string{"", "plain", "\x1b[31mred", "\xff\xfe", "\u202e", "日本\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := Terminal(s)
		if !utf8.ValidString(out) {
			t.Fatalf("output not valid UTF-8: %q", out)
		}
		for _, r := range out {
			if r < 0x20 || r == 0x7f || unsafeRune(r) {
				t.Fatalf("unsafe rune %U left in %q", r, out)
			}
		}
		if Terminal(out) != out {
			t.Fatalf("escaping is not idempotent on its output: %q", out)
		}
		if firstUnsafe(s) < 0 && out != s {
			t.Fatalf("clean input changed: %q -> %q", s, out)
		}
	})
}
