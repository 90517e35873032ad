package authlog

import (
	"bytes"

	"winnow/internal/event"
	"winnow/internal/parse"
)

// sshd interprets an sshd message. Unknown shapes stay ActSyslog.
func (p *Parser) sshd(msg []byte, ev *event.Event) {
	m := trimSuffix(msg, " [preauth]")
	if len(m) == 0 {
		return
	}
	ev.Preauth = len(m) != len(msg)
	switch m[0] {
	case 'A':
		if rest, ok := trimPrefix(m, "Accepted "); ok {
			p.sshAuth(rest, event.ActLoginSuccess, ev)
		} else if rest, ok := trimPrefix(m, "Address "); ok {
			p.sshAddressMaps(rest, ev)
		}
	case 'F':
		if rest, ok := trimPrefix(m, "Failed "); ok {
			p.sshAuth(rest, event.ActLoginFailure, ev)
		}
	case 'R':
		if rest, ok := trimPrefix(m, "Received disconnect from "); ok {
			p.sshReceivedDisconnect(rest, ev)
		}
	case 'I':
		if rest, ok := trimPrefix(m, "Invalid user "); ok {
			p.sshInvalidUser(rest, ev)
		} else if rest, ok := trimPrefix(m, "Illegal user "); ok { // OpenSSH < 3.8
			p.sshInvalidUser(rest, ev)
		}
	case 'i':
		if rest, ok := trimPrefix(m, "input_userauth_request: invalid user "); ok {
			ev.User, ev.InvalidUser = p.str(rest), true // redundant: repeats "Invalid user"
		}
	case 'r':
		if rest, ok := trimPrefix(m, "reverse mapping checking getaddrinfo for "); ok {
			p.sshReverseMapping(rest, ev)
		}
	case 'P':
		if rest, ok := trimPrefix(m, "PAM "); ok {
			p.sshPAMSummary(rest, ev)
		}
	case 'e':
		p.sshError(m, ev)
	case 'D':
		p.sshD(m, ev)
	case 'C':
		if rest, ok := trimPrefix(m, "Connection closed by "); ok {
			p.sshConnection(rest, event.ActConnectionClosed, ev)
		} else if rest, ok := trimPrefix(m, "Connection reset by "); ok {
			p.sshConnection(rest, event.ActConnectionClosed, ev)
		} else if rest, ok := trimPrefix(m, "Connection from "); ok {
			p.sshAddrPort(rest, ev) // informational: stays ActSyslog
		}
	case 'B':
		if rest, ok := trimPrefix(m, "Bad protocol version identification "); ok {
			if _, tail, ok := splitFrom(rest); ok && p.sshAddrPort(tail, ev) {
				set(ev, event.ActBadProtocol)
			}
		}
	case 'b':
		if rest, ok := trimPrefix(m, "banner exchange: Connection from "); ok && p.sshAddrPort(rest, ev) {
			set(ev, event.ActBadProtocol)
		}
	case 'U':
		p.sshNotAllowed(m, ev)
	case 'T':
		if rest, ok := trimPrefix(m, "Timeout before authentication for "); ok && p.sshAddrPort(rest, ev) {
			set(ev, event.ActConnectionClosed)
		}
	}
}

// sshAuth parses "METHOD for [invalid user ]USER from IP port P ssh2[: KEY]"
// after "Accepted " or "Failed ".
func (p *Parser) sshAuth(rest []byte, act event.Action, ev *event.Event) {
	method, rest := token(rest)
	rest, ok := trimPrefix(rest, " for ")
	if !ok || len(method) == 0 {
		return
	}
	var who, tail []byte
	if act == event.ActLoginSuccess {
		// A valid account name has no spaces, while text after the
		// address (a certificate ID) may contain " from ".
		who, tail, ok = cut(rest, " from ")
	} else {
		who, tail, ok = splitFrom(rest)
	}
	if !ok {
		return
	}
	p.sshAddrPort(tail, ev) // an unparsable address leaves SrcIP unset
	p.sshWho(who, ev)
	ev.Method = p.str(method)
	set(ev, act)
}

// sshWho sets User and InvalidUser from "[invalid user |illegal user ]U".
func (p *Parser) sshWho(who []byte, ev *event.Event) {
	if u, ok := trimPrefix(who, "invalid user "); ok {
		who, ev.InvalidUser = u, true
	} else if u, ok := trimPrefix(who, "illegal user "); ok {
		who, ev.InvalidUser = u, true
	}
	ev.User = p.str(who)
}

