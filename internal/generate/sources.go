package generate

import (
	"math"
	"math/rand/v2"
	"slices"
)

// noisePerDay is the number of Internet scanner visits a public host gets
// in a natural day.
const noisePerDay = 300

// poisson draws from a Poisson distribution with mean lam.
func poisson(rng *rand.Rand, lam float64) int {
	switch {
	case lam <= 0:
		return 0
	case lam > 50:
		return max(0, int(math.Round(lam+math.Sqrt(lam)*rng.NormFloat64())))
	}
	l, k, p := math.Exp(-lam), 0, rng.Float64()
	for p > l {
		k++
		p *= rng.Float64()
	}
	return k
}

// clientPort is an ephemeral port of a Linux client.
func clientPort(rng *rand.Rand) int32 { return 32768 + int32(rng.IntN(28232)) }

// anyPort is a source port of an arbitrary Internet client.
func anyPort(rng *rand.Rand) int32 { return 1024 + int32(rng.IntN(64511)) }

// personSrc is one account's sessions, a Poisson process following the
// account's hour-of-day profile, planned one hour at a time.
type personSrc struct {
	u     int32
	rng   *rand.Rand
	scale float64
	slot  int64 // start of the next hour to plan
	times []int64
	i     int
}

func (s *personSrc) at(g *gen) int64 {
	for s.i >= len(s.times) {
		if s.slot >= g.end {
			return math.MaxInt64
		}
		s.fill(g)
	}
	return s.times[s.i]
}

func (s *personSrc) fill(g *gen) {
	lo, hi := max(s.slot, g.start), min(s.slot+3600, g.end)
	lam := g.f.users[s.u].rate[g.hourOf(s.slot)] * s.scale * float64(hi-lo) / 3600
	s.times, s.i = s.times[:0], 0
	for n := poisson(s.rng, lam); n > 0; n-- {
		s.times = append(s.times, lo+s.rng.Int64N(hi-lo))
	}
	slices.Sort(s.times)
	s.slot += 3600
}

func (s *personSrc) run(g *gen) {
	t := s.times[s.i]
	s.i++
	g.st.sessions++
	g.userSession(s.rng, s.u, t)
}

// userSession plans one benign ssh session of account ui from t.
func (g *gen) userSession(rng *rand.Rand, ui int32, t int64) {
	u := &g.f.users[ui]
	h := u.hosts[rng.IntN(len(u.hosts))]
	ip := u.ips[0]
	if len(u.ips) > 1 && rng.IntN(10) < 4 {
		ip = u.ips[1+rng.IntN(len(u.ips)-1)]
	}
	r := rec{t: t, host: h, pid: g.pid(h, rng), port: clientPort(rng), ip: ip, user: u.name}
	if u.password && !u.service && rng.IntN(100) < 6 {
		// a typo: one failure, then the right password on the same
		// connection
		r.k = kPamAuthFail
		g.add(r)
		r.t += 2
		r.k = kFailed
		g.add(r)
		r.t += 3 + rng.Int64N(25)
	}
	if u.password {
		r.k = kAcceptedPassword
	} else {
		r.k, r.arg = kAcceptedKey, u.fp
	}
	g.add(r)
	r.arg = ""
	r.k = kSessionOpened
	g.add(r)
	sess := g.session(h)
	logind := g.f.hosts[h].logind
	g.add(rec{t: r.t, k: kLogindNew, host: h, pid: logind, n: sess, user: u.name})

	var dur int64
	switch {
	case ui == g.f.deploy:
		dur = 5 + rng.Int64N(60)
	case ui == g.f.backup:
		dur = 120 + rng.Int64N(1800)
	default:
		dur = int64(math.Exp(math.Log(1200) + rng.NormFloat64()))
		dur = min(max(dur, 20), 6*3600)
	}
	begin, end := r.t, r.t+dur
	switch {
	case ui == g.f.deploy:
		for n := 1 + rng.IntN(2); n > 0; n-- {
			tc := begin + 1 + rng.Int64N(dur-1)
			g.sudo(tc, h, u.name, -1, u.home, deployCommands[rng.IntN(len(deployCommands))], tc+1+rng.Int64N(3))
		}
	case u.admin && dur > 30:
		tty := int32(rng.IntN(4))
		for n := poisson(rng, 1.5); n > 0; n-- {
			tc := begin + 10 + rng.Int64N(dur-20)
			pwd := u.home
			if rng.IntN(2) == 0 {
				pwd = adminDirs[rng.IntN(len(adminDirs))]
			}
			tEnd := min(tc+rng.Int64N(40), end-1)
			g.sudo(tc, h, u.name, tty, pwd, adminCommands[rng.IntN(len(adminCommands))], tEnd)
		}
	}
	r.t = end
	for _, k := range [...]kind{kRecvDisconnectUser, kDisconnectedUser, kSessionClosed} {
		r.k = k
		g.add(r)
	}
	g.add(rec{t: end, k: kLogindOut, host: h, pid: logind, n: sess})
	g.add(rec{t: end, k: kLogindRemoved, host: h, pid: logind, n: sess})
}

