// Package generate writes synthetic but realistic security logs with known
// attacks embedded, for demos, tests and benchmarks.
//
// Auth simulates a fleet (fleet.go) for a day: people log in on their
// habitual hosts from their habitual addresses at their usual hours, admins
// run sudo, service accounts deploy and back up, cron runs every ten
// minutes, and the Internet knocks on the public hosts. Six attacks are
// embedded and returned as ground truth.
//
// Generation streams: every source of records (a person, a host's cron, a
// public host's Internet noise, the flood, the planned attacks) produces
// "episodes" (a session, a cron run, one scanner's visit, one attack
// connection) in start-time order. An episode's records all carry times at
// or after its start, so a record in the pending heap can be written as
// soon as no source has an episode starting before it. Memory is bounded by
// the records of episodes in progress, not by the length of the output.
package generate

import (
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"time"
)

// AuthConfig configures Auth.
type AuthConfig struct {
	Seed int64
	// Lines is the approximate total number of lines (flood lines not
	// included). 0 means a natural day for the fleet. Larger values scale
	// the background (Internet noise, sessions, cron); attacks stay the
	// same. Values below the natural day shrink Internet noise first, then
	// sessions; cron and attacks are kept.
	Lines int
	// FloodIPs adds this many failed logins for invalid users, each from a
	// distinct public address, evenly spread over the duration. They are
	// generated lazily, so any number fits in constant memory.
	FloodIPs int
	Start    time.Time     // first timestamp; its Location is the log's zone
	Duration time.Duration // length of the log
	Hosts    int
	Users    int
	// Hard adds the attacks simple thresholds miss (see planHard): a fast
	// brute force spread over ten names, low-and-slow guessing, credential
	// stuffing from many addresses at a few tries each.
	Hard bool
	// SlowSources is the number of low-and-slow sources with Hard (default 3).
	SlowSources int
}

// DefaultAuthConfig returns a day for five hosts and twelve people.
func DefaultAuthConfig() AuthConfig {
	return AuthConfig{
		Seed:     1,
		Start:    time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC),
		Duration: 24 * time.Hour,
		Hosts:    5,
		Users:    12,
	}
}

// Attack is one embedded attack of the ground truth.
type Attack struct {
	Name      string   // short, e.g. "fast-brute-force"
	SourceIPs []string // addresses the attack comes from
	Users     []string // accounts targeted or involved
	Rules     []string // detector rules expected to fire
}

// Truth is what Auth embedded.
type Truth struct {
	Lines   int // lines written
	Attacks []Attack
}

// minDuration is the shortest log the attack plan fits in.
const minDuration = time.Hour

// maxFloodIPs keeps the flood's address counter clear of the noise's.
const maxFloodIPs = 1 << 30

// Auth writes an RFC 3164 auth.log ("Nov 21 00:00:07 bastion sshd[1234]:
// msg") with lines in non-decreasing time order, and returns the ground
// truth. Output is deterministic for a configuration. Auth writes in
// chunks of about 64 KiB; wrap w in a bufio.Writer only to batch further.
func Auth(w io.Writer, cfg AuthConfig) (Truth, error) {
	t, _, err := auth(w, cfg)
	return t, err
}

// auth is Auth with the generator's statistics, for tests.
func auth(w io.Writer, cfg AuthConfig) (Truth, stats, error) {
	cfg, err := normalize(cfg)
	if err != nil {
		return Truth{}, stats{}, err
	}
	sc := scales{noise: 1, sessions: 1, cronJobs: 1}
	if cfg.Lines > 0 {
		sc = fitScales(cfg)
	}
	g := newGen(cfg, sc, w, true)
	err = g.run()
	g.truth.Lines = g.st.written
	return g.truth, g.st, err
}

