package archive

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/parquet-go/parquet-go"

	"winnow/internal/event"
)

// FileRef is one committed part file.
type FileRef struct {
	Path       string // path (the archive directory joined with Rel)
	Rel        string // slash-separated, relative to the archive
	Kind       string
	Start, End time.Time // the partition's time range (a month; an hour in the schema 1 layout)
	// Min and Max bound the file's record times: from the journal when it
	// names the file, else the partition's range.
	Min, Max time.Time
	Rows     int64     // from the journal (0: unknown)
	Bytes    int64     // from the journal (0: unknown)
	At       time.Time // when it was archived (journal or run id; zero: unknown)
	Dropped  int64     // known-good events of its partition not stored (journal)
}

// EventKinds are the partitions that hold events (not findings).
var EventKinds = []string{"auth", "syslog", "service", "http", "dns", "flow", "audit", "file", "unknown"}

// list finds the part files of kinds whose time range overlaps [from,
// to), sorted by Min then path. Both layouts are read: kind=/month=/
// (month partitions) and kind=/date=/hour=/ (schema 1). Unreadable directories
// are reported and skipped; names starting with "." or "_" (files being
// written, the journal) and symbolic links are ignored, and so are the
// files of a run the journal shows as begun that it does not name yet
// (renamed into place, the journal record not yet written). When the journal
// shows an interrupted compaction, only one side of it is listed (the
// inputs, or the outputs once they are all in place), so a reader never
// counts a record twice.
func list(dir string, kinds []string, from, to time.Time) ([]FileRef, []error) {
	var out []FileRef
	var errs []error
	st, err := readState(dir)
	if err != nil {
		errs = append(errs, err)
	}
	hide := st.superseded(dir)
	for _, kind := range kinds {
		root := filepath.Join(dir, "kind="+kind)
		if fi, err := os.Lstat(root); err != nil || !fi.IsDir() {
			continue
		}
		err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
			if err != nil {
				errs = append(errs, fmt.Errorf("cannot read archive %s: %w", p, err))
				return nil
			}
			name := d.Name()
			if p != root && (strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_")) {
				if d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
			if !d.Type().IsRegular() || !strings.HasSuffix(name, ".parquet") {
				return nil
			}
			start, end, ok := partitionRange(p)
			if !ok {
				return nil
			}
			rel, _ := filepath.Rel(dir, p)
			rel = filepath.ToSlash(rel)
			if hide[rel] {
				return nil
			}
			f := FileRef{Path: p, Rel: rel, Kind: kind, Start: start, End: end, Min: start, Max: end}
			if c, ok := st.files[rel]; ok {
				if !c.Min.IsZero() {
					f.Min, f.Max = c.Min, c.Max
				}
				f.Rows, f.Bytes, f.At, f.Dropped = c.Rows, c.Bytes, archivedAt(c), c.Dropped
			} else if run, ok := runOf(name); ok {
				if st.begun[run] != nil {
					return nil // renamed, not yet journaled, by a run still going (or dead)
				}
				f.At = archivedAt(Commit{Run: run})
			}
			if (!to.IsZero() && !f.Min.Before(to)) || (!from.IsZero() && f.Max.Before(from)) {
				return nil
			}
			out = append(out, f)
			return nil
		})
		if err != nil {
			errs = append(errs, err)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].Min.Equal(out[j].Min) {
			return out[i].Min.Before(out[j].Min)
		}
		return out[i].Path < out[j].Path
	})
	return out, errs
}

// runOf is the run id in a part file name (part-<run>-<seq>….parquet).
func runOf(name string) (string, bool) {
	s, ok := strings.CutPrefix(name, "part-")
	if !ok {
		return "", false
	}
	i := strings.LastIndex(s, "-")
	if i <= 0 {
		return "", false
	}
	return s[:i], true
}

// superseded lists the files a reader must not see because of an
// interrupted compaction: its outputs while some are missing (the
// inputs are all there), else its inputs.
func (s *state) superseded(dir string) map[string]bool {
	hide := map[string]bool{}
	for _, p := range s.pending {
		all := true
		for _, o := range p.Out {
			if _, err := os.Lstat(filepath.Join(dir, filepath.FromSlash(o.File))); err != nil {
				all = false
			}
		}
		if all {
			for _, f := range p.In {
				hide[f] = true
			}
		} else {
			for _, o := range p.Out {
				hide[o.File] = true
			}
		}
	}
	return hide
}

