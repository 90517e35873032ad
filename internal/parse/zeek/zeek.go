// Package zeek reads Zeek's conn.log into flow events (event.Flow, the
// same events captures give) and files.log into file events (event.File:
// the md5/sha1/sha256 of files seen on the wire, so the indicator sets
// winnow loads — known-bad hashes, NSRL known-good — can match them). Both
// logs are read in Zeek's tab-separated form (columns named by the #fields
// header, "-" unset, "(empty)" empty, \xHH escapes) and as JSON lines
// (LogAscii::use_json=T; ts as epoch seconds or ISO 8601).
//
// Zeek logs a connection when it ends, stamped with its start (ts), so
// records are out of start-time order by up to a connection's duration;
// the detectors' lateness absorbs the usual minute.
//
// Orientation: Zeek's originator is the side that sent the first packet
// it saw, or the side it flipped to by its port heuristics (history "^").
// Like the capture assembler, a connection in which only the responder
// sent anything is turned around and marked Reversed (its request was not
// seen).
package zeek

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"winnow/internal/event"
	"winnow/internal/parse"
)

// Formats returns the conn.log and files.log formats, TSV and JSON.
func Formats() []parse.Format {
	return []parse.Format{
		{Name: "zeek-conn", Summary: "Zeek conn.log (tab-separated, #fields header): connections as flows",
			Sniff: func(l [][]byte) float64 { return sniffTSV(l, logConn) }, New: func(parse.Options) parse.Parser { return newTSV(logConn) }},
		{Name: "zeek-conn-json", Summary: "Zeek conn.log as JSON lines",
			Sniff: func(l [][]byte) float64 { return sniffJSON(l, logConn) }, New: func(parse.Options) parse.Parser { return jsonParser{logConn} }},
		{Name: "zeek-files", Summary: "Zeek files.log (tab-separated): transferred files with their hashes",
			Sniff: func(l [][]byte) float64 { return sniffTSV(l, logFiles) }, New: func(parse.Options) parse.Parser { return newTSV(logFiles) }},
		{Name: "zeek-files-json", Summary: "Zeek files.log as JSON lines",
			Sniff: func(l [][]byte) float64 { return sniffJSON(l, logFiles) }, New: func(parse.Options) parse.Parser { return jsonParser{logFiles} }},
	}
}

type logKind uint8

const (
	logConn logKind = iota
	logFiles
)

// rec is one record's fields as text, by Zeek field name.
type rec map[string]string

func (r rec) get(k string) string {
	v, ok := r[k]
	if !ok || v == "-" {
		return ""
	}
	if v == "(empty)" {
		return ""
	}
	return v
}

var defaultConn = strings.Fields("ts uid id.orig_h id.orig_p id.resp_h id.resp_p proto service duration orig_bytes resp_bytes conn_state local_orig local_resp missed_bytes history orig_pkts orig_ip_bytes resp_pkts resp_ip_bytes tunnel_parents")

var defaultFiles = strings.Fields("ts fuid uid id.orig_h id.orig_p id.resp_h id.resp_p source depth analyzers mime_type filename duration local_orig is_orig seen_bytes total_bytes missing_bytes overflow_bytes timedout parent_fuid md5 sha1 sha256 extracted extracted_cutoff extracted_size")

// tsv parses tab-separated records; #fields and #separator headers
// reconfigure it.
type tsv struct {
	kind   logKind
	sep    []byte
	fields []string
	r      rec
}

func newTSV(k logKind) *tsv {
	p := &tsv{kind: k, sep: []byte{'\t'}, r: rec{}}
	p.fields = defaultConn
	if k == logFiles {
		p.fields = defaultFiles
	}
	return p
}

func (p *tsv) Parse(line []byte, ev *event.Event) error {
	if len(line) == 0 {
		return fmt.Errorf("%w: empty", parse.ErrSkip)
	}
	if line[0] == '#' {
		switch {
		case bytes.HasPrefix(line, []byte("#fields")):
			parts := bytes.Split(line, p.sep)
			p.fields = p.fields[:0:0]
			for _, f := range parts[1:] {
				p.fields = append(p.fields, string(f))
			}
		case bytes.HasPrefix(line, []byte("#separator ")):
			if s := unescape(string(line[len("#separator "):])); s != "" {
				p.sep = []byte(s)
			}
		}
		return fmt.Errorf("%w: header", parse.ErrSkip)
	}
	clear(p.r)
	vals := bytes.Split(line, p.sep)
	if len(vals) < 6 {
		return fmt.Errorf("%w: %d fields", parse.ErrMalformed, len(vals))
	}
	for i, v := range vals {
		if i < len(p.fields) {
			p.r[p.fields[i]] = string(v)
		}
	}
	return build(p.kind, p.r, ev)
}

