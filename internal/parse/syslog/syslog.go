// Package syslog frames syslog lines: it finds the timestamp, host, program
// tag, pid and message of one line, without interpreting the message.
//
// Accepted framings (an optional "<PRI>" prefix is allowed before the first
// three):
//
//   - RFC 3164 / BSD, as in /var/log/auth.log and `journalctl -o short`:
//     "Nov 22 10:11:48 host prog[pid]: msg" (also "Nov  2" and "Nov 2",
//     an optional ".fraction" after the seconds). The year is not in the
//     record; see State.
//   - ISO 8601 with a zone, as rsyslog's high-precision format and
//     `journalctl -o short-iso` / `short-iso-precise` write it:
//     "2026-11-22T10:11:48.123456+01:00 host prog[pid]: msg" (zones "Z",
//     "+01:00", "+0100" and "+01"; fraction optional).
//   - RFC 5424: "<34>1 2026-11-22T10:11:48.003Z host app procid msgid [sd] msg",
//     with NILVALUE "-" for host, app, procid, msgid and structured data, and
//     an optional UTF-8 BOM before msg.
//
// The host is required (RFC 5424's NILVALUE excepted): a line whose token
// after the timestamp ends in ':' or contains '[' ("Nov 22 10:11:48
// sshd[1]: …") has no host and is malformed.
//
// The program tag is the run of bytes after the host up to '[', ':' or a
// space; it counts as a tag only when followed by "[pid]" and/or ':'.
// Otherwise the line has no tag: Program is empty and Msg starts right after
// the host (e.g. "syslogd 1.4.1: restart."). A line without a recognisable
// timestamp and host returns an error wrapping parse.ErrMalformed; lines that
// journalctl prints between records ("-- Boot …", "-- No entries --") return
// ErrSkip, which wraps parse.ErrSkip. Trailing '\r' and '\n' and a leading
// UTF-8 BOM are ignored; NUL and other control bytes in the header make the
// line malformed, as do ISO years before 1970. ParseHeader never panics and
// never allocates (errors are preallocated values).
//
// Times: RFC 3164 times are wall-clock times in Options.Location (nil means
// time.Local). Times that carry a zone are exact instants and are returned
// converted to the same Location, so every event of a run prints alike.
package syslog

import (
	"fmt"
	"time"

	"winnow/internal/parse"
)

// ErrSkip is returned for lines that are not records (journalctl's "-- …"
// marker lines). It wraps parse.ErrSkip.
var ErrSkip = fmt.Errorf("syslog: journal marker line: %w", parse.ErrSkip)

// Errors for malformed lines. They are values (no allocation per line) and
// wrap parse.ErrMalformed.
var (
	errEmpty     = fmt.Errorf("cannot frame syslog line: empty: %w", parse.ErrMalformed)
	errTimestamp = fmt.Errorf("cannot frame syslog line: no recognisable timestamp: %w", parse.ErrMalformed)
	errHost      = fmt.Errorf("cannot frame syslog line: no host after the timestamp: %w", parse.ErrMalformed)
	errPRI       = fmt.Errorf("cannot frame syslog line: bad <PRI>: %w", parse.ErrMalformed)
	err5424      = fmt.Errorf("cannot frame syslog line: truncated RFC 5424 header: %w", parse.ErrMalformed)
	errSD        = fmt.Errorf("cannot frame syslog line: bad RFC 5424 structured data: %w", parse.ErrMalformed)
)

// Framing says which syslog framing a line used.
type Framing uint8

// Framings.
const (
	FramingUnknown Framing = iota
	FramingRFC3164         // "Nov 22 10:11:48 host tag: msg"
	FramingISO             // rsyslog high precision, journald short-iso(-precise)
	FramingRFC5424         // "<PRI>1 timestamp host app procid msgid sd msg"
)

func (f Framing) String() string {
	switch f {
	case FramingRFC3164:
		return "rfc3164"
	case FramingISO:
		return "iso8601"
	case FramingRFC5424:
		return "rfc5424"
	}
	return "unknown"
}

// Header is the framing of one line. Every slice aliases the line passed to
// ParseHeader (never copied) and is nil when the line has no such part.
type Header struct {
	Time     time.Time
	Framing  Framing
	Priority int16 // the <PRI> value, or -1 when the line has none

	Host    []byte // hostname; empty only for RFC 5424 NILVALUE
	Program []byte // tag or APP-NAME, without "[pid]"
	ProcID  []byte // the bytes between '[' and ']' (or RFC 5424 PROCID)
	PID     int32  // ProcID as a number; 0 when absent or not numeric

	MsgID          []byte // RFC 5424 MSGID
	StructuredData []byte // RFC 5424 STRUCTURED-DATA including brackets

	// Msg is the message: after "tag: " (one space is dropped), or after
	// the host when there is no tag, or the RFC 5424 MSG without BOM. It
	// never ends in '\r'.
	Msg       []byte
	MsgOffset int // Msg == line[MsgOffset:MsgOffset+len(Msg)]
}

