// Package authlog turns syslog lines from auth.log/secure (sshd, PAM, sudo,
// su, login, the shadow account tools, systemd) into typed events. It frames
// lines with package syslog and interprets the message by program; any line
// it does not recognise becomes KindSyslog/ActSyslog, never an error. Only
// lines that do not frame as syslog are errors (wrapping parse.ErrMalformed,
// or parse.ErrSkip for journalctl's "-- …" marker lines).
//
// # Counting attempts (read this before writing a detector)
//
// One authentication attempt is logged on several lines. To let detectors
// count each attempt once, exactly one line per fact carries an auth action,
// and lines that repeat a fact already logged on another line are emitted as
// KindSyslog/ActSyslog ("redundant lines") with their typed fields (User,
// TargetUser, SrcIP, InvalidUser, Unit) still filled in:
//
//   - A password/key try is ActLoginFailure ("Failed <method> for …"), one
//     event per try; Count > 1 for "message repeated N times". InvalidUser
//     is set for "for invalid user X". Method "none" is the client's probe
//     for allowed methods, not a password; detectors may skip it.
//   - ActInvalidUser ("Invalid user X from IP", "User X from IP not allowed
//     because …") is the per-connection probe of an unknown or disallowed
//     account. It is not an attempt: the tries on that connection are the
//     ActLoginFailure events with InvalidUser set. Use it for enumeration
//     (distinct invalid names per source), not for attempt counts.
//     "input_userauth_request: invalid user X [preauth]" repeats it and is
//     a redundant line.
//   - ActAuthFailurePAM (pam_unix(sshd:auth)/…(su:auth)/…(login:auth):
//     authentication failure, "error: PAM: Authentication failure for …")
//     is PAM's view of a try that the service logs itself as well (sshd's
//     Failed line, su's FAILED su, login's FAILED LOGIN). Do not add it to
//     ActLoginFailure counts. It is the only record of failures in inputs
//     that carry PAM lines alone (old Red Hat "sshd(pam_unix)" syslog);
//     count it only for (host, program) streams without ActLoginFailure.
//     "PAM N more authentication failures; … rhost=IP user=U" summarises
//     failures already logged one by one: it is ActAuthFailurePAM with
//     Count = 1, not N. "check pass; user unknown" is redundant.
//   - ActMaxAuthAttempts is "error: maximum authentication attempts
//     exceeded for …" (OpenSSH ≥ 7) or "Disconnecting: Too many
//     authentication failures for U" (older OpenSSH, which logs only that).
//     The disconnect lines that newer OpenSSH logs right after the error
//     ("Disconnecting: Too many authentication failures", "Disconnecting
//     authenticating user U IP port P: Too many …") are redundant.
//   - sudo: ActSudoFailure comes from two kinds of line. PAM's
//     "pam_unix(sudo:auth): authentication failure" is one per mistyped
//     password (Command empty), even when a later try succeeds; "alice : 3
//     incorrect password attempts ; … COMMAND=…" is one per sudo invocation
//     that gave up (Command and TargetUser set). Count invocations with
//     Command != "" and tries with Command == "".
//   - su: ActSuSuccess/ActSuFailure come from su's own line ("Successful su
//     for T by U", "FAILED su for T by U", util-linux "(to T) U on tty",
//     "FAILED SU (to T) U on tty"). shadow's "+ tty U:T" / "- tty U:T"
//     repeat it and are redundant; pam_unix(su:auth) is ActAuthFailurePAM;
//     pam_unix(su:session) opened is ActSessionOpened (User = invoking
//     user, TargetUser = new identity), not ActSuSuccess.
//   - systemd: a unit failure is counted on "U: Failed with result 'R'."
//     (systemd ≥ 236) or "Unit U entered failed state." / "U: Unit entered
//     failed state." (older systemd, which logs no "Failed with result"):
//     KindService/ActServiceFailed with Unit. "Failed to start D." and
//     "U: Main process exited, code=…, status=…" accompany those lines for
//     the same failure and are redundant (Unit set where the line names it,
//     Outcome failure).
//   - Account tools: "new group: name=G" is ActGroupAdded (TargetUser = G,
//     the event has no group field); groupadd's "group added to
//     /etc/group: …" and "/etc/gshadow" lines repeat it and are redundant,
//     as are the "shadow group" variants of usermod/useradd and userdel's
//     group clean-up lines. A tool's failure keeps the tool's action with
//     Outcome failure ("failed adding user 'X'" is ActUserAdded/failure,
//     chpasswd's "user \"X\" does not exist" is ActPasswordChanged/failure).
//     usermod's "change user 'X' password" is ActUserModified, as
//     actions.go lists it.
//   - Disconnects: newer OpenSSH logs "Received disconnect from …" and
//     "Disconnected from …" for one connection; both are ActDisconnected.
//     Connection-level actions are not attempts.
//
// # Fields
//
// User is the account acting or attempted; TargetUser the account acted
// on (sudo runas, su target, the account an account tool changed). Host,
// Program, User, TargetUser, Method and Unit are interned (no allocation
// once seen, up to the Interner's cap); Command is allocated. SrcIP is set
// only when the record has an address (a PAM rhost that is a hostname is
// dropped). Usernames are taken verbatim, spaces included ("Invalid user
// admin  from" is user "admin "). Invalid users' names are chosen by the
// client and may contain " from 1.2.3.4 port 22": for failures the address
// is the last " from " followed by an address; for "Accepted" (a real
// account, no spaces) it is the first, so that a certificate ID after the
// key cannot move it.
//
// A Parser is not safe for concurrent use; one belongs to one input.
package authlog

