package auth

import (
	"context"
	"fmt"
	"net/netip"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"winnow/internal/detect"
	"winnow/internal/event"
)

var t0 = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)

// scenario builds events in time order.
type scenario struct {
	evs  []event.Event
	line int64
}

type opt func(*event.Event)

func invalid(e *event.Event)       { e.InvalidUser = true }
func preauth(e *event.Event)       { e.Preauth = true }
func method(m string) opt          { return func(e *event.Event) { e.Method = m } }
func host(h string) opt            { return func(e *event.Event) { e.Host = h } }
func cmd(c string) opt             { return func(e *event.Event) { e.Command = c } }
func target(u string) opt          { return func(e *event.Event) { e.TargetUser = u } }
func msg(m string) opt             { return func(e *event.Event) { e.Msg = []byte(m) } }
func pid(p int32) opt              { return func(e *event.Event) { e.PID = p } }
func kind(k event.Kind) opt        { return func(e *event.Event) { e.Kind = k } }
func outcome(o event.Outcome) opt  { return func(e *event.Event) { e.Outcome = o } }
func unit(u string) opt            { return func(e *event.Event) { e.Unit = u } }
func at(d time.Duration) time.Time { return t0.Add(d) }
func ip(s string) netip.Addr       { return netip.MustParseAddr(s) }

func (s *scenario) add(t time.Time, a event.Action, src string, user string, opts ...opt) {
	s.line++
	e := event.Event{Time: t, Kind: event.KindAuth, Action: a, User: user, Host: "web-01", Program: "sshd",
		Method: "password", Count: 1, Ref: event.Ref{File: "auth.log", Line: s.line}}
	if src != "" {
		e.SrcIP = ip(src)
	}
	for _, o := range opts {
		o(&e)
	}
	e.Raw = []byte(fmt.Sprintf("%s %s %s %s", t.Format(time.Stamp), a, src, user))
	s.evs = append(s.evs, e)
}

// fails adds n failures from src on user, one every step.
func (s *scenario) fails(start time.Time, step time.Duration, n int, src, user string, opts ...opt) time.Time {
	for i := 0; i < n; i++ {
		s.add(start.Add(time.Duration(i)*step), event.ActLoginFailure, src, user, opts...)
	}
	return start.Add(time.Duration(n) * step)
}

// run feeds the events through a real Runner (2 shards) with every auth
// detector (or only those named) and returns the findings sorted.
func run(t *testing.T, evs []event.Event, only string, set map[string]string) []event.Alert {
	t.Helper()
	var reg detect.Registry
	Register(&reg)
	var en []detect.Enabled
	for _, s := range reg.Specs() {
		if only != "" && !strings.HasPrefix(s.Name, only) {
			continue
		}
		over := map[string]string{}
		for k, v := range set {
			if name, param, ok := strings.Cut(k, ":"); ok && name == s.Name {
				over[param] = v
			}
		}
		p, err := detect.NewParams(s, over)
		if err != nil {
			t.Fatal(err)
		}
		en = append(en, detect.Enabled{Spec: s, Params: p})
	}
	sort.SliceStable(evs, func(i, j int) bool { return evs[i].Time.Before(evs[j].Time) })
	var mu sync.Mutex
	var out []event.Alert
	r, err := detect.NewRunner(context.Background(), detect.RunnerConfig{Workers: 2}, en, func(a event.Alert) {
		mu.Lock()
		out = append(out, a)
		mu.Unlock()
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Submit(evs); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Rule != out[j].Rule {
			return out[i].Rule < out[j].Rule
		}
		if !out[i].Start.Equal(out[j].Start) {
			return out[i].Start.Before(out[j].Start)
		}
		return out[i].Entity.Value < out[j].Entity.Value
	})
	return out
}

func byRule(as []event.Alert, rule string) []event.Alert {
	var out []event.Alert
	for _, a := range as {
		if a.Rule == rule {
			out = append(out, a)
		}
	}
	return out
}

func one(t *testing.T, as []event.Alert, rule, entity string) event.Alert {
	t.Helper()
	var hit []event.Alert
	for _, a := range byRule(as, rule) {
		if a.Entity.Value == entity {
			hit = append(hit, a)
		}
	}
	if len(hit) != 1 {
		t.Fatalf("%s on %s: %d findings, want 1; all: %v", rule, entity, len(hit), summary(as))
	}
	return hit[0]
}

