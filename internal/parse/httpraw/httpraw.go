// Package httpraw reads raw HTTP requests as the CSIC 2010 dataset stores
// them: a request line, header lines, a blank line and an optional body,
// one request after another:
//
//	POST http://localhost:8080/tienda1/publico/anadir.jsp HTTP/1.1
//	Host: localhost:8080
//	Content-Type: application/x-www-form-urlencoded
//	Content-Length: 68
//
//	id=3&nombre=Vino+Rioja&precio=100&cantidad=55&B1=A%F1adir+al+carrito
//
// Lines may end in CRLF, LF or CR alone. A request starts at a line that
// looks like a request line ("METHOD TARGET HTTP/d.d", METHOD in upper-case
// letters); its headers run to the first blank line; its body is every line
// after that up to the next request line, with trailing blank lines
// removed and inner line breaks kept as "\n". Text before the first request
// line (or a header block that is not "Name: value") is counted as
// malformed and skipped; bad input never stops the reader.
//
// Limits: a request keeps at most MaxHeaders headers and MaxBody bytes of
// body; longer lines are cut at MaxLine bytes. What was dropped is counted
// in Stats.
package httpraw

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strings"

	"winnow/internal/event"
	"winnow/internal/parse/access"
)

// Limits.
const (
	MaxLine    = 64 << 10 // bytes kept of one line
	MaxHeaders = 128      // headers kept per request
	MaxBody    = 1 << 20  // bytes kept of one body
)

// Header is one header line.
type Header struct {
	Name, Value string
}

// Request is one raw request. Strings are fresh per request (not aliased
// into the reader's buffers) and may be retained.
type Request struct {
	Method string // "GET"
	Target string // the request target as sent: "http://host/p?q" or "/p?q"
	Proto  string // "HTTP/1.1"
	// Path and Query split Target: the scheme and authority of an absolute
	// target are removed, Query has no '?'. Both are still percent-encoded.
	Path, Query string
	// Host is the Host header, else the authority of an absolute target.
	Host    string
	Headers []Header
	Body    []byte
	// Line is the 1-based line number of the request line in its input.
	Line int64
}

// Get returns the first header named name (case-insensitive), or "".
func (r *Request) Get(name string) string {
	for i := range r.Headers {
		if strings.EqualFold(r.Headers[i].Name, name) {
			return r.Headers[i].Value
		}
	}
	return ""
}

// Stats count what the reader skipped or cut.
type Stats struct {
	Requests        int64 // requests returned
	Lines           int64 // lines read
	Malformed       int64 // lines skipped: text outside any request, header lines without a colon
	TruncatedLines  int64 // lines longer than MaxLine, cut
	DroppedHeaders  int64 // headers beyond MaxHeaders
	TruncatedBodies int64 // bodies longer than MaxBody, cut
}

// Reader reads requests one by one. It is not safe for concurrent use.
type Reader struct {
	br      *bufio.Reader
	line    []byte // current line (reused)
	lineNo  int64
	pending bool // line holds a request line not yet consumed
	eof     bool
	err     error
	stats   Stats
}

// NewReader returns a Reader over r.
func NewReader(r io.Reader) *Reader {
	return &Reader{br: bufio.NewReaderSize(r, 64<<10)}
}

// Stats returns the counters so far.
func (r *Reader) Stats() Stats { return r.stats }

// readLine reads the next line into r.line without its terminator. It
// returns false at the end of input or on a read error (kept in r.err).
func (r *Reader) readLine() bool {
	if r.eof {
		return false
	}
	r.line = r.line[:0]
	cut := false
	for {
		c, err := r.br.ReadByte()
		if err != nil {
			if !errors.Is(err, io.EOF) {
				r.err = err
			}
			r.eof = true
			if len(r.line) == 0 && !cut {
				return false
			}
			break
		}
		if c == '\n' {
			break
		}
		if c == '\r' {
			if next, err := r.br.Peek(1); err == nil && next[0] == '\n' {
				_, _ = r.br.ReadByte()
			}
			break
		}
		if len(r.line) < MaxLine {
			r.line = append(r.line, c)
		} else {
			cut = true
		}
	}
	r.lineNo++
	r.stats.Lines++
	if cut {
		r.stats.TruncatedLines++
	}
	return true
}

// Next returns the next request, or (nil, io.EOF) at the end. A read
// error is returned after the requests before it.
func (r *Reader) Next() (*Request, error) {
	// Find a request line.
	for !r.pending {
		if !r.readLine() {
			return nil, r.endErr()
		}
		if isBlank(r.line) {
			continue
		}
		if IsRequestLine(r.line) {
			r.pending = true
			break
		}
		r.stats.Malformed++
	}
	r.pending = false
	req := &Request{Line: r.lineNo}
	splitRequestLine(r.line, req)

	// Headers, up to a blank line (or the next request line).
	var lastHeader = -1
	for {
		if !r.readLine() {
			r.finish(req, nil)
			return req, nil
		}
		if isBlank(r.line) {
			break
		}
		if IsRequestLine(r.line) { // a request without blank line or body
			r.pending = true
			r.finish(req, nil)
			return req, nil
		}
		if (r.line[0] == ' ' || r.line[0] == '\t') && lastHeader >= 0 { // obsolete line folding
			h := &req.Headers[lastHeader]
			h.Value += " " + string(bytes.TrimSpace(r.line))
			continue
		}
		colon := bytes.IndexByte(r.line, ':')
		if colon <= 0 {
			r.stats.Malformed++
			continue
		}
		if len(req.Headers) >= MaxHeaders {
			r.stats.DroppedHeaders++
			continue
		}
		req.Headers = append(req.Headers, Header{
			Name:  string(bytes.TrimSpace(r.line[:colon])),
			Value: string(bytes.TrimSpace(r.line[colon+1:])),
		})
		lastHeader = len(req.Headers) - 1
	}

	// Body: every line up to the next request line.
	var body []byte
	for r.readLine() {
		if IsRequestLine(r.line) {
			r.pending = true
			break
		}
		if len(body) > 0 || !isBlank(r.line) {
			if len(body) > 0 {
				body = append(body, '\n')
			}
			body = append(body, r.line...)
		}
		if len(body) > MaxBody {
			body = body[:MaxBody]
			r.stats.TruncatedBodies++
			// Skip the rest of this body.
			for r.readLine() {
				if IsRequestLine(r.line) {
					r.pending = true
					break
				}
			}
			break
		}
	}
	r.finish(req, body)
	return req, nil
}