import (
	"winnow/internal/event"
	"winnow/internal/parse"
	"winnow/internal/parse/audit"
	"winnow/internal/parse/syslog"
)

// Parser parses syslog auth lines into events. Create it with New.
type Parser struct {
	opt parse.Options
	st  syslog.State
	h   syslog.Header
	in  *parse.Interner

	lastHost, lastProg string // last interned values: skips the map lookup
	prevLine           []byte // last line that was not "last message repeated"
}

var _ parse.Parser = (*Parser)(nil)

// New returns a parser for one input.
func New(o parse.Options) *Parser {
	return &Parser{opt: o, in: parse.NewInterner(0)}
}

// Format returns the "syslog" input format: syslog framing with auth
// interpretation.
func Format() parse.Format {
	return parse.Format{
		Name:    "syslog",
		Summary: "syslog (RFC 3164, RFC 5424, rsyslog/journald ISO 8601) with auth.log interpretation: sshd, PAM, sudo, su, login, account tools, systemd",
		Sniff:   syslog.Sniff,
		New:     func(o parse.Options) parse.Parser { return New(o) },
	}
}

// Parse implements parse.Parser.
func (p *Parser) Parse(line []byte, ev *event.Event) error {
	if err := p.st.Parse(line, &p.opt, &p.h); err != nil {
		return err
	}
	h := &p.h
	*ev = event.Event{
		Time:    h.Time,
		Kind:    event.KindSyslog,
		Action:  event.ActSyslog,
		Host:    p.host(h.Host),
		Program: p.prog(h.Program),
		PID:     h.PID,
		Count:   1,
		Ref:     ev.Ref,
		Raw:     syslog.TrimEOL(line),
		Msg:     h.Msg,
	}
	if len(h.Program) == 0 && hasPrefix(h.Msg, "last message repeated ") {
		p.lastRepeated(ev)
		return nil
	}
	p.prevLine = line
	p.interpret(h.Program, ev)
	ev.Kind = kindOf(ev.Action)
	return nil
}

func (p *Parser) host(b []byte) string {
	if string(b) != p.lastHost {
		p.lastHost = p.in.String(b)
	}
	return p.lastHost
}

func (p *Parser) prog(b []byte) string {
	if string(b) != p.lastProg {
		p.lastProg = p.in.String(b)
	}
	return p.lastProg
}

func (p *Parser) str(b []byte) string { return p.in.String(b) }

// lastRepeated handles sysklogd's "last message repeated N times": the
// previous line's event (typed fields re-parsed from that line, which the
// reader keeps immutable), with this line's Time, Raw and Msg, Count = N.
func (p *Parser) lastRepeated(ev *event.Event) {
	n, k := atoiPrefix(ev.Msg[len("last message repeated "):])
	if k == 0 || n < 1 || !hasPrefix(ev.Msg[len("last message repeated ")+k:], " time") || p.prevLine == nil {
		return // an ordinary syslog line
	}
	t, raw, msg := ev.Time, ev.Raw, ev.Msg
	var h syslog.Header
	if p.st.Parse(p.prevLine, &p.opt, &h) != nil {
		return
	}
	*ev = event.Event{Time: t, Host: p.host(h.Host), Program: p.prog(h.Program), PID: h.PID, Ref: ev.Ref, Raw: raw, Msg: h.Msg, Count: 1}
	set(ev, event.ActSyslog)
	p.interpret(h.Program, ev)
	ev.Kind = kindOf(ev.Action)
	ev.Count = int32(n)
	ev.Msg = msg // Msg aliases Raw (this line), per the event contract
}

