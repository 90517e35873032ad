package bayes

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
)

// Model file format ("wnm", version 1). All integers are little-endian;
// floats are IEEE-754 binary64 bit patterns.
//
//	offset  size  field
//	0       4     magic "WNMB" (winnow naive-Bayes model)
//	4       2     format version (1)
//	6       1     kind: 1 http, 2 auth, 3 dns
//	7       1     tokeniser version of that kind (a model is only valid
//	              with the tokeniser that produced its token hashes)
//	8       8     good items trained (uint64)
//	16      8     bad items trained (uint64)
//	24      8     threshold (float64, 0–1)
//	32      8     cost of blocking a good item (float64 > 0)
//	40      8     cost of missing a bad item (float64 > 0)
//	48      8     strength s (float64 > 0)
//	56      8     minimum distance from 0.5 (float64, 0–0.5)
//	64      8     lower bound of unknown-token probability (float64)
//	72      8     upper bound of unknown-token probability (float64)
//	80      4     validation good items (uint32)
//	84      4     validation bad items (uint32)
//	88      8     validation ROC AUC (float64)
//	96      8     validation TPR at the threshold (float64)
//	104     8     validation FPR at the threshold (float64)
//	112     8     token count N (uint64)
//	120     …     N token records in increasing hash order:
//	                uvarint  hash − previous hash (the first: the hash; > 0)
//	                byte     token class (1 … classes of the kind − 1)
//	                uvarint  good items with the token (≤ good items trained)
//	                uvarint  bad items with the token (≤ bad items trained)
//	end−4   4     CRC-32C (Castagnoli) of every byte before it
//
// Tokens are stored as 64-bit hashes, never as text: a model trained on
// traffic holding passwords or personal data does not carry them. The
// decoder checks every field and rejects trailing bytes, so a truncated,
// corrupted or foreign file is an error (ErrFormat), never a crash.
const (
	formatVersion = 1
	headerSize    = 120
)

var magic = [4]byte{'W', 'N', 'M', 'B'}

// Tokeniser versions, per kind: bump when a tokeniser changes the tokens it
// produces, so old models are rejected rather than silently mis-scored.
const (
	httpTokeniser = 2
	authTokeniser = 1
	dnsTokeniser  = 1
)

func tokeniserVersion(k Kind) uint8 {
	switch k {
	case KindHTTP:
		return httpTokeniser
	case KindAuth:
		return authTokeniser
	case KindDNS:
		return dnsTokeniser
	}
	return 0
}

// ErrFormat is wrapped by decoding errors: the data is not a valid model
// file of a supported version.
var ErrFormat = errors.New("not a winnow model file")

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// MarshalBinary encodes the model (deterministically: the same model gives
// the same bytes).
func (m *Model) MarshalBinary() ([]byte, error) {
	if m.Kind.classCount() == 0 {
		return nil, fmt.Errorf("cannot encode model: unknown kind %d", m.Kind)
	}
	keys := make([]uint64, 0, len(m.tokens))
	for h := range m.tokens {
		keys = append(keys, h)
	}
	slices.Sort(keys)
	b := make([]byte, headerSize, headerSize+len(keys)*8+4)
	copy(b, magic[:])
	le := binary.LittleEndian
	le.PutUint16(b[4:], formatVersion)
	b[6] = byte(m.Kind)
	b[7] = tokeniserVersion(m.Kind)
	le.PutUint64(b[8:], m.Good)
	le.PutUint64(b[16:], m.Bad)
	for i, f := range []float64{m.Threshold, m.Costs.BlockGood, m.Costs.MissBad, m.Params.Strength,
		m.Params.MinDist, m.Params.UnknownLo, m.Params.UnknownHi} {
		le.PutUint64(b[24+8*i:], math.Float64bits(f))
	}
	le.PutUint32(b[80:], uint32(m.Validation.Good))
	le.PutUint32(b[84:], uint32(m.Validation.Bad))
	for i, f := range []float64{m.Validation.AUC, m.Validation.TPR, m.Validation.FPR} {
		le.PutUint64(b[88+8*i:], math.Float64bits(f))
	}
	le.PutUint64(b[112:], uint64(len(keys)))
	prev := uint64(0)
	for _, h := range keys {
		c := m.tokens[h]
		b = binary.AppendUvarint(b, h-prev)
		prev = h
		b = append(b, byte(c.class))
		b = binary.AppendUvarint(b, uint64(c.good))
		b = binary.AppendUvarint(b, uint64(c.bad))
	}
	return binary.LittleEndian.AppendUint32(b, crc32.Checksum(b, crcTable)), nil
}

