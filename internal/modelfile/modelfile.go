// Package modelfile is the container of winnow's compiled model files
// (forest, CART tree, Hoeffding tree, profiles, ...): a versioned,
// checksummed envelope around a model's own payload, with the metadata
// that decides whether a model may be applied here — its type and type
// version, the feature schema it was trained on, the site that trained it
// and the winnow version that wrote it. docs/format/model.md describes the
// bytes.
//
// The package is a leaf: it imports nothing internal. A model package
// encodes its payload with Enc, decodes it with Dec (bounds-checked, with
// a sticky error), and wraps it with Encode/Decode or WriteFile/ReadFile.
package modelfile

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Container layout (version 1). Integers are little-endian or unsigned
// varints (minimal encodings only); strings and byte fields are a uvarint
// length followed by the bytes.
//
//	magic     4 bytes "WNMC"
//	version   uint16 (1)
//	type      string  model type ("forest", "vfdt", ...)
//	typever   uvarint model type's payload version
//	schema    string  feature schema the model was trained on
//	site      string  site that trained it ("" = not recorded)
//	producer  string  winnow version that wrote it
//	created   int64   Unix seconds (event time of the training data's end, or wall clock)
//	metas     uvarint number of metadata pairs, then key/value strings in key order
//	payload   bytes
//	crc       uint32  CRC-32C (Castagnoli) of every byte before it
const (
	// Version is the container version this package reads and writes.
	Version = 1
	// MaxFileSize bounds what ReadFile accepts.
	MaxFileSize = 1 << 30
	maxMeta     = 1024
)

// Magic starts every container file.
var Magic = [4]byte{'W', 'N', 'M', 'C'}

// Sentinel errors, wrapped by Decode, ReadFile and Check.
var (
	// ErrFormat: the bytes are not a valid container (bad magic, checksum,
	// truncated, malformed field, trailing bytes).
	ErrFormat = errors.New("not a winnow model file")
	// ErrVersion: a valid container of a version, type version or feature
	// schema this winnow cannot apply.
	ErrVersion = errors.New("model version not supported")
	// ErrType: a model of another type than the caller expects.
	ErrType = errors.New("wrong model type")
	// ErrSite: the model was trained at another site and the caller
	// refuses foreign models.
	ErrSite = errors.New("model trained at another site")
)

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// Header is a container's metadata.
type Header struct {
	Type        string
	TypeVersion uint64
	Schema      string
	Site        string
	Producer    string
	Created     time.Time
	Meta        map[string]string // free-form figures (training rows, OOB error, ...)
}

// IsContainer reports whether b starts with the container magic (so a
// caller can tell a container from another model format).
func IsContainer(b []byte) bool { return len(b) >= 4 && bytes.Equal(b[:4], Magic[:]) }