// jsonParser parses JSON-lines records.
type jsonParser struct{ kind logKind }

func (p jsonParser) Parse(line []byte, ev *event.Event) error {
	line = bytes.TrimSpace(line)
	if len(line) == 0 {
		return fmt.Errorf("%w: empty", parse.ErrSkip)
	}
	var m map[string]any
	if err := json.Unmarshal(line, &m); err != nil {
		return fmt.Errorf("%w: %v", parse.ErrMalformed, err)
	}
	r := make(rec, len(m))
	for k, v := range m {
		switch x := v.(type) {
		case string:
			r[k] = x
		case float64:
			r[k] = strconv.FormatFloat(x, 'f', -1, 64)
		case bool:
			r[k] = map[bool]string{true: "T", false: "F"}[x]
		case []any:
			s := make([]string, 0, len(x))
			for _, e := range x {
				s = append(s, fmt.Sprint(e))
			}
			r[k] = strings.Join(s, ",")
		}
	}
	return build(p.kind, r, ev)
}

func build(k logKind, r rec, ev *event.Event) error {
	ref := ev.Ref
	raw := ev.Raw
	*ev = event.Event{Ref: ref, Raw: raw, Count: 1}
	t, ok := zeekTime(r.get("ts"))
	if !ok {
		return fmt.Errorf("%w: bad ts %q", parse.ErrMalformed, r["ts"])
	}
	ev.Time = t
	if k == logFiles {
		return buildFile(r, ev)
	}
	return buildConn(r, ev)
}

func buildConn(r rec, ev *event.Event) error {
	src, err1 := netip.ParseAddr(r.get("id.orig_h"))
	dst, err2 := netip.ParseAddr(r.get("id.resp_h"))
	if err1 != nil || err2 != nil {
		return fmt.Errorf("%w: bad address", parse.ErrMalformed)
	}
	f := &event.Flow{Transport: strings.ToLower(r.get("proto")), Service: r.get("service"), State: r.get("conn_state"), UID: r.get("uid")}
	sp, dp := port(r.get("id.orig_p")), port(r.get("id.resp_p"))
	switch f.Transport {
	case "tcp":
		f.Proto = 6
	case "udp":
		f.Proto = 17
	case "icmp":
		f.Proto = 1
		if src.Is6() && !src.Is4In6() {
			f.Transport, f.Proto = "icmp6", 58
		}
		// Zeek puts the ICMP type and code in the port columns.
		f.ICMPType, f.ICMPCode = uint8(sp), uint8(dp)
		sp, dp = 0, 0
	}
	f.OrigPackets, f.RespPackets = num(r.get("orig_pkts")), num(r.get("resp_pkts"))
	f.OrigBytes, f.RespBytes = num(r.get("orig_ip_bytes")), num(r.get("resp_ip_bytes"))
	f.End = ev.Time
	if d, err := strconv.ParseFloat(r.get("duration"), 64); err == nil && d > 0 && d < 1e9 {
		f.End = ev.Time.Add(time.Duration(math.Round(d * 1e9)))
	}
	f.OrigFlags, f.RespFlags = historyFlags(r.get("history"))
	if strings.HasPrefix(r.get("history"), "^") || f.State == "SHR" || f.State == "RSTRH" {
		f.Reversed = true
	}
	if f.OrigPackets == 0 && f.RespPackets > 0 {
		// Only the responder spoke: turn it around (see the package doc).
		src, dst, sp, dp = dst, src, dp, sp
		f.OrigPackets, f.RespPackets = f.RespPackets, 0
		f.OrigBytes, f.RespBytes = f.RespBytes, 0
		f.OrigFlags, f.RespFlags = f.RespFlags, f.OrigFlags
		f.Reversed = true
	}
	ev.Kind, ev.Action = event.KindFlow, event.ActFlow
	ev.SrcIP, ev.SrcPort, ev.DstIP, ev.DstPort = src.Unmap(), sp, dst.Unmap(), dp
	ev.Flow = f
	return nil
}

// historyFlags derives the TCP flags each side sent from Zeek's history
// letters (upper case: originator; S syn, H syn-ack, A ack, D data, F fin,
// R rst).
func historyFlags(h string) (o, r uint8) {
	for i := 0; i < len(h); i++ {
		c := h[i]
		var f uint8
		switch c | 0x20 {
		case 's':
			f = event.FlagSYN
		case 'h':
			f = event.FlagSYN | event.FlagACK
		case 'a', 'd':
			f = event.FlagACK
		case 'f':
			f = event.FlagFIN
		case 'r':
			f = event.FlagRST
		default:
			continue
		}
		if c >= 'A' && c <= 'Z' {
			if c == 'H' { // an originator's SYN-ACK (Zeek flipped)
				f = event.FlagSYN | event.FlagACK
			}
			o |= f
		} else {
			r |= f
		}
	}
	return o, r
}

