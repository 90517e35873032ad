// Package syslogout is the syslog sink: each finding report becomes one
// RFC 5424 message, its text either a sentence (with the numbers in
// structured data) or an ArcSight CEF record, sent over UDP, TCP or TLS.
//
// Framing: UDP sends one datagram per message; TCP and TLS use RFC 6587
// octet counting ("LEN SP MSG"), which every current receiver (rsyslog,
// syslog-ng, winnow's own) reads and which keeps a message whole whatever
// bytes it holds. Control bytes in attacker-influenced text (user names,
// log excerpts) are replaced by spaces so that a newline-framed receiver
// cannot be fed forged lines either.
//
// Connection: dialled lazily; a failed send is retried once on a fresh
// connection, then the finding is counted as dropped and Write returns the
// error.
package syslogout

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"winnow/internal/event"
	"winnow/internal/sink"
)

// Options configure a Sink.
type Options struct {
	Network  string // "udp", "tcp" or "tls"
	Address  string // host:port
	Format   string // "rfc5424" (default) or "cef"
	Facility int    // syslog facility number 0–23 (default 13, log audit)
	Hostname string // HOSTNAME field (default os.Hostname)
	AppName  string // APP-NAME (default "winnow")
	Version  string // winnow's version, in CEF's header
	// CAFile verifies the TLS server against these PEM certificates
	// (default: the system roots). ServerName overrides the name checked.
	CAFile      string
	ServerName  string
	Timeout     time.Duration // dial and write deadline (default 5s)
	MinSeverity int
}

// Sink sends findings as syslog messages.
type Sink struct {
	o      Options
	name   string
	tls    *tls.Config
	conn   net.Conn
	cnt    sink.Counters
	buf    []byte
	closed bool
}

var (
	_ sink.Sink   = (*Sink)(nil)
	_ sink.Stater = (*Sink)(nil)
)

// New validates the options; the connection is made on the first Write.
func New(o Options) (*Sink, error) {
	switch o.Network {
	case "udp", "tcp", "tls":
	default:
		return nil, fmt.Errorf("cannot start syslog sink: network %q: want udp, tcp or tls", o.Network)
	}
	if _, _, err := net.SplitHostPort(o.Address); err != nil {
		return nil, fmt.Errorf("cannot start syslog sink: address %q: %w", o.Address, err)
	}
	switch o.Format {
	case "":
		o.Format = "rfc5424"
	case "rfc5424", "cef":
	default:
		return nil, fmt.Errorf("cannot start syslog sink: format %q: want rfc5424 or cef", o.Format)
	}
	if o.Facility == 0 {
		o.Facility = 13
	}
	if o.Facility < 0 || o.Facility > 23 {
		return nil, fmt.Errorf("cannot start syslog sink: facility %d: want 0–23", o.Facility)
	}
	if o.Hostname == "" {
		o.Hostname, _ = os.Hostname()
	}
	if o.AppName == "" {
		o.AppName = "winnow"
	}
	if o.Timeout <= 0 {
		o.Timeout = 5 * time.Second
	}
	s := &Sink{o: o, name: "syslog:" + o.Network + "://" + o.Address}
	if o.Network == "tls" {
		host, _, _ := net.SplitHostPort(o.Address)
		s.tls = &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}
		if o.ServerName != "" {
			s.tls.ServerName = o.ServerName
		}
		if o.CAFile != "" {
			pem, err := os.ReadFile(o.CAFile)
			if err != nil {
				return nil, fmt.Errorf("cannot start syslog sink: %w", err)
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("cannot start syslog sink: %s holds no PEM certificate", o.CAFile)
			}
			s.tls.RootCAs = pool
		}
	}
	return s, nil
}

// Name returns "syslog:<network>://<address>".
func (s *Sink) Name() string { return s.name }

// Stats returns the counters.
func (s *Sink) Stats() sink.Stats { return s.cnt.Stats() }

func (s *Sink) dial() error {
	d := net.Dialer{Timeout: s.o.Timeout}
	var err error
	switch s.o.Network {
	case "tls":
		s.conn, err = tls.DialWithDialer(&d, "tcp", s.o.Address, s.tls)
	default:
		s.conn, err = d.Dial(s.o.Network, s.o.Address)
	}
	return err
}

// Write formats and sends one message.
func (s *Sink) Write(f *sink.Finding) error {
	if s.closed {
		return fmt.Errorf("cannot write finding to %s: %w", s.name, sink.ErrClosed)
	}
	if f.Alert.Severity < s.o.MinSeverity {
		return nil
	}
	msg := s.format(f, time.Now())
	var err error
	for attempt := 0; attempt < 2; attempt++ {
		if s.conn == nil {
			if err = s.dial(); err != nil {
				s.cnt.Fail()
				continue
			}
		}
		if err = s.send(msg); err == nil {
			s.cnt.Wrote()
			return nil
		}
		s.cnt.Fail()
		s.conn.Close()
		s.conn = nil
	}
	s.cnt.Drop()
	return fmt.Errorf("cannot send finding to %s: %w", s.name, err)
}

