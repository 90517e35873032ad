// Package archive writes every event and finding to a Parquet archive and
// reads it back in event-time order for replay and hunts.
//
// Layout (docs/format/archive.md): DIR/kind=<kind>/month=<YYYY-MM>/
// part-<run>-<seq>.parquet, partitioned by the record's UTC month,
// zstd-compressed, each row group sorted by time and bounded by
// RowGroupRows, so engines prune by path and by row-group statistics.
// Small files of a partition are compacted into one (Compact).
//
// Durability: a part file is written under a dot-name in its partition,
// fsynced, renamed into place and its directory fsynced; only then is a
// line appended (and fsynced) to the journal DIR/_commits.log. Readers
// ignore names starting with "." or "_", so a crash never exposes a
// partial file, and every file the journal names is complete. A run
// records its begin and end in the journal: the files of a run that died
// (kill -9, power loss) are removed by the next writer before it writes,
// so that re-running the same command replaces the dead run's data and
// never adds to it.
//
// Idempotency: the end record of a run lists every input it archived
// (content fingerprint, file identity, last line). A later run that reads
// the same input (Track) stores only the events of the lines after it.
package archive

import (
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
	Run          string // run id in file names and finding rows (default: UTC start time)
	RowGroupRows int    // rows per row group (default 65,536)
	// ChunkRows is how many rows are converted before they are handed to
	// the encoder (default 8,192, at most RowGroupRows): it bounds the
	// rows held in memory per open partition.
	ChunkRows int
	FileRows  int           // rows per file before it is committed and a new one started (default 1,048,576)
	Lateness  time.Duration // how long after its month a partition stays open for late events (default 2m)
	// Drop, when set, is the known-good filter of --keep unknown: events it
	// returns true for are counted per partition but not stored.
	Drop func(*event.Event) bool
	// Version is written into each file's metadata as the creating winnow.
	Version string
	// Compact, when set, compacts the small files of the partitions the
	// run wrote when it closes (see Compact).
	Compact bool
	// Now is the wall clock (tests); nil means time.Now.
	Now func() time.Time
}

// Commit is a commit record of the journal DIR/_commits.log: a file that
// is complete.
type Commit struct {
	File    string    `json:"file,omitempty"` // relative to the archive root
	Rows    int64     `json:"rows,omitempty"`
	Dropped int64     `json:"dropped,omitempty"` // known-good events of this file's partition not stored
	Min     time.Time `json:"min,omitzero"`
	Max     time.Time `json:"max,omitzero"`
	Run     string    `json:"run,omitempty"`
	Bytes   int64     `json:"bytes,omitempty"`
	At      time.Time `json:"at,omitzero"` // when its rows were archived (compacted: the latest of its inputs)
}

// Stats of a Writer.
type Stats struct {
	Events    int64 // events stored
	Dropped   int64 // events not stored by Drop (known good)
	Skipped   int64 // events of lines the archive already held (Track)
	Findings  int64
	Repeated  int64 // findings the archive already held (same rule, entity and range): not stored again
	Files     int64
	Bytes     int64 // bytes of committed files
	Recovered Recovery
	Compacted CompactStats
	// CompactPostponed says why the run's compaction did not happen
	// (a reader held the archive), "" when it did or was not asked for.
	CompactPostponed string
}

// InputStat is what a run did with one tracked input.
type InputStat struct {
	Resume
	Last    int64 // last line seen in this run (0: no event)
	Stored  int64 // events stored
	Skipped int64 // events of lines already archived
}

// Writer appends events to the archive. Write is called from one goroutine
// (the pipeline's merge); encoding and file I/O run on the Writer's own
// goroutines behind a bounded queue.
//
// A Writer holds the archive's lock from NewWriter to Close: a second
// writer on the same archive is refused (ErrBusy).
type Writer struct {
	opt   Options
	queue chan *batch
	free  chan *batch // batches handed back by the goroutine
	done  chan struct{}
	err   error // first error of the background goroutine (read after done)

	st    *store
	lock  *os.File
	jmu   sync.Mutex // serialises journal appends
	j     *journal
	start time.Time

	mu      sync.Mutex
	stats   Stats
	seq     int
	dropped map[string]int64 // per partition
	touched map[string]bool  // partitions this run committed files to

	parts map[pkey]partition
	names map[pkey]string // partition paths, formatted once
	wm    time.Time

	// Inputs tracked for idempotency (Track), by name; used by Write only.
	inputs   map[string]*tracked
	order    []*tracked
	last     *tracked
	lastName string

	// The encoder goroutine runs Parquet encoding, compression and file
	// I/O in order, so that converting the next rows overlaps with it.
	jobs   chan func() error
	encEnd chan struct{}
	encErr error // first encoder error; read under mu
}

