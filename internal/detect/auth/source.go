package auth

import (
	"fmt"
	"math"
	"net/netip"
	"strings"
	"time"

	"winnow/internal/detect"
	"winnow/internal/event"
)

// srcState is what one remote source did during an episode. It is kept
// small (an attacker controls how many sources there are): the common
// counters inline, what only some rules or some inputs need in ext,
// allocated on first use.
type srcState struct {
	fails     int32           // password/key tries that failed (sshd's Failed lines; method none excluded)
	pam       int32           // PAM authentication failures (the only record in PAM-only logs)
	preauth   int32           // connections that ended before authentication
	successes int32           // logins that succeeded
	sinceAny  int32           // failures since the source's last success on any account
	lastPID   int32           // sshd process of the last preauth disconnect counted
	rootFails int32           // sshd failures on root
	rootPAM   int32           // PAM failures on root
	rootOK    int32           // successful root logins
	host      string          // the first host the source talked to
	users     counted[string] // failures per existing account
	invalid   counted[string] // distinct names the server called invalid
	ext       *srcExtra
}

// srcExtra is the part of a source's state that most sources never need.
type srcExtra struct {
	hosts    counted[string] // hosts beyond the first
	pamUsers counted[string] // PAM failures per account (PAM-only inputs)
	sinceOK  counted[string] // failures per account since its last success from this source
	alerted  counted[string] // accounts a compromise was already reported for
	recent   ring            // the latest failure lines (compromise evidence)
	firstOK  event.Sample    // first success line
}

func (s *srcState) extra() *srcExtra {
	if s.ext == nil {
		s.ext = new(srcExtra)
	}
	return s.ext
}

// hostList is the hosts the source talked to.
func (s *srcState) hostList(n int) []string {
	if s.host == "" {
		return nil
	}
	out := []string{s.host}
	if s.ext != nil {
		for _, h := range names(top(&s.ext.hosts, n, ident)) {
			if h != s.host && len(out) < n {
				out = append(out, h)
			}
		}
	}
	return out
}

// attempts is the number of authentication attempts, counting each once
// whether the input logs sshd's Failed lines, PAM's, or both; a server
// that accepts keys only logs a failed guess as a connection that ended
// before authentication, so those count as attempts too.
func (s *srcState) attempts() int32 { return max(s.fails, s.pam, s.preauth) }

// byConnections says the attempts were counted from preauth disconnects.
func (s *srcState) byConnections() bool { return s.preauth > 2*max(s.fails, s.pam) }

// sourceDetector is the shared per-source machinery; rules differ in the
// actions they take and in judge (called at episode end) and onSuccess.
type sourceDetector struct {
	rule       string
	techniques []string
	c          common
	eps        *episodes[srcState]
	key        []byte // the current event's source key (see sourceKey)
	keepRecent bool
	// sampleIf picks the evidence lines that support the rule's claim
	// (root lines for a root finding, existing accounts for a spray); nil
	// keeps any line the source counts.
	sampleIf  func(ev *event.Event, s *srcState) bool
	judge     func(ip string, e *ep[srcState]) (event.Alert, bool)
	onSuccess func(ev *event.Event, e *ep[srcState], emit detect.Emit)
	// base, when set, learns measure of every closed episode: the
	// server's usual, against which judge sets severity.
	base    *baseline
	measure func(s *srcState) int64
}

func newSourceDetector(rule string, tech []string, c common) *sourceDetector {
	d := &sourceDetector{rule: rule, techniques: tech, c: c}
	d.eps = newEpisodes(c, d.end)
	return d
}

// relevant says whether ev is something a source rule counts; other events
// must not extend an episode.
func relevant(ev *event.Event) bool {
	switch ev.Action {
	case event.ActLoginFailure:
		return ev.Method != "none"
	case event.ActAuthFailurePAM, event.ActInvalidUser, event.ActLoginSuccess, event.ActMaxAuthAttempts:
		return true
	case event.ActDisconnected, event.ActConnectionClosed:
		return ev.Preauth
	}
	return false
}

