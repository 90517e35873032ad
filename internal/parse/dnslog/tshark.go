package dnslog

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"

	"winnow/internal/event"
	"winnow/internal/parse"
)

// TsharkCommand is the export the tshark-dns format reads (documented in
// the README). Columns are found by the header's field names, so their
// order does not matter and missing optional ones are tolerated; the
// required ones are frame.time_epoch and dns.qry.name.
const TsharkCommand = `tshark -r capture.pcap -Y dns -T fields -E header=y -E separator=/t ` +
	`-E occurrence=a -E aggregator=, ` +
	`-e frame.time_epoch -e ip.src -e ipv6.src -e ip.dst -e ipv6.dst ` +
	`-e udp.srcport -e udp.dstport -e tcp.srcport -e tcp.dstport -e udp.length -e tcp.len ` +
	`-e dns.id -e dns.flags.response -e dns.flags.rcode -e dns.flags.truncated ` +
	`-e dns.qry.name -e dns.qry.type -e dns.count.answers -e dns.resp.type -e dns.resp.ttl ` +
	`-e dns.a -e dns.aaaa -e dns.cname > dns.tsv`

// tshark fields the parser reads.
const (
	tfTime = iota
	tfIPSrc
	tfIP6Src
	tfIPDst
	tfIP6Dst
	tfUDPSrc
	tfUDPDst
	tfTCPSrc
	tfTCPDst
	tfUDPLen
	tfTCPLen
	tfID
	tfResponse
	tfRcode
	tfTC
	tfName
	tfType
	tfCount
	tfRespType
	tfTTL
	tfA
	tfAAAA
	tfCNAME
	tfN
)

var tsharkFields = [tfN]string{"frame.time_epoch", "ip.src", "ipv6.src", "ip.dst", "ipv6.dst",
	"udp.srcport", "udp.dstport", "tcp.srcport", "tcp.dstport", "udp.length", "tcp.len",
	"dns.id", "dns.flags.response", "dns.flags.rcode", "dns.flags.truncated",
	"dns.qry.name", "dns.qry.type", "dns.count.answers", "dns.resp.type", "dns.resp.ttl",
	"dns.a", "dns.aaaa", "dns.cname"}

// TsharkFormat is a tshark field export with a header line.
func TsharkFormat() parse.Format {
	return parse.Format{
		Name:    "tshark-dns",
		Summary: "tshark -T fields -E header=y export of DNS packets (see README for the command)",
		Sniff: func(lines [][]byte) float64 {
			if len(lines) == 0 || !isTsharkHeader(lines[0]) {
				return 0
			}
			p := &tsharkParser{}
			ok := 0
			for _, l := range lines {
				var ev event.Event
				if err := p.Parse(l, &ev); err == nil || isTsharkHeader(l) {
					ok++
				}
			}
			return float64(ok) / float64(len(lines))
		},
		New: func(parse.Options) parse.Parser { return &tsharkParser{} },
	}
}

func isTsharkHeader(l []byte) bool {
	return bytes.Contains(l, []byte("frame.time_epoch")) && bytes.Contains(l, []byte("dns.qry.name"))
}

type tsharkParser struct {
	col [tfN]int // column of each field, -1 if absent
	ok  bool     // header seen
	buf []string
}

func (p *tsharkParser) header(line []byte) {
	for i := range p.col {
		p.col[i] = -1
	}
	for i, f := range strings.Split(string(line), "\t") {
		f = strings.TrimSpace(f)
		for k, name := range tsharkFields {
			if f == name {
				p.col[k] = i
			}
		}
	}
	p.ok = p.col[tfTime] >= 0 && p.col[tfName] >= 0
}

