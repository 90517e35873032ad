package host

import (
	"net/netip"
	"path"
	"strings"

	"winnow/internal/detect"
	"winnow/internal/event"
)

func parseAddr(s string) netip.Addr {
	a, _ := netip.ParseAddr(s)
	return a
}

// host.avc_denial: any SELinux or AppArmor denial. A properly configured
// system has none, so the first is a finding: a compromised service
// reaching outside its policy, or a policy that needs fixing.
func avcSpec() detect.Spec {
	return detect.Spec{
		Name: "host.avc_denial", Key: detect.KeyHost,
		Summary:    "SELinux or AppArmor denied a process an access: a healthy system has none (per host, process context and permission)",
		Kinds:      auditKinds,
		Actions:    []event.Action{event.ActAVCDenied},
		Techniques: []string{"T1068", "T1611"},
		Params:     params("1h", "a looping denial repeats every few seconds; an hour of quiet starts a new finding"),
		New: func(p detect.Params) (detect.Detector, error) {
			return newDetector("host.avc_denial", []string{"T1068"}, avcRule, p)
		},
	}
}

func avcRule(ev *event.Event) (match, bool) {
	a := ev.Audit
	if !a.Denied {
		return match{}, false
	}
	mech := "SELinux"
	if a.TContext == "" && strings.HasPrefix(a.SContext, "/") || a.TContext == "" && a.SContext != "" && !strings.Contains(a.SContext, ":") {
		mech = "AppArmor"
	}
	cmd := a.Comm
	if a.Exe != "" {
		cmd = a.Exe
	}
	what := mech + " denied {" + a.Perms + "}"
	if a.TClass != "" {
		what += " on " + a.TClass
	}
	if a.Name != "" {
		what += " " + quote(a.Name)
	}
	what += " to " + quote(cmd) + " (" + a.SContext
	if a.TContext != "" {
		what += " → " + a.TContext
	}
	what += ")"
	return match{
		sig:      a.SContext + "\x00" + a.Perms + "\x00" + a.TClass + "\x00" + a.TContext,
		severity: event.SeverityMedium,
		what:     what,
		related:  userEntity(ev.User),
		evidence: map[string]any{"mechanism": mech, "permission": a.Perms, "source_context": a.SContext, "target_context": a.TContext,
			"class": a.TClass, "object": a.Name, "command": cmd},
	}, true
}

// Setuid programs that exist to change identity; executing them is
// ordinary.
var knownSetuid = map[string]bool{
	"sudo": true, "su": true, "passwd": true, "chsh": true, "chfn": true, "gpasswd": true, "newgrp": true,
	"mount": true, "umount": true, "fusermount": true, "fusermount3": true, "ping": true, "ping6": true,
	"pkexec": true, "crontab": true, "ssh-keysign": true, "unix_chkpwd": true, "Xorg.wrap": true,
	"dbus-daemon-launch-helper": true, "polkit-agent-helper-1": true, "at": true, "sg": true, "expiry": true,
	"chage": true, "staprun": true, "userhelper": true, "snap-confine": true, "newuidmap": true,
	"newgidmap": true, "sudoedit": true, "doas": true, "mtr-packet": true, "traceroute6.iputils": true,
}

func isRoot(id string) bool { return id == "0" || id == "root" }

// host.privilege_change: a process gains identity or capabilities it did
// not have: an unknown setuid-root executable run by a user, capabilities
// granted on exec, a set*uid(0) by a process of a logged-in user.
func privilegeSpec() detect.Spec {
	return detect.Spec{
		Name: "host.privilege_change", Key: detect.KeyHost,
		Summary:    "a process gains root or capabilities: an unknown setuid executable, file capabilities on exec, set*uid to root from a user session",
		Kinds:      auditKinds,
		Techniques: []string{"T1548.001", "T1068"},
		Params:     params("1h", "repeated runs of one program are one finding"),
		New: func(p detect.Params) (detect.Detector, error) {
			return newDetector("host.privilege_change", []string{"T1548.001", "T1068"}, privilegeRule, p)
		},
	}
}