// sourceKey is a source's table key: an address as its 16 bytes, a host
// name (sshd with UseDNS) as a NUL and the name, padded so that it is
// never 16 bytes long.
func sourceKey(buf []byte, ev *event.Event) ([]byte, bool) {
	if ev.SrcIP.IsValid() {
		k := keyOf(ev.SrcIP)
		return append(buf[:0], k[:]...), true
	}
	if ev.SrcHost == "" {
		return buf, false
	}
	buf = append(append(buf[:0], 0), ev.SrcHost...)
	if len(buf) == len(addrKey{}) {
		buf = append(buf, 0)
	}
	return buf, true
}

// sourceEntity is the entity of a source key, and its address (invalid
// for a host name).
func sourceEntity(key string) (event.Entity, netip.Addr) {
	if len(key) == len(addrKey{}) {
		ip := addrFromKey(key)
		return event.Entity{Type: event.EntityIP, Value: ip.String()}, ip
	}
	return event.Entity{Type: event.EntityHost, Value: strings.TrimRight(key[1:], "\x00")}, netip.Addr{}
}

func (d *sourceDetector) Observe(ev *event.Event, emit detect.Emit) {
	if !relevant(ev) {
		return
	}
	var ok bool
	if d.key, ok = sourceKey(d.key, ev); !ok {
		return
	}
	e := d.eps.touch(d.key, ev.Time, emit)
	if e == nil {
		return
	}
	s := &e.v
	max := d.c.maxNames
	switch ev.Action {
	case event.ActLoginFailure:
		s.fails++
		s.sinceAny++
		switch {
		case ev.User == "":
		case ev.InvalidUser:
			s.invalid.Add(ev.User, 1, max)
		default:
			s.users.Add(ev.User, 1, max)
			if ev.User == "root" {
				s.rootFails++
			}
			if d.keepRecent {
				s.extra().sinceOK.Add(ev.User, 1, max)
			}
		}
		if d.keepRecent && s.sinceAny > 2 { // the one-off tries of background noise cost nothing
			s.extra().recent.push(ev, d.c.samples)
		}
	case event.ActAuthFailurePAM:
		s.pam++
		if s.fails == 0 {
			s.sinceAny++
		}
		if ev.User == "root" {
			s.rootPAM++
		}
		if ev.User != "" && s.fails == 0 { // PAM-only input so far
			x := s.extra()
			x.pamUsers.Add(ev.User, 1, max)
			if d.keepRecent {
				x.sinceOK.Add(ev.User, 1, max)
			}
		}
	case event.ActInvalidUser:
		s.invalid.Add(ev.User, 0, max)
	case event.ActDisconnected, event.ActConnectionClosed:
		// One connection may log two preauth lines (Received disconnect,
		// Disconnected): count it once per sshd process.
		if ev.PID != 0 && ev.PID == s.lastPID {
			return
		}
		s.lastPID = ev.PID
		s.preauth++
	case event.ActLoginSuccess:
		s.successes++
		if ev.User == "root" {
			s.rootOK++
			if x := s.extra(); x.firstOK.Text == "" {
				x.firstOK = sampleOf(ev)
			}
		}
		if d.onSuccess != nil {
			d.onSuccess(ev, e, emit)
		}
		return
	}
	switch {
	case s.host == "":
		s.host = ev.Host
	case ev.Host != s.host:
		s.extra().hosts.Add(ev.Host, 1, 64)
	}
	if d.sampleIf == nil || d.sampleIf(ev, s) {
		e.smp.add(ev, d.c.samples)
	}
}

func (d *sourceDetector) Advance(t time.Time, emit detect.Emit) {
	d.eps.advance(t, emit)
	if d.base != nil {
		d.base.refresh() // the next episodes are judged against what these taught
	}
}

// Probe reports open episodes whose evidence is complete (live runs).
func (d *sourceDetector) Probe(emit detect.Emit) {
	if d.eps.peek == nil && d.judge != nil {
		d.eps.peek = d.judge
	}
	d.eps.probe(emit)
}
func (d *sourceDetector) Flush(emit detect.Emit) { d.eps.flush(emit) }
func (d *sourceDetector) Stats() detect.Stats    { return d.eps.stats() }

func (d *sourceDetector) end(key string, e *ep[srcState], emit detect.Emit) {
	if d.judge != nil {
		if a, ok := d.judge(key, e); ok {
			emit(a)
		}
	}
	if d.base != nil {
		d.base.add(d.measure(&e.v), e.last)
	}
}

