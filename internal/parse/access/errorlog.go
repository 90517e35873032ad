package access

import (
	"bytes"
	"time"

	"winnow/internal/event"
	"winnow/internal/parse"
)

// ErrorParser parses web server error logs: they record server problems
// and refusals, not requests, so their events are KindSyslog/ActSyslog
// (no web detector reads them) with Program "apache" or "nginx", the
// client address in SrcIP when the line names one, and the text after the
// timestamp (level included) in Msg. They exist so that an error log given to 'winnow analyze'
// (loghub's Apache sample is one) is read and counted instead of failing
// format detection.
//
//	[Sun Dec 04 04:51:52 2005] [error] [client 82.209.158.209] Directory index forbidden by rule: /var/www/html/
//	[Wed Oct 11 14:32:52.123456 2026] [core:error] [pid 35708:tid 4328636416] [client 72.15.99.187:54321] AH00124: File does not exist: …
//	2026/11/22 10:11:48 [error] 1234#0: *5 open() "/x" failed (2: No such file or directory), client: 1.2.3.4, server: …
//
// Timestamps carry no zone: they are read in Options.Location. Outcome is
// failure for levels error and worse.
type ErrorParser struct {
	loc *time.Location
}

// NewError returns an error-log parser for one input.
func NewError(o parse.Options) *ErrorParser {
	loc := o.Location
	if loc == nil {
		loc = time.Local
	}
	return &ErrorParser{loc: loc}
}

// ErrorFormat returns the "errorlog" input format (Apache 2.2/2.4 and
// nginx error logs).
func ErrorFormat() parse.Format {
	return parse.Format{
		Name:    "errorlog",
		Summary: "Apache and nginx error logs (read and counted; events are syslog-kind, no web detector uses them)",
		Sniff: func(lines [][]byte) float64 {
			p := NewError(parse.Options{Location: time.UTC})
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
		},
		New: func(o parse.Options) parse.Parser { return NewError(o) },
	}
}

var _ parse.Parser = (*ErrorParser)(nil)

var errNotErrorLog = malformed("not an Apache or nginx error log line")

// Parse implements parse.Parser.
func (p *ErrorParser) Parse(line []byte, ev *event.Event) error {
	ref := ev.Ref
	b := bytes.TrimRight(line, "\r\n")
	if len(bytes.TrimSpace(b)) == 0 {
		return errBlank
	}
	var (
		t     time.Time
		ok    bool
		prog  string
		level []byte
		rest  []byte
		msg   []byte
	)
	switch {
	case b[0] == '[':
		end := bytes.IndexByte(b, ']')
		if end < 0 {
			return errNotErrorLog
		}
		if t, ok = parseCtime(b[1:end], p.loc); !ok {
			return errNotErrorLog
		}
		rest = bytes.TrimLeft(b[end+1:], " ")
		msg = rest
		if len(rest) == 0 || rest[0] != '[' {
			return errNotErrorLog
		}
		end = bytes.IndexByte(rest, ']')
		if end < 0 {
			return errNotErrorLog
		}
		level = rest[1:end]
		if c := bytes.LastIndexByte(level, ':'); c >= 0 { // 2.4: [module:level]
			level = level[c+1:]
		}
		prog = "apache"
		rest = bytes.TrimLeft(rest[end+1:], " ")
	case len(b) > 21 && b[4] == '/' && b[7] == '/' && b[10] == ' ' && b[19] == ' ' && b[20] == '[':
		iso := [19]byte{}
		copy(iso[:], b[:19])
		iso[4], iso[7] = '-', '-'
		if t, ok = parseISO(iso[:], p.loc); !ok {
			return errNotErrorLog
		}
		end := bytes.IndexByte(b[20:], ']')
		if end < 0 {
			return errNotErrorLog
		}
		level = b[21 : 20+end]
		msg = b[20:]
		prog = "nginx"
		rest = bytes.TrimLeft(b[21+end:], " ")
	default:
		return errNotErrorLog
	}
	if !isLevel(level) {
		return errNotErrorLog
	}
	*ev = event.Event{
		Time: t, Kind: event.KindSyslog, Action: event.ActSyslog, Program: prog,
		Count: 1, Ref: ref, Raw: b, Msg: msg,
	}
	switch string(level) {
	case "error", "crit", "alert", "emerg":
		ev.Outcome = event.OutcomeFailure
	}
	// Bracketed prefixes: [pid N:tid M], [client A:port].
	for len(rest) > 0 && rest[0] == '[' {
		end := bytes.IndexByte(rest, ']')
		if end < 0 {
			break
		}
		f := rest[1:end]
		switch {
		case bytes.HasPrefix(f, []byte("client ")):
			if a, ok := clientAddr(f[7:]); ok {
				ev.SrcIP = a
			}
		case bytes.HasPrefix(f, []byte("pid ")):
			n, _ := num(bytes.SplitN(f[4:], []byte(":"), 2)[0])
			ev.PID = int32(n)
		}
		rest = bytes.TrimLeft(rest[end+1:], " ")
	}
	if prog == "nginx" {
		if h := bytes.IndexByte(rest, '#'); h > 0 {
			n, _ := num(rest[:h])
			ev.PID = int32(n)
		}
		if i := bytes.Index(rest, []byte(", client: ")); i >= 0 {
			c := rest[i+10:]
			if j := bytes.IndexByte(c, ','); j >= 0 {
				c = c[:j]
			}
			if a, ok := clientAddr(c); ok {
				ev.SrcIP = a
			}
		}
	}
	return nil
}

func isLevel(b []byte) bool {
	switch string(b) {
	case "emerg", "alert", "crit", "error", "warn", "notice", "info", "debug":
		return true
	}
	return bytes.HasPrefix(b, []byte("trace"))
}

// parseCtime parses "Sun Dec 04 04:47:44 2005" (with optional
// ".uuuuuu" after the seconds) in loc.
func parseCtime(b []byte, loc *time.Location) (time.Time, bool) {
	// Www Mmm dd hh:mm:ss[.frac] yyyy
	if len(b) < 24 || b[3] != ' ' || b[7] != ' ' || b[10] != ' ' || b[13] != ':' || b[16] != ':' {
		return time.Time{}, false
	}
	mon := month(b[4:7])
	day, ok1 := num(bytes.TrimLeft(b[8:10], " "))
	hh, ok2 := num(b[11:13])
	mm, ok3 := num(b[14:16])
	ss, ok4 := num(b[17:19])
	nsec, rest, ok5 := frac(b[19:])
	if !ok1 || !ok2 || !ok3 || !ok4 || !ok5 || mon == 0 || len(rest) != 5 || rest[0] != ' ' {
		return time.Time{}, false
	}
	year, ok := num(rest[1:])
	if !ok {
		return time.Time{}, false
	}
	return civil(year, mon, day, hh, mm, ss, nsec, 0, false, loc)
}
