//lint:file-ignore U1000 the test types exist to be encoded by reflection: their fields are read through reflect

package codec

import (
	"bytes"
	"errors"
	"hash/maphash"
	"math"
	"net/netip"
	"reflect"
	"testing"
	"time"
)

type inner struct {
	name  string
	count int32
	tags  map[string]int64
}

type sample struct {
	File string
	Line int64
	Text string
}

type rich struct {
	a       int
	b       uint8
	f       float64
	f32     float32
	ok      bool
	s       string
	raw     []byte
	nilRaw  []byte
	few     [4]string
	fewN    [4]int32
	key     [16]byte
	list    []sample
	empty   []sample
	set     map[uint64]struct{}
	byKey   map[string]*inner
	ptr     *inner
	nilPtr  *inner
	when    time.Time
	addr    netip.Addr
	noAddr  netip.Addr
	skipped func() `state:"-"`
	custom  counter
	nested  [2]inner
	kinds   [3]kind
	kindS   []kind
}

type kind uint8

// counter encodes itself (a custom codec).
type counter struct{ n int64 }

func (c *counter) MarshalState(e *Enc) { e.Varint(c.n * 2) }
func (c *counter) UnmarshalState(d *Dec) error {
	v := d.Varint()
	if v%2 != 0 {
		d.Fail("odd counter")
	}
	c.n = v / 2
	return d.Err()
}

func richValue() rich {
	return rich{
		a: -42, b: 200, f: math.Pi, f32: 1.5, ok: true, s: "héllo\x00",
		raw: []byte{1, 2, 3}, few: [4]string{"root", "admin"}, fewN: [4]int32{3, -1},
		key:    netip.MustParseAddr("192.0.2.7").As16(),
		list:   []sample{{"auth.log", 12, "Failed password"}, {"", 0, ""}},
		empty:  []sample{},
		set:    map[uint64]struct{}{1: {}, 1 << 60: {}},
		byKey:  map[string]*inner{"x": {name: "x", count: 2, tags: map[string]int64{"a": 1}}, "y": nil},
		ptr:    &inner{name: "p"},
		when:   time.Date(2024, 3, 5, 10, 11, 12, 13, time.UTC),
		addr:   netip.MustParseAddr("2001:db8::1"),
		custom: counter{n: 7}, nested: [2]inner{{name: "n0"}, {count: 9}},
		kinds: [3]kind{1, 200}, kindS: []kind{3, 4},
	}
}

func TestRoundTrip(t *testing.T) {
	c := MustFor[rich]()
	v := richValue()
	b := c.Marshal(&v)
	var got rich
	if err := c.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	v.skipped = nil
	if !reflect.DeepEqual(v, got) {
		t.Fatalf("round trip differs:\n got %+v\nwant %+v", got, v)
	}
	if b2 := c.Marshal(&got); !bytes.Equal(b, b2) {
		t.Fatal("re-encoding differs")
	}
	// Maps encode in key order: the same value gives the same bytes.
	for i := 0; i < 20; i++ {
		if b3 := c.Marshal(&v); !bytes.Equal(b, b3) {
			t.Fatal("encoding is not deterministic")
		}
	}
}

func TestTruncatedIsCorruptAndLeavesReceiver(t *testing.T) {
	c := MustFor[rich]()
	v := richValue()
	b := c.Marshal(&v)
	for n := 0; n < len(b); n++ {
		got := rich{s: "keep"}
		err := c.Unmarshal(b[:n], &got)
		if !errors.Is(err, ErrCorrupt) {
			t.Fatalf("prefix %d: err %v, want ErrCorrupt", n, err)
		}
		if got.s != "keep" || got.a != 0 {
			t.Fatalf("prefix %d: receiver changed", n)
		}
	}
	if err := c.Unmarshal(append(b, 0), new(rich)); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("trailing byte: %v", err)
	}
}