// baselineSeverity is the severity of an episode whose count n reached
// the rule's floor: low below the server's learned bar, medium from it,
// high from ten times it.
func (d *sourceDetector) baselineSeverity(n int) int {
	bar := d.base.bar
	switch {
	case float64(n) >= 10*bar:
		return event.SeverityHigh
	case float64(n) >= bar:
		return event.SeverityMedium
	}
	return event.SeverityLow
}

// barEvidence adds the learned bar to a finding's evidence and returns the
// clause for its description.
func (d *sourceDetector) barEvidence(a *event.Alert) string {
	a.Evidence["bar"] = math.Round(d.base.bar)
	a.Evidence["bar_learned"] = d.base.learned()
	if a.Severity < event.SeverityMedium {
		return "; below this server's usual level, bar " + d.base.describe()
	}
	return "; this server's bar " + d.base.describe()
}

// alert starts a finding about the source key.
func (d *sourceDetector) alert(key string, e *ep[srcState]) event.Alert {
	ent, ip := sourceEntity(key)
	a := base(d.rule, d.techniques, ent, e)
	a.SourceIP = ip
	if !ip.IsValid() {
		a.SourceHost = ent.Value
	}
	return a
}

// evidence is the numbers every source finding shows.
func (d *sourceDetector) evidence(e *ep[srcState]) map[string]any {
	s := &e.v
	ev := map[string]any{
		"attempts":            s.attempts(),
		"failed_logins":       s.fails,
		"pam_failures":        s.pam,
		"preauth_disconnects": s.preauth,
		"accounts":            s.users.Distinct(),
		"invalid_users":       s.invalid.Distinct(),
		"successful_logins":   s.successes,
		"duration_minutes":    round2(minutes(e.start, e.last)),
		"hosts":               s.hostList(10),
	}
	if m := minutes(e.start, e.last); m >= 1 {
		ev["attempts_per_minute"] = round2(float64(s.attempts()) / m)
	}
	if l := top(&s.users, 10, ident); len(l) > 0 {
		ev["top_accounts"] = l
	} else if s.ext != nil && s.ext.pamUsers.Distinct() > 0 {
		ev["top_accounts"] = top(&s.ext.pamUsers, 10, ident)
	}
	if l := top(&s.invalid, 10, ident); len(l) > 0 {
		ev["invalid_user_sample"] = names(l)
	}
	return ev
}

func sourceSpec(name, summary string, tech []string, actions []event.Action, extra []detect.Param,
	build func(d *sourceDetector, p detect.Params) error) detect.Spec {
	params := append([]detect.Param{
		gapParam("1h", "an hour covers slow attacks (one try every few minutes) without merging unrelated days"),
		paramMaxEntities, paramSamples,
	}, extra...)
	return detect.Spec{
		Name: name, Summary: summary, Key: detect.KeySourceIP,
		Kinds: []event.Kind{event.KindAuth}, Actions: actions, Techniques: tech, Params: params,
		New: func(p detect.Params) (detect.Detector, error) {
			c, err := readCommon(p)
			if err != nil {
				return nil, err
			}
			d := newSourceDetector(name, tech, c)
			if err := build(d, p); err != nil {
				return nil, err
			}
			return d, nil
		},
	}
}

var failureActions = []event.Action{event.ActLoginFailure, event.ActAuthFailurePAM, event.ActInvalidUser,
	event.ActMaxAuthAttempts, event.ActDisconnected, event.ActConnectionClosed}

