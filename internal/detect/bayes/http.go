package bayes

import (
	"bytes"
	"strings"

	"winnow/internal/event"
	"winnow/internal/parse/access"
	"winnow/internal/parse/httpraw"
)

// HTTP token classes. A request's tokens describe its method and resource,
// each path segment, each parameter (of the query and of a form body) by
// name, by the shape, length and (when short) the exact text of its
// decoded value, the words, symbol runs and character trigrams of the
// decoded values, encoding oddities, and the user agent.
const (
	HTTPMethod    Class = 1 + iota // method: "GET"
	HTTPMethodRes                  // method and resource: "POST anadir.jsp"
	HTTPSegment                    // decoded, lower-cased path segment: "tienda1"
	HTTPSegShape                   // shape of a path segment: "9.a.a" (see appendShape)
	HTTPPath                       // the whole decoded path, lower-cased
	HTTPExt                        // extension chain of the last segment: "jsp.bak"
	HTTPName                       // parameter name: "nombre"
	HTTPResName                    // resource and parameter name: "anadir.jsp?nombre"
	HTTPNames                      // resource and its parameter names in order: "anadir.jsp?id,nombre,precio"
	HTTPShape                      // parameter name and value shape: "precio=9"
	HTTPLen                        // parameter name and value length bucket: "precio#2"
	HTTPValue                      // parameter name and exact value (≤ 40 bytes): "modo=entrar"
	HTTPWord                       // a word (letter/digit run) of a value, lower-cased: "select"
	HTTPSymbol                     // a run of symbols in a value: "')--"
	HTTPGram                       // a character trigram of a value, lower-cased
	HTTPEncoding                   // an encoding oddity: "double", "nul", "ctl", "u-escape", "bad-escape"
	HTTPAgent                      // user-agent product: "mozilla/5.0", "sqlmap/1.4"
	HTTPAgentWord                  // a word of the user agent
	HTTPPathShape                  // shape of the whole decoded path: "/a9/a/a.a"
	HTTPParamChar                  // parameter name and a character class or symbol of its value, with a count for repeats: "email∋@2"
	HTTPParamGram                  // parameter name and a bigram of its value's classes (a, A, 9, é, symbols; ^ and $ at the ends): "dni:9A"
	HTTPPayload                    // a payload class found in a decoded value: "sql", "xss", "traversal", ...
	httpClasses
)

var httpClassNames = [...]string{"", "method", "method+resource", "segment", "segment-shape", "path", "extension",
	"param", "resource+param", "param-list", "value-shape", "value-length", "value", "word", "symbols", "trigram",
	"encoding", "agent", "agent-word", "path-shape", "param-char", "param-gram", "payload"}

// HTTPRequest is what the HTTP tokeniser reads: a request as sent (path,
// query and body still percent-encoded). Access-log events give no body;
// raw requests (CSIC) do.
type HTTPRequest struct {
	Method      string
	Path        string // without scheme and host
	Query       string // without '?'
	Body        []byte // form or other body; nil when none
	ContentType string
	UserAgent   string
}

// HTTPFromEvent reads an access-log event's request (nil when ev has no
// HTTP part).
func HTTPFromEvent(ev *event.Event) (HTTPRequest, bool) {
	h := ev.HTTP
	if h == nil {
		return HTTPRequest{}, false
	}
	if h.Invalid {
		return HTTPRequest{Method: "-", Path: h.Path, UserAgent: h.UserAgent}, true
	}
	return HTTPRequest{Method: h.Method, Path: h.Path, Query: h.Query, UserAgent: h.UserAgent}, true
}

// HTTPFromRaw reads a raw request (httpraw, the CSIC format).
func HTTPFromRaw(r *httpraw.Request) HTTPRequest {
	return HTTPRequest{Method: r.Method, Path: r.Path, Query: r.Query, Body: r.Body,
		ContentType: r.Get("Content-Type"), UserAgent: r.Get("User-Agent")}
}

// Limits of the HTTP tokeniser.
const (
	maxValueGrams = 256 // value bytes that give trigrams
	maxExact      = 40  // longest value kept as an exact token
	maxWord       = 24  // longer words are cut
	maxSymbols    = 8   // longer symbol runs are cut
	maxParams     = 64  // parameters tokenised per request
	maxNamesList  = 256 // bytes of the parameter-name list token
)

