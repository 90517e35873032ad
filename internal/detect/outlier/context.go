package outlier

import (
	"math"
	"time"
)

// envelope remembers, per hour of day, the smallest and largest value of
// each of the last envDays days, and says whether a point lies within what
// the same hours (±1) of the previous days spanned: a seasonal pattern
// (a daily batch job's spike, a business-hours plateau) explains points
// that local detectors find surprising. The envelope of every hour is
// computed once per day (previous days do not change), so explain is O(1).
//
// Memory: envDays·24·(2 floats + 1 flag) + 24·(2 floats + 1 int) ≈ 3.2 KB.
type envelope struct {
	day    [envDays]int64
	lo, hi [envDays][24]float64
	has    [envDays][24]bool

	cacheDay int64
	cached   bool
	cLo, cHi [24]float64
	cDays    [24]int8
}

const envDays = 7

func dayHour(t time.Time) (int64, int) {
	u := t.Unix()
	d := u / 86400
	if u < 0 && u%86400 != 0 {
		d--
	}
	return d, int((u - d*86400) / 3600)
}

func ringRow(day int64) int { return int(((day % envDays) + envDays) % envDays) }

// explain returns the envelope [lo, hi] of the hours h−1..h+1 on the
// previous days and how many of those days had data there.
func (e *envelope) explain(t time.Time) (lo, hi float64, days int) {
	day, h := dayHour(t)
	if !e.cached || e.cacheDay != day {
		e.rebuild(day)
	}
	return e.cLo[h], e.cHi[h], int(e.cDays[h])
}

func (e *envelope) rebuild(day int64) {
	e.cacheDay, e.cached = day, true
	for h := 0; h < 24; h++ {
		lo, hi := math.Inf(1), math.Inf(-1)
		days := 0
		for back := int64(1); back < envDays; back++ {
			d := day - back
			r := ringRow(d)
			if e.day[r] != d {
				continue
			}
			seen := false
			for dh := -1; dh <= 1; dh++ {
				hh := (h + dh + 24) % 24
				if e.has[r][hh] {
					lo = min(lo, e.lo[r][hh])
					hi = max(hi, e.hi[r][hh])
					seen = true
				}
			}
			if seen {
				days++
			}
		}
		e.cLo[h], e.cHi[h], e.cDays[h] = lo, hi, int8(days)
	}
}

func (e *envelope) observe(t time.Time, x float64) {
	day, h := dayHour(t)
	r := ringRow(day)
	if e.day[r] != day {
		e.day[r] = day
		e.has[r] = [24]bool{}
	}
	if !e.has[r][h] {
		e.has[r][h] = true
		e.lo[r][h], e.hi[r][h] = x, x
		return
	}
	e.lo[r][h] = min(e.lo[r][h], x)
	e.hi[r][h] = max(e.hi[r][h], x)
}
