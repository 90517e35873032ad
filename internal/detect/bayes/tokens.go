package bayes

import (
	"encoding/binary"
	"math/bits"
	"strings"
)

// Class is a token's class: which part of an item it describes (a path
// segment, a parameter name, a value shape, ...). Each kind's tokeniser
// documents its classes. The filter learns, per class, how likely an
// unknown token is to come from bad traffic (see Model).
type Class uint8

// MaxTokens is how many distinct tokens one item contributes at most;
// the rest are counted in Tokens.Dropped.
const MaxTokens = 2048

// minSet is the dedupe set's initial slot count (a power of two); the set
// doubles while it is more than half full.
const minSet = 256

// Tokens collects the distinct tokens of one item as 64-bit hashes of
// (class, text), with their classes, and their text when Verbose is set
// (for explanations; scoring needs only hashes). Reuse one Tokens per
// goroutine: Reset keeps the buffers, and the token lists of the parts
// that repeat from request to request (the user agent, the method and
// path) are cached, so tokenising allocates nothing in the steady state.
// A Tokens is not safe for concurrent use.
type Tokens struct {
	Hashes  []uint64
	Classes []Class
	Text    []string // parallel to Hashes when Verbose
	// Groups, parallel to Hashes, says which part of the item a token
	// describes: 0 the item as a whole, 1.. one parameter each (HTTP).
	// Empty when the item was not tokenised by this Tokens (a caller that
	// builds Tokens from stored hashes may leave it so: all tokens are
	// then one group).
	Groups  []uint8
	Verbose bool
	group   uint8                // the group of the tokens being added
	sums    *[maxGroups]groupSum // Score's per-group sums (zero between calls)
	Dropped int                  // tokens beyond MaxTokens

	keys []uint64 // dedupe set: open addressing, a slot is live when gens[i] == gen
	gens []uint32
	gen  uint32

	// Caches of token lists for parts of requests that repeat: the last
	// user agent, and (method, path) pairs in a small direct-mapped table.
	ua      cached
	paths   []cached
	collect *cached // when set, add also records into it

	buf   []byte // scratch for decoding
	buf2  []byte // scratch for lower-casing
	raw   []byte // scratch: input copied to bytes
	names []byte // scratch: the parameter-name list
	res   []byte // scratch: the resource
}

// NewTokens returns an empty token set.
func NewTokens() *Tokens {
	return &Tokens{Hashes: make([]uint64, 0, 256), Classes: make([]Class, 0, 256)}
}

// Reset empties the set, keeping its buffers.
func (t *Tokens) Reset() {
	t.Hashes = t.Hashes[:0]
	t.Classes = t.Classes[:0]
	t.Groups = t.Groups[:0]
	t.group = 0
	t.Text = t.Text[:0]
	t.Dropped = 0
	t.gen++
	if t.gen == 0 { // wrapped: clear stale stamps
		clear(t.gens)
		t.gen = 1
	}
}

// groups returns Groups, or all zeros when Groups does not match Hashes
// (for storing a copy that Score reads the same way).
func (t *Tokens) groups() []uint8 {
	if len(t.Groups) == len(t.Hashes) {
		return t.Groups
	}
	return make([]uint8, len(t.Hashes))
}

// Len is the number of distinct tokens.
func (t *Tokens) Len() int { return len(t.Hashes) }

const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

// hash is FNV-1a over the class and the parts, then a 64-bit finaliser
// (the hash indexes open-addressing tables, so its low bits must mix).
func hashStart(c Class) uint64 { return (fnvOffset ^ uint64(c)) * fnvPrime }

func hashBytes(h uint64, b []byte) uint64 {
	for len(b) >= 8 {
		h = (h ^ binary.LittleEndian.Uint64(b)) * fnvPrime
		h ^= h >> 29
		b = b[8:]
	}
	for _, c := range b {
		h = (h ^ uint64(c)) * fnvPrime
	}
	return h
}

