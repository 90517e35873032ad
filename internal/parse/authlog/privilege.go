package authlog

import (
	"bytes"

	"winnow/internal/event"
)

// sudo interprets "USER : [PHRASE ; ]TTY=… ; PWD=… ; USER=T ; COMMAND=C".
func (p *Parser) sudo(msg []byte, ev *event.Event) {
	m := trimSpaceLeft(msg)
	user, rest, ok := cut(m, " : ")
	if !ok || len(user) == 0 || bytes.IndexByte(user, ' ') >= 0 {
		return
	}
	var phrase, target, cmd []byte
	hasCmd := false
	for first := true; len(rest) > 0; first = false {
		if c, ok := trimPrefix(rest, "COMMAND="); ok {
			cmd, hasCmd = c, true
			break
		}
		var f []byte
		f, rest, _ = cut(rest, " ; ")
		if t, ok := trimPrefix(f, "USER="); ok {
			target = t
		} else if first && !isSudoKV(f) {
			phrase = f
		}
	}
	ev.User = p.str(user)
	ev.TargetUser = p.str(target)
	if hasCmd {
		ev.Command = string(cmd)
	}
	switch {
	case len(phrase) == 0:
		if hasCmd {
			set(ev, event.ActSudoCommand)
		}
	case index(phrase, "incorrect password attempt") >= 0,
		index(phrase, "a password is required") >= 0:
		set(ev, event.ActSudoFailure)
	case index(phrase, "NOT in sudoers") >= 0,
		index(phrase, "not allowed") >= 0,
		index(phrase, "NOT authorized") >= 0:
		set(ev, event.ActSudoNotAllowed)
	}
}

// isSudoKV reports whether f looks like "KEY=value" with an upper-case key.
func isSudoKV(f []byte) bool {
	eq := bytes.IndexByte(f, '=')
	if eq <= 0 {
		return false
	}
	for _, c := range f[:eq] {
		if (c < 'A' || c > 'Z') && c != '_' {
			return false
		}
	}
	return true
}

// su interprets shadow's and util-linux's su messages.
func (p *Parser) su(msg []byte, ev *event.Event) {
	switch {
	case hasPrefix(msg, "Successful su for "):
		p.suFor(msg[len("Successful su for "):], event.ActSuSuccess, ev)
	case hasPrefix(msg, "FAILED su for "):
		p.suFor(msg[len("FAILED su for "):], event.ActSuFailure, ev)
	case hasPrefix(msg, "(to "):
		p.suTo(msg[len("(to "):], event.ActSuSuccess, ev)
	case hasPrefix(msg, "FAILED SU (to "):
		p.suTo(msg[len("FAILED SU (to "):], event.ActSuFailure, ev)
	case len(msg) > 2 && (msg[0] == '+' || msg[0] == '-') && msg[1] == ' ':
		// "+ pts/0 alice:root": repeats "Successful su"/"FAILED su".
		_, rest := token(msg[2:])
		if u, t, ok := cut(trimSpaceLeft(rest), ":"); ok {
			ev.User, ev.TargetUser = p.str(u), p.str(t)
		}
	}
}

// suFor parses "TARGET by USER".
func (p *Parser) suFor(rest []byte, act event.Action, ev *event.Event) {
	t, u, ok := cut(rest, " by ")
	if !ok {
		return
	}
	ev.User, ev.TargetUser = p.str(u), p.str(t)
	set(ev, act)
}

// suTo parses "TARGET) USER on TTY".
func (p *Parser) suTo(rest []byte, act event.Action, ev *event.Event) {
	t, r, ok := cut(rest, ") ")
	if !ok {
		return
	}
	u, _ := token(r)
	ev.User, ev.TargetUser = p.str(u), p.str(t)
	set(ev, act)
}

// login interprets login(1)'s own messages (its PAM lines go through pam).
func (p *Parser) login(msg []byte, ev *event.Event) {
	switch {
	case hasPrefix(msg, "ROOT LOGIN "):
		// "ROOT LOGIN  on 'tty1'", "ROOT LOGIN ON tty2 [FROM host]"
		ev.User = "root"
		p.loginFrom(msg, ev)
		set(ev, event.ActRootLogin)
	case hasPrefix(msg, "FAILED LOGIN "):
		// "FAILED LOGIN (1) on '/dev/tty1' FOR 'UNKNOWN', Authentication failure"
		// "FAILED LOGIN 1 FROM host FOR user, Authentication failure"
		_, rest, ok := cutLast(msg, " FOR ")
		if !ok {
			return
		}
		u := upTo(rest, ',')
		if q := quoted(u); q != nil {
			u = q
		}
		if string(u) == "UNKNOWN" {
			ev.InvalidUser = true
		} else {
			ev.User = p.str(u)
		}
		p.loginFrom(msg, ev)
		set(ev, event.ActLoginFailure)
	case hasPrefix(msg, "LOGIN ON "):
		// "LOGIN ON tty1 BY alice [FROM host]"
		_, rest, ok := cut(msg, " BY ")
		if !ok {
			return
		}
		u, _ := token(rest)
		ev.User = p.str(u)
		p.loginFrom(msg, ev)
		set(ev, event.ActLoginSuccess)
	}
}

// loginFrom sets SrcIP from a " FROM host" part when host is an address.
func (p *Parser) loginFrom(msg []byte, ev *event.Event) {
	if _, rest, ok := cut(msg, " FROM "); ok {
		h, _ := token(rest)
		p.setRHost(trimSuffix(h, ","), ev)
	}
}
