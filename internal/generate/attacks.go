package generate

import (
	"math"
	"math/rand/v2"
	"slices"
)

// The embedded attacks, in the order of Truth.Attacks.
const (
	atkFast = iota
	atkSlow
	atkSpray
	atkSweep
	atkDistributed
	atkBreakIn
	nAttacks
)

// Detector rule names the attacks are expected to trigger.
const (
	ruleBruteForce      = "auth.brute_force"
	ruleRootLogin       = "auth.root_login"
	rulePasswordSpray   = "auth.password_spray"
	ruleInvalidUserEnum = "auth.invalid_user_enumeration"
	ruleDistributed     = "auth.distributed_brute_force"
	ruleSuccessAfter    = "auth.success_after_failures"
	ruleSudoSensitive   = "auth.sudo_sensitive"
	ruleAccountChange   = "auth.account_change"
)

// distributedIPs is the size of the botnet of the distributed brute force.
const distributedIPs = 25

// commonNames are what a fast brute force tries besides root.
var commonNames = [...]string{"admin", "test", "oracle", "ubuntu", "user", "guest"}

// planAttacks plans the six attacks, records them in g.truth, and returns
// the source that runs them. Every attack comes from addresses of the
// documentation networks, which neither the fleet nor the noise uses.
func (g *gen) planAttacks(rng *rand.Rand) *planSrc {
	p := &planSrc{rng: rng}
	f := g.f
	d := g.end - g.start
	addrs := docAddrs(rng)
	pub := func() int32 { return f.public[rng.IntN(len(f.public))] }
	// when returns the time at fraction frac of the log, give or take jit.
	when := func(frac, jit float64) int64 {
		return g.start + int64((frac+jit*(2*rng.Float64()-1))*float64(d))
	}
	// span is a duration of at most limit seconds and frac of the log.
	span := func(limit int64, frac float64) int64 { return max(1, min(limit, int64(frac*float64(d)))) }
	attack := func(name string, ips []uint32, users []string, rules ...string) {
		a := Attack{Name: name, Users: users, Rules: rules}
		for _, ip := range ips {
			a.SourceIPs = append(a.SourceIPs, ipString(ip))
		}
		g.truth.Attacks = append(g.truth.Attacks, a)
	}
	fail := func(t int64, atk int, c conn) {
		p.schedule(t, atk, func(g *gen, rng *rand.Rand, t int64) { g.failConn(rng, t, c) })
	}

	// 1. Fast brute force: ~300 passwords in ~10 minutes, root and a
	// couple of common names, six tries per connection.
	{
		ip, h := addrs[0], pub()
		names := commonNames
		rng.Shuffle(len(names), func(i, j int) { names[i], names[j] = names[j], names[i] })
		users := append([]string{"root"}, names[:1+rng.IntN(2)]...)
		target := 280 + rng.IntN(41)
		var tries []int
		for sum := 0; sum < target; {
			n := 6
			if rng.IntN(8) == 0 {
				n = 3 + rng.IntN(3)
			}
			n = min(n, target-sum)
			tries = append(tries, n)
			sum += n
		}
		t0, sp := when(0.15, 0.02), span(600, 0.05)
		for k, n := range tries {
			u := users[0]
			if rng.IntN(2) == 0 {
				u = users[1+rng.IntN(len(users)-1)]
			}
			t := t0 + int64(k)*sp/int64(len(tries))
			fail(t, atkFast, conn{h: h, ip: ip, user: u, valid: f.isAccount(u), tries: n, gap: 2, compress: rng.IntN(2) == 0})
		}
		attack("fast-brute-force", []uint32{ip}, users, ruleBruteForce, ruleRootLogin)
	}

	// 2. Slow brute force: one try every ~8 minutes for ~8 hours.
	{
		ip, h := addrs[1], pub()
		n := 58 + rng.IntN(5)
		t0, sp := when(0.05, 0.01), span(8*3600, 0.4)
		step := sp / int64(n)
		for k := 0; k < n; k++ {
			u := "root"
			if rng.IntN(2) == 0 {
				u = "admin"
			}
			t := t0 + int64(k)*step + rng.Int64N(step/4+1)
			fail(t, atkSlow, conn{h: h, ip: ip, user: u, valid: f.isAccount(u), tries: 1, gap: 2})
		}
		attack("slow-brute-force", []uint32{ip}, []string{"admin", "root"}, ruleBruteForce)
	}

	// 3. Password spray: one or two passwords for each of up to 40
	// existing accounts in ~30 minutes.
	{
		ip, h := addrs[2], pub()
		accts := slices.Clone(f.accounts)
		rng.Shuffle(len(accts), func(i, j int) { accts[i], accts[j] = accts[j], accts[i] })
		accts = accts[:min(40, len(accts))]
		t0, sp := when(0.55, 0.03), span(1800, 0.05)
		step := sp / int64(len(accts))
		for k, u := range accts {
			tries := 1
			if rng.IntN(10) < 3 {
				tries = 2
			}
			t := t0 + int64(k)*step + rng.Int64N(step/2+1)
			fail(t, atkSpray, conn{h: h, ip: ip, user: u, valid: true, tries: tries, gap: 3})
		}
		attack("password-spray", []uint32{ip}, accts, rulePasswordSpray)
	}

	// 4. Invalid-user sweep: ~150 distinct names that do not exist in ~20
	// minutes, most with one password.
	{
		ip, h := addrs[3], pub()
		n := min(145+rng.IntN(11), len(f.noise))
		perm := rng.Perm(len(f.noise))[:n]
		t0, sp := when(0.68, 0.03), span(1200, 0.04)
		var names []string
		for k, i := range perm {
			u := f.noise[i]
			names = append(names, u)
			t := t0 + int64(k)*sp/int64(n)
			if rng.IntN(5) == 0 {
				p.schedule(t, atkSweep, func(g *gen, rng *rand.Rand, t int64) { g.probeConn(rng, t, h, ip, u) })
			} else {
				fail(t, atkSweep, conn{h: h, ip: ip, user: u, tries: 1, gap: 2})
			}
		}
		attack("invalid-user-sweep", []uint32{ip}, names, ruleInvalidUserEnum)
	}

	breakIn := f.pickBreakInTarget(rng)

	// 5. Distributed brute force: a botnet of 25 addresses, two to four
	// passwords each, against one person, interleaved over ~1 hour.
	{
		target := f.pickDistributedTarget(rng, breakIn)
		u := f.users[target].name
		ips := addrs[4 : 4+distributedIPs]
		h := pub()
		t0, sp := when(0.8, 0.03), span(3600, 0.08)
		for _, ip := range ips {
			tries := 2 + rng.IntN(3)
			if rng.IntN(5) < 3 {
				fail(t0+rng.Int64N(sp), atkDistributed, conn{h: h, ip: ip, user: u, valid: true, tries: tries, gap: 3})
				continue
			}
			for ; tries > 0; tries-- {
				fail(t0+rng.Int64N(sp), atkDistributed, conn{h: h, ip: ip, user: u, valid: true, tries: 1, gap: 3})
			}
		}
		attack("distributed-brute-force", ips, []string{u}, ruleDistributed)
	}

	// 6. Break-in: ~40 failures against a password user, success, sudo to
	// a shell, read /etc/shadow, create a backdoor admin; at the hour the
	// user is least likely to log in.
	{
		ip := addrs[4+distributedIPs]
		u := &f.users[breakIn]
		h := f.public[0]
		for _, x := range u.hosts {
			if f.hosts[x].public {
				h = x
				break
			}
		}
		sp := span(900, 0.03)
		ts := g.unusualTime(rng, u, sp+120, 700)
		n := 36 + rng.IntN(9)
		var tries []int
		for sum := 0; sum < n; {
			k := min(3+rng.IntN(4), n-sum)
			tries = append(tries, k)
			sum += k
		}
		tf := ts - sp - 20 - rng.Int64N(40)
		for k, c := range tries {
			t := tf + int64(k)*sp/int64(len(tries))
			fail(t, atkBreakIn, conn{h: h, ip: ip, user: u.name, valid: true, tries: c, gap: 3, compress: rng.IntN(2) == 0})
		}
		door := backdoors[rng.IntN(len(backdoors))]
		id := int32(1000 + len(f.users) + 1 + rng.IntN(5))
		g.planBreakIn(p, rng, ts, h, ip, u, door, id)
		attack("break-in", []uint32{ip}, []string{u.name, door}, ruleSuccessAfter, ruleSudoSensitive, ruleAccountChange)
	}
	if g.hard {
		g.planHard(p, rng, addrs[5+distributedIPs:], when, attack)
	}
	p.sort()
	return p
}