// partitionRange parses ".../month=YYYY-MM/file" (a month) and
// ".../date=YYYY-MM-DD/hour=HH/file" (an hour, schema 1).
func partitionRange(p string) (start, end time.Time, ok bool) {
	dir := filepath.Base(filepath.Dir(p))
	if ms, isMonth := strings.CutPrefix(dir, "month="); isMonth {
		m, err := time.Parse("2006-01", ms)
		if err != nil {
			return start, end, false
		}
		return m, m.AddDate(0, 1, 0), true
	}
	hs, isHour := strings.CutPrefix(dir, "hour=")
	if !isHour {
		return start, end, false
	}
	h, err := strconv.Atoi(hs)
	if err != nil || h < 0 || h > 23 {
		return start, end, false
	}
	ds, isDate := strings.CutPrefix(filepath.Base(filepath.Dir(filepath.Dir(p))), "date=")
	if !isDate {
		return start, end, false
	}
	d, err := time.Parse("2006-01-02", ds)
	if err != nil {
		return start, end, false
	}
	start = d.Add(time.Duration(h) * time.Hour)
	return start, start.Add(time.Hour), true
}

// readAll reads every row of a small file (findings).
func readAll[T any](path string) ([]T, error) { return readRows[T](path, false) }

// readAllExact is readAll for rewriting a file (compaction): a file with
// a column that T does not have (written by a later winnow) is refused
// rather than rewritten without it.
func readAllExact[T any](path string) ([]T, error) { return readRows[T](path, true) }

func readRows[T any](path string, exact bool) ([]T, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("cannot open %s: %w", path, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("cannot read %s: %w", path, err)
	}
	pf, err := parquet.OpenFile(f, st.Size(), parquet.SkipPageIndex(true), parquet.SkipBloomFilters(true))
	if err != nil {
		return nil, fmt.Errorf("corrupt archive file %s: %w", path, err)
	}
	if exact {
		known := map[string]bool{}
		for _, c := range parquet.SchemaOf(new(T)).Columns() {
			known[strings.Join(c, ".")] = true
		}
		for _, c := range pf.Schema().Columns() {
			if !known[strings.Join(c, ".")] {
				return nil, fmt.Errorf("%s has a column this winnow does not know (%s): not rewritten", path, strings.Join(c, "."))
			}
		}
	}
	r := parquet.NewGenericReader[T](pf)
	defer r.Close()
	rows := make([]T, pf.NumRows())
	n, err := r.Read(rows)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("corrupt archive file %s: %w", path, err)
	}
	return rows[:n], nil
}

// ReadOptions select what Events reads.
type ReadOptions struct {
	Dir      string
	From, To time.Time      // event-time window [From, To); zero: unbounded
	Kinds    []string       // partitions to read (default EventKinds)
	Location *time.Location // zone given to event times (default time.Local)
	Batch    int            // events per emit call (default 1024)
}

// ReadStats describe a read.
type ReadStats struct {
	Files   int
	Events  int64
	Skipped []error // files that could not be read (corrupt, truncated): skipped
}

// Events reads the window's events in event-time order and hands them to
// emit in batches (the batch is reused after emit returns). A corrupt or
// truncated file is reported in ReadStats.Skipped and skipped from the
// point it fails; it never stops the read.
func Events(ctx context.Context, o ReadOptions, emit func([]event.Event) error) (ReadStats, error) {
	if o.Kinds == nil {
		o.Kinds = EventKinds
	}
	if o.Location == nil {
		o.Location = time.Local
	}
	if o.Batch <= 0 {
		o.Batch = 1024
	}
	release, _ := ReadLock(o.Dir)
	defer release()
	files, errs := list(o.Dir, o.Kinds, o.From, o.To)
	st := ReadStats{Skipped: errs}
	batch := make([]event.Event, 0, o.Batch)
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		err := emit(batch)
		st.Events += int64(len(batch))
		clear(batch)
		batch = batch[:0]
		return err
	}
	// A k-way merge by record time over the files, each opened only when
	// the merge reaches its first record time (Min): files of one day or
	// of several runs may overlap, and opening them all at once would
	// hold a decoded row group of each. The next file to open is opened
	// (and starts decoding) one step ahead, while the merge goes on.
	type opened struct {
		c   cursor
		err error
	}
	open := func(i int) opened {
		c, err := openCursor(files[i])
		return opened{c, err}
	}
	h := &fileHeap{}
	var ahead *opened
	closeAll := func() {
		h.closeAll()
		if ahead != nil && ahead.err == nil {
			ahead.c.close()
		}
	}
	next := 0
	for {
		// Activate every file whose records may come before the head.
		for next < len(files) && (h.Len() == 0 || !files[next].Min.After((*h)[0].head())) {
			var o opened
			if ahead != nil {
				o, ahead = *ahead, nil
			} else {
				o = open(next)
			}
			next++
			if o.err != nil {
				st.Skipped = append(st.Skipped, o.err)
				continue
			}
			st.Files++
			if o.c.next(&st) {
				heap.Push(h, o.c)
			} else {
				o.c.close()
			}
		}
		if h.Len() == 0 {
			break
		}
		if ahead == nil && next < len(files) {
			o := open(next)
			ahead = &o
		}
		if err := ctx.Err(); err != nil {
			closeAll()
			return st, err
		}
		c := (*h)[0]
		if inWindow(c.head(), o.From, o.To) {
			batch = append(batch, event.Event{})
			c.event(o.Location, &batch[len(batch)-1])
			if len(batch) == cap(batch) {
				if err := flush(); err != nil {
					closeAll()
					return st, err
				}
			}
		}
		c.advance()
		if c.next(&st) {
			heap.Fix(h, 0)
		} else {
			heap.Pop(h)
			c.close()
		}
	}
	return st, flush()
}