// sshAddrPort parses "IP[ port P][ …]" into SrcIP and SrcPort; a host name
// in place of the address (sshd with UseDNS yes) sets SrcHost.
func (p *Parser) sshAddrPort(b []byte, ev *event.Event) bool {
	ipb, rest := token(b)
	ip, ok := parse.ParseAddr(ipb)
	if !ok {
		if !hostName(ipb) {
			return false
		}
		ev.SrcHost = p.str(ipb)
	} else {
		ev.SrcIP = ip
	}
	if r, ok := trimPrefix(rest, " port "); ok {
		if port, _, ok := portPrefix(r); ok {
			ev.SrcPort = port
		}
	}
	return true
}

// sshInvalidUser parses "USER from IP[ port P]".
func (p *Parser) sshInvalidUser(rest []byte, ev *event.Event) {
	who, tail, ok := splitFrom(rest)
	if !ok && hasPrefix(rest, "from ") { // empty user: "Invalid user from IP" after trimming
		who, tail, ok = nil, rest[len("from "):], true
	}
	if ok {
		p.sshAddrPort(tail, ev)
	} else {
		who = rest
	}
	ev.User, ev.InvalidUser = p.str(who), true
	set(ev, event.ActInvalidUser)
}

// sshAddressMaps parses "IP maps to NAME, but this does not map back to the
// address - POSSIBLE BREAK-IN ATTEMPT!".
func (p *Parser) sshAddressMaps(rest []byte, ev *event.Event) {
	if !hasSuffix(rest, "POSSIBLE BREAK-IN ATTEMPT!") {
		return
	}
	ipb, _ := token(rest)
	if ip, ok := parse.ParseAddr(ipb); ok {
		ev.SrcIP = ip
		set(ev, event.ActBreakInAttempt)
	}
}

// sshReverseMapping parses "NAME [IP] failed - POSSIBLE BREAK-IN ATTEMPT!".
func (p *Parser) sshReverseMapping(rest []byte, ev *event.Event) {
	if !hasSuffix(rest, "POSSIBLE BREAK-IN ATTEMPT!") {
		return
	}
	lb := bytes.LastIndexByte(rest, '[')
	if lb < 0 {
		return
	}
	rb := bytes.IndexByte(rest[lb:], ']')
	if rb < 0 {
		return
	}
	if ip, ok := parse.ParseAddr(rest[lb+1 : lb+rb]); ok {
		ev.SrcIP = ip
		set(ev, event.ActBreakInAttempt)
	}
}

// sshReceivedDisconnect parses "IP port P:N: reason" (OpenSSH ≥ 7.4) and
// "IP: N: reason" (older).
func (p *Parser) sshReceivedDisconnect(rest []byte, ev *event.Event) {
	ipb, tail := token(rest)
	ipb = trimSuffix(ipb, ":")
	ip, ok := parse.ParseAddr(ipb)
	if !ok {
		return
	}
	ev.SrcIP = ip
	if r, ok := trimPrefix(tail, " port "); ok {
		if port, _, ok := portPrefix(r); ok {
			ev.SrcPort = port
		}
	}
	set(ev, event.ActDisconnected)
}

// sshConnection parses the subject of "Connection closed by", "Connection
// reset by" and "Disconnected from": "[authenticating user U |invalid user
// U |user U ]IP[ port P]".
func (p *Parser) sshConnection(rest []byte, act event.Action, ev *event.Event) {
	if p.sshSubject(rest, ev) {
		set(ev, act)
	}
}

func (p *Parser) sshSubject(b []byte, ev *event.Event) bool {
	var port uint16
	if head, tail, ok := cutLast(b, " port "); ok {
		if pt, n, ok := portPrefix(tail); ok && n == len(tail) {
			b, port = head, pt
		}
	}
	sp := bytes.LastIndexByte(b, ' ')
	ip, ok := parse.ParseAddr(b[sp+1:])
	if !ok {
		return false
	}
	ev.SrcIP, ev.SrcPort = ip, port
	if sp < 0 {
		return true
	}
	who := b[:sp]
	if u, ok := trimPrefix(who, "invalid user "); ok {
		ev.User, ev.InvalidUser = p.str(u), true
	} else if u, ok := trimPrefix(who, "authenticating user "); ok {
		ev.User = p.str(u)
	} else if u, ok := trimPrefix(who, "user "); ok {
		ev.User = p.str(u)
	}
	return true
}

// sshPAMSummary parses "N more authentication failure[s]; logname= …
// rhost=IP user=U" (after "PAM "): ActAuthFailurePAM with Count 1.
func (p *Parser) sshPAMSummary(rest []byte, ev *event.Event) {
	_, n := atoiPrefix(rest)
	if n == 0 || !hasPrefix(rest[n:], " more authentication failure") {
		return
	}
	_, kv, ok := cut(rest, "; ")
	if !ok {
		return
	}
	f := pamFields(kv)
	p.setRHost(f.rhost, ev)
	ev.User = p.str(f.user)
	set(ev, event.ActAuthFailurePAM)
}

