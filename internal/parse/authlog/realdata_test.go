package authlog

import (
	"bytes"
	"encoding/csv"
	"errors"
	"net/netip"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"winnow/internal/event"
	"winnow/internal/parse"
	"winnow/internal/testdata"
)

// The tests in this file check the parser against the real datasets in
// ../shared/data, with expectations computed independently of the parser:
// regular expressions and substring rules over the raw lines.

// readLines splits a file on '\n' only, keeping any '\r' (loghub files are
// CRLF) as a reader that strips only '\n' would.
func readLines(t testing.TB, path string) [][]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Split(bytes.TrimSuffix(b, []byte("\n")), []byte("\n"))
}

type parsed struct {
	events    []event.Event // one per line that parsed, in order
	lineOf    []int         // 0-based line index of each event
	malformed []string
	skipped   int
}

func parseFile(t testing.TB, lines [][]byte, o parse.Options) parsed {
	t.Helper()
	p := New(o)
	var r parsed
	for i, line := range lines {
		var ev event.Event
		err := p.Parse(line, &ev)
		switch {
		case errors.Is(err, parse.ErrSkip):
			r.skipped++
		case err != nil:
			r.malformed = append(r.malformed, string(line))
		default:
			checkInvariants(t, line, &ev)
			r.events = append(r.events, ev)
			r.lineOf = append(r.lineOf, i)
		}
	}
	return r
}

// countsOf sums Count per action.
func countsOf(evs []event.Event) map[event.Action]int {
	m := map[event.Action]int{}
	for i := range evs {
		m[evs[i].Action] += int(evs[i].Count)
	}
	return m
}

var (
	reHeader   = regexp.MustCompile(`^[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d (\S+) +(?:(\S+?)(?:\[(\d+)\])?: )?(.*?)\r?$`)
	reRepeated = regexp.MustCompile(`^message repeated (\d+) times: \[ (.*)\]$`)
)

// independentAction classifies a syslog message by substring rules written
// from the message catalogue, without the parser's code.
func independentAction(prog, msg string) event.Action {
	base := prog
	if i := strings.LastIndex(base, "/"); i >= 0 {
		base = base[i+1:]
	}
	has, pre := strings.Contains, strings.HasPrefix
	switch {
	case strings.HasSuffix(base, "(pam_unix)") && pre(msg, "authentication failure;"):
		return event.ActAuthFailurePAM
	case strings.HasSuffix(base, "(pam_unix)") && pre(msg, "session opened for user"):
		return event.ActSessionOpened
	case strings.HasSuffix(base, "(pam_unix)") && pre(msg, "session closed for user"):
		return event.ActSessionClosed
	case has(msg, "(sudo:auth): authentication failure"):
		return event.ActSudoFailure
	case pre(msg, "pam_") && has(msg, ":auth): authentication failure"):
		return event.ActAuthFailurePAM
	case pre(msg, "pam_") && has(msg, ":session): session opened for user"):
		return event.ActSessionOpened
	case pre(msg, "pam_") && has(msg, ":session): session closed for user"):
		return event.ActSessionClosed
	case pre(msg, "pam_") && has(msg, ":chauthtok): password changed for"),
		pre(msg, "pam_") && has(msg, ":chauthtok): user \"") && has(msg, "does not exist"):
		return event.ActPasswordChanged
	}
	switch base {
	case "sshd":
		switch {
		case pre(msg, "Accepted "):
			return event.ActLoginSuccess
		case pre(msg, "Failed "):
			return event.ActLoginFailure
		case pre(msg, "Invalid user "):
			return event.ActInvalidUser
		case has(msg, "POSSIBLE BREAK-IN ATTEMPT"):
			return event.ActBreakInAttempt
		case pre(msg, "Did not receive identification string"):
			return event.ActNoIdentification
		case pre(msg, "Bad protocol version identification"):
			return event.ActBadProtocol
		case pre(msg, "Connection closed by "), pre(msg, "Connection reset by "):
			return event.ActConnectionClosed
		case pre(msg, "Received disconnect from "), pre(msg, "error: Received disconnect from "), pre(msg, "Disconnected from "):
			return event.ActDisconnected
		case pre(msg, "error: maximum authentication attempts exceeded"), pre(msg, "Disconnecting: Too many authentication failures for "):
			return event.ActMaxAuthAttempts
		case pre(msg, "PAM ") && has(msg, " more authentication failure"):
			return event.ActAuthFailurePAM
		}
	case "sudo":
		switch {
		case has(msg, "incorrect password attempt"):
			return event.ActSudoFailure
		case has(msg, "NOT in sudoers"):
			return event.ActSudoNotAllowed
		case has(msg, " : TTY=") && has(msg, "COMMAND="):
			return event.ActSudoCommand
		}
	case "su":
		switch {
		case pre(msg, "Successful su for "):
			return event.ActSuSuccess
		case pre(msg, "FAILED su for "):
			return event.ActSuFailure
		}
	case "login":
		switch {
		case pre(msg, "ROOT LOGIN "):
			return event.ActRootLogin
		case pre(msg, "FAILED LOGIN "):
			return event.ActLoginFailure
		}
	case "useradd":
		switch {
		case pre(msg, "new user: "), pre(msg, "failed adding user "):
			return event.ActUserAdded
		case pre(msg, "new group: "):
			return event.ActGroupAdded
		}
	case "groupadd":
		if pre(msg, "new group: ") {
			return event.ActGroupAdded
		}
	case "usermod":
		if pre(msg, "change user ") {
			return event.ActUserModified
		}
	case "chage":
		if pre(msg, "changed password expiry for ") {
			return event.ActPasswordAgingChanged
		}
	case "chfn":
		if pre(msg, "changed user ") {
			return event.ActUserModified
		}
	}
	return event.ActSyslog
}