// HTTP adds the tokens of r to t (after t.Reset by the caller).
func (t *Tokens) HTTP(r *HTTPRequest) {
	method := r.Method
	if method == "" {
		method = "-"
	}
	if t.paths == nil {
		t.paths = make([]cached, pathSlots)
	}
	slot := &t.paths[finish(hashString(hashString(fnvOffset, method), r.Path))&(pathSlots-1)]
	if slot.ok && !t.Verbose && slot.key == method && slot.key2 == r.Path {
		t.replay(slot)
		t.res = append(t.res[:0], slot.res...)
	} else {
		t.startCollect(slot, method, r.Path)
		t.path(method, r.Path)
		slot.res = append(slot.res[:0], t.res...)
		t.endCollect(slot)
	}

	// Parameters of the query, then of the body.
	t.names = append(append(t.names[:0], t.res...), '?')
	t.raw = append(t.raw[:0], r.Query...)
	np := t.params(t.raw, 0)
	if len(r.Body) > 0 {
		if formBody(r.ContentType, r.Body) {
			t.params(r.Body, np)
		} else {
			t.group = uint8(np + 1)
			t.value(bodyName, r.Body)
		}
	}
	t.group = 0
	if len(t.names) > maxNamesList {
		t.names = t.names[:maxNamesList]
	}
	t.group = groupResource
	t.addB(HTTPNames, t.names)
	t.group = 0
	t.agent(r.UserAgent)
}

// Token groups of an HTTP request (see Tokens.Groups and Model.Score): the
// context (0: method, directory segments, user agent), each parameter
// (1..maxParams; a body that is not a form after them), and the resource
// (the last path segment, the whole path and its shape, the extension, the
// method with the resource, the parameter names, encoding oddities). A
// request for an unknown resource under known directories is judged on
// the resource, not outvoted by its directories.
const groupResource = maxGroups - 1

// agent adds the user-agent tokens, from a cache when the agent is the
// previous request's (and the text is not wanted).
func (t *Tokens) agent(ua string) {
	c := &t.ua
	if c.ok && !t.Verbose && ua == c.key {
		t.replay(c)
		return
	}
	t.startCollect(c, ua, "")
	if ua == "" {
		t.addS(HTTPAgent, "-")
	} else {
		prod := ua
		if sp := strings.IndexByte(prod, ' '); sp >= 0 {
			prod = prod[:sp]
		}
		t.addLower(HTTPAgent, prod)
		t.raw = append(t.raw[:0], ua...)
		t.words(HTTPAgentWord, t.raw, 3)
	}
	t.endCollect(c)
}

// path adds the tokens of the method and path and leaves the resource
// (last segment, "name/" for a directory) in t.res.
func (t *Tokens) path(method, rawPath string) {
	t.addS(HTTPMethod, method)
	t.raw = append(t.raw[:0], rawPath...)
	t.buf = decode(t.buf[:0], t.raw, false)
	t.buf2 = lowerASCII(t.buf2[:0], t.buf)
	lpath := t.buf2
	var res []byte // last segment (the resource); "name/" for a directory
	resStart := -1
	var sh [maxShape + 1]byte
	for i := 0; i < len(lpath); {
		if lpath[i] == '/' {
			i++
			continue
		}
		j := i
		for j < len(lpath) && lpath[j] != '/' {
			j++
		}
		if res != nil { // the previous segment was a directory
			t.addB(HTTPSegment, res)
			t.addB(HTTPSegShape, appendShape(sh[:0], res))
		}
		res, resStart = lpath[i:j], i
		i = j
	}
	t.group = groupResource
	defer func() { t.group = 0 }()
	if len(lpath) > 0 {
		t.addB(HTTPPath, lpath)
		var psh [2 * maxShape]byte
		t.addB(HTTPPathShape, appendShapeN(psh[:0], lpath, 2*maxShape-1))
	}
	if res != nil {
		t.addB(HTTPSegment, res)
		t.addB(HTTPSegShape, appendShape(sh[:0], res))
	}
	if resStart >= 0 && lpath[len(lpath)-1] == '/' {
		res = lpath[resStart:]
	}
	if dot := bytes.IndexByte(res, '.'); dot >= 0 {
		ext := res[dot+1:]
		if len(ext) > 16 {
			ext = ext[:16]
		}
		t.addB(HTTPExt, ext)
	}
	t.res = append(t.res[:0], res...)
	t.addSB(HTTPMethodRes, method, ' ', t.res)
	t.encodingOddities(t.raw)
}