func normalize(cfg AuthConfig) (AuthConfig, error) {
	d := DefaultAuthConfig()
	if cfg.Start.IsZero() {
		cfg.Start = d.Start
	}
	if cfg.Duration == 0 {
		cfg.Duration = d.Duration
	}
	if cfg.Hosts == 0 {
		cfg.Hosts = d.Hosts
	}
	if cfg.Users == 0 {
		cfg.Users = d.Users
	}
	switch {
	case cfg.Duration < minDuration:
		return cfg, fmt.Errorf("cannot generate auth log: duration %v is shorter than %v", cfg.Duration, minDuration)
	case cfg.Lines < 0 || cfg.FloodIPs < 0 || cfg.Hosts < 0 || cfg.Users < 0:
		return cfg, errors.New("cannot generate auth log: negative Lines, FloodIPs, Hosts or Users")
	case cfg.FloodIPs > maxFloodIPs:
		return cfg, fmt.Errorf("cannot generate auth log: more than %d flood addresses", maxFloodIPs)
	case cfg.Hosts > 100000 || cfg.Users > 1000000:
		return cfg, fmt.Errorf("cannot generate auth log: %d hosts and %d users is too many", cfg.Hosts, cfg.Users)
	}
	return cfg, nil
}

// category is what part of the simulation a record belongs to.
type category uint8

const (
	catSession category = iota // people and service accounts
	catCron
	catNoise
	catFlood
	catAttack
	catMisc // sshd restarts
	nCat
)

// stats counts what the generator produced. Lines are counted when planned
// (records past the end are dropped and not counted).
type stats struct {
	lines          [nCat]int
	failures       [nCat]int // login failures (Failed lines, repeats counted N times)
	attackLines    [nAttacks]int
	attackFailures [nAttacks]int
	noiseVisits    int
	sessions       int
	written        int // lines written (0 in a dry run)
	maxPending     int // most records waiting in the merge heap
}

func (s *stats) total() int {
	n := 0
	for _, x := range s.lines {
		n += x
	}
	return n
}

// scales size the background relative to the natural day.
type scales struct {
	noise    float64 // multiplies the rate of Internet noise visits
	sessions float64 // multiplies every account's session rate
	cronJobs int     // */10 jobs per host
}

// Shares of extra lines given to sessions and cron when Lines exceeds the
// natural day; Internet noise takes the rest.
const (
	shareSessions = 0.10
	shareCron     = 0.05
)

// fitScales chooses scales so that the total approaches cfg.Lines. A dry
// run (counting, not formatting) with enough noise visits and sessions to
// average over measures the lines per visit and per session; the natural
// day's expected visits and sessions are known from the rates.
func fitScales(cfg AuthConfig) scales {
	probe := newGen(cfg, scales{noise: 1, sessions: 1, cronJobs: 1}, nil, false)
	expVisits, expSessions := probe.expectedVisits(), probe.expectedSessions()
	dsc := scales{noise: max(1, 20000/expVisits), sessions: max(1, 3000/expSessions), cronJobs: 1}
	dry := newGen(cfg, dsc, nil, false)
	dry.run()
	st := &dry.st
	perVisit := float64(st.lines[catNoise]) / max(1, float64(st.noiseVisits))
	perSession := float64(st.lines[catSession]) / max(1, float64(st.sessions))
	noise, sess := perVisit*expVisits, perSession*expSessions // natural day
	cron := float64(st.lines[catCron])
	natural := noise + sess + cron + float64(st.lines[catAttack]+st.lines[catMisc])

	sc := scales{noise: 1, sessions: 1, cronJobs: 1}
	extra := float64(cfg.Lines) - natural
	if extra >= 0 {
		// one more */10 job on every host: two lines per run
		perJob := float64(cfg.Hosts) * 2 * cfg.Duration.Seconds() / 600
		jobs := math.Floor(shareCron * extra / perJob)
		extra -= jobs * perJob
		sc.cronJobs += int(jobs)
		if sess > 0 {
			add := shareSessions * extra
			sc.sessions += add / sess
			extra -= add
		}
		if noise > 0 {
			sc.noise += extra / noise
		}
		return sc
	}
	// Below the natural day: shrink noise, then sessions, then drop the
	// */10 cron jobs (the hourly run stays). Attacks are kept.
	cut := -extra
	if noise > 0 {
		c := min(cut, noise)
		sc.noise -= c / noise
		cut -= c
	}
	if sess > 0 && cut > 0 {
		c := min(cut, 0.9*sess)
		sc.sessions -= c / sess
		cut -= c
	}
	if cut > 0 {
		sc.cronJobs = 0
	}
	return sc
}

