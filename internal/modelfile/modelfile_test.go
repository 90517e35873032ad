package modelfile

import (
	"bytes"
	"errors"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func sample() (Header, []byte) {
	return Header{Type: "forest", TypeVersion: 3, Schema: "entity/source.ip/1h", Site: "lab", Producer: "v1.2",
		Created: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), Meta: map[string]string{"rows": "100", "oob_accuracy": "0.99"}}, []byte("payload bytes")
}

func TestRoundTrip(t *testing.T) {
	h, p := sample()
	b := Encode(h, p)
	if !bytes.Equal(b, Encode(h, p)) {
		t.Fatal("not deterministic")
	}
	h2, p2, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(h, h2) || !bytes.Equal(p, p2) {
		t.Errorf("round trip: %+v %q", h2, p2)
	}
	path := filepath.Join(t.TempDir(), "m.wnm")
	if err := WriteFile(path, h, p); err != nil {
		t.Fatal(err)
	}
	h3, p3, err := ReadFile(path)
	if err != nil || !reflect.DeepEqual(h, h3) || !bytes.Equal(p, p3) {
		t.Errorf("file round trip: %v", err)
	}
	if !strings.Contains(h.Describe(), "site      lab") {
		t.Errorf("describe:\n%s", h.Describe())
	}
}

func TestCorrupt(t *testing.T) {
	h, p := sample()
	b := Encode(h, p)
	for i := range b {
		c := bytes.Clone(b)
		c[i] ^= 0x40
		if _, _, err := Decode(c); err == nil {
			t.Fatalf("flipped byte %d accepted", i)
		} else if !errors.Is(err, ErrFormat) && !errors.Is(err, ErrVersion) {
			t.Fatalf("flipped byte %d: %v wraps no sentinel", i, err)
		}
	}
	for n := range len(b) {
		if _, _, err := Decode(b[:n]); !errors.Is(err, ErrFormat) {
			t.Fatalf("truncated to %d: %v", n, err)
		}
	}
}

func TestCheck(t *testing.T) {
	h, _ := sample()
	f := func(e Expect, wantErr error, wantWarn int) {
		t.Helper()
		w, err := h.Check(e)
		if !errors.Is(err, wantErr) || (wantErr == nil && err != nil) || len(w) != wantWarn {
			t.Errorf("Check(%+v) = %v, %v; want %v and %d warnings", e, w, err, wantErr, wantWarn)
		}
	}
	f(Expect{Type: "forest", TypeVersion: 3}, nil, 0)
	f(Expect{Type: "forest", TypeVersion: 3, Schema: "entity/source.ip/1h", Site: "lab"}, nil, 0)
	f(Expect{Type: "vfdt", TypeVersion: 3}, ErrType, 0)
	f(Expect{Type: "forest", TypeVersion: 4}, ErrVersion, 0)
	f(Expect{Type: "forest", TypeVersion: 3, Schema: "entity/user.name/1h"}, ErrVersion, 0)
	f(Expect{Type: "forest", TypeVersion: 3, Site: "prod"}, nil, 1)
	f(Expect{Type: "forest", TypeVersion: 3, Site: "prod", StrictSite: true}, ErrSite, 0)
}

func TestDec(t *testing.T) {
	var e Enc
	e.Uvarint(300)
	e.Varint(-5)
	e.Float64(1.5)
	e.Float32(2.5)
	e.String("abc")
	e.Byte(7)
	d := NewDec(e.Data())
	if d.Uvarint() != 300 || d.Varint() != -5 || d.Float64(false) != 1.5 || d.Float32() != 2.5 || d.String() != "abc" || d.Byte() != 7 || d.Err() != nil || d.Len() != 0 {
		t.Fatal("decode mismatch")
	}
	d.Byte()
	if !errors.Is(d.Err(), ErrFormat) {
		t.Fatal("read past end: no error")
	}
	// Non-minimal varints are refused (one encoding per model).
	if d := NewDec([]byte{0x80, 0x00}); d.Uvarint() != 0 || d.Err() == nil {
		t.Error("padded varint accepted")
	}
	if d := NewDec([]byte{5, 'a'}); d.String() != "" || d.Err() == nil {
		t.Error("overlong string accepted")
	}
	if d := NewDec([]byte{200, 1}); d.Count(1) != 0 || d.Err() == nil {
		t.Error("count beyond the data accepted")
	}
}

func FuzzDecode(f *testing.F) {
	h, p := sample()
	f.Add(Encode(h, p))
	f.Add(Encode(Header{Type: "x"}, nil))
	f.Add([]byte("WNMC\x01\x00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		h, p, err := Decode(b)
		if err != nil {
			if !errors.Is(err, ErrFormat) && !errors.Is(err, ErrVersion) {
				t.Fatalf("%v wraps no sentinel", err)
			}
			return
		}
		if !bytes.Equal(Encode(h, p), b) {
			t.Fatal("round trip differs")
		}
	})
}
