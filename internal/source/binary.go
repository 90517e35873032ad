package source

import (
	"bytes"
	"encoding/binary"
	"math/bits"
	"unicode/utf8"
)

// isBinaryByte reports whether c is a control byte that text does not
// contain: NUL and the C0 controls other than \t \n \v \f \r and ESC (which
// appears in logs with ANSI colours).
func isBinaryByte(c byte) bool {
	return c < 0x20 && (c < 0x09 || c > 0x0d) && c != 0x1b
}

const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
)

// binaryMask sets the high bit of each byte of x (8 bytes, any order) for
// which isBinaryByte holds, and no other bit. Every step works on bytes
// whose high bit was forced on (or masked off) first, so no carry or
// borrow crosses a byte and the result is exact per byte.
func binaryMask(x uint64) uint64 {
	ascii := ^x & msb // b < 0x80
	y := x | msb      // b|0x80: subtracting < 0x80 never borrows out of the byte
	lt20 := ^(y - 0x20*lsb) & ascii
	ge09 := y - 0x09*lsb // high bit: (b&0x7f) >= 0x09
	ge0e := y - 0x0e*lsb // high bit: (b&0x7f) >= 0x0e
	space := ge09 &^ ge0e
	e := x ^ 0x1b*lsb                     // zero byte where b == ESC
	notEsc := ((e &^ msb) + 0x7f*lsb) | e // high bit: byte != 0
	return lt20 &^ space & notEsc
}

// binaryFrom is the index of the first binary byte (isBinaryByte) in b[pos:]
// as an index into b, or len(b).
func binaryFrom(b []byte, pos int) int {
	i := pos
	for ; i+32 <= len(b); i += 32 {
		m0 := binaryMask(binary.LittleEndian.Uint64(b[i:]))
		m1 := binaryMask(binary.LittleEndian.Uint64(b[i+8:]))
		m2 := binaryMask(binary.LittleEndian.Uint64(b[i+16:]))
		m3 := binaryMask(binary.LittleEndian.Uint64(b[i+24:]))
		if m0|m1|m2|m3 != 0 {
			break // find the exact byte below
		}
	}
	for ; i+8 <= len(b); i += 8 {
		if m := binaryMask(binary.LittleEndian.Uint64(b[i:])); m != 0 {
			return i + bits.TrailingZeros64(m)/8
		}
	}
	for ; i < len(b); i++ {
		if isBinaryByte(b[i]) {
			return i
		}
	}
	return len(b)
}

// LooksBinary reports whether a sample (e.g. the first 8 KiB) is binary data rather
// than text (NULs, high share of non-text bytes); UTF-8 text is not binary.
//
// A sample with a NUL byte is binary (this includes UTF-16 text, which the
// line parsers cannot read either). Otherwise it is binary when more than
// 30% of its bytes are control bytes (isBinaryByte) or bytes that are not
// part of valid UTF-8, a margin that keeps 8-bit legacy text (Latin-1
// accents) as text while compressed or encrypted data (about 60%) is
// binary. A multi-byte character cut by the end of the sample counts as
// text. An empty sample is not binary.
func LooksBinary(sample []byte) bool {
	if len(sample) == 0 {
		return false
	}
	if bytes.IndexByte(sample, 0) >= 0 {
		return true
	}
	bad := 0
	for i := 0; i < len(sample); {
		c := sample[i]
		if c < utf8.RuneSelf {
			if isBinaryByte(c) {
				bad++
			}
			i++
			continue
		}
		r, size := utf8.DecodeRune(sample[i:])
		if r == utf8.RuneError && size == 1 {
			if !utf8.FullRune(sample[i:]) {
				break // a character cut by the end of the sample
			}
			bad++
		}
		i += size
	}
	return bad*10 > len(sample)*3
}
