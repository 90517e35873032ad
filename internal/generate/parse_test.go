package generate

import (
	"bytes"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"winnow/internal/event"
	"winnow/internal/parse"
	"winnow/internal/parse/authlog"
)

// redundantPrefixes are the messages that the parser reads as plain syslog
// lines (they repeat a fact logged on another line, or are not about
// authentication).
var redundantPrefixes = []string{
	"pam_unix(sshd:auth): check pass; user unknown",
	"Disconnecting: Too many authentication failures",
	"PAM service(sshd) ignoring max retries",
	"Received signal 15",
	"Server listening on ",
	"New session ", "Session ", "Removed session ", // systemd-logind
	"pam_unix(sudo:session): session closed", // sudo's close names no user
	"add '",                                  // usermod's "shadow group" line repeats the group line
	"Unable to negotiate with ",              // not typed by the parser (yet)
}

// TestAuthParses runs generated days through the project's auth.log parser:
// no line is malformed, every sshd/account line is understood, and the
// events add up to what the generator planned.
func TestAuthParses(t *testing.T) {
	for seed := int64(1); seed <= 3; seed++ {
		cfg := DefaultAuthConfig()
		cfg.Seed = seed
		data, tr, st := generate(t, cfg)
		checkParsed(t, cfg, data, tr, st)
	}
	cfg := DefaultAuthConfig()
	cfg.Lines, cfg.FloodIPs, cfg.Hosts, cfg.Users = 100000, 5000, 20, 60
	data, tr, st := generate(t, cfg)
	checkParsed(t, cfg, data, tr, st)
}

type ipStats struct {
	failures     int
	invalidNames map[string]bool
	users        map[string]bool
	success      int
}

