package source

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// FollowOptions configure a Follow source. Zero values mean the defaults.
type FollowOptions struct {
	// Patterns are file paths or globs; every file that matches, now or
	// later, is followed.
	Patterns []string
	// Name of the source (default: the patterns joined by ",").
	Name string
	// FromStart reads the files present at the first Next from their
	// beginning (analyze --follow). Otherwise they are read from their
	// end, as tail -F does, unless Resume gave a position for them. Files
	// that appear later, and every file when Resume was given positions
	// (they appeared while winnow was down), are read from the start.
	FromStart bool
	// Poll is how often files are checked for growth, rotation and new
	// matches (default 250ms).
	Poll time.Duration
	// Grace is how long a rotated-away file (renamed, or its path now
	// names another file) is still read after it last grew, so lines the
	// writer adds before it reopens its log are not lost (default 2s).
	Grace time.Duration
	// MaxLine is the longest record kept (default 64 KiB).
	MaxLine int
	// ReadSize is the most bytes read from one file per Next (default 256 KiB).
	ReadSize int
	// Once reads the matching files to their end and then ends (io.EOF)
	// instead of following them: a finite source over the same files.
	Once bool
}

// Follow follows files across rotation, like tail -F: it reads what is
// appended to every file matching its patterns and keeps following a log
// rotated by rename (auth.log → auth.log.1, with a new auth.log created),
// by copy and truncate (copytruncate), and along a chain of renames
// (.1 → .2). Files are tracked by identity (device and inode), not by
// name, so a renamed file is read to its end and never read again from
// the start under its new name. Compressed files (gzip magic) are not
// followed: rotation compresses only what was already read.
//
// Limits: a line written after the last poll into a file that is then
// truncated (copytruncate) before the next poll is lost, as with every
// tail; a file deleted and recreated within one poll with the same inode
// is taken for a truncation.
type Follow struct {
	o       FollowOptions
	name    string
	files   map[string]*followed // by identity
	resume  map[string]Position  // by identity
	resumed bool
	started bool
	closed  chan struct{}
	once    sync.Once
	err     error
	buf     []byte // read buffer, reused (lines are copied out of it)
	stats   struct {
		records, bytes, truncated, files, rotations atomic.Int64
	}
}

var (
	_ Source  = (*Follow)(nil)
	_ Resumer = (*Follow)(nil)
	_ Live    = (*Follow)(nil)
	_ Stater  = (*Follow)(nil)
)

// followed is one open file.
type followed struct {
	path     string
	id       string
	f        *os.File
	off      int64 // bytes read from f
	line     int64
	sp       splitter
	gone     bool      // its path no longer names it (rotated away)
	resumed  bool      // opened at a saved position
	mtime    time.Time // modification time at the last scan
	lastGrow time.Time // wall clock of the last read that returned data
}

// NewFollow validates the patterns; files are opened at the first Next.
func NewFollow(o FollowOptions) (*Follow, error) {
	if len(o.Patterns) == 0 {
		return nil, errors.New("cannot follow files: no path or pattern")
	}
	for _, p := range o.Patterns {
		if _, err := filepath.Match(p, ""); err != nil {
			return nil, fmt.Errorf("cannot follow %s: bad pattern: %w", p, err)
		}
	}
	if o.Poll <= 0 {
		o.Poll = 250 * time.Millisecond
	}
	if o.Grace <= 0 {
		o.Grace = 2 * time.Second
	}
	if o.MaxLine <= 0 {
		o.MaxLine = DefaultMaxLine
	}
	if o.ReadSize <= 0 {
		o.ReadSize = 256 << 10
	}
	name := o.Name
	if name == "" {
		name = strings.Join(o.Patterns, ",")
	}
	return &Follow{o: o, name: name, files: map[string]*followed{}, resume: map[string]Position{}, closed: make(chan struct{})}, nil
}

// Name returns the source's name.
func (f *Follow) Name() string { return f.name }

// Live reports true unless Options.Once: a Follow never ends.
func (f *Follow) Live() bool { return !f.o.Once }

// Resume sets the positions to start from (before the first Next).
func (f *Follow) Resume(ps []Position) error {
	if f.started {
		return errors.New("cannot resume: reading has started")
	}
	for _, p := range ps {
		if p.ID != "" {
			f.resume[p.ID] = p
		}
	}
	f.resumed = len(ps) > 0
	return nil
}

// Stats returns the counters.
func (f *Follow) Stats() SourceStats {
	return SourceStats{Records: f.stats.records.Load(), Bytes: f.stats.bytes.Load(),
		Truncated: f.stats.truncated.Load(), Files: f.stats.files.Load(), Rotations: f.stats.rotations.Load()}
}

// Close closes the files; a blocked Next returns.
func (f *Follow) Close() error {
	f.once.Do(func() { close(f.closed) })
	return nil
}

func (f *Follow) isClosed() bool {
	select {
	case <-f.closed:
		return true
	default:
		return false
	}
}

// Next returns the next lines of some followed file.
func (f *Follow) Next(ctx context.Context) (Batch, error) {
	if f.err != nil {
		return Batch{}, f.err
	}
	if !f.started {
		f.started = true
		f.scan(true)
	}
	lastScan := time.Now()
	for {
		if f.isClosed() {
			f.release()
			f.err = fmt.Errorf("cannot read %s: %w", f.name, ErrSourceClosed)
			return Batch{}, f.err
		}
		if err := ctx.Err(); err != nil {
			return Batch{}, err
		}
		if b, ok := f.readSome(); ok {
			return b, nil
		}
		if f.o.Once {
			f.release()
			f.err = io.EOF
			return Batch{}, f.err
		}
		if time.Since(lastScan) >= f.o.Poll {
			f.scan(false)
			lastScan = time.Now()
			if b, ok := f.readSome(); ok {
				return b, nil
			}
		}
		t := time.NewTimer(f.o.Poll)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
		case <-f.closed:
			t.Stop()
		}
	}
}