// UnmarshalBinary decodes a model file (see the format above). On error
// the model is left unchanged.
func (m *Model) UnmarshalBinary(b []byte) error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrFormat, fmt.Sprintf(format, args...))
	}
	if len(b) < headerSize+4 {
		return bad("%d bytes, too short", len(b))
	}
	if !bytes.Equal(b[:4], magic[:]) {
		return bad("bad magic %q", b[:4])
	}
	le := binary.LittleEndian
	if v := le.Uint16(b[4:]); v != formatVersion {
		return bad("format version %d (this winnow reads version %d)", v, formatVersion)
	}
	body := b[:len(b)-4]
	if want, got := le.Uint32(b[len(b)-4:]), crc32.Checksum(body, crcTable); want != got {
		return bad("checksum mismatch (file corrupted or truncated)")
	}
	k := Kind(b[6])
	classes := k.classCount()
	if classes == 0 {
		return bad("unknown kind %d", b[6])
	}
	if b[7] != tokeniserVersion(k) {
		return bad("%s tokeniser version %d, this winnow has version %d: retrain the model", k, b[7], tokeniserVersion(k))
	}
	n := Model{Kind: k, Good: le.Uint64(b[8:]), Bad: le.Uint64(b[16:])}
	f := func(off int) float64 { return math.Float64frombits(le.Uint64(b[off:])) }
	n.Threshold = f(24)
	n.Costs.BlockGood, n.Costs.MissBad = f(32), f(40)
	n.Params = Params{Strength: f(48), MinDist: f(56), UnknownLo: f(64), UnknownHi: f(72)}
	n.Validation = Validation{Good: int(le.Uint32(b[80:])), Bad: int(le.Uint32(b[84:])), AUC: f(88), TPR: f(96), FPR: f(104)}
	if !(n.Threshold >= 0 && n.Threshold <= 1) {
		return bad("threshold %v out of [0, 1]", n.Threshold)
	}
	if !(n.Costs.BlockGood > 0) || !(n.Costs.MissBad > 0) || math.IsInf(n.Costs.BlockGood, 0) || math.IsInf(n.Costs.MissBad, 0) {
		return bad("costs %v/%v must be positive", n.Costs.BlockGood, n.Costs.MissBad)
	}
	if err := n.Params.valid(); err != nil {
		return bad("%v", err)
	}
	for _, v := range []float64{n.Validation.AUC, n.Validation.TPR, n.Validation.FPR} {
		if !(v >= 0 && v <= 1) {
			return bad("validation figure %v out of [0, 1]", v)
		}
	}
	count := le.Uint64(b[112:])
	rest := body[headerSize:]
	if count > uint64(len(rest))/4 { // a record takes at least 4 bytes
		return bad("token count %d exceeds the data", count)
	}
	n.tokens = make(map[uint64]counts, count)
	prev := uint64(0)
	for i := uint64(0); i < count; i++ {
		d, w := uvarint(rest)
		if w <= 0 || (d == 0) || d > math.MaxUint64-prev {
			return bad("token %d: bad hash delta", i)
		}
		rest = rest[w:]
		h := prev + d
		prev = h
		if len(rest) == 0 {
			return bad("token %d: truncated", i)
		}
		cl := Class(rest[0])
		rest = rest[1:]
		if cl == 0 || int(cl) >= classes {
			return bad("token %d: class %d not a %s class", i, cl, k)
		}
		g, w := uvarint(rest)
		if w <= 0 || g > n.Good || g > math.MaxUint32 {
			return bad("token %d: bad good count", i)
		}
		rest = rest[w:]
		bb, w := uvarint(rest)
		if w <= 0 || bb > n.Bad || bb > math.MaxUint32 || g+bb == 0 {
			return bad("token %d: bad bad count", i)
		}
		rest = rest[w:]
		n.tokens[h] = counts{good: uint32(g), bad: uint32(bb), class: cl}
	}
	if len(rest) != 0 {
		return bad("%d trailing bytes", len(rest))
	}
	*m = n
	return nil
}

// uvarint is binary.Uvarint that also rejects non-minimal encodings
// (a value padded with 0x80 bytes), so every model has one encoding.
func uvarint(b []byte) (uint64, int) {
	v, w := binary.Uvarint(b)
	if w > 1 && b[w-1] == 0 {
		return 0, -1
	}
	return v, w
}

// WriteTo writes the encoded model to w.
func (m *Model) WriteTo(w io.Writer) (int64, error) {
	b, err := m.MarshalBinary()
	if err != nil {
		return 0, err
	}
	n, err := w.Write(b)
	return int64(n), err
}

// MaxFileSize bounds what Load reads (a model of 10M tokens is ~200 MB).
const MaxFileSize = 1 << 30

// Load reads and decodes a model file and compiles it for scoring.
func Load(path string) (*Model, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("cannot open model: %w", err)
	}
	defer f.Close()
	// The magic first: a wrong file (or /dev/zero) is refused before
	// anything more is read.
	var head [len(magic)]byte
	if _, err := io.ReadFull(f, head[:]); err != nil || head != magic {
		return nil, fmt.Errorf("cannot load model %s: %w (bad magic)", path, ErrFormat)
	}
	b, err := io.ReadAll(io.LimitReader(io.MultiReader(bytes.NewReader(head[:]), f), MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("cannot read model %s: %w", path, err)
	}
	if len(b) > MaxFileSize {
		return nil, fmt.Errorf("cannot read model %s: larger than %d bytes", path, MaxFileSize)
	}
	m := &Model{}
	if err := m.UnmarshalBinary(b); err != nil {
		return nil, fmt.Errorf("cannot load model %s: %w", path, err)
	}
	m.Compile()
	return m, nil
}

// Save writes the model to path atomically: a temporary file in the same
// directory, synced, then renamed over path.
func (m *Model) Save(path string) error {
	b, err := m.MarshalBinary()
	if err != nil {
		return err
	}
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
