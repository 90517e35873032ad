// Package codec is the binary encoding of detector state in snapshots
// (see docs/format/state.md): a few primitives (varints, strings, floats)
// on an append-only Enc and a bounds-checked Dec, and Codec[T], which
// encodes any plain data type T — structs with unexported fields, arrays,
// slices, maps, pointers, strings, numbers, and types with
// MarshalBinary/UnmarshalBinary (time.Time, netip.Addr, HyperLogLog
// sketches) — by reflection, compiled once per type.
//
// One mechanism for every detector family: a family's state types are
// encoded as they are declared, so adding a field to a state struct needs
// no codec change. The price is that the encoding follows the Go layout:
// Codec.Layout is a fingerprint of T's structure (field names, kinds,
// element types), stored beside the data, and a snapshot whose layout
// differs from the running code's is refused (ErrLayout) rather than
// misread. Types that must not be encoded as declared (they hold
// functions, interfaces or derived caches) implement Marshaler and
// Unmarshaler, or tag fields `state:"-"` (left zero on decode).
//
// Decoding never panics on bad input and never allocates more than the
// input can justify: every length is checked against the bytes left.
// Errors wrap ErrCorrupt. Decode leaves its destination unchanged when it
// fails.
package codec

import (
	"encoding"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"hash/maphash"
	"math"
	"math/bits"
	"reflect"
	"slices"
	"sort"
	"strings"
	"unsafe"
)

// ErrCorrupt is wrapped by every decoding error: the bytes are truncated,
// a length exceeds what is left, a value is out of range for its type, or
// a map holds a key twice.
var ErrCorrupt = errors.New("corrupt state data")

// ErrLayout is wrapped when data was written for a different layout of a
// type than the running code's (a winnow version whose state structs
// differ): the data cannot be read, only discarded.
var ErrLayout = errors.New("state layout differs from this version's")

// ErrUnsupported is wrapped by For's error for a type that cannot be
// encoded (it holds a func, chan, interface or unsafe pointer, or is
// recursive) and implements no Marshaler.
var ErrUnsupported = errors.New("type cannot be encoded")

// Enc appends encoded values to a byte slice. The zero value is ready.
type Enc struct {
	b []byte
}

// Bytes returns the encoded bytes (aliasing the Enc's buffer until the
// next write or Reset).
func (e *Enc) Bytes() []byte { return e.b }

// Len is the number of bytes encoded.
func (e *Enc) Len() int { return len(e.b) }

// Reset empties the Enc, keeping its buffer.
func (e *Enc) Reset() { e.b = e.b[:0] }

// Uvarint appends v as an unsigned varint.
func (e *Enc) Uvarint(v uint64) { e.b = binary.AppendUvarint(e.b, v) }

// Varint appends v as a zig-zag varint.
func (e *Enc) Varint(v int64) { e.b = binary.AppendVarint(e.b, v) }

// Byte appends one byte.
func (e *Enc) Byte(c byte) { e.b = append(e.b, c) }

// Bool appends 1 or 0.
func (e *Enc) Bool(v bool) {
	if v {
		e.b = append(e.b, 1)
	} else {
		e.b = append(e.b, 0)
	}
}

// Float64 appends the 8 bytes of v's bits (exact, NaN payloads included).
func (e *Enc) Float64(v float64) { e.b = binary.LittleEndian.AppendUint64(e.b, math.Float64bits(v)) }

// Uint32 appends v as 4 little-endian bytes.
func (e *Enc) Uint32(v uint32) { e.b = binary.LittleEndian.AppendUint32(e.b, v) }

// Uint64 appends v as 8 little-endian bytes.
func (e *Enc) Uint64(v uint64) { e.b = binary.LittleEndian.AppendUint64(e.b, v) }

// String appends a length-prefixed string.
func (e *Enc) String(s string) {
	e.Uvarint(uint64(len(s)))
	e.b = append(e.b, s...)
}

// Blob appends a length-prefixed byte slice.
func (e *Enc) Blob(b []byte) {
	e.Uvarint(uint64(len(b)))
	e.b = append(e.b, b...)
}

// Raw appends b as is.
func (e *Enc) Raw(b []byte) { e.b = append(e.b, b...) }

// Dec reads values from a byte slice. Errors are sticky: after the first
// one every read returns a zero value and Err reports it (wrapping
// ErrCorrupt), so a decoder can read a whole record and check once.
type Dec struct {
	b   []byte
	off int
	err error
}

