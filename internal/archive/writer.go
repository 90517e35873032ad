// Package archive writes every event and finding to a Parquet archive and
// reads it back in event-time order for replay and hunts.
//
// Layout (docs/format/archive.md): DIR/kind=<kind>/date=<YYYY-MM-DD>/
// hour=<HH>/part-<run>-<seq>.parquet, partitioned by the record's UTC time,
// zstd-compressed, each row group sorted by time and bounded by
// RowGroupRows, so engines prune by path and by row-group statistics.
//
// Durability: a part file is written under a dot-name in its partition,
// fsynced, renamed into place and its directory fsynced; only then is a
// line appended (and fsynced) to DIR/_commits.log. Readers ignore names
// starting with "." or "_", so a crash never exposes a partial file, and
// every file the commit log names is complete.
package archive

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path"
	"sort"
	"sync"
	"time"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress/zstd"

	"winnow/internal/event"
)

// Options configure a Writer.
type Options struct {
	Dir          string
	Run          string        // run id in file names and finding rows (default: UTC start time)
	RowGroupRows int           // rows per row group (default 65,536)
	FileRows     int           // rows per file before it is committed and a new one started (default 1,048,576)
	Lateness     time.Duration // how long after its hour a partition stays open for late events (default 2m)
	// Drop, when set, is the known-good filter of --keep unknown: events it
	// returns true for are counted per partition but not stored.
	Drop func(*event.Event) bool
	// Version is written into each file's metadata as the creating winnow.
	Version string
}

// Commit is one line of DIR/_commits.log: a file that is complete.
type Commit struct {
	File    string    `json:"file"` // relative to the archive root
	Rows    int64     `json:"rows"`
	Dropped int64     `json:"dropped,omitempty"` // known-good events of this file's partition not stored
	Min     time.Time `json:"min"`
	Max     time.Time `json:"max"`
	Run     string    `json:"run"`
	Bytes   int64     `json:"bytes"`
}

// Stats of a Writer.
type Stats struct {
	Events   int64 // events stored
	Dropped  int64 // events not stored by Drop (known good)
	Findings int64
	Files    int64
	Bytes    int64 // bytes of committed files
}

// Writer appends events to the archive. Write is called from one goroutine
// (the pipeline's merge); encoding and file I/O run on the Writer's own
// goroutine behind a bounded queue.
type Writer struct {
	opt   Options
	queue chan []event.Event
	free  chan []event.Event // batches handed back by the goroutine
	done  chan struct{}
	err   error // first error of the background goroutine (read after done)

	mu      sync.Mutex
	stats   Stats
	st      *store
	commits *os.File
	seq     int
	dropped map[string]int64 // per partition (background goroutine)

	parts map[pkey]partition
	names map[pkey]string // partition paths, formatted once
	wm    time.Time

	// The encoder goroutine runs Parquet encoding, compression and file
	// I/O in order, so that converting the next rows overlaps with it.
	jobs   chan func() error
	encEnd chan struct{}
	encErr error // first encoder error; read under mu
}

// encode queues a job for the encoder; it returns the encoder's first
// error, if any, so the caller stops early.
func (w *Writer) encode(job func() error) error {
	w.jobs <- job
	return w.encodeErr()
}

func (w *Writer) encodeErr() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.encErr
}

func (w *Writer) encoder() {
	defer close(w.encEnd)
	for job := range w.jobs {
		if w.encodeErr() != nil {
			continue // drain: the run is failing
		}
		if err := job(); err != nil {
			w.mu.Lock()
			w.encErr = err
			w.mu.Unlock()
		}
	}
}

// pkey identifies a partition without formatting its path.
type pkey struct {
	kind event.Kind
	hour int64 // unix hours
}

// partition is one open partition of some row schema.
type partition interface {
	add(ev *event.Event)
	buffered() int
	group(w *Writer) error  // write the buffered rows as a row group
	finish(w *Writer) error // write and commit the file
	hourEnd() time.Time
}

// part is one partition's open file and its buffered rows of schema T.
type part[T any] struct {
	kind, rel string // partition path relative to the root
	end       time.Time
	rows      []T
	f         *os.File
	tmp       string
	w         *parquet.GenericWriter[T]
	n         int64
	min, max  time.Time
	conv      func(*event.Event, *T)
	at        func(*T) time.Time
	spare     chan []T // row buffers the encoder is done with
}

func (p *part[T]) add(ev *event.Event) {
	p.rows = append(p.rows, *new(T))
	p.conv(ev, &p.rows[len(p.rows)-1])
}
func (p *part[T]) buffered() int      { return len(p.rows) }
func (p *part[T]) hourEnd() time.Time { return p.end }

