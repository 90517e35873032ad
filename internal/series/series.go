// Package series keeps per-entity time series in memory at several
// resolutions: each resolution is a ring of Steps buckets of width Step
// (e.g. 1 minute × 2880 steps = two days, 30 minutes × 4032 steps = twelve
// weeks), so a series' memory is fixed no matter how long it lives or how
// fast events come. Buckets hold sums (counts of events, bytes, ...);
// Distinct counts distinct items per bucket, exactly for the first few
// and with a HyperLogLog sketch beyond.
//
// Time is event time. Adding to a bucket older than a ring holds is
// refused and counted (Late); a gap of idle steps is zero-filled in O(1)
// per step up to the ring's length.
//
// Nothing here is safe for concurrent use: a series belongs to one shard.
package series

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Resolution is a bucket width and how many buckets a ring keeps.
type Resolution struct {
	Step  time.Duration
	Steps int
}

func (r Resolution) String() string { return fmt.Sprintf("%s×%d", fmtDur(r.Step), r.Steps) }

// Span is how much time the ring covers.
func (r Resolution) Span() time.Duration { return r.Step * time.Duration(r.Steps) }

func fmtDur(d time.Duration) string {
	s := d.String()
	s = strings.TrimSuffix(s, "0s")
	s = strings.TrimSuffix(s, "0m")
	return s
}

// DefaultResolutions are the seeds' two: a minute for two days and half
// an hour for twelve weeks.
func DefaultResolutions() []Resolution {
	return []Resolution{{time.Minute, 2880}, {30 * time.Minute, 4032}}
}

// ParseResolutions parses "1m:2880,30m:4032".
func ParseResolutions(s string) ([]Resolution, error) {
	var out []Resolution
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		step, steps, ok := strings.Cut(part, ":")
		if !ok {
			return nil, fmt.Errorf("resolution %q: want STEP:STEPS, e.g. 1m:2880", part)
		}
		d, err := time.ParseDuration(step)
		if err != nil || d <= 0 {
			return nil, fmt.Errorf("resolution %q: bad step", part)
		}
		n, err := strconv.Atoi(steps)
		if err != nil || n < 1 || n > 1<<22 {
			return nil, fmt.Errorf("resolution %q: steps must be 1..4194304", part)
		}
		out = append(out, Resolution{d, n})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no resolutions in %q", s)
	}
	return out, nil
}

// Ring is one resolution of a series: the sums of the last Steps buckets.
// Values are float32 (exact for counts up to 2^24 per bucket) to halve the
// memory: 4·Steps bytes plus a small header.
type Ring struct {
	res  Resolution
	step int64 // nanoseconds
	vals []float32
	last int64 // bucket index (time/step) of the newest bucket; valid when n > 0
	n    int   // buckets in use (≤ Steps)
	Late int64 // additions refused because their bucket had left the ring
}

// NewRing returns an empty ring.
func NewRing(r Resolution) *Ring {
	return &Ring{res: r, step: int64(r.Step), vals: make([]float32, r.Steps)}
}

// Resolution returns the ring's resolution.
func (r *Ring) Resolution() Resolution { return r.res }

func (r *Ring) bucket(t time.Time) int64 {
	ns := t.UnixNano()
	b := ns / r.step
	if ns < 0 && ns%r.step != 0 {
		b--
	}
	return b
}

func (r *Ring) slot(b int64) int {
	s := int(b % int64(len(r.vals)))
	if s < 0 {
		s += len(r.vals)
	}
	return s
}

// Add adds v to the bucket holding t.
func (r *Ring) Add(t time.Time, v float64) {
	b := r.bucket(t)
	switch {
	case r.n == 0:
		r.last, r.n = b, 1
		r.vals[r.slot(b)] = 0
	case b > r.last:
		gap := b - r.last
		if gap >= int64(len(r.vals)) {
			clear(r.vals)
			r.n = len(r.vals)
		} else {
			for k := r.last + 1; k <= b; k++ {
				r.vals[r.slot(k)] = 0
			}
			r.n = min(len(r.vals), r.n+int(gap))
		}
		r.last = b
	case b <= r.last-int64(len(r.vals)):
		r.Late++
		return
	}
	r.vals[r.slot(b)] += float32(v)
}

// Len is the number of buckets the ring holds (idle buckets included).
func (r *Ring) Len() int { return r.n }

// Points appends the ring's buckets, oldest first, as (bucket start,
// value) to ts and vs.
func (r *Ring) Points(ts []time.Time, vs []float64) ([]time.Time, []float64) {
	for k := r.last - int64(r.n) + 1; k <= r.last; k++ {
		ts = append(ts, time.Unix(0, k*r.step).UTC())
		vs = append(vs, float64(r.vals[r.slot(k)]))
	}
	return ts, vs
}

// Last returns the newest bucket's start and value.
func (r *Ring) Last() (time.Time, float64, bool) {
	if r.n == 0 {
		return time.Time{}, 0, false
	}
	return time.Unix(0, r.last*r.step).UTC(), float64(r.vals[r.slot(r.last)]), true
}

// Bytes is the ring's memory footprint.
func (r *Ring) Bytes() int { return 4*len(r.vals) + 64 }

// Series is one entity's metric at several resolutions.
type Series struct {
	Rings []*Ring
}

// New returns a series with a ring per resolution.
func New(res []Resolution) *Series {
	s := &Series{}
	for _, r := range res {
		s.Rings = append(s.Rings, NewRing(r))
	}
	return s
}

// Add adds v at t to every resolution.
func (s *Series) Add(t time.Time, v float64) {
	for _, r := range s.Rings {
		r.Add(t, v)
	}
}

// Bytes is the series' memory footprint.
func (s *Series) Bytes() int {
	n := 24
	for _, r := range s.Rings {
		n += r.Bytes() + 8
	}
	return n
}