// NewDec returns a decoder over b (borrowed: strings are copied out).
func NewDec(b []byte) *Dec { return &Dec{b: b} }

// Err is the first error met, or nil.
func (d *Dec) Err() error { return d.err }

// Left is the number of bytes not read yet.
func (d *Dec) Left() int { return len(d.b) - d.off }

// Offset is the number of bytes read.
func (d *Dec) Offset() int { return d.off }

// Fail records err (wrapped in ErrCorrupt unless it wraps it already) as
// the decoder's error if it has none; decoders of custom types use it.
func (d *Dec) Fail(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: at byte %d: %s", ErrCorrupt, d.off, fmt.Sprintf(format, args...))
	}
}

// End fails unless every byte was read.
func (d *Dec) End() error {
	if d.err == nil && d.off != len(d.b) {
		d.Fail("%d bytes left over", len(d.b)-d.off)
	}
	return d.err
}

// Uvarint reads an unsigned varint.
func (d *Dec) Uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b[d.off:])
	if n <= 0 {
		d.Fail("bad varint")
		return 0
	}
	d.off += n
	return v
}

// Varint reads a zig-zag varint.
func (d *Dec) Varint() int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.b[d.off:])
	if n <= 0 {
		d.Fail("bad varint")
		return 0
	}
	d.off += n
	return v
}

func (d *Dec) take(n int) []byte {
	if d.err != nil {
		return nil
	}
	if n < 0 || n > len(d.b)-d.off {
		d.Fail("need %d bytes, %d left", n, len(d.b)-d.off)
		return nil
	}
	p := d.b[d.off : d.off+n : d.off+n]
	d.off += n
	return p
}

// Rest returns every byte not read yet (aliasing the input) and consumes
// them.
func (d *Dec) Rest() []byte {
	if d.err != nil {
		return nil
	}
	p := d.b[d.off:]
	d.off = len(d.b)
	return p
}

// Byte reads one byte.
func (d *Dec) Byte() byte {
	p := d.take(1)
	if p == nil {
		return 0
	}
	return p[0]
}

// Bool reads a bool (a byte other than 0 or 1 is an error).
func (d *Dec) Bool() bool {
	switch c := d.Byte(); c {
	case 0:
		return false
	case 1:
		return true
	default:
		d.Fail("bool byte %d", c)
		return false
	}
}

// Float64 reads 8 bytes of float bits.
func (d *Dec) Float64() float64 {
	p := d.take(8)
	if p == nil {
		return 0
	}
	return math.Float64frombits(binary.LittleEndian.Uint64(p))
}

// Uint32 reads 4 little-endian bytes.
func (d *Dec) Uint32() uint32 {
	p := d.take(4)
	if p == nil {
		return 0
	}
	return binary.LittleEndian.Uint32(p)
}

// Uint64 reads 8 little-endian bytes.
func (d *Dec) Uint64() uint64 {
	p := d.take(8)
	if p == nil {
		return 0
	}
	return binary.LittleEndian.Uint64(p)
}

// Len reads a count of items that each take at least minSize bytes (1 if
// minSize < 1), failing when fewer bytes are left than the count needs.
func (d *Dec) Len(minSize int) int {
	v := d.Uvarint()
	if d.err != nil {
		return 0
	}
	if minSize < 1 {
		minSize = 1
	}
	if v > uint64(d.Left()/minSize) {
		d.Fail("count %d exceeds the %d bytes left", v, d.Left())
		return 0
	}
	return int(v)
}

// String reads a length-prefixed string (copied).
func (d *Dec) String() string {
	n := d.Len(1)
	return string(d.take(n))
}

// Blob reads a length-prefixed byte slice; it aliases the decoder's input.
func (d *Dec) Blob() []byte {
	n := d.Len(1)
	if d.err != nil {
		return nil
	}
	return d.take(n)
}

// Marshaler is implemented (on the pointer) by types that encode
// themselves instead of by reflection.
type Marshaler interface {
	MarshalState(e *Enc)
}

// Unmarshaler is the decoding half of Marshaler. UnmarshalState reads into
// a zero value; on error it reports through d.Fail (or returns an error,
// which Codec wraps in ErrCorrupt).
type Unmarshaler interface {
	UnmarshalState(d *Dec) error
}

// Layouter may be implemented by a Marshaler to name its encoding's
// layout (change the string when the encoding changes); without it, the
// layout is the type's name.
type Layouter interface {
	StateLayout() string
}

