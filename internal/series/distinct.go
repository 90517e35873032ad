package series

import (
	"github.com/axiomhq/hyperloglog"

	"winnow/internal/stablehash"
)

// exactMax is how many distinct hashes Distinct keeps exactly before it
// switches to a HyperLogLog sketch.
const exactMax = 32

// Distinct counts distinct items in one bucket (e.g. the names a domain
// was queried with in one minute): exactly up to 32 items (256 bytes, no
// sketch), then with a HyperLogLog sketch (precision 14, ±0.8% standard
// error, sparse while small, at most 16 KB). Reset reuses the memory.
type Distinct struct {
	seed   uint64
	exact  []uint64
	sketch *hyperloglog.Sketch
	used   bool // the sketch holds this bucket's items
}

// NewDistinct returns an empty counter; counters sharing a seed hash
// alike, in any process (stablehash), so a counter restored from a
// snapshot goes on counting right.
func NewDistinct(seed uint64) *Distinct { return &Distinct{seed: seed} }

// AddString counts s.
func (d *Distinct) AddString(s string) { d.addHash(stablehash.Sum64(d.seed, s)) }

// AddBytes counts b.
func (d *Distinct) AddBytes(b []byte) { d.addHash(stablehash.Sum64(d.seed, b)) }

func (d *Distinct) addHash(h uint64) {
	if d.used {
		d.sketch.InsertHash(h)
		return
	}
	for _, x := range d.exact {
		if x == h {
			return
		}
	}
	if len(d.exact) < exactMax {
		d.exact = append(d.exact, h)
		return
	}
	if d.sketch == nil {
		d.sketch = hyperloglog.New14()
	}
	d.used = true
	for _, x := range d.exact {
		d.sketch.InsertHash(x)
	}
	d.sketch.InsertHash(h)
}

// Count estimates the number of distinct items added since Reset.
func (d *Distinct) Count() uint64 {
	if d.used {
		return d.sketch.Estimate()
	}
	return uint64(len(d.exact))
}

// Reset empties the counter.
func (d *Distinct) Reset() {
	d.exact = d.exact[:0]
	if d.used {
		d.sketch = nil // a dense sketch is 16 KB: let it go
		d.used = false
	}
}