// sudo plans a sudo command with its PAM session (closed at tEnd). tty < 0
// is TTY=unknown.
func (g *gen) sudo(t int64, h int32, user string, tty int32, pwd, cmd string, tEnd int64) {
	g.add(rec{t: t, k: kSudoCommand, host: h, n: tty, user: user, arg: cmd, arg2: pwd})
	g.add(rec{t: t, k: kSudoOpened, host: h, user: user})
	if tEnd >= t {
		g.add(rec{t: tEnd, k: kSudoClosed, host: h, user: user})
	}
}

// cronSrc is one host's cron: the */10 job(s) and the hourly run-parts.
type cronSrc struct {
	h     int32
	rng   *rand.Rand
	next  int64 // start of the next minute with a job
	users [60][]string
}

func newCronSrc(g *gen, h int32, jobs int, rng *rand.Rand) *cronSrc {
	s := &cronSrc{h: h, rng: rng}
	hp := &g.f.hosts[h]
	for j := 0; j < jobs; j++ {
		off := (hp.cronOff + 3*j) % 10
		u := hp.cronUser
		if j%2 == 1 {
			u = "root"
		}
		for m := off; m < 60; m += 10 {
			s.users[m] = append(s.users[m], u)
		}
	}
	s.users[17] = append(s.users[17], "root")
	m := g.start - mod(g.start, 60)
	if m < g.start {
		m += 60
	}
	s.next = s.seek(g, m)
	return s
}

// seek returns the first minute at or after m with a job.
func (s *cronSrc) seek(g *gen, m int64) int64 {
	for i := 0; i < 60; i++ {
		if m >= g.end {
			return math.MaxInt64
		}
		if len(s.users[mod((m+g.zoneOff)/60, 60)]) > 0 {
			return m
		}
		m += 60
	}
	return math.MaxInt64
}

func (s *cronSrc) at(*gen) int64 { return s.next }

func (s *cronSrc) run(g *gen) {
	m := s.next
	for _, u := range s.users[mod((m+g.zoneOff)/60, 60)] {
		r := rec{t: m + s.rng.Int64N(2), k: kCronOpened, host: s.h, pid: g.pid(s.h, s.rng), user: u}
		g.add(r)
		r.t += s.rng.Int64N(3)
		r.k = kCronClosed
		g.add(r)
	}
	s.next = s.seek(g, m+60)
}

// noiseSrc is the Internet's background radiation on one public host: a
// Poisson stream of visits, each from a fresh address, none with more than
// five failed passwords.
type noiseSrc struct {
	h    int32
	rng  *rand.Rand
	mean float64 // seconds between visits
	next int64
	acc  float64 // exact time of the next visit
}

func (s *noiseSrc) at(g *gen) int64 {
	if s.next >= g.end {
		return math.MaxInt64
	}
	return s.next
}

func (s *noiseSrc) run(g *gen) {
	t := s.next
	s.acc += s.rng.ExpFloat64() * s.mean
	s.next = int64(s.acc)
	g.st.noiseVisits++
	rng := s.rng
	ip := g.noiseIPs.take()
	r := rec{t: t, host: s.h, pid: g.pid(s.h, rng), port: anyPort(rng), ip: ip}
	switch x := rng.IntN(100); {
	case x < 12:
		r.k = kNoIdent
		g.add(r)
	case x < 17:
		r.k, r.arg = kBadProtocol, badProtocols[rng.IntN(len(badProtocols))]
		g.add(r)
	case x < 25:
		r.k, r.arg = kNegotiate, kexOffers[rng.IntN(len(kexOffers))]
		g.add(r)
	case x < 33:
		r.k = kClosed
		g.add(r)
	case x < 41:
		r.k = kByeBye
		g.add(r)
		r.k = kDisconnectedPreauth
		g.add(r)
	case x < 50:
		g.probeConn(rng, t, s.h, ip, g.noiseName(rng))
	default:
		// password guessing: one to five tries, on one or two connections
		tries := [...]int{1, 1, 1, 1, 2, 2, 2, 3, 3, 4, 5}[rng.IntN(11)]
		first := tries
		if tries > 1 && rng.IntN(3) == 0 {
			first = 1 + rng.IntN(tries-1)
		}
		end := g.failConn(rng, t, conn{h: s.h, ip: ip, user: g.noiseName(rng), tries: first, gap: 3, compress: rng.IntN(3) == 0})
		if rest := tries - first; rest > 0 {
			g.failConn(rng, end+5+rng.Int64N(120), conn{h: s.h, ip: ip, user: g.noiseName(rng), tries: rest, gap: 3})
		}
	}
}

// noiseName picks an invalid name, common ones more often.
func (g *gen) noiseName(rng *rand.Rand) string {
	x := rng.Float64()
	return g.f.noise[int(x*x*x*float64(len(g.f.noise)))]
}

