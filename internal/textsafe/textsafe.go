// Package textsafe makes attacker-controlled text (log lines, user names,
// user agents, URLs) safe to print on a terminal.
//
// Log text is written by whoever sent the request or typed the user name: an
// ESC sequence in it can clear the screen, erase a finding's line, set the
// window title or forge an OSC 8 hyperlink when a report is printed raw.
// Every human-readable output (text report, hunt, replay, summaries) passes
// such text through Terminal. JSON output needs no escaping here: the
// encoder already escapes control characters.
package textsafe

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// Terminal returns s with every byte or rune a terminal would interpret
// replaced by a visible escape: C0 controls (including ESC, BEL, CR and LF)
// and DEL as \xNN, C1 controls and Unicode bidirectional overrides
// (which reorder what is shown) as \u{NNNN}, and invalid UTF-8 bytes as
// \xNN. A backslash is left as is. Printable text, including non-ASCII,
// is returned unchanged, and when nothing needs escaping s itself is
// returned without allocating.
func Terminal(s string) string {
	i := firstUnsafe(s)
	if i < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	b.WriteString(s[:i])
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			writeHex(&b, s[i])
		case r < 0x20 || r == 0x7f:
			writeHex(&b, byte(r))
		case unsafeRune(r):
			b.WriteString(`\u{`)
			b.WriteString(strconv.FormatInt(int64(r), 16))
			b.WriteByte('}')
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// firstUnsafe returns the index of the first byte of s that Terminal would
// escape, or -1.
func firstUnsafe(s string) int {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c < 0x20 || c == 0x7f {
				return i
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && size == 1) || unsafeRune(r) {
			return i
		}
		i += size
	}
	return -1
}

// unsafeRune reports runes above ASCII that change how a terminal shows
// text: C1 controls (0x80–0x9f; 0x9b is a one-byte CSI on some terminals)
// and the bidirectional embedding, override and isolate marks.
func unsafeRune(r rune) bool {
	return (r >= 0x80 && r <= 0x9f) || (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069) ||
		r == 0x200e || r == 0x200f || r == 0x061c
}

func writeHex(b *strings.Builder, c byte) {
	const hex = "0123456789abcdef"
	b.WriteString(`\x`)
	b.WriteByte(hex[c>>4])
	b.WriteByte(hex[c&0xf])
}
