package state

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"winnow/internal/detect"
	"winnow/internal/source"
)

func sampleSnapshot() *Snapshot {
	t0 := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	return &Snapshot{
		Written: t0, Version: "v0.1-test", Saves: 3,
		Detect: &detect.Snapshot{Seed: 42, Shards: 2, Watermark: t0.Add(-time.Minute), MaxSeen: t0,
			Detectors: []detect.DetectorSnapshot{
				{Name: "auth.brute_force", Key: detect.KeySourceIP,
					Parts: []detect.PartLayout{{Part: 0, Layout: 0xfeed}},
					Shard: [][]byte{{1, 2, 3}, nil},
					Entries: []detect.Entry{
						{Part: 0, Route: "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\xff\xff\xc0\x00\x02\x07", Key: "k1", Seen: t0.UnixNano(), Data: []byte("abc")},
						{Part: 0, Route: "r2", Key: "k2", Seen: 5, Data: nil},
					}},
				{Name: "web.scanner", Key: detect.KeySite},
			}},
		Inputs: []Position{{Path: "/var/log/auth.log", ID: source.FileID{Dev: 2049, Ino: 1234, FPLen: 1024, Fingerprint: [16]byte{9, 8, 7}, Size: 4096},
			Offset: 4000, Lines: 40, Done: true, Seen: t0}},
		Reported: []Reported{{ID: 1, Digest: 2, Count: 1, End: t0, Seen: t0.Add(time.Hour)}, {ID: 3, Digest: 4, Count: 2}},
		Pending:  [][]byte{[]byte(`{"rule":"x"}`), []byte(`{}`)},
	}
}

func TestEncodeDecode(t *testing.T) {
	s := sampleSnapshot()
	b := Encode(s)
	var got Snapshot
	if err := Decode(b, &got); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(s, &got) {
		t.Fatalf("round trip differs:\n got %+v\nwant %+v", got, *s)
	}
	if !bytes.Equal(Encode(&got), b) {
		t.Fatal("re-encoding differs")
	}
}

func TestDecodeErrors(t *testing.T) {
	b := Encode(sampleSnapshot())
	f := func(name string, mod func([]byte) []byte, want error) {
		t.Helper()
		c := mod(append([]byte(nil), b...))
		s := Snapshot{Version: "untouched"}
		err := Decode(c, &s)
		if !errors.Is(err, want) {
			t.Errorf("%s: err %v, want %v", name, err, want)
		}
		if s.Version != "untouched" {
			t.Errorf("%s: receiver changed", name)
		}
	}
	f("empty", func([]byte) []byte { return nil }, ErrCorrupt)
	f("magic", func(c []byte) []byte { c[0] = 'X'; return c }, ErrCorrupt)
	f("flipped byte", func(c []byte) []byte { c[len(c)/2] ^= 0x40; return c }, ErrCorrupt)
	f("truncated", func(c []byte) []byte { return c[:len(c)-9] }, ErrCorrupt)
	f("newer version", func(c []byte) []byte { c[len(Magic)] = 2; return c }, ErrVersion)
}

func TestDirSaveLoad(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	d, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if s, err := d.Load(); s != nil || err != nil {
		t.Fatalf("empty dir: %v %v", s, err)
	}
	if _, err := Open(dir); !errors.Is(err, ErrBusy) {
		t.Fatalf("second Open: %v, want ErrBusy", err)
	}
	s := sampleSnapshot()
	if err := d.Save(s); err != nil {
		t.Fatal(err)
	}
	got, err := d.Load()
	if err != nil {
		t.Fatal(err)
	}
	if got.Saves != 4 || got.Detect.Detectors[0].Name != "auth.brute_force" {
		t.Fatalf("loaded %+v", got)
	}
	left, _ := filepath.Glob(filepath.Join(dir, ".state-*"))
	if len(left) > 0 {
		t.Fatalf("temporary files left: %v", left)
	}
	// Damage the file: a clear error that names the way out, then Fresh.
	p := filepath.Join(dir, FileName)
	raw, _ := os.ReadFile(p)
	raw[len(raw)-1] ^= 1
	os.WriteFile(p, raw, 0o600)
	_, err = d.Load()
	if !errors.Is(err, ErrCorrupt) || !IsFormatError(err) || !strings.Contains(err.Error(), "--fresh-state") {
		t.Fatalf("damaged: %v", err)
	}
	if err := d.Fresh(); err != nil {
		t.Fatal(err)
	}
	if s, err := d.Load(); s != nil || err != nil {
		t.Fatalf("after Fresh: %v %v", s, err)
	}
	if _, err := os.Stat(p + ".discarded"); err != nil {
		t.Fatal("discarded snapshot not kept")
	}
	d.Close()
	d2, err := Open(dir)
	if err != nil {
		t.Fatalf("Open after Close: %v", err)
	}
	d2.Close()
}

// FuzzDecode: every input either decodes — and then encodes to bytes that
// decode and encode again to the same bytes — or fails with ErrCorrupt or
// ErrVersion, leaving the receiver unchanged.
func FuzzDecode(f *testing.F) {
	good := Encode(sampleSnapshot())
	f.Add(good)
	f.Add(good[:len(good)-5])
	f.Add(Encode(&Snapshot{}))
	f.Add([]byte(Magic))
	f.Fuzz(func(t *testing.T, b []byte) {
		s := Snapshot{Version: "sentinel"}
		if err := Decode(b, &s); err != nil {
			if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrVersion) {
				t.Fatalf("error %v wraps no sentinel", err)
			}
			if !reflect.DeepEqual(s, Snapshot{Version: "sentinel"}) {
				t.Fatal("receiver changed after an error")
			}
			return
		}
		b2 := Encode(&s)
		var s2 Snapshot
		if err := Decode(b2, &s2); err != nil {
			t.Fatalf("re-encoded snapshot does not decode: %v", err)
		}
		if !bytes.Equal(Encode(&s2), b2) {
			t.Fatal("round trip is not exact")
		}
	})
}

// FuzzDecodeBody fuzzes the sections behind a valid header and checksum
// (the checksum would stop almost every mutation of whole files).
func FuzzDecodeBody(f *testing.F) {
	good := Encode(sampleSnapshot())
	f.Add(good[len(Magic)+8 : len(good)-4])
	f.Fuzz(func(t *testing.T, body []byte) {
		b := Encode(&Snapshot{})
		b = append(b[:len(Magic)+8], body...)
		b = appendCRC(b)
		s := Snapshot{Version: "sentinel"}
		if err := Decode(b, &s); err != nil {
			if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrVersion) {
				t.Fatalf("error %v wraps no sentinel", err)
			}
			if !reflect.DeepEqual(s, Snapshot{Version: "sentinel"}) {
				t.Fatal("receiver changed after an error")
			}
			return
		}
		b2 := Encode(&s)
		var s2 Snapshot
		if err := Decode(b2, &s2); err != nil {
			t.Fatalf("re-encoded snapshot does not decode: %v", err)
		}
		if !bytes.Equal(Encode(&s2), b2) {
			t.Fatal("round trip is not exact")
		}
	})
}