// independentCounts classifies every line of a file; "message repeated N
// times" lines count N times as their inner message.
func independentCounts(t testing.TB, lines [][]byte) map[event.Action]int {
	t.Helper()
	m := map[event.Action]int{}
	for _, l := range lines {
		sm := reHeader.FindSubmatch(l)
		if sm == nil {
			t.Fatalf("test header regexp does not match %q", l)
		}
		prog, msg := string(sm[2]), string(sm[4])
		n := 1
		if r := reRepeated.FindStringSubmatch(msg); r != nil {
			n, _ = strconv.Atoi(r[1])
			msg = r[2]
		}
		m[independentAction(prog, msg)] += n
	}
	return m
}

func compareCounts(t *testing.T, got, want map[event.Action]int) {
	t.Helper()
	for a := event.Action(0); int(a) < event.ActionCount; a++ {
		if got[a] != want[a] {
			t.Errorf("%s: parser %d, independent count %d", a, got[a], want[a])
		}
	}
}

var realOpts = parse.Options{Location: time.UTC, Now: time.Date(2026, 12, 31, 0, 0, 0, 0, time.UTC)}

// TestRealFiles: every line of every real auth/syslog file frames (0
// malformed), and per-action counts equal the independent counts.
func TestRealFiles(t *testing.T) {
	files := []string{
		"auth-logs/secrepo/auth.log",
		"auth-logs/dfrws-2009/auth.all.log",
		"auth-logs/honeynet-challenge7/auth.log",
		"auth-logs/honeynet-challenge7/messages",
		"auth-logs/honeynet-challenge7/syslog",
		"auth-logs/honeynet-challenge7/daemon.log",
		"elastic-examples/suspicious_login_activity/auth.log",
		"loghub/OpenSSH/OpenSSH_2k.log",
		"loghub/Linux/Linux_2k.log",
	}
	for _, f := range files {
		t.Run(f, func(t *testing.T) {
			lines := readLines(t, testdata.File(t, f))
			r := parseFile(t, lines, realOpts)
			if len(r.malformed) > 0 || r.skipped > 0 {
				t.Errorf("%d malformed, %d skipped of %d lines; first: %q", len(r.malformed), r.skipped, len(lines), r.malformed)
			}
			compareCounts(t, countsOf(r.events), independentCounts(t, lines))
		})
	}
}

var reIPv4 = regexp.MustCompile(`\b\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}\b`)