// cursor reads one file in row batches, whatever its row schema.
type cursor interface {
	head() time.Time
	event(loc *time.Location, ev *event.Event)
	advance()
	next(st *ReadStats) bool
	close()
	name() string
}

// fileCursor is a cursor over rows of schema T.
type fileCursor[T any] struct {
	path string
	f    *os.File
	r    *parquet.GenericReader[T]
	rows []T
	pos  int
	done bool
	at   func(*T) time.Time
	conv func(*T, *time.Location, *event.Event)
}

func openCursor(ref FileRef) (cursor, error) {
	f, err := os.OpenFile(ref.Path, os.O_RDONLY|syscall.O_NOFOLLOW, 0)
	if err != nil {
		return nil, fmt.Errorf("cannot open %s: %w", ref.Path, err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("cannot read %s: %w", ref.Path, err)
	}
	pf, err := parquet.OpenFile(f, st.Size(), parquet.SkipPageIndex(true), parquet.SkipBloomFilters(true))
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("corrupt archive file %s (skipped): %w", ref.Path, err)
	}
	switch family(ref.Kind) {
	case "http":
		if c, ok := newColumnCursor(ref.Path, f, pf, httpSetters(), httpTime, httpEvent); ok {
			return c, nil
		}
		return newCursor(ref.Path, f, pf, httpTime, httpEvent), nil
	case "dns":
		return newCursor(ref.Path, f, pf, dnsTime, dnsEvent), nil
	case "flow":
		return newCursor(ref.Path, f, pf, flowTime, flowEvent), nil
	case "audit":
		return newCursor(ref.Path, f, pf, auditTime, auditEvent), nil
	case "file":
		return newCursor(ref.Path, f, pf, fileTime, fileEvent), nil
	}
	if c, ok := newColumnCursor(ref.Path, f, pf, authSetters(), authTime, authEvent); ok {
		return c, nil
	}
	return newCursor(ref.Path, f, pf, authTime, authEvent), nil
}

func newCursor[T any](path string, f *os.File, pf *parquet.File, at func(*T) time.Time,
	conv func(*T, *time.Location, *event.Event)) *fileCursor[T] {
	return &fileCursor[T]{path: path, f: f, r: parquet.NewGenericReader[T](pf), rows: make([]T, 0, 512), at: at, conv: conv}
}

func (c *fileCursor[T]) head() time.Time                           { return c.at(&c.rows[c.pos]) }
func (c *fileCursor[T]) event(loc *time.Location, ev *event.Event) { c.conv(&c.rows[c.pos], loc, ev) }
func (c *fileCursor[T]) advance()                                  { c.pos++ }
func (c *fileCursor[T]) name() string                              { return c.path }

// next makes sure the cursor has a row; false at the end of the file or on
// a read error (recorded in st).
func (c *fileCursor[T]) next(st *ReadStats) bool {
	if c.pos < len(c.rows) {
		return true
	}
	if c.done {
		return false
	}
	clear(c.rows)
	c.rows = c.rows[:cap(c.rows)]
	n, err := c.r.Read(c.rows)
	c.rows, c.pos = c.rows[:n], 0
	if err != nil {
		c.done = true
		if !errors.Is(err, io.EOF) {
			st.Skipped = append(st.Skipped, fmt.Errorf("corrupt archive file %s (rest skipped): %w", c.path, err))
		}
	}
	return n > 0
}

func (c *fileCursor[T]) close() {
	c.r.Close()
	c.f.Close()
}

type fileHeap []cursor

func (h fileHeap) Len() int { return len(h) }
func (h fileHeap) Less(i, j int) bool {
	if a, b := h[i].head(), h[j].head(); !a.Equal(b) {
		return a.Before(b)
	}
	return h[i].name() < h[j].name()
}
func (h fileHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *fileHeap) Push(x any)   { *h = append(*h, x.(cursor)) }
func (h *fileHeap) Pop() any {
	old := *h
	c := old[len(old)-1]
	*h = old[:len(old)-1]
	return c
}
func (h *fileHeap) closeAll() {
	for _, c := range *h {
		c.close()
	}
	*h = nil
}