func checkParsed(t *testing.T, cfg AuthConfig, data []byte, tr Truth, st stats) {
	t.Helper()
	p := authlog.New(parse.Options{Year: cfg.Start.Year(), Location: cfg.Start.Location()})
	var ev event.Event
	byIP := map[netip.Addr]*ipStats{}
	get := func(a netip.Addr) *ipStats {
		s := byIP[a]
		if s == nil {
			s = &ipStats{invalidNames: map[string]bool{}, users: map[string]bool{}}
			byIP[a] = s
		}
		return s
	}
	lines, failures := 0, 0
	var sudoCmds []string
	var added, groups []string
	var successAt = map[netip.Addr]int{}
	for len(data) > 0 {
		i := bytes.IndexByte(data, '\n')
		line := data[:i]
		data = data[i+1:]
		lines++
		if err := p.Parse(line, &ev); err != nil {
			t.Fatalf("line %d: %v: %q", lines, err, line)
		}
		if ev.Action == event.ActSyslog {
			ok := false
			for _, pre := range redundantPrefixes {
				ok = ok || bytes.HasPrefix(ev.Msg, []byte(pre))
			}
			if !ok {
				t.Errorf("line %d not understood: %q", lines, line)
			}
			continue
		}
		switch ev.Action {
		case event.ActLoginFailure:
			failures += int(ev.Count)
			s := get(ev.SrcIP)
			s.failures += int(ev.Count)
			s.users[ev.User] = true
		case event.ActInvalidUser:
			get(ev.SrcIP).invalidNames[ev.User] = true
		case event.ActLoginSuccess:
			get(ev.SrcIP).success++
			successAt[ev.SrcIP] = ev.Time.In(cfg.Start.Location()).Hour()
		case event.ActSudoCommand:
			sudoCmds = append(sudoCmds, ev.User+" "+ev.Command)
		case event.ActUserAdded:
			added = append(added, ev.TargetUser)
		case event.ActUserModified:
			groups = append(groups, ev.TargetUser)
		}
		if ev.Action != event.ActSessionOpened && ev.Action != event.ActSessionClosed && ev.Action != event.ActSudoCommand &&
			ev.Program == "sshd" && !ev.SrcIP.IsValid() {
			t.Errorf("line %d has no source address: %q", lines, line)
		}
	}
	if lines != tr.Lines {
		t.Errorf("parsed %d lines, truth says %d", lines, tr.Lines)
	}
	planned := 0
	for _, f := range st.failures {
		planned += f
	}
	if failures != planned {
		t.Errorf("parser counts %d login failures, generator planned %d", failures, planned)
	}

	at := func(i int) (Attack, *ipStats) {
		a := tr.Attacks[i]
		return a, get(netip.MustParseAddr(a.SourceIPs[0]))
	}
	// fast brute force: the exact number of failures, root among them
	a, s := at(atkFast)
	if s.failures != st.attackFailures[atkFast] || s.failures < 280 {
		t.Errorf("fast brute force: parser counts %d failures from %s, generator %d", s.failures, a.SourceIPs[0], st.attackFailures[atkFast])
	}
	if !s.users["root"] {
		t.Errorf("fast brute force did not try root")
	}
	// slow brute force
	a, s = at(atkSlow)
	if s.failures != st.attackFailures[atkSlow] {
		t.Errorf("slow brute force: %d failures, want %d", s.failures, st.attackFailures[atkSlow])
	}
	// spray: each targeted account once or twice, all existing
	a, s = at(atkSpray)
	if len(s.users) != len(a.Users) || s.failures > 2*len(a.Users) || len(s.invalidNames) > 0 {
		t.Errorf("spray: %d users (want %d), %d failures, %d invalid", len(s.users), len(a.Users), s.failures, len(s.invalidNames))
	}
	// sweep: every name probed as an invalid user
	a, s = at(atkSweep)
	if len(s.invalidNames) != len(a.Users) {
		t.Errorf("sweep: %d distinct invalid names, truth lists %d", len(s.invalidNames), len(a.Users))
	}
	// distributed: 2..4 failures per address, all against one account
	a = tr.Attacks[atkDistributed]
	for _, ip := range a.SourceIPs {
		s := get(netip.MustParseAddr(ip))
		if s.failures < 2 || s.failures > 4 || len(s.users) != 1 || !s.users[a.Users[0]] {
			t.Errorf("distributed %s: %d failures against %v", ip, s.failures, s.users)
		}
	}
	// break-in: failures, then one success at the user's quietest hour,
	// sudo to a shell and to /etc/shadow, a backdoor in group sudo
	a, s = at(atkBreakIn)
	victim, door := a.Users[0], a.Users[1]
	if s.failures < 36 || s.success != 1 || len(s.users) != 1 || !s.users[victim] {
		t.Errorf("break-in: %d failures, %d successes, users %v", s.failures, s.success, s.users)
	}
	g := newGen(cfg, scales{noise: 1, sessions: 1, cronJobs: 1}, nil, false)
	for _, u := range g.f.users {
		if u.name != victim {
			continue
		}
		if !u.password {
			t.Errorf("break-in victim %s does not log in by password", victim)
		}
		h := successAt[netip.MustParseAddr(a.SourceIPs[0])]
		for hh, r := range u.rate {
			if r < u.rate[h] {
				t.Errorf("break-in at %02d:00 where %s's rate is %.4f, but %02d:00 has %.4f", h, victim, u.rate[h], hh, r)
				break
			}
		}
	}
	for _, want := range []string{victim + " /bin/bash", victim + " /usr/bin/cat /etc/shadow"} {
		if !slices.Contains(sudoCmds, want) {
			t.Errorf("no sudo %q", want)
		}
	}
	if !slices.Contains(added, door) || !slices.Contains(groups, door) {
		t.Errorf("backdoor %s: added %v, group changes %v", door, added, groups)
	}

	// Internet noise stays below five failures per address.
	attackIPs := map[netip.Addr]bool{}
	for _, a := range tr.Attacks {
		for _, ip := range a.SourceIPs {
			attackIPs[netip.MustParseAddr(ip)] = true
		}
	}
	for ip, s := range byIP {
		if attackIPs[ip] {
			continue
		}
		if s.failures > 5 {
			t.Errorf("background address %s has %d failures (users %v)", ip, s.failures, s.users)
		}
		if s.success > 0 && !ip.IsPrivate() {
			t.Errorf("public address %s logged in", ip)
		}
		if strings.HasPrefix(ip.String(), "10.") && len(s.invalidNames) > 0 {
			t.Errorf("internal address %s tried invalid users", ip)
		}
	}
}
