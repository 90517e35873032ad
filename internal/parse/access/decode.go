package access

import (
	"unicode/utf8"
)

// MaxDecodeRounds bounds how many times percent-decoding is repeated: a
// value encoded more often than this ("%25252527") keeps its remaining
// layers (real clients never encode twice; attackers do, to slip past a
// filter that decodes once).
const MaxDecodeRounds = 4

// Decode returns s with the encodings an attacker uses to hide a payload
// undone, for matching (never for display):
//
//  1. The access log's own escapes are undone first, because they stand for
//     the raw bytes the client sent: \" → ", \\ → \, \xHH → the byte
//     (Apache and nginx write control bytes, quotes and non-ASCII this way).
//  2. If query is true, '+' becomes a space (form encoding); only in the
//     text as sent, so a "+" that was sent as %2B stays a '+'.
//  3. %XX is decoded, and repeated while the text changes and still holds a
//     valid escape (double encoding: %2527 → %27 → '), at most
//     MaxDecodeRounds times. IIS's %uXXXX (and a %u escape revealed by an
//     earlier round) is decoded to UTF-8. Invalid escapes are kept as they
//     are.
//  4. Overlong UTF-8 encodings of ASCII (C0 AE and E0 80 AE for '.', C0 AF
//     for '/'), full-width ASCII (U+FF01–U+FF5E, e.g. %uFF0E) and the
//     slashes IIS once accepted (U+2215, U+2216) become the ASCII byte they
//     imitate.
//
// Decode does not allocate when there is nothing to decode: it returns s.
func Decode(s string, query bool) string {
	if !needsDecode(s, query) {
		return s
	}
	return string(AppendDecode(nil, []byte(s), query))
}

// needsDecode reports whether s holds anything Decode would change.
func needsDecode(s string, query bool) bool {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '%' || c == '\\' || c >= 0x80:
			return true
		case c == '+' && query:
			return true
		}
	}
	return false
}

func needsDecodeBytes(b []byte, query bool) bool {
	for _, c := range b {
		switch {
		case c == '%' || c == '\\' || c >= 0x80:
			return true
		case c == '+' && query:
			return true
		}
	}
	return false
}

// AppendDecode appends the decoded form of src (see Decode) to dst and
// returns the extended slice. It allocates only to grow dst.
func AppendDecode(dst, src []byte, query bool) []byte {
	start := len(dst)
	// Round 1: log escapes, '+', one layer of percent escapes.
	dst = decodeOnce(dst, src, query, true)
	// Further rounds while a valid escape remains. Decoding in place is
	// safe: the output is never longer than the input.
	for r := 1; r < MaxDecodeRounds && hasEscape(dst[start:]); r++ {
		n := decodeInPlace(dst[start:])
		dst = dst[:start+n]
	}
	n := foldASCII(dst[start:])
	return dst[:start+n]
}

// decodeOnce appends src with one layer of escapes decoded.
func decodeOnce(dst, src []byte, query, logEscapes bool) []byte {
	for i := 0; i < len(src); i++ {
		c := src[i]
		switch {
		case c == '\\' && logEscapes && i+1 < len(src):
			switch d := src[i+1]; d {
			case '"', '\\':
				dst = append(dst, d)
				i++
				continue
			case 'x':
				if i+3 < len(src) {
					if h, ok := unhex2(src[i+2], src[i+3]); ok {
						dst = append(dst, h)
						i += 3
						continue
					}
				}
			}
			dst = append(dst, c)
		case c == '+' && query:
			dst = append(dst, ' ')
		case c == '%':
			if v, n := percent(src[i:]); n > 0 {
				if n == 3 {
					dst = append(dst, byte(v))
				} else {
					dst = utf8.AppendRune(dst, v)
				}
				i += n - 1
				continue
			}
			dst = append(dst, c)
		default:
			dst = append(dst, c)
		}
	}
	return dst
}