func (p *tsharkParser) Parse(line []byte, ev *event.Event) error {
	if isTsharkHeader(line) {
		p.header(line)
		return fmt.Errorf("%w: header", parse.ErrSkip)
	}
	if !p.ok {
		return fmt.Errorf("%w: no tshark header line before the records", parse.ErrMalformed)
	}
	p.buf = p.buf[:0]
	for _, f := range bytes.Split(line, []byte{'\t'}) {
		p.buf = append(p.buf, string(f))
	}
	get := func(k int) string {
		c := p.col[k]
		if c < 0 || c >= len(p.buf) {
			return ""
		}
		v := p.buf[c]
		if i := strings.IndexByte(v, ','); i >= 0 && k != tfRespType && k != tfTTL && k != tfA && k != tfAAAA && k != tfCNAME {
			v = v[:i] // several messages in one frame: the first
		}
		return v
	}
	t, ok := epoch(get(tfTime))
	if !ok {
		return fmt.Errorf("%w: bad frame.time_epoch %q", parse.ErrMalformed, get(tfTime))
	}
	src, dst := setAddr(get(tfIPSrc)), setAddr(get(tfIPDst))
	if !src.IsValid() {
		src, dst = setAddr(get(tfIP6Src)), setAddr(get(tfIP6Dst))
	}
	sp, dp := port(get(tfUDPSrc)), port(get(tfUDPDst))
	transport, size := "udp", 0
	if n, err := strconv.Atoi(get(tfUDPLen)); err == nil {
		size = n - 8
	}
	if sp == 0 && dp == 0 {
		sp, dp = port(get(tfTCPSrc)), port(get(tfTCPDst))
		transport = "tcp"
		if n, err := strconv.Atoi(get(tfTCPLen)); err == nil {
			size = n - 2
		}
		if sp == 0 && dp == 0 {
			transport = ""
		}
	}
	resp := get(tfResponse)
	isResp := resp == "1" || strings.EqualFold(resp, "true")
	name := normName(escapeRaw(get(tfName)))
	ref := ev.Ref
	*ev = event.Event{Time: t, Kind: event.KindDNS, Action: event.ActDNSQuery, Count: 1, Ref: ref}
	x := &event.DNS{Name: name, Registered: registered(name), Transport: transport}
	x.QType, x.QTypeCode = qtypeOf(get(tfType))
	if id, err := strconv.ParseUint(get(tfID), 0, 16); err == nil {
		x.ID = uint16(id)
	}
	if isResp {
		ev.Action = event.ActDNSResponse
		ev.SrcIP, ev.SrcPort, x.ServerIP, x.ServerPort = dst, dp, src, sp
		x.Answered = true
		x.RCode = rcodeOf(get(tfRcode))
		if x.RCode == "" {
			x.RCode = "NOERROR"
		}
		x.RespSize = int32(max(size, 0))
		tc := get(tfTC)
		x.Truncated = tc == "1" || strings.EqualFold(tc, "true")
		if n, err := strconv.Atoi(get(tfCount)); err == nil && n >= 0 {
			x.AnswerCount = uint16(min(n, 65535))
		}
		x.Answers = tsharkAnswers(get(tfRespType), get(tfTTL), get(tfA), get(tfAAAA), get(tfCNAME))
	} else {
		ev.SrcIP, ev.SrcPort, x.ServerIP, x.ServerPort = src, sp, dst, dp
		x.QuerySize = int32(max(size, 0))
	}
	if size <= 0 {
		estimateSizes(x)
	}
	ev.DNS = x
	ev.Raw = line
	return nil
}

// tsharkAnswers pairs answer types and TTLs (one per answer) with the
// rendered data of the types tshark lists separately (A, AAAA, CNAME).
func tsharkAnswers(types, ttls, as, aaaas, cnames string) []event.Answer {
	ts := splitList(types)
	if len(ts) == 0 {
		return nil
	}
	tl := splitList(ttls)
	data := map[string][]string{"A": splitList(as), "AAAA": splitList(aaaas), "CNAME": splitList(cnames)}
	n := min(len(ts), 16)
	out := make([]event.Answer, n)
	for i := 0; i < n; i++ {
		typ, _ := qtypeOf(ts[i])
		a := event.Answer{Type: typ}
		if i < len(tl) {
			if v, err := strconv.ParseUint(tl[i], 10, 32); err == nil {
				a.TTL = uint32(v)
			}
		}
		if l := data[typ]; len(l) > 0 {
			a.Data, data[typ] = l[0], l[1:]
		}
		a.Size = answerSize(typ, a.Data)
		out[i] = a
	}
	return out
}

// escapeRaw renders bytes outside printable ASCII as \DDD (the pcap
// decoder's presentation form), so names compare across inputs.
func escapeRaw(s string) string {
	clean := true
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x21 || c > 0x7e {
			b.WriteString(`\` + pad3(int(c)))
		} else {
			b.WriteByte(c)
		}
	}
	return b.String()
}