func summary(as []event.Alert) []string {
	var s []string
	for _, a := range as {
		s = append(s, a.Rule+"@"+a.Entity.String()+": "+a.Description)
	}
	return s
}

func num(t *testing.T, a event.Alert, key string) float64 {
	t.Helper()
	switch v := a.Evidence[key].(type) {
	case int:
		return float64(v)
	case int32:
		return float64(v)
	case float64:
		return v
	}
	t.Fatalf("%s: evidence %q is %T (%v)", a.Rule, key, a.Evidence[key], a.Evidence[key])
	return 0
}

func TestBruteForce(t *testing.T) {
	var s scenario
	s.fails(at(0), 10*time.Second, 25, "203.0.113.7", "root")
	s.fails(at(0), 30*time.Second, 15, "198.51.100.2", "admin", invalid) // below the bar: low
	s.fails(at(0), 30*time.Second, 9, "198.51.100.3", "admin", invalid)  // below the floor: nothing
	// The same source again after a 2h pause: a second episode.
	s.fails(at(3*time.Hour), 10*time.Second, 30, "203.0.113.7", "root")
	got := run(t, s.evs, "auth.brute_force", nil)
	var bf []event.Alert
	for _, a := range byRule(got, "auth.brute_force") {
		if a.Entity.Value == "203.0.113.7" {
			bf = append(bf, a)
		}
	}
	if len(bf) != 2 {
		t.Fatalf("want 2 episodes of 203.0.113.7, got %v", summary(got))
	}
	if low := one(t, got, "auth.brute_force", "198.51.100.2"); low.Severity != event.SeverityLow {
		t.Errorf("15 tries before the server's usual is learned: severity %d, want low", low.Severity)
	}
	if len(got) != 3 {
		t.Errorf("findings %v", summary(got))
	}
	if n := num(t, bf[0], "attempts"); n != 25 {
		t.Errorf("first episode attempts = %v, want 25", n)
	}
	if n := num(t, bf[1], "attempts"); n != 30 {
		t.Errorf("second episode attempts = %v, want 30", n)
	}
	a := bf[0]
	if a.Severity != event.SeverityMedium || a.SourceIP != ip("203.0.113.7") || len(a.Samples) != 5 {
		t.Errorf("finding = sev %d ip %v samples %d", a.Severity, a.SourceIP, len(a.Samples))
	}
	if !a.Start.Equal(at(0)) || !a.End.Equal(at(240*time.Second)) {
		t.Errorf("range %v → %v", a.Start, a.End)
	}
	if a.Samples[0].File != "auth.log" || a.Samples[0].Line != 1 {
		t.Errorf("first sample = %+v", a.Samples[0])
	}
}

func TestBruteForcePreauthConnections(t *testing.T) {
	// A key-only server logs a failed guess as "Received disconnect …
	// [preauth]" and, on newer OpenSSH, "Disconnected from … [preauth]" for
	// the same process: each connection must count once.
	var s scenario
	for i := 0; i < 30; i++ {
		tm := at(time.Duration(i) * 5 * time.Second)
		s.add(tm, event.ActDisconnected, "192.0.2.50", "", preauth, pid(int32(1000+i)))
		s.add(tm, event.ActDisconnected, "192.0.2.50", "", preauth, pid(int32(1000+i)))
	}
	// Normal logouts (not preauth) must not count.
	for i := 0; i < 30; i++ {
		s.add(at(time.Duration(i)*time.Minute), event.ActDisconnected, "10.0.0.9", "alice", pid(int32(5000+i)))
	}
	got := run(t, s.evs, "auth.brute_force", nil)
	a := one(t, got, "auth.brute_force", "192.0.2.50")
	if n := num(t, a, "attempts"); n != 30 {
		t.Errorf("attempts = %v, want 30 connections", n)
	}
	if !strings.Contains(a.Description, "connections") {
		t.Errorf("description should explain connections: %s", a.Description)
	}
	if len(got) != 1 {
		t.Errorf("extra findings: %v", summary(got))
	}
}

