// Package ioc loads indicator sets — IP addresses and CIDR ranges,
// domains, URLs, and file hashes (MD5, SHA-1, SHA-256), known-bad or
// known-good (NSRL-style hash lists) — and matches events against them.
//
// Lookups go through a Bloom filter (false-positive rate 0.1 %) and are
// then confirmed exactly by binary search in sorted, compact tables, so a
// miss — nearly every lookup — costs one filter probe and no allocation.
// Memory is about 1.8 bytes of filter plus the indicator's own bytes and a
// 20-byte table entry per indicator (an address: 20 bytes; a SHA-256: 64 hex
// characters + 20); ten million SHA-256 hashes take about 860 MB, one
// million addresses about 22 MB. A Set is immutable once built and safe
// for concurrent use.
package ioc

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net/netip"
	"os"
	"sort"
	"strings"

	"github.com/bits-and-blooms/bloom/v3"
)

// Type is an indicator's type.
type Type uint8

// Indicator types.
const (
	TypeIP Type = iota + 1
	TypeCIDR
	TypeDomain
	TypeURL
	TypeMD5
	TypeSHA1
	TypeSHA256
)

var typeNames = [...]string{"", "ip", "cidr", "domain", "url", "md5", "sha1", "sha256"}

func (t Type) String() string {
	if int(t) < len(typeNames) {
		return typeNames[t]
	}
	return ""
}

// Indicator is one loaded indicator and where it came from.
type Indicator struct {
	Value  string // normalised: addresses and prefixes canonical, domains/hashes lower case
	Type   Type
	Source string // file name
	Line   int    // line in the file
	Label  string // the rest of the line after the indicator (a description), if any
	Good   bool   // from a known-good list
}

// Set is a loaded, immutable set of indicators.
type Set struct {
	meta    []Indicator
	filter  *bloom.BloomFilter
	addrs   []addrEntry         // exact addresses, sorted
	nets    map[int][]addrEntry // CIDR ranges by prefix length, masked base, sorted
	lengths []int               // prefix lengths present, longest first
	strs    []strEntry          // "d:"/"u:"/"h:" keyed domains, URLs and hashes, sorted
	counts  map[Type]int        // loaded per type
	errs    []error             // lines that were not indicators (first few)
	bad     int                 // lines skipped
}

type addrEntry struct {
	a  [16]byte
	id int32
}

type strEntry struct {
	k  string
	id int32
}

// Builder accumulates indicators; Build makes the Set.
type Builder struct {
	s Set
}

// MaxErrors is how many malformed lines a Set keeps for reporting.
const MaxErrors = 5

// LoadFiles reads indicator files. good marks known-good lists. A file
// that cannot be opened is an error; malformed lines are counted and the
// first few kept (Set.Problems), never fatal.
func LoadFiles(bad, good []string) (*Set, error) {
	var b Builder
	for _, f := range bad {
		if err := b.AddFile(f, false); err != nil {
			return nil, err
		}
	}
	for _, f := range good {
		if err := b.AddFile(f, true); err != nil {
			return nil, err
		}
	}
	return b.Build(), nil
}

// AddFile reads one file.
func (b *Builder) AddFile(path string, good bool) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("cannot read indicators: %w", err)
	}
	defer f.Close()
	if err := b.Add(f, path, good); err != nil {
		return fmt.Errorf("cannot read indicators %s: %w", path, err)
	}
	return nil
}

// Add reads indicators from r, one per line: the indicator, optionally
// followed by whitespace or a comma and a label. Lines starting with '#'
// or ';' and blank lines are skipped. NSRL CSV ("SHA-1","MD5","CRC32",…)
// is recognised by its quoted hex columns: the SHA-1 and MD5 are loaded.
// Line endings LF, CRLF and CR are accepted.
func (b *Builder) Add(r io.Reader, source string, good bool) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	sc.Split(scanAnyLines)
	line := 0
	for sc.Scan() {
		line++
		b.addLine(sc.Bytes(), source, line, good)
	}
	return sc.Err()
}

// scanAnyLines splits on \n, \r\n or a lone \r.
func scanAnyLines(data []byte, atEOF bool) (int, []byte, error) {
	for i, c := range data {
		if c == '\n' {
			return i + 1, data[:i], nil
		}
		if c == '\r' {
			if i+1 < len(data) {
				if data[i+1] == '\n' {
					return i + 2, data[:i], nil
				}
				return i + 1, data[:i], nil
			}
			if atEOF {
				return i + 1, data[:i], nil
			}
			return 0, nil, nil // need one more byte to tell \r\n from \r
		}
	}
	if atEOF && len(data) > 0 {
		return len(data), data, nil
	}
	return 0, nil, nil
}

