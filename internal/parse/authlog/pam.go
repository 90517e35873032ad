package authlog

import (
	"bytes"

	"winnow/internal/event"
)

// pamKV holds the fields of a PAM "authentication failure; …" message.
type pamKV struct {
	logname, ruser, rhost, user []byte
}

// pamFields parses "logname=X uid=0 euid=0 tty=T ruser=R rhost=H  user=U".
func pamFields(b []byte) pamKV {
	var f pamKV
	for len(b) > 0 {
		b = trimSpaceLeft(b)
		tok, rest := token(b)
		b = rest
		eq := bytes.IndexByte(tok, '=')
		if eq <= 0 {
			continue
		}
		v := tok[eq+1:]
		switch string(tok[:eq]) {
		case "logname":
			f.logname = v
		case "ruser":
			f.ruser = v
		case "rhost":
			f.rhost = v
		case "user":
			f.user = v
		}
	}
	return f
}

func isSuService(svc []byte) bool {
	switch string(svc) {
	case "su", "su-l", "runuser", "runuser-l":
		return true
	}
	return false
}

func isSudoService(svc []byte) bool {
	switch string(svc) {
	case "sudo", "sudo-i":
		return true
	}
	return false
}

// pam interprets the body of a PAM module message for service svc.
func (p *Parser) pam(svc, body []byte, ev *event.Event) {
	switch {
	case hasPrefix(body, "authentication failure;"):
		p.pamAuthFailure(svc, body[len("authentication failure;"):], ev)
	case hasPrefix(body, "session opened for user "):
		p.pamSession(svc, body[len("session opened for user "):], event.ActSessionOpened, ev)
	case hasPrefix(body, "session closed for user "):
		p.pamSession(svc, body[len("session closed for user "):], event.ActSessionClosed, ev)
	case hasPrefix(body, "password changed for "):
		ev.TargetUser = p.str(body[len("password changed for "):])
		set(ev, event.ActPasswordChanged)
	case hasPrefix(body, `user "`) && hasSuffix(body, `" does not exist in /etc/passwd`):
		ev.TargetUser = p.str(body[len(`user "`) : len(body)-len(`" does not exist in /etc/passwd`)])
		set(ev, event.ActPasswordChanged)
		ev.Outcome = event.OutcomeFailure
	}
	// "check pass; user unknown" and the rest: redundant or informational.
}

func (p *Parser) pamAuthFailure(svc, kv []byte, ev *event.Event) {
	f := pamFields(kv)
	p.setRHost(f.rhost, ev)
	switch {
	case isSudoService(svc):
		u := f.user
		if len(u) == 0 {
			u = f.logname
		}
		ev.User = p.str(u)
		set(ev, event.ActSudoFailure)
	case isSuService(svc):
		u := f.ruser
		if len(u) == 0 {
			u = f.logname
		}
		ev.User, ev.TargetUser = p.str(u), p.str(f.user)
		set(ev, event.ActAuthFailurePAM)
	default:
		ev.User = p.str(f.user)
		set(ev, event.ActAuthFailurePAM)
	}
}

// pamSession parses "U[(uid=N)] by [NAME][(uid=N)]" (opened) or "U"
// (closed). For su and sudo, User is the invoking account (NAME) and
// TargetUser the session's account; otherwise User is the session's account.
func (p *Parser) pamSession(svc, rest []byte, act event.Action, ev *event.Event) {
	who, by, _ := cut(rest, " by ")
	who = upTo(who, '(')
	if isSuService(svc) || isSudoService(svc) {
		ev.TargetUser = p.str(who)
		ev.User = p.str(upTo(by, '('))
	} else {
		ev.User = p.str(who)
	}
	set(ev, act)
}
