package web

import (
	"fmt"
	"strings"
	"time"

	"winnow/internal/detect"
	"winnow/internal/event"
)

// window counts events per minute over the last n minutes (n ≤ 16) and
// remembers the peak sum. Out-of-order events (older minutes) count in the
// current minute.
type window struct {
	cur   int64 // unix minute of buckets[head]
	b     [16]int32
	head  int
	sum   int32
	peak  int32
	peakT int64 // unix nanoseconds of the peak
}

func (w *window) add(t time.Time, n int, by int32) {
	m := t.Unix() / 60
	if w.cur == 0 {
		w.cur = m
	}
	for m > w.cur && w.sum > 0 {
		w.head = (w.head + 1) % n
		w.sum -= w.b[w.head]
		w.b[w.head] = 0
		w.cur++
	}
	if m > w.cur {
		w.cur = m
	}
	w.b[w.head] += by
	w.sum += by
	if w.sum > w.peak {
		w.peak = w.sum
		w.peakT = t.UnixNano()
	}
}

type loginState struct {
	attempts  int32 // login POSTs that failed or could not be told apart, and 401s
	posts     int32 // POSTs to login endpoints
	unauth    int32 // 401 answers
	forbidden int32 // 403 answers on login/admin endpoints
	successes int32 // a login POST answered with a redirect after failures
	win       window
	paths     counted[string]
	users     counted[string] // accounts tried with HTTP authentication
	okSample  event.Sample
}

type loginDetector struct {
	c      common
	burst  int
	total  int
	share  float64
	window int
	eps    *episodes[loginState]
	key    ipKey
	hot    hotSet
}

func loginSpec() detect.Spec {
	tech := []string{"T1110", "T1110.004"}
	return detect.Spec{
		Name:    "web.login_hammering",
		Summary: "a client hammers login or admin endpoints: bursts of 401/403 answers and of POSTs to login paths (password guessing, credential stuffing), worse when one finally succeeds",
		Key:     detect.KeySourceIP, Kinds: httpKinds, Actions: httpActions, Techniques: tech,
		Params: []detect.Param{
			gapParam("30m", "credential stuffing runs for hours at a slow pace; half an hour of silence ends it"),
			paramMaxEntities, paramSamples,
			{Name: "burst", Default: "20", Doc: "login attempts within window; a person mistypes a password 2–5 times, a browser's Basic-auth challenge costs one 401 per visit"},
			{Name: "window", Default: "10m", Doc: "the burst window (at most 16 minutes)"},
			{Name: "min_total", Default: "50", Doc: "attempts per episode that also make a finding when spread out (slow stuffing), if they are at least min_share of the client's requests"},
			{Name: "min_share", Default: "0.3", Doc: "share of a slow client's requests that are login attempts; a busy API client that re-authenticates now and then stays far below"},
		},
		New: func(p detect.Params) (detect.Detector, error) {
			c, err := readCommon(p)
			if err != nil {
				return nil, err
			}
			v, err := ints(p, "burst", "min_total")
			if err != nil {
				return nil, err
			}
			f, err := floats(p, "min_share")
			if err != nil {
				return nil, err
			}
			w, err := burstWindow(p)
			if err != nil {
				return nil, err
			}
			d := &loginDetector{c: c, burst: v[0], total: v[1], share: f[0], window: w}
			d.eps = newEpisodes(c, d.end)
			return d, nil
		},
	}
}

var _ detect.Detector = (*loginDetector)(nil)

