package state

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"time"

	"winnow/internal/detect"
	"winnow/internal/state/codec"
)

// Magic starts every snapshot file.
const Magic = "WNSTATE\n"

// FormatVersion is the snapshot format this package writes and reads.
// The rule for changes (docs/format/state.md): a new section that older
// readers may skip keeps the version; any other change bumps it, and a
// reader refuses versions it does not know (ErrVersion).
const FormatVersion = 1

// Section tags.
const (
	secMeta     = 1
	secRunner   = 2
	secDetector = 3
	secInput    = 4
	secReported = 5
	secPending  = 6
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Encode returns s in the snapshot format.
func Encode(s *Snapshot) []byte {
	var e codec.Enc
	e.Raw([]byte(Magic))
	e.Uint32(FormatVersion)
	e.Uint32(0) // flags
	var sec codec.Enc
	put := func(tag uint64) {
		e.Uvarint(tag)
		e.Blob(sec.Bytes())
		sec.Reset()
	}
	putTime(&sec, s.Written)
	sec.String(s.Version)
	sec.Uvarint(s.Saves)
	put(secMeta)
	if d := s.Detect; d != nil {
		sec.Uint64(d.Seed)
		sec.Uvarint(uint64(d.Shards))
		putTime(&sec, d.Watermark)
		putTime(&sec, d.MaxSeen)
		put(secRunner)
		for i := range d.Detectors {
			putDetector(&sec, &d.Detectors[i])
			put(secDetector)
		}
	}
	for i := range s.Inputs {
		putInput(&sec, &s.Inputs[i])
		put(secInput)
	}
	if len(s.Reported) > 0 {
		sec.Uvarint(uint64(len(s.Reported)))
		for _, r := range s.Reported {
			sec.Uint64(r.ID)
			sec.Uint64(r.Digest)
			sec.Uvarint(uint64(r.Count))
			putTime(&sec, r.End)
			putTime(&sec, r.Seen)
		}
		put(secReported)
	}
	for _, p := range s.Pending {
		sec.Raw(p)
		put(secPending)
	}
	e.Uint32(crc32.Checksum(e.Bytes(), castagnoli))
	return e.Bytes()
}

// Times are a presence byte and, when present, unix nanoseconds (UTC).
func putTime(e *codec.Enc, t time.Time) {
	if t.IsZero() {
		e.Byte(0)
		return
	}
	e.Byte(1)
	e.Varint(t.UnixNano())
}

func getTime(d *codec.Dec) time.Time {
	switch d.Byte() {
	case 0:
		return time.Time{}
	case 1:
		return time.Unix(0, d.Varint()).UTC()
	}
	d.Fail("time marker")
	return time.Time{}
}

func putDetector(e *codec.Enc, ds *detect.DetectorSnapshot) {
	e.String(ds.Name)
	e.Byte(byte(ds.Key))
	e.Uvarint(uint64(len(ds.Parts)))
	for _, p := range ds.Parts {
		e.Byte(p.Part)
		e.Uint64(p.Layout)
	}
	e.Uvarint(uint64(len(ds.Shard)))
	for _, b := range ds.Shard {
		e.Blob(b)
	}
	e.Uvarint(uint64(len(ds.Entries)))
	for i := range ds.Entries {
		en := &ds.Entries[i]
		e.Byte(en.Part)
		e.String(en.Route)
		e.String(en.Key)
		e.Varint(en.Seen)
		e.Blob(en.Data)
	}
}

func getDetector(d *codec.Dec) detect.DetectorSnapshot {
	var ds detect.DetectorSnapshot
	ds.Name = d.String()
	if k := d.Byte(); int(k) < detect.KeyCount {
		ds.Key = detect.Key(k)
	} else {
		d.Fail("key %d", k)
	}
	if n := d.Len(9); n > 0 {
		ds.Parts = make([]detect.PartLayout, n)
		for i := range ds.Parts {
			ds.Parts[i] = detect.PartLayout{Part: d.Byte(), Layout: d.Uint64()}
			for _, p := range ds.Parts[:i] {
				if p.Part == ds.Parts[i].Part {
					d.Fail("part %d declared twice", p.Part)
				}
			}
		}
	}
	if n := d.Len(1); n > 0 {
		ds.Shard = make([][]byte, n)
		for i := range ds.Shard {
			if b := d.Blob(); len(b) > 0 {
				ds.Shard[i] = bytes.Clone(b)
			}
		}
	}
	if n := d.Len(5); n > 0 {
		ds.Entries = make([]detect.Entry, n)
		for i := range ds.Entries {
			en := &ds.Entries[i]
			en.Part = d.Byte()
			en.Route = d.String()
			en.Key = d.String()
			en.Seen = d.Varint()
			if b := d.Blob(); len(b) > 0 {
				en.Data = bytes.Clone(b)
			}
			if d.Err() != nil {
				break
			}
		}
	}
	return ds
}

func putInput(e *codec.Enc, p *Position) {
	e.String(p.Path)
	e.Uvarint(p.ID.Dev)
	e.Uvarint(p.ID.Ino)
	e.Uvarint(uint64(p.ID.FPLen))
	e.Raw(p.ID.Fingerprint[:])
	e.Bool(p.ID.Compressed)
	e.Varint(p.ID.Size)
	e.Varint(p.Offset)
	e.Varint(p.Lines)
	e.Varint(p.Events)
	e.Bool(p.Done)
	putTime(e, p.Seen)
}

func getInput(d *codec.Dec) Position {
	var p Position
	p.Path = d.String()
	p.ID.Dev = d.Uvarint()
	p.ID.Ino = d.Uvarint()
	if n := d.Uvarint(); n <= 1<<20 {
		p.ID.FPLen = int(n)
	} else {
		d.Fail("fingerprint length %d", n)
	}
	for i := range p.ID.Fingerprint {
		p.ID.Fingerprint[i] = d.Byte()
	}
	p.ID.Compressed = d.Bool()
	p.ID.Size = d.Varint()
	p.Offset = d.Varint()
	p.Lines = d.Varint()
	p.Events = d.Varint()
	p.Done = d.Bool()
	p.Seen = getTime(d)
	if p.Offset < 0 || p.Lines < 0 || p.Events < 0 {
		d.Fail("negative position")
	}
	return p
}

// Decode reads a snapshot. Errors wrap ErrCorrupt or ErrVersion; on error
// *s is unchanged.
func Decode(b []byte, s *Snapshot) error {
	const head = len(Magic) + 8
	if len(b) < head+4 || string(b[:len(Magic)]) != Magic {
		return fmt.Errorf("%w: not a winnow state file", ErrCorrupt)
	}
	body, sum := b[:len(b)-4], binary.LittleEndian.Uint32(b[len(b)-4:])
	if v := binary.LittleEndian.Uint32(b[len(Magic):]); v != FormatVersion {
		return fmt.Errorf("%w: version %d (this winnow reads version %d)", ErrVersion, v, FormatVersion)
	}
	if crc32.Checksum(body, castagnoli) != sum {
		return fmt.Errorf("%w: checksum mismatch (the file was damaged)", ErrCorrupt)
	}
	if flags := binary.LittleEndian.Uint32(b[len(Magic)+4:]); flags != 0 {
		return fmt.Errorf("%w: unknown flags %#x", ErrVersion, flags)
	}
	var out Snapshot
	d := codec.NewDec(body[head:])
	seen := map[uint64]bool{}
	for d.Left() > 0 && d.Err() == nil {
		tag := d.Uvarint()
		sec := codec.NewDec(d.Blob())
		if d.Err() != nil {
			break
		}
		switch tag {
		case secMeta, secRunner, secReported:
			if seen[tag] {
				sec.Fail("section %d repeated", tag)
			}
		}
		seen[tag] = true
		switch tag {
		case secMeta:
			out.Written = getTime(sec)
			out.Version = sec.String()
			out.Saves = sec.Uvarint()
		case secRunner:
			ds := &detect.Snapshot{Seed: sec.Uint64()}
			if n := sec.Uvarint(); n >= 1 && n <= 1<<16 {
				ds.Shards = int(n)
			} else {
				sec.Fail("shard count %d", n)
			}
			ds.Watermark = getTime(sec)
			ds.MaxSeen = getTime(sec)
			out.Detect = ds
		case secDetector:
			if out.Detect == nil {
				sec.Fail("detector section before the runner section")
				break
			}
			ds := getDetector(sec)
			if len(ds.Shard) > out.Detect.Shards {
				sec.Fail("%d shard blobs for %d shards", len(ds.Shard), out.Detect.Shards)
			}
			for _, o := range out.Detect.Detectors {
				if o.Name == ds.Name {
					sec.Fail("detector %s twice", ds.Name)
				}
			}
			out.Detect.Detectors = append(out.Detect.Detectors, ds)
		case secInput:
			out.Inputs = append(out.Inputs, getInput(sec))
		case secReported:
			n := sec.Len(19)
			out.Reported = make([]Reported, 0, n)
			for i := 0; i < n && sec.Err() == nil; i++ {
				r := Reported{ID: sec.Uint64(), Digest: sec.Uint64()}
				if c := sec.Uvarint(); c <= 1<<32-1 {
					r.Count = uint32(c)
				} else {
					sec.Fail("count %d", c)
				}
				r.End = getTime(sec)
				r.Seen = getTime(sec)
				out.Reported = append(out.Reported, r)
			}
		case secPending:
			out.Pending = append(out.Pending, bytes.Clone(sec.Rest()))
		default:
			continue // a section of a later minor revision: skip it
		}
		if err := sec.End(); err != nil {
			return fmt.Errorf("%w: section %d: %w", ErrCorrupt, tag, err)
		}
	}
	if err := d.Err(); err != nil {
		return fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	if !seen[secMeta] {
		return fmt.Errorf("%w: no meta section", ErrCorrupt)
	}
	*s = out
	return nil
}

// IsFormatError reports whether err says the snapshot cannot be read (so
// starting fresh is the way out), as opposed to an I/O error.
func IsFormatError(err error) bool {
	return errors.Is(err, ErrCorrupt) || errors.Is(err, ErrVersion)
}

// appendCRC appends the checksum of b (tests build files with it).
func appendCRC(b []byte) []byte {
	return binary.LittleEndian.AppendUint32(b, crc32.Checksum(b, castagnoli))
}