func bruteForceSpec() detect.Spec {
	return sourceSpec("auth.brute_force",
		"one source makes many failed authentication attempts (any accounts) in an episode; severity against the server's learned usual",
		[]string{"T1110.001"}, failureActions,
		append([]detect.Param{{Name: "threshold", Default: "10",
			Doc: "attempts per episode below which nothing is reported; a person mistypes 1–3 times and Internet background is 1–6 tries per address. Medium needs the learned bar (baseline_*): on a quiet server it is this floor, on one that bots hammer daily it rises to what they usually do"}},
			baselineParams("failed attempts per source")...),
		func(d *sourceDetector, p detect.Params) error {
			v, err := positive(p, "threshold")
			if err != nil {
				return err
			}
			th := v[0]
			if d.base, err = readBaseline(p, th); err != nil {
				return err
			}
			d.measure = func(s *srcState) int64 { return int64(s.attempts()) }
			d.sampleIf = func(ev *event.Event, s *srcState) bool {
				preauth := ev.Action == event.ActDisconnected || ev.Action == event.ActConnectionClosed
				return !preauth || s.fails+s.pam == 0
			}
			d.judge = func(key string, e *ep[srcState]) (event.Alert, bool) {
				n := int(e.v.attempts())
				if n < th {
					return event.Alert{}, false
				}
				a := d.alert(key, e)
				a.Severity = d.baselineSeverity(n)
				a.Score = strength(float64(n), float64(th)) // the floor: a scale common to every shard
				a.Evidence = d.evidence(e)
				a.Evidence["threshold"] = th
				bar := d.barEvidence(&a)
				accts := top(&e.v.users, 10, ident)
				a.Related = userEntities(accts)
				a.Description = fmt.Sprintf("%s made %d failed login attempts in %s against %s (threshold %d%s)",
					a.Entity.Value, n, span(e), describeTargets(&e.v), th, bar)
				if e.v.byConnections() {
					a.Description = fmt.Sprintf("%s opened %d SSH connections that ended unauthenticated in %s (failed guesses against a key-only or rate-limited server; names seen: %s; threshold %d%s)",
						a.Entity.Value, n, span(e), describeTargets(&e.v), th, bar)
				}
				return a, true
			}
			return nil
		})
}

func passwordSpraySpec() detect.Spec {
	return sourceSpec("auth.password_spray",
		"one source tries many existing accounts with few passwords each",
		[]string{"T1110.003"}, []event.Action{event.ActLoginFailure, event.ActAuthFailurePAM},
		[]detect.Param{
			{Name: "min_accounts", Default: "10", Doc: "distinct existing accounts failed from one source; real users mistype one account, not ten"},
			{Name: "max_per_account", Default: "5", Doc: "average tries per account at most this (more is brute force, reported by auth.brute_force)"},
		},
		func(d *sourceDetector, p detect.Params) error {
			v, err := positive(p, "min_accounts", "max_per_account")
			if err != nil {
				return err
			}
			minAcc, maxPer := v[0], v[1]
			d.sampleIf = func(ev *event.Event, _ *srcState) bool {
				return ev.User != "" && !ev.InvalidUser && ev.Action == event.ActLoginFailure
			}
			d.judge = func(key string, e *ep[srcState]) (event.Alert, bool) {
				s := &e.v
				n := s.users.Distinct()
				if n < minAcc {
					return event.Alert{}, false
				}
				valid := int(s.fails - int32(s.invalidFails()))
				per := float64(valid) / float64(n)
				if per > float64(maxPer) {
					return event.Alert{}, false
				}
				a := d.alert(key, e)
				a.Severity = event.SeverityMedium
				if n >= 5*minAcc {
					a.Severity = event.SeverityHigh
				}
				a.Score = strength(float64(n), float64(minAcc))
				a.Evidence = d.evidence(e)
				a.Evidence["min_accounts"] = minAcc
				a.Evidence["tries_per_account"] = round2(per)
				a.Related = userEntities(top(&s.users, 10, ident))
				a.Description = fmt.Sprintf("%s tried %d existing accounts with %.1f attempts each in %s (threshold %d accounts)",
					a.Entity.Value, n, per, span(e), minAcc)
				return a, true
			}
			return nil
		})
}

// invalidFails is the number of failures against invalid names.
func (s *srcState) invalidFails() int {
	n := 0
	s.invalid.Each(func(_ string, c int32) { n += int(c) })
	return n
}

func invalidUserSpec() detect.Spec {
	return sourceSpec("auth.invalid_user_enumeration",
		"one source tries many account names that do not exist (a user-list sweep); severity against the server's learned usual",
		[]string{"T1110.001", "T1589.001"}, []event.Action{event.ActInvalidUser, event.ActLoginFailure},
		append([]detect.Param{{Name: "min_names", Default: "10",
			Doc: "distinct invalid names per episode below which nothing is reported; a person mistypes their own name once or twice, scanners walk lists of hundreds"}},
			baselineParams("distinct invalid names per source")...),
		func(d *sourceDetector, p detect.Params) error {
			v, err := positive(p, "min_names")
			if err != nil {
				return err
			}
			th := v[0]
			if d.base, err = readBaseline(p, th); err != nil {
				return err
			}
			d.measure = func(s *srcState) int64 { return int64(s.invalid.Distinct()) }
			d.sampleIf = func(ev *event.Event, _ *srcState) bool { return ev.InvalidUser }
			d.judge = func(key string, e *ep[srcState]) (event.Alert, bool) {
				n := e.v.invalid.Distinct()
				if n < th {
					return event.Alert{}, false
				}
				a := d.alert(key, e)
				a.Severity = min(d.baselineSeverity(n), event.SeverityMedium)
				a.Score = strength(float64(n), float64(th)) // the floor: a scale common to every shard
				a.Evidence = d.evidence(e)
				a.Evidence["min_names"] = th
				bar := d.barEvidence(&a)
				a.Description = fmt.Sprintf("%s tried %d account names that do not exist in %s (e.g. %s; threshold %d%s)",
					a.Entity.Value, n, span(e), strings.Join(names(top(&e.v.invalid, 5, ident)), ", "), th, bar)
				return a, true
			}
			return nil
		})
}

