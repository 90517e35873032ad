package auth

import (
	"fmt"
	"math"
	"time"

	"winnow/internal/detect"
	"winnow/internal/state/codec"
)

// baseline learns what is usual on this server for a count per episode
// (failed attempts per source, invalid names per source) and draws the bar
// above which an episode stands out: factor × the q-quantile of the
// episodes seen, never below the rule's floor. Internet background on a
// quiet server is one to five tries per address, so its bar stays at the
// floor and a 17-try burst or 12 slow guesses stand out; on a server that
// hundreds of bots hammer with 30–50 tries each, those are its usual and
// only what exceeds them is an incident (the rest stays visible at low).
//
// Each shard learns from its own share of the sources (hash-random, so an
// estimate of the server's whole mix). Old episodes fade with a half-life
// in event time. The bar is recomputed at each watermark (Refresh), not
// per episode, so the episodes judged in one Advance or Flush share it and
// the result does not depend on the order they close in.
type baseline struct {
	bins  [baselineBins]float64
	total float64
	last  int64 // event time of the last decay, unix ns
	bar   float64
	// restored counts the snapshot blobs merged in (see UnmarshalState).
	restored int

	q        float64       // quantile
	factor   float64       // bar = factor × quantile
	floor    float64       // the bar is never below this
	cold     float64       // the bar until trusted
	trust    float64       // episodes (decayed weight) before the learned bar is used
	halfLife time.Duration // fading of old episodes
}

// Bins: the values 1…32 exactly, then powers of two up to 2^36.
const (
	exactBins    = 32
	baselineBins = exactBins + 32
)

func binOf(v int64) int {
	if v <= 0 {
		return 0
	}
	if v <= exactBins {
		return int(v - 1)
	}
	// 33…64 is bin 32, 65…128 bin 33, …
	b := exactBins + int(math.Ceil(math.Log2(float64(v)))) - 6
	return min(b, baselineBins-1)
}

// upper is the largest value of bin b.
func upper(b int) float64 {
	if b < exactBins {
		return float64(b + 1)
	}
	return math.Exp2(float64(b - exactBins + 6))
}

// baselineParams are the parameters every learned bar reads.
func baselineParams(what string) []detect.Param {
	return []detect.Param{
		{Name: "baseline_quantile", Default: "0.95", Doc: "the bar is learned from this quantile of " + what + " over the server's episodes"},
		{Name: "baseline_factor", Default: "2", Doc: "an episode stands out (medium) at this times the quantile; below it, at or above the floor, it is reported low"},
		{Name: "baseline_min", Default: "50", Doc: "episodes seen before the learned bar is trusted; until then the bar is twice the floor"},
		{Name: "baseline_half_life", Default: "168h", Doc: "older episodes weigh half after this much event time (a week)"},
	}
}

func readBaseline(p detect.Params, floor int) (*baseline, error) {
	q, err := p.Float("baseline_quantile")
	if err != nil {
		return nil, err
	}
	f, err := p.Float("baseline_factor")
	if err != nil {
		return nil, err
	}
	n, err := p.PositiveInt("baseline_min")
	if err != nil {
		return nil, err
	}
	hl, err := p.PositiveDuration("baseline_half_life")
	if err != nil {
		return nil, err
	}
	if q <= 0 || q >= 1 {
		return nil, errParam("baseline_quantile must be in (0, 1)")
	}
	if f < 1 {
		return nil, errParam("baseline_factor must be at least 1")
	}
	b := &baseline{q: q, factor: f, floor: float64(floor), cold: 2 * float64(floor), trust: float64(n), halfLife: hl}
	b.bar = b.cold
	return b, nil
}

// add learns one episode's count at event time t (unix ns).
func (b *baseline) add(v int64, t int64) {
	if v <= 0 {
		return
	}
	if b.last == 0 {
		b.last = t
	}
	if dt := t - b.last; dt > int64(time.Minute) {
		k := math.Exp2(-float64(dt) / float64(b.halfLife))
		for i := range b.bins {
			b.bins[i] *= k
		}
		b.total *= k
		b.last = t
	}
	b.bins[binOf(v)]++
	b.total++
}

// refresh recomputes the bar from what was learned.
func (b *baseline) refresh() {
	if b.total < b.trust {
		b.bar = b.cold
		return
	}
	need, acc := b.q*b.total, 0.0
	qv := upper(baselineBins - 1)
	for i, c := range b.bins {
		acc += c
		if acc >= need {
			qv = upper(i)
			break
		}
	}
	b.bar = ladder(b.floor, b.factor*qv)
}

// ladder rounds v up to the floor times a power of √2 (10, 14, 20, 28,
// 40, …): a bar that moves in steps, not with every episode, reads better
// and depends less on which share of the sources a shard saw.
func ladder(floor, v float64) float64 {
	if v <= floor || floor <= 0 {
		return floor
	}
	k := math.Ceil(2 * math.Log2(v/floor))
	return math.Round(floor * math.Exp2(k/2))
}

// learned reports whether the bar comes from the server's episodes.
func (b *baseline) learned() bool { return b.total >= b.trust }

// describe says where the bar comes from, for evidence and descriptions.
func (b *baseline) describe() string {
	if !b.learned() {
		return fmt.Sprintf("%.0f until the server's usual is learned", b.bar)
	}
	return fmt.Sprintf("%.0f, %g× this server's %g%% quantile", b.bar, b.factor, 100*b.q)
}

// MarshalState writes the learned histogram and the current bar (shard
// state: a baseline is learned over a shard's share of the sources).
func (b *baseline) MarshalState(e *codec.Enc) {
	n := 0
	for _, c := range b.bins {
		if c != 0 {
			n++
		}
	}
	e.Uvarint(uint64(n))
	for i, c := range b.bins {
		if c != 0 {
			e.Uvarint(uint64(i))
			e.Float64(c)
		}
	}
	e.Float64(b.total)
	e.Varint(b.last)
	e.Float64(b.bar)
}

// UnmarshalState reads a baseline and merges it into b: the blobs of
// several former shards add up (each learned a share of the sources); the
// bar is kept from a single blob, recomputed from a merge.
func (b *baseline) UnmarshalState(d *codec.Dec) error {
	n := d.Len(2)
	var bins [baselineBins]float64
	for i := 0; i < n && d.Err() == nil; i++ {
		k := d.Uvarint()
		c := d.Float64()
		if k >= baselineBins || c < 0 || math.IsNaN(c) {
			d.Fail("baseline bin %d = %g", k, c)
			break
		}
		bins[k] = c
	}
	total, last, bar := d.Float64(), d.Varint(), d.Float64()
	if err := d.Err(); err != nil {
		return err
	}
	if total < 0 || math.IsNaN(total) || bar < 0 || math.IsNaN(bar) {
		return fmt.Errorf("baseline total %g bar %g", total, bar)
	}
	for i := range bins {
		b.bins[i] += bins[i]
	}
	b.total += total
	b.last = max(b.last, last)
	b.restored++
	if b.restored == 1 {
		b.bar = bar
	} else {
		b.refresh()
	}
	return nil
}

// configure takes the parameters of t (after a restore, which brings
// only the learned state).
func (b *baseline) configure(t *baseline) {
	b.q, b.factor, b.floor, b.cold, b.trust, b.halfLife = t.q, t.factor, t.floor, t.cold, t.trust, t.halfLife
	if b.total == 0 && b.bar == 0 {
		b.bar = b.cold
	}
}