// Encode wraps payload in a container. It is deterministic.
func Encode(h Header, payload []byte) []byte {
	var e Enc
	e.b = append(e.b, Magic[:]...)
	e.b = binary.LittleEndian.AppendUint16(e.b, Version)
	e.String(h.Type)
	e.Uvarint(h.TypeVersion)
	e.String(h.Schema)
	e.String(h.Site)
	e.String(h.Producer)
	var unix int64
	if !h.Created.IsZero() {
		unix = h.Created.Unix()
	}
	e.Varint(unix)
	keys := make([]string, 0, len(h.Meta))
	for k := range h.Meta {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	e.Uvarint(uint64(len(keys)))
	for _, k := range keys {
		e.String(k)
		e.String(h.Meta[k])
	}
	e.Bytes(payload)
	return binary.LittleEndian.AppendUint32(e.b, crc32.Checksum(e.b, crcTable))
}

// Decode checks and unwraps a container. The payload aliases b.
func Decode(b []byte) (Header, []byte, error) {
	bad := func(format string, args ...any) (Header, []byte, error) {
		return Header{}, nil, fmt.Errorf("%w: %s", ErrFormat, fmt.Sprintf(format, args...))
	}
	if len(b) < 10 {
		return bad("%d bytes, too short", len(b))
	}
	if !IsContainer(b) {
		return bad("bad magic %q", b[:4])
	}
	if v := binary.LittleEndian.Uint16(b[4:]); v != Version {
		return Header{}, nil, fmt.Errorf("%w: container version %d (this winnow reads version %d)", ErrVersion, v, Version)
	}
	body := b[:len(b)-4]
	if want, got := binary.LittleEndian.Uint32(b[len(b)-4:]), crc32.Checksum(body, crcTable); want != got {
		return bad("checksum mismatch (file corrupted or truncated)")
	}
	d := NewDec(body[6:])
	var h Header
	h.Type = d.String()
	h.TypeVersion = d.Uvarint()
	h.Schema = d.String()
	h.Site = d.String()
	h.Producer = d.String()
	if unix := d.Varint(); unix != 0 {
		h.Created = time.Unix(unix, 0).UTC()
	}
	n := d.Count(2)
	if n > maxMeta {
		d.Fail("%d metadata pairs", n)
	}
	prev := ""
	for i := 0; i < n && d.Err() == nil; i++ {
		k, v := d.String(), d.String()
		if i > 0 && k <= prev {
			d.Fail("metadata keys out of order")
		}
		prev = k
		if h.Meta == nil {
			h.Meta = make(map[string]string, n)
		}
		h.Meta[k] = v
	}
	payload := d.Bytes()
	if d.Err() == nil && d.Len() != 0 {
		d.Fail("%d trailing bytes", d.Len())
	}
	if err := d.Err(); err != nil {
		return Header{}, nil, err
	}
	if h.Type == "" {
		return bad("no model type")
	}
	return h, payload, nil
}

// Expect is what a loader requires of a model.
type Expect struct {
	Type        string // required type
	TypeVersion uint64 // the payload version this winnow reads
	// Schema, if set, must equal the model's (the features the loader
	// computes must be the ones the model was trained on).
	Schema string
	// Site, if set and the model records another site, is a warning — or
	// ErrSite when StrictSite is set.
	Site       string
	StrictSite bool
}

// Check compares a header with what the loader expects. It returns
// warnings for conditions the caller should print (a model from another
// site), and an error wrapping ErrType, ErrVersion or ErrSite for a model
// that must not be applied.
func (h Header) Check(e Expect) (warnings []string, err error) {
	if h.Type != e.Type {
		return nil, fmt.Errorf("%w: a %q model, want %q", ErrType, h.Type, e.Type)
	}
	if h.TypeVersion != e.TypeVersion {
		return nil, fmt.Errorf("%w: %s model version %d (written by winnow %s), this winnow reads version %d: retrain it",
			ErrVersion, h.Type, h.TypeVersion, orUnknown(h.Producer), e.TypeVersion)
	}
	if e.Schema != "" && h.Schema != e.Schema {
		return nil, fmt.Errorf("%w: trained on features %q, this winnow computes %q: retrain it", ErrVersion, h.Schema, e.Schema)
	}
	if e.Site != "" && h.Site != "" && h.Site != e.Site {
		msg := fmt.Sprintf("model trained at site %q, applied at site %q: its baselines describe another network", h.Site, e.Site)
		if e.StrictSite {
			return nil, fmt.Errorf("%w: %s", ErrSite, msg)
		}
		warnings = append(warnings, msg)
	}
	return warnings, nil
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

// ReadFile reads and decodes a container file.
func ReadFile(path string) (Header, []byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return Header{}, nil, fmt.Errorf("cannot open model: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return Header{}, nil, fmt.Errorf("cannot read model %s: %w", path, err)
	}
	if len(b) > MaxFileSize {
		return Header{}, nil, fmt.Errorf("cannot read model %s: larger than %d bytes", path, MaxFileSize)
	}
	h, p, err := Decode(b)
	if err != nil {
		return Header{}, nil, fmt.Errorf("cannot load model %s: %w", path, err)
	}
	return h, p, nil
}

// WriteFile writes a container to path atomically: a temporary file in
// the same directory, synced, then renamed over path.
func WriteFile(path string, h Header, payload []byte) error {
	b := Encode(h, payload)
	tmp, err := os.CreateTemp(filepath.Dir(path), ".wnm-*")
	if err != nil {
		return fmt.Errorf("cannot save model: %w", err)
	}
	_, werr := tmp.Write(b)
	if werr == nil {
		werr = tmp.Sync()
	}
	if cerr := tmp.Close(); werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Rename(tmp.Name(), path)
	}
	if werr != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("cannot save model %s: %w", path, werr)
	}
	return nil
}

// Describe renders a header for humans (one line per field).
func (h Header) Describe() string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "type      %s (version %d)\n", h.Type, h.TypeVersion)
	fmt.Fprintf(&sb, "features  %s\n", h.Schema)
	fmt.Fprintf(&sb, "site      %s\n", orUnknown(h.Site))
	fmt.Fprintf(&sb, "producer  winnow %s\n", orUnknown(h.Producer))
	if !h.Created.IsZero() {
		fmt.Fprintf(&sb, "created   %s\n", h.Created.Format(time.RFC3339))
	}
	keys := make([]string, 0, len(h.Meta))
	for k := range h.Meta {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		fmt.Fprintf(&sb, "%-9s %s\n", k, h.Meta[k])
	}
	return sb.String()
}

// Enc appends payload fields to a byte slice.
type Enc struct{ b []byte }

// Data returns the encoded bytes.
func (e *Enc) Data() []byte { return e.b }

// Uvarint appends an unsigned varint.
func (e *Enc) Uvarint(v uint64) { e.b = binary.AppendUvarint(e.b, v) }

