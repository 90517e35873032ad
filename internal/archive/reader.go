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
	"time"

	"github.com/parquet-go/parquet-go"

	"winnow/internal/event"
)

// FileRef is one committed part file.
type FileRef struct {
	Path string
	Kind string
	Hour time.Time // start of the partition's hour (UTC)
}

// EventKinds are the partitions that hold events (not findings).
var EventKinds = []string{"auth", "syslog", "service", "http", "dns", "unknown"}

// list finds the part files of kinds whose hour overlaps [from, to), by
// their partition paths, sorted by hour then path. Unreadable directories
// are reported and skipped; names starting with "." or "_" (files being
// written, the commit log) are ignored.
func list(dir string, kinds []string, from, to time.Time) ([]FileRef, []error) {
	var out []FileRef
	var errs []error
	for _, kind := range kinds {
		root := filepath.Join(dir, "kind="+kind)
		if _, err := os.Stat(root); errors.Is(err, os.ErrNotExist) {
			continue
		}
		err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
			if err != nil {
				errs = append(errs, fmt.Errorf("cannot read archive %s: %w", path, err))
				return nil
			}
			name := d.Name()
			if path != root && (strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_")) {
				if d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
			if d.IsDir() || !strings.HasSuffix(name, ".parquet") {
				return nil
			}
			hour, ok := partitionHour(path)
			if !ok {
				return nil
			}
			if (!to.IsZero() && !hour.Before(to)) || (!from.IsZero() && !hour.Add(time.Hour).After(from)) {
				return nil
			}
			out = append(out, FileRef{Path: path, Kind: kind, Hour: hour})
			return nil
		})
		if err != nil {
			errs = append(errs, err)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].Hour.Equal(out[j].Hour) {
			return out[i].Hour.Before(out[j].Hour)
		}
		return out[i].Path < out[j].Path
	})
	return out, errs
}

// partitionHour parses ".../date=YYYY-MM-DD/hour=HH/file".
func partitionHour(path string) (time.Time, bool) {
	hourDir := filepath.Base(filepath.Dir(path))
	dateDir := filepath.Base(filepath.Dir(filepath.Dir(path)))
	ds, ok1 := strings.CutPrefix(dateDir, "date=")
	hs, ok2 := strings.CutPrefix(hourDir, "hour=")
	if !ok1 || !ok2 {
		return time.Time{}, false
	}
	d, err := time.Parse("2006-01-02", ds)
	h, err2 := strconv.Atoi(hs)
	if err != nil || err2 != nil || h < 0 || h > 23 {
		return time.Time{}, false
	}
	return d.Add(time.Duration(h) * time.Hour), true
}

// readAll reads every row of a small file (findings).
func readAll[T any](path string) ([]T, error) {
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
	// Partitions are disjoint in time: merge the files of one hour at a
	// time. The next hour's files are opened (and start decoding on their
	// own goroutines) while this hour is merged.
	type opened struct {
		c   cursor
		err error
	}
	openHour := func(refs []FileRef) []opened {
		out := make([]opened, 0, len(refs))
		for _, f := range refs {
			c, err := openCursor(f)
			out = append(out, opened{c, err})
		}
		return out
	}
	hourEnd := func(i int) int {
		j := i
		for j < len(files) && files[j].Hour.Equal(files[i].Hour) {
			j++
		}
		return j
	}
	var ahead []opened
	if len(files) > 0 {
		ahead = openHour(files[:hourEnd(0)])
	}
	for i := 0; i < len(files); {
		j := hourEnd(i)
		cur := ahead
		ahead = nil
		if j < len(files) {
			ahead = openHour(files[j:hourEnd(j)])
		}
		h := &fileHeap{}
		for _, o := range cur {
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
		closeAhead := func() {
			for _, o := range ahead {
				if o.err == nil {
					o.c.close()
				}
			}
		}
		for h.Len() > 0 {
			if err := ctx.Err(); err != nil {
				h.closeAll()
				closeAhead()
				return st, err
			}
			c := (*h)[0]
			if inWindow(c.head(), o.From, o.To) {
				batch = append(batch, event.Event{})
				c.event(o.Location, &batch[len(batch)-1])
				if len(batch) == cap(batch) {
					if err := flush(); err != nil {
						h.closeAll()
						closeAhead()
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
		i = j
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
	f, err := os.Open(ref.Path)
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