// batch is a queued copy of events with their row metadata.
type batch struct {
	evs  []event.Event
	meta []rowMeta
}

// tracked is one input of the run.
type tracked struct {
	InputStat
	src      Source
	lineSeq  int64 // line of the previous event (for event_sequence)
	seq      int32
	sameHead *tracked // the earlier input of this run with the same content
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
	kind  event.Kind
	month int64 // months since year 0
}

// partition is one open partition of some row schema.
type partition interface {
	add(ev *event.Event, m rowMeta)
	buffered() int
	group(w *Writer) error  // write the buffered rows as a row group
	finish(w *Writer) error // write and commit the file
	monthEnd() time.Time
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
	inGroup   int // rows written to the open row group
	min, max  time.Time
	dropped   int64 // commit: drops carried by compaction
	at        time.Time
	run       string // commit: the run named in the record (default the writer's)
	conv      func(*event.Event, rowMeta, *T)
	time      func(*T) time.Time
	spare     chan []T // row buffers the encoder is done with
}

func (p *part[T]) add(ev *event.Event, m rowMeta) {
	p.rows = append(p.rows, *new(T))
	p.conv(ev, m, &p.rows[len(p.rows)-1])
}
func (p *part[T]) buffered() int       { return len(p.rows) }
func (p *part[T]) monthEnd() time.Time { return p.end }

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
		err := writeRows(w, p, rows)
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
		return &part[HTTPRow]{kind: kind, rel: rel, end: end, conv: httpRow, time: httpTime, spare: make(chan []HTTPRow, 1)}
	case "dns":
		return &part[DNSRow]{kind: kind, rel: rel, end: end, conv: dnsRow, time: dnsTime, spare: make(chan []DNSRow, 1)}
	case "flow":
		return &part[FlowRow]{kind: kind, rel: rel, end: end, conv: flowRow, time: flowTime, spare: make(chan []FlowRow, 1)}
	case "audit":
		return &part[AuditRow]{kind: kind, rel: rel, end: end, conv: auditRow, time: auditTime, spare: make(chan []AuditRow, 1)}
	case "file":
		return &part[FileRow]{kind: kind, rel: rel, end: end, conv: fileRow, time: fileTime, spare: make(chan []FileRow, 1)}
	}
	return &part[AuthRow]{kind: kind, rel: rel, end: end, conv: authRow, time: authTime, spare: make(chan []AuthRow, 1)}
}

// zstdFast is zstd at its fastest level: a third less CPU than the
// default level for 5 % larger files on auth logs (measured, 200k events).
var zstdFast = zstd.Codec{Level: zstd.SpeedFastest}

// ErrClosed is returned by Write after Close.
var ErrClosed = errors.New("archive writer closed")

