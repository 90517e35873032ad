package dns

import (
	"math"
	"strings"

	"golang.org/x/net/publicsuffix"
)

// Per-name features. A name is split into its subdomain part (labels left
// of the registered domain — where tunnels put their payload), the
// registered label (the registered domain minus its public suffix —
// what a DGA generates) and the public suffix.

// Features are the lexical features of one name.
type Features struct {
	Name       string // as given (presentation form)
	Registered string // eTLD+1, lower case
	Sub        string // subdomain part, raw bytes (escapes decoded), "" if none
	Label      string // registered label, lower case

	Len      int     // bytes of the whole name (escapes decoded)
	SubLen   int     // bytes of Sub
	Labels   int     // labels in Sub
	MaxLabel int     // longest label of Sub
	Entropy  float64 // Shannon entropy of Sub's bytes, bits per byte
	SubBits  float64 // surprisal of Sub's labels under the benign character model, bits
	Upper    int     // upper-case letters in Sub
	Digits   int     // digits in Sub
	Special  int     // bytes of Sub outside letters, digits, '-' and a leading '_'
	Mixed    bool    // a Sub label mixes cases (and the registered part does not: not 0x20 randomisation)
	Shape    string  // "hex", "base32", "base64" or "" for Sub's longest label

	LabelBits float64 // surprisal of Label, bits (end marker included)
}

// Analyze computes a name's features with model m.
func Analyze(m *Model, name string) Features {
	f := Features{Name: name}
	raw := unescape(name)
	f.Len = len(raw)
	lower := strings.ToLower(raw)
	reg := registeredOf(lower)
	f.Registered = reg
	ps, _ := publicsuffix.PublicSuffix(reg)
	if len(reg) > len(ps)+1 {
		f.Label = reg[:len(reg)-len(ps)-1]
	} else {
		f.Label = reg
	}
	if len(raw) > len(reg)+1 && strings.HasSuffix(lower, reg) {
		f.Sub = raw[:len(raw)-len(reg)-1]
		regRaw := raw[len(raw)-len(reg):]
		f.subFeatures(m, regRaw)
	}
	bits, _ := m.Surprisal(f.Label)
	f.LabelBits = bits
	return f
}

func registeredOf(lower string) string {
	if lower == "" {
		return ""
	}
	r, err := publicsuffix.EffectiveTLDPlusOne(lower)
	if err != nil {
		// Empty labels ("a..b.example.org", seen in mangled logs):
		// judge by what follows the last one.
		if i := strings.LastIndex(lower, ".."); i >= 0 && i+2 < len(lower) {
			return registeredOf(lower[i+2:])
		}
		return lower
	}
	return r
}

func (f *Features) subFeatures(m *Model, regRaw string) {
	sub := f.Sub
	f.SubLen = len(sub)
	var hist [256]int
	for i := 0; i < len(sub); i++ {
		hist[sub[i]]++
	}
	for _, n := range hist {
		if n > 0 {
			p := float64(n) / float64(len(sub))
			f.Entropy -= p * math.Log2(p)
		}
	}
	regMixed := hasUpper(regRaw)
	longest := ""
	for _, l := range strings.Split(sub, ".") {
		if l == "" {
			continue
		}
		f.Labels++
		if len(l) > f.MaxLabel {
			f.MaxLabel = len(l)
			longest = l
		}
		up, low := 0, 0
		for i := 0; i < len(l); i++ {
			c := l[i]
			switch {
			case c >= 'A' && c <= 'Z':
				up++
			case c >= 'a' && c <= 'z':
				low++
			case c >= '0' && c <= '9':
				f.Digits++
			case c == '-' || (c == '_' && i == 0):
			default:
				f.Special++
			}
		}
		f.Upper += up
		if up > 0 && low > 0 && !regMixed && !(up == 1 && l[0] >= 'A' && l[0] <= 'Z') {
			f.Mixed = true
		}
		b, _ := m.Surprisal(strings.ToLower(l))
		// Bytes outside the model's alphabet all share one symbol;
		// charge them what a random byte costs instead.
		for i := 0; i < len(l); i++ {
			if c := l[i]; symOf[c] == symOther && c != '_' {
				b += 4
			}
		}
		f.SubBits += b
	}
	f.Shape = shape(longest)
}

func hasUpper(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 'A' && s[i] <= 'Z' {
			return true
		}
	}
	return false
}

// shape classifies a label of 16 bytes or more as hex, base32 or base64
// text when all its bytes fit that alphabet and it uses enough of it.
func shape(l string) string {
	if len(l) < 16 {
		return ""
	}
	hex, b32, b64 := true, true, true
	digits, letters, upper, lower := 0, 0, 0, 0
	for i := 0; i < len(l); i++ {
		c := l[i]
		isDigit := c >= '0' && c <= '9'
		isLower := c >= 'a' && c <= 'z'
		isUpper := c >= 'A' && c <= 'Z'
		switch {
		case isDigit:
			digits++
		case isLower:
			letters++
			lower++
		case isUpper:
			letters++
			upper++
		}
		if !(isDigit || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')) {
			hex = false
		}
		if !((c >= '2' && c <= '7') || isLower || isUpper || c == '=') {
			b32 = false
		}
		if !(isDigit || isLower || isUpper || c == '+' || c == '/' || c == '=' || c == '-' || c == '_') {
			b64 = false
		}
	}
	switch {
	case hex && digits > 0 && letters > 0:
		return "hex"
	case b32 && digits > 0 && (upper == 0 || lower == 0):
		return "base32"
	case b64 && upper > 0 && lower > 0 && (digits > 0 || strings.ContainsAny(l, "+/=")):
		return "base64"
	}
	return ""
}

// unescape decodes a presentation-form name's \DDD and \X escapes. Dots
// that were escaped inside a label become bytes that are not '.', so label
// splitting stays right (an escaped dot is counted as a special byte).
func unescape(s string) string {
	if strings.IndexByte(s, '\\') < 0 {
		return s
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' || i+1 >= len(s) {
			b = append(b, c)
			continue
		}
		if i+3 < len(s) && isDigit(s[i+1]) && isDigit(s[i+2]) && isDigit(s[i+3]) {
			v := int(s[i+1]-'0')*100 + int(s[i+2]-'0')*10 + int(s[i+3]-'0')
			if v == '.' {
				v = 0x80 // keep it out of label splitting
			}
			b = append(b, byte(v))
			i += 3
			continue
		}
		i++
		if s[i] == '.' {
			b = append(b, 0x80)
			continue
		}
		b = append(b, s[i])
	}
	return string(b)
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
