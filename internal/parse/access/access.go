// Package access parses web server access logs (Apache and nginx) into
// KindHTTP events, and provides the URL decoding (Decode) that the web
// detectors share.
//
// # Formats
//
// One parser reads every variant below; it finds the fields by their shape,
// so a file may mix them:
//
//	common           1.2.3.4 - frank [22/Nov/2026:10:11:48 +0100] "GET /a?b=c HTTP/1.1" 200 2326
//	combined         … 200 2326 "http://ref/" "Mozilla/5.0 …"
//	vhost_combined   www.example.com:443 1.2.3.4 - - [22/Nov/2026:10:11:48 +0100] "GET / HTTP/1.1" 200 …
//	extra fields     … "Mozilla/5.0 …" 0.012 0.010 "www.example.com"   (nginx $request_time, upstream times, $host: ignored)
//	wrapped          "1.2.3.4 - - [ … ] "GET / HTTP/1.1" 200 12 "-" "UA""   (an extra pair of quotes, as in some exports)
//	IPv6 clients     2001:db8::1 - - [ … ]
//	ISO timestamps   1.2.3.4 - - [2026-11-22T10:11:48+01:00] "GET / HTTP/1.1" …   (brackets optional)
//
// The request line may hold escaped quotes (\" from Apache, \x22 from
// nginx) and any bytes the server escaped; a request line that is not
// "METHOD TARGET [PROTOCOL]" (TLS handshakes sent to a plain-HTTP port are
// logged as "\x16\x03\x01…" 400, an empty request as "-") is kept with
// HTTP.Invalid set. "-" fields are empty (Bytes -1). A request line with
// unescaped quotes (old servers) is recovered by looking for the quote that
// is followed by a status code.
//
// # Event
//
// Kind KindHTTP, Action ActHTTPRequest, SrcIP the client (unset when the log
// names it by host name), User the remote user unless "-", Outcome failure
// for status ≥ 400 (success below, unknown for "-"), HTTP the request and
// response with the decoded path and query (see event.HTTP and Decode).
// Time is the record's instant in UTC; a timestamp without a zone is read
// in Options.Location.
//
// Allocation: the request target (path and query) is one string per line;
// Path and Query are slices of it. The low-cardinality fields (user agent,
// referrer, site, user, method, extension) are interned, each field in its
// own capped parse.Interner (small tables stay in cache; a repeated user
// agent is the same string, so consumers may compare them cheaply). HTTP
// parts are carved from slabs (one allocation every slabSize lines). A
// decoded path or query that differs from the logged one is allocated.
//
// The Apache error log (loghub's Apache sample) is a different format; see
// ErrorFormat.
//
// A Parser is not safe for concurrent use; one belongs to one input.
package access

import (
	"bytes"
	"fmt"
	"net/netip"
	"time"

	"winnow/internal/event"
	"winnow/internal/parse"
)

// slabSize is how many HTTP parts one allocation provides.
const slabSize = 256

// Parser parses access-log lines. Create it with New.
type Parser struct {
	opt  parse.Options
	loc  *time.Location
	in   *parse.Interner // small fields: site, user, method, protocol, extension
	ua   *parse.Interner
	ref  *parse.Interner
	slab []event.HTTP
	dec  []byte // scratch for decoding
	ext  [16]byte

	lastTS   [48]byte
	lastTSN  int
	lastTime time.Time
}

var _ parse.Parser = (*Parser)(nil)

// New returns a parser for one input.
func New(o parse.Options) *Parser {
	loc := o.Location
	if loc == nil {
		loc = time.Local
	}
	return &Parser{opt: o, loc: loc, in: parse.NewInterner(4096), ua: parse.NewInterner(8192), ref: parse.NewInterner(8192)}
}

// Format returns the "access" input format.
func Format() parse.Format {
	return parse.Format{
		Name:    "access",
		Summary: "web server access logs: Apache/nginx common, combined, vhost_combined, extra trailing fields, quote-wrapped lines, ISO timestamps",
		Sniff:   Sniff,
		New:     func(o parse.Options) parse.Parser { return New(o) },
	}
}

// Sniff scores sample lines: the share of non-blank lines that parse.
func Sniff(lines [][]byte) float64 {
	p := New(parse.Options{Location: time.UTC})
	var ev event.Event
	ok, n := 0, 0
	for _, l := range lines {
		if len(bytes.TrimSpace(l)) == 0 {
			continue
		}
		n++
		if p.Parse(l, &ev) == nil {
			ok++
		}
	}
	if n == 0 {
		return 0
	}
	return float64(ok) / float64(n)
}

