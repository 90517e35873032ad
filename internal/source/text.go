package source

import (
	"bytes"
	"errors"
	"fmt"
	"io"
)

// ErrBinary is wrapped by CheckText's error for an input that is binary
// data rather than text lines.
var ErrBinary = errors.New("binary data, not a text file")

// BinaryMagic recognises common binary files by their first bytes (the
// first line of the input is enough): it returns what the file is.
// Compressed formats that Open decompresses (gzip, xz) are not listed.
func BinaryMagic(first []byte) (string, bool) {
	for _, m := range []struct{ magic, what string }{
		{"\x7fELF", "ELF executable"},
		{"PK\x03\x04", "zip archive"},
		{"BZh", "bzip2; decompress it first"},
		{"\x28\xb5\x2f\xfd", "zstd; decompress it first"},
		{"7z\xbc\xaf\x27\x1c", "7-zip archive"},
		{"\x89PNG", "PNG image"},
		{"\xff\xd8\xff", "JPEG image"},
		{"%PDF-", "PDF document"},
		{"SQLite format 3\x00", "SQLite database"},
		{"LPKSHHRH", "systemd journal; use journalctl -o short-iso | winnow analyze -"},
		{"WNMB", "winnow model file"},
		{"PAR1", "Parquet file"},
	} {
		if bytes.HasPrefix(first, []byte(m.magic)) {
			return m.what, true
		}
	}
	return "", false
}

// CheckText looks at the input's first lines (without consuming them) and
// returns an error wrapping ErrBinary when the input is binary: a known
// binary magic, or most of the first lines binary (LooksBinary). It is for
// commands that read one kind of text (names, CSV rows, requests) and
// have no reason to sniff past junk as analyze does.
func (r *Reader) CheckText() error {
	head, err := r.Peek(32)
	if err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	if len(head) == 0 {
		return nil
	}
	if what, ok := BinaryMagic(head[0]); ok {
		return fmt.Errorf("%s: %w (%s)", r.in.Name, ErrBinary, what)
	}
	bin := 0
	for _, l := range head {
		if LooksBinary(l) {
			bin++
		}
	}
	if bin*2 > len(head) {
		return fmt.Errorf("%s: %w (%d of its first %d lines are binary)", r.in.Name, ErrBinary, bin, len(head))
	}
	return nil
}
