package archive

import (
	"crypto/sha256"
	"encoding/hex"
	"math"
	"time"
)

// FingerprintBytes is how much of an input's (decompressed) content its
// fingerprint covers.
const FingerprintBytes = 16 << 10

// InputRecord says how much of one input an archive holds. The journal's
// end record of a run lists one per input the run read.
type InputRecord struct {
	Name string `json:"name"` // as the run named it (reports)
	// Fingerprint is the hex SHA-256 (first 16 bytes) of the input's first
	// Prefix bytes of content (decompressed); Prefix is FingerprintBytes
	// unless the input was shorter.
	Fingerprint string `json:"fp"`
	Prefix      int64  `json:"prefix"`
	// Dev and Ino identify the file (0 for standard input).
	Dev uint64 `json:"dev,omitempty"`
	Ino uint64 `json:"ino,omitempty"`
	// Lines 1..Lines are archived: a later run stores only the events of
	// lines after Lines.
	Lines  int64     `json:"lines"`
	Events int64     `json:"events,omitempty"` // events this run stored
	Run    string    `json:"run,omitempty"`
	At     time.Time `json:"at,omitzero"`
}

// Source identifies one input of a run for Writer.Track.
type Source struct {
	Name     string // the name events carry in Ref.File
	Head     []byte // the first FingerprintBytes of its content (less if shorter)
	Dev, Ino uint64 // file identity; 0 when unknown (stdin)
}

// fingerprint hashes the head of an input.
func fingerprint(head []byte) string {
	sum := sha256.Sum256(head)
	return hex.EncodeToString(sum[:16])
}

// Resume is what an archive already holds of an input.
type Resume struct {
	Name  string // the input
	Lines int64  // lines 1..Lines are archived already (0: none)
	// Prior is the name under which the input was archived before (it may
	// have been renamed, rotated or compressed since); "" when new.
	Prior string
	// Duplicate is set when another input of this same run has the same
	// content: this one is not archived at all.
	Duplicate string
	fp        string
	head      int64
}

// match finds how much of the input src the archive's manifest holds.
// An input matches a record when its first Prefix bytes hash to the
// record's fingerprint and either the record covers a whole fingerprint
// window (FingerprintBytes: enough content to tell logs apart), or it is
// the same file (device and inode), or its content is exactly as long
// as what was hashed (an identical small file). The record with the
// most lines wins.
func match(inputs []InputRecord, src Source) (best InputRecord, ok bool) {
	hashes := map[int64]string{}
	n := int64(len(src.Head))
	for _, r := range inputs {
		if r.Prefix <= 0 || r.Prefix > n {
			continue
		}
		h, seen := hashes[r.Prefix]
		if !seen {
			h = fingerprint(src.Head[:r.Prefix])
			hashes[r.Prefix] = h
		}
		if h != r.Fingerprint {
			continue
		}
		sameFile := src.Ino != 0 && r.Dev == src.Dev && r.Ino == src.Ino
		if r.Prefix < FingerprintBytes && !sameFile && n != r.Prefix {
			continue
		}
		if !ok || r.Lines > best.Lines {
			best, ok = r, true
		}
	}
	return best, ok
}

// allLines is the Lines of an input skipped entirely.
const allLines = math.MaxInt64