func buildFile(r rec, ev *event.Event) error {
	f := &event.File{MD5: strings.ToLower(r.get("md5")), SHA1: strings.ToLower(r.get("sha1")), SHA256: strings.ToLower(r.get("sha256")),
		Name: unescape(r.get("filename")), MimeType: r.get("mime_type"), Source: r.get("source"), FUID: r.get("fuid"), Size: -1}
	if n := r.get("seen_bytes"); n != "" {
		f.Size = num(n)
	}
	f.ConnUID = r.get("uid")
	if f.ConnUID == "" {
		f.ConnUID = first(r.get("conn_uids"))
	}
	// The sender and receiver: Zeek ≤5 logs tx_hosts/rx_hosts; Zeek 6+
	// logs the connection's endpoints and is_orig (the file went from the
	// originator).
	tx, rx := first(r.get("tx_hosts")), first(r.get("rx_hosts"))
	if tx == "" {
		o, p := r.get("id.orig_h"), r.get("id.resp_h")
		if r.get("is_orig") == "T" {
			tx, rx = o, p
		} else {
			tx, rx = p, o
		}
	}
	if a, err := netip.ParseAddr(tx); err == nil {
		ev.SrcIP = a.Unmap()
	}
	if a, err := netip.ParseAddr(rx); err == nil {
		ev.DstIP = a.Unmap()
	}
	if f.MD5 == "" && f.SHA1 == "" && f.SHA256 == "" && f.FUID == "" {
		return fmt.Errorf("%w: no file id or hash", parse.ErrMalformed)
	}
	ev.Kind, ev.Action = event.KindFile, event.ActFileTransfer
	ev.File = f
	return nil
}

func first(s string) string {
	if i := strings.IndexByte(s, ','); i >= 0 {
		return s[:i]
	}
	return s
}

func zeekTime(s string) (time.Time, bool) {
	if s == "" {
		return time.Time{}, false
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil && f >= 0 && f < 1e11 {
		sec, frac := math.Modf(f)
		return time.Unix(int64(sec), int64(math.Round(frac*1e6))*1000).UTC(), true
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), true
	}
	return time.Time{}, false
}

func port(s string) uint16 {
	n, err := strconv.ParseUint(s, 10, 16)
	if err != nil {
		return 0
	}
	return uint16(n)
}

func num(s string) int64 {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return 0
	}
	return n
}

// unescape decodes Zeek's \xHH escapes.
func unescape(s string) string {
	if !strings.Contains(s, `\x`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) && s[i+1] == 'x' {
			if v, err := strconv.ParseUint(s[i+2:i+4], 16, 8); err == nil {
				b.WriteByte(byte(v))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func sniffTSV(lines [][]byte, k logKind) float64 {
	header := false
	for _, l := range lines {
		if bytes.HasPrefix(l, []byte("#path")) {
			p := string(bytes.TrimSpace(l[len("#path"):]))
			return map[bool]float64{true: 1, false: 0}[k == logConn && p == "conn" || k == logFiles && p == "files"]
		}
		if bytes.HasPrefix(l, []byte("#fields")) {
			if k == logConn {
				header = bytes.Contains(l, []byte("\tconn_state")) && bytes.Contains(l, []byte("\tid.orig_h"))
			} else {
				header = bytes.Contains(l, []byte("\tfuid")) && bytes.Contains(l, []byte("\tmime_type"))
			}
		}
	}
	if !header {
		return 0
	}
	p := newTSV(k)
	ok, n := 0, 0
	for _, l := range lines {
		var ev event.Event
		err := p.Parse(l, &ev)
		if len(l) == 0 || l[0] == '#' {
			continue
		}
		n++
		if err == nil {
			ok++
		}
	}
	if n == 0 {
		return 1
	}
	return float64(ok) / float64(n)
}

func sniffJSON(lines [][]byte, k logKind) float64 {
	key := []byte(`"conn_state"`)
	if k == logFiles {
		key = []byte(`"fuid"`)
	}
	ok, n := 0, 0
	for _, l := range lines {
		l = bytes.TrimSpace(l)
		if len(l) == 0 {
			continue
		}
		n++
		if !bytes.Contains(l, key) {
			continue
		}
		var ev event.Event
		if (jsonParser{k}).Parse(l, &ev) == nil {
			ok++
		}
	}
	if n == 0 {
		return 0
	}
	return float64(ok) / float64(n)
}
