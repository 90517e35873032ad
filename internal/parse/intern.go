package parse

// Interner turns byte slices into strings without allocating for values it
// has seen, up to a cap; past the cap it allocates (and counts). Attackers
// control usernames, so the cap bounds memory. Not safe for concurrent use:
// one per parser.
type Interner struct {
	m      map[string]string
	max    int
	Missed int64 // strings allocated because the table was full
}

// DefaultInternCap bounds an Interner's table.
const DefaultInternCap = 1 << 16

// NewInterner returns an Interner holding at most max strings (0 means
// DefaultInternCap).
func NewInterner(max int) *Interner {
	if max <= 0 {
		max = DefaultInternCap
	}
	return &Interner{m: make(map[string]string, 256), max: max}
}

// String returns b as a string, shared with earlier calls for equal bytes.
func (in *Interner) String(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if s, ok := in.m[string(b)]; ok { // no allocation: compiler-optimised lookup
		return s
	}
	s := string(b)
	if len(in.m) < in.max && len(b) <= 256 {
		in.m[s] = s
	} else {
		in.Missed++
	}
	return s
}
