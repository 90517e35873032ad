package audit

import (
	"net/netip"
	"strconv"
	"strings"

	"winnow/internal/event"
)

// auxiliary record types describe the primary record of their event.
func auxiliary(t string) bool {
	switch t {
	case "CWD", "PATH", "PROCTITLE", "EXECVE", "EOE", "SOCKADDR", "OBJ_PID", "BPRM_FCAPS", "MMAP", "CAPSET", "FD_PAIR", "NETFILTER_CFG":
		return true
	}
	return false
}

// pending is an event being assembled from its records.
type pending struct {
	ev      event.Event
	a       *event.Audit
	line    int64 // first record's line number
	argv    []string
	argc    int
	done    bool // EOE seen
	syscall string
	arch    string
	primary bool // the primary record has been applied
}

// add applies one record to the event.
func (p *pending) add(r *record, interpreted bool) {
	a := p.a
	if p.ev.Time.IsZero() {
		p.ev.Time = r.time
		a.Serial = r.serial
		if r.node != "" {
			p.ev.Host = r.node
		}
	}
	a.Records = append(a.Records, r.typ)
	hexOK := !interpreted
	switch r.typ {
	case "EOE":
		// Raw logs end an event with EOE; ausearch -i prints it first
		// and separates events with "----" instead.
		p.done = !interpreted
		return
	case "CWD":
		a.Cwd = r.str("cwd", hexOK)
		return
	case "PATH":
		pth := event.AuditPath{Name: r.str("name", hexOK), NameType: r.str("nametype", false), OUID: p.ident(r, "ouid", interpreted)}
		if m, ok := r.get("mode"); ok {
			if v, err := strconv.ParseUint(string(m), 8, 32); err == nil {
				pth.Mode = uint32(v)
			} else if interpreted {
				pth.Mode = interpretedMode(string(m))
			}
		}
		if len(a.Paths) < 16 {
			a.Paths = append(a.Paths, pth)
		}
		return
	case "PROCTITLE":
		a.Proctitle = r.str("proctitle", hexOK)
		return
	case "EXECVE":
		if n, ok := r.get("argc"); ok {
			p.argc, _ = strconv.Atoi(string(n))
		}
		for i := range r.fields {
			f := r.fields[i]
			if len(f.key) < 2 || f.key[0] != 'a' || f.key[1] < '0' || f.key[1] > '9' {
				continue
			}
			if strings.Contains(f.key, "_len") || strings.Contains(f.key, "[") {
				continue // split long arguments (a1_len=, a1[0]=) are kept as the first piece only
			}
			if len(p.argv) < 64 {
				p.argv = append(p.argv, value(f, hexOK))
			}
		}
		return
	case "BPRM_FCAPS":
		var caps []string
		for _, k := range []string{"fp", "fi", "fe"} {
			if v := r.str(k, false); v != "" && v != "0" && v != "none" {
				caps = append(caps, k+"="+v)
			}
		}
		a.Caps = strings.Join(caps, " ")
		return
	case "SOCKADDR", "OBJ_PID", "MMAP", "CAPSET", "FD_PAIR", "NETFILTER_CFG":
		return
	}
	// A primary record: SYSCALL, AVC, USER_*, ADD_USER, CONFIG_CHANGE ...
	isAVC := r.avcVerb != "" || r.typ == "AVC" || r.typ == "USER_AVC" || r.typ == "APPARMOR_DENIED" || r.typ == "APPARMOR_ALLOWED"
	// The event's type: an AVC decision first, then the specific record
	// (CONFIG_CHANGE, ADD_USER, ...), then SYSCALL — whatever the order.
	switch {
	case isAVC:
		a.Type = "AVC"
	case a.Type == "" || a.Type == "SYSCALL":
		a.Type = r.typ
	}
	p.primary = true
	if isAVC {
		p.avc(r, hexOK)
	}
	if v, ok := r.get("pid"); ok && p.ev.PID == 0 {
		if n, err := strconv.Atoi(string(v)); err == nil {
			p.ev.PID = int32(n)
		}
	}
	if v, ok := r.get("ppid"); ok {
		if n, err := strconv.Atoi(string(v)); err == nil {
			a.PPID = int32(n)
		}
	}
	set := func(dst *string, v string) {
		if v != "" && *dst == "" {
			*dst = v
		}
	}
	set(&a.AUID, p.ident(r, "auid", interpreted))
	set(&a.UID, p.ident(r, "uid", interpreted))
	set(&a.EUID, p.ident(r, "euid", interpreted))
	set(&a.SUID, p.ident(r, "suid", interpreted))
	set(&a.FSUID, p.ident(r, "fsuid", interpreted))
	set(&a.GID, p.ident(r, "gid", interpreted))
	set(&a.EGID, p.ident(r, "egid", interpreted))
	set(&a.Ses, r.str("ses", false))
	set(&a.TTY, r.str("tty", false))
	set(&a.Comm, r.str("comm", hexOK))
	set(&a.Exe, r.str("exe", hexOK))
	set(&a.Key, r.str("key", hexOK))
	set(&a.Subj, r.str("subj", false))
	set(&a.Op, r.str("op", false))
	set(&a.Exit, r.str("exit", false))
	if r.typ == "SYSCALL" {
		p.arch = r.str("arch", false)
		p.syscall = r.str("syscall", false)
		switch r.str("success", false) {
		case "yes":
			p.ev.Outcome = event.OutcomeSuccess
		case "no":
			p.ev.Outcome = event.OutcomeFailure
		}
	}
	switch r.str("res", false) {
	case "success", "1", "yes":
		if p.ev.Outcome == event.OutcomeUnknown {
			p.ev.Outcome = event.OutcomeSuccess
		}
	case "failed", "0", "no":
		p.ev.Outcome = event.OutcomeFailure
	}
	// The account a user-space record acts on (acct=, or id= for
	// useradd's older "op=adding user id=1001").
	if v := r.str("acct", hexOK); v != "" {
		set(&p.ev.TargetUser, v)
	} else if v := r.str("id", false); v != "" && (r.typ == "ADD_USER" || r.typ == "DEL_USER" || r.typ == "USER_MGMT") {
		set(&p.ev.TargetUser, v)
	}
	if v := r.str("addr", false); v != "" && !p.ev.SrcIP.IsValid() {
		if ip, err := netip.ParseAddr(v); err == nil {
			p.ev.SrcIP = ip.Unmap()
		}
	}
	if v := r.str("hostname", false); v != "" && p.ev.Host == "" && r.typ != "USER_LOGIN" && r.typ != "USER_AUTH" {
		_ = v // hostname= of user records is the remote host, not the logging one
	}
	if v := r.str("unit", false); v != "" {
		set(&p.ev.Unit, v)
	}
	if r.typ == "CONFIG_CHANGE" {
		// op=set audit_enabled=0, op=remove_rule, list=..., old=...
		if v := r.str("audit_enabled", false); v != "" {
			a.Op = "set audit_enabled=" + v
		}
	}
}