func (b *Builder) addLine(raw []byte, source string, line int, good bool) {
	s := strings.TrimSpace(string(bytes.TrimPrefix(raw, []byte("\xef\xbb\xbf"))))
	if s == "" || s[0] == '#' || s[0] == ';' {
		return
	}
	if s[0] == '"' { // NSRL: "SHA-1","MD5","CRC32","FileName",...
		fields := strings.Split(s, ",")
		n := 0
		for _, f := range fields[:min(2, len(fields))] {
			f = strings.Trim(f, `"`)
			if t := hashType(f); t != 0 {
				b.add(Indicator{Value: strings.ToLower(f), Type: t, Source: source, Line: line, Good: good})
				n++
			}
		}
		if n == 0 && !strings.HasPrefix(s, `"SHA-1"`) {
			b.problem(source, line, s)
		}
		return
	}
	val, label := s, ""
	if i := strings.IndexAny(s, " \t,"); i >= 0 {
		val, label = s[:i], strings.TrimSpace(strings.TrimLeft(s[i:], " \t,"))
	}
	ind, ok := Parse(val)
	if !ok {
		b.problem(source, line, s)
		return
	}
	ind.Source, ind.Line, ind.Label, ind.Good = source, line, label, good
	b.add(ind)
}

func (b *Builder) problem(source string, line int, s string) {
	b.s.bad++
	if len(b.s.errs) < MaxErrors {
		if len(s) > 80 {
			s = s[:80] + "…"
		}
		b.s.errs = append(b.s.errs, fmt.Errorf("%s:%d: not an indicator: %q", source, line, s))
	}
}

// Parse recognises one indicator value.
func Parse(v string) (Indicator, bool) {
	if a, err := netip.ParseAddr(v); err == nil {
		return Indicator{Value: a.Unmap().String(), Type: TypeIP}, true
	}
	if p, err := netip.ParsePrefix(v); err == nil {
		p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-unmapBits(p.Addr())).Masked()
		return Indicator{Value: p.String(), Type: TypeCIDR}, true
	}
	if t := hashType(v); t != 0 {
		return Indicator{Value: strings.ToLower(v), Type: t}, true
	}
	if i := strings.Index(v, "://"); i > 0 {
		return Indicator{Value: NormURL(v), Type: TypeURL}, true
	}
	if d := normDomain(v); d != "" {
		return Indicator{Value: d, Type: TypeDomain}, true
	}
	return Indicator{}, false
}

func unmapBits(a netip.Addr) int {
	if a.Is4In6() {
		return 96
	}
	return 0
}

func hashType(v string) Type {
	var t Type
	switch len(v) {
	case 32:
		t = TypeMD5
	case 40:
		t = TypeSHA1
	case 64:
		t = TypeSHA256
	default:
		return 0
	}
	for i := 0; i < len(v); i++ {
		c := v[i] | 0x20
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return 0
		}
	}
	return t
}

// normDomain lower-cases a host name and drops a trailing dot; "" if v is
// not a plausible name (letters, digits, '-', '_', at least one dot).
func normDomain(v string) string {
	v = strings.TrimSuffix(strings.ToLower(v), ".")
	v = strings.TrimPrefix(v, "*.")
	if len(v) < 3 || len(v) > 253 || !strings.Contains(v, ".") || v[0] == '.' || v[len(v)-1] == '.' ||
		strings.Contains(v, "..") {
		return ""
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_') {
			return ""
		}
	}
	return v
}

// NormURL normalises a URL for matching: scheme and host lower case, no
// fragment, no default port, no trailing slash on an empty path.
func NormURL(v string) string {
	i := strings.Index(v, "://")
	if i < 0 {
		return v
	}
	scheme := strings.ToLower(v[:i])
	rest := v[i+3:]
	if j := strings.IndexByte(rest, '#'); j >= 0 {
		rest = rest[:j]
	}
	host, path := rest, ""
	if j := strings.IndexAny(rest, "/?"); j >= 0 {
		host, path = rest[:j], rest[j:]
	}
	host = strings.ToLower(host)
	host = strings.TrimSuffix(host, map[string]string{"http": ":80", "https": ":443"}[scheme])
	if path == "/" {
		path = ""
	}
	return scheme + "://" + host + path
}

func (b *Builder) add(ind Indicator) {
	id := int32(len(b.s.meta))
	b.s.meta = append(b.s.meta, ind)
	if b.s.counts == nil {
		b.s.counts = map[Type]int{}
	}
	b.s.counts[ind.Type]++
	switch ind.Type {
	case TypeIP:
		a := netip.MustParseAddr(ind.Value)
		b.s.addrs = append(b.s.addrs, addrEntry{a.As16(), id})
	case TypeCIDR:
		p := netip.MustParsePrefix(ind.Value)
		bits := p.Bits()
		if p.Addr().Is4() {
			bits += 96
		}
		if b.s.nets == nil {
			b.s.nets = map[int][]addrEntry{}
		}
		b.s.nets[bits] = append(b.s.nets[bits], addrEntry{p.Addr().As16(), id})
	default:
		b.s.strs = append(b.s.strs, strEntry{key(ind.Type, ind.Value), id})
	}
}