func (d *loginDetector) Observe(ev *event.Event, emit detect.Emit) {
	h := ev.HTTP
	if h == nil || h.Invalid || !ev.SrcIP.IsValid() {
		return
	}
	d.key = keyOf(ev.SrcIP)
	st := h.Status
	var p string
	login, admin := false, false
	if h.Method == "POST" || st == 401 || st == 403 {
		p = lowerASCII(h.PathDecoded)
		login = loginPath(p)
		admin = adminPath(p)
	}
	attempt := st == 401 || st == 403 && (login || admin) || h.Method == "POST" && login && (st < 300 || st >= 400)
	success := h.Method == "POST" && login && st >= 300 && st < 400
	if !attempt && !success {
		if d.hot.maybe(&d.key) {
			if e := d.eps.get(d.key[:]); e != nil {
				e.requests++
			}
		}
		return
	}
	d.hot.add(&d.key)
	e := d.eps.touch(d.key[:], ev.Time, emit)
	e.requests++
	noteUser(e, ev)
	s := &e.v
	if h.Method == "POST" && login {
		s.posts++
	}
	if success {
		if s.attempts >= int32(d.burst) {
			s.successes++
			if s.okSample.Text == "" {
				s.okSample = sampleOf(ev)
			}
		}
		return
	}
	s.attempts++
	switch st {
	case 401:
		s.unauth++
		if ev.User != "" {
			s.users.Add(ev.User, 1, 1024)
		}
	case 403:
		s.forbidden++
	}
	s.win.add(ev.Time, d.window, 1)
	s.paths.Add(h.Path, 1, 64)
	e.smp.add(ev, d.c.samples)
}

func (d *loginDetector) Advance(t time.Time, emit detect.Emit) {
	d.eps.advance(t, emit)
	rebuildHot(&d.hot, d.eps)
}
func (d *loginDetector) Flush(emit detect.Emit) { d.eps.flush(emit) }
func (d *loginDetector) Stats() detect.Stats    { return d.eps.stats() }

func (d *loginDetector) end(key string, e *ep[loginState], emit detect.Emit) {
	s := &e.v
	n := int(s.attempts)
	share := float64(n) / float64(max(e.requests, 1))
	burst := int(s.win.peak) >= d.burst
	slow := n >= d.total && share >= d.share
	if !burst && !slow {
		return
	}
	ip := addrOf([]byte(key))
	a := finding("web.login_hammering", []string{"T1110"}, ip, e)
	a.Severity = event.SeverityMedium
	if int(s.win.peak) >= 10*d.burst || n >= 10*d.total {
		a.Severity = event.SeverityHigh
	}
	a.Score = max(strength(float64(s.win.peak), float64(d.burst)), strength(float64(n), float64(d.total)))
	users := top(&s.users, 10, ident)
	for _, u := range users {
		a.Related = append(a.Related, event.Entity{Type: event.EntityUser, Value: u.Key})
	}
	if s.users.Distinct() >= 5 {
		a.Techniques = append(a.Techniques, "T1110.003")
	} else if s.posts > 0 {
		a.Techniques = append(a.Techniques, "T1110.004")
	}
	paths := names(top(&s.paths, 5, ident))
	a.Evidence = map[string]any{
		"requests":         e.requests,
		"attempts":         n,
		"login_posts":      s.posts,
		"answers_401":      s.unauth,
		"answers_403":      s.forbidden,
		"peak_in_window":   s.win.peak,
		"window_minutes":   d.window,
		"burst":            d.burst,
		"min_total":        d.total,
		"attempt_share":    round3(share),
		"paths":            paths,
		"accounts_tried":   s.users.Distinct(),
		"duration_minutes": round2(minutes(e.start, e.last)),
		"successes_after":  s.successes,
	}
	if len(users) > 0 {
		a.Evidence["top_accounts"] = users
	}
	how := fmt.Sprintf("peak %d in %d minutes (burst threshold %d)", s.win.peak, d.window, d.burst)
	if !burst {
		how = fmt.Sprintf("%.0f%% of its requests (slow: thresholds %d attempts and %.0f%%)", 100*share, d.total, 100*d.share)
	}
	a.Description = fmt.Sprintf("%s made %d failed login attempts on %s in %s, %s",
		a.Entity.Value, n, strings.Join(first(paths, 3), ", "), span(e), how)
	if s.users.Distinct() > 1 {
		a.Description += fmt.Sprintf("; %d accounts tried", s.users.Distinct())
	}
	if s.successes > 0 {
		a.Severity = event.SeverityHigh
		a.Score = max(a.Score, 0.85)
		a.Description += fmt.Sprintf("; then a login was answered with a redirect (%d times): a likely successful guess", s.successes)
		a.Samples = append([]event.Sample{s.okSample}, a.Samples...)
	}
	emit(a)
}