// ruleStuffing is the rule credential stuffing is expected to trigger.
const ruleStuffing = "auth.credential_stuffing"

// planHard plans the attacks a fixed threshold misses, with their ground
// truth:
//
//   - a fast brute force spread over ten account names: 17 failures in one
//     minute from one address (below a fixed 20);
//   - low-and-slow guessing: SlowSources addresses, each 11–13 failures on
//     one existing account over about two hours;
//   - credential stuffing: 30 addresses, each two or three tries on
//     different accounts of a leaked list (real accounts of the fleet and
//     names it does not have) within an hour.
func (g *gen) planHard(p *planSrc, rng *rand.Rand, addrs []uint32, when func(frac, jit float64) int64,
	attack func(name string, ips []uint32, users []string, rules ...string)) {
	f := g.f
	pub := func() int32 { return f.public[rng.IntN(len(f.public))] }
	fail := func(t int64, c conn) {
		p.schedule(t, -1, func(g *gen, rng *rand.Rand, t int64) { g.failConn(rng, t, c) })
	}
	people := make([]string, 0, f.people)
	for i := 0; i < f.people; i++ {
		people = append(people, f.users[i].name)
	}
	next := 0
	take := func() uint32 { next++; return addrs[next-1] }

	// Fast brute force over ten names, 17 failures in 60 s.
	{
		ip, h := take(), pub()
		names := append(slices.Clone(people[:min(5, len(people))]), "admin", "test", "oracle", "ubuntu", "git")
		names = names[:min(10, len(names))]
		t0 := when(0.35, 0.02)
		left := 17
		for k := 0; left > 0; k++ {
			n := min(1+rng.IntN(2), left)
			left -= n
			u := names[k%len(names)]
			fail(t0+int64(k)*6, conn{h: h, ip: ip, user: u, valid: f.isAccount(u), tries: n, gap: 2})
		}
		attack("fast-spread-brute-force", []uint32{ip}, names, ruleBruteForce)
	}

	// Low and slow: 11–13 failures on one account over about two hours.
	slow := g.slow
	if slow <= 0 {
		slow = 3
	}
	for i := 0; i < slow; i++ {
		ip, h := take(), pub()
		u := people[rng.IntN(len(people))]
		n := 11 + rng.IntN(3)
		t0 := when(0.40+0.04*float64(i), 0.01)
		step := int64(7200) / int64(n)
		for k := 0; k < n; k++ {
			fail(t0+int64(k)*step+rng.Int64N(step/3+1), conn{h: h, ip: ip, user: u, valid: true, tries: 1, gap: 2})
		}
		attack("low-and-slow", []uint32{ip}, []string{u}, ruleBruteForce)
	}

	// Credential stuffing: 30 addresses, a few leaked pairs each.
	{
		h := pub()
		leaked := slices.Clone(people)
		leaked = append(leaked, f.noise[:min(len(f.noise), 2*len(people)/3+5)]...)
		rng.Shuffle(len(leaked), func(i, j int) { leaked[i], leaked[j] = leaked[j], leaked[i] })
		t0 := when(0.62, 0.02)
		var ips []uint32
		var users []string
		k := 0
		for i := 0; i < 30; i++ {
			ip := take()
			ips = append(ips, ip)
			for j, n := 0, 2+rng.IntN(2); j < n; j++ {
				u := leaked[k%len(leaked)]
				k++
				users = append(users, u)
				fail(t0+rng.Int64N(3600), conn{h: h, ip: ip, user: u, valid: f.isAccount(u), tries: 1, gap: 2})
			}
		}
		attack("credential-stuffing", ips, users, ruleStuffing)
	}
}

