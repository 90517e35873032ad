package generate

import "strconv"

// kind is the template of one output line. Every kind fixes the program
// (syslog tag) and the shape of the message; a rec carries its fields.
type kind uint8

const (
	// sshd: connection and authentication
	kAcceptedPassword     kind = iota // Accepted password for U from IP port P ssh2
	kAcceptedKey                      // Accepted publickey for U from IP port P ssh2: ED25519 SHA256:FP
	kFailed                           // Failed password for U from IP port P ssh2
	kFailedInvalid                    // Failed password for invalid user U from IP port P ssh2
	kRepeated                         // message repeated N times: [ Failed password for U from IP port P ssh2]
	kRepeatedInvalid                  // message repeated N times: [ Failed password for invalid user U ...]
	kPamAuthFail                      // pam_unix(sshd:auth): authentication failure; ... rhost=IP  user=U
	kPamAuthFailUnknown               // pam_unix(sshd:auth): authentication failure; ... rhost=IP
	kCheckPassUnknown                 // pam_unix(sshd:auth): check pass; user unknown
	kInvalidUser                      // Invalid user U from IP port P
	kMaxAttempts                      // error: maximum authentication attempts exceeded for U from IP port P ssh2 [preauth]
	kMaxAttemptsInvalid               // error: maximum authentication attempts exceeded for invalid user U ...
	kTooMany                          // Disconnecting: Too many authentication failures [preauth]
	kPamMore                          // PAM N more authentication failures; ... rhost=IP  user=U
	kPamMoreUnknown                   // PAM N more authentication failures; ... rhost=IP
	kPamIgnoring                      // PAM service(sshd) ignoring max retries; N > 3
	kClosedAuthenticating             // Connection closed by authenticating user U IP port P [preauth]
	kClosedInvalid                    // Connection closed by invalid user U IP port P [preauth]
	kClosed                           // Connection closed by IP port P [preauth]
	kNoIdent                          // Did not receive identification string from IP port P
	kBadProtocol                      // Bad protocol version identification 'GET / HTTP/1.1' from IP port P
	kNegotiate                        // Unable to negotiate with IP port P: no matching key exchange method found. ...
	kByeBye                           // Received disconnect from IP port P:11: Bye Bye [preauth]
	kDisconnectedPreauth              // Disconnected from IP port P [preauth]
	kDisconnectedInvalid              // Disconnected from invalid user U IP port P [preauth]
	kRecvDisconnectUser               // Received disconnect from IP port P:11: disconnected by user
	kDisconnectedUser                 // Disconnected from user U IP port P
	kSessionOpened                    // pam_unix(sshd:session): session opened for user U by (uid=0)
	kSessionClosed                    // pam_unix(sshd:session): session closed for user U
	kSignal                           // Received signal 15; terminating.
	kListen4                          // Server listening on 0.0.0.0 port 22.
	kListen6                          // Server listening on :: port 22.
	// systemd-logind
	kLogindNew     // New session N of user U.
	kLogindOut     // Session N logged out. Waiting for processes to exit.
	kLogindRemoved // Removed session N.
	// cron
	kCronOpened // pam_unix(cron:session): session opened for user U by (uid=0)
	kCronClosed // pam_unix(cron:session): session closed for user U
	// sudo
	kSudoCommand // sudo:    U : TTY=T ; PWD=D ; USER=root ; COMMAND=C
	kSudoOpened  // sudo: pam_unix(sudo:session): session opened for user root by U(uid=0)
	kSudoClosed  // sudo: pam_unix(sudo:session): session closed for user root
	// account tools
	kNewGroup      // useradd[pid]: new group: name=U, GID=N
	kNewUser       // useradd[pid]: new user: name=U, UID=N, GID=N, home=/home/U, shell=/bin/bash
	kPasswdChanged // passwd[pid]: pam_unix(passwd:chauthtok): password changed for U
	kUsermodGroup  // usermod[pid]: add 'U' to group 'G'
	kUsermodShadow // usermod[pid]: add 'U' to shadow group 'G'
	kindCount
)

// progOf returns the syslog tag of a kind and whether it is written with
// "[pid]" (sudo logs without one).
func progOf(k kind) (string, bool) {
	switch {
	case k <= kListen6:
		return "sshd", true
	case k <= kLogindRemoved:
		return "systemd-logind", true
	case k <= kCronClosed:
		return "CRON", true
	case k <= kSudoClosed:
		return "sudo", false
	case k <= kNewUser:
		return "useradd", true
	case k == kPasswdChanged:
		return "passwd", true
	}
	return "usermod", true
}

// rec is one planned line. Strings point into the fleet's tables, so a rec
// costs no allocation.
type rec struct {
	t    int64  // unix seconds
	n    int32  // count, session number, uid, tty number: per kind
	host int32  // index into the fleet's hosts
	pid  int32  // process id of the tag
	port int32  // source port
	ip   uint32 // source IPv4 address
	k    kind
	user string // account
	arg  string // command, key fingerprint, group name: per kind
	arg2 string // working directory (sudo)
}