// NewWriter opens (or creates) the archive, takes its lock, recovers what
// a dead run or compaction left (see Recovery) and starts the writer.
func NewWriter(opt Options) (*Writer, error) {
	if opt.Dir == "" {
		return nil, errors.New("archive: no directory")
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	start := opt.Now()
	if opt.Run == "" {
		opt.Run = start.UTC().Format("20060102T150405.000000000")
	}
	if opt.RowGroupRows <= 0 {
		opt.RowGroupRows = 1 << 15
	}
	if opt.ChunkRows <= 0 {
		opt.ChunkRows = 1 << 12
	}
	opt.ChunkRows = min(opt.ChunkRows, opt.RowGroupRows)
	if opt.FileRows <= 0 {
		opt.FileRows = 1 << 20
	}
	if opt.Lateness <= 0 {
		opt.Lateness = 2 * time.Minute
	}
	a, err := openWritable(opt.Dir)
	if err != nil {
		return nil, err
	}
	if err := a.j.append(&record{Op: opBegin, Commit: Commit{Run: opt.Run}, Time: start.UTC(), PID: os.Getpid()}); err != nil {
		a.close()
		return nil, err
	}
	w := &Writer{opt: opt, queue: make(chan *batch, 8), free: make(chan *batch, 10), done: make(chan struct{}),
		st: a.st, lock: a.lock, j: a.j, start: start, dropped: map[string]int64{}, touched: map[string]bool{},
		parts: map[pkey]partition{}, names: map[pkey]string{}, inputs: map[string]*tracked{},
		jobs: make(chan func() error, 2), encEnd: make(chan struct{})}
	w.stats.Recovered = a.rec
	go w.encoder()
	go w.loop()
	return w, nil
}

// Track declares an input of the run before its events are written: the
// archive's manifest says how much of it is archived already (matched by
// content fingerprint and file identity, so a renamed, rotated or
// compressed copy is recognised), and Write then stores only the events
// of later lines. Inputs not tracked, or with no Head, are stored whole.
// Call Track before the first Write.
func (w *Writer) Track(src Source) Resume {
	if len(src.Head) == 0 {
		// Nothing to recognise it by (unreadable, empty, or a pipe that can
		// be read only once): stored whole, like an input not tracked.
		return Resume{Name: src.Name}
	}
	head := src.Head
	if len(head) > FingerprintBytes {
		head = head[:FingerprintBytes]
	}
	src.Head = head
	r := Resume{Name: src.Name, fp: fingerprint(head), head: int64(len(head))}
	if prev, ok := match(w.j.state.inputs, src); ok {
		r.Lines, r.Prior = prev.Lines, prev.Name
	}
	t := &tracked{src: src}
	// The same content given twice in one run is archived once.
	for _, o := range w.order {
		if o.sameHead == nil && o.fp == r.fp && (r.head == FingerprintBytes || int64(len(o.src.Head)) == r.head) {
			r.Duplicate, r.Lines = o.Name, allLines
			t.sameHead = o
			break
		}
	}
	t.Resume = r
	w.inputs[src.Name] = t
	w.order = append(w.order, t)
	return r
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
	var b *batch
	select {
	case b = <-w.free:
		b.evs, b.meta = b.evs[:0], b.meta[:0]
	default:
		n := max(len(evs), 1024)
		b = &batch{evs: make([]event.Event, 0, n), meta: make([]rowMeta, 0, n)}
	}
	var drops map[string]int64 // known-good events not stored, per partition
	for i := range evs {
		ev := &evs[i]
		t := w.input(ev.Ref.File)
		var m rowMeta
		if t != nil {
			if ev.Ref.Line == t.lineSeq {
				t.seq++
			} else {
				t.lineSeq, t.seq = ev.Ref.Line, 0
			}
			if ev.Ref.Line > t.Last {
				t.Last = ev.Ref.Line
			}
			if ev.Ref.Line <= t.Lines {
				t.InputStat.Skipped++
				continue
			}
			m = rowMeta{fileID: t.fp, seq: t.seq}
		}
		if w.opt.Drop != nil && w.opt.Drop(ev) {
			if drops == nil {
				drops = map[string]int64{}
			}
			drops[partitionOf(ev.Kind.String(), ev.Time)]++
			continue
		}
		if t != nil {
			t.Stored++
		}
		// Strings are immutable and Raw aliases a never-rewritten input
		// buffer, so a shallow copy is safe to hand to the goroutine.
		b.evs = append(b.evs, *ev)
		b.meta = append(b.meta, m)
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
	if len(b.evs) == 0 {
		return nil
	}
	select {
	case w.queue <- b:
		return nil
	case <-w.done:
		return w.err
	}
}

// input finds the tracked input an event came from.
func (w *Writer) input(name string) *tracked {
	if w.last != nil && name == w.lastName {
		return w.last
	}
	t := w.inputs[name]
	if t != nil {
		w.last, w.lastName = t, name
	}
	return t
}

// partitionOf is the partition path of a record of kind at t.
func partitionOf(kind string, t time.Time) string {
	return "kind=" + kind + "/month=" + t.UTC().Format("2006-01")
}

func (w *Writer) loop() {
	defer close(w.done)
	for b := range w.queue {
		err := w.add(b)
		clear(b.evs)
		select {
		case w.free <- b:
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

// monthOf is t's month (UTC) counted from year 0.
func monthOf(t time.Time) int64 {
	u := t.UTC()
	return int64(u.Year())*12 + int64(u.Month()) - 1
}

// monthStart is the first instant of month m (UTC).
func monthStart(m int64) time.Time {
	y, mo := m/12, m%12
	if mo < 0 {
		y, mo = y-1, mo+12
	}
	return time.Date(int(y), time.Month(mo+1), 1, 0, 0, 0, 0, time.UTC)
}

func (w *Writer) add(b *batch) error {
	for i := range b.evs {
		ev := &b.evs[i]
		if ev.Time.After(w.wm) {
			w.wm = ev.Time
		}
		k := pkey{ev.Kind, monthOf(ev.Time)}
		p := w.parts[k]
		if p == nil {
			rel, ok := w.names[k]
			if !ok {
				rel = partitionOf(ev.Kind.String(), ev.Time)
				w.names[k] = rel
			}
			p = newPartition(ev.Kind.String(), rel, monthStart(k.month+1))
			w.parts[k] = p
		}
		p.add(ev, b.meta[i])
		if p.buffered() >= w.opt.ChunkRows {
			if err := p.group(w); err != nil {
				return err
			}
		}
	}
	// Close partitions whose month is over (plus lateness).
	for k, p := range w.parts {
		if w.wm.Sub(p.monthEnd()) > w.opt.Lateness {
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

// writeRows sorts rows by time and appends them to p's open file
// (opening one if needed); the row group is flushed at RowGroupRows and
// the file committed at FileRows. It runs on the encoder goroutine for
// events (see part.group) and synchronously for findings; p's file state
// belongs to whoever calls it.
func writeRows[T any](w *Writer, p *part[T], rows []T) error {
	if len(rows) == 0 {
		return nil
	}
	sortRows(rows, p.time)
	if p.w == nil {
		if err := openPart(w.st, p, w.nextName(), w.opt.Version, w.opt.Run); err != nil {
			return err
		}
	}
	if err := p.write(rows); err != nil {
		return err
	}
	if p.inGroup >= w.opt.RowGroupRows {
		if err := p.flush(); err != nil {
			return err
		}
	}
	if p.n >= int64(w.opt.FileRows) {
		return commit(w, p)
	}
	return nil
}

// sortRows sorts rows by time, stably; a log's rows usually come in
// order, and then nothing is moved.
func sortRows[T any](rows []T, at func(*T) time.Time) {
	for i := 1; i < len(rows); i++ {
		if at(&rows[i]).Before(at(&rows[i-1])) {
			sort.SliceStable(rows, func(i, j int) bool { return at(&rows[i]).Before(at(&rows[j])) })
			return
		}
	}
}

// append writes rows, already in order, as one row group.
func (p *part[T]) append(rows []T) error {
	if err := p.write(rows); err != nil {
		return err
	}
	return p.flush()
}

// flush ends the open row group.
func (p *part[T]) flush() error {
	if p.inGroup == 0 {
		return nil
	}
	if err := p.w.Flush(); err != nil {
		return fmt.Errorf("cannot write %s: %w", p.tmp, err)
	}
	p.inGroup = 0
	return nil
}

// write adds rows, already in order, to the open row group.
func (p *part[T]) write(rows []T) error {
	if _, err := p.w.Write(rows); err != nil {
		return fmt.Errorf("cannot write %s: %w", p.tmp, err)
	}
	p.inGroup += len(rows)
	first, last := p.time(&rows[0]), p.time(&rows[len(rows)-1])
	if p.n == 0 || first.Before(p.min) {
		p.min = first
	}
	if last.After(p.max) {
		p.max = last
	}
	p.n += int64(len(rows))
	return nil
}

// nextName is the name of the run's next part file.
func (w *Writer) nextName() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.seq++
	return fmt.Sprintf("part-%s-%05d.parquet", w.opt.Run, w.seq)
}

// tempName is the hidden name a part file is written under.
func tempName(name string) string { return "." + name + ".tmp" }

// openPart creates the partition's directory and a temporary file name
// in it, and starts a Parquet writer on it.
func openPart[T any](st *store, p *part[T], name, version, run string) error {
	if err := st.mkdirs(p.rel); err != nil {
		return err
	}
	p.tmp = path.Join(p.rel, tempName(name))
	f, err := st.create(p.tmp)
	if err != nil {
		return fmt.Errorf("cannot create part file: %w", err)
	}
	p.f = f
	opts := []parquet.WriterOption{
		parquet.Compression(&zstdFast),
		parquet.CreatedBy("winnow", version, ""),
		parquet.KeyValueMetadata("winnow.schema", SchemaVersion),
		parquet.KeyValueMetadata("winnow.run", run),
		parquet.KeyValueMetadata("winnow.partition", p.rel),
	}
	p.w = parquet.NewGenericWriter[T](f, append(opts, textColumns...)...)
	p.inGroup = 0
	return nil
}

// textColumns are free-text columns that get no page bounds or page
// statistics: nobody prunes by the min and max of raw log lines, and
// computing them costs a comparison per value.
var textColumns = func() []parquet.WriterOption {
	var o []parquet.WriterOption
	for _, c := range []string{"event_original", "message", "process_command_line", "url_query", "url_query_decoded",
		"url_path_decoded", "http_request_referrer", "user_agent_original", "rule_description",
		"winnow_evidence_json", "winnow_samples_json", "winnow_related_json"} {
		o = append(o, parquet.SkipPageBounds(c), parquet.SkipPageStatistics(c))
	}
	return o
}()

// seal finishes the part's file durably (footer, fsync, close) and
// returns its commit record, still under its temporary name.
func (p *part[T]) seal() (Commit, error) {
	if err := p.flush(); err != nil {
		p.f.Close()
		return Commit{}, err
	}
	if err := p.w.Close(); err != nil {
		p.f.Close()
		return Commit{}, fmt.Errorf("cannot finish %s: %w", p.tmp, err)
	}
	if err := p.f.Sync(); err != nil {
		p.f.Close()
		return Commit{}, fmt.Errorf("cannot sync %s: %w", p.tmp, err)
	}
	st, _ := p.f.Stat()
	if err := p.f.Close(); err != nil {
		return Commit{}, fmt.Errorf("cannot close %s: %w", p.tmp, err)
	}
	c := Commit{File: finalName(p.tmp), Rows: p.n, Min: p.min.UTC(), Max: p.max.UTC(), Run: p.run, At: p.at.UTC(),
		Dropped: p.dropped}
	if st != nil {
		c.Bytes = st.Size()
	}
	p.w, p.f = nil, nil
	return c, nil
}

// finalName is the committed name of a temporary part file.
func finalName(tmp string) string {
	dir, base := path.Split(tmp)
	return dir + base[1:len(base)-len(".tmp")]
}

// commit closes the partition's file durably, renames it into place and
// records it in the journal.
func commit[T any](w *Writer, p *part[T]) error {
	if p.w == nil {
		return nil
	}
	p.run, p.at = w.opt.Run, w.opt.Now()
	c, err := p.seal()
	if err != nil {
		return err
	}
	if err := w.st.rename(p.tmp, c.File); err != nil {
		return fmt.Errorf("cannot commit %s: %w", c.File, err)
	}
	if err := w.st.syncDir(p.rel); err != nil {
		return err
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
	w.touched[p.rel] = true
	w.mu.Unlock()
	if err := w.journal(&record{Op: opCommit, Commit: c}); err != nil {
		return err
	}
	p.tmp, p.n = "", 0
	return nil
}

func (w *Writer) journal(rs ...*record) error {
	w.jmu.Lock()
	defer w.jmu.Unlock()
	return w.j.append(rs...)
}

func (w *Writer) closeAll() error {
	keys := make([]pkey, 0, len(w.parts))
	for k := range w.parts {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].month != keys[j].month {
			return keys[i].month < keys[j].month
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
	w.parts = map[pkey]partition{}
	// Partitions whose every event was dropped still record their count.
	w.mu.Lock()
	rels := make([]string, 0, len(w.dropped))
	for rel := range w.dropped {
		rels = append(rels, rel)
	}
	sort.Strings(rels)
	var recs []*record
	for _, rel := range rels {
		recs = append(recs, &record{Op: opCommit, Commit: Commit{File: rel + "/", Dropped: w.dropped[rel], Run: w.opt.Run}})
	}
	w.mu.Unlock()
	if len(recs) == 0 {
		return nil
	}
	return w.journal(recs...)
}

// Close flushes and commits every open partition, then the findings (as
// kind=finding partitions by their end time; those the archive already
// holds are not stored again), then records the end of the run with its
// inputs. With Options.Compact it then compacts the partitions the run
// wrote. Close returns the first error of the run and releases the lock.
// A run that fails is not ended: the next writer removes its files.
func (w *Writer) Close(findings []event.Alert) error {
	select {
	case <-w.done:
	default:
		close(w.queue)
		<-w.done
	}
	defer w.release()
	if w.err != nil {
		return w.err
	}
	if len(findings) > 0 {
		if err := w.writeFindings(findings); err != nil {
			return err
		}
	}
	now := w.opt.Now().UTC()
	end := &record{Op: opEnd, Commit: Commit{Run: w.opt.Run}, Time: now}
	for _, t := range w.order {
		if t.Duplicate != "" {
			continue
		}
		lines := max(t.Lines, t.Last)
		if lines == 0 {
			continue
		}
		end.Inputs = append(end.Inputs, InputRecord{Name: t.Name, Fingerprint: t.fp, Prefix: t.head,
			Dev: t.src.Dev, Ino: t.src.Ino, Lines: lines, Events: t.Stored, Run: w.opt.Run, At: now})
	}
	if err := w.journal(end); err != nil {
		return err
	}
	if w.opt.Compact {
		w.mu.Lock()
		rels := make([]string, 0, len(w.touched))
		for rel := range w.touched {
			rels = append(rels, rel)
		}
		w.mu.Unlock()
		a := &writable{st: w.st, lock: w.lock, j: w.j}
		cs, err := a.compact(CompactOptions{Partitions: rels, RowGroupRows: w.opt.RowGroupRows, Version: w.opt.Version, Now: w.opt.Now})
		w.stats.Compacted = cs
		if errors.Is(err, ErrBusy) {
			w.stats.CompactPostponed = "the archive is being read"
		} else if err != nil {
			return err
		}
	}
	return w.j.checkpoint(false)
}

// release closes the journal and frees the lock (once).
func (w *Writer) release() {
	if w.st == nil {
		return
	}
	w.j.close()
	unlock(w.lock)
	w.st.close()
	w.st = nil
}

func (w *Writer) writeFindings(alerts []event.Alert) error {
	// Findings the archive already holds (a re-run over the same input)
	// are not stored twice.
	from, to := alerts[0].End, alerts[0].End
	for i := range alerts {
		from, to = minTime(from, alerts[i].End), maxTime(to, alerts[i].End)
	}
	have := map[Key]int{}
	old, _ := Findings(w.opt.Dir, from, to.Add(time.Nanosecond))
	for i := range old {
		have[KeyOf(&old[i])]++
	}
	// By partition, then end time; rows are built a chunk at a time so
	// that a run with many findings does not hold them all as rows.
	type ref struct {
		rel string
		i   int
	}
	refs := make([]ref, 0, len(alerts))
	for i := range alerts {
		if k := KeyOf(&alerts[i]); have[k] > 0 {
			have[k]--
			w.stats.Repeated++
			continue
		}
		refs = append(refs, ref{partitionOf("finding", alerts[i].End), i})
	}
	sort.SliceStable(refs, func(a, b int) bool {
		if refs[a].rel != refs[b].rel {
			return refs[a].rel < refs[b].rel
		}
		return alerts[refs[a].i].End.Before(alerts[refs[b].i].End)
	})
	var p *part[FindingRow]
	rows := make([]FindingRow, 0, min(len(refs), w.opt.ChunkRows))
	for k, r := range refs {
		if p == nil || p.rel != r.rel {
			p = &part[FindingRow]{kind: "finding", rel: r.rel, time: findingTime}
		}
		rows = append(rows, findingRow(&alerts[r.i], w.opt.Run))
		if last := k == len(refs)-1; last || len(rows) == cap(rows) || refs[k+1].rel != r.rel {
			if err := writeRows(w, p, rows); err != nil {
				return err
			}
			clear(rows)
			rows = rows[:0]
			if last || refs[k+1].rel != r.rel {
				if err := commit(w, p); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// Stats returns the counters so far (final after Close).
func (w *Writer) Stats() Stats {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.stats
}

// Inputs returns what the run did with each tracked input (final after
// Close), in the order they were tracked.
func (w *Writer) Inputs() []InputStat {
	out := make([]InputStat, 0, len(w.order))
	for _, t := range w.order {
		out = append(out, t.InputStat)
	}
	return out
}