func (r *Reader) finish(req *Request, body []byte) {
	for len(body) > 0 && (body[len(body)-1] == '\n' || body[len(body)-1] == ' ' || body[len(body)-1] == '\t') {
		body = body[:len(body)-1]
	}
	if len(body) > 0 {
		req.Body = body
	}
	if h := req.Get("Host"); h != "" {
		req.Host = h
	}
	r.stats.Requests++
}

func (r *Reader) endErr() error {
	if r.err != nil {
		return r.err
	}
	return io.EOF
}

func isBlank(b []byte) bool {
	for _, c := range b {
		if c != ' ' && c != '\t' {
			return false
		}
	}
	return true
}

// IsRequestLine reports whether line is "METHOD SP TARGET SP HTTP/d[.d]"
// with METHOD 3–16 upper-case letters (or '-' / '_') and a non-empty target.
func IsRequestLine(line []byte) bool {
	sp := bytes.IndexByte(line, ' ')
	if sp < 3 || sp > 16 {
		return false
	}
	for _, c := range line[:sp] {
		if (c < 'A' || c > 'Z') && c != '-' && c != '_' {
			return false
		}
	}
	last := bytes.LastIndexByte(line, ' ')
	if last <= sp+1 {
		return false
	}
	p := line[last+1:]
	if len(p) < 6 || string(p[:5]) != "HTTP/" || p[5] < '0' || p[5] > '9' {
		return false
	}
	for _, c := range p[6:] {
		if (c < '0' || c > '9') && c != '.' {
			return false
		}
	}
	return len(bytes.TrimSpace(line[sp+1:last])) > 0
}

// splitRequestLine fills Method, Target, Proto, Path, Query and Host.
func splitRequestLine(line []byte, req *Request) {
	sp := bytes.IndexByte(line, ' ')
	last := bytes.LastIndexByte(line, ' ')
	req.Method = string(line[:sp])
	req.Proto = string(line[last+1:])
	target := bytes.TrimSpace(line[sp+1 : last])
	req.Target = string(target)
	rest := req.Target
	if i := strings.Index(rest, "://"); i > 0 && i < 10 && !strings.ContainsAny(rest[:i], "/?") {
		auth := rest[i+3:]
		end := strings.IndexAny(auth, "/?")
		if end < 0 {
			end = len(auth)
		}
		req.Host = auth[:end]
		rest = auth[end:]
		if rest == "" || rest[0] == '?' {
			rest = "/" + rest
		}
	}
	if q := strings.IndexByte(rest, '?'); q >= 0 {
		req.Path, req.Query = rest[:q], rest[q+1:]
	} else {
		req.Path = rest
	}
}

// Event fills ev as a KindHTTP event (Action ActHTTPRequest) from req: the
// HTTP part's Method, Path, Query (decoded as the access-log parser
// decodes them), Site (the host without port), UserAgent, Referrer and
// Protocol. Raw requests carry no time, client address or status; the body
// has no place in the event and is kept by the caller if needed. ref is the
// event's Ref (file and request line).
func (req *Request) Event(ev *event.Event, ref event.Ref) {
	h := &event.HTTP{
		Method:    req.Method,
		Path:      req.Path,
		Query:     req.Query,
		Protocol:  req.Proto,
		UserAgent: req.Get("User-Agent"),
		Referrer:  req.Get("Referer"),
		Bytes:     -1,
	}
	if host := req.Host; host != "" {
		if c := strings.LastIndexByte(host, ':'); c > 0 && !strings.Contains(host[c:], "]") {
			host = host[:c]
		}
		h.Site = strings.ToLower(host)
	}
	h.PathDecoded = access.Decode(h.Path, false)
	h.QueryDecoded = access.Decode(h.Query, true)
	if seg := h.PathDecoded[strings.LastIndexByte(h.PathDecoded, '/')+1:]; strings.Contains(seg, ".") {
		ext := strings.ToLower(seg[strings.LastIndexByte(seg, '.')+1:])
		if len(ext) <= 10 {
			h.Ext = ext
		}
	}
	*ev = event.Event{
		Kind:   event.KindHTTP,
		Action: event.ActHTTPRequest,
		Count:  1,
		HTTP:   h,
		Ref:    ref,
	}
}

// Sniff scores sample lines (an input's first non-blank lines): 1 when the
// first is a request line and the next are headers, 0 otherwise.
func Sniff(lines [][]byte) float64 {
	if len(lines) == 0 || !IsRequestLine(lines[0]) {
		return 0
	}
	ok, n := 1, 1
	for _, l := range lines[1:min(len(lines), 8)] {
		n++
		if IsRequestLine(l) || bytes.IndexByte(l, ':') > 0 {
			ok++
		}
	}
	return float64(ok) / float64(n)
}