// planBreakIn plans the attacker's session from the successful login at ts.
func (g *gen) planBreakIn(p *planSrc, rng *rand.Rand, ts int64, h int32, ip uint32, u *user, door string, id int32) {
	var s struct {
		pid, sess, tty, port int32
	}
	s.port = anyPort(rng)
	s.tty = int32(rng.IntN(3))
	name, home := u.name, u.home
	t := ts
	p.schedule(t, atkBreakIn, func(g *gen, rng *rand.Rand, t int64) {
		s.pid = g.pid(h, rng)
		s.sess = g.session(h)
		r := rec{t: t, k: kAcceptedPassword, host: h, pid: s.pid, port: s.port, ip: ip, user: name}
		g.add(r)
		r.k = kSessionOpened
		g.add(r)
		g.add(rec{t: t, k: kLogindNew, host: h, pid: g.f.hosts[h].logind, n: s.sess, user: name})
	})
	t += 40 + rng.Int64N(50)
	p.schedule(t, atkBreakIn, func(g *gen, rng *rand.Rand, t int64) {
		g.sudo(t, h, name, s.tty, home, "/usr/bin/cat /etc/shadow", t)
	})
	t += 30 + rng.Int64N(30)
	p.schedule(t, atkBreakIn, func(g *gen, rng *rand.Rand, t int64) {
		g.sudo(t, h, name, s.tty, home, "/bin/bash", -1)
	})
	t += 20 + rng.Int64N(40)
	p.schedule(t, atkBreakIn, func(g *gen, rng *rand.Rand, t int64) {
		pid := g.pid(h, rng)
		g.add(rec{t: t, k: kNewGroup, host: h, pid: pid, n: id, user: door})
		g.add(rec{t: t, k: kNewUser, host: h, pid: pid, n: id, user: door})
	})
	t += 5 + rng.Int64N(10)
	p.schedule(t, atkBreakIn, func(g *gen, rng *rand.Rand, t int64) {
		g.add(rec{t: t, k: kPasswdChanged, host: h, pid: g.pid(h, rng), user: door})
	})
	t += 5 + rng.Int64N(10)
	p.schedule(t, atkBreakIn, func(g *gen, rng *rand.Rand, t int64) {
		pid := g.pid(h, rng)
		g.add(rec{t: t, k: kUsermodGroup, host: h, pid: pid, user: door, arg: "sudo"})
		g.add(rec{t: t, k: kUsermodShadow, host: h, pid: pid, user: door, arg: "sudo"})
	})
	t += 20 + rng.Int64N(40)
	p.schedule(t, atkBreakIn, func(g *gen, rng *rand.Rand, t int64) {
		g.add(rec{t: t, k: kSudoClosed, host: h, user: name})
	})
	t += 30 + rng.Int64N(270)
	p.schedule(t, atkBreakIn, func(g *gen, rng *rand.Rand, t int64) {
		r := rec{t: t, host: h, pid: s.pid, port: s.port, ip: ip, user: name}
		for _, k := range [...]kind{kRecvDisconnectUser, kDisconnectedUser, kSessionClosed} {
			r.k = k
			g.add(r)
		}
		logind := g.f.hosts[h].logind
		g.add(rec{t: t, k: kLogindOut, host: h, pid: logind, n: s.sess})
		g.add(rec{t: t, k: kLogindRemoved, host: h, pid: logind, n: s.sess})
	})
}