func (s *Sink) send(msg []byte) error {
	_ = s.conn.SetWriteDeadline(time.Now().Add(s.o.Timeout))
	if s.o.Network == "udp" {
		_, err := s.conn.Write(msg)
		return err
	}
	s.buf = strconv.AppendInt(s.buf[:0], int64(len(msg)), 10)
	s.buf = append(s.buf, ' ')
	s.buf = append(s.buf, msg...)
	_, err := s.conn.Write(s.buf)
	return err
}

// Flush does nothing: every Write is sent before it returns.
func (s *Sink) Flush(context.Context) error { return nil }

// Close closes the connection.
func (s *Sink) Close(context.Context) error {
	if s.closed {
		return nil
	}
	s.closed = true
	if s.conn != nil {
		err := s.conn.Close()
		s.conn = nil
		if err != nil {
			return fmt.Errorf("cannot close %s: %w", s.name, err)
		}
	}
	return nil
}

// Severity maps a 1–100 severity to a syslog severity: critical → 2
// (crit), high → 3 (err), medium → 4 (warning), low → 5 (notice), info → 6.
func Severity(sev int) int {
	switch {
	case sev >= event.SeverityCritical:
		return 2
	case sev >= event.SeverityHigh:
		return 3
	case sev >= event.SeverityMedium:
		return 4
	case sev >= event.SeverityLow:
		return 5
	}
	return 6
}

// sdID is the structured-data id (32473 is the enterprise number that
// RFC 5612 reserves for examples and private use).
const sdID = "winnow@32473"

// format renders the RFC 5424 message (without transport framing).
func (s *Sink) format(f *sink.Finding, now time.Time) []byte {
	a := &f.Alert
	var b strings.Builder
	pri := s.o.Facility*8 + Severity(a.Severity)
	fmt.Fprintf(&b, "<%d>1 %s %s %s - %s ", pri, now.UTC().Format("2006-01-02T15:04:05.000000Z"),
		header(s.o.Hostname, 255), header(s.o.AppName, 48), header(a.Rule, 32))
	b.WriteString("[" + sdID)
	param := func(k, v string) {
		b.WriteString(" " + k + "=\"")
		b.WriteString(sdEscape(v))
		b.WriteString("\"")
	}
	param("rule", a.Rule)
	param("entity", a.Entity.Type.String()+":"+a.Entity.Value)
	param("severity", strconv.Itoa(a.Severity))
	param("score", strconv.FormatFloat(a.Score, 'f', 3, 64))
	param("start", a.Start.UTC().Format(time.RFC3339))
	param("end", a.End.UTC().Format(time.RFC3339))
	if a.SourceIP.IsValid() {
		param("src", a.SourceIP.String())
	}
	if a.User != "" {
		param("user", a.User)
	}
	if f.Incident != "" {
		param("incident", f.Incident)
		param("update", strconv.Itoa(f.Update))
		param("open", strconv.FormatBool(f.Open))
	}
	b.WriteString("] ")
	if s.o.Format == "cef" {
		b.WriteString(cef(f, s.o.Version))
	} else {
		b.WriteString(clean(a.Description))
	}
	return []byte(b.String())
}

// header makes s a valid RFC 5424 header field: printable US-ASCII
// without spaces, at most n bytes, "-" when empty.
func header(s string, n int) string {
	out := make([]byte, 0, min(len(s), n))
	for i := 0; i < len(s) && len(out) < n; i++ {
		c := s[i]
		if c < 33 || c > 126 {
			c = '_'
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		return "-"
	}
	return string(out)
}

// sdEscape escapes a PARAM-VALUE ('"', '\' and ']' get a backslash) and
// replaces control bytes.
func sdEscape(v string) string {
	var b strings.Builder
	for _, r := range clean(v) {
		if r == '"' || r == '\\' || r == ']' {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// clean replaces control characters (C0, DEL, C1) with spaces.
func clean(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return ' '
		}
		return r
	}, s)
}

// cef renders a CEF:0 record.
func cef(f *sink.Finding, version string) string {
	a := &f.Alert
	if version == "" {
		version = "dev"
	}
	hdr := func(v string) string {
		return strings.NewReplacer(`\`, `\\`, `|`, `\|`).Replace(clean(v))
	}
	ext := func(v string) string {
		return strings.NewReplacer(`\`, `\\`, `=`, `\=`).Replace(clean(v))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "CEF:0|winnow|winnow|%s|%s|%s|%d|", hdr(version), hdr(a.Rule), hdr(a.Description), (a.Severity+5)/10)
	fmt.Fprintf(&b, "start=%d end=%d", a.Start.UnixMilli(), a.End.UnixMilli())
	if a.SourceIP.IsValid() {
		b.WriteString(" src=" + a.SourceIP.String())
	}
	if a.User != "" {
		b.WriteString(" suser=" + ext(a.User))
	}
	b.WriteString(" cs1Label=entity cs1=" + ext(a.Entity.Type.String()+":"+a.Entity.Value))
	if f.Incident != "" {
		b.WriteString(" cs2Label=incident cs2=" + ext(f.Incident))
	}
	b.WriteString(" cfp1Label=score cfp1=" + strconv.FormatFloat(a.Score, 'f', 3, 64))
	return b.String()
}
