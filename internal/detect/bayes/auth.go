package bayes

import (
	"net/netip"
	"strings"

	"winnow/internal/event"
)

// Auth token classes: what happened (action, outcome, program, method),
// to which account (its class and name, the target account), when (hour
// bucket, weekday or weekend, per account), from where (source address
// class, network, the address), and the words of the message.
const (
	AuthAction     Class = 1 + iota // action and outcome: "login-failure/failure"
	AuthProgram                     // program: "sshd"
	AuthMethod                      // method: "password"
	AuthAccount                     // account class: "root", "service", "guessable", "personal", "invalid", "none"
	AuthUser                        // account name
	AuthActionUser                  // action and account name
	AuthTarget                      // target account class and command base name: "root sudo bash"
	AuthHour                        // hour bucket (4 h) and weekday/weekend: "h08-11 weekday"
	AuthUserHour                    // account and hour bucket
	AuthSource                      // source address class: "public-v4", "private", "loopback", "none"
	AuthNet                         // source network (/24 or /48)
	AuthAddr                        // source address
	AuthUserNet                     // account and source network
	AuthFlag                        // flags: "invalid-user", "preauth"
	AuthWord                        // a word of the message
	AuthHost                        // host that logged
	authClasses
)

var authClassNames = [...]string{"", "action", "program", "method", "account-class", "account", "action+account",
	"target", "hour", "account+hour", "source-class", "source-net", "source", "account+net", "flag", "word", "host"}

// maxAuthWords caps the message words tokenised.
const maxAuthWords = 24

// Auth adds the tokens of an auth (or syslog/service) event to t.
func (t *Tokens) Auth(ev *event.Event) {
	t.addS(AuthAction, ev.Action.String()+"/"+ev.Outcome.String())
	if ev.Program != "" {
		t.addS(AuthProgram, ev.Program)
	}
	if ev.Method != "" {
		t.addS(AuthMethod, ev.Method)
	}
	if ev.Host != "" {
		t.addS(AuthHost, ev.Host)
	}
	acct := AccountClass(ev.User, ev.InvalidUser)
	t.addS(AuthAccount, acct)
	if ev.User != "" {
		t.addS(AuthUser, ev.User)
		t.addS(AuthActionUser, ev.Action.String()+" "+ev.User)
	}
	if ev.TargetUser != "" || ev.Command != "" {
		tgt := AccountClass(ev.TargetUser, false)
		cmd := ev.Command
		if f := strings.Fields(cmd); len(f) > 0 {
			cmd = f[0]
			if i := strings.LastIndexByte(cmd, '/'); i >= 0 {
				cmd = cmd[i+1:]
			}
		}
		t.addS(AuthTarget, tgt+" "+ev.Program+" "+cmd)
	}
	if !ev.Time.IsZero() {
		h := ev.Time.Hour() / 4 * 4
		day := "weekday"
		if wd := ev.Time.Weekday(); wd == 0 || wd == 6 {
			day = "weekend"
		}
		b := hourNames[h/4] + " " + day
		t.addS(AuthHour, b)
		if ev.User != "" {
			t.addS(AuthUserHour, ev.User+" "+b)
		}
	}
	src, network := SourceClass(ev.SrcIP)
	t.addS(AuthSource, src)
	if ev.SrcIP.IsValid() {
		t.addS(AuthNet, network)
		t.addS(AuthAddr, ev.SrcIP.String())
		if ev.User != "" {
			t.addS(AuthUserNet, ev.User+" "+network)
		}
	}
	if ev.InvalidUser {
		t.addS(AuthFlag, "invalid-user")
	}
	if ev.Preauth {
		t.addS(AuthFlag, "preauth")
	}
	msg := ev.Msg
	if len(msg) == 0 {
		msg = ev.Raw
	}
	n := 0
	for i := 0; i < len(msg) && n < maxAuthWords; {
		if charClass[msg[i]] != chLetter || msg[i] >= 0x80 {
			i++
			continue
		}
		j := i
		for j < len(msg) && charClass[msg[j]] == chLetter && msg[j] < 0x80 {
			j++
		}
		if j-i >= 3 {
			w := msg[i:j]
			if len(w) > maxWord {
				w = w[:maxWord]
			}
			t.raw = lowerASCII(t.raw[:0], w)
			t.addB(AuthWord, t.raw)
			n++
		}
		i = j
	}
}

var hourNames = [...]string{"h00-03", "h04-07", "h08-11", "h12-15", "h16-19", "h20-23"}

// Account classes.
var (
	serviceAccounts = map[string]bool{"daemon": true, "bin": true, "sys": true, "nobody": true, "www-data": true,
		"postgres": true, "mysql": true, "oracle": true, "git": true, "ftp": true, "mail": true, "news": true,
		"backup": true, "proxy": true, "sshd": true, "systemd-network": true, "messagebus": true, "syslog": true,
		"apache": true, "nginx": true, "tomcat": true, "redis": true, "elasticsearch": true, "hadoop": true,
		"jenkins": true, "docker": true, "zabbix": true, "nagios": true, "ftpuser": true, "uucp": true, "games": true}
	guessableAccounts = map[string]bool{"admin": true, "administrator": true, "test": true, "guest": true,
		"user": true, "ubuntu": true, "pi": true, "support": true, "info": true, "demo": true, "temp": true,
		"testuser": true, "test1": true, "user1": true, "default": true, "centos": true, "debian": true,
		"ec2-user": true, "vagrant": true, "operator": true, "manager": true, "webmaster": true, "adm": true,
		"student": true, "alex": true, "sales": true, "office": true, "deploy": true, "dev": true}
)

// AccountClass names the class of an account: "none", "invalid" (the log
// says it does not exist), "root", "service" (daemon accounts),
// "guessable" (names brute-force lists try first) or "personal".
func AccountClass(user string, invalid bool) string {
	switch {
	case user == "":
		return "none"
	case invalid:
		return "invalid"
	case user == "root":
		return "root"
	}
	l := lowerString(user)
	switch {
	case serviceAccounts[l]:
		return "service"
	case guessableAccounts[l]:
		return "guessable"
	}
	return "personal"
}

// SourceClass names a source address's class ("none", "loopback",
// "private", "link-local", "public-v4", "public-v6") and its network
// (/24 for IPv4, /48 for IPv6).
func SourceClass(a netip.Addr) (class, network string) {
	if !a.IsValid() {
		return "none", ""
	}
	a = a.Unmap()
	bitsN := 24
	if a.Is6() {
		bitsN = 48
	}
	p, _ := a.Prefix(bitsN)
	network = p.String()
	switch {
	case a.IsLoopback():
		return "loopback", network
	case a.IsPrivate():
		return "private", network
	case a.IsLinkLocalUnicast():
		return "link-local", network
	case a.Is4():
		return "public-v4", network
	}
	return "public-v6", network
}
