package archive

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
)

// Recovery is what opening an archive for writing repaired.
type Recovery struct {
	// RolledBack are the runs that began and never ended (killed, crashed,
	// failed): their files were removed, so re-running the same command
	// replaces their data instead of adding to it.
	RolledBack []RolledBack
	// Compactions finished (their output was in place) or undone.
	Finished, Undone int
	// Temps is the number of stale temporary files removed
	// (.part-*.parquet.tmp, _commits.log.tmp).
	Temps int
}

// RolledBack describes one run undone by recovery.
type RolledBack struct {
	Run   string
	Files int
	Rows  int64
}

// Any says whether recovery did anything.
func (r Recovery) Any() bool {
	return len(r.RolledBack) > 0 || r.Finished > 0 || r.Undone > 0 || r.Temps > 0
}

// writable is an archive opened for changes: locked, journal open,
// recovered.
type writable struct {
	st   *store
	lock *os.File
	j    *journal
	rec  Recovery
}

// openWritable locks the archive at dir (ErrBusy if another process
// holds it), reads its journal and repairs what an earlier process left.
func openWritable(dir string) (*writable, error) {
	st, err := openStore(dir)
	if err != nil {
		return nil, err
	}
	lock, err := st.lockFile(writeLockName, lockEx)
	if err != nil {
		st.close()
		return nil, err
	}
	// The readers' lock file exists from the first write on, so that
	// readers can always take it.
	if f, err := st.openFile(readLockName, os.O_CREATE|os.O_RDONLY, 0o644); err == nil {
		f.Close()
	} else {
		unlock(lock)
		st.close()
		return nil, fmt.Errorf("cannot create archive lock: %w", err)
	}
	j, err := openJournal(st)
	if err != nil {
		unlock(lock)
		st.close()
		return nil, err
	}
	a := &writable{st: st, lock: lock, j: j}
	if err := a.recover(); err != nil {
		a.close()
		return nil, err
	}
	return a, nil
}

func (a *writable) close() {
	a.j.close()
	unlock(a.lock)
	a.st.close()
}

// recover rolls back runs that never ended, finishes or undoes
// compactions that were interrupted and removes stale temporary files.
// It runs with the write lock held, so no run it sees as begun is alive.
func (a *writable) recover() error {
	s := a.j.state
	// The archive tree is walked only when something may be left over: a
	// dead run, an interrupted compaction, or an archive written before
	// the journal recorded runs (whose crashes left temporary files).
	walk := len(s.begun) > 0 || len(s.pending) > 0 || !s.v2
	dead := map[string]*RolledBack{}
	var runs []string
	for run := range s.begun {
		dead[run] = &RolledBack{Run: run}
		runs = append(runs, run)
	}
	sort.Strings(runs)
	removed := map[string][]string{} // per dead run
	remove := func(rel string) error {
		if err := a.st.remove(rel); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("cannot remove %s: %w", rel, err)
		}
		a.removeEmpty(path.Dir(rel))
		return nil
	}
	for f, c := range s.files {
		if d := dead[c.Run]; d != nil {
			if err := remove(f); err != nil {
				return err
			}
			d.Files++
			d.Rows += c.Rows
			removed[c.Run] = append(removed[c.Run], f)
		}
	}
	// Interrupted compactions: finished if every output is in place,
	// undone otherwise (the inputs were not touched before the outputs
	// were all renamed).
	var ids []string
	for id := range s.pending {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		p := s.pending[id]
		all := true
		for _, o := range p.Out {
			if _, err := a.st.root.Lstat(o.File); err != nil {
				all = false
			}
		}
		op := opAborted
		if all {
			op = opCompacted
			for _, f := range p.In {
				if err := remove(f); err != nil {
					return err
				}
			}
			a.rec.Finished++
		} else {
			for _, o := range p.Out {
				if err := remove(o.File); err != nil {
					return err
				}
			}
			a.rec.Undone++
		}
		if err := a.j.append(&record{Op: op, ID: id}); err != nil {
			return err
		}
	}
	if walk {
		if err := a.sweep(dead, removed); err != nil {
			return err
		}
	}
	for _, run := range runs {
		sort.Strings(removed[run])
		if err := a.j.append(&record{Op: opRollback, Commit: Commit{Run: run}, Files: removed[run]}); err != nil {
			return err
		}
		a.rec.RolledBack = append(a.rec.RolledBack, *dead[run])
	}
	return nil
}

// isTemp says whether a file name is one of winnow's temporary files in
// an archive partition (and only those are ever removed as stale).
func isTemp(name string) bool {
	return strings.HasPrefix(name, ".part-") && strings.HasSuffix(name, ".parquet.tmp")
}

// sweep walks the partitions: it removes stale temporary files and the
// part files of dead runs that were renamed but not yet journaled.
func (a *writable) sweep(dead map[string]*RolledBack, removed map[string][]string) error {
	if err := a.st.remove(journalName + ".tmp"); err == nil {
		a.rec.Temps++
	}
	root := a.st.dir
	entries, err := os.ReadDir(root)
	if err != nil {
		return fmt.Errorf("cannot read archive %s: %w", root, err)
	}
	for _, e := range entries {
		if !e.IsDir() || !strings.HasPrefix(e.Name(), "kind=") {
			continue // links are not followed (a DirEntry of a link is not a dir)
		}
		err := filepath.WalkDir(filepath.Join(root, e.Name()), func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || d.Type()&fs.ModeSymlink != 0 {
				return nil
			}
			rel, rerr := filepath.Rel(root, p)
			if rerr != nil {
				return nil
			}
			rel = filepath.ToSlash(rel)
			name := d.Name()
			switch {
			case isTemp(name):
				if err := a.st.remove(rel); err == nil {
					a.rec.Temps++
				}
			case strings.HasPrefix(name, "part-") && strings.HasSuffix(name, ".parquet"):
				if _, live := a.j.state.files[rel]; live {
					return nil
				}
				for run, d := range dead {
					if strings.HasPrefix(name, "part-"+run+"-") {
						if err := a.st.remove(rel); err == nil {
							d.Files++
							removed[run] = append(removed[run], rel)
						}
					}
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// removeEmpty removes the partition directory rel and its parents while
// they are empty (never the archive root).
func (a *writable) removeEmpty(rel string) {
	for rel != "." && rel != "" && rel != "/" {
		if err := a.st.remove(rel); err != nil {
			return
		}
		rel = path.Dir(rel)
	}
}