// avc applies an SELinux or AppArmor decision.
func (p *pending) avc(r *record, hexOK bool) {
	a := p.a
	switch {
	case r.avcVerb != "": // SELinux
		a.Denied = r.avcVerb == "denied"
		a.Granted = r.avcVerb == "granted"
		a.Perms = r.avcPerms
		a.SContext = r.str("scontext", false)
		a.TContext = r.str("tcontext", false)
		a.TClass = r.str("tclass", false)
		a.Name = r.str("name", hexOK)
		if a.Name == "" {
			a.Name = r.str("path", hexOK)
		}
	default: // AppArmor
		v := r.str("apparmor", false)
		a.Denied = v == "DENIED" || r.typ == "APPARMOR_DENIED"
		a.Granted = v == "ALLOWED" || v == "AUDIT"
		a.SContext = r.str("profile", false)
		a.TClass = r.str("operation", false)
		a.Name = r.str("name", hexOK)
		a.Perms = r.str("denied_mask", false)
		if a.Perms == "" {
			a.Perms = r.str("requested_mask", false)
		}
	}
}

// ident returns an identity field: the enriched name, or the interpreted
// name, or the number ("unset" for -1).
func (p *pending) ident(r *record, key string, interpreted bool) string {
	up := strings.ToUpper(key)
	for _, f := range r.enriched {
		if f.key == up {
			return string(f.val)
		}
	}
	v := r.str(key, false)
	if v == "4294967295" || v == "-1" {
		return "unset"
	}
	// ausearch -i on another machine: "unknown(502)".
	if strings.HasPrefix(v, "unknown(") && strings.HasSuffix(v, ")") {
		return v[len("unknown(") : len(v)-1]
	}
	return v
}