func TestPasswordSprayAndEnumeration(t *testing.T) {
	var s scenario
	for i := 0; i < 12; i++ {
		u := fmt.Sprintf("user%02d", i)
		s.add(at(time.Duration(i)*time.Minute), event.ActLoginFailure, "203.0.113.9", u)
		s.add(at(time.Duration(i)*time.Minute+time.Second), event.ActLoginFailure, "203.0.113.9", u)
	}
	for i := 0; i < 15; i++ {
		n := fmt.Sprintf("guess%d", i)
		s.add(at(time.Duration(i)*time.Second), event.ActInvalidUser, "198.51.100.77", n, invalid)
		s.add(at(time.Duration(i)*time.Second), event.ActLoginFailure, "198.51.100.77", n, invalid)
	}
	// A person mistyping their name twice is not enumeration.
	s.add(at(0), event.ActInvalidUser, "10.1.1.1", "alcie", invalid)
	s.add(at(time.Second), event.ActInvalidUser, "10.1.1.1", "alic", invalid)
	got := run(t, s.evs, "", nil)
	sp := one(t, got, "auth.password_spray", "203.0.113.9")
	if n := num(t, sp, "accounts"); n != 12 {
		t.Errorf("spray accounts = %v", n)
	}
	if len(sp.Related) != 10 || sp.Related[0].Type != event.EntityUser {
		t.Errorf("spray related = %v", sp.Related)
	}
	en := one(t, got, "auth.invalid_user_enumeration", "198.51.100.77")
	if n := num(t, en, "invalid_users"); n != 15 {
		t.Errorf("enumeration names = %v", n)
	}
	for _, a := range got {
		if a.Entity.Value == "10.1.1.1" {
			t.Errorf("typo source flagged: %s", a.Description)
		}
	}
	// The enumeration source tried no existing accounts: not a spray.
	for _, a := range byRule(got, "auth.password_spray") {
		if a.Entity.Value != "203.0.113.9" {
			t.Errorf("unexpected spray: %s", a.Description)
		}
	}
}

func TestRootLogin(t *testing.T) {
	var s scenario
	s.fails(at(0), time.Second, 6, "203.0.113.1", "root")
	s.fails(at(0), time.Second, 3, "203.0.113.2", "root")
	s.add(at(time.Minute), event.ActLoginSuccess, "203.0.113.3", "root", method("publickey"))
	got := run(t, s.evs, "auth.root_login", nil)
	if a := one(t, got, "auth.root_login", "203.0.113.1"); a.Severity != event.SeverityLow {
		t.Errorf("failed root attempts severity %d", a.Severity)
	}
	if a := one(t, got, "auth.root_login", "203.0.113.3"); a.Severity != event.SeverityMedium {
		t.Errorf("remote root login severity %d", a.Severity)
	}
	if len(got) != 2 {
		t.Errorf("findings: %v", summary(got))
	}
}

func TestSuccessAfterFailures(t *testing.T) {
	var s scenario
	// Guessed: 8 failures on alice, then a login from the same source.
	end := s.fails(at(0), 20*time.Second, 8, "203.0.113.66", "alice")
	s.add(end, event.ActLoginSuccess, "203.0.113.66", "alice")
	// A typo: 2 failures then success.
	end = s.fails(at(0), 5*time.Second, 2, "10.0.0.5", "bob")
	s.add(end, event.ActLoginSuccess, "10.0.0.5", "bob")
	// A shared office address: two failures on each of three accounts,
	// then one of them logs in — the pattern in Elastic's sample.
	for i, u := range []string{"u1", "u2", "u3"} {
		s.fails(at(time.Duration(i)*10*time.Minute), 5*time.Second, 2, "10.0.0.6", u)
	}
	s.add(at(40*time.Minute), event.ActLoginSuccess, "10.0.0.6", "u2")
	// Brute force on root then a success on another account.
	end = s.fails(at(2*time.Hour), time.Second, 30, "198.51.100.30", "root")
	s.add(end, event.ActLoginSuccess, "198.51.100.30", "deploy", method("publickey"))
	got := run(t, s.evs, "auth.success_after_failures", nil)
	a := one(t, got, "auth.success_after_failures", "203.0.113.66")
	if a.Severity != event.SeverityCritical || a.User != "alice" || num(t, a, "failures_on_account") != 8 {
		t.Errorf("compromise = %+v", a)
	}
	if first := a.Samples[0]; first.Line != 9 {
		t.Errorf("first sample should be the login (line 9): %+v", first)
	}
	if login := at(8 * 20 * time.Second); !a.End.Equal(login) || !a.Start.Equal(at(0)) {
		t.Errorf("range %v → %v, want %v → %v", a.Start, a.End, at(0), login)
	}
	b := one(t, got, "auth.success_after_failures", "198.51.100.30")
	if b.User != "deploy" || num(t, b, "failures_on_account") != 0 {
		t.Errorf("brute-then-login = %+v", b)
	}
	if len(got) != 2 {
		t.Errorf("findings: %v", summary(got))
	}
}