// group hands the buffered rows to the encoder goroutine and starts a new
// buffer (a recycled one when the encoder has returned one).
func (p *part[T]) group(w *Writer) error {
	if len(p.rows) == 0 {
		return w.encodeErr()
	}
	rows := p.rows
	select {
	case p.rows = <-p.spare:
	default:
		p.rows = make([]T, 0, cap(rows))
	}
	return w.encode(func() error {
		err := writeRows(w, p, rows, p.at)
		clear(rows)
		select {
		case p.spare <- rows[:0]:
		default:
		}
		return err
	})
}

// finish hands the last rows and the commit of the file to the encoder.
func (p *part[T]) finish(w *Writer) error {
	if err := p.group(w); err != nil {
		return err
	}
	return w.encode(func() error { return commit(w, p) })
}
func authTime(r *AuthRow) time.Time { return r.Timestamp }
func httpTime(r *HTTPRow) time.Time { return r.Timestamp }
func dnsTime(r *DNSRow) time.Time   { return r.Timestamp }
func newPartition(kind, rel string, end time.Time) partition {
	switch family(kind) {
	case "http":
		return &part[HTTPRow]{kind: kind, rel: rel, end: end, conv: httpRow, at: httpTime, spare: make(chan []HTTPRow, 1)}
	case "dns":
		return &part[DNSRow]{kind: kind, rel: rel, end: end, conv: dnsRow, at: dnsTime, spare: make(chan []DNSRow, 1)}
	}
	return &part[AuthRow]{kind: kind, rel: rel, end: end, conv: authRow, at: authTime, spare: make(chan []AuthRow, 1)}
}

// zstdFast is zstd at its fastest level: a third less CPU than the
// default level for 5 % larger files on auth logs (measured, 200k events).
var zstdFast = zstd.Codec{Level: zstd.SpeedFastest}

// ErrClosed is returned by Write after Close.
var ErrClosed = errors.New("archive writer closed")

// NewWriter creates the archive directory and starts the writer.
func NewWriter(opt Options) (*Writer, error) {
	if opt.Dir == "" {
		return nil, errors.New("archive: no directory")
	}
	if opt.Run == "" {
		opt.Run = time.Now().UTC().Format("20060102T150405.000000000")
	}
	if opt.RowGroupRows <= 0 {
		opt.RowGroupRows = 1 << 16
	}
	if opt.FileRows <= 0 {
		opt.FileRows = 1 << 20
	}
	if opt.Lateness <= 0 {
		opt.Lateness = 2 * time.Minute
	}
	st, err := openStore(opt.Dir)
	if err != nil {
		return nil, err
	}
	cf, err := st.openFile("_commits.log", os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		st.close()
		return nil, fmt.Errorf("cannot open archive commit log: %w", err)
	}
	w := &Writer{opt: opt, queue: make(chan []event.Event, 8), free: make(chan []event.Event, 10), done: make(chan struct{}),
		st: st, commits: cf, dropped: map[string]int64{},
		parts: map[pkey]partition{}, names: map[pkey]string{},
		jobs: make(chan func() error, 2), encEnd: make(chan struct{})}
	go w.encoder()
	go w.loop()
	return w, nil
}

// Write archives a batch of events (borrowed for the call).
func (w *Writer) Write(evs []event.Event) error {
	select {
	case <-w.done:
		if w.err != nil {
			return w.err
		}
		return ErrClosed
	default:
	}
	var batch []event.Event
	var drops map[string]int64 // known-good events not stored, per partition
	select {
	case batch = <-w.free:
		batch = batch[:0]
	default:
		batch = make([]event.Event, 0, max(len(evs), 1024))
	}
	for i := range evs {
		ev := &evs[i]
		if w.opt.Drop != nil && w.opt.Drop(ev) {
			if drops == nil {
				drops = map[string]int64{}
			}
			drops[partitionOf(ev.Kind.String(), ev.Time)]++
			continue
		}
		// Strings are immutable and Raw aliases a never-rewritten input
		// buffer, so a shallow copy is safe to hand to the goroutine.
		batch = append(batch, *ev)
	}
	if drops != nil {
		// Recorded before the batch is queued, so a partition's drops are
		// known when the goroutine commits it.
		w.mu.Lock()
		for k, n := range drops {
			w.dropped[k] += n
			w.stats.Dropped += n
		}
		w.mu.Unlock()
	}
	if len(batch) == 0 {
		return nil
	}
	select {
	case w.queue <- batch:
		return nil
	case <-w.done:
		return w.err
	}
}