// finish completes the event's core fields.
func (p *pending) finish() *event.Event {
	a := p.a
	ev := &p.ev
	if a.Type == "" && len(a.Records) > 0 {
		a.Type = a.Records[0]
	}
	if p.syscall != "" {
		a.Syscall = syscallName(p.arch, p.syscall)
	}
	if len(p.argv) > 0 {
		a.Argv = p.argv
		ev.Command = strings.Join(p.argv, " ")
	} else if a.Proctitle != "" {
		ev.Command = a.Proctitle
	}
	ev.Program = a.Comm
	ev.User = a.AUID
	if ev.User == "unset" || ev.User == "" {
		ev.User = a.UID
	}
	if ev.User == "unset" {
		ev.User = ""
	}
	if ev.Host == "" {
		ev.Host = "-"
	}
	ev.Kind = event.KindAudit
	ev.Action = event.ActAudit
	switch {
	case a.Type == "AVC" && a.Denied:
		ev.Action = event.ActAVCDenied
		ev.Outcome = event.OutcomeFailure
	case a.Type == "ADD_USER":
		ev.Action = event.ActUserAdded
	case a.Type == "DEL_USER":
		ev.Action = event.ActUserDeleted
	case a.Type == "ADD_GROUP":
		ev.Action = event.ActGroupAdded
	case a.Type == "USER_MGMT" || a.Type == "GRP_MGMT" || a.Type == "DEL_GROUP":
		ev.Action = event.ActUserModified
	case a.Type == "USER_CHAUTHTOK":
		ev.Action = event.ActPasswordChanged
	}
	if ev.Count == 0 {
		ev.Count = 1
	}
	ev.Audit = a
	return ev
}

// interpretedMode reads ausearch -i's "file,600" / "dir,755" / "file,suid,755".
func interpretedMode(s string) uint32 {
	var m uint32
	for _, part := range strings.Split(s, ",") {
		switch part {
		case "file":
			m |= 0o100000
		case "dir":
			m |= 0o040000
		case "suid":
			m |= 0o4000
		case "sgid":
			m |= 0o2000
		case "sticky":
			m |= 0o1000
		default:
			if v, err := strconv.ParseUint(part, 8, 32); err == nil {
				m |= uint32(v)
			}
		}
	}
	return m
}

// syscallName names common syscalls of x86_64, aarch64 and i386 (what
// ausearch -i prints); others stay numbers.
func syscallName(arch, nr string) string {
	if nr == "" || nr[0] < '0' || nr[0] > '9' {
		return nr // already a name (interpreted)
	}
	var table map[string]string
	switch arch {
	case "c000003e", "x86_64":
		table = x8664
	case "c00000b7", "aarch64":
		table = aarch64
	case "40000003", "i386":
		table = i386
	}
	if n, ok := table[nr]; ok {
		return n
	}
	return nr
}

var x8664 = map[string]string{
	"0": "read", "1": "write", "2": "open", "3": "close", "4": "stat", "21": "access", "41": "socket",
	"42": "connect", "43": "accept", "44": "sendto", "46": "sendmsg", "49": "bind", "56": "clone", "57": "fork", "58": "vfork", "59": "execve",
	"62": "kill", "76": "truncate", "77": "ftruncate", "82": "rename", "83": "mkdir", "84": "rmdir",
	"87": "unlink", "90": "chmod", "91": "fchmod", "92": "chown", "101": "ptrace", "105": "setuid",
	"106": "setgid", "113": "setreuid", "114": "setregid", "117": "setresuid", "119": "setresgid",
	"126": "capset", "157": "prctl", "161": "chroot", "165": "mount", "166": "umount2", "175": "init_module",
	"176": "delete_module", "257": "openat", "260": "fchownat", "263": "unlinkat", "264": "renameat",
	"268": "fchmodat", "272": "unshare", "288": "accept4", "313": "finit_module", "321": "bpf",
	"322": "execveat", "435": "clone3",
}

var aarch64 = map[string]string{
	"56": "openat", "35": "unlinkat", "221": "execve", "281": "execveat", "146": "setuid", "147": "setresuid",
	"144": "setgid", "149": "setresgid", "203": "connect", "200": "bind", "105": "init_module",
	"273": "finit_module", "106": "delete_module", "117": "ptrace", "40": "mount", "220": "clone",
}

var i386 = map[string]string{
	"5": "open", "11": "execve", "195": "stat64", "196": "lstat64", "197": "fstat64", "23": "setuid", "213": "setuid32", "164": "setresuid", "208": "setresuid32",
	"26": "ptrace", "102": "socketcall", "295": "openat", "10": "unlink", "38": "rename",
}