// interpret fills the typed fields from ev.Msg by program.
func (p *Parser) interpret(program []byte, ev *event.Event) {
	msg := ev.Msg
	if hasPrefix(msg, "message repeated ") {
		if n, inner, ok := repeated(msg); ok {
			ev.Count, ev.Msg, msg = n, inner, inner
		}
	}
	base, pamTag := programBase(program)
	if pamTag { // Red Hat's "sshd(pam_unix)[pid]: authentication failure; …"
		p.pam(base, msg, ev)
		return
	}
	if hasPrefix(msg, "pam_") {
		if svc, body, ok := pamPrefix(msg); ok {
			p.pam(svc, body, ev)
			return
		}
	}
	switch string(base) {
	case "sshd", "sshd-session", "sshd-auth":
		p.sshd(msg, ev)
	case "sudo":
		p.sudo(msg, ev)
	case "su":
		p.su(msg, ev)
	case "login":
		p.login(msg, ev)
	case "useradd", "userdel", "usermod", "groupadd", "passwd", "chpasswd", "chage", "chfn", "chsh":
		p.account(base, msg, ev)
	case "systemd", "init":
		p.systemd(msg, ev)
	case "kernel", "audit", "auditd":
		// SELinux/AppArmor decisions reaching syslog or journald.
		audit.SyslogMessage(msg, ev)
	}
}

// repeated parses rsyslog's "message repeated N times: [ inner]".
func repeated(msg []byte) (int32, []byte, bool) {
	rest := msg[len("message repeated "):]
	n, k := atoiPrefix(rest)
	if k == 0 || n < 1 {
		return 0, nil, false
	}
	rest, ok := trimPrefix(rest[k:], " times: [")
	if !ok {
		return 0, nil, false
	}
	if len(rest) > 0 && rest[0] == ' ' {
		rest = rest[1:]
	}
	return int32(n), trimSuffix(rest, "]"), true
}

// programBase strips a path ("/usr/sbin/cron" → "cron") and a "(pam_…)"
// suffix ("sshd(pam_unix)" → "sshd", pamTag true).
func programBase(prog []byte) (base []byte, pamTag bool) {
	for i := len(prog) - 1; i >= 0; i-- {
		if prog[i] == '/' {
			prog = prog[i+1:]
			break
		}
	}
	if n := len(prog); n > 0 && prog[n-1] == ')' {
		if i := index(prog, "(pam_"); i > 0 {
			return prog[:i], true
		}
	}
	return prog, false
}

// pamPrefix splits "pam_unix(sshd:auth): body" into the service and body.
func pamPrefix(msg []byte) (svc, body []byte, ok bool) {
	open := -1
	for i, c := range msg {
		if c == '(' {
			open = i
			break
		}
		if c == ' ' || c == ':' {
			return nil, nil, false
		}
	}
	if open < 0 {
		return nil, nil, false
	}
	rest := msg[open+1:]
	closeAt := index(rest, "): ")
	if closeAt < 0 {
		return nil, nil, false
	}
	svc = upTo(rest[:closeAt], ':')
	return svc, rest[closeAt+3:], true
}

var outcomes = [event.ActionCount]event.Outcome{
	event.ActLoginSuccess:         event.OutcomeSuccess,
	event.ActLoginFailure:         event.OutcomeFailure,
	event.ActInvalidUser:          event.OutcomeFailure,
	event.ActAuthFailurePAM:       event.OutcomeFailure,
	event.ActMaxAuthAttempts:      event.OutcomeFailure,
	event.ActSessionOpened:        event.OutcomeSuccess,
	event.ActSessionClosed:        event.OutcomeSuccess,
	event.ActSudoCommand:          event.OutcomeSuccess,
	event.ActSudoFailure:          event.OutcomeFailure,
	event.ActSudoNotAllowed:       event.OutcomeFailure,
	event.ActSuSuccess:            event.OutcomeSuccess,
	event.ActSuFailure:            event.OutcomeFailure,
	event.ActUserAdded:            event.OutcomeSuccess,
	event.ActUserDeleted:          event.OutcomeSuccess,
	event.ActUserModified:         event.OutcomeSuccess,
	event.ActGroupAdded:           event.OutcomeSuccess,
	event.ActPasswordChanged:      event.OutcomeSuccess,
	event.ActPasswordAgingChanged: event.OutcomeSuccess,
	event.ActServiceFailed:        event.OutcomeFailure,
	event.ActRootLogin:            event.OutcomeSuccess,
}

// set sets the action and its usual outcome.
func set(ev *event.Event, a event.Action) {
	ev.Action = a
	ev.Outcome = outcomes[a]
}

func kindOf(a event.Action) event.Kind {
	switch a {
	case event.ActSyslog, event.ActNone:
		return event.KindSyslog
	case event.ActServiceFailed:
		return event.KindService
	case event.ActAudit, event.ActAVCDenied:
		return event.KindAudit
	}
	return event.KindAuth
}