// partitionOf is the partition path of a record of kind at t.
func partitionOf(kind string, t time.Time) string {
	u := t.UTC()
	return fmt.Sprintf("kind=%s/date=%s/hour=%02d", kind, u.Format("2006-01-02"), u.Hour())
}

func (w *Writer) loop() {
	defer close(w.done)
	for evs := range w.queue {
		err := w.add(evs)
		clear(evs)
		select {
		case w.free <- evs:
		default:
		}
		if err != nil {
			w.setErr(err)
			close(w.jobs)
			<-w.encEnd
			for range w.queue { // keep Write from blocking
			}
			return
		}
	}
	w.setErr(w.closeAll())
}

func (w *Writer) setErr(err error) {
	if err != nil && w.err == nil {
		w.err = err
	}
}

func (w *Writer) add(evs []event.Event) error {
	for i := range evs {
		ev := &evs[i]
		if ev.Time.After(w.wm) {
			w.wm = ev.Time
		}
		k := pkey{ev.Kind, ev.Time.Unix() / 3600}
		if ev.Time.Unix() < 0 && ev.Time.Unix()%3600 != 0 {
			k.hour--
		}
		p := w.parts[k]
		if p == nil {
			rel, ok := w.names[k]
			if !ok {
				rel = partitionOf(ev.Kind.String(), ev.Time)
				w.names[k] = rel
			}
			p = newPartition(ev.Kind.String(), rel, time.Unix((k.hour+1)*3600, 0))
			w.parts[k] = p
		}
		p.add(ev)
		if p.buffered() >= w.opt.RowGroupRows {
			if err := p.group(w); err != nil {
				return err
			}
		}
	}
	// Close partitions whose hour is over (plus lateness).
	for k, p := range w.parts {
		if w.wm.Sub(p.hourEnd()) > w.opt.Lateness {
			if err := p.finish(w); err != nil {
				return err
			}
			delete(w.parts, k)
			delete(w.names, k)
		}
	}
	return nil
}

func findingTime(r *FindingRow) time.Time { return r.Timestamp }

// writeGroup sorts the buffered rows by time and writes them as one row
// group of the partition's open file (opening one if needed); a file that
// reached FileRows is committed.
func writeGroup[T any](w *Writer, p *part[T], at func(*T) time.Time) error {
	err := writeRows(w, p, p.rows, at)
	clear(p.rows)
	p.rows = p.rows[:0]
	return err
}

// writeRows writes rows (sorted here) as one row group of p's open file.
// It runs on the encoder goroutine for events (see part.group) and
// synchronously for findings; p's file state belongs to whoever calls it.
func writeRows[T any](w *Writer, p *part[T], rows []T, at func(*T) time.Time) error {
	if len(rows) == 0 {
		return nil
	}
	sort.SliceStable(rows, func(i, j int) bool { return at(&rows[i]).Before(at(&rows[j])) })
	if p.w == nil {
		if err := openPart(w, p); err != nil {
			return err
		}
	}
	if _, err := p.w.Write(rows); err != nil {
		return fmt.Errorf("cannot write %s: %w", p.tmp, err)
	}
	if err := p.w.Flush(); err != nil {
		return fmt.Errorf("cannot write %s: %w", p.tmp, err)
	}
	first, last := at(&rows[0]), at(&rows[len(rows)-1])
	if p.n == 0 || first.Before(p.min) {
		p.min = first
	}
	if last.After(p.max) {
		p.max = last
	}
	p.n += int64(len(rows))
	if p.n >= int64(w.opt.FileRows) {
		return commit(w, p)
	}
	return nil
}

func openPart[T any](w *Writer, p *part[T]) error {
	if err := w.st.mkdirs(p.rel); err != nil {
		return err
	}
	w.mu.Lock()
	w.seq++
	name := fmt.Sprintf("part-%s-%05d.parquet", w.opt.Run, w.seq)
	w.mu.Unlock()
	p.tmp = path.Join(p.rel, "."+name+".tmp")
	f, err := w.st.create(p.tmp)
	if err != nil {
		return fmt.Errorf("cannot create part file: %w", err)
	}
	p.f = f
	p.w = parquet.NewGenericWriter[T](f,
		parquet.Compression(&zstdFast),
		parquet.CreatedBy("winnow", w.opt.Version, ""),
		parquet.KeyValueMetadata("winnow.schema", SchemaVersion),
		parquet.KeyValueMetadata("winnow.run", w.opt.Run),
		parquet.KeyValueMetadata("winnow.partition", p.rel),
	)
	return nil
}