// State carries what framing needs across the lines of one input: the year
// of RFC 3164 timestamps and a cache of the last converted minute. The zero
// value is ready; one State belongs to one input and one goroutine, and
// must always be used with the same Options.
//
// Year of RFC 3164 lines: the first line gets Options.Year if set; else the
// year of Options.ModTime, or of Options.Now (time.Now() when zero), minus
// one when the line's month is after that reference month (a December line
// in a file modified in January is from last year). After that, a month
// that goes back by two or more (December → January) advances the year. A
// month that goes back by exactly one (a line from 23:59:59 on the last of
// the month among lines from the first) is treated as a straggler and keeps
// the year — or takes the previous year for a December line among January
// lines — without changing the state.
type State struct {
	ready    bool
	loc      *time.Location
	refYear  int
	refMonth int
	fixed    bool // Options.Year was given

	year  int // current year; 0 before the first RFC 3164 line
	month int // month of the last non-straggler RFC 3164 line

	cacheKey  uint64 // year, month, day, hour, minute of cacheBase; 0 = none
	cacheBase time.Time
}

func (st *State) setup(o *parse.Options) {
	st.ready = true
	st.loc = time.Local
	var opt parse.Options
	if o != nil {
		opt = *o
	}
	if opt.Location != nil {
		st.loc = opt.Location
	}
	switch {
	case opt.Year != 0:
		st.refYear, st.fixed = opt.Year, true
	case !opt.ModTime.IsZero():
		m := opt.ModTime.In(st.loc)
		st.refYear, st.refMonth = m.Year(), int(m.Month())
	default:
		now := opt.Now
		if now.IsZero() {
			now = time.Now()
		}
		now = now.In(st.loc)
		st.refYear, st.refMonth = now.Year(), int(now.Month())
	}
}

// ParseHeader frames one line. st carries per-input state (see State); it
// may be nil for a one-off line (then no year rollover or cache applies). o
// may be nil (zero Options). The returned slices alias line.
func ParseHeader(line []byte, st *State, o *parse.Options) (Header, error) {
	var h Header
	if st == nil {
		var tmp State
		err := tmp.Parse(line, o, &h)
		return h, err
	}
	err := st.Parse(line, o, &h)
	return h, err
}

// Parse is ParseHeader filling h in place. On error h is undefined.
func (st *State) Parse(line []byte, o *parse.Options, h *Header) error {
	if !st.ready {
		st.setup(o)
	}
	*h = Header{Priority: -1}
	line = trimEOL(line)
	start := 0
	if len(line) >= 3 && line[0] == 0xEF && line[1] == 0xBB && line[2] == 0xBF {
		start = 3
	}
	if start >= len(line) {
		return errEmpty
	}
	if line[start] == '-' && hasPrefixAt(line, start, "-- ") {
		return ErrSkip
	}
	i := start
	if line[i] == '<' {
		pri, n, ok := parsePRI(line[i:])
		if !ok {
			return errPRI
		}
		h.Priority = int16(pri)
		i += n
		if v := versionLen(line, i); v > 0 {
			return st.parse5424(line, i+v, h)
		}
	}
	if i >= len(line) {
		return errTimestamp
	}
	var n int
	switch c := line[i]; {
	case c >= '0' && c <= '9':
		var ok bool
		h.Time, n, ok = st.parseISO(line[i:])
		if !ok {
			return errTimestamp
		}
		h.Framing = FramingISO
	default:
		var ok bool
		h.Time, n, ok = st.parse3164(line[i:])
		if !ok {
			return errTimestamp
		}
		h.Framing = FramingRFC3164
	}
	i += n
	return st.hostAndTag(line, i, h)
}

// hostAndTag parses " host tag[pid]: msg" starting at the separator after
// the timestamp.
func (st *State) hostAndTag(line []byte, i int, h *Header) error {
	if i >= len(line) || line[i] != ' ' {
		return errHost
	}
	i = skipSpaces(line, i)
	hs := i
	for i < len(line) && line[i] != ' ' {
		c := line[i]
		if c < 0x21 || c == 0x7f || c == '[' {
			return errHost
		}
		i++
	}
	if i == hs || line[i-1] == ':' {
		return errHost // no host, or the token is a tag ("prog:")
	}
	h.Host = line[hs:i]
	if i >= len(line) {
		h.MsgOffset = len(line)
		h.Msg = line[len(line):]
		return nil
	}
	i = skipSpaces(line, i)
	parseTag(line, i, h)
	return nil
}

