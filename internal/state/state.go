// Package state keeps what must survive between runs of winnow in a data
// directory: the detectors' state (baselines, series, models, open
// episodes, as a detect.Snapshot), the position reached in every input
// (file identity, content fingerprint, byte offset), the incidents
// already reported, and findings emitted but not yet reported.
//
// Contract:
//   - Open takes the directory for one process: a second process opening
//     it fails with ErrBusy until the first calls Close (cron runs that
//     overlap must not interleave their state).
//   - Load returns the last snapshot saved, or (nil, nil) in a directory
//     that has none. A snapshot that cannot be read — damaged (ErrCorrupt)
//     or written in a format this version does not read (ErrVersion) —
//     is an error naming the file and the --fresh-state way out; it is
//     never half-loaded.
//   - Save replaces the snapshot atomically: written to a temporary file,
//     fsynced, renamed over the old one, and the directory fsynced. A
//     crash at any moment (kill -9, power loss) leaves either the old
//     snapshot or the new one, never a mix.
//   - Fresh moves an unreadable snapshot aside (state.snap.discarded) so
//     the next Save starts over; the old bytes are kept for inspection.
//
// The file format is in docs/format/state.md; Encode and Decode implement
// it.
package state

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"winnow/internal/detect"
	"winnow/internal/source"
)

// ErrCorrupt is wrapped when a snapshot's bytes are damaged: wrong magic,
// checksum mismatch, truncation, or a record that does not decode.
var ErrCorrupt = errors.New("state snapshot is corrupt")

// ErrVersion is wrapped when a snapshot was written in a format version
// this winnow does not read (a newer winnow, or one too old to upgrade).
var ErrVersion = errors.New("state snapshot has an unsupported format version")

// ErrBusy is wrapped by Open's error when another process holds the
// directory.
var ErrBusy = errors.New("state directory is in use by another winnow process")

// FileName is the snapshot's name in the data directory.
const FileName = "state.snap"

// Snapshot is everything a data directory keeps.
type Snapshot struct {
	Written time.Time // wall-clock time of the save
	Version string    // version of the winnow that saved it
	Saves   uint64    // saves so far in this directory (1 for the first)
	// Detect is the detectors' state with the watermark it was taken at;
	// nil when none was saved.
	Detect *detect.Snapshot
	// Inputs are the positions reached, one per input file seen.
	Inputs []Position
	// Reported are the incidents already reported (for deduplication).
	Reported []Reported
	// Pending are findings emitted before the snapshot was taken but not
	// reported yet (a run checkpoints while it reads and reports at the
	// end): the next run reports them. Each is a finding in the JSON form
	// of EncodeFinding.
	Pending [][]byte
}

// Position is how far an input was read.
type Position struct {
	Path string        // where it was last read from (informational)
	ID   source.FileID // what it is (matching is by identity and content)
	// Offset is the uncompressed byte offset just past the last line read
	// (text inputs); the next run starts there.
	Offset int64
	// Lines is the number of lines read before Offset (line numbers of
	// evidence go on from it).
	Lines int64
	// Events is the number of events taken from a binary input (a packet
	// capture, which is decoded again from its start and its first Events
	// events skipped).
	Events int64
	// Done says the input ended there: it was read to its end (a file
	// that may still grow is read on from Offset next time).
	Done bool
	Seen time.Time // wall-clock time the position was recorded
}

// Reported is an incident that was reported: its id (see IncidentID), a
// digest of what was reported, how many times it was, the end of its
// evidence and when it was last emitted (for pruning).
type Reported struct {
	ID     uint64
	Digest uint64
	Count  uint32
	End    time.Time
	// Seen is the wall-clock time of the last run that emitted the
	// finding, reported or not (a finding about state that lives on, such
	// as a campaign, is emitted again at the end of every run).
	Seen time.Time
}

// Dir is an open data directory.
type Dir struct {
	path string
	lock *os.File
}

// Open creates path (mode 0700) if needed and takes it for this process.
func Open(path string) (*Dir, error) {
	if path == "" {
		return nil, errors.New("cannot open state directory: empty path")
	}
	if err := os.MkdirAll(path, 0o700); err != nil {
		return nil, fmt.Errorf("cannot create state directory %s: %w", path, err)
	}
	f, err := os.OpenFile(filepath.Join(path, "lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("cannot open state directory %s: %w", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		holder := ""
		if b, rerr := os.ReadFile(f.Name()); rerr == nil && len(b) > 0 {
			holder = " (pid " + strings.TrimSpace(string(b)) + ")"
		}
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("cannot open state directory %s: %w%s", path, ErrBusy, holder)
		}
		return nil, fmt.Errorf("cannot lock state directory %s: %w", path, err)
	}
	_ = f.Truncate(0)
	_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	return &Dir{path: path, lock: f}, nil
}

// Path is the directory.
func (d *Dir) Path() string { return d.path }

// Close releases the directory.
func (d *Dir) Close() error {
	if d.lock == nil {
		return nil
	}
	err := d.lock.Close() // closing drops the flock
	d.lock = nil
	return err
}

func (d *Dir) file() string { return filepath.Join(d.path, FileName) }

// Load reads the snapshot; (nil, nil) when there is none yet.
func (d *Dir) Load() (*Snapshot, error) {
	b, err := os.ReadFile(d.file())
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("cannot read state %s: %w", d.file(), err)
	}
	var s Snapshot
	if err := Decode(b, &s); err != nil {
		return nil, fmt.Errorf("cannot load state %s: %w (run with --fresh-state to set it aside and start over: learned baselines and positions are then lost)", d.file(), err)
	}
	return &s, nil
}

// Fresh sets the current snapshot aside (renamed to state.snap.discarded,
// replacing an older discarded one), so the directory starts over. It is
// not an error when there is none.
func (d *Dir) Fresh() error {
	err := os.Rename(d.file(), d.file()+".discarded")
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("cannot set state %s aside: %w", d.file(), err)
	}
	return syncDir(d.path)
}

// Save writes s atomically (see the package doc). It sets s.Written and
// s.Saves.
func (d *Dir) Save(s *Snapshot) error {
	s.Saves++
	s.Written = time.Now().UTC()
	b := Encode(s)
	tmp, err := os.CreateTemp(d.path, ".state-*.tmp")
	if err != nil {
		return fmt.Errorf("cannot save state in %s: %w", d.path, err)
	}
	name := tmp.Name()
	ok := false
	defer func() {
		if !ok {
			tmp.Close()
			os.Remove(name)
		}
	}()
	if _, err := tmp.Write(b); err != nil {
		return fmt.Errorf("cannot save state %s: %w", name, err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("cannot save state %s: %w", name, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("cannot save state %s: %w", name, err)
	}
	if err := os.Rename(name, d.file()); err != nil {
		return fmt.Errorf("cannot save state %s: %w", d.file(), err)
	}
	ok = true
	return syncDir(d.path)
}

func syncDir(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("cannot sync state directory %s: %w", path, err)
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return fmt.Errorf("cannot sync state directory %s: %w", path, err)
	}
	return nil
}