func hashString(h uint64, s string) uint64 {
	for len(s) >= 8 {
		h = (h ^ binary.LittleEndian.Uint64([]byte(s[:8]))) * fnvPrime
		h ^= h >> 29
		s = s[8:]
	}
	for i := 0; i < len(s); i++ {
		h = (h ^ uint64(s[i])) * fnvPrime
	}
	return h
}

func hashByte(h uint64, c byte) uint64 { return (h ^ uint64(c)) * fnvPrime }

func finish(h uint64) uint64 {
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	h *= 0xc4ceb9fe1a85ec53
	h ^= h >> 33
	if h == 0 {
		h = 1 // 0 marks an empty slot
	}
	return h
}

// add records a finished hash; text is called only when Verbose.
func (t *Tokens) add(c Class, h uint64, text func() string) {
	h = finish(h)
	if t.collect != nil {
		t.collect.hashes = append(t.collect.hashes, h)
		t.collect.classes = append(t.collect.classes, c)
		t.collect.groups = append(t.collect.groups, t.group)
	}
	t.addFinished(c, h, text)
}

// addFinished records a finished hash in the current group.
func (t *Tokens) addFinished(c Class, h uint64, text func() string) {
	t.addGrouped(c, h, t.group, text)
}

// addGrouped records a finished hash in group g.
func (t *Tokens) addGrouped(c Class, h uint64, g uint8, text func() string) {
	if 2*len(t.Hashes) >= len(t.keys) {
		t.grow()
	}
	mask := uint64(len(t.keys) - 1)
	i := h & mask
	for t.gens[i] == t.gen {
		if t.keys[i] == h {
			return
		}
		i = (i + 1) & mask
	}
	if len(t.Hashes) >= MaxTokens {
		t.Dropped++
		return
	}
	t.gens[i], t.keys[i] = t.gen, h
	t.Hashes = append(t.Hashes, h)
	t.Classes = append(t.Classes, c)
	t.Groups = append(t.Groups, g)
	if t.Verbose {
		t.Text = append(t.Text, text())
	}
}

// cached is a remembered token list for a repeated part of an item.
type cached struct {
	key, key2 string
	res       []byte // the resource (path entries)
	hashes    []uint64
	classes   []Class
	groups    []uint8
	ok        bool
}

// maxCachedKey is the longest key cached (longer parts are tokenised
// every time).
const maxCachedKey = 1024

// pathSlots is the size of the (method, path) cache (a power of two).
const pathSlots = 256

// replay adds a cached token list.
func (t *Tokens) replay(c *cached) {
	for i, h := range c.hashes {
		t.addGrouped(c.classes[i], h, c.groups[i], nil)
	}
}

// startCollect begins recording into c under key (and key2).
func (t *Tokens) startCollect(c *cached, key, key2 string) {
	c.hashes, c.classes, c.groups, c.ok = c.hashes[:0], c.classes[:0], c.groups[:0], false
	if t.Verbose || len(key)+len(key2) > maxCachedKey {
		return
	}
	c.key, c.key2 = key, key2
	t.collect = c
}

// endCollect stops recording; the entry is valid if recording ran.
func (t *Tokens) endCollect(c *cached) {
	if t.collect == c {
		c.ok = true
	}
	t.collect = nil
}

// grow doubles the dedupe set and re-inserts the current tokens.
func (t *Tokens) grow() {
	n := 2 * len(t.keys)
	if n < minSet {
		n = minSet
	}
	if t.gen == 0 {
		t.gen = 1
	}
	t.keys, t.gens = make([]uint64, n), make([]uint32, n)
	mask := uint64(n - 1)
	for _, h := range t.Hashes {
		i := h & mask
		for t.gens[i] == t.gen {
			i = (i + 1) & mask
		}
		t.gens[i], t.keys[i] = t.gen, h
	}
}

// Add records the token (c, parts concatenated); the exported form for
// callers that build tokens of their own (tests, feedback).
func (t *Tokens) Add(c Class, s string) {
	t.add(c, hashString(hashStart(c), s), func() string { return s })
}