// conn describes a connection with failed password tries.
type conn struct {
	h        int32
	ip       uint32
	user     string
	valid    bool // the account exists
	tries    int  // 1..6; 6 ends with "maximum authentication attempts"
	gap      int64
	compress bool // rsyslog folds the repeated Failed lines
}

// failConn plans one connection with c.tries failed passwords from t and
// returns the time of its last line.
func (g *gen) failConn(rng *rand.Rand, t int64, c conn) int64 {
	r := rec{t: t, host: c.h, pid: g.pid(c.h, rng), port: anyPort(rng), ip: c.ip, user: c.user}
	failK, repK := kFailed, kRepeated
	if c.valid {
		r.k = kPamAuthFail
		g.add(r)
	} else {
		failK, repK = kFailedInvalid, kRepeatedInvalid
		r.k = kInvalidUser
		g.add(r)
		r.t += rng.Int64N(2)
		r.k = kCheckPassUnknown
		g.add(r)
		r.k = kPamAuthFailUnknown
		g.add(r)
	}
	r.t += 2
	r.k = failK
	g.add(r)
	step := func() int64 { return max(1, c.gap-1+rng.Int64N(3)) }
	if c.tries > 1 {
		if c.compress {
			for i := 1; i < c.tries; i++ {
				r.t += step()
			}
			r.k, r.n = repK, int32(c.tries-1)
			g.add(r)
		} else {
			for i := 1; i < c.tries; i++ {
				r.t += step()
				if !c.valid {
					r.k = kCheckPassUnknown
					g.add(r)
					r.t += 2
				}
				r.k = failK
				g.add(r)
			}
		}
	}
	r.n = 0
	r.t += rng.Int64N(2)
	if c.tries >= 6 {
		r.k = kMaxAttempts
		if !c.valid {
			r.k = kMaxAttemptsInvalid
		}
		g.add(r)
		r.k = kTooMany
		g.add(r)
	} else if c.valid {
		r.k = kClosedAuthenticating
		g.add(r)
	} else {
		g.closeInvalid(rng, r)
	}
	if c.tries > 1 {
		r.k, r.n = kPamMore, int32(c.tries-1)
		if !c.valid {
			r.k = kPamMoreUnknown
		}
		g.add(r)
	}
	if c.tries > 3 {
		r.k, r.n = kPamIgnoring, int32(c.tries)
		g.add(r)
	}
	return r.t
}

// probeConn plans "Invalid user" without a password try.
func (g *gen) probeConn(rng *rand.Rand, t int64, h int32, ip uint32, user string) int64 {
	r := rec{t: t, k: kInvalidUser, host: h, pid: g.pid(h, rng), port: anyPort(rng), ip: ip, user: user}
	g.add(r)
	r.t += rng.Int64N(2)
	g.closeInvalid(rng, r)
	return r.t
}

// closeInvalid ends an invalid user's connection.
func (g *gen) closeInvalid(rng *rand.Rand, r rec) {
	if rng.IntN(2) == 0 {
		r.k = kClosedInvalid
		g.add(r)
		return
	}
	r.k = kByeBye
	g.add(r)
	r.k = kDisconnectedInvalid
	g.add(r)
}

// floodSrc is FloodIPs failed logins for invalid users, one per fresh
// address, evenly spaced: generated on demand.
type floodSrc struct {
	i, n  int64
	rng   *rand.Rand
	alloc ipAlloc
}

func (s *floodSrc) at(g *gen) int64 {
	if s.i >= s.n {
		return math.MaxInt64
	}
	d := g.end - g.start
	return g.start + (2*s.i+1)*d/(2*s.n)
}

func (s *floodSrc) run(g *gen) {
	t := s.at(g)
	s.i++
	rng := s.rng
	h := g.f.public[rng.IntN(len(g.f.public))]
	g.add(rec{t: t, k: kFailedInvalid, host: h, pid: g.pid(h, rng), port: anyPort(rng), ip: s.alloc.take(), user: g.noiseName(rng)})
}

// planSrc runs planned episodes (attacks, maintenance) at their times.
type planSrc struct {
	rng   *rand.Rand
	items []planItem
	i     int
}

type planItem struct {
	t   int64
	atk int // attack index, -1 for none
	fn  func(g *gen, rng *rand.Rand, t int64)
}

func (s *planSrc) at(g *gen) int64 {
	if s.i >= len(s.items) {
		return math.MaxInt64
	}
	return s.items[s.i].t
}

func (s *planSrc) run(g *gen) {
	it := s.items[s.i]
	s.i++
	g.atk = it.atk
	it.fn(g, s.rng, it.t)
}

// schedule plans fn at t.
func (s *planSrc) schedule(t int64, atk int, fn func(g *gen, rng *rand.Rand, t int64)) {
	s.items = append(s.items, planItem{t: t, atk: atk, fn: fn})
}

func (s *planSrc) sort() {
	slices.SortStableFunc(s.items, func(a, b planItem) int {
		switch {
		case a.t < b.t:
			return -1
		case a.t > b.t:
			return 1
		}
		return 0
	})
}