func rootLoginSpec() detect.Spec {
	return sourceSpec("auth.root_login",
		"a remote source tries to log in as root (or succeeds)",
		[]string{"T1110.001", "T1078.003"}, []event.Action{event.ActLoginFailure, event.ActAuthFailurePAM, event.ActLoginSuccess},
		[]detect.Param{{Name: "min_attempts", Default: "5",
			Doc: "failed root logins per episode; root over SSH should be disabled, so a few tries are an attack, not a typo; a successful remote root login always reports"}},
		func(d *sourceDetector, p detect.Params) error {
			v, err := positive(p, "min_attempts")
			if err != nil {
				return err
			}
			th := v[0]
			d.sampleIf = func(ev *event.Event, _ *srcState) bool { return ev.User == "root" && !ev.InvalidUser }
			d.judge = func(key string, e *ep[srcState]) (event.Alert, bool) {
				s := &e.v
				fails := int(max(s.rootFails, s.rootPAM))
				ok := int(s.rootOK)
				if fails < th && ok == 0 {
					return event.Alert{}, false
				}
				a := d.alert(key, e)
				a.Severity = event.SeverityLow
				a.Score = strength(float64(fails), float64(th))
				a.Description = fmt.Sprintf("%s made %d failed root login attempts in %s (threshold %d)", a.Entity.Value, fails, span(e), th)
				if ok > 0 {
					a.Severity = event.SeverityMedium
					a.Score = 0.8
					a.Description = fmt.Sprintf("%s logged in as root over the network (%d times) after %d failed root attempts", a.Entity.Value, ok, fails)
					if s.ext != nil && s.ext.firstOK.Text != "" {
						a.Samples = append(a.Samples, s.ext.firstOK)
					}
				}
				a.Evidence = d.evidence(e)
				a.Evidence["root_failures"] = fails
				a.Evidence["root_successes"] = ok
				a.Evidence["min_attempts"] = th
				a.User = "root"
				a.Related = []event.Entity{{Type: event.EntityUser, Value: "root"}}
				return a, true
			}
			return nil
		})
}

func successAfterFailuresSpec() detect.Spec {
	return sourceSpec("auth.success_after_failures",
		"a source logs in after failing many times on that account, or after brute-forcing or spraying: a likely compromise",
		[]string{"T1110", "T1078"}, []event.Action{event.ActLoginFailure, event.ActAuthFailurePAM, event.ActLoginSuccess},
		[]detect.Param{
			{Name: "min_failures", Default: "5", Doc: "failures on the account that then logs in, from the same source; a person who mistypes retries 1–3 times"},
			{Name: "min_failures_any", Default: "20", Doc: "failures on any accounts from the source (brute force or spray) before a success on another account"},
		},
		func(d *sourceDetector, p detect.Params) error {
			v, err := positive(p, "min_failures", "min_failures_any")
			if err != nil {
				return err
			}
			d.keepRecent = true
			d.onSuccess = func(ev *event.Event, e *ep[srcState], emit detect.Emit) {
				if a, ok := d.compromise(ev, e, v[0], v[1]); ok {
					emit(a)
				}
			}
			return nil
		})
}