// expectedVisits is the mean number of Internet noise visits at scale 1.
func (g *gen) expectedVisits() float64 {
	return noisePerDay * float64(len(g.f.public)) * float64(g.end-g.start) / 86400
}

// expectedSessions is the mean number of sessions at scale 1.
func (g *gen) expectedSessions() float64 {
	sum := 0.0
	for slot := g.start - mod(g.start, 3600); slot < g.end; slot += 3600 {
		frac := float64(min(slot+3600, g.end)-max(slot, g.start)) / 3600
		hod := g.hourOf(slot)
		for i := range g.f.users {
			sum += g.f.users[i].rate[hod] * frac
		}
	}
	return sum
}

// item is the heap entry of a pending record (kept small: the record
// itself waits in the slab); seq keeps the planned order of records with
// equal times (a Failed line before its "message repeated").
type item struct {
	t   int64
	seq uint64
	idx uint32 // index into gen.slab
}

func (a *item) before(b *item) bool {
	return a.t < b.t || a.t == b.t && a.seq < b.seq
}

// source produces episodes in start-time order.
type source interface {
	// at returns the start of the next episode, math.MaxInt64 when done.
	at(g *gen) int64
	// run plans the next episode: records at or after its start.
	run(g *gen)
}

type srcEntry struct {
	at  int64
	id  int
	cat category
	s   source
}

func (a *srcEntry) before(b *srcEntry) bool {
	return a.at < b.at || a.at == b.at && a.id < b.id
}

// gen is one generation run.
type gen struct {
	f          *fleet
	loc        *time.Location
	start, end int64 // unix seconds, end exclusive
	zoneOff    int64 // offset of the zone at start, seconds

	w     io.Writer // nil: dry run (count only)
	buf   []byte
	err   error
	pend  []item // min-heap of pending records
	slab  []rec  // pending records
	free  []uint32
	seq   uint64
	srcs  []srcEntry
	cat   category
	atk   int // attack of the running episode, -1 if none
	st    stats
	truth Truth

	lastT  int64
	stampT int64
	stamp  []byte

	noiseIPs ipAlloc

	hard bool // plan the hard attacks (AuthConfig.Hard)
	slow int  // low-and-slow sources
}

// Streams of the PCG generator: one per purpose, so that the fleet and the
// attacks do not change when the background is scaled.
const (
	streamFleet = 1 + iota
	streamPlan
	streamFlood
	streamMisc
	streamPerson = 1 << 32
	streamCron   = 2 << 32
	streamNoise  = 3 << 32
)

func newRand(seed int64, stream uint64) *rand.Rand {
	return rand.New(rand.NewPCG(uint64(seed), stream*0x9E3779B97F4A7C15+0x632BE59BD9B4E019))
}

