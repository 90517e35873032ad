package dnslog

import (
	"bytes"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"winnow/internal/event"
	"winnow/internal/parse"
)

// zrec is one Zeek dns.log record's fields as text.
type zrec struct {
	ts, origH, origP, respH, respP, proto, transID, rtt string
	query, qtype, qtypeName, rcode, rcodeName, tc       string
	origQuery                                           string // original_query (case preserved), when logged
	answers, ttls                                       []string
	tsTime                                              time.Time
	hasTime                                             bool
}

// fill turns a record into an event.
func (z *zrec) fill(ev *event.Event) error {
	t := z.tsTime
	if !z.hasTime {
		var ok bool
		if t, ok = epoch(z.ts); !ok {
			if t, ok = isoTime(z.ts); !ok {
				return fmt.Errorf("%w: bad ts %q", parse.ErrMalformed, z.ts)
			}
		}
	}
	name := z.query
	if z.origQuery != "" && z.origQuery != "-" {
		name = z.origQuery
	}
	if name == "-" {
		name = ""
	}
	name = normName(unescapeZeek(name))
	ref := ev.Ref
	*ev = event.Event{Time: t, Kind: event.KindDNS, Action: event.ActDNSQuery, Count: 1, Ref: ref,
		SrcIP: setAddr(z.origH), SrcPort: port(z.origP)}
	x := &event.DNS{Name: name, Registered: registered(name), ServerIP: setAddr(z.respH), ServerPort: port(z.respP)}
	if z.proto == "udp" || z.proto == "tcp" {
		x.Transport = z.proto
	}
	if z.qtypeName != "" && z.qtypeName != "-" {
		x.QType, x.QTypeCode = qtypeOf(z.qtypeName)
		if _, code := qtypeOf(z.qtype); code != 0 {
			x.QTypeCode = code
		}
	} else {
		x.QType, x.QTypeCode = qtypeOf(z.qtype)
	}
	if id, err := strconv.ParseUint(z.transID, 10, 16); err == nil {
		x.ID = uint16(id)
	}
	x.RCode = rcodeOf(z.rcodeName)
	if x.RCode == "" {
		x.RCode = rcodeOf(z.rcode)
	}
	x.Answered = x.RCode != "" || len(z.answers) > 0
	if !x.Answered {
		x.Orphan = event.OrphanUnanswered
	}
	if r, err := strconv.ParseFloat(z.rtt, 64); err == nil && r > 0 {
		x.RTT = time.Duration(math.Round(r * float64(time.Second)))
	}
	x.Truncated = z.tc == "T" || z.tc == "true"
	if len(z.answers) > 0 {
		n := min(len(z.answers), 16)
		x.Answers = make([]event.Answer, n)
		for i := 0; i < n; i++ {
			a := z.answers[i]
			typ := answerType(a, x.QType)
			x.Answers[i] = event.Answer{Type: typ, Data: a, Size: answerSize(typ, a)}
			if i < len(z.ttls) {
				if f, err := strconv.ParseFloat(z.ttls[i], 64); err == nil && f >= 0 && f < 1<<32 {
					x.Answers[i].TTL = uint32(f)
				}
			}
		}
		x.AnswerCount = uint16(min(len(z.answers), 65535))
	}
	estimateSizes(x)
	ev.DNS = x
	return nil
}

func isoTime(s string) (time.Time, bool) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, false
	}
	return t.UTC(), true
}

// zeekDefaultFields is dns.log's column order in Zeek 3–7, used until a
// #fields header says otherwise.
var zeekDefaultFields = []string{"ts", "uid", "id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p", "proto",
	"trans_id", "rtt", "query", "qclass", "qclass_name", "qtype", "qtype_name", "rcode", "rcode_name",
	"AA", "TC", "RD", "RA", "Z", "answers", "TTLs", "rejected"}

// ZeekFormat is Zeek's dns.log in its native tab-separated form.
func ZeekFormat() parse.Format {
	return parse.Format{
		Name:    "zeek-dns",
		Summary: "Zeek dns.log (tab-separated, #fields header)",
		Sniff:   sniffZeek,
		New:     func(parse.Options) parse.Parser { return newZeekParser() },
	}
}

func sniffZeek(lines [][]byte) float64 {
	p := newZeekParser()
	header, ok, n := false, 0, 0
	for _, l := range lines {
		if len(l) == 0 {
			continue
		}
		if bytes.HasPrefix(l, []byte("#fields")) {
			header = bytes.Contains(l, []byte("\tquery")) && bytes.Contains(l, []byte("\tid.orig_h"))
		}
		var ev event.Event
		err := p.Parse(l, &ev)
		if l[0] == '#' {
			continue
		}
		n++
		if err == nil {
			ok++
		}
	}
	if !header {
		return 0
	}
	if n == 0 {
		return 1 // a header and no records yet
	}
	return float64(ok) / float64(n)
}

type zeekParser struct {
	sep  byte
	col  map[string]int
	cols []int // index of each wanted field, -1 if absent
	buf  []string
}

// Wanted fields, in zrec order.
var zeekWanted = []string{"ts", "id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p", "proto", "trans_id", "rtt",
	"query", "qtype", "qtype_name", "rcode", "rcode_name", "TC", "answers", "TTLs", "original_query"}