// unusualTime picks a time in the hour of the log where u's session rate is
// lowest, at least before seconds after the start and after seconds before
// the end.
func (g *gen) unusualTime(rng *rand.Rand, u *user, before, after int64) int64 {
	best, bestLo, bestHi := math.Inf(1), int64(0), int64(0)
	for slot := g.start - mod(g.start, 3600); slot < g.end; slot += 3600 {
		lo, hi := max(slot+300, g.start+before), min(slot+3300, g.end-after)
		if lo >= hi {
			continue
		}
		if r := u.rate[g.hourOf(slot)]; r < best {
			best, bestLo, bestHi = r, lo, hi
		}
	}
	if bestHi <= bestLo {
		return g.start + (g.end-g.start)/2
	}
	return bestLo + rng.Int64N(bestHi-bestLo)
}

// planMisc plans benign maintenance: sshd restarted by an upgrade.
func (g *gen) planMisc(rng *rand.Rand) *planSrc {
	p := &planSrc{rng: rng}
	d := g.end - g.start
	h := int32(rng.IntN(len(g.f.hosts)))
	t := g.start + int64((0.27+0.02*rng.Float64())*float64(d))
	p.schedule(t, -1, func(g *gen, rng *rand.Rand, t int64) {
		hp := &g.f.hosts[h]
		g.add(rec{t: t, k: kSignal, host: h, pid: hp.listener})
		hp.listener = g.pid(h, rng)
		g.add(rec{t: t + 1, k: kListen4, host: h, pid: hp.listener})
		g.add(rec{t: t + 1, k: kListen6, host: h, pid: hp.listener})
	})
	return p
}

