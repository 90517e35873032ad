package authlog

import (
	"bytes"

	"winnow/internal/event"
)

// account interprets the shadow tools' messages (useradd, userdel,
// usermod, groupadd, passwd, chage, chfn, chsh; chpasswd and passwd's PAM
// lines go through pam).
func (p *Parser) account(tool, msg []byte, ev *event.Event) {
	switch {
	case hasPrefix(msg, "new user: name="):
		ev.TargetUser = p.str(nameField(msg[len("new user: name="):]))
		set(ev, event.ActUserAdded)
	case hasPrefix(msg, "new group: name="):
		ev.TargetUser = p.str(nameField(msg[len("new group: name="):]))
		set(ev, event.ActGroupAdded)
	case hasPrefix(msg, "group added to "):
		// "group added to /etc/group: name=dev, GID=1002": repeats "new group".
		if _, rest, ok := cut(msg, "name="); ok {
			ev.TargetUser = p.str(nameField(rest))
		}
	case hasPrefix(msg, "failed adding user "):
		ev.TargetUser = p.str(quoted(msg))
		set(ev, event.ActUserAdded)
		ev.Outcome = event.OutcomeFailure
	case hasPrefix(msg, "delete user "):
		ev.TargetUser = p.str(quoted(msg))
		set(ev, event.ActUserDeleted)
	case hasPrefix(msg, "add ") || hasPrefix(msg, "delete "):
		// "add 'bob' to group 'sudo'", "delete 'bob' from group 'sudo'".
		ev.TargetUser = p.str(quoted(msg))
		if index(msg, " shadow group ") < 0 && string(tool) != "userdel" {
			set(ev, event.ActUserModified)
		} // shadow-group twins and userdel's clean-up are redundant
	case hasPrefix(msg, "change user "), hasPrefix(msg, "lock user "),
		hasPrefix(msg, "unlock user "), hasPrefix(msg, "changed user "):
		// usermod "change user 'bob' password", "lock user 'bob' password",
		// chfn "changed user 'bob' information", chsh "changed user 'bob' shell …"
		if q := quoted(msg); q != nil {
			ev.TargetUser = p.str(q)
			set(ev, event.ActUserModified)
		}
	case hasPrefix(msg, "changed password expiry for "):
		ev.TargetUser = p.str(msg[len("changed password expiry for "):])
		set(ev, event.ActPasswordAgingChanged)
	case hasPrefix(msg, "password for "):
		// shadow passwd without PAM: "password for 'bob' changed by 'root'"
		if t, by, ok := cut(msg, " changed by "); ok {
			ev.TargetUser, ev.User = p.str(quoted(t)), p.str(quoted(by))
			set(ev, event.ActPasswordChanged)
		}
	}
}

// nameField returns a "name=" value up to the next comma.
func nameField(b []byte) []byte {
	if i := bytes.IndexByte(b, ','); i >= 0 {
		return b[:i]
	}
	return b
}

// systemd interprets service-manager messages; see the package doc for
// which line of a failure is counted.
func (p *Parser) systemd(msg []byte, ev *event.Event) {
	switch {
	case hasSuffix(msg, "entered failed state."):
		if u, ok := trimPrefix(msg, "Unit "); ok { // "Unit foo.service entered failed state."
			ev.Unit = p.str(trimSuffix(u, " entered failed state."))
		} else if u, _, ok := cut(msg, ": "); ok { // "foo.service: Unit entered failed state."
			ev.Unit = p.str(u)
		}
		if ev.Unit != "" {
			set(ev, event.ActServiceFailed)
		}
	case index(msg, ": Failed with result '") > 0:
		u, _, _ := cut(msg, ": ")
		if bytes.IndexByte(u, ' ') < 0 {
			ev.Unit = p.str(u)
			set(ev, event.ActServiceFailed)
		}
	case hasPrefix(msg, "Failed to start "):
		ev.Outcome = event.OutcomeFailure // redundant: description only, no unit
	case index(msg, ": Main process exited, code=") > 0:
		u, rest, _ := cut(msg, ": ")
		if bytes.IndexByte(u, ' ') < 0 {
			ev.Unit = p.str(u)
		}
		if index(rest, "status=0/SUCCESS") < 0 {
			ev.Outcome = event.OutcomeFailure // redundant: "Failed with result" follows
		}
	}
}
