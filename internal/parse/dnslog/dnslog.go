// Package dnslog parses DNS logs written by other tools: Zeek's dns.log
// (TSV with its #fields header, and JSON), tshark field exports, and plain
// lists of names (one per line). Each line becomes one DNS event (see
// event.DNS); the packet-capture decoder is package dnspcap.
//
// Formats (names for --input-format):
//
//	zeek-dns       Zeek dns.log, tab-separated, with the #separator/#fields header
//	zeek-dns-json  Zeek dns.log as JSON lines (LogAscii::use_json=T); ts as epoch or ISO 8601
//	tshark-dns     a tshark field export with a header line (the command is TsharkCommand)
//	dns-names      plain names, one per line; in a CSV line the last field is the name
//
// Zeek and tshark record no message sizes: QuerySize and RespSize are
// estimated from the name and answers (SizeEstimated). A Zeek record
// without a response (rcode "-", no answers) is an unanswered query
// (OrphanUnanswered); Zeek writes it after its own timeout. tshark exports
// one line per packet: queries become ActDNSQuery events and responses
// ActDNSResponse events (matching them would need buffering that a line
// parser does not do; the detectors take both). Plain name lists have no
// times or clients: every name is stamped with the file's modification
// time and has no source address, so only per-domain detectors apply.
package dnslog

import (
	"bytes"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/miekg/dns"

	"winnow/internal/event"
	"winnow/internal/parse"
	"winnow/internal/parse/dnspcap"
)

// Formats returns the DNS log formats in sniffing priority order.
func Formats() []parse.Format {
	return []parse.Format{ZeekFormat(), ZeekJSONFormat(), TsharkFormat(), NamesFormat()}
}

// normName strips a trailing dot (and surrounding blanks).
func normName(s string) string {
	s = strings.TrimSpace(s)
	if len(s) > 1 {
		s = strings.TrimSuffix(s, ".")
	}
	if s == "." {
		return ""
	}
	return s
}

// registered is the registered domain of a name in any case.
func registered(name string) string {
	for i := 0; i < len(name); i++ {
		if c := name[i]; 'A' <= c && c <= 'Z' {
			return dnspcap.Registered(strings.ToLower(name))
		}
	}
	return dnspcap.Registered(name)
}

// qtypeOf maps a type given as a name ("TXT") or number ("16").
func qtypeOf(s string) (string, uint16) {
	if s == "" || s == "-" {
		return "", 0
	}
	if n, err := strconv.Atoi(s); err == nil && n >= 0 && n < 65536 {
		if name, ok := dns.TypeToString[uint16(n)]; ok {
			return name, uint16(n)
		}
		return "TYPE" + s, uint16(n)
	}
	u := strings.ToUpper(s)
	if n, ok := dns.StringToType[u]; ok {
		return u, n
	}
	if strings.HasPrefix(u, "TYPE") {
		if n, err := strconv.Atoi(u[4:]); err == nil && n >= 0 && n < 65536 {
			return u, uint16(n)
		}
	}
	return u, 0
}

// rcodeOf maps a response code given as a name or number.
func rcodeOf(s string) string {
	if s == "" || s == "-" {
		return ""
	}
	if n, err := strconv.Atoi(s); err == nil {
		if name, ok := dns.RcodeToString[n]; ok {
			return name
		}
		return "RCODE" + s
	}
	return strings.ToUpper(s)
}

// epoch parses "1591367999.305988" (seconds with a fraction).
func epoch(s string) (time.Time, bool) {
	sec, frac, _ := strings.Cut(s, ".")
	n, err := strconv.ParseInt(sec, 10, 64)
	if err != nil || sec == "" {
		return time.Time{}, false
	}
	var ns int64
	if frac != "" {
		if len(frac) > 9 {
			frac = frac[:9]
		}
		f, err := strconv.ParseInt(frac, 10, 64)
		if err != nil || f < 0 {
			return time.Time{}, false
		}
		for i := len(frac); i < 9; i++ {
			f *= 10
		}
		ns = f
	}
	return time.Unix(n, ns).UTC(), true
}

// estimateSizes fills QuerySize and RespSize from the name and answers
// for logs that record no sizes: header 12, question name+2+4, an OPT
// record of 11; each answer a compressed owner (2), 10 bytes of fixed
// fields and its data.
func estimateSizes(x *event.DNS) {
	q := 12 + len(x.Name) + 2 + 4 + 11
	x.QuerySize = int32(q)
	if x.Answered {
		r := q
		for _, a := range x.Answers {
			r += 12 + int(a.Size)
		}
		x.RespSize = int32(r)
	}
	x.SizeEstimated = true
}

// answerSize estimates an answer's rdata size from its rendered data.
func answerSize(typ, data string) uint16 {
	switch typ {
	case "A":
		return 4
	case "AAAA":
		return 16
	}
	if len(data) > 65535 {
		return 65535
	}
	return uint16(len(data) + 2)
}

// answerType guesses the type of a rendered answer (Zeek logs answers
// without their types): an IPv4 or IPv6 address, "TXT ..." for text
// records (Zeek writes "TXT <n> <text>"), else a name: of the question's
// type when that is a name type (MX, NS, PTR), else a CNAME.
func answerType(s, qtype string) string {
	if a, err := netip.ParseAddr(s); err == nil {
		if a.Is4() {
			return "A"
		}
		return "AAAA"
	}
	if strings.HasPrefix(s, "TXT ") {
		return "TXT"
	}
	switch qtype {
	case "MX", "NS", "PTR":
		return qtype
	}
	return "CNAME"
}

// splitList splits a Zeek/tshark list value ("a,b,c"; "-"/"(empty)" are
// empty).
func splitList(s string) []string {
	if s == "" || s == "-" || s == "(empty)" {
		return nil
	}
	return strings.Split(s, ",")
}

// setAddr parses an address, leaving the zero Addr for "-" or junk.
func setAddr(s string) netip.Addr {
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}
	}
	return a.Unmap()
}

func port(s string) uint16 {
	n, err := strconv.ParseUint(s, 10, 16)
	if err != nil {
		return 0
	}
	return uint16(n)
}

// unescapeZeek undoes Zeek's \xNN escapes (names keep other bytes).
func unescapeZeek(s string) string {
	if !strings.Contains(s, `\x`) {
		return s
	}
	var b bytes.Buffer
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) && s[i+1] == 'x' {
			if n, err := strconv.ParseUint(s[i+2:i+4], 16, 8); err == nil {
				c := byte(n)
				if c == '.' || c == '\\' {
					b.WriteByte('\\')
					b.WriteByte(c)
				} else if c < 0x21 || c > 0x7e {
					b.WriteString(`\` + pad3(int(c)))
				} else {
					b.WriteByte(c)
				}
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func pad3(n int) string {
	s := strconv.Itoa(n)
	for len(s) < 3 {
		s = "0" + s
	}
	return s
}