func privilegeRule(ev *event.Event) (match, bool) {
	a := ev.Audit
	if a.Type != "SYSCALL" || ev.Outcome == event.OutcomeFailure {
		return match{}, false
	}
	base := path.Base(a.Exe)
	user := a.AUID
	if user == "" || user == "unset" {
		user = a.UID
	}
	ev0 := map[string]any{"exe": a.Exe, "auid": a.AUID, "uid": a.UID, "euid": a.EUID, "syscall": a.Syscall}
	switch {
	case a.Syscall == "execve" && a.Caps != "" && !knownSetuid[base]:
		ev0["capabilities"] = a.Caps
		return match{sig: "caps\x00" + a.Exe, severity: event.SeverityMedium,
			what:    "executable " + quote(a.Exe) + " gained capabilities on exec (" + a.Caps + ") for " + user,
			related: userEntity(user), evidence: ev0}, true
	case a.Syscall == "execve" && isRoot(a.EUID) && !isRoot(a.UID) && a.UID != "" && !knownSetuid[base]:
		return match{sig: "setuid\x00" + a.Exe, severity: event.SeverityHigh,
			what:    "setuid-root executable " + quote(a.Exe) + " run by " + user + " (uid " + a.UID + ", euid " + a.EUID + ")",
			related: userEntity(user), evidence: ev0}, true
	case strings.HasPrefix(a.Syscall, "setuid") || strings.HasPrefix(a.Syscall, "setresuid") || strings.HasPrefix(a.Syscall, "setreuid"):
		if isRoot(a.EUID) && a.AUID != "" && a.AUID != "unset" && !isRoot(a.AUID) && !knownSetuid[base] && !isDaemonish(base) {
			return match{sig: "setuid-call\x00" + a.Exe, severity: event.SeverityHigh,
				what:    quote(a.Exe) + " switched to root (" + a.Syscall + ") in " + a.AUID + "'s session",
				related: userEntity(a.AUID), evidence: ev0}, true
		}
	}
	return match{}, false
}

// isDaemonish: programs that drop or switch identities as their job.
func isDaemonish(base string) bool {
	switch base {
	case "sshd", "sshd-session", "cron", "crond", "systemd", "login", "gdm-session-worker", "lightdm", "atd", "polkitd", "sudo", "su", "runuser", "setpriv":
		return true
	}
	return false
}

// Paths anyone can write to, where downloaded payloads land.
func writablePath(p string) (string, bool) {
	for _, pre := range []string{"/tmp/", "/var/tmp/", "/dev/shm/", "/run/shm/", "/var/crash/", "/run/lock/", "/var/lock/"} {
		if strings.HasPrefix(p, pre) {
			return strings.TrimSuffix(pre, "/"), true
		}
	}
	if strings.HasPrefix(p, "/run/user/") {
		return "/run/user", true
	}
	return "", false
}

// host.exec_from_temp: a program executed from a world-writable or
// temporary directory (or a hidden directory in one): where droppers put
// their payloads; software is installed elsewhere.
func tempExecSpec() detect.Spec {
	return detect.Spec{
		Name: "host.exec_from_temp", Key: detect.KeyHost,
		Summary:    "a program is executed from a world-writable or temporary path (/tmp, /var/tmp, /dev/shm, ...): dropped payloads run there",
		Kinds:      auditKinds,
		Techniques: []string{"T1204.002", "T1059"},
		Params:     params("24h", "each executable is reported once a day per host, however often it runs"),
		New: func(p detect.Params) (detect.Detector, error) {
			return newDetector("host.exec_from_temp", []string{"T1204.002"}, tempExecRule, p)
		},
	}
}

func tempExecRule(ev *event.Event) (match, bool) {
	a := ev.Audit
	if a.Syscall != "execve" && a.Syscall != "execveat" && len(a.Argv) == 0 {
		return match{}, false
	}
	exe := a.Exe
	if exe == "" && len(a.Paths) > 0 {
		exe = a.Paths[0].Name
	}
	// Interpreters running a script from /tmp count too: the script is
	// the payload (python3 /tmp/x.py, sh /dev/shm/y).
	target := exe
	dir, ok := writablePath(exe)
	if !ok && len(a.Argv) > 1 && isInterpreter(path.Base(exe)) {
		for _, arg := range a.Argv[1:] {
			if strings.HasPrefix(arg, "-") {
				continue
			}
			if dir, ok = writablePath(arg); ok {
				target = arg
			}
			break
		}
	}
	if !ok {
		return match{}, false
	}
	sev := event.SeverityMedium
	hidden := strings.Contains(target, "/.")
	if hidden || isRoot(a.EUID) {
		sev = event.SeverityHigh
	}
	user := a.AUID
	if user == "" || user == "unset" {
		user = a.UID
	}
	what := "executed " + quote(target) + " from " + dir
	if hidden {
		what += " (a hidden directory)"
	}
	what += " as " + a.EUID
	return match{sig: target, severity: sev, what: what, related: userEntity(user),
		evidence: map[string]any{"exe": exe, "target": target, "directory": dir, "command": ev.Command, "euid": a.EUID, "auid": a.AUID, "hidden": hidden}}, true
}

func isInterpreter(b string) bool {
	switch strings.TrimRight(b, "0123456789.") {
	case "sh", "bash", "dash", "zsh", "ksh", "python", "perl", "ruby", "php", "node", "lua":
		return true
	}
	return false
}

