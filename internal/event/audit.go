package event

// Audit is the host-audit part of an event (auditd, SELinux and AppArmor):
// one audit event, i.e. every record that shares an event serial (SYSCALL
// + EXECVE + CWD + PATH + PROCTITLE ...), with hex-encoded fields decoded.
// Strings are immutable and may be retained.
//
// Core fields carry what other families share: Event.Host is the node= name
// ("-" when the log has none), Event.PID the process, Event.User the
// login (audit) user, Event.TargetUser the account acted on (ADD_USER
// ...), Event.Command the executed command line (EXECVE arguments, else
// the decoded proctitle), Event.Outcome success= / res=.
type Audit struct {
	Serial  uint64
	Type    string   // the event's primary record type: SYSCALL, AVC, USER_AUTH, ADD_USER, CONFIG_CHANGE, ...
	Records []string // the types of every record of the event, in order

	Syscall string // syscall name (x86_64/aarch64 for common calls) or number
	Exit    string // exit= as logged (e.g. "-13" or "EACCES(Permission denied)")
	PPID    int32

	// Identities: names when the log gives them (ausearch -i, the ENRICHED
	// log format), else the numbers; "unset" for an unset auid.
	AUID, UID, EUID, SUID, FSUID, GID, EGID string
	Ses                                     string
	TTY                                     string

	Comm, Exe, Cwd string
	Paths          []AuditPath
	Argv           []string // EXECVE arguments, decoded
	Proctitle      string   // PROCTITLE, decoded (NULs as spaces)
	Key            string   // the audit rule's key
	Subj           string   // subject security context (SELinux) or AppArmor label

	// AVC: SELinux or AppArmor decision.
	Denied   bool
	Perms    string // "read write", "r", ...
	SContext string // SELinux scontext; AppArmor profile
	TContext string // SELinux tcontext
	TClass   string // SELinux tclass; AppArmor operation
	Name     string // the object's name= or path=
	Granted  bool   // an AVC "granted" (audited allow), not a denial

	Op   string // op= of CONFIG_CHANGE, USER_* and account records
	Caps string // capabilities gained on exec (BPRM_FCAPS fp=, fi=, fe=), "" when none
}

// AuditPath is one PATH record.
type AuditPath struct {
	Name     string // name=, decoded
	NameType string // NORMAL, CREATE, DELETE, PARENT, ...
	Mode     uint32 // mode= (octal in the log; 0 when absent)
	OUID     string
}