// Varint appends a signed (zig-zag) varint.
func (e *Enc) Varint(v int64) { e.b = binary.AppendVarint(e.b, v) }

// Byte appends one byte.
func (e *Enc) Byte(v byte) { e.b = append(e.b, v) }

// Float64 appends an IEEE-754 binary64 bit pattern.
func (e *Enc) Float64(v float64) { e.b = binary.LittleEndian.AppendUint64(e.b, math.Float64bits(v)) }

// Float32 appends an IEEE-754 binary32 bit pattern.
func (e *Enc) Float32(v float32) { e.b = binary.LittleEndian.AppendUint32(e.b, math.Float32bits(v)) }

// String appends a length-prefixed string.
func (e *Enc) String(s string) { e.Uvarint(uint64(len(s))); e.b = append(e.b, s...) }

// Bytes appends a length-prefixed byte field.
func (e *Enc) Bytes(p []byte) { e.Uvarint(uint64(len(p))); e.b = append(e.b, p...) }

// Dec reads payload fields with bounds checks. The first failure is kept
// (sticky): later reads return zero values, and Err reports it wrapped in
// ErrFormat. Decoders read every field, then check Err once.
type Dec struct {
	b   []byte
	err error
}

// NewDec returns a decoder over b.
func NewDec(b []byte) *Dec { return &Dec{b: b} }

// Err returns the first decoding error (wrapping ErrFormat), or nil.
func (d *Dec) Err() error { return d.err }

// Len is the number of unread bytes.
func (d *Dec) Len() int { return len(d.b) }

// Fail records a decoding error (if none yet).
func (d *Dec) Fail(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: %s", ErrFormat, fmt.Sprintf(format, args...))
	}
	d.b = nil
}

// Uvarint reads an unsigned varint (minimal encoding only).
func (d *Dec) Uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, w := binary.Uvarint(d.b)
	if w <= 0 || (w > 1 && d.b[w-1] == 0) {
		d.Fail("bad varint")
		return 0
	}
	d.b = d.b[w:]
	return v
}

// Varint reads a signed varint.
func (d *Dec) Varint() int64 {
	if d.err != nil {
		return 0
	}
	v, w := binary.Varint(d.b)
	if w <= 0 || (w > 1 && d.b[w-1] == 0) {
		d.Fail("bad varint")
		return 0
	}
	d.b = d.b[w:]
	return v
}

// Count reads a uvarint count of items that take at least minBytes each,
// and fails when the remaining data cannot hold that many.
func (d *Dec) Count(minBytes int) int {
	n := d.Uvarint()
	if d.err != nil {
		return 0
	}
	if minBytes < 1 {
		minBytes = 1
	}
	if n > uint64(len(d.b)/minBytes) {
		d.Fail("count %d exceeds the data", n)
		return 0
	}
	return int(n)
}

// Int reads a uvarint that must be at most limit.
func (d *Dec) Int(limit int) int {
	v := d.Uvarint()
	if d.err == nil && v > uint64(limit) {
		d.Fail("value %d above %d", v, limit)
		return 0
	}
	return int(v)
}

// Byte reads one byte.
func (d *Dec) Byte() byte {
	if d.err != nil {
		return 0
	}
	if len(d.b) < 1 {
		d.Fail("truncated")
		return 0
	}
	v := d.b[0]
	d.b = d.b[1:]
	return v
}

// Float64 reads a binary64 value; NaN and infinities are refused unless
// allowNaN is set (then NaN, not infinities, passes).
func (d *Dec) Float64(allowNaN bool) float64 {
	if d.err != nil {
		return 0
	}
	if len(d.b) < 8 {
		d.Fail("truncated")
		return 0
	}
	v := math.Float64frombits(binary.LittleEndian.Uint64(d.b))
	d.b = d.b[8:]
	if math.IsInf(v, 0) || (math.IsNaN(v) && !allowNaN) {
		d.Fail("non-finite number")
		return 0
	}
	return v
}

// Float32 reads a finite binary32 value.
func (d *Dec) Float32() float32 {
	if d.err != nil {
		return 0
	}
	if len(d.b) < 4 {
		d.Fail("truncated")
		return 0
	}
	v := math.Float32frombits(binary.LittleEndian.Uint32(d.b))
	d.b = d.b[4:]
	if f := float64(v); math.IsInf(f, 0) || math.IsNaN(f) {
		d.Fail("non-finite number")
		return 0
	}
	return v
}

// String reads a length-prefixed string (copied).
func (d *Dec) String() string { return string(d.Bytes()) }

// Bytes reads a length-prefixed byte field (aliasing the input).
func (d *Dec) Bytes() []byte {
	n := d.Uvarint()
	if d.err != nil {
		return nil
	}
	if n > uint64(len(d.b)) {
		d.Fail("field of %d bytes exceeds the data", n)
		return nil
	}
	p := d.b[:n:n]
	d.b = d.b[n:]
	return p
}