func (f *Follow) release() {
	for id, fl := range f.files {
		fl.f.Close()
		delete(f.files, id)
	}
	f.stats.files.Store(0)
}

// order returns the followed files oldest first: rotated-away ones (their
// lines are older), then by modification time, files resumed at a saved
// position before new ones, then by path.
func (f *Follow) order() []*followed {
	out := make([]*followed, 0, len(f.files))
	for _, fl := range f.files {
		out = append(out, fl)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		switch {
		case a.gone != b.gone:
			return a.gone
		case !a.mtime.Equal(b.mtime):
			return a.mtime.Before(b.mtime)
		case a.resumed != b.resumed:
			return a.resumed
		}
		return a.path < b.path
	})
	return out
}

// readSome reads from the first file that has new bytes and returns its
// complete lines.
func (f *Follow) readSome() (Batch, bool) {
	if f.buf == nil {
		f.buf = make([]byte, f.o.ReadSize)
	}
	buf := f.buf
	for _, fl := range f.order() {
		for {
			n, err := fl.f.Read(buf)
			if n == 0 {
				if err != nil && !errors.Is(err, io.EOF) {
					f.drop(fl) // unreadable now: forget it, a scan may find it again
				}
				break
			}
			fl.lastGrow = time.Now()
			var recs []Record
			before := fl.sp.truncated
			recs, consumed := fl.sp.feed(buf[:n], recs, &fl.line, fl.path)
			f.stats.truncated.Add(fl.sp.truncated - before)
			fl.off += int64(n)
			_ = consumed
			if len(recs) == 0 {
				continue // a partial line: read on
			}
			var nb int64
			for _, r := range recs {
				nb += int64(len(r.B))
			}
			f.stats.records.Add(int64(len(recs)))
			f.stats.bytes.Add(nb)
			return Batch{Records: recs, Pos: Position{Source: f.name, Path: fl.path, ID: fl.id,
				Offset: fl.off - int64(len(fl.sp.pending)), Line: fl.line}}, true
		}
	}
	return Batch{}, false
}

func (f *Follow) drop(fl *followed) {
	fl.f.Close()
	delete(f.files, fl.id)
	f.stats.files.Store(int64(len(f.files)))
}

// scan matches the patterns, opens new files, notices renames and
// truncations, and closes rotated-away files that stopped growing.
func (f *Follow) scan(initial bool) {
	seen := map[string]bool{}
	for _, pat := range f.o.Patterns {
		matches, _ := filepath.Glob(pat)
		for _, path := range matches {
			fi, err := os.Stat(path)
			if err != nil || !fi.Mode().IsRegular() {
				continue
			}
			id := fileID(fi)
			if seen[id] {
				continue
			}
			seen[id] = true
			if fl, ok := f.files[id]; ok {
				fl.mtime = fi.ModTime()
				// A file renamed to a name that still matches (auth.log →
				// auth.log.1 under auth.log*) is followed under its new
				// name: it is never read again from the start.
				if fl.path != path && f.renamedAway(fl) {
					fl.path, fl.gone = path, false
				}
				continue
			}
			f.open(path, id, fi, initial)
		}
	}
	now := time.Now()
	for id, fl := range f.files {
		if !seen[id] || f.renamedAway(fl) {
			if !fl.gone {
				fl.gone = true
				f.stats.rotations.Add(1)
				fl.lastGrow = now
			}
		}
		if !fl.gone {
			if fi, err := fl.f.Stat(); err == nil && fi.Size() < fl.off {
				f.truncate(fl)
			}
		}
		if fl.gone && now.Sub(fl.lastGrow) >= f.o.Grace {
			f.drop(fl)
		}
	}
}

// renamedAway reports whether fl's path now names another file or none.
func (f *Follow) renamedAway(fl *followed) bool {
	fi, err := os.Stat(fl.path)
	if err != nil {
		return true
	}
	return fileID(fi) != fl.id
}

func (f *Follow) truncate(fl *followed) {
	if _, err := fl.f.Seek(0, io.SeekStart); err != nil {
		f.drop(fl)
		return
	}
	fl.off, fl.line = 0, 0
	fl.sp.reset()
	f.stats.rotations.Add(1)
}

func (f *Follow) open(path, id string, fi os.FileInfo, initial bool) {
	fh, err := os.Open(path)
	if err != nil {
		return
	}
	var magic [2]byte
	if n, _ := fh.ReadAt(magic[:], 0); n == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		fh.Close()
		return
	}
	fl := &followed{path: path, id: id, f: fh, sp: splitter{max: f.o.MaxLine}, lastGrow: time.Now(), mtime: fi.ModTime()}
	start := int64(0)
	if p, ok := f.resume[id]; ok {
		if p.Offset <= fi.Size() {
			start, fl.line, fl.resumed = p.Offset, p.Line, true
		}
	} else if initial && !f.o.FromStart && !f.resumed {
		start = fi.Size()
	}
	if start > 0 {
		if _, err := fh.Seek(start, io.SeekStart); err != nil {
			fh.Close()
			return
		}
	}
	fl.off = start
	f.files[id] = fl
	f.stats.files.Store(int64(len(f.files)))
}

// fileID is a file's identity: device and inode.
func fileID(fi os.FileInfo) string {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return fmt.Sprintf("%d:%d", st.Dev, st.Ino)
	}
	return fi.Name()
}