// malformed is the error for lines that are not access-log records.
func malformed(why string) error { return fmt.Errorf("%w: %s", parse.ErrMalformed, why) }

var (
	errHeader  = malformed("no client and timestamp")
	errTime    = malformed("bad timestamp")
	errRequest = malformed("no quoted request")
	errStatus  = malformed("no status code after the request")
	errBlank   = fmt.Errorf("%w: blank line", parse.ErrSkip)
)

// Parse implements parse.Parser.
func (p *Parser) Parse(line []byte, ev *event.Event) error {
	ref := ev.Ref
	b := line
	for len(b) > 0 && (b[len(b)-1] == '\r' || b[len(b)-1] == '\n') {
		b = b[:len(b)-1]
	}
	raw := b
	if len(bytes.TrimSpace(b)) == 0 {
		return errBlank
	}
	if b[0] == '"' { // a line wrapped in an extra pair of quotes
		b = b[1:]
	}

	// Header: [vhost] client ident user, then the timestamp.
	var toks [6][]byte
	n, pos := 0, 0
	var ts []byte
	for {
		for pos < len(b) && b[pos] == ' ' {
			pos++
		}
		if pos >= len(b) {
			return errHeader
		}
		if b[pos] == '[' && n > 0 { // at n = 0 it is a "[v6]:port" vhost or client
			end := bytes.IndexByte(b[pos:], ']')
			if end < 0 {
				return errTime
			}
			ts = b[pos+1 : pos+end]
			pos += end + 1
			break
		}
		if b[pos] == '"' {
			return errHeader
		}
		end := pos
		for end < len(b) && b[end] != ' ' {
			end++
		}
		tok := b[pos:end]
		if n >= 1 && looksISO(tok) {
			ts = tok
			pos = end
			break
		}
		if n == len(toks) {
			return errHeader
		}
		toks[n] = tok
		n++
		pos = end
	}
	if n == 0 {
		return errHeader
	}
	t, ok := p.time(ts)
	if !ok {
		return errTime
	}

	var site, client, user []byte
	switch {
	case n >= 4:
		if _, ok := parse.ParseAddr(toks[1]); ok { // vhost_combined: %v:%p %h %l %u
			site, client = toks[0], toks[1]
			user = span(b, toks[3], toks[n-1])
			break
		}
		client = toks[0] // a user name with spaces
		user = span(b, toks[2], toks[n-1])
	case n == 3:
		client, user = toks[0], toks[2]
	case n == 2:
		client, user = toks[0], toks[1]
	default:
		client = toks[0]
	}

	// Request.
	for pos < len(b) && b[pos] == ' ' {
		pos++
	}
	if pos >= len(b) || b[pos] != '"' {
		return errRequest
	}
	reqStart := pos + 1
	reqEnd := quoteEnd(b, reqStart)
	if reqEnd < 0 || !statusFollows(b, reqEnd) {
		reqEnd = findStatusQuote(b, reqStart)
		if reqEnd < 0 {
			return errStatus
		}
	}
	req := b[reqStart:reqEnd]
	pos = reqEnd + 2

	// Status and bytes.
	status := 0
	if b[pos] == '-' {
		pos++
	} else {
		status = int(b[pos]-'0')*100 + int(b[pos+1]-'0')*10 + int(b[pos+2]-'0')
		pos += 3
	}
	size := int64(-1)
	for pos < len(b) && b[pos] == ' ' {
		pos++
	}
	if pos < len(b) && isDigit(b[pos]) {
		size = 0
		for pos < len(b) && isDigit(b[pos]) {
			if size < 1<<50 {
				size = size*10 + int64(b[pos]-'0')
			}
			pos++
		}
	} else if pos < len(b) && b[pos] == '-' {
		pos++
	}

	// Referrer and user agent (combined), then anything (ignored).
	var refr, ua []byte
	if q, end, ok := quoted(b, pos); ok {
		refr = q
		if q2, _, ok := quoted(b, end); ok {
			ua = q2
		}
	}

	h := p.part()
	h.Status = status
	h.Bytes = size
	p.request(h, req)
	if len(site) > 0 {
		h.Site = p.in.String(stripPort(site))
	}
	if !dash(refr) {
		h.Referrer = p.ref.String(refr)
	}
	if !dash(ua) {
		h.UserAgent = p.ua.String(ua)
	}

	*ev = event.Event{
		Time:   t,
		Kind:   event.KindHTTP,
		Action: event.ActHTTPRequest,
		Count:  1,
		HTTP:   h,
		Ref:    ref,
		Raw:    raw,
	}
	switch {
	case status >= 400:
		ev.Outcome = event.OutcomeFailure
	case status > 0:
		ev.Outcome = event.OutcomeSuccess
	}
	if a, ok := clientAddr(client); ok {
		ev.SrcIP = a
	}
	if !dash(user) {
		ev.User = p.in.String(user)
	}
	return nil
}

