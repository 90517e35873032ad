package bayes

import "bytes"

// Tokens that describe a parameter value by what it is made of rather than
// what it says, so that they carry to values never seen in training: a
// login name of letters and digits is a login name whatever the name is,
// and one holding "*" or "')" is not. Each is keyed by the parameter name,
// so the filter learns each parameter's character repertoire and local
// structure from the good traffic; a class never seen in a parameter falls
// to the unknown-token prior of its class, which training learns (novelty
// here mostly comes from attacks).

// foldClass maps a byte to its class letter in value profiles: lower-case
// ASCII 'a', upper-case 'A', digit '9', non-ASCII 'e', blank ' ', control
// '^', any other byte itself.
func foldClass(c byte) byte {
	switch {
	case c >= 'a' && c <= 'z':
		return 'a'
	case c >= 'A' && c <= 'Z':
		return 'A'
	case c >= '0' && c <= '9':
		return '9'
	case c >= 0x80:
		return 'e'
	case c == ' ' || c == '\t':
		return ' '
	case c < 0x20 || c == 0x7f:
		return '^'
	}
	return c
}

// maxProfile caps the value bytes a profile reads; maxClasses caps the
// distinct classes it reports.
const (
	maxProfile = 512
	maxClasses = 64
)

// valueProfile adds the parameter's character-class tokens (each class or
// symbol present, with its count bucketed 1, 2, 3+) and the bigrams of the
// value's class string, with ^ and $ marking its ends.
func (t *Tokens) valueProfile(name, v []byte) {
	if len(v) > maxProfile {
		v = v[:maxProfile]
	}
	var count [256]uint8
	var seen [maxClasses]byte // the classes present, in order of appearance
	ns := 0
	for _, c := range v {
		k := foldClass(c)
		if count[k] == 0 && ns < maxClasses {
			seen[ns] = k
			ns++
		}
		if count[k] < 3 {
			count[k]++
		}
	}
	for _, kb := range seen[:ns] {
		n := count[kb]
		if kb == 'a' || kb == 'A' || kb == '9' || kb == 'e' {
			n = 1 // letters and digits: presence only
		}
		h := hashByte(hashByte(hashByte(hashBytes(hashStart(HTTPParamChar), name), 0), kb), '0'+n)
		t.add(HTTPParamChar, h, func() string { return string(name) + "∋" + string(kb) + string(rune('0'+n)) })
	}
	prev := byte('^')
	for i := 0; i <= len(v); i++ {
		cur := byte('$')
		if i < len(v) {
			cur = foldClass(v[i])
		}
		if cur == prev && (cur == 'a' || cur == 'A' || cur == '9' || cur == 'e') {
			continue // runs: "aa" carries nothing "a" does not
		}
		p := prev
		h := hashByte(hashByte(hashByte(hashBytes(hashStart(HTTPParamGram), name), 0), p), cur)
		t.add(HTTPParamGram, h, func() string { return string(name) + ":" + string(p) + string(cur) })
		prev = cur
	}
}

// Payload classes: fragments of attack syntax in a decoded, lower-cased
// value, specific enough that prose and ordinary form values rarely hold
// them (a bare " or ", ";" or "<" is not one; the symbols of a value are
// tokens of their own anyway). Each class found is one token, and the
// first fragment that matched another, so the filter learns how much a
// class says from the training traffic.
var payloadClasses = compilePayloads([]struct {
	name  string
	frags []string
}{
	{"sql", []string{"union select", "union all select", "' or", "\" or", "or 1=1", "' and", "'='", "'--", "' --", "--+",
		"/*", "*/", "insert into", "drop table", "delete from", "exec(", "exec xp_", "xp_cmdshell", "waitfor delay",
		"sleep(", "benchmark(", "char(", "concat(", "@@version", "information_schema", "';", "' ;", " having 1", "order by 1"}},
	{"xss", []string{"<script", "</script", "javascript:", "vbscript:", "onerror=", "onload=", "onmouseover=", "onfocus=",
		"<img ", "<iframe", "<svg", "<body", "alert(", "document.cookie", "eval(", "expression(", "fromcharcode(", "<a href"}},
	{"traversal", []string{"../", "..\\", "/etc/passwd", "/etc/shadow", "boot.ini", "win.ini", "c:\\windows", "%00"}},
	{"command", []string{"$(", "&&", ";ls", "; ls", ";cat ", "; cat ", "/bin/sh", "/bin/bash", "cmd.exe", "rm -rf",
		"wget http", "curl http", "nc -e", ";id", "; id"}},
	{"crlf", []string{"\r", "\n"}},
	{"ssi", []string{"<!--#", "#exec", "#include"}},
	{"filter", []string{"*)(", ")(|", "(|(", "(&(", "*))"}},
})

// payloadClass is a compiled payload class: each fragment with the mask
// of the non-letter bytes it holds, so that a value lacking one of them
// is not searched for it.
type payloadClass struct {
	name  string
	frags []payloadFrag
}

type payloadFrag struct {
	text  []byte
	token string // "class:fragment"
	need  byteSet
}

// byteSet is a set of bytes.
type byteSet [4]uint64

func (s *byteSet) add(c byte) { s[c>>6] |= 1 << (c & 63) }
func (s *byteSet) covers(o *byteSet) bool {
	return s[0]&o[0] == o[0] && s[1]&o[1] == o[1] && s[2]&o[2] == o[2] && s[3]&o[3] == o[3]
}

func compilePayloads(in []struct {
	name  string
	frags []string
}) []payloadClass {
	out := make([]payloadClass, len(in))
	for i, pc := range in {
		out[i].name = pc.name
		for _, f := range pc.frags {
			pf := payloadFrag{text: []byte(f), token: pc.name + ":" + f}
			for j := 0; j < len(f); j++ {
				if c := f[j]; !(c >= 'a' && c <= 'z') {
					pf.need.add(c)
				}
			}
			out[i].frags = append(out[i].frags, pf)
		}
	}
	return out
}

// payloads adds a token per payload class found in v, and one for a
// value long enough to be an overflow attempt.
func (t *Tokens) payloads(v []byte) {
	if len(v) > maxProfile {
		t.addS(HTTPPayload, "long")
		v = v[:maxProfile]
	}
	if alnum(v) {
		return // every fragment holds a symbol or a blank
	}
	var low [maxProfile]byte
	l := lowerASCII(low[:0], v)
	var has byteSet
	for _, c := range l {
		has.add(c)
	}
	for i := range payloadClasses {
		pc := &payloadClasses[i]
		for j := range pc.frags {
			f := &pc.frags[j]
			if has.covers(&f.need) && bytes.Contains(l, f.text) {
				t.addS(HTTPPayload, pc.name)
				t.addS(HTTPPayload, f.token)
				break
			}
		}
	}
	if bytes.IndexByte(v, 0) >= 0 {
		t.addS(HTTPPayload, "nul")
	}
}

// alnum reports whether v holds only ASCII letters and digits.
func alnum(v []byte) bool {
	for _, c := range v {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}