// host.audit_tamper: the audit trail itself is switched off or emptied:
// rules deleted (auditctl -D), auditing disabled (-e 0), the daemon
// stopped — what an intruder does before the rest.
func tamperSpec() detect.Spec {
	return detect.Spec{
		Name: "host.audit_tamper", Key: detect.KeyHost,
		Summary:    "audit configuration tampered with: rules deleted, auditing disabled, auditd stopped",
		Kinds:      auditKinds,
		Techniques: []string{"T1562.012"},
		Params:     params("10m", "the steps of one tampering session come seconds apart"),
		New: func(p detect.Params) (detect.Detector, error) {
			return newDetector("host.audit_tamper", []string{"T1562.012"}, tamperRule, p)
		},
	}
}

func tamperRule(ev *event.Event) (match, bool) {
	a := ev.Audit
	var what string
	switch {
	case a.Type == "CONFIG_CHANGE" && (a.Op == "remove_rule" || a.Op == "remove rule" || a.Op == "remove_rules"):
		what = "audit rules deleted"
		if ev.Command != "" {
			what += " (" + quote(ev.Command) + ")"
		}
	case a.Type == "CONFIG_CHANGE" && a.Op == "set audit_enabled=0":
		what = "auditing disabled (audit_enabled=0)"
	case a.Type == "DAEMON_END" || a.Type == "DAEMON_ABORT":
		what = "the audit daemon stopped (" + strings.ToLower(a.Type) + ")"
	case (a.Type == "SERVICE_STOP") && (ev.Unit == "auditd" || ev.Unit == "auditd.service"):
		what = "the auditd service was stopped"
	case len(a.Argv) > 1 && path.Base(a.Argv[0]) == "auditctl" && (a.Argv[1] == "-D" || a.Argv[1] == "-e" && len(a.Argv) > 2 && a.Argv[2] == "0"):
		what = "auditctl run to " + map[bool]string{true: "delete all rules", false: "disable auditing"}[a.Argv[1] == "-D"]
	default:
		return match{}, false
	}
	user := a.AUID
	if user == "unset" {
		user = ""
	}
	return match{sig: "tamper", severity: event.SeverityHigh, what: what, related: userEntity(user),
		evidence: map[string]any{"record": a.Type, "op": a.Op, "command": ev.Command, "auid": a.AUID}}, true
}

// host.account_change: accounts and groups created, deleted or changed,
// passwords changed — findings about the account, so they join the auth
// family's findings on the same user (a backdoor account created after a
// break-in is one incident with the break-in).
func accountSpec() detect.Spec {
	return detect.Spec{
		Name: "host.account_change", Key: detect.KeyHost,
		Summary:    "an account or group is created, deleted or changed, or a password changed (about the account, joined with the auth findings on it)",
		Kinds:      auditKinds,
		Actions:    []event.Action{event.ActUserAdded, event.ActUserDeleted, event.ActGroupAdded, event.ActUserModified, event.ActPasswordChanged},
		Techniques: []string{"T1136.001", "T1098"},
		Params:     params("1h", "the changes of one administration session are one finding per account"),
		New: func(p detect.Params) (detect.Detector, error) {
			return newDetector("host.account_change", []string{"T1136.001", "T1098"}, accountRule, p)
		},
	}
}

func accountRule(ev *event.Event) (match, bool) {
	a := ev.Audit
	if ev.Outcome == event.OutcomeFailure {
		return match{}, false
	}
	target := ev.TargetUser
	verb := map[event.Action]string{
		event.ActUserAdded: "account created", event.ActUserDeleted: "account deleted", event.ActGroupAdded: "group created",
		event.ActUserModified: "account or group changed", event.ActPasswordChanged: "password changed",
	}[ev.Action]
	sev := event.SeverityLow
	if ev.Action == event.ActUserAdded {
		sev = event.SeverityMedium
	}
	by := a.AUID
	if by == "" || by == "unset" {
		by = a.UID
	}
	m := match{sig: ev.Action.String() + "\x00" + target, severity: sev,
		what:     verb + " " + quote(target) + " by " + by + " (" + a.Type + " op=" + a.Op + ")",
		related:  userEntity(by),
		evidence: map[string]any{"record": a.Type, "op": a.Op, "account": target, "by": by, "exe": a.Exe}}
	if target != "" {
		m.entity = event.Entity{Type: event.EntityUser, Value: target}
	}
	if ev.SrcIP.IsValid() {
		m.related = append(m.related, event.Entity{Type: event.EntityIP, Value: ev.SrcIP.String()})
	}
	return m, true
}

func quote(s string) string {
	if s == "" {
		return `""`
	}
	if strings.ContainsAny(s, " \t\"") {
		return `"` + strings.ReplaceAll(s, `"`, `\"`) + `"`
	}
	return s
}