// time parses ts, reusing the previous result for the same bytes.
func (p *Parser) time(ts []byte) (time.Time, bool) {
	if len(ts) == p.lastTSN && len(ts) > 0 && bytes.Equal(ts, p.lastTS[:p.lastTSN]) {
		return p.lastTime, true
	}
	t, ok := parseTime(ts, p.loc)
	if !ok {
		return t, false
	}
	if len(ts) <= len(p.lastTS) {
		p.lastTSN = copy(p.lastTS[:], ts)
		p.lastTime = t
	}
	return t, true
}

// part returns a fresh HTTP part carved from the current slab.
func (p *Parser) part() *event.HTTP {
	if len(p.slab) == 0 {
		p.slab = make([]event.HTTP, slabSize)
	}
	h := &p.slab[0]
	p.slab = p.slab[1:]
	return h
}

// request fills the request-line fields of h.
func (p *Parser) request(h *event.HTTP, req []byte) {
	sp := bytes.IndexByte(req, ' ')
	if sp <= 0 || !isMethod(req[:sp]) {
		p.invalid(h, req)
		return
	}
	method := req[:sp]
	target := req[sp+1:]
	for len(target) > 0 && target[0] == ' ' {
		target = target[1:]
	}
	if last := bytes.LastIndexByte(target, ' '); last >= 0 && bytes.HasPrefix(target[last+1:], []byte("HTTP/")) {
		h.Protocol = protocol(p.in, target[last+1:])
		target = target[:last]
		for len(target) > 0 && target[len(target)-1] == ' ' {
			target = target[:len(target)-1]
		}
	}
	if len(target) == 0 {
		p.invalid(h, req)
		return
	}
	path, query := target, []byte(nil)
	if q := bytes.IndexByte(target, '?'); q >= 0 {
		path, query = target[:q], target[q+1:]
	}
	if len(path) == 0 { // "GET ?x": not a request target
		h.Protocol = ""
		p.invalid(h, req)
		return
	}
	h.Method = methodString(p.in, method)
	t := string(target) // one allocation: Path and Query are slices of it
	h.Path = t[:len(path)]
	h.PathDecoded = h.Path
	if needsDecodeBytes(path, false) {
		p.dec = AppendDecode(p.dec[:0], path, false)
		if !bytes.Equal(p.dec, path) {
			h.PathDecoded = string(p.dec)
		}
	}
	if len(query) > 0 {
		h.Query = t[len(path)+1:]
		h.QueryDecoded = h.Query
		if needsDecodeBytes(query, true) {
			p.dec = AppendDecode(p.dec[:0], query, true)
			if !bytes.Equal(p.dec, query) {
				h.QueryDecoded = string(p.dec)
			}
		}
	}
	h.Ext = p.extension(h.PathDecoded)
}

func (p *Parser) invalid(h *event.HTTP, req []byte) {
	h.Invalid = true
	if !dash(req) {
		h.Path = string(req)
		h.PathDecoded = h.Path
	}
}

// extension returns the interned lower-case extension of path's last
// segment (alphanumerics after the last dot, up to 10), or "".
func (p *Parser) extension(path string) string {
	seg := path
	for i := len(path) - 1; i >= 0; i-- {
		if path[i] == '/' {
			seg = path[i+1:]
			break
		}
	}
	dot := -1
	for i := len(seg) - 1; i >= 0; i-- {
		if seg[i] == '.' {
			dot = i
			break
		}
	}
	if dot < 0 {
		return ""
	}
	n := 0
	for i := dot + 1; i < len(seg) && n < len(p.ext); i++ {
		c := seg[i]
		switch {
		case c >= 'A' && c <= 'Z':
			c += 'a' - 'A'
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		default:
			i = len(seg)
			continue
		}
		p.ext[n] = c
		n++
	}
	if n == 0 || n > 10 {
		return ""
	}
	return p.in.String(p.ext[:n])
}

// quoteEnd returns the index of the quote that closes a string starting at
// i (after its opening quote), honouring backslash escapes, or -1: the
// first quote preceded by an even number of backslashes.
func quoteEnd(b []byte, i int) int {
	for i < len(b) {
		q := bytes.IndexByte(b[i:], '"')
		if q < 0 {
			return -1
		}
		q += i
		bs := 0
		for j := q - 1; j >= i && b[j] == '\\'; j-- {
			bs++
		}
		if bs%2 == 0 {
			return q
		}
		i = q + 1
	}
	return -1
}

