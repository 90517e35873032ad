// Package audit reads Linux audit logs — auditd's audit.log (raw, or the
// ENRICHED format with names after a GS byte, or `ausearch -i`
// interpreted output) — into one event per audit event: every record that
// shares an event serial (SYSCALL + EXECVE + CWD + PATH + PROCTITLE ...)
// becomes one event.Event with an event.Audit part, hex-encoded fields
// decoded (proctitle, execve arguments, paths, comm, exe, key), uid/auid/
// euid as names where the log gives them, SELinux AVC and AppArmor
// decisions, account and configuration changes. SyslogMessage reads the
// AVC and AppArmor records that reach syslog or journald through the
// kernel ("kernel: audit: type=1400 audit(...): apparmor=...").
//
// Records of one event are written together; the decoder assembles an
// event until its EOE record, an `ausearch` separator ("----"), or records
// of later events have followed for MaxSpread lines, so interleaved
// records of concurrent events are still grouped. Lines that are not
// audit records are counted as malformed and sampled, never fatal.
package audit

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"strconv"
	"time"

	"winnow/internal/event"
	"winnow/internal/parse"
)

// Name is the format name (--input-format audit).
const Name = "audit"

// MaxSpread is how many lines an event's records may spread over
// (interleaved with other events') before it is emitted.
const MaxSpread = 64

// maxLine bounds one record (EXECVE of a long command line is split by
// auditd into a[n][i] pieces well below this).
const maxLine = 1 << 20

// Format returns the audit log format.
func Format() parse.Format {
	return parse.Format{
		Name:    Name,
		Summary: "Linux audit log (auditd raw, enriched or ausearch -i): records grouped per event, hex fields decoded, SELinux/AppArmor AVC",
		Magic:   Magic,
		Decode:  Decode,
	}
}

// Magic reports whether head starts an audit log: a record
// ("type=X msg=audit(", optionally after "node=N "), or ausearch's "----"
// separator followed by one.
func Magic(head []byte) bool {
	b := head
	if bytes.HasPrefix(b, []byte("----")) {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			return len(b) < 8
		}
		b = b[i+1:]
	}
	if bytes.HasPrefix(b, []byte("node=")) {
		sp := bytes.IndexByte(b, ' ')
		if sp < 0 {
			return false
		}
		b = b[sp+1:]
	}
	if !bytes.HasPrefix(b, []byte("type=")) {
		return false
	}
	if bytes.Contains(b, []byte(" msg=audit(")) {
		return true
	}
	// A head cut before "msg=audit(": a type name and nothing against it.
	sp := bytes.IndexByte(b, ' ')
	return sp < 0 && len(b) < 40
}

// Decode is the parse.Decoder of audit logs.
func Decode(r io.Reader, name string, o parse.Options, emit func(*event.Event) error) (parse.DecodeStats, error) {
	d := &decoder{name: name, emit: emit, loc: o.Location}
	d.st.Lines = true
	err := d.run(r)
	return d.st, err
}

type decoder struct {
	name   string
	emit   func(*event.Event) error
	loc    *time.Location
	st     parse.DecodeStats
	q      []*pending // events being assembled, oldest first
	rec    record
	line   int64
	interp bool // ausearch -i output
}

func (d *decoder) run(r io.Reader) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), maxLine)
	for sc.Scan() {
		d.line++
		d.st.Records++
		b := sc.Bytes()
		if len(bytes.TrimSpace(b)) == 0 {
			d.st.Skipped++
			continue
		}
		if bytes.HasPrefix(b, []byte("----")) {
			d.interp = true
			d.st.Skipped++
			if err := d.release(true); err != nil {
				return err
			}
			continue
		}
		if err := parseRecord(b, d.loc, d.interp, &d.rec); err != nil {
			d.st.Malformed++
			d.sample("not an audit record")
			continue
		}
		if d.rec.time.Location() != time.UTC {
			d.interp = true
		}
		if err := d.add(&d.rec, b); err != nil {
			return err
		}
	}
	if err := d.release(true); err != nil {
		return err
	}
	if err := sc.Err(); err != nil {
		d.st.Malformed++
		d.sample(err.Error())
		return fmt.Errorf("cannot read audit log after line %d: %w", d.line, err)
	}
	return nil
}