var (
	marshalerT   = reflect.TypeFor[Marshaler]()
	unmarshalerT = reflect.TypeFor[Unmarshaler]()
	layouterT    = reflect.TypeFor[Layouter]()
	binMarshT    = reflect.TypeFor[encoding.BinaryMarshaler]()
	binUnmarshT  = reflect.TypeFor[encoding.BinaryUnmarshaler]()
	maphashSeedT = reflect.TypeFor[maphash.Seed]()
)

// Codec encodes and decodes values of T. It is immutable and safe for
// concurrent use; build one per type (For) and keep it.
type Codec[T any] struct {
	p      *plan
	layout uint64
	desc   string
}

// plan encodes and decodes one type. Values passed to enc are addressable
// and readable through unexported fields (see unexport); dec writes into
// an addressable zero value.
type plan struct {
	enc     func(e *Enc, v reflect.Value)
	dec     func(d *Dec, v reflect.Value)
	minSize int // bytes the encoding takes at least
}

// For compiles T's codec. It fails (wrapping ErrUnsupported) for types
// that hold functions, channels, interfaces, unsafe pointers or complex
// numbers, or that are recursive, unless they implement Marshaler.
func For[T any]() (*Codec[T], error) {
	c := &compiler{seen: map[reflect.Type]bool{}}
	t := reflect.TypeFor[T]()
	p, desc, err := c.compile(t)
	if err != nil {
		return nil, fmt.Errorf("cannot build state codec for %v: %w", t, err)
	}
	h := fnv.New64a()
	h.Write([]byte(desc))
	return &Codec[T]{p: p, layout: h.Sum64(), desc: desc}, nil
}

// MustFor is For for types known to be encodable; it panics otherwise (a
// programming error).
func MustFor[T any]() *Codec[T] {
	c, err := For[T]()
	if err != nil {
		panic("BUG: " + err.Error())
	}
	return c
}

// Layout is the fingerprint of T's encoding: equal layouts read each
// other's data.
func (c *Codec[T]) Layout() uint64 { return c.layout }

// Describe is the canonical description of T's layout the fingerprint is
// made from (for error messages and tests).
func (c *Codec[T]) Describe() string { return c.desc }

// Encode appends *v.
func (c *Codec[T]) Encode(e *Enc, v *T) {
	c.p.enc(e, reflect.ValueOf(v).Elem())
}

// Decode reads one T into *v. On error (wrapping ErrCorrupt) *v is
// unchanged.
func (c *Codec[T]) Decode(d *Dec, v *T) error {
	if d.err != nil {
		return d.err
	}
	tmp := new(T)
	c.p.dec(d, reflect.ValueOf(tmp).Elem())
	if d.err != nil {
		return d.err
	}
	*v = *tmp
	return nil
}

// Marshal encodes *v into a new byte slice.
func (c *Codec[T]) Marshal(v *T) []byte {
	var e Enc
	c.Encode(&e, v)
	return e.b
}

// Unmarshal decodes b, which must hold exactly one T.
func (c *Codec[T]) Unmarshal(b []byte, v *T) error {
	d := NewDec(b)
	tmp := new(T)
	if err := c.Decode(d, tmp); err != nil {
		return err
	}
	if err := d.End(); err != nil {
		return err
	}
	*v = *tmp
	return nil
}

type compiler struct {
	seen map[reflect.Type]bool // types being compiled (recursion check)
}

// unexport makes v (possibly reached through unexported fields) readable
// and settable. v must be addressable.
func unexport(v reflect.Value) reflect.Value {
	if v.CanSet() {
		return v
	}
	return reflect.NewAt(v.Type(), unsafe.Pointer(v.UnsafeAddr())).Elem()
}