// appendRec appends the message part of r (after "prog[pid]: ").
func appendRec(b []byte, r *rec) []byte {
	switch r.k {
	case kAcceptedPassword:
		b = append(b, "Accepted password for "...)
		b = appendUserFrom(b, r)
		b = append(b, " ssh2"...)
	case kAcceptedKey:
		b = append(b, "Accepted publickey for "...)
		b = appendUserFrom(b, r)
		b = append(b, " ssh2: ED25519 SHA256:"...)
		b = append(b, r.arg...)
	case kFailed:
		b = append(b, "Failed password for "...)
		b = appendUserFrom(b, r)
		b = append(b, " ssh2"...)
	case kFailedInvalid:
		b = append(b, "Failed password for invalid user "...)
		b = appendUserFrom(b, r)
		b = append(b, " ssh2"...)
	case kRepeated, kRepeatedInvalid:
		b = append(b, "message repeated "...)
		b = strconv.AppendInt(b, int64(r.n), 10)
		b = append(b, " times: [ Failed password for "...)
		if r.k == kRepeatedInvalid {
			b = append(b, "invalid user "...)
		}
		b = appendUserFrom(b, r)
		b = append(b, " ssh2]"...)
	case kPamAuthFail, kPamAuthFailUnknown:
		b = append(b, "pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost="...)
		b = appendIP(b, r.ip)
		b = appendPamUser(b, r, r.k == kPamAuthFail)
	case kCheckPassUnknown:
		b = append(b, "pam_unix(sshd:auth): check pass; user unknown"...)
	case kInvalidUser:
		b = append(b, "Invalid user "...)
		b = appendUserFrom(b, r)
	case kMaxAttempts:
		b = append(b, "error: maximum authentication attempts exceeded for "...)
		b = appendUserFrom(b, r)
		b = append(b, " ssh2 [preauth]"...)
	case kMaxAttemptsInvalid:
		b = append(b, "error: maximum authentication attempts exceeded for invalid user "...)
		b = appendUserFrom(b, r)
		b = append(b, " ssh2 [preauth]"...)
	case kTooMany:
		b = append(b, "Disconnecting: Too many authentication failures [preauth]"...)
	case kPamMore, kPamMoreUnknown:
		b = append(b, "PAM "...)
		b = strconv.AppendInt(b, int64(r.n), 10)
		if r.n == 1 {
			b = append(b, " more authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost="...)
		} else {
			b = append(b, " more authentication failures; logname= uid=0 euid=0 tty=ssh ruser= rhost="...)
		}
		b = appendIP(b, r.ip)
		b = appendPamUser(b, r, r.k == kPamMore)
	case kPamIgnoring:
		b = append(b, "PAM service(sshd) ignoring max retries; "...)
		b = strconv.AppendInt(b, int64(r.n), 10)
		b = append(b, " > 3"...)
	case kClosedAuthenticating:
		b = append(b, "Connection closed by authenticating user "...)
		b = appendUserIPPort(b, r)
		b = append(b, " [preauth]"...)
	case kClosedInvalid:
		b = append(b, "Connection closed by invalid user "...)
		b = appendUserIPPort(b, r)
		b = append(b, " [preauth]"...)
	case kClosed:
		b = append(b, "Connection closed by "...)
		b = appendIPPort(b, r)
		b = append(b, " [preauth]"...)
	case kNoIdent:
		b = append(b, "Did not receive identification string from "...)
		b = appendIPPort(b, r)
	case kBadProtocol:
		b = append(b, "Bad protocol version identification '"...)
		b = append(b, r.arg...)
		b = append(b, "' from "...)
		b = appendIPPort(b, r)
	case kNegotiate:
		b = append(b, "Unable to negotiate with "...)
		b = appendIPPort(b, r)
		b = append(b, ": no matching key exchange method found. Their offer: "...)
		b = append(b, r.arg...)
		b = append(b, " [preauth]"...)
	case kByeBye:
		b = append(b, "Received disconnect from "...)
		b = appendIPPort(b, r)
		b = append(b, ":11: Bye Bye [preauth]"...)
	case kDisconnectedPreauth:
		b = append(b, "Disconnected from "...)
		b = appendIPPort(b, r)
		b = append(b, " [preauth]"...)
	case kDisconnectedInvalid:
		b = append(b, "Disconnected from invalid user "...)
		b = appendUserIPPort(b, r)
		b = append(b, " [preauth]"...)
	case kRecvDisconnectUser:
		b = append(b, "Received disconnect from "...)
		b = appendIPPort(b, r)
		b = append(b, ":11: disconnected by user"...)
	case kDisconnectedUser:
		b = append(b, "Disconnected from user "...)
		b = appendUserIPPort(b, r)
	case kSessionOpened:
		b = append(b, "pam_unix(sshd:session): session opened for user "...)
		b = append(b, r.user...)
		b = append(b, " by (uid=0)"...)
	case kSessionClosed:
		b = append(b, "pam_unix(sshd:session): session closed for user "...)
		b = append(b, r.user...)
	case kSignal:
		b = append(b, "Received signal 15; terminating."...)
	case kListen4:
		b = append(b, "Server listening on 0.0.0.0 port 22."...)
	case kListen6:
		b = append(b, "Server listening on :: port 22."...)
	case kLogindNew:
		b = append(b, "New session "...)
		b = strconv.AppendInt(b, int64(r.n), 10)
		b = append(b, " of user "...)
		b = append(b, r.user...)
		b = append(b, '.')
	case kLogindOut:
		b = append(b, "Session "...)
		b = strconv.AppendInt(b, int64(r.n), 10)
		b = append(b, " logged out. Waiting for processes to exit."...)
	case kLogindRemoved:
		b = append(b, "Removed session "...)
		b = strconv.AppendInt(b, int64(r.n), 10)
		b = append(b, '.')
	case kCronOpened:
		b = append(b, "pam_unix(cron:session): session opened for user "...)
		b = append(b, r.user...)
		b = append(b, " by (uid=0)"...)
	case kCronClosed:
		b = append(b, "pam_unix(cron:session): session closed for user "...)
		b = append(b, r.user...)
	case kSudoCommand:
		// sudo right-aligns the invoking user in eight columns.
		for i := len(r.user); i < 8; i++ {
			b = append(b, ' ')
		}
		b = append(b, r.user...)
		b = append(b, " : TTY="...)
		if r.n < 0 {
			b = append(b, "unknown"...)
		} else {
			b = append(b, "pts/"...)
			b = strconv.AppendInt(b, int64(r.n), 10)
		}
		b = append(b, " ; PWD="...)
		b = append(b, r.arg2...)
		b = append(b, " ; USER=root ; COMMAND="...)
		b = append(b, r.arg...)
	case kSudoOpened:
		b = append(b, "pam_unix(sudo:session): session opened for user root by "...)
		b = append(b, r.user...)
		b = append(b, "(uid=0)"...)
	case kSudoClosed:
		b = append(b, "pam_unix(sudo:session): session closed for user root"...)
	case kNewGroup:
		b = append(b, "new group: name="...)
		b = append(b, r.user...)
		b = append(b, ", GID="...)
		b = strconv.AppendInt(b, int64(r.n), 10)
	case kNewUser:
		b = append(b, "new user: name="...)
		b = append(b, r.user...)
		b = append(b, ", UID="...)
		b = strconv.AppendInt(b, int64(r.n), 10)
		b = append(b, ", GID="...)
		b = strconv.AppendInt(b, int64(r.n), 10)
		b = append(b, ", home=/home/"...)
		b = append(b, r.user...)
		b = append(b, ", shell=/bin/bash"...)
	case kPasswdChanged:
		b = append(b, "pam_unix(passwd:chauthtok): password changed for "...)
		b = append(b, r.user...)
	case kUsermodGroup, kUsermodShadow:
		b = append(b, "add '"...)
		b = append(b, r.user...)
		if r.k == kUsermodShadow {
			b = append(b, "' to shadow group '"...)
		} else {
			b = append(b, "' to group '"...)
		}
		b = append(b, r.arg...)
		b = append(b, '\'')
	}
	return b
}