func TestAccountTakeoverAndDistributed(t *testing.T) {
	var s scenario
	// bob's history: logins from his office.
	for d := 0; d < 3; d++ {
		s.add(at(time.Duration(d)*24*time.Hour-48*time.Hour), event.ActLoginSuccess, "10.0.0.7", "bob")
	}
	// 12 bots, 2 failures each, on bob.
	for i := 0; i < 12; i++ {
		src := fmt.Sprintf("198.51.100.%d", 100+i)
		s.fails(at(time.Duration(i)*2*time.Minute), 10*time.Second, 2, src, "bob")
	}
	// bob logs in from a new address that did not fail itself.
	s.add(at(30*time.Minute), event.ActLoginSuccess, "203.0.113.200", "bob")
	// bob's own office login right after is fine.
	s.add(at(31*time.Minute), event.ActLoginSuccess, "10.0.0.7", "bob")
	// One source hammering carol is not distributed.
	s.fails(at(0), time.Second, 40, "203.0.113.99", "carol")
	got := run(t, s.evs, "", nil)
	tk := one(t, got, "auth.account_success_after_failures", "bob")
	// source.ip is an attacker (a failing source), the login address is
	// named as such
	if tk.Severity != event.SeverityHigh || tk.SourceIP != ip("198.51.100.100") || num(t, tk, "failures") != 24 ||
		tk.Evidence["login_source_ip"] != "203.0.113.200" || tk.Evidence["failures_aimed_at_account"] != true {
		t.Errorf("takeover = sev %d src %v %v", tk.Severity, tk.SourceIP, tk.Evidence)
	}
	ds := one(t, got, "auth.distributed_brute_force", "bob")
	if num(t, ds, "sources") != 12 || ds.Severity != event.SeverityMedium || len(ds.Related) != 10 {
		t.Errorf("distributed = %v", ds.Evidence)
	}
	for _, a := range byRule(got, "auth.distributed_brute_force") {
		if a.Entity.Value == "carol" {
			t.Errorf("single source reported as distributed: %s", a.Description)
		}
	}
}