func newZeekParser() *zeekParser {
	p := &zeekParser{sep: '\t'}
	p.setFields(zeekDefaultFields)
	return p
}

func (p *zeekParser) setFields(fields []string) {
	p.col = make(map[string]int, len(fields))
	for i, f := range fields {
		p.col[f] = i
	}
	p.cols = p.cols[:0]
	for _, w := range zeekWanted {
		if i, ok := p.col[w]; ok {
			p.cols = append(p.cols, i)
		} else {
			p.cols = append(p.cols, -1)
		}
	}
}

func (p *zeekParser) Parse(line []byte, ev *event.Event) error {
	if len(line) == 0 {
		return fmt.Errorf("%w: empty", parse.ErrSkip)
	}
	if line[0] == '#' {
		p.header(line)
		return fmt.Errorf("%w: header", parse.ErrSkip)
	}
	p.buf = p.buf[:0]
	for _, f := range bytes.Split(line, []byte{p.sep}) {
		p.buf = append(p.buf, string(f))
	}
	get := func(i int) string {
		c := p.cols[i]
		if c < 0 || c >= len(p.buf) {
			return "-"
		}
		return p.buf[c]
	}
	if p.cols[0] < 0 || p.cols[0] >= len(p.buf) || p.cols[8] < 0 || p.cols[8] >= len(p.buf) {
		return fmt.Errorf("%w: %d fields", parse.ErrMalformed, len(p.buf))
	}
	z := zrec{ts: get(0), origH: get(1), origP: get(2), respH: get(3), respP: get(4), proto: get(5),
		transID: get(6), rtt: get(7), query: get(8), qtype: get(9), qtypeName: get(10), rcode: get(11),
		rcodeName: get(12), tc: get(13), answers: splitList(get(14)), ttls: splitList(get(15)), origQuery: get(16)}
	if err := z.fill(ev); err != nil {
		return err
	}
	ev.Raw = line
	return nil
}

func (p *zeekParser) header(line []byte) {
	s := string(line)
	switch {
	case strings.HasPrefix(s, "#separator "):
		v := strings.TrimPrefix(s, "#separator ")
		if strings.HasPrefix(v, `\x`) && len(v) == 4 {
			if n, err := strconv.ParseUint(v[2:], 16, 8); err == nil {
				p.sep = byte(n)
			}
		} else if len(v) == 1 {
			p.sep = v[0]
		}
	case strings.HasPrefix(s, "#fields"):
		f := strings.Split(s, string(p.sep))
		if len(f) > 1 {
			p.setFields(f[1:])
		}
	}
}

// ZeekJSONFormat is Zeek's dns.log written as JSON lines.
func ZeekJSONFormat() parse.Format {
	return parse.Format{
		Name:    "zeek-dns-json",
		Summary: "Zeek dns.log as JSON lines",
		Sniff: func(lines [][]byte) float64 {
			if len(lines) == 0 {
				return 0
			}
			ok := 0
			for _, l := range lines {
				var ev event.Event
				if bytes.Contains(l, []byte(`"query"`)) && bytes.Contains(l, []byte(`"id.orig_h"`)) && parseZeekJSON(l, &ev) == nil {
					ok++
				}
			}
			return float64(ok) / float64(len(lines))
		},
		New: func(parse.Options) parse.Parser { return zeekJSONParser{} },
	}
}

type zeekJSONParser struct{}

func (zeekJSONParser) Parse(line []byte, ev *event.Event) error { return parseZeekJSON(line, ev) }

func parseZeekJSON(line []byte, ev *event.Event) error {
	var z zrec
	z.ts, z.query = "", "-"
	seen := false
	err := scanObject(line, func(key []byte, v jsonValue) error {
		switch string(key) {
		case "ts":
			if v.kind == jsonString {
				t, ok := isoTime(v.str())
				if !ok {
					return fmt.Errorf("bad ts")
				}
				z.tsTime, z.hasTime = t, true
			} else {
				z.ts = v.text()
			}
		case "id.orig_h":
			z.origH = v.str()
		case "id.orig_p":
			z.origP = v.text()
		case "id.resp_h":
			z.respH = v.str()
		case "id.resp_p":
			z.respP = v.text()
		case "proto":
			z.proto = v.str()
		case "trans_id":
			z.transID = v.text()
		case "rtt":
			z.rtt = v.text()
		case "query":
			z.query = v.str()
			seen = true
		case "original_query":
			z.origQuery = v.str()
		case "qtype":
			z.qtype = v.text()
		case "qtype_name":
			z.qtypeName = v.str()
		case "rcode":
			z.rcode = v.text()
		case "rcode_name":
			z.rcodeName = v.str()
		case "TC":
			if v.text() == "true" {
				z.tc = "T"
			}
		case "answers":
			z.answers = v.strings()
		case "TTLs":
			z.ttls = v.strings()
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("%w: %v", parse.ErrMalformed, err)
	}
	if !seen && z.origH == "" {
		return fmt.Errorf("%w: not a dns.log record", parse.ErrMalformed)
	}
	if z.ts == "" && !z.hasTime {
		return fmt.Errorf("%w: no ts", parse.ErrMalformed)
	}
	if err := z.fill(ev); err != nil {
		return err
	}
	ev.Raw = line
	return nil
}