// appendUserFrom appends "U from IP port P".
func appendUserFrom(b []byte, r *rec) []byte {
	b = append(b, r.user...)
	b = append(b, " from "...)
	return appendIPPort(b, r)
}

// appendUserIPPort appends "U IP port P".
func appendUserIPPort(b []byte, r *rec) []byte {
	b = append(b, r.user...)
	b = append(b, ' ')
	return appendIPPort(b, r)
}

// appendIPPort appends "IP port P".
func appendIPPort(b []byte, r *rec) []byte {
	b = appendIP(b, r.ip)
	b = append(b, " port "...)
	return strconv.AppendInt(b, int64(r.port), 10)
}

// appendPamUser ends a pam_unix failure line: two spaces and user=U for a
// known account, a trailing space for an unknown one (as pam_unix does).
func appendPamUser(b []byte, r *rec, known bool) []byte {
	if !known {
		return append(b, ' ')
	}
	b = append(b, "  user="...)
	return append(b, r.user...)
}

// appendIP appends the dotted quad of a.
func appendIP(b []byte, a uint32) []byte {
	b = appendOctet(b, byte(a>>24))
	b = append(b, '.')
	b = appendOctet(b, byte(a>>16))
	b = append(b, '.')
	b = appendOctet(b, byte(a>>8))
	b = append(b, '.')
	return appendOctet(b, byte(a))
}

func appendOctet(b []byte, o byte) []byte {
	switch {
	case o >= 100:
		return append(b, '0'+o/100, '0'+o/10%10, '0'+o%10)
	case o >= 10:
		return append(b, '0'+o/10, '0'+o%10)
	}
	return append(b, '0'+o)
}

// ipString formats a for the ground truth.
func ipString(a uint32) string {
	return string(appendIP(make([]byte, 0, 15), a))
}