// formBody reports whether a body is form-encoded: by its content type, or
// without one, by looking like "a=b&c=d".
func formBody(ct string, b []byte) bool {
	if ct != "" {
		return strings.Contains(strings.ToLower(ct), "x-www-form-urlencoded")
	}
	return bytes.IndexByte(b, '=') > 0 && bytes.IndexByte(b, '\n') < 0
}

// bodyName is the parameter name given to a body that is not a form.
var bodyName = []byte("$body")

// params tokenises "a=b&c=d" (still encoded); np parameters were seen
// before. It returns the new count.
func (t *Tokens) params(q []byte, np int) int {
	for len(q) > 0 {
		var kv []byte
		if amp := bytes.IndexByte(q, '&'); amp >= 0 {
			kv, q = q[:amp], q[amp+1:]
		} else {
			kv, q = q, nil
		}
		if len(kv) == 0 {
			continue
		}
		if np >= maxParams {
			t.Dropped++
			continue
		}
		np++
		t.group = uint8(np)
		rawName, rawVal, hasVal := bytes.Cut(kv, []byte("="))
		t.encodingOddities(kv)
		t.buf = decode(t.buf[:0], rawName, true)
		n := len(t.buf)
		if n > 64 {
			n = 64
			t.buf = t.buf[:64]
		}
		t.buf = decode(t.buf, rawVal, true)
		name, val := t.buf[:n], t.buf[n:]
		if len(t.names) < maxNamesList {
			if t.names[len(t.names)-1] != '?' {
				t.names = append(t.names, ',')
			}
			t.names = append(t.names, name...)
		}
		t.addB(HTTPName, name)
		t.addBB(HTTPResName, t.res, '?', name)
		if !hasVal {
			t.addBB(HTTPShape, name, '=', noValue)
			continue
		}
		t.paramValue(name, val)
	}
	return np
}

var noValue = []byte("<none>")

// paramValue adds the tokens of one decoded value of parameter name.
func (t *Tokens) paramValue(name, val []byte) {
	var sh [maxShape + 1]byte
	t.addBB(HTTPShape, name, '=', appendShape(sh[:0], val))
	t.addBN(HTTPLen, name, '#', lengthBucket(len(val)))
	if len(val) <= maxExact && !hasDigit(val) {
		t.addBB(HTTPValue, name, '=', val)
	}
	t.valueProfile(name, val)
	t.payloads(val)
	t.valueParts(val)
}

// value tokenises a non-form body (or any free text) as one value.
func (t *Tokens) value(name, v []byte) {
	t.buf = decode(t.buf[:0], v, false)
	t.paramValue(name, t.buf)
}

// valueParts adds the words, symbol runs and trigrams of a decoded value.
func (t *Tokens) valueParts(v []byte) {
	t.words(HTTPWord, v, 1)
	// Symbol runs.
	for i := 0; i < len(v); {
		if charClass[v[i]] != chOther {
			i++
			continue
		}
		j := i
		for j < len(v) && charClass[v[j]] == chOther {
			j++
		}
		run := v[i:j]
		if len(run) > maxSymbols {
			run = run[:maxSymbols]
		}
		t.addB(HTTPSymbol, run)
		i = j
	}
	// Trigrams, lower-cased, digits folded to '0' (numbers are values, not
	// structure).
	g := v
	if len(g) > maxValueGrams {
		g = g[:maxValueGrams]
	}
	for i := 0; i+3 <= len(g); i++ {
		if charClass[g[i]] != chOther && charClass[g[i+1]] != chOther && charClass[g[i+2]] != chOther {
			continue // only trigrams around symbols: syntax, not names
		}
		h := hashStart(HTTPGram)
		var tri [3]byte
		for k := 0; k < 3; k++ {
			c := g[i+k]
			switch {
			case c >= 'A' && c <= 'Z':
				c += 'a' - 'A'
			case c >= '0' && c <= '9':
				c = '0'
			}
			tri[k] = c
			h = hashByte(h, c)
		}
		t.add(HTTPGram, h, func() string { return string(tri[:]) })
	}
}

