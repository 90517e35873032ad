package archive

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"sort"
	"time"
)

// Age bases of Retention.
const (
	// AgeArchived measures a file's age from when it was archived (the
	// default): importing years-old logs never makes them prunable at once.
	AgeArchived = "archived"
	// AgeEvent measures age from the newest record time in the file.
	AgeEvent = "event"
)

// Retention bounds an archive: files older than MaxAge (by Basis,
// relative to Now) are deleted, then the files with the oldest records
// until the archive is at most MaxBytes. Zero disables a bound.
type Retention struct {
	MaxAge   time.Duration
	MaxBytes int64
	Basis    string    // AgeArchived (default) or AgeEvent
	Now      time.Time // reference time for MaxAge (default: wall clock)
	DryRun   bool      // list what would be removed, remove nothing
}

// Pruned is one file removed (or that would be, in a dry run).
type Pruned struct {
	File     string    // relative to the archive
	Kind     string    // partition kind
	Rows     int64     // 0 when unknown (a file the journal does not name)
	Bytes    int64     //
	Min, Max time.Time // record times
	At       time.Time // when it was archived (zero: unknown)
	Why      string    // "age" or "size"
}

// PruneStats reports what Prune removed (or would remove).
type PruneStats struct {
	Removed    []Pruned
	Files      int
	Rows       int64
	Bytes      int64
	KeptFiles  int
	KeptBytes  int64
	FirstKept  time.Time // oldest record time kept
	Unreadable []error
	Recovered  Recovery
}

// Prune applies r to the archive at dir. Prune takes the archive's write
// lock and the readers' lock (ErrBusy while a run, replay or hunt holds
// them), records the removal in the journal, then deletes; a dry run
// takes no lock and changes nothing. A file whose age is unknown (no
// journal record, no run id in its name) is never removed by age.
func Prune(dir string, r Retention) (PruneStats, error) {
	var ps PruneStats
	switch r.Basis {
	case "":
		r.Basis = AgeArchived
	case AgeArchived, AgeEvent:
	default:
		return ps, fmt.Errorf("age basis %q: want %s or %s", r.Basis, AgeArchived, AgeEvent)
	}
	now := r.Now
	if now.IsZero() {
		now = time.Now()
	}
	var a *writable
	if !r.DryRun {
		var err error
		if a, err = openWritable(dir); err != nil {
			return ps, err
		}
		defer a.close()
		ps.Recovered = a.rec
	}
	kinds := append(append([]string{}, EventKinds...), "finding")
	files, errs := list(dir, kinds, time.Time{}, time.Time{})
	ps.Unreadable = errs
	var total int64
	for i := range files {
		if files[i].Bytes == 0 {
			if fi, err := os.Stat(files[i].Path); err == nil {
				files[i].Bytes = fi.Size()
			}
		}
		total += files[i].Bytes
	}
	// Oldest records first.
	sort.SliceStable(files, func(i, j int) bool {
		if !files[i].Max.Equal(files[j].Max) {
			return files[i].Max.Before(files[j].Max)
		}
		return files[i].Rel < files[j].Rel
	})
	var keep []FileRef
	for _, f := range files {
		old := false
		if r.MaxAge > 0 {
			switch r.Basis {
			case AgeArchived:
				old = !f.At.IsZero() && now.Sub(f.At) > r.MaxAge
			case AgeEvent:
				old = now.Sub(f.Max) > r.MaxAge
			}
		}
		if old {
			ps.add(f, "age")
			total -= f.Bytes
			continue
		}
		keep = append(keep, f)
	}
	if r.MaxBytes > 0 {
		for len(keep) > 0 && total > r.MaxBytes {
			ps.add(keep[0], "size")
			total -= keep[0].Bytes
			keep = keep[1:]
		}
	}
	ps.KeptFiles, ps.KeptBytes = len(keep), total
	for i, f := range keep {
		if i == 0 || f.Min.Before(ps.FirstKept) {
			ps.FirstKept = f.Min
		}
	}
	if r.DryRun || len(ps.Removed) == 0 {
		return ps, nil
	}
	rl, err := a.st.lockFile(readLockName, lockEx)
	if err != nil {
		return ps, err
	}
	defer unlock(rl)
	rels := make([]string, 0, len(ps.Removed))
	for _, p := range ps.Removed {
		rels = append(rels, p.File)
	}
	if err := a.j.append(&record{Op: opRemove, Files: rels, Time: now.UTC()}); err != nil {
		return ps, err
	}
	dirs := map[string]bool{}
	for _, rel := range rels {
		if err := a.st.remove(rel); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return ps, fmt.Errorf("cannot prune %s: %w", rel, err)
		}
		dirs[path.Dir(rel)] = true
	}
	ds := make([]string, 0, len(dirs))
	for d := range dirs {
		ds = append(ds, d)
	}
	sort.Strings(ds)
	for _, d := range ds {
		_ = a.st.syncDir(d)
		a.removeEmpty(d)
	}
	return ps, a.j.checkpoint(false)
}

func (ps *PruneStats) add(f FileRef, why string) {
	ps.Removed = append(ps.Removed, Pruned{File: f.Rel, Kind: f.Kind, Rows: f.Rows, Bytes: f.Bytes, Min: f.Min, Max: f.Max, At: f.At, Why: why})
	ps.Files++
	ps.Rows += f.Rows
	ps.Bytes += f.Bytes
}