// commit closes the partition's file durably, renames it into place and
// records it in the commit log.
func commit[T any](w *Writer, p *part[T]) error {
	if p.w == nil {
		return nil
	}
	if err := p.w.Close(); err != nil {
		return fmt.Errorf("cannot finish %s: %w", p.tmp, err)
	}
	if err := p.f.Sync(); err != nil {
		return fmt.Errorf("cannot sync %s: %w", p.tmp, err)
	}
	st, _ := p.f.Stat()
	if err := p.f.Close(); err != nil {
		return fmt.Errorf("cannot close %s: %w", p.tmp, err)
	}
	dir := path.Dir(p.tmp)
	final := path.Join(dir, path.Base(p.tmp)[1:len(path.Base(p.tmp))-len(".tmp")])
	if err := w.st.rename(p.tmp, final); err != nil {
		return fmt.Errorf("cannot commit %s: %w", final, err)
	}
	if err := w.st.syncDir(dir); err != nil {
		return err
	}
	c := Commit{File: final, Rows: p.n, Min: p.min.UTC(), Max: p.max.UTC(), Run: w.opt.Run}
	if st != nil {
		c.Bytes = st.Size()
	}
	w.mu.Lock()
	c.Dropped = w.dropped[p.rel]
	delete(w.dropped, p.rel)
	w.stats.Files++
	w.stats.Bytes += c.Bytes
	if p.kind == "finding" {
		w.stats.Findings += p.n
	} else {
		w.stats.Events += p.n
	}
	w.mu.Unlock()
	line, _ := json.Marshal(c)
	if _, err := w.commits.Write(append(line, '\n')); err != nil {
		return fmt.Errorf("cannot write commit log: %w", err)
	}
	if err := w.commits.Sync(); err != nil {
		return fmt.Errorf("cannot sync commit log: %w", err)
	}
	p.w, p.f, p.tmp, p.n = nil, nil, "", 0
	return nil
}

func finish[T any](w *Writer, p *part[T], at func(*T) time.Time) error {
	if err := writeGroup(w, p, at); err != nil {
		return err
	}
	return commit(w, p)
}

func (w *Writer) closeAll() error {
	keys := make([]pkey, 0, len(w.parts))
	for k := range w.parts {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].hour != keys[j].hour {
			return keys[i].hour < keys[j].hour
		}
		return keys[i].kind < keys[j].kind
	})
	var err error
	for _, k := range keys {
		if err = w.parts[k].finish(w); err != nil {
			break
		}
	}
	close(w.jobs)
	<-w.encEnd
	if err == nil {
		err = w.encodeErr()
	}
	if err != nil {
		return err
	}
	var rels []string
	w.parts = map[pkey]partition{}
	// Partitions whose every event was dropped still record their count.
	w.mu.Lock()
	defer w.mu.Unlock()
	for rel := range w.dropped {
		rels = append(rels, rel)
	}
	sort.Strings(rels)
	for _, rel := range rels {
		line, _ := json.Marshal(Commit{File: rel + "/", Dropped: w.dropped[rel], Run: w.opt.Run})
		if _, err := w.commits.Write(append(line, '\n')); err != nil {
			return fmt.Errorf("cannot write commit log: %w", err)
		}
	}
	return w.commits.Sync()
}

// Close flushes and commits every open partition. Findings, if any, are
// written as kind=finding partitions by their end time. Close returns the
// first error of the run.
func (w *Writer) Close(findings []event.Alert) error {
	select {
	case <-w.done:
	default:
		close(w.queue)
		<-w.done
	}
	err := w.err
	if err == nil && len(findings) > 0 {
		err = w.writeFindings(findings)
	}
	if cerr := w.commits.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("cannot close commit log: %w", cerr)
	}
	w.st.close()
	return err
}

func (w *Writer) writeFindings(alerts []event.Alert) error {
	parts := map[string]*part[FindingRow]{}
	for i := range alerts {
		r := findingRow(&alerts[i], w.opt.Run)
		rel := partitionOf("finding", r.Timestamp)
		p := parts[rel]
		if p == nil {
			p = &part[FindingRow]{kind: "finding", rel: rel}
			parts[rel] = p
		}
		p.rows = append(p.rows, r)
	}
	rels := make([]string, 0, len(parts))
	for rel := range parts {
		rels = append(rels, rel)
	}
	sort.Strings(rels)
	for _, rel := range rels {
		if err := finish(w, parts[rel], findingTime); err != nil {
			return err
		}
	}
	return nil
}

// Stats returns the counters so far (final after Close).
func (w *Writer) Stats() Stats {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.stats
}
