package dnspcap

import (
	"encoding/binary"
	"errors"
	"net/netip"
	"strconv"

	"github.com/miekg/dns"
)

// The DNS wire decoder: a hand-written, allocation-free reader of the
// parts of a message winnow uses (header, first question, answer records,
// the EDNS0 OPT record). It never panics on any input: every read is
// bounds-checked and compression pointers may only point backwards, so a
// malicious message cannot loop. Record types and codes are named with
// github.com/miekg/dns's tables.

// Errors of the message decoder; all wrap errMalformed.
var (
	errMalformed  = errors.New("malformed DNS message")
	errShort      = wrap("message shorter than its header")
	errNoQuestion = wrap("no question")
	errName       = wrap("bad name")
	errRecord     = wrap("record runs past the end of the message")
)

type msgError struct{ s string }

func (e *msgError) Error() string { return e.s }
func (e *msgError) Unwrap() error { return errMalformed }

func wrap(s string) error { return &msgError{s: "malformed DNS message: " + s} }

// maxAnswers is how many answer records are decoded per message.
const maxAnswers = 16

// header flags.
const (
	flagQR = 1 << 15
	flagTC = 1 << 9
)

// msg is a decoded message. name is the question name in presentation
// form, written into a reused buffer: it is valid until the next decode.
type msg struct {
	id      uint16
	flags   uint16
	qd, an  uint16
	ns, ar  uint16
	name    []byte // question name, presentation form without trailing dot
	qtype   uint16
	qclass  uint16
	answers [maxAnswers]rr
	nans    int
	edns    bool
	ednsUDP uint16
	size    int
}

// rr is an answer record; its data is rendered lazily from the message.
type rr struct {
	typ   uint16
	ttl   uint32
	rdoff int // offset of rdata in the message
	rdlen uint16
}

func (m *msg) response() bool { return m.flags&flagQR != 0 }
func (m *msg) rcode() int     { return int(m.flags & 0xf) }
func (m *msg) truncated() bool {
	return m.flags&flagTC != 0
}

// decode parses b into m. Only the first question is read (real traffic
// never has more); answers beyond maxAnswers are counted, not decoded.
func (m *msg) decode(b []byte) error {
	if len(b) < 12 {
		return errShort
	}
	m.id = binary.BigEndian.Uint16(b[0:])
	m.flags = binary.BigEndian.Uint16(b[2:])
	m.qd = binary.BigEndian.Uint16(b[4:])
	m.an = binary.BigEndian.Uint16(b[6:])
	m.ns = binary.BigEndian.Uint16(b[8:])
	m.ar = binary.BigEndian.Uint16(b[10:])
	m.nans, m.edns, m.ednsUDP, m.size = 0, false, 0, len(b)
	m.name = m.name[:0]
	if m.qd == 0 {
		return errNoQuestion
	}
	var off int
	var err error
	m.name, off, err = readName(b, 12, m.name)
	if err != nil {
		return err
	}
	if off+4 > len(b) {
		return errRecord
	}
	m.qtype = binary.BigEndian.Uint16(b[off:])
	m.qclass = binary.BigEndian.Uint16(b[off+2:])
	off += 4
	for i := 1; i < int(m.qd); i++ { // extra questions: skip
		if off, err = skipName(b, off); err != nil {
			return err
		}
		if off += 4; off > len(b) {
			return errRecord
		}
	}
	// Answers.
	for i := 0; i < int(m.an); i++ {
		var r rr
		if off, err = readRR(b, off, &r); err != nil {
			// A response cut short (truncated capture or TC) keeps what
			// was decoded; the question is what matters most.
			return nil
		}
		if m.nans < maxAnswers {
			m.answers[m.nans] = r
			m.nans++
		}
	}
	// Authority records are skipped; the additional section is read for
	// the OPT record (EDNS0).
	for i := 0; i < int(m.ns); i++ {
		var r rr
		if off, err = readRR(b, off, &r); err != nil {
			return nil
		}
	}
	for i := 0; i < int(m.ar); i++ {
		var r rr
		start := off
		if off, err = readRR(b, off, &r); err != nil {
			return nil
		}
		if r.typ == dns.TypeOPT {
			m.edns = true
			// CLASS carries the advertised UDP payload size; it sits
			// right after the (root) owner name and the type.
			if n, err := skipName(b, start); err == nil && n+4 <= len(b) {
				m.ednsUDP = binary.BigEndian.Uint16(b[n+2:])
			}
		}
	}
	return nil
}

// readRR reads one resource record at off.
func readRR(b []byte, off int, r *rr) (int, error) {
	off, err := skipName(b, off)
	if err != nil {
		return off, err
	}
	if off+10 > len(b) {
		return off, errRecord
	}
	r.typ = binary.BigEndian.Uint16(b[off:])
	r.ttl = binary.BigEndian.Uint32(b[off+4:])
	r.rdlen = binary.BigEndian.Uint16(b[off+8:])
	off += 10
	r.rdoff = off
	off += int(r.rdlen)
	if off > len(b) {
		return off, errRecord
	}
	return off, nil
}