// TestSecrepo checks fields on the 87k-line secrepo auth.log: every event
// whose line carries an IPv4 address has SrcIP equal to the line's last
// one (the first for "Address IP maps to NAME"), and invalid-user names
// equal what a regexp extracts.
func TestSecrepo(t *testing.T) {
	lines := readLines(t, testdata.File(t, "auth-logs/secrepo/auth.log"))
	r := parseFile(t, lines, realOpts)
	if len(r.malformed) != 0 {
		t.Fatalf("%d malformed lines", len(r.malformed))
	}
	reInvalid := regexp.MustCompile(`: Invalid user (.*) from (\S+)$`)
	wantUsers, gotUsers := map[string]bool{}, map[string]bool{}
	for i := range r.events {
		ev := &r.events[i]
		line := string(lines[r.lineOf[i]])
		if ev.Kind == event.KindAuth {
			if ips := reIPv4.FindAllString(line, -1); len(ips) > 0 {
				want := netip.MustParseAddr(ips[len(ips)-1])
				if strings.Contains(line, "]: Address ") { // the host name after "maps to" may embed digits
					want = netip.MustParseAddr(ips[0])
				}
				if ev.SrcIP != want {
					t.Errorf("%q: SrcIP %v, want %v", line, ev.SrcIP, want)
				}
			} else if ev.SrcIP.IsValid() {
				t.Errorf("%q: SrcIP %v from a line without an address", line, ev.SrcIP)
			}
		}
		if m := reInvalid.FindStringSubmatch(line); m != nil {
			wantUsers[m[1]] = true
			if ev.Action != event.ActInvalidUser || ev.User != m[1] || !ev.InvalidUser {
				t.Errorf("%q: %v user %q invalid=%v, want invalid-user %q", line, ev.Action, ev.User, ev.InvalidUser, m[1])
			}
			gotUsers[ev.User] = true
		}
		if ev.Time.Year() != 2026 || ev.Time.Month() < time.November {
			t.Errorf("%q: time %v, want Nov–Dec 2026 (Now is 2026-12-31)", line, ev.Time)
		}
	}
	if len(wantUsers) < 500 || len(gotUsers) != len(wantUsers) {
		t.Errorf("distinct invalid users: parser %d, regexp %d", len(gotUsers), len(wantUsers))
	}
}

// opensshTemplateAction maps loghub's OpenSSH template ids to actions.
var opensshTemplateAction = map[string]event.Action{
	"E1":  event.ActLoginSuccess,     // Accepted password for <*> from <*> port <*> ssh2
	"E2":  event.ActConnectionClosed, // Connection closed by <*> [preauth]
	"E3":  event.ActNoIdentification, // Did not receive identification string from <*>
	"E4":  event.ActMaxAuthAttempts,  // Disconnecting: Too many authentication failures for admin [preauth]
	"E5":  event.ActMaxAuthAttempts,  // ... for root [preauth]
	"E6":  event.ActDisconnected,     // error: Received disconnect from <*>: <*>: com.jcraft.jsch.JSchException: Auth fail [preauth]
	"E7":  event.ActDisconnected,     // error: Received disconnect from <*>: <*>: No more user authentication methods available. [preauth]
	"E8":  event.ActLoginFailure,     // Failed none for invalid user <*> from <*> port <*> ssh2
	"E9":  event.ActLoginFailure,     // Failed password for <*> from <*> port <*> ssh2
	"E10": event.ActLoginFailure,     // Failed password for invalid user <*> from <*> port <*> ssh2
	"E11": event.ActSyslog,           // fatal: Write failed: Connection reset by peer [preauth]
	"E12": event.ActSyslog,           // input_userauth_request: invalid user <*> [preauth] (redundant with E13)
	"E13": event.ActInvalidUser,      // Invalid user <*> from <*>
	"E14": event.ActLoginFailure,     // message repeated <*> times: [ Failed password for root from <*> port <*>]
	"E15": event.ActAuthFailurePAM,   // PAM <*> more authentication failure; ...
	"E16": event.ActAuthFailurePAM,   // PAM <*> more authentication failures; ...
	"E17": event.ActAuthFailurePAM,   // PAM <*> more authentication failures; ... user=root
	"E18": event.ActSyslog,           // PAM service(sshd) ignoring max retries; <*> > <*>
	"E19": event.ActAuthFailurePAM,   // pam_unix(sshd:auth): authentication failure; ... rhost=<*>
	"E20": event.ActAuthFailurePAM,   // ... rhost=<*> user=<*>
	"E21": event.ActSyslog,           // pam_unix(sshd:auth): check pass; user unknown (redundant)
	"E22": event.ActSessionClosed,    // pam_unix(sshd:session): session closed for user <*>
	"E23": event.ActSessionOpened,    // pam_unix(sshd:session): session opened for user <*> by (uid=<*>)
	"E24": event.ActDisconnected,     // Received disconnect from <*>: <*>: Bye Bye [preauth]
	"E25": event.ActDisconnected,     // Received disconnect from <*>: <*>: Closed due to user request. [preauth]
	"E26": event.ActDisconnected,     // Received disconnect from <*>: <*>: disconnected by user
	"E27": event.ActBreakInAttempt,   // reverse mapping checking getaddrinfo for <*> [<*>] failed - POSSIBLE BREAK-IN ATTEMPT!
}

