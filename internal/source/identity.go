package source

import (
	"bufio"
	"compress/gzip"
	"crypto/sha256"
	"fmt"
	"io"
	"os"
	"syscall"
)

// FingerprintLen is how many leading bytes of a file's content FileID's
// fingerprint covers.
const FingerprintLen = 1024

// FileID identifies an input file across runs: where it lives (device and
// inode) and what it holds (a fingerprint of its first bytes,
// decompressed). A renamed file (auth.log → auth.log.1) keeps its device
// and inode and its fingerprint; a file recreated under the same name
// (rotation) or truncated and rewritten in place (copytruncate) holds
// other first bytes; a compressed copy (auth.log.2.gz) has the fingerprint
// of the text it holds. Positions and manifests that must recognise a file
// they have read before key on it.
type FileID struct {
	Dev, Ino uint64
	// FPLen is how many leading bytes of content Fingerprint covers
	// (FingerprintLen, or fewer for a shorter file).
	FPLen int
	// Fingerprint is the first 16 bytes of the SHA-256 of those bytes.
	Fingerprint [16]byte
	Compressed  bool // gzip: the content is what it decompresses to
	Size        int64
}

// Identify returns the identity of the file at path and its first
// FingerprintLen content bytes (decompressed for gzip).
func Identify(path string) (FileID, []byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return FileID{}, nil, fmt.Errorf("cannot identify %s: %w", path, pathErr(err))
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return FileID{}, nil, fmt.Errorf("cannot identify %s: %w", path, pathErr(err))
	}
	var id FileID
	id.Size = fi.Size()
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		id.Dev, id.Ino = uint64(st.Dev), uint64(st.Ino)
	}
	br := bufio.NewReader(f)
	var r io.Reader = br
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return FileID{}, nil, fmt.Errorf("cannot identify %s: corrupt gzip header: %w", path, err)
		}
		defer zr.Close()
		id.Compressed = true
		r = zr
	}
	head := make([]byte, FingerprintLen)
	n, err := io.ReadFull(r, head)
	if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
		return FileID{}, nil, fmt.Errorf("cannot identify %s: %w", path, pathErr(err))
	}
	head = head[:n]
	id.FPLen = n
	id.Fingerprint = Fingerprint(head)
	return id, head, nil
}

// Fingerprint is the fingerprint FileID keeps of b.
func Fingerprint(b []byte) [16]byte {
	sum := sha256.Sum256(b)
	var fp [16]byte
	copy(fp[:], sum[:])
	return fp
}

// SameContent reports whether a file whose first content bytes are head
// starts with the bytes id fingerprinted (id.FPLen of them), that is,
// whether it holds what id's file held, possibly with more after it.
func (id FileID) SameContent(head []byte) bool {
	if id.FPLen == 0 || len(head) < id.FPLen {
		return false
	}
	return Fingerprint(head[:id.FPLen]) == id.Fingerprint
}

// SameFile reports whether id and o are the same file on disk (device and
// inode; both must be known).
func (id FileID) SameFile(o FileID) bool {
	return id.Ino != 0 && id.Dev == o.Dev && id.Ino == o.Ino
}