// decodeInPlace decodes one layer of percent escapes in b and returns the
// new length.
func decodeInPlace(b []byte) int {
	w := 0
	var tmp [utf8.UTFMax]byte
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c == '%' {
			if v, n := percent(b[i:]); n > 0 {
				if n == 3 {
					b[w] = byte(v)
					w++
				} else {
					k := utf8.EncodeRune(tmp[:], v)
					copy(b[w:], tmp[:k]) // k ≤ 4 < n = 6: never overtakes the reader
					w += k
				}
				i += n - 1
				continue
			}
		}
		b[w] = c
		w++
	}
	return w
}

// percent decodes the escape at the start of b ("%XX" or "%uXXXX"): the
// value and the escape's length, or n = 0 if b does not start with a
// valid escape.
func percent(b []byte) (v rune, n int) {
	if len(b) >= 6 && (b[1] == 'u' || b[1] == 'U') {
		h1, ok1 := unhex2(b[2], b[3])
		h2, ok2 := unhex2(b[4], b[5])
		if ok1 && ok2 {
			r := rune(h1)<<8 | rune(h2)
			if r >= 0xD800 && r <= 0xDFFF {
				r = utf8.RuneError
			}
			return r, 6
		}
	}
	if len(b) >= 3 {
		if h, ok := unhex2(b[1], b[2]); ok {
			return rune(h), 3
		}
	}
	return 0, 0
}

// hasEscape reports whether b holds a valid percent escape.
func hasEscape(b []byte) bool {
	for i := 0; i < len(b); i++ {
		if b[i] == '%' {
			if _, n := percent(b[i:]); n > 0 {
				return true
			}
		}
	}
	return false
}

// foldASCII rewrites, in place, overlong UTF-8 encodings of ASCII and
// full-width ASCII forms to the ASCII byte, and returns the new length.
func foldASCII(b []byte) int {
	w := 0
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c < 0xC0 {
			b[w] = c
			w++
			continue
		}
		// C0/C1 xx: a two-byte overlong form of 0x00–0x7F.
		if (c == 0xC0 || c == 0xC1) && i+1 < len(b) && b[i+1]&0xC0 == 0x80 {
			b[w] = (c&0x1F)<<6 | b[i+1]&0x3F
			w++
			i++
			continue
		}
		// E0 80–81 xx: a three-byte overlong form of 0x00–0x7F.
		if c == 0xE0 && i+2 < len(b) && (b[i+1] == 0x80 || b[i+1] == 0x81) && b[i+2]&0xC0 == 0x80 {
			b[w] = (b[i+1]&0x3F)<<6 | b[i+2]&0x3F
			w++
			i += 2
			continue
		}
		// EF BC 81 – EF BD 9E: full-width U+FF01–U+FF5E → 0x21–0x7E.
		if c == 0xEF && i+2 < len(b) && (b[i+1] == 0xBC || b[i+1] == 0xBD) && b[i+2]&0xC0 == 0x80 {
			r := rune(c&0x0F)<<12 | rune(b[i+1]&0x3F)<<6 | rune(b[i+2]&0x3F)
			if r >= 0xFF01 && r <= 0xFF5E {
				b[w] = byte(r - 0xFEE0)
				w++
				i += 2
				continue
			}
		}
		// E2 88 95 / E2 88 96: U+2215 DIVISION SLASH and U+2216 SET MINUS,
		// which IIS once normalised to '/' and '\\'.
		if c == 0xE2 && i+2 < len(b) && b[i+1] == 0x88 && (b[i+2] == 0x95 || b[i+2] == 0x96) {
			b[w] = '/'
			if b[i+2] == 0x96 {
				b[w] = '\\'
			}
			w++
			i += 2
			continue
		}
		b[w] = c
		w++
	}
	return w
}

func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

func unhex2(a, b byte) (byte, bool) {
	h, ok1 := unhex(a)
	l, ok2 := unhex(b)
	return h<<4 | l, ok1 && ok2
}