// addB records (c, b).
func (t *Tokens) addB(c Class, b []byte) {
	t.add(c, hashBytes(hashStart(c), b), func() string { return string(b) })
}

// addS records (c, s).
func (t *Tokens) addS(c Class, s string) {
	t.add(c, hashString(hashStart(c), s), func() string { return s })
}

// addLower records (c, s lower-cased) without allocating.
func (t *Tokens) addLower(c Class, s string) {
	orig := s
	h := hashStart(c)
	for len(s) > 0 {
		n := min(len(s), 64)
		var b [64]byte
		for i := 0; i < n; i++ {
			ch := s[i]
			if ch >= 'A' && ch <= 'Z' {
				ch += 'a' - 'A'
			}
			b[i] = ch
		}
		h = hashBytes(h, b[:n])
		s = s[n:]
	}
	t.add(c, h, func() string { return strings.ToLower(orig) })
}

// addSB records (c, s + sep + b).
func (t *Tokens) addSB(c Class, s string, sep byte, b []byte) {
	h := hashBytes(hashByte(hashString(hashStart(c), s), sep), b)
	t.add(c, h, func() string { return s + string(sep) + string(b) })
}

// addBB records (c, a + sep + b).
func (t *Tokens) addBB(c Class, a []byte, sep byte, b []byte) {
	h := hashBytes(hashByte(hashBytes(hashStart(c), a), sep), b)
	t.add(c, h, func() string { return string(a) + string(sep) + string(b) })
}

// addBN records (c, a + sep + decimal n).
func (t *Tokens) addBN(c Class, a []byte, sep byte, n int) {
	var d [20]byte
	i := len(d)
	if n < 0 {
		n = 0
	}
	for {
		i--
		d[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			break
		}
	}
	t.addBB(c, a, sep, d[i:])
}

// Character classes for shapes.
const (
	chOther = iota
	chLetter
	chDigit
	chSpace
)

var charClass = func() (tab [256]uint8) {
	for c := 0; c < 256; c++ {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= 0x80:
			tab[c] = chLetter
		case c >= '0' && c <= '9':
			tab[c] = chDigit
		case c == ' ' || c == '\t':
			tab[c] = chSpace
		}
	}
	return
}()

// maxShape caps a shape's length; longer shapes end in '+'.
const maxShape = 24

// appendShape appends the shape of v: runs of letters (and non-ASCII
// bytes) become 'a', runs of digits '9', runs of blanks ' ', and every
// other byte stands for itself ("Calle Arnedo 5" → "a a 9", "1' or
// '1'='1" → "9' a '9'='9").
func appendShape(dst, v []byte) []byte { return appendShapeN(dst, v, maxShape) }

// appendShapeN is appendShape with a cap of max bytes (then '+').
func appendShapeN(dst, v []byte, max int) []byte {
	start := len(dst)
	prev := uint8(255)
	for _, c := range v {
		k := charClass[c]
		if k != chOther && k == prev {
			continue
		}
		prev = k
		if len(dst)-start >= max {
			return append(dst, '+')
		}
		switch k {
		case chLetter:
			dst = append(dst, 'a')
		case chDigit:
			dst = append(dst, '9')
		case chSpace:
			dst = append(dst, ' ')
		default:
			if c < 0x20 || c == 0x7f {
				c = '^' // control bytes: one symbol
			}
			dst = append(dst, c)
		}
	}
	return dst
}

// lengthBucket is ⌈log2(n+1)⌉: 0, 1, 2–3, 4–7, ...
func lengthBucket(n int) int { return bits.Len(uint(n)) }

// lowerASCII appends b lower-cased (ASCII letters only).
func lowerASCII(dst, b []byte) []byte {
	for _, c := range b {
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		dst = append(dst, c)
	}
	return dst
}

func lowerString(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			return strings.ToLower(s)
		}
	}
	return s
}
