package event

// Action is what an event records (ECS event.action). It is a small integer
// on the hot path and a stable string in output.
type Action uint16

// Actions. Keep String in sync; the string names are part of the output
// contract and must not change.
const (
	ActNone Action = iota
	// sshd and PAM
	ActLoginSuccess         // Accepted password/publickey/keyboard-interactive/...
	ActLoginFailure         // Failed password/none/publickey ... (InvalidUser set for "invalid user")
	ActInvalidUser          // "Invalid user X from IP" (the probe, before any password)
	ActAuthFailurePAM       // pam_unix(...:auth): authentication failure
	ActMaxAuthAttempts      // maximum authentication attempts exceeded / Too many authentication failures
	ActBreakInAttempt       // POSSIBLE BREAK-IN ATTEMPT (reverse mapping mismatch)
	ActNoIdentification     // Did not receive identification string
	ActBadProtocol          // Bad protocol version identification
	ActConnectionClosed     // Connection closed/reset by ... [preauth]
	ActDisconnected         // Disconnected from / Received disconnect from
	ActSessionOpened        // pam_unix(...:session): session opened for user X
	ActSessionClosed        // pam_unix(...:session): session closed for user X
	ActSudoCommand          // sudo: user : TTY=... ; COMMAND=...
	ActSudoFailure          // sudo: N incorrect password attempts / authentication failure
	ActSudoNotAllowed       // user NOT in sudoers / not allowed to run
	ActSuSuccess            // su: Successful su / session opened by su
	ActSuFailure            // su: FAILED su / authentication failure
	ActUserAdded            // useradd: new user
	ActUserDeleted          // userdel: delete user
	ActUserModified         // usermod: change user / add to group
	ActGroupAdded           // groupadd: new group
	ActPasswordChanged      // passwd/chpasswd: password changed
	ActPasswordAgingChanged // chage: changed password expiry
	ActServiceFailed        // systemd: unit failed / Failed to start
	ActRootLogin            // login: ROOT LOGIN on tty
	ActSyslog               // any other syslog line
	// web, DNS, network
	ActHTTPRequest // one access-log record (request and response)
	ActDNSQuery    // a DNS query (with its response when matched)
	ActDNSResponse // a DNS response without a matching query
	ActFlow        // a network flow or connection record
	// host audit and files
	ActAudit        // an audit event (see Event.Audit.Type)
	ActAVCDenied    // an SELinux or AppArmor access denial
	ActFileTransfer // a file transferred on the network (Zeek files.log)
	actCount
)

var actionNames = [...]string{
	ActNone:                 "none",
	ActLoginSuccess:         "logged-in",
	ActLoginFailure:         "login-failed",
	ActInvalidUser:          "invalid-user",
	ActAuthFailurePAM:       "pam-auth-failure",
	ActMaxAuthAttempts:      "max-auth-attempts-exceeded",
	ActBreakInAttempt:       "possible-break-in-attempt",
	ActNoIdentification:     "no-identification-string",
	ActBadProtocol:          "bad-protocol-version",
	ActConnectionClosed:     "connection-closed",
	ActDisconnected:         "disconnected",
	ActSessionOpened:        "session-opened",
	ActSessionClosed:        "session-closed",
	ActSudoCommand:          "sudo-command",
	ActSudoFailure:          "sudo-auth-failure",
	ActSudoNotAllowed:       "sudo-not-allowed",
	ActSuSuccess:            "su",
	ActSuFailure:            "su-failed",
	ActUserAdded:            "user-created",
	ActUserDeleted:          "user-deleted",
	ActUserModified:         "user-modified",
	ActGroupAdded:           "group-created",
	ActPasswordChanged:      "password-changed",
	ActPasswordAgingChanged: "password-aging-changed",
	ActServiceFailed:        "service-failed",
	ActRootLogin:            "root-login",
	ActSyslog:               "syslog",
	ActHTTPRequest:          "http-request",
	ActDNSQuery:             "dns-query",
	ActDNSResponse:          "dns-response",
	ActFlow:                 "flow",
	ActAudit:                "audit",
	ActAVCDenied:            "avc-denied",
	ActFileTransfer:         "file-transfer",
}

func (a Action) String() string {
	if a < actCount {
		return actionNames[a]
	}
	return "none"
}

// ActionCount is the number of defined actions; useful for fixed arrays
// indexed by Action.
const ActionCount = int(actCount)