func (c *compiler) compile(t reflect.Type) (*plan, string, error) {
	if c.seen[t] {
		return nil, "", fmt.Errorf("%w: %v is recursive", ErrUnsupported, t)
	}
	if t == maphashSeedT {
		// Hashes made with it mean nothing in another process: state
		// that holds hashes uses package stablehash.
		return nil, "", fmt.Errorf("%w: %v is per process (use package stablehash)", ErrUnsupported, t)
	}
	pt := reflect.PointerTo(t)
	if pt.Implements(marshalerT) && pt.Implements(unmarshalerT) {
		return customPlan(t), customDesc(t), nil
	}
	if t.Implements(binMarshT) && pt.Implements(binUnmarshT) || pt.Implements(binMarshT) && pt.Implements(binUnmarshT) {
		return binaryPlan(t), "bin(" + t.String() + ")", nil
	}
	switch t.Kind() {
	case reflect.Bool:
		return &plan{
			enc:     func(e *Enc, v reflect.Value) { e.Bool(v.Bool()) },
			dec:     func(d *Dec, v reflect.Value) { v.SetBool(d.Bool()) },
			minSize: 1,
		}, "bool", nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		bits := t.Bits()
		return &plan{
			enc: func(e *Enc, v reflect.Value) { e.Varint(v.Int()) },
			dec: func(d *Dec, v reflect.Value) {
				x := d.Varint()
				if v.OverflowInt(x) {
					d.Fail("%d overflows int%d", x, bits)
					return
				}
				v.SetInt(x)
			},
			minSize: 1,
		}, fmt.Sprintf("int%d", bits), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		bits := t.Bits()
		return &plan{
			enc: func(e *Enc, v reflect.Value) { e.Uvarint(v.Uint()) },
			dec: func(d *Dec, v reflect.Value) {
				x := d.Uvarint()
				if v.OverflowUint(x) {
					d.Fail("%d overflows uint%d", x, bits)
					return
				}
				v.SetUint(x)
			},
			minSize: 1,
		}, fmt.Sprintf("uint%d", bits), nil
	// Floats are their bits, bytes reversed, as a varint: zero (the
	// commonest value in state) takes one byte, a small integer two or
	// three, an arbitrary value at most one more than its width.
	case reflect.Float32:
		return &plan{
			enc: func(e *Enc, v reflect.Value) {
				e.Uvarint(uint64(bits.ReverseBytes32(math.Float32bits(float32(v.Float())))))
			},
			dec: func(d *Dec, v reflect.Value) {
				x := d.Uvarint()
				if x > math.MaxUint32 {
					d.Fail("float32 bits %#x", x)
					return
				}
				v.SetFloat(float64(math.Float32frombits(bits.ReverseBytes32(uint32(x)))))
			},
			minSize: 1,
		}, "float32v", nil
	case reflect.Float64:
		return &plan{
			enc: func(e *Enc, v reflect.Value) { e.Uvarint(bits.ReverseBytes64(math.Float64bits(v.Float()))) },
			dec: func(d *Dec, v reflect.Value) {
				v.SetFloat(math.Float64frombits(bits.ReverseBytes64(d.Uvarint())))
			},
			minSize: 1,
		}, "float64v", nil
	case reflect.String:
		return &plan{
			enc:     func(e *Enc, v reflect.Value) { e.String(v.String()) },
			dec:     func(d *Dec, v reflect.Value) { v.SetString(d.String()) },
			minSize: 1,
		}, "string", nil
	case reflect.Array:
		return c.array(t)
	case reflect.Slice:
		return c.slice(t)
	case reflect.Map:
		return c.mapPlan(t)
	case reflect.Pointer:
		return c.pointer(t)
	case reflect.Struct:
		return c.structPlan(t)
	}
	return nil, "", fmt.Errorf("%w: %v (%v)", ErrUnsupported, t, t.Kind())
}

func customDesc(t reflect.Type) string {
	pt := reflect.PointerTo(t)
	if pt.Implements(layouterT) {
		return "custom(" + reflect.New(t).Interface().(Layouter).StateLayout() + ")"
	}
	return "custom(" + t.String() + ")"
}

func customPlan(t reflect.Type) *plan {
	return &plan{
		enc: func(e *Enc, v reflect.Value) {
			v.Addr().Interface().(Marshaler).MarshalState(e)
		},
		dec: func(d *Dec, v reflect.Value) {
			if d.err != nil {
				return
			}
			if err := v.Addr().Interface().(Unmarshaler).UnmarshalState(d); err != nil {
				if errors.Is(err, ErrCorrupt) || errors.Is(err, ErrLayout) {
					if d.err == nil {
						d.err = err
					}
					return
				}
				d.Fail("%v: %v", t, err)
			}
		},
		minSize: 0,
	}
}