// compromise judges a successful login against the source's episode.
func (d *sourceDetector) compromise(ev *event.Event, e *ep[srcState], minAcct, minAny int) (event.Alert, bool) {
	s := &e.v
	// Failures that a success from this source already followed were the
	// user's own typos: count only those since the account's last login
	// (and, for brute force, since the source's last login).
	x := s.extra()
	onAcct := int(x.sinceOK.Get(ev.User))
	x.sinceOK.Reset(ev.User)
	total := int(s.sinceAny)
	s.sinceAny = 0
	if ev.User == "" || x.alerted.Get(ev.User) > 0 {
		return event.Alert{}, false
	}
	var why string
	switch {
	case onAcct >= minAcct:
		why = fmt.Sprintf("after %d failed attempts on that account from the same source (threshold %d)", onAcct, minAcct)
	case total >= minAny:
		why = fmt.Sprintf("after %d failed attempts on %s from the same source (threshold %d)",
			total, plural(s.users.Distinct()+s.invalid.Distinct(), "account", "accounts"), minAny)
	default:
		return event.Alert{}, false
	}
	x.alerted.Add(ev.User, 1, 64)
	a := d.alert(string(d.key), e)
	a.End = ev.Time.UTC()
	a.Severity = event.SeverityCritical
	a.Score = max(strength(float64(onAcct), float64(minAcct)), strength(float64(total), float64(minAny)), 0.7)
	a.User = ev.User
	a.Related = []event.Entity{{Type: event.EntityUser, Value: ev.User}}
	if ev.Host != "" {
		a.Related = append(a.Related, event.Entity{Type: event.EntityHost, Value: ev.Host})
	}
	// Evidence: the login first (a short report shows it), then the
	// latest failures before it.
	a.Samples = append([]event.Sample{sampleOf(ev)}, x.recent.take()...)
	a.Evidence = d.evidence(e)
	a.Evidence["failures_on_account"] = onAcct
	a.Evidence["min_failures"] = minAcct
	a.Evidence["min_failures_any"] = minAny
	a.Evidence["account"] = ev.User
	a.Evidence["method"] = ev.Method
	a.Evidence["host"] = ev.Host
	a.Evidence["login_time"] = ev.Time.UTC().Format(time.RFC3339)
	method := ev.Method
	if method == "" {
		method = "unknown method"
	}
	a.Description = fmt.Sprintf("%s logged in as %s (%s) on %s %s: likely compromised",
		a.Entity.Value, ev.User, method, orDash(ev.Host), why)
	return a, true
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// span renders an episode's duration for descriptions.
func span[V any](e *ep[V]) string { return between(e.start, e.last) }

// between renders the time from a to b (unix nanoseconds): "42s", "7m",
// "3h39m".
func between(a, b int64) string {
	d := time.Duration(b - a).Round(time.Second)
	if d < time.Minute {
		return fmt.Sprintf("%ds", int(d.Seconds()))
	}
	return strings.TrimSuffix(d.Round(time.Minute).String(), "0s")
}

func describeTargets(s *srcState) string {
	users := &s.users
	if users.Distinct() == 0 && s.ext != nil {
		users = &s.ext.pamUsers // a PAM-only log names the accounts there
	}
	l := names(top(users, 3, ident))
	inv := s.invalid.Distinct()
	var parts []string
	if len(l) > 0 {
		p := strings.Join(l, ", ")
		if n := users.Distinct(); n > len(l) {
			p += fmt.Sprintf(" and %d more accounts", n-len(l))
		}
		parts = append(parts, p)
	}
	if inv > 0 {
		parts = append(parts, plural(inv, "invalid name", "invalid names"))
	}
	if len(parts) == 0 {
		return "unnamed accounts"
	}
	return strings.Join(parts, " and ")
}

// ring keeps the latest n samples.
type ring struct {
	buf  []event.Sample
	next int
}

func (r *ring) push(ev *event.Event, n int) {
	if n <= 0 {
		return
	}
	if len(r.buf) > 0 {
		last := &r.buf[(r.next+len(r.buf)-1)%len(r.buf)]
		if last.Line == ev.Ref.Line && last.File == ev.Ref.File {
			return // one line expanded into several events
		}
	}
	smp := sampleOf(ev)
	if len(r.buf) < n {
		r.buf = append(r.buf, smp)
		return
	}
	r.buf[r.next] = smp
	r.next = (r.next + 1) % n
}

// take returns the samples oldest first and empties the ring.
func (r *ring) take() []event.Sample {
	out := append(append([]event.Sample(nil), r.buf[r.next:]...), r.buf[:r.next]...)
	r.buf, r.next = nil, 0
	return out
}
