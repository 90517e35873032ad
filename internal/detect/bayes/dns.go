package bayes

import (
	"strings"

	"golang.org/x/net/publicsuffix"

	"winnow/internal/event"
)

// DNS token classes: the shapes of a name's labels (left of the registered
// domain), their lengths and character bigrams, the registered domain and
// its public suffix, the query type and response code.
const (
	DNSShape      Class = 1 + iota // position and shape of a label: "0:a9a" (0 = leftmost)
	DNSLabelLen                    // position and length bucket of a label
	DNSLabels                      // number of labels left of the registered domain
	DNSNameLen                     // length bucket of the whole name
	DNSRegistered                  // registered domain: "example.com"
	DNSSuffix                      // public suffix: "co.uk"
	DNSType                        // query type: "TXT"
	DNSRCode                       // response code: "NXDOMAIN"
	DNSBigram                      // lower-cased bigram of the leftmost labels, digits folded
	DNSCharset                     // character set of the subdomain: "lower+digit", "mixed-case", "hex", "base32"...
	DNSLabel                       // a label left of the registered domain
	dnsClasses
)

var dnsClassNames = [...]string{"", "label-shape", "label-length", "labels", "name-length", "registered", "suffix",
	"qtype", "rcode", "bigram", "charset", "label"}

// maxDNSLabels caps the labels tokenised per name.
const maxDNSLabels = 16

// DNS adds the tokens of a DNS event (its question) to t.
func (t *Tokens) DNS(ev *event.Event) {
	if ev.DNS == nil {
		return
	}
	t.DNSName(ev.DNS.Name, ev.DNS.Registered)
	if ev.DNS.QType != "" {
		t.addS(DNSType, ev.DNS.QType)
	}
	if ev.DNS.RCode != "" {
		t.addS(DNSRCode, ev.DNS.RCode)
	}
}

// DNSName adds the tokens of a query name; registered may be "" (it is then
// computed from the Public Suffix List).
func (t *Tokens) DNSName(name, registered string) {
	name = strings.TrimSuffix(name, ".")
	for i := 0; i < len(name); i++ {
		if c := name[i]; c >= 'A' && c <= 'Z' {
			name = strings.ToLower(name) // rare: parsers lower-case names
			break
		}
	}
	if registered == "" {
		if r, err := publicsuffix.EffectiveTLDPlusOne(name); err == nil {
			registered = r
		} else {
			registered = name
		}
	}
	t.addS(DNSRegistered, registered)
	if ps, _ := publicsuffix.PublicSuffix(registered); ps != "" {
		t.addS(DNSSuffix, ps)
	}
	t.addBN(DNSNameLen, nil, 0, lengthBucket(len(name)))
	sub := strings.TrimSuffix(strings.TrimSuffix(name, registered), ".")
	n := 0
	var upper, lower, digit, other bool
	for i := 0; sub != "" && n < maxDNSLabels; i++ {
		lab := sub
		if dot := strings.IndexByte(sub, '.'); dot >= 0 {
			lab, sub = sub[:dot], sub[dot+1:]
		} else {
			sub = ""
		}
		n++
		t.raw = append(t.raw[:0], lab...)
		var sh [maxShape + 1]byte
		pos := [1]byte{byte('0' + min(i, 9))}
		t.addBB(DNSShape, pos[:], ':', appendShape(sh[:0], t.raw))
		t.addBN(DNSLabelLen, pos[:], ':', lengthBucket(len(lab)))
		if len(lab) <= 63 {
			t.addB(DNSLabel, t.raw)
		}
		for k := 0; k < len(lab); k++ {
			c := lab[k]
			switch {
			case c >= 'a' && c <= 'z':
				lower = true
			case c >= 'A' && c <= 'Z':
				upper = true
			case c >= '0' && c <= '9':
				digit = true
			default:
				other = true
			}
			if k+1 < len(lab) {
				a, b := fold(c), fold(lab[k+1])
				t.add(DNSBigram, hashByte(hashByte(hashStart(DNSBigram), a), b), func() string { return string([]byte{a, b}) })
			}
		}
	}
	t.addBN(DNSLabels, nil, 0, n)
	cs := "none"
	switch {
	case n == 0:
	case other:
		cs = "symbols"
	case upper && lower:
		cs = "mixed-case"
	case digit && (lower || upper):
		cs = "alnum"
	case digit:
		cs = "digits"
	default:
		cs = "letters"
	}
	t.addS(DNSCharset, cs)
}

func fold(c byte) byte {
	switch {
	case c >= 'A' && c <= 'Z':
		return c + 'a' - 'A'
	case c >= '0' && c <= '9':
		return '0'
	}
	return c
}