func (d *decoder) sample(why string) {
	if len(d.st.Samples) < 5 {
		d.st.Samples = append(d.st.Samples, event.Sample{File: d.name, Line: d.line, Text: "line " + strconv.FormatInt(d.line, 10) + ": " + why})
	}
}

func (d *decoder) add(r *record, line []byte) error {
	var p *pending
	for i := len(d.q) - 1; i >= 0; i-- {
		if d.q[i].a.Serial == r.serial && d.q[i].ev.Time.Equal(r.time) {
			p = d.q[i]
			break
		}
	}
	if p == nil {
		p = &pending{a: &event.Audit{}, line: d.line}
		p.ev.Ref = event.Ref{File: d.name, Line: d.line}
		d.q = append(d.q, p)
	}
	if p.ev.Raw == nil && !auxiliary(r.typ) {
		// The primary record's line is the event's evidence text.
		p.ev.Raw = append([]byte(nil), line...)
	}
	p.add(r, d.interp)
	return d.release(false)
}

// release emits complete events from the front: all when final.
func (d *decoder) release(final bool) error {
	n := 0
	for n < len(d.q) {
		p := d.q[n]
		if !final && !p.done && d.line-p.line < MaxSpread {
			break
		}
		if !p.primary && len(p.a.Records) == 1 && p.a.Records[0] == "EOE" {
			n++ // a lone end-of-event marker
			continue
		}
		d.st.Events++
		if err := d.emit(p.finish()); err != nil {
			return err
		}
		n++
	}
	if n > 0 {
		clear(d.q[:n])
		d.q = append(d.q[:0], d.q[n:]...)
	}
	return nil
}

// SyslogMessage reads an audit record carried by syslog or journald — the
// message of a "kernel:" or "audit[pid]:" line, such as
// `audit: type=1400 audit(1591784427.123:45): apparmor="DENIED" ...` or
// `AVC avc:  denied  { read } for pid=...` — into ev as a KindAudit event
// (a record of its own: the other records of its event are not in
// syslog). It reports whether msg was an audit record; ev's Time, Host and
// Ref (set by the syslog parser) are kept.
func SyslogMessage(msg []byte, ev *event.Event) bool {
	b := msg
	if i := bytes.Index(b, []byte("audit: ")); i >= 0 && i < 24 {
		b = b[i+len("audit: "):]
	}
	var r record
	switch {
	case bytes.HasPrefix(b, []byte("type=")):
		sp := bytes.IndexByte(b, ' ')
		if sp < 0 {
			return false
		}
		r.typ = typeName(b[5:sp])
		b = bytes.TrimLeft(b[sp+1:], " ")
		if bytes.HasPrefix(b, []byte("audit(")) {
			end := bytes.IndexByte(b, ')')
			if end < 0 {
				return false
			}
			if _, serial, err := parseStamp(b[6:end], nil); err == nil {
				r.serial = serial
			}
			b = bytes.TrimLeft(bytes.TrimPrefix(b[end+1:], []byte(":")), " ")
		}
	default:
		// journald's audit lines: "AVC apparmor=..." / "USER_AVC pid=...".
		sp := bytes.IndexByte(b, ' ')
		if sp < 3 || !upperWord(b[:sp]) {
			return false
		}
		r.typ = string(b[:sp])
		b = bytes.TrimLeft(b[sp+1:], " ")
	}
	if r.typ != "AVC" && r.typ != "USER_AVC" && r.typ != "SELINUX_ERR" && !bytes.Contains(b, []byte("apparmor=")) {
		return false
	}
	if r.body(b, false) != nil {
		return false
	}
	p := &pending{ev: *ev, a: &event.Audit{}}
	p.ev.Audit = p.a
	t := p.ev.Time
	p.add(&r, false)
	p.ev.Time = t
	p.a.Serial = r.serial
	if p.a.Type == "" {
		p.a.Type = r.typ
	}
	if p.ev.Host == "" {
		p.ev.Host = "-"
	}
	*ev = *p.finish()
	ev.Audit = p.a
	return true
}

func upperWord(b []byte) bool {
	for _, c := range b {
		if !('A' <= c && c <= 'Z' || c == '_') {
			return false
		}
	}
	return true
}