func newGen(cfg AuthConfig, sc scales, w io.Writer, flood bool) *gen {
	g := &gen{
		loc:    cfg.Start.Location(),
		start:  cfg.Start.Unix(),
		w:      w,
		atk:    -1,
		stampT: math.MinInt64,
		lastT:  math.MinInt64,
	}
	g.end = g.start + int64(cfg.Duration/time.Second)
	_, off := cfg.Start.Zone()
	g.zoneOff = int64(off)
	if w != nil {
		g.buf = make([]byte, 0, 72<<10)
		g.stamp = make([]byte, 0, 16)
	}
	frng := newRand(cfg.Seed, streamFleet)
	g.f = newFleet(frng, cfg.Hosts, cfg.Users)
	g.hard, g.slow = cfg.Hard, cfg.SlowSources
	g.f.noise = g.f.invalidNames(4 * len(dictionary))
	add := uint32(frng.Uint64())
	g.noiseIPs = ipAlloc{next: 0, add: add}

	prng := newRand(cfg.Seed, streamPlan)
	plan := g.planAttacks(prng)
	g.addSource(plan, catAttack)
	g.addSource(g.planMisc(newRand(cfg.Seed, streamMisc)), catMisc)
	for i := range g.f.users {
		s := &personSrc{u: int32(i), rng: newRand(cfg.Seed, streamPerson+uint64(i)), scale: sc.sessions}
		s.slot = g.start - mod(g.start, 3600)
		g.addSource(s, catSession)
	}
	for h := range g.f.hosts {
		g.addSource(newCronSrc(g, int32(h), sc.cronJobs, newRand(cfg.Seed, streamCron+uint64(h))), catCron)
	}
	for _, h := range g.f.public {
		s := &noiseSrc{h: h, rng: newRand(cfg.Seed, streamNoise+uint64(h)), next: math.MaxInt64}
		if perSec := noisePerDay / 86400.0 * sc.noise; perSec > 0 {
			s.mean = 1 / perSec
			s.acc = float64(g.start) + s.rng.ExpFloat64()*s.mean
			s.next = int64(s.acc)
		}
		g.addSource(s, catNoise)
	}
	if flood && cfg.FloodIPs > 0 {
		g.addSource(&floodSrc{
			n:     int64(cfg.FloodIPs),
			rng:   newRand(cfg.Seed, streamFlood),
			alloc: ipAlloc{next: 1 << 31, add: add},
		}, catFlood)
	}
	return g
}

func mod(a, m int64) int64 {
	r := a % m
	if r < 0 {
		r += m
	}
	return r
}

func (g *gen) addSource(s source, c category) {
	at := s.at(g)
	if at == math.MaxInt64 {
		return
	}
	g.srcs = append(g.srcs, srcEntry{at: at, id: len(g.srcs), cat: c, s: s})
	siftUp(g.srcs, len(g.srcs)-1)
}

// run drives the sources and writes records in time order.
func (g *gen) run() error {
	for {
		next := int64(math.MaxInt64)
		if len(g.srcs) > 0 {
			next = g.srcs[0].at
		}
		if len(g.pend) > 0 && g.pend[0].t <= next {
			idx := g.pend[0].idx
			g.write(&g.slab[idx])
			g.free = append(g.free, idx)
			popItem(&g.pend)
			if g.err != nil {
				return g.err
			}
			continue
		}
		if len(g.srcs) == 0 {
			break
		}
		e := &g.srcs[0]
		g.cat = e.cat
		e.s.run(g)
		g.atk = -1
		e.at = e.s.at(g)
		if e.at == math.MaxInt64 {
			n := len(g.srcs) - 1
			g.srcs[0] = g.srcs[n]
			g.srcs = g.srcs[:n]
		}
		if len(g.srcs) > 0 {
			siftDown(g.srcs, 0)
		}
	}
	if g.w != nil && len(g.buf) > 0 && g.err == nil {
		_, g.err = g.w.Write(g.buf)
		g.buf = g.buf[:0]
	}
	return g.err
}

// add plans a record of the running episode. Records at or after the end
// are dropped (sessions still open when the log ends).
func (g *gen) add(r rec) {
	if r.t >= g.end {
		return
	}
	g.st.lines[g.cat]++
	fails := 0
	switch r.k {
	case kFailed, kFailedInvalid:
		fails = 1
	case kRepeated, kRepeatedInvalid:
		fails = int(r.n)
	}
	g.st.failures[g.cat] += fails
	if g.atk >= 0 {
		g.st.attackLines[g.atk]++
		g.st.attackFailures[g.atk] += fails
	}
	if g.w == nil {
		return
	}
	var idx uint32
	if n := len(g.free); n > 0 {
		idx = g.free[n-1]
		g.free = g.free[:n-1]
		g.slab[idx] = r
	} else {
		idx = uint32(len(g.slab))
		g.slab = append(g.slab, r)
	}
	g.pend = append(g.pend, item{t: r.t, seq: g.seq, idx: idx})
	g.seq++
	g.st.maxPending = max(g.st.maxPending, len(g.pend))
	siftUpItem(g.pend, len(g.pend)-1)
}