// parseTag fills Program, ProcID, PID and Msg from line[i:]. It accepts
// "tag: msg", "tag[pid]: msg", "tag[pid] msg"; anything else has no tag.
func parseTag(line []byte, i int, h *Header) {
	ts := i
	for i < len(line) {
		c := line[i]
		if c == ' ' || c == ':' || c == '[' {
			break
		}
		if c < 0x20 || c == 0x7f {
			setMsg(line, ts, h)
			return
		}
		i++
	}
	if i == ts || i >= len(line) {
		setMsg(line, ts, h)
		return
	}
	te := i
	var procID []byte
	if line[i] == '[' {
		ps := i + 1
		j := ps
		for j < len(line) && line[j] != ']' && line[j] != ' ' {
			j++
		}
		if j >= len(line) || line[j] != ']' {
			setMsg(line, ts, h)
			return
		}
		procID = line[ps:j]
		i = j + 1
		if i < len(line) && line[i] != ':' && line[i] != ' ' {
			setMsg(line, ts, h)
			return
		}
	} else if line[i] != ':' {
		setMsg(line, ts, h) // "word more words": no tag
		return
	}
	if i < len(line) && line[i] == ':' {
		i++
	}
	if i < len(line) && line[i] == ' ' {
		i++
	}
	h.Program = line[ts:te]
	h.ProcID = procID
	h.PID = atoi32(procID)
	setMsg(line, i, h)
}

func setMsg(line []byte, i int, h *Header) {
	h.MsgOffset = i
	h.Msg = line[i:]
}

// parse5424 parses the RFC 5424 header after "<PRI>VERSION ".
func (st *State) parse5424(line []byte, i int, h *Header) error {
	h.Framing = FramingRFC5424
	if i >= len(line) {
		return err5424
	}
	if line[i] == '-' {
		return errTimestamp // NILVALUE timestamp: no event time
	}
	t, n, ok := st.parseISO(line[i:])
	if !ok {
		return errTimestamp
	}
	h.Time = t
	i += n
	var f [4][]byte
	for k := range f {
		if i >= len(line) || line[i] != ' ' {
			return err5424
		}
		i++
		s := i
		for i < len(line) && line[i] != ' ' {
			c := line[i]
			if c < 0x21 || c == 0x7f {
				return err5424
			}
			i++
		}
		if i == s {
			return err5424
		}
		if !(i-s == 1 && line[s] == '-') {
			f[k] = line[s:i]
		}
	}
	h.Host, h.Program, h.ProcID, h.MsgID = f[0], f[1], f[2], f[3]
	h.PID = atoi32(h.ProcID)
	if i >= len(line) || line[i] != ' ' {
		return err5424
	}
	i++
	if i >= len(line) {
		return err5424
	}
	if line[i] == '-' {
		i++
	} else {
		e, ok := sdEnd(line, i)
		if !ok {
			return errSD
		}
		h.StructuredData = line[i:e]
		i = e
	}
	if i < len(line) {
		if line[i] != ' ' {
			return errSD
		}
		i++
		if hasPrefixAt(line, i, "\xEF\xBB\xBF") {
			i += 3
		}
	}
	setMsg(line, i, h)
	return nil
}

// sdEnd returns the end of the structured-data elements starting at
// line[i] == '['. Inside an element, '\' escapes the next byte and quoted
// strings may contain ']'.
func sdEnd(line []byte, i int) (int, bool) {
	if i >= len(line) || line[i] != '[' {
		return 0, false
	}
	for i < len(line) && line[i] == '[' {
		i++
		inQuote, closed := false, false
		for i < len(line) {
			c := line[i]
			if c == '\\' {
				i += 2
				continue
			}
			if c == '"' {
				inQuote = !inQuote
			} else if c == ']' && !inQuote {
				i++
				closed = true
				break
			}
			i++
		}
		if !closed {
			return 0, false
		}
	}
	return i, true
}

// parsePRI parses "<N>" with 1–3 digits and N ≤ 191, returning the value and
// the bytes consumed.
func parsePRI(b []byte) (int, int, bool) {
	v, i := 0, 1
	for i < len(b) && i <= 4 && b[i] >= '0' && b[i] <= '9' {
		v = v*10 + int(b[i]-'0')
		i++
	}
	if i == 1 || i > 4 || i >= len(b) || b[i] != '>' || v > 191 {
		return 0, 0, false
	}
	return v, i + 1, true
}

// versionLen returns the length of an RFC 5424 "VERSION " at line[i:] (a
// nonzero number of 1–3 digits and a space), or 0.
func versionLen(line []byte, i int) int {
	j := i
	for j < len(line) && j-i < 4 && line[j] >= '0' && line[j] <= '9' {
		j++
	}
	if j == i || j-i > 3 || j >= len(line) || line[j] != ' ' || line[i] == '0' {
		return 0
	}
	return j - i + 1
}

func trimEOL(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == '\r' || b[len(b)-1] == '\n') {
		b = b[:len(b)-1]
	}
	return b
}

// TrimEOL returns line without trailing '\r' and '\n' bytes: the Raw line
// that the event should carry.
func TrimEOL(line []byte) []byte { return trimEOL(line) }

func skipSpaces(b []byte, i int) int {
	for i < len(b) && b[i] == ' ' {
		i++
	}
	return i
}

func hasPrefixAt(b []byte, i int, s string) bool {
	return len(b)-i >= len(s) && string(b[i:i+len(s)]) == s
}

// atoi32 parses a decimal pid; it returns 0 for anything else or overflow.
func atoi32(b []byte) int32 {
	if len(b) == 0 || len(b) > 9 {
		return 0
	}
	var v int32
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0
		}
		v = v*10 + int32(c-'0')
	}
	return v
}