// invalidNames returns about n distinct names for Internet noise that are
// neither accounts of the fleet nor backdoor names (noiseNames repeats some
// names, e.g. "test2" as a word and as "test"+"2", and makes "helpdesk2").
func (f *fleet) invalidNames(n int) []string {
	seen := make(map[string]bool, n+len(f.accounts)+len(backdoors)+1)
	seen["root"] = true
	for _, a := range f.accounts {
		seen[a] = true
	}
	for _, b := range backdoors {
		seen[b] = true
	}
	var out []string
	for _, s := range noiseNames(n) {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

func (f *fleet) isAccount(name string) bool {
	return name == "root" || slices.Contains(f.accounts, name)
}

// pickBreakInTarget returns a person who logs in by password, preferably
// an admin; if nobody does, an admin is made to.
func (f *fleet) pickBreakInTarget(rng *rand.Rand) int32 {
	var admins, others []int32
	for i := 0; i < f.people; i++ {
		if f.users[i].password {
			if f.users[i].admin {
				admins = append(admins, int32(i))
			} else {
				others = append(others, int32(i))
			}
		}
	}
	switch {
	case len(admins) > 0:
		return admins[rng.IntN(len(admins))]
	case len(others) > 0:
		return others[rng.IntN(len(others))]
	}
	i := f.admins[rng.IntN(len(f.admins))]
	f.users[i].password = true
	return i
}

// pickDistributedTarget returns a person who is not an admin and not not
// the break-in's target, if there is one.
func (f *fleet) pickDistributedTarget(rng *rand.Rand, not int32) int32 {
	var c []int32
	for i := 0; i < f.people; i++ {
		if !f.users[i].admin && int32(i) != not {
			c = append(c, int32(i))
		}
	}
	if len(c) == 0 {
		for i := 0; i < f.people; i++ {
			if int32(i) != not {
				c = append(c, int32(i))
			}
		}
	}
	if len(c) == 0 {
		return not
	}
	return c[rng.IntN(len(c))]
}