// words adds the letter/digit runs of v at least min bytes long,
// lower-cased, as class c.
func (t *Tokens) words(c Class, v []byte, min int) {
	for i := 0; i < len(v); {
		k := charClass[v[i]]
		if k != chLetter && k != chDigit {
			i++
			continue
		}
		j := i
		for j < len(v) && (charClass[v[j]] == chLetter || charClass[v[j]] == chDigit) {
			j++
		}
		w := v[i:j]
		i = j
		if len(w) < min || !hasLetter(w) {
			continue // numbers are values, not words
		}
		if len(w) > maxWord {
			w = w[:maxWord]
		}
		h := hashStart(c)
		for _, b := range w {
			if b >= 'A' && b <= 'Z' {
				b += 'a' - 'A'
			}
			h = hashByte(h, b)
		}
		t.add(c, h, func() string { return strings.ToLower(string(w)) })
	}
}

// encodingOddities adds tokens for encodings real clients do not send:
// double percent-encoding, %u escapes, invalid escapes, encoded NUL and
// control bytes.
func (t *Tokens) encodingOddities(s []byte) {
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			continue
		}
		if i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2]) {
			if i+1 < len(s) && (s[i+1] == 'u' || s[i+1] == 'U') {
				t.addS(HTTPEncoding, "u-escape")
			} else {
				t.addS(HTTPEncoding, "bad-escape")
			}
			continue
		}
		v := unhex(s[i+1])<<4 | unhex(s[i+2])
		switch {
		case v == '%':
			t.addS(HTTPEncoding, "double")
		case v == 0:
			t.addS(HTTPEncoding, "nul")
		case v < 0x20 || v == 0x7f:
			t.addS(HTTPEncoding, "ctl")
		}
	}
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}

func hasDigit(b []byte) bool {
	for _, c := range b {
		if c >= '0' && c <= '9' {
			return true
		}
	}
	return false
}

func hasLetter(b []byte) bool {
	for _, c := range b {
		if charClass[c] == chLetter {
			return true
		}
	}
	return false
}

// decode appends src decoded as the access-log parser decodes (see
// access.AppendDecode), copying it when it holds nothing to decode.
func decode(dst, src []byte, query bool) []byte {
	for _, c := range src {
		if c == '%' || c == '\\' || c >= 0x80 || (c == '+' && query) {
			return access.AppendDecode(dst, src, query)
		}
	}
	return append(dst, src...)
}

// ParamValue adds the tokens of one parameter value (decoded as a query
// value): its shape, length, exact text, words, symbol runs and trigrams.
// For classifiers of bare values (parameter-value datasets).
func (t *Tokens) ParamValue(name, value string) {
	t.raw = append(t.raw[:0], value...)
	t.buf = decode(t.buf[:0], t.raw, true)
	t.paramValue([]byte(name), t.buf)
}

// identityStrength multiplies the prior's strength for token classes that
// name instances rather than structure (see classStrength): such a token
// needs about identityStrength·Strength items before its own counts
// outweigh its class's prior.
const identityStrength = 50.0

// classStrength is the factor on Params.Strength for a token class.
// Classes whose tokens name instances — the words and exact values of
// parameters, which are people's names, addresses and passwords — carry
// evidence only once seen in many items: a name that happened to occur in
// a few attacks of the training set says nothing about the next request
// that carries it, and a model that trusts it memorises its training
// traffic instead of learning what attacks look like. The character
// trigrams of values count as such (they spell names too); a word like
// "select" seen in hundreds of attacks still speaks.
func classStrength(k Kind, c Class) float64 {
	if k == KindHTTP && (c == HTTPWord || c == HTTPValue || c == HTTPGram) {
		return identityStrength
	}
	return 1
}
