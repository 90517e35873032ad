package authlog

import "bytes"

// Small allocation-free helpers over []byte with string literals. Comparing
// string(b) == s does not allocate.

func hasPrefix(b []byte, s string) bool {
	return len(b) >= len(s) && string(b[:len(s)]) == s
}

func hasSuffix(b []byte, s string) bool {
	return len(b) >= len(s) && string(b[len(b)-len(s):]) == s
}

func trimPrefix(b []byte, s string) ([]byte, bool) {
	if hasPrefix(b, s) {
		return b[len(s):], true
	}
	return b, false
}

func trimSuffix(b []byte, s string) []byte {
	if hasSuffix(b, s) {
		return b[:len(b)-len(s)]
	}
	return b
}

// index returns the first index of s in b, or -1.
func index(b []byte, s string) int {
	n := len(s)
	if n == 0 {
		return 0
	}
	c := s[0]
	for i := 0; i+n <= len(b); {
		j := bytes.IndexByte(b[i:len(b)-n+1], c)
		if j < 0 {
			return -1
		}
		i += j
		if string(b[i:i+n]) == s {
			return i
		}
		i++
	}
	return -1
}

// lastIndex returns the last index of s in b, or -1.
func lastIndex(b []byte, s string) int {
	n := len(s)
	if n == 0 {
		return len(b)
	}
	c := s[0]
	end := len(b) - n + 1 // candidates are < end
	for end > 0 {
		j := bytes.LastIndexByte(b[:end], c)
		if j < 0 {
			return -1
		}
		if string(b[j:j+n]) == s {
			return j
		}
		end = j
	}
	return -1
}

// cut splits b around the first s.
func cut(b []byte, s string) (before, after []byte, ok bool) {
	if i := index(b, s); i >= 0 {
		return b[:i], b[i+len(s):], true
	}
	return b, nil, false
}

// cutLast splits b around the last s.
func cutLast(b []byte, s string) (before, after []byte, ok bool) {
	if i := lastIndex(b, s); i >= 0 {
		return b[:i], b[i+len(s):], true
	}
	return b, nil, false
}

// token returns b up to the first space (or all of b) and the rest from
// that space on.
func token(b []byte) (tok, rest []byte) {
	if i := bytes.IndexByte(b, ' '); i >= 0 {
		return b[:i], b[i:]
	}
	return b, nil
}

func trimSpaceLeft(b []byte) []byte {
	for len(b) > 0 && b[0] == ' ' {
		b = b[1:]
	}
	return b
}

// atoiPrefix parses the decimal digits at the start of b (at most 9) and
// returns the value and how many bytes it used; n == 0 when b does not
// start with a digit.
func atoiPrefix(b []byte) (v, n int) {
	for n < len(b) && n < 9 && b[n] >= '0' && b[n] <= '9' {
		v = v*10 + int(b[n]-'0')
		n++
	}
	return v, n
}

// portPrefix parses a TCP/UDP port at the start of b.
func portPrefix(b []byte) (uint16, int, bool) {
	v, n := atoiPrefix(b)
	if n == 0 || n > 5 || v > 65535 {
		return 0, 0, false
	}
	return uint16(v), n, true
}

// quoted returns the first value quoted as 'x', `x' or "x" in b.
func quoted(b []byte) []byte {
	for i, c := range b {
		if c != '\'' && c != '`' && c != '"' {
			continue
		}
		closer := c
		if c == '`' {
			closer = '\''
		}
		if j := bytes.IndexByte(b[i+1:], closer); j >= 0 {
			return b[i+1 : i+1+j]
		}
		return nil
	}
	return nil
}

// upTo returns b up to the first occurrence of c (or all of b).
func upTo(b []byte, c byte) []byte {
	if i := bytes.IndexByte(b, c); i >= 0 {
		return b[:i]
	}
	return b
}