// statusFollows reports whether the quote at q is followed by " NNN" or
// " -" and then a space or the end of the line.
func statusFollows(b []byte, q int) bool {
	if q+2 >= len(b) || b[q+1] != ' ' {
		return false
	}
	if b[q+2] == '-' {
		return q+3 == len(b) || b[q+3] == ' '
	}
	if q+5 > len(b) || !isDigit(b[q+2]) || !isDigit(b[q+3]) || !isDigit(b[q+4]) || b[q+2] == '0' {
		return false
	}
	return q+5 == len(b) || b[q+5] == ' ' || b[q+5] == '"'
}

// findStatusQuote finds the first quote after i that is followed by a
// status code: the end of a request line with unescaped quotes.
func findStatusQuote(b []byte, i int) int {
	for ; i < len(b); i++ {
		if b[i] == '"' && statusFollows(b, i) {
			return i
		}
	}
	return -1
}

// quoted returns the quoted string starting at the first non-space byte at
// or after i, and the index after its closing quote.
func quoted(b []byte, i int) ([]byte, int, bool) {
	for i < len(b) && b[i] == ' ' {
		i++
	}
	if i >= len(b) || b[i] != '"' {
		return nil, i, false
	}
	end := quoteEnd(b, i+1)
	if end < 0 {
		return nil, i, false
	}
	return b[i+1 : end], end + 1, true
}

// span returns the bytes of b from the start of first to the end of last
// (both sub-slices of b).
func span(b, first, last []byte) []byte {
	if len(first) == 0 {
		return first
	}
	start := cap(b) - cap(first)
	end := cap(b) - cap(last) + len(last)
	if start < 0 || end > len(b) || start > end {
		return first
	}
	return b[start:end]
}

func dash(b []byte) bool { return len(b) == 0 || (len(b) == 1 && b[0] == '-') }

// looksISO reports whether tok starts like an ISO 8601 timestamp.
func looksISO(tok []byte) bool {
	return len(tok) >= 19 && isDigit(tok[0]) && isDigit(tok[3]) && tok[4] == '-' && tok[7] == '-' && (tok[10] == 'T' || tok[10] == ' ')
}

// clientAddr parses the client field: an address, possibly with a port
// ("1.2.3.4:5678", "[2001:db8::1]:443"); host names give ok = false.
func clientAddr(b []byte) (netip.Addr, bool) {
	if a, ok := parse.ParseAddr(b); ok {
		return a, true
	}
	if len(b) > 2 && b[0] == '[' {
		if end := bytes.IndexByte(b, ']'); end > 0 {
			return parse.ParseAddr(b[1:end])
		}
	}
	if c := bytes.LastIndexByte(b, ':'); c > 0 && bytes.IndexByte(b[:c], ':') < 0 {
		return parse.ParseAddr(b[:c])
	}
	return netip.Addr{}, false
}

// stripPort drops a trailing ":port" from a virtual host name.
func stripPort(b []byte) []byte {
	c := bytes.LastIndexByte(b, ':')
	if c <= 0 {
		return b
	}
	if b[0] == '[' { // [v6]:port
		if b[c-1] == ']' {
			return b[1 : c-1]
		}
		return b
	}
	if bytes.IndexByte(b[:c], ':') >= 0 { // a bare IPv6 address
		return b
	}
	for _, d := range b[c+1:] {
		if !isDigit(d) {
			return b
		}
	}
	return b[:c]
}

func isMethod(b []byte) bool {
	if len(b) == 0 || len(b) > 32 {
		return false
	}
	for _, c := range b {
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

func methodString(in *parse.Interner, b []byte) string {
	switch string(b) {
	case "GET":
		return "GET"
	case "POST":
		return "POST"
	case "HEAD":
		return "HEAD"
	case "PUT":
		return "PUT"
	case "DELETE":
		return "DELETE"
	case "OPTIONS":
		return "OPTIONS"
	case "PATCH":
		return "PATCH"
	case "CONNECT":
		return "CONNECT"
	}
	return in.String(b)
}

func protocol(in *parse.Interner, b []byte) string {
	switch string(b) {
	case "HTTP/1.1":
		return "HTTP/1.1"
	case "HTTP/1.0":
		return "HTTP/1.0"
	case "HTTP/2.0":
		return "HTTP/2.0"
	case "HTTP/2":
		return "HTTP/2"
	case "HTTP/3":
		return "HTTP/3"
	}
	return in.String(b)
}