func binaryPlan(t reflect.Type) *plan {
	valueRecv := t.Implements(binMarshT)
	return &plan{
		enc: func(e *Enc, v reflect.Value) {
			var m encoding.BinaryMarshaler
			if valueRecv {
				m = v.Interface().(encoding.BinaryMarshaler)
			} else {
				m = v.Addr().Interface().(encoding.BinaryMarshaler)
			}
			b, err := m.MarshalBinary()
			if err != nil {
				panic(fmt.Sprintf("BUG: cannot encode %v: %v", t, err))
			}
			e.Blob(b)
		},
		dec: func(d *Dec, v reflect.Value) {
			b := d.Blob()
			if d.err != nil {
				return
			}
			// A value whose MarshalBinary gives nothing (a zero
			// netip.Addr) may not accept nothing back: leave it zero.
			if len(b) == 0 {
				if zero, err := zeroBinary(t); err == nil && len(zero) == 0 {
					return
				}
			}
			if err := v.Addr().Interface().(encoding.BinaryUnmarshaler).UnmarshalBinary(slices.Clone(b)); err != nil {
				d.Fail("%v: %v", t, err)
			}
		},
		minSize: 1,
	}
}

// zeroBinary is the MarshalBinary of T's zero value.
func zeroBinary(t reflect.Type) ([]byte, error) {
	z := reflect.New(t)
	if m, ok := z.Elem().Interface().(encoding.BinaryMarshaler); ok {
		return m.MarshalBinary()
	}
	return z.Interface().(encoding.BinaryMarshaler).MarshalBinary()
}

func (c *compiler) enter(t reflect.Type) func() {
	c.seen[t] = true
	return func() { delete(c.seen, t) }
}

func (c *compiler) array(t reflect.Type) (*plan, string, error) {
	n := t.Len()
	desc := fmt.Sprintf("[%d]", n)
	if t.Elem() == byteType {
		return &plan{
			enc: func(e *Enc, v reflect.Value) {
				e.Raw(v.Bytes())
			},
			dec: func(d *Dec, v reflect.Value) {
				p := d.take(n)
				if p != nil {
					reflect.Copy(v, reflect.ValueOf(p))
				}
			},
			minSize: n,
		}, desc + "byte", nil
	}
	defer c.enter(t)()
	ep, ed, err := c.compile(t.Elem())
	if err != nil {
		return nil, "", err
	}
	return &plan{
		enc: func(e *Enc, v reflect.Value) {
			for i := 0; i < n; i++ {
				ep.enc(e, v.Index(i))
			}
		},
		dec: func(d *Dec, v reflect.Value) {
			for i := 0; i < n && d.err == nil; i++ {
				ep.dec(d, v.Index(i))
			}
		},
		minSize: n * ep.minSize,
	}, desc + ed, nil
}

// byteType is the element type of the byte fast paths (named byte types
// take the general path).
var byteType = reflect.TypeFor[byte]()

// Slices and maps encode their length plus one, so that nil (0) and empty
// (1) stay distinct.
func (c *compiler) slice(t reflect.Type) (*plan, string, error) {
	if t.Elem() == byteType {
		return &plan{
			enc: func(e *Enc, v reflect.Value) {
				if v.IsNil() {
					e.Uvarint(0)
					return
				}
				e.Uvarint(uint64(v.Len()) + 1)
				e.Raw(v.Bytes())
			},
			dec: func(d *Dec, v reflect.Value) {
				n, ok := d.nilLen(1)
				if !ok {
					return
				}
				p := d.take(n)
				if d.err != nil {
					return
				}
				b := reflect.MakeSlice(t, n, n)
				reflect.Copy(b, reflect.ValueOf(p))
				v.Set(b)
			},
			minSize: 1,
		}, "[]byte", nil
	}
	defer c.enter(t)()
	ep, ed, err := c.compile(t.Elem())
	if err != nil {
		return nil, "", err
	}
	return &plan{
		enc: func(e *Enc, v reflect.Value) {
			if v.IsNil() {
				e.Uvarint(0)
				return
			}
			n := v.Len()
			e.Uvarint(uint64(n) + 1)
			for i := 0; i < n; i++ {
				ep.enc(e, v.Index(i))
			}
		},
		dec: func(d *Dec, v reflect.Value) {
			n, ok := d.nilLen(ep.minSize)
			if !ok {
				return
			}
			s := reflect.MakeSlice(t, n, n)
			for i := 0; i < n && d.err == nil; i++ {
				ep.dec(d, s.Index(i))
			}
			v.Set(s)
		},
		minSize: 1,
	}, "[]" + ed, nil
}

// maxZeroSize bounds the count of items that encode to zero bytes.
const maxZeroSize = 1 << 16