// TestSprayThenLegitLogin: a spray from other addresses tries bob's
// account once or twice among many others; bob then logs in from his
// office (known: nothing to report) and, the next time, from a new address
// while another spray runs (roaming): the finding is low, names the spray
// source in source.ip and bob's address as the login source, and is not
// the critical compromise a login after failures used to be.
func TestSprayThenLegitLogin(t *testing.T) {
	var s scenario
	for d := 0; d < 3; d++ {
		s.add(at(time.Duration(d)*24*time.Hour-72*time.Hour), event.ActLoginSuccess, "10.0.0.7", "bob")
	}
	users := []string{"bob", "alice", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy", "mallory", "oscar"}
	spray := func(start time.Duration, src string) {
		for round := 0; round < 2; round++ {
			for i, u := range users {
				s.fails(at(start+time.Duration(round*len(users)+i)*10*time.Second), time.Second, 1, src, u)
			}
		}
	}
	// six spray sources, two passwords per account each: 12 failures
	// on bob, above min_failures
	for i := 0; i < 6; i++ {
		spray(time.Duration(i)*5*time.Minute, fmt.Sprintf("203.0.113.5%d", i))
	}
	s.add(at(40*time.Minute), event.ActLoginSuccess, "10.0.0.7", "bob")
	for i := 0; i < 6; i++ {
		spray(3*time.Hour+time.Duration(i)*5*time.Minute, fmt.Sprintf("203.0.113.6%d", i))
	}
	s.add(at(3*time.Hour+40*time.Minute), event.ActLoginSuccess, "192.0.2.44", "bob")
	got := run(t, s.evs, "", nil)
	tks := byRule(got, "auth.account_success_after_failures")
	if len(tks) != 1 {
		t.Fatalf("%d takeover findings, want 1 (the roaming login): %v", len(tks), summary(got))
	}
	tk := tks[0]
	if tk.Severity >= event.SeverityMedium || tk.SourceIP == ip("192.0.2.44") || !strings.HasPrefix(tk.SourceIP.String(), "203.0.113.6") ||
		tk.Evidence["login_source_ip"] != "192.0.2.44" || tk.Evidence["failures_aimed_at_account"] != false {
		t.Errorf("spray then roaming login = sev %d src %v %v: %s", tk.Severity, tk.SourceIP, tk.Evidence, tk.Description)
	}
	for _, a := range got {
		if a.Severity >= event.SeverityHigh {
			t.Errorf("%s on %s at severity %d: %s", a.Rule, a.Entity.Value, a.Severity, a.Description)
		}
	}
}

func TestNewSourceAndUnusualHour(t *testing.T) {
	var s scenario
	// 25 days of logins by dana at 09:xx–11:xx from her office /24.
	for d := 0; d < 25; d++ {
		s.add(at(time.Duration(d)*24*time.Hour-time.Duration(d%3)*time.Hour), event.ActLoginSuccess,
			fmt.Sprintf("10.20.30.%d", 10+d%2), "dana", method("publickey"))
	}
	day := 25 * 24 * time.Hour
	s.add(at(day), event.ActLoginSuccess, "10.20.30.99", "dana")                           // same network, usual hour
	s.add(at(day+17*time.Hour), event.ActLoginSuccess, "203.0.113.44", "dana")             // new network, 03:00
	s.add(at(day+17*time.Hour+time.Minute), event.ActLoginSuccess, "203.0.113.44", "dana") // seen now
	got := run(t, s.evs, "", nil)
	ns := one(t, got, "auth.new_source", "dana")
	if ns.SourceIP != ip("203.0.113.44") || ns.Severity != event.SeverityLow {
		t.Errorf("new source = %v %d", ns.SourceIP, ns.Severity)
	}
	uh := one(t, got, "auth.unusual_hour", "dana")
	if num(t, uh, "hour") != 3 || num(t, uh, "probability") >= 0.02 {
		t.Errorf("unusual hour = %v", uh.Evidence)
	}
}

func TestHourProbabilitySmoothing(t *testing.T) {
	var h [24]float32
	h[9], h[10] = 20, 20
	if p := hourProbability(&h, 10); p < 0.25 {
		t.Errorf("p(10) = %v, want the bulk", p)
	}
	if p8, p3 := hourProbability(&h, 8), hourProbability(&h, 3); !(p8 > 0.1 && p3 < 0.01) {
		t.Errorf("p(8) = %v (neighbour, want > 0.1), p(3) = %v (want < 0.01)", p8, p3)
	}
	var sum float64
	for i := 0; i < 24; i++ {
		sum += hourProbability(&h, i)
	}
	if sum < 0.999 || sum > 1.001 {
		t.Errorf("probabilities sum to %v", sum)
	}
}

func TestSudo(t *testing.T) {
	var s scenario
	s.add(at(0), event.ActSudoCommand, "", "eve", cmd("/bin/bash"), target("root"))
	s.add(at(time.Hour), event.ActSudoCommand, "", "frank", cmd("/usr/bin/cat /etc/shadow"), target("root"))
	s.add(at(time.Hour+time.Minute), event.ActSudoCommand, "", "frank", cmd("/bin/sh"), target("root"))
	s.add(at(0), event.ActSudoCommand, "", "gina", cmd("/usr/bin/vim /etc/ssh/sshd_config"), target("root"))
	s.add(at(0), event.ActSudoCommand, "", "hank", cmd("/usr/bin/apt update"), target("root"))
	s.add(at(0), event.ActSudoNotAllowed, "", "ivan", cmd("/bin/bash"))
	for i := 0; i < 3; i++ {
		s.add(at(time.Duration(i)*time.Second), event.ActSudoFailure, "", "judy")
	}
	s.add(at(0), event.ActSudoFailure, "", "kim") // one typo
	got := run(t, s.evs, "auth.sudo", nil)
	if a := one(t, got, "auth.sudo_sensitive", "eve"); a.Severity != event.SeverityLow {
		t.Errorf("shell: sev %d", a.Severity)
	}
	f := one(t, got, "auth.sudo_sensitive", "frank")
	if f.Severity != event.SeverityHigh || len(f.Evidence["commands"].([]string)) != 2 {
		t.Errorf("shadow: sev %d %v", f.Severity, f.Evidence)
	}
	if a := one(t, got, "auth.sudo_sensitive", "gina"); a.Severity != event.SeverityMedium {
		t.Errorf("sshd_config: sev %d", a.Severity)
	}
	if a := one(t, got, "auth.sudo_failure", "ivan"); a.Severity != event.SeverityMedium {
		t.Errorf("not in sudoers: sev %d", a.Severity)
	}
	if a := one(t, got, "auth.sudo_failure", "judy"); a.Severity != event.SeverityLow || num(t, a, "password_failures") != 3 {
		t.Errorf("3 failures: sev %d %v", a.Severity, a.Evidence)
	}
	if len(got) != 5 {
		t.Errorf("findings: %v", summary(got))
	}
}

func TestAccountChangeAndServiceFailures(t *testing.T) {
	var s scenario
	s.add(at(0), event.ActUserAdded, "", "", target("support"), msg("new user: name=support, UID=1005, GID=1005"))
	s.add(at(time.Second), event.ActUserModified, "", "", target("support"), msg("add 'support' to group 'sudo'"))
	s.add(at(0), event.ActUserAdded, "", "", target("intern"), host("db-01"), msg("new user: name=intern, UID=1006"))
	s.add(at(time.Hour), event.ActUserAdded, "", "", target("x"), host("db-01"),
		outcome(event.OutcomeFailure), msg("failed adding user 'x', data deleted"))
	for i := 0; i < 6; i++ {
		s.add(at(time.Duration(i)*time.Minute), event.ActServiceFailed, "", "", kind(event.KindService), host("app-01"), unit("worker.service"))
	}
	got := run(t, s.evs, "", nil)
	web := one(t, got, "auth.account_change", "web-01")
	if web.Severity != event.SeverityHigh || web.Evidence["privilege_granted"] != true {
		t.Errorf("backdoor: sev %d %v", web.Severity, web.Evidence)
	}
	if ch := web.Evidence["changes"].([]string); len(ch) != 2 || ch[0] != "added support to group sudo" && ch[1] != "added support to group sudo" {
		t.Errorf("changes = %v", ch)
	}
	db := byRule(got, "auth.account_change")
	if len(db) != 3 { // web-01, db-01 twice (two episodes)
		t.Fatalf("account changes: %v", summary(db))
	}
	sv := one(t, got, "auth.service_failures", "app-01")
	if num(t, sv, "failures") != 6 {
		t.Errorf("service failures = %v", sv.Evidence)
	}
}

func TestCapsShedAndStillReport(t *testing.T) {
	// 100 brute-forcing sources, one after the other, with room for 10:
	// every episode must still be reported when it is shed.
	var s scenario
	for i := 0; i < 100; i++ {
		s.fails(at(time.Duration(i)*time.Minute), time.Second, 25, fmt.Sprintf("198.18.0.%d", i+1), "root")
	}
	var reg detect.Registry
	Register(&reg)
	spec, _ := reg.Get("auth.brute_force")
	p, err := detect.NewParams(spec, map[string]string{"max_entities": "10"})
	if err != nil {
		t.Fatal(err)
	}
	d, err := spec.New(p)
	if err != nil {
		t.Fatal(err)
	}
	var got []event.Alert
	emit := func(a event.Alert) { got = append(got, a) }
	for i := range s.evs {
		d.Observe(&s.evs[i], emit)
	}
	d.Flush(emit)
	if len(got) != 100 {
		t.Errorf("findings = %d, want 100", len(got))
	}
	if st := d.Stats(); st.Shed != 90 {
		t.Errorf("shed = %d, want 90", st.Shed)
	}
}

func TestParamsValidated(t *testing.T) {
	var reg detect.Registry
	Register(&reg)
	for _, s := range reg.Specs() {
		if _, err := s.New(mustParams(t, s, nil)); err != nil {
			t.Errorf("%s defaults: %v", s.Name, err)
		}
		for _, prm := range s.Params {
			if prm.Doc == "" {
				t.Errorf("%s.%s has no doc", s.Name, prm.Name)
			}
		}
		if len(s.Techniques) == 0 || s.Summary == "" {
			t.Errorf("%s lacks techniques or summary", s.Name)
		}
	}
	s, _ := reg.Get("auth.brute_force")
	if _, err := s.New(mustParams(t, s, map[string]string{"threshold": "0"})); err == nil {
		t.Error("threshold 0 accepted")
	}
	if _, err := s.New(mustParams(t, s, map[string]string{"episode_gap": "soon"})); err == nil {
		t.Error("bad duration accepted")
	}
}

func mustParams(t *testing.T, s *detect.Spec, o map[string]string) detect.Params {
	p, err := detect.NewParams(s, o)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestClassifySudo(t *testing.T) {
	for cmd, want := range map[string]sudoClass{
		"/bin/bash":                     sudoShell,
		"/usr/bin/su -":                 sudoShell,
		"/usr/bin/cat /etc/shadow":      sudoSensitive,
		"/usr/sbin/useradd -m x":        sudoSensitive,
		"/bin/sh -c curl x | sh":        sudoSensitive,
		"/usr/bin/vim /etc/pam.d/sshd":  sudoConfig,
		"/usr/bin/systemctl restart db": sudoPlain,
		"/usr/bin/apt install -y htop":  sudoPlain,
	} {
		if got, _ := classifySudo(cmd); got != want {
			t.Errorf("classifySudo(%q) = %d, want %d", cmd, got, want)
		}
	}
}

// TestHostNameSource: sshd with UseDNS logs host names instead of
// addresses. A host name is an entity like an address: 30 root failures
// from one name are a brute force and a root login attempt on that host
// name (source.domain), with root lines as the root finding's evidence.
func TestHostNameSource(t *testing.T) {
	var s scenario
	byName := func(e *event.Event) { e.SrcHost = "n219076184117.netvigator.com" }
	s.fails(at(0), 2*time.Second, 30, "", "root", byName)
	s.fails(at(0), 3*time.Second, 3, "", "admin", byName, func(e *event.Event) { e.InvalidUser = true })
	got := run(t, s.evs, "", nil)
	bf := one(t, got, "auth.brute_force", "n219076184117.netvigator.com")
	if bf.Entity.Type != event.EntityHost || bf.SourceHost != "n219076184117.netvigator.com" || bf.SourceIP.IsValid() ||
		num(t, bf, "attempts") != 33 {
		t.Errorf("brute force by host name = %+v", bf)
	}
	rl := one(t, got, "auth.root_login", "n219076184117.netvigator.com")
	for _, smp := range rl.Samples {
		if !strings.Contains(smp.Text, "root") {
			t.Errorf("root finding shows a line that is not about root: %q", smp.Text)
		}
	}
}

// TestCredentialStuffing: 20 addresses, two tries each on the host's
// existing accounts, none of them a place anyone logs in from: one finding
// on the host naming the crowd. The same crowd on one account is a
// distributed brute force, not stuffing; people mistyping from addresses
// they log in from are not a crowd.
func TestCredentialStuffing(t *testing.T) {
	users := []string{"alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi"}
	var s scenario
	for i := 0; i < 6; i++ { // people who log in from their offices, with typos
		src := fmt.Sprintf("10.0.0.%d", i+1)
		s.add(at(-time.Hour), event.ActLoginSuccess, src, users[i])
		s.fails(at(time.Duration(i)*time.Minute), time.Second, 2, src, users[i])
	}
	for i := 0; i < 20; i++ {
		src := fmt.Sprintf("198.51.100.%d", 10+i)
		s.fails(at(time.Duration(i)*2*time.Minute), 5*time.Second, 1, src, users[i%len(users)])
		s.fails(at(time.Duration(i)*2*time.Minute+30*time.Second), 5*time.Second, 1, src, users[(i+3)%len(users)])
	}
	got := run(t, s.evs, "auth.credential_stuffing", nil)
	if len(got) == 0 {
		t.Fatal("no finding")
	}
	a := got[0]
	if a.Entity.Value != "web-01" || num(t, a, "sources") != 20 || num(t, a, "accounts") != 8 || a.Severity < event.SeverityMedium {
		t.Errorf("stuffing = %s %v", a.Description, a.Evidence)
	}
	for _, r := range a.Related {
		if strings.HasPrefix(r.Value, "10.0.0.") {
			t.Errorf("a person's address in the crowd: %v", r)
		}
	}
	// one account only: not stuffing
	var d scenario
	for i := 0; i < 20; i++ {
		d.fails(at(time.Duration(i)*time.Minute), 5*time.Second, 2, fmt.Sprintf("198.51.100.%d", 10+i), "carol")
	}
	if got := run(t, d.evs, "auth.credential_stuffing", nil); len(got) != 0 {
		t.Errorf("a crowd on one account reported as stuffing: %v", summary(got))
	}
}
