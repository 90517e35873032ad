package archive

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"time"
)

// Retention bounds an archive: hour partitions older than MaxAge (by
// their event time, relative to Now) are deleted, then the oldest hours
// until the archive is at most MaxBytes. Zero disables a bound.
type Retention struct {
	MaxAge   time.Duration
	MaxBytes int64
	Now      time.Time // reference time for MaxAge (default: wall clock)
}

// PruneStats reports what Prune removed.
type PruneStats struct {
	Files      int
	Bytes      int64
	Hours      int   // hour partitions removed (any kind)
	KeptBytes  int64 // size of what remains
	KeptHours  int
	FirstKept  time.Time
	Dropped    []string // partition paths removed
	Unreadable []error
}

// Prune applies r to the archive at dir. Files are removed whole hours at
// a time (all kinds of an hour together), oldest first; empty partition
// directories are removed too.
func Prune(dir string, r Retention) (PruneStats, error) {
	var st PruneStats
	kinds := append(append([]string{}, EventKinds...), "finding")
	files, errs := list(dir, kinds, time.Time{}, time.Time{})
	st.Unreadable = errs
	type hour struct {
		t     time.Time
		files []FileRef
		bytes int64
	}
	byHour := map[time.Time]*hour{}
	var total int64
	for _, f := range files {
		fi, err := os.Stat(f.Path)
		if err != nil {
			st.Unreadable = append(st.Unreadable, err)
			continue
		}
		h := byHour[f.Hour]
		if h == nil {
			h = &hour{t: f.Hour}
			byHour[f.Hour] = h
		}
		h.files = append(h.files, f)
		h.bytes += fi.Size()
		total += fi.Size()
	}
	hours := make([]*hour, 0, len(byHour))
	for _, h := range byHour {
		hours = append(hours, h)
	}
	sort.Slice(hours, func(i, j int) bool { return hours[i].t.Before(hours[j].t) })
	now := r.Now
	if now.IsZero() {
		now = time.Now()
	}
	for len(hours) > 0 {
		h := hours[0]
		old := r.MaxAge > 0 && now.Sub(h.t.Add(time.Hour)) > r.MaxAge
		big := r.MaxBytes > 0 && total > r.MaxBytes
		if !old && !big {
			break
		}
		for _, f := range h.files {
			if err := os.Remove(f.Path); err != nil {
				return st, fmt.Errorf("cannot prune %s: %w", f.Path, err)
			}
			st.Files++
			pdir := filepath.Dir(f.Path)
			rel, _ := filepath.Rel(dir, pdir)
			st.Dropped = append(st.Dropped, filepath.ToSlash(rel))
			removeEmpty(dir, pdir)
		}
		st.Bytes += h.bytes
		total -= h.bytes
		st.Hours++
		hours = hours[1:]
	}
	st.KeptBytes, st.KeptHours = total, len(hours)
	if len(hours) > 0 {
		st.FirstKept = hours[0].t
	}
	return st, nil
}

// removeEmpty removes dir and its parents up to (not including) root while
// they are empty.
func removeEmpty(root, dir string) {
	for dir != root && len(dir) > len(root) {
		if err := os.Remove(dir); err != nil {
			return
		}
		dir = filepath.Dir(dir)
	}
}