// nilLen reads a length-plus-one; ok is false for nil (or an error).
func (d *Dec) nilLen(minSize int) (int, bool) {
	v := d.Uvarint()
	if d.err != nil || v == 0 {
		return 0, false
	}
	v--
	limit := uint64(maxZeroSize)
	if minSize > 0 {
		limit = uint64(d.Left() / minSize)
	}
	if v > limit {
		d.Fail("count %d exceeds the %d bytes left", v, d.Left())
		return 0, false
	}
	return int(v), true
}

func (c *compiler) mapPlan(t reflect.Type) (*plan, string, error) {
	defer c.enter(t)()
	kp, kd, err := c.compile(t.Key())
	if err != nil {
		return nil, "", err
	}
	vp, vd, err := c.compile(t.Elem())
	if err != nil {
		return nil, "", err
	}
	kt, vt := t.Key(), t.Elem()
	return &plan{
		// Entries are written in the order of their encoded keys, so a
		// value always encodes to the same bytes.
		enc: func(e *Enc, v reflect.Value) {
			if v.IsNil() {
				e.Uvarint(0)
				return
			}
			n := v.Len()
			e.Uvarint(uint64(n) + 1)
			type kv struct {
				k []byte
				v reflect.Value
			}
			entries := make([]kv, 0, n)
			var ke Enc
			it := v.MapRange()
			for it.Next() {
				k := reflect.New(kt).Elem()
				k.Set(it.Key())
				ke.b = nil
				kp.enc(&ke, k)
				entries = append(entries, kv{ke.b, it.Value()})
			}
			sort.Slice(entries, func(i, j int) bool { return string(entries[i].k) < string(entries[j].k) })
			val := reflect.New(vt).Elem()
			for _, en := range entries {
				e.Raw(en.k)
				val.Set(en.v)
				vp.enc(e, val)
			}
		},
		dec: func(d *Dec, v reflect.Value) {
			n, ok := d.nilLen(max(kp.minSize+vp.minSize, 0))
			if !ok {
				return
			}
			m := reflect.MakeMapWithSize(t, n)
			k := reflect.New(kt).Elem()
			val := reflect.New(vt).Elem()
			for i := 0; i < n && d.err == nil; i++ {
				k.SetZero()
				val.SetZero()
				kp.dec(d, k)
				vp.dec(d, val)
				if d.err != nil {
					return
				}
				if m.MapIndex(k).IsValid() {
					d.Fail("map key repeated")
					return
				}
				m.SetMapIndex(k, val)
			}
			v.Set(m)
		},
		minSize: 1,
	}, "map[" + kd + "]" + vd, nil
}

func (c *compiler) pointer(t reflect.Type) (*plan, string, error) {
	defer c.enter(t)()
	ep, ed, err := c.compile(t.Elem())
	if err != nil {
		return nil, "", err
	}
	et := t.Elem()
	return &plan{
		enc: func(e *Enc, v reflect.Value) {
			if v.IsNil() {
				e.Byte(0)
				return
			}
			e.Byte(1)
			ep.enc(e, v.Elem())
		},
		dec: func(d *Dec, v reflect.Value) {
			switch d.Byte() {
			case 0:
			case 1:
				p := reflect.New(et)
				ep.dec(d, p.Elem())
				v.Set(p)
			default:
				d.Fail("pointer marker")
			}
		},
		minSize: 1,
	}, "*" + ed, nil
}

func (c *compiler) structPlan(t reflect.Type) (*plan, string, error) {
	defer c.enter(t)()
	type field struct {
		i int
		p *plan
	}
	var fields []field
	var desc strings.Builder
	desc.WriteString("struct{")
	min := 0
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if f.Tag.Get("state") == "-" || f.Type.Size() == 0 {
			continue
		}
		p, d, err := c.compile(f.Type)
		if err != nil {
			return nil, "", fmt.Errorf("field %s: %w", f.Name, err)
		}
		fields = append(fields, field{i, p})
		fmt.Fprintf(&desc, "%s %s;", f.Name, d)
		min += p.minSize
	}
	desc.WriteString("}")
	return &plan{
		enc: func(e *Enc, v reflect.Value) {
			for _, f := range fields {
				f.p.enc(e, unexport(v.Field(f.i)))
			}
		},
		dec: func(d *Dec, v reflect.Value) {
			for _, f := range fields {
				if d.err != nil {
					return
				}
				f.p.dec(d, unexport(v.Field(f.i)))
			}
		},
		minSize: min,
	}, desc.String(), nil
}