const flushAt = 64 << 10

var monthAbbr = [12]string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}

// write formats one line into the buffer.
func (g *gen) write(r *rec) {
	if r.t < g.lastT {
		panic("generate: records out of time order") // broken invariant of the sources
	}
	g.lastT = r.t
	if r.t != g.stampT {
		g.setStamp(r.t)
	}
	b := append(g.buf, g.stamp...)
	b = append(b, g.f.hosts[r.host].name...)
	b = append(b, ' ')
	prog, withPID := progOf(r.k)
	b = append(b, prog...)
	if withPID {
		b = append(b, '[')
		b = appendUint(b, uint32(r.pid))
		b = append(b, ']')
	}
	b = append(b, ": "...)
	b = appendRec(b, r)
	b = append(b, '\n')
	g.st.written++
	if len(b) >= flushAt {
		_, g.err = g.w.Write(b)
		b = b[:0]
	}
	g.buf = b
}

// setStamp formats "Mmm dd hh:mm:ss " for t, day padded with a space.
func (g *gen) setStamp(t int64) {
	g.stampT = t
	tm := time.Unix(t, 0).In(g.loc)
	_, mo, d := tm.Date()
	hh, mm, ss := tm.Clock()
	s := append(g.stamp[:0], monthAbbr[mo-1]...)
	s = append(s, ' ')
	if d < 10 {
		s = append(s, ' ', byte('0'+d))
	} else {
		s = append(s, byte('0'+d/10), byte('0'+d%10))
	}
	s = append(s, ' ', byte('0'+hh/10), byte('0'+hh%10), ':', byte('0'+mm/10), byte('0'+mm%10), ':', byte('0'+ss/10), byte('0'+ss%10), ' ')
	g.stamp = s
}

func appendUint(b []byte, v uint32) []byte {
	var tmp [10]byte
	i := len(tmp)
	for {
		i--
		tmp[i] = byte('0' + v%10)
		v /= 10
		if v == 0 {
			break
		}
	}
	return append(b, tmp[i:]...)
}

// hourOf returns the local hour of day of t.
func (g *gen) hourOf(t int64) int {
	return time.Unix(t, 0).In(g.loc).Hour()
}

// pid hands out the next process id on host h.
func (g *gen) pid(h int32, rng *rand.Rand) int32 {
	hp := &g.f.hosts[h]
	hp.pid += 1 + int32(rng.IntN(24))
	if hp.pid > 4194000 {
		hp.pid = 1000 + int32(rng.IntN(1000))
	}
	return hp.pid
}

// session hands out the next logind session number on host h.
func (g *gen) session(h int32) int32 {
	hp := &g.f.hosts[h]
	hp.session++
	return hp.session
}

// Heaps (hand-written: no interface calls on the hot path).

func siftUpItem(h []item, i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !h[i].before(&h[p]) {
			return
		}
		h[i], h[p] = h[p], h[i]
		i = p
	}
}

func popItem(hp *[]item) {
	h := *hp
	n := len(h) - 1
	h[0] = h[n]
	h = h[:n]
	*hp = h
	i := 0
	for {
		l := 2*i + 1
		if l >= n {
			return
		}
		m := l
		if r := l + 1; r < n && h[r].before(&h[l]) {
			m = r
		}
		if !h[m].before(&h[i]) {
			return
		}
		h[i], h[m] = h[m], h[i]
		i = m
	}
}

func siftUp(h []srcEntry, i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !h[i].before(&h[p]) {
			return
		}
		h[i], h[p] = h[p], h[i]
		i = p
	}
}

func siftDown(h []srcEntry, i int) {
	n := len(h)
	for {
		l := 2*i + 1
		if l >= n {
			return
		}
		m := l
		if r := l + 1; r < n && h[r].before(&h[l]) {
			m = r
		}
		if !h[m].before(&h[i]) {
			return
		}
		h[i], h[m] = h[m], h[i]
		i = m
	}
}