// sshError handles the "error: …" lines.
func (p *Parser) sshError(m []byte, ev *event.Event) {
	if rest, ok := trimPrefix(m, "error: maximum authentication attempts exceeded for "); ok {
		if who, tail, ok := splitFrom(rest); ok {
			p.sshAddrPort(tail, ev)
			p.sshWho(who, ev)
			set(ev, event.ActMaxAuthAttempts)
		}
		return
	}
	if rest, ok := trimPrefix(m, "error: Received disconnect from "); ok {
		p.sshReceivedDisconnect(rest, ev)
		return
	}
	if rest, ok := trimPrefix(m, "error: PAM: Authentication failure for "); ok {
		who, tail, ok := splitFrom(rest)
		if !ok {
			return
		}
		p.sshWho(who, ev)
		p.setRHost(tail, ev)
		set(ev, event.ActAuthFailurePAM)
	}
}

// sshD handles the lines starting with 'D'.
func (p *Parser) sshD(m []byte, ev *event.Event) {
	if rest, ok := trimPrefix(m, "Did not receive identification string from "); ok {
		if p.sshAddrPort(rest, ev) {
			set(ev, event.ActNoIdentification)
		}
		return
	}
	if rest, ok := trimPrefix(m, "Disconnected from "); ok {
		p.sshConnection(rest, event.ActDisconnected, ev)
		return
	}
	if rest, ok := trimPrefix(m, "Disconnecting: Too many authentication failures"); ok {
		if u, ok := trimPrefix(rest, " for "); ok { // OpenSSH < 7: the only record
			ev.User = p.str(u)
			set(ev, event.ActMaxAuthAttempts)
		} // else redundant: follows "error: maximum authentication attempts exceeded"
		return
	}
	if rest, ok := trimPrefix(m, "Disconnecting "); ok {
		// "Disconnecting authenticating user U IP port P: Too many
		// authentication failures" (redundant after the error line) and
		// other reasons: informational.
		if i := lastIndex(rest, " port "); i >= 0 {
			if _, n, ok := portPrefix(rest[i+6:]); ok && i+6+n < len(rest) && rest[i+6+n] == ':' {
				p.sshSubject(rest[:i+6+n], ev)
			}
		}
	}
}

// sshNotAllowed parses "User U [from IP ]not allowed because REASON": sshd
// treats the account as invalid (its later Failed lines say "invalid
// user"), so this is ActInvalidUser with InvalidUser set.
func (p *Parser) sshNotAllowed(m []byte, ev *event.Event) {
	rest, ok := trimPrefix(m, "User ")
	if !ok {
		return
	}
	head, _, ok := cutLast(rest, " not allowed because ")
	if !ok {
		return
	}
	if who, tail, ok := cutLast(head, " from "); ok {
		if ip, ok := parse.ParseAddr(tail); ok {
			head, ev.SrcIP = who, ip
		}
	}
	ev.User, ev.InvalidUser = p.str(head), true
	set(ev, event.ActInvalidUser)
}

// setRHost sets SrcIP when a PAM rhost or sshd host is an address, SrcHost
// when it is a host name.
func (p *Parser) setRHost(b []byte, ev *event.Event) {
	if ip, ok := parse.ParseAddr(b); ok {
		ev.SrcIP = ip
	} else if hostName(b) {
		ev.SrcHost = p.str(b)
	}
}

// hostName reports whether b looks like a DNS host name: letters, digits,
// '-', '_' and '.', at least one dot and one letter, at most 253 bytes.
// Terminal names ("pts/0", ":0") and sshd's "UNKNOWN" are not host names.
func hostName(b []byte) bool {
	if len(b) < 3 || len(b) > 253 || b[0] == '.' || b[0] == '-' || b[len(b)-1] == '-' {
		return false
	}
	dot, letter := false, false
	for _, c := range b {
		switch {
		case c == '.':
			dot = true
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
			letter = true
		case c >= '0' && c <= '9', c == '-', c == '_':
		default:
			return false
		}
	}
	return dot && letter
}

// splitFrom splits "WHO from ADDR…" at the " from " that introduces the
// client address: the last one whose tail starts with an address, because
// WHO (an invalid user's name, a bad banner) is chosen by the client and may
// itself contain " from 1.2.3.4". Without such a tail it splits at the last
// " from ".
func splitFrom(b []byte) (who, tail []byte, ok bool) {
	for end := len(b); ; {
		i := lastIndex(b[:end], " from ")
		if i < 0 {
			break
		}
		ipb, _ := token(b[i+len(" from "):])
		if _, ok := parse.ParseAddr(ipb); ok {
			return b[:i], b[i+len(" from "):], true
		}
		end = i + len(" from ") - 1
	}
	return cutLast(b, " from ")
}