func key(t Type, v string) string {
	switch t {
	case TypeDomain:
		return "d:" + v
	case TypeURL:
		return "u:" + v
	}
	return "h:" + v
}

// Build sorts the tables and fills the Bloom filter.
func (b *Builder) Build() *Set {
	s := b.s
	b.s = Set{}
	sort.Slice(s.addrs, func(i, j int) bool { return bytes.Compare(s.addrs[i].a[:], s.addrs[j].a[:]) < 0 })
	sort.Slice(s.strs, func(i, j int) bool { return s.strs[i].k < s.strs[j].k })
	for l, es := range s.nets {
		sort.Slice(es, func(i, j int) bool { return bytes.Compare(es[i].a[:], es[j].a[:]) < 0 })
		s.lengths = append(s.lengths, l)
	}
	sort.Sort(sort.Reverse(sort.IntSlice(s.lengths)))
	n := uint(len(s.addrs) + len(s.strs) + 1)
	s.filter = bloom.NewWithEstimates(n, 0.001)
	for _, e := range s.addrs {
		s.filter.Add(e.a[:])
	}
	for _, e := range s.strs {
		s.filter.AddString(e.k)
	}
	return &s
}

// Len is the number of indicators.
func (s *Set) Len() int { return len(s.meta) }

// Counts is the number of indicators per type.
func (s *Set) Counts() map[Type]int { return s.counts }

// Problems returns the count of lines that were not indicators and the
// first few of them with file:line.
func (s *Set) Problems() (int, []error) { return s.bad, s.errs }

// Get returns indicator id.
func (s *Set) Get(id int32) *Indicator { return &s.meta[id] }

// MatchAddr returns the indicators matching a (exact address first, then
// the most specific containing range), or nil.
func (s *Set) MatchAddr(a netip.Addr) []int32 {
	if !a.IsValid() || s == nil {
		return nil
	}
	k := a.Unmap().As16()
	var out []int32
	if len(s.addrs) > 0 && s.filter.Test(k[:]) {
		i := sort.Search(len(s.addrs), func(i int) bool { return bytes.Compare(s.addrs[i].a[:], k[:]) >= 0 })
		for ; i < len(s.addrs) && s.addrs[i].a == k; i++ {
			out = append(out, s.addrs[i].id)
		}
	}
	for _, l := range s.lengths {
		m := mask(k, l)
		es := s.nets[l]
		i := sort.Search(len(es), func(i int) bool { return bytes.Compare(es[i].a[:], m[:]) >= 0 })
		for ; i < len(es) && es[i].a == m; i++ {
			out = append(out, es[i].id)
		}
	}
	return out
}

func mask(a [16]byte, bits int) [16]byte {
	for i := 0; i < 16; i++ {
		switch {
		case bits >= 8:
			bits -= 8
		case bits > 0:
			a[i] &= ^byte(0xff >> bits)
			bits = 0
		default:
			a[i] = 0
		}
	}
	return a
}

// MatchDomain returns the indicators matching name or one of its parent
// domains ("a.b.evil.com" matches "evil.com").
func (s *Set) MatchDomain(name string) []int32 {
	if s == nil || len(s.strs) == 0 || name == "" {
		return nil
	}
	name = strings.TrimSuffix(name, ".")
	var buf [256]byte
	var out []int32
	for {
		k := append(append(buf[:0], "d:"...), name...)
		if s.filter.Test(k) {
			out = append(out, s.lookup(string(k))...)
		}
		i := strings.IndexByte(name, '.')
		if i < 0 || !strings.Contains(name[i+1:], ".") {
			return out
		}
		name = name[i+1:]
	}
}

// MatchURL returns the indicators equal to the normalised URL.
func (s *Set) MatchURL(url string) []int32 { return s.matchKey("u:" + NormURL(url)) }

// MatchHash returns the indicators equal to a hex hash.
func (s *Set) MatchHash(h string) []int32 {
	if hashType(h) == 0 {
		return nil
	}
	return s.matchKey("h:" + strings.ToLower(h))
}

func (s *Set) matchKey(k string) []int32 {
	if s == nil || len(s.strs) == 0 || !s.filter.TestString(k) {
		return nil
	}
	return s.lookup(k)
}

func (s *Set) lookup(k string) []int32 {
	i := sort.Search(len(s.strs), func(i int) bool { return s.strs[i].k >= k })
	var out []int32
	for ; i < len(s.strs) && s.strs[i].k == k; i++ {
		out = append(out, s.strs[i].id)
	}
	return out
}