func TestLayout(t *testing.T) {
	type v1 struct {
		a int
		b string
	}
	type v2 struct {
		a int
		c string
	}
	type v3 struct {
		a uint64
		b string
	}
	type v1again struct {
		a int
		b string
	}
	l1, l2, l3 := MustFor[v1]().Layout(), MustFor[v2]().Layout(), MustFor[v3]().Layout()
	if l1 == l2 || l1 == l3 {
		t.Fatal("different layouts share a fingerprint")
	}
	if MustFor[v1again]().Layout() != l1 {
		t.Fatal("same layout, different fingerprint")
	}
}

func TestUnsupported(t *testing.T) {
	type withFunc struct{ f func() }
	type withIface struct{ x any }
	type withChan struct{ c chan int }
	type node struct{ next *node }
	type seeded struct{ s maphash.Seed }
	if _, err := For[seeded](); !errors.Is(err, ErrUnsupported) {
		t.Errorf("maphash seed: %v", err)
	}
	if _, err := For[withFunc](); !errors.Is(err, ErrUnsupported) {
		t.Errorf("func: %v", err)
	}
	if _, err := For[withIface](); !errors.Is(err, ErrUnsupported) {
		t.Errorf("interface: %v", err)
	}
	if _, err := For[withChan](); !errors.Is(err, ErrUnsupported) {
		t.Errorf("chan: %v", err)
	}
	if _, err := For[node](); !errors.Is(err, ErrUnsupported) {
		t.Errorf("recursive: %v", err)
	}
}

func TestBadValues(t *testing.T) {
	f := func(name string, b []byte) {
		t.Helper()
		type small struct {
			u uint8
			k bool
			m map[string]int
			p *int
		}
		if err := MustFor[small]().Unmarshal(b, new(small)); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: err %v, want ErrCorrupt", name, err)
		}
	}
	f("uint8 overflow", []byte{0x80, 0x02, 0, 0, 0})
	f("bool 2", []byte{1, 2, 0, 0})
	f("map count beyond input", []byte{1, 1, 0x7f, 0})
	f("repeated map key", []byte{1, 1, 3, 1, 'a', 2, 1, 'a', 4, 0})
	f("pointer marker 2", []byte{1, 1, 0, 2})
	f("huge varint", []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
}

// FuzzDecode: any input either decodes (and then re-encodes to bytes that
// decode to the same value, exactly) or fails with ErrCorrupt and leaves
// the receiver unchanged. Never a panic, never an allocation the input
// cannot justify.
func FuzzDecode(f *testing.F) {
	c := MustFor[rich]()
	v := richValue()
	good := c.Marshal(&v)
	f.Add(good)
	f.Add(good[:len(good)/2])
	f.Add([]byte{})
	var zero rich
	f.Add(c.Marshal(&zero))
	f.Fuzz(func(t *testing.T, b []byte) {
		got := rich{s: "sentinel"}
		err := c.Unmarshal(b, &got)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error %v does not wrap ErrCorrupt", err)
			}
			if !reflect.DeepEqual(got, rich{s: "sentinel"}) {
				t.Fatal("receiver changed after an error")
			}
			return
		}
		b2 := c.Marshal(&got)
		var again rich
		if err := c.Unmarshal(b2, &again); err != nil {
			t.Fatalf("re-encoded value does not decode: %v", err)
		}
		if b3 := c.Marshal(&again); !bytes.Equal(b2, b3) {
			t.Fatal("round trip is not exact")
		}
	})
}

func BenchmarkEncode(b *testing.B) {
	c := MustFor[rich]()
	v := richValue()
	n := len(c.Marshal(&v))
	b.SetBytes(int64(n))
	b.ReportAllocs()
	var e Enc
	for b.Loop() {
		e.Reset()
		c.Encode(&e, &v)
	}
}

func BenchmarkDecode(b *testing.B) {
	c := MustFor[rich]()
	v := richValue()
	buf := c.Marshal(&v)
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	var got rich
	for b.Loop() {
		if err := c.Unmarshal(buf, &got); err != nil {
			b.Fatal(err)
		}
	}
}