// TestLoghubOpenSSH checks every line of loghub's OpenSSH_2k.log against
// the template in OpenSSH_2k.log_structured.csv, and user/IP/port/count
// against values extracted from its Content column by regexp.
func TestLoghubOpenSSH(t *testing.T) {
	lines := readLines(t, testdata.File(t, "loghub/OpenSSH/OpenSSH_2k.log"))
	f, err := os.Open(testdata.File(t, "loghub/OpenSSH/OpenSSH_2k.log_structured.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	rows = rows[1:] // header: LineId,Date,Day,Time,Component,Pid,Content,EventId,EventTemplate
	if len(rows) != len(lines) || len(rows) != 2000 {
		t.Fatalf("%d rows, %d lines", len(rows), len(lines))
	}
	extract := []*regexp.Regexp{ // named groups: user, ip, port, n
		regexp.MustCompile(`^(?:Accepted|Failed) \S+ for (?:invalid user )?(?P<user>.*) from (?P<ip>\S+) port (?P<port>\d+) ssh2$`),
		regexp.MustCompile(`^Invalid user (?P<user>.*) from (?P<ip>\S+)$`),
		regexp.MustCompile(`^input_userauth_request: invalid user (?P<user>.*) \[preauth\]$`),
		regexp.MustCompile(`^Connection closed by (?P<ip>\S+) \[preauth\]$`),
		regexp.MustCompile(`^Did not receive identification string from (?P<ip>\S+)$`),
		regexp.MustCompile(`^Disconnecting: Too many authentication failures for (?P<user>\S+) \[preauth\]$`),
		regexp.MustCompile(`^(?:error: )?Received disconnect from (?P<ip>[\d.]+): \d+: `),
		regexp.MustCompile(`^message repeated (?P<n>\d+) times: \[ Failed password for (?P<user>\S+) from (?P<ip>\S+) port (?P<port>\d+) ssh2\]$`),
		regexp.MustCompile(`authentication failures?; logname= uid=\d+ euid=\d+ tty=ssh ruser= rhost=(?P<ip>\S+)(?:\s+user=(?P<user>\S+))?\s*$`),
		regexp.MustCompile(`^pam_unix\(sshd:session\): session (?:opened|closed) for user (?P<user>\S+)`),
		regexp.MustCompile(`^reverse mapping checking getaddrinfo for \S+ \[(?P<ip>[\d.]+)\] failed`),
	}
	r := parseFile(t, lines, realOpts)
	if len(r.events) != len(lines) {
		t.Fatalf("%d events for %d lines (malformed %q)", len(r.events), len(lines), r.malformed)
	}
	seen := map[string]int{}
	for i, row := range rows {
		ev := &r.events[i]
		content, id := row[6], row[7]
		seen[id]++
		want, ok := opensshTemplateAction[id]
		if !ok {
			t.Fatalf("row %d: unknown template %s", i+1, id)
		}
		if ev.Action != want {
			t.Errorf("line %d (%s) %q: action %v, want %v", i+1, id, content, ev.Action, want)
		}
		if ev.Host != row[4] || strconv.Itoa(int(ev.PID)) != row[5] {
			t.Errorf("line %d: host/pid %q/%d, want %q/%s", i+1, ev.Host, ev.PID, row[4], row[5])
		}
		matched := false
		for _, re := range extract {
			m := re.FindStringSubmatch(content)
			if m == nil {
				continue
			}
			matched = true
			for k, name := range re.SubexpNames() {
				switch {
				case name == "user" && m[k] != ev.User:
					t.Errorf("line %d %q: user %q, want %q", i+1, content, ev.User, m[k])
				case name == "ip":
					if a, err := netip.ParseAddr(m[k]); err == nil && a != ev.SrcIP {
						t.Errorf("line %d %q: ip %v, want %v", i+1, content, ev.SrcIP, a)
					} else if err != nil && ev.SrcIP.IsValid() {
						t.Errorf("line %d %q: ip %v from a host name %q", i+1, content, ev.SrcIP, m[k])
					}
				case name == "port" && m[k] != strconv.Itoa(int(ev.SrcPort)):
					t.Errorf("line %d %q: port %d, want %s", i+1, content, ev.SrcPort, m[k])
				case name == "n" && m[k] != strconv.Itoa(int(ev.Count)):
					t.Errorf("line %d %q: count %d, want %s", i+1, content, ev.Count, m[k])
				}
			}
			break
		}
		if !matched && want != event.ActSyslog && want != event.ActDisconnected {
			t.Errorf("line %d (%s) %q: no extraction regexp matched", i+1, id, content)
		}
		if strings.HasPrefix(content, "message repeated") {
			continue
		}
		if ev.Count != 1 {
			t.Errorf("line %d: count %d", i+1, ev.Count)
		}
	}
	if len(seen) != len(opensshTemplateAction) {
		t.Errorf("file used %d templates, mapped %d", len(seen), len(opensshTemplateAction))
	}
}

// TestRealFacts checks a few facts about the forensic datasets, counted
// independently with regexps.
func TestRealFacts(t *testing.T) {
	reAccepted := regexp.MustCompile(`sshd\[\d+\]: Accepted \S+ for (\S+) from`)
	for _, c := range []struct {
		file     string
		accepted int // grep -c 'Accepted '
	}{
		{"auth-logs/dfrws-2009/auth.all.log", 23},
		{"elastic-examples/suspicious_login_activity/auth.log", 226},
		{"auth-logs/honeynet-challenge7/auth.log", 0},
	} {
		t.Run(c.file, func(t *testing.T) {
			lines := readLines(t, testdata.File(t, c.file))
			r := parseFile(t, lines, realOpts)
			wantUsers, gotUsers := map[string]int{}, map[string]int{}
			for _, l := range lines {
				if m := reAccepted.FindSubmatch(l); m != nil {
					wantUsers[string(m[1])]++
				}
			}
			n := 0
			for i := range r.events {
				if ev := &r.events[i]; ev.Action == event.ActLoginSuccess {
					n++
					gotUsers[ev.User]++
					if !ev.SrcIP.IsValid() || ev.SrcPort == 0 || ev.Method == "" {
						t.Errorf("accepted login without address/port/method: %q", ev.Raw)
					}
				}
			}
			if n != c.accepted {
				t.Errorf("%d accepted logins, want %d", n, c.accepted)
			}
			if len(gotUsers) != len(wantUsers) {
				t.Errorf("accepted users %v, want %v", gotUsers, wantUsers)
			}
			for u, k := range wantUsers {
				if gotUsers[u] != k {
					t.Errorf("user %q: %d accepted, want %d", u, gotUsers[u], k)
				}
			}
		})
	}

	// dfrws-2009: the intruder account jhuisi is created, denied sudo,
	// fails su to root.
	lines := readLines(t, testdata.File(t, "auth-logs/dfrws-2009/auth.all.log"))
	r := parseFile(t, lines, realOpts)
	want := map[event.Action]bool{event.ActUserAdded: false, event.ActSudoNotAllowed: false, event.ActSuFailure: false, event.ActPasswordChanged: false}
	for i := range r.events {
		ev := &r.events[i]
		if _, ok := want[ev.Action]; ok && (ev.User == "jhuisi" || ev.TargetUser == "jhuisi") {
			want[ev.Action] = true
		}
	}
	for a, ok := range want {
		if !ok {
			t.Errorf("dfrws: no %v event for jhuisi", a)
		}
	}

	// honeynet: the attacker creates and changes accounts on victoria.
	lines = readLines(t, testdata.File(t, "auth-logs/honeynet-challenge7/auth.log"))
	r = parseFile(t, lines, realOpts)
	var got []string
	for i := range r.events {
		if ev := &r.events[i]; ev.Action == event.ActUserAdded || ev.Action == event.ActUserModified || ev.Action == event.ActPasswordAgingChanged {
			got = append(got, ev.Action.String()+":"+ev.TargetUser)
		}
	}
	if strings.Join(got, ",") != "user-created:sshd,user-modified:sshd,password-aging-changed:sshd" {
		t.Errorf("honeynet account events %v", got)
	}
}