// maxNameLen bounds a presentation-form name (255 wire octets can expand
// to four times that with \DDD escapes).
const maxNameLen = 1100

// readName appends the name at off in presentation form (labels joined by
// '.', no trailing dot, bytes outside printable ASCII and '.', '\' inside
// labels escaped as in RFC 1035 master files) to dst. It returns the
// offset after the name's in-place part.
func readName(b []byte, off int, dst []byte) ([]byte, int, error) {
	end := -1 // offset after the name where it was first met
	hops := 0
	wire := 0
	for {
		if off >= len(b) {
			return dst, 0, errName
		}
		c := int(b[off])
		switch c & 0xc0 {
		case 0x00:
			if c == 0 {
				if end < 0 {
					end = off + 1
				}
				return dst, end, nil
			}
			if off+1+c > len(b) {
				return dst, 0, errName
			}
			wire += c + 1
			if wire > 255 {
				return dst, 0, errName
			}
			if len(dst) > 0 {
				dst = append(dst, '.')
			}
			dst = appendLabel(dst, b[off+1:off+1+c])
			off += 1 + c
		case 0xc0:
			if off+1 >= len(b) {
				return dst, 0, errName
			}
			ptr := int(binary.BigEndian.Uint16(b[off:]) & 0x3fff)
			if ptr >= off || hops > 64 { // forward pointers and loops
				return dst, 0, errName
			}
			hops++
			if end < 0 {
				end = off + 2
			}
			off = ptr
		default: // 0x40 and 0x80: obsolete/reserved label types
			return dst, 0, errName
		}
	}
}

// appendLabel appends a label in presentation form.
func appendLabel(dst, l []byte) []byte {
	for _, c := range l {
		switch {
		case c == '.' || c == '\\':
			dst = append(dst, '\\', c)
		case c < 0x21 || c > 0x7e:
			dst = append(dst, '\\', '0'+c/100, '0'+c/10%10, '0'+c%10)
		default:
			dst = append(dst, c)
		}
	}
	return dst
}

// skipName returns the offset after the name at off.
func skipName(b []byte, off int) (int, error) {
	for {
		if off >= len(b) {
			return 0, errName
		}
		c := int(b[off])
		switch c & 0xc0 {
		case 0x00:
			if c == 0 {
				return off + 1, nil
			}
			off += 1 + c
		case 0xc0:
			if off+2 > len(b) {
				return 0, errName
			}
			return off + 2, nil
		default:
			return 0, errName
		}
	}
}

// typeName renders a record type ("A", "TXT", "TYPE65280").
func typeName(t uint16) string {
	if s, ok := dns.TypeToString[t]; ok {
		return s
	}
	return "TYPE" + strconv.Itoa(int(t))
}

// rcodeName renders a response code ("NOERROR", "NXDOMAIN", "RCODE12").
func rcodeName(c int) string {
	if s, ok := dns.RcodeToString[c]; ok {
		return s
	}
	return "RCODE" + strconv.Itoa(c)
}

// answerData renders an answer's data: addresses and names in full, other
// types as their size (TXT and NULL records of tunnels are large and not
// text).
func answerData(b []byte, r *rr, scratch []byte) string {
	if r.rdoff+int(r.rdlen) > len(b) {
		return ""
	}
	d := b[r.rdoff : r.rdoff+int(r.rdlen)]
	switch r.typ {
	case dns.TypeA:
		if len(d) == 4 {
			return netip.AddrFrom4([4]byte(d)).String()
		}
	case dns.TypeAAAA:
		if len(d) == 16 {
			return netip.AddrFrom16([16]byte(d)).String()
		}
	case dns.TypeCNAME, dns.TypeNS, dns.TypePTR, dns.TypeDNAME:
		if n, _, err := readName(b, r.rdoff, scratch[:0]); err == nil {
			return string(n)
		}
	case dns.TypeMX:
		if len(d) > 2 {
			if n, _, err := readName(b, r.rdoff+2, scratch[:0]); err == nil {
				return string(n)
			}
		}
	}
	return "<" + strconv.Itoa(len(d)) + " bytes>"
}

// answerAddr returns an A/AAAA answer's address.
func answerAddr(b []byte, r *rr) (netip.Addr, bool) {
	if r.rdoff+int(r.rdlen) > len(b) {
		return netip.Addr{}, false
	}
	d := b[r.rdoff : r.rdoff+int(r.rdlen)]
	switch {
	case r.typ == dns.TypeA && len(d) == 4:
		return netip.AddrFrom4([4]byte(d)), true
	case r.typ == dns.TypeAAAA && len(d) == 16:
		return netip.AddrFrom16([16]byte(d)), true
	}
	return netip.Addr{}, false
}
