package source

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/ulikunitz/xz"
)

// xzMagic starts every xz stream.
var xzMagic = []byte{0xfd, '7', 'z', 'X', 'Z', 0x00}

// MaxXZDict bounds the LZMA2 dictionary an xz input may declare: the
// decoder allocates it, so a crafted file declaring 1.5 GiB would cost
// that much memory. xz -9 uses 64 MiB.
const MaxXZDict = 64 << 20

// openXZ starts decompressing the xz stream at the head of br after
// checking its first block's dictionary size against MaxXZDict.
func openXZ(br *bufio.Reader) (io.Reader, error) {
	// Stream header (12 bytes), then the first block header (at most 1024).
	head, _ := br.Peek(12 + 1024)
	if dict, ok := xzDict(head); ok && dict > MaxXZDict {
		return nil, fmt.Errorf("xz dictionary of %d MiB is larger than the %d MiB winnow allows", dict>>20, MaxXZDict>>20)
	}
	zr, err := xz.NewReader(br)
	if err != nil {
		what := "corrupt xz header"
		if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
			what = "truncated xz header"
		}
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return zr, nil
}

// xzDict returns the LZMA2 dictionary size declared by the first block
// header of an xz stream (head starts at the stream header); false when
// head does not hold a readable block header with an LZMA2 filter.
func xzDict(head []byte) (int64, bool) {
	if len(head) < 14 {
		return 0, false
	}
	b := head[12:]
	size := (int(b[0]) + 1) * 4
	if b[0] == 0 || len(b) < size {
		return 0, false // index (no block) or short
	}
	b = b[1:size]
	flags := b[0]
	b = b[1:]
	skip := func() bool { // a multibyte integer
		_, n := binary.Uvarint(b)
		if n <= 0 {
			return false
		}
		b = b[n:]
		return true
	}
	if flags&0x40 != 0 && !skip() {
		return 0, false
	}
	if flags&0x80 != 0 && !skip() {
		return 0, false
	}
	for range int(flags&3) + 1 {
		id, n := binary.Uvarint(b)
		if n <= 0 {
			return 0, false
		}
		b = b[n:]
		psize, n := binary.Uvarint(b)
		if n <= 0 || uint64(len(b)-n) < psize {
			return 0, false
		}
		props := b[n : n+int(psize)]
		b = b[n+int(psize):]
		if id == 0x21 && len(props) == 1 { // LZMA2
			p := props[0]
			if p > 40 {
				return 0, false
			}
			if p == 40 {
				return 1<<32 - 1, true
			}
			return int64(2|(p&1)) << (p/2 + 11), true
		}
	}
	return 0, false
}
