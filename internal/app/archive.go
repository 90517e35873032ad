package app

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"winnow/internal/archive"
	"winnow/internal/correlate"
	"winnow/internal/detect"
	"winnow/internal/detect/indicator"
	"winnow/internal/enrich/ioc"
	"winnow/internal/event"
	"winnow/internal/pipeline"
	"winnow/internal/report"
	"winnow/internal/source"
	"winnow/internal/textsafe"
)

// ArchiveOptions are analyze's archive and indicator settings.
type ArchiveOptions struct {
	Archive   string        // write events and findings to this archive directory
	Keep      string        // "all" (default) or "unknown": drop events matched by KnownGood
	KnownGood []string      // known-good indicator lists (addresses, ranges, domains, NSRL hashes)
	IOCs      []string      // known-bad indicator lists matched live (detector ioc.match)
	RetainAge time.Duration // after the run, prune partitions older than this (0: keep)
	RetainMax int64         // after the run, prune the oldest records beyond this many bytes (0: no cap)
	// RetainBasis is what RetainAge measures: archive.AgeArchived
	// (default: when the data was archived) or archive.AgeEvent.
	RetainBasis string
}

// registry returns the detector registry with the indicator detector
// when indicator lists were given.
func (o *AnalyzeOptions) registry() (*detect.Registry, *ioc.Set, error) {
	reg := NewRegistry()
	if len(o.IOCs) == 0 {
		return reg, nil, nil
	}
	set, err := loadIndicators(o.IOCs, nil, o.Stderr)
	if err != nil {
		return nil, nil, err
	}
	if err := reg.Register(indicator.Spec(set)); err != nil {
		return nil, nil, err
	}
	return reg, set, nil
}

// loadIndicators loads lists and reports malformed lines and sizes.
func loadIndicators(bad, good []string, stderr io.Writer) (*ioc.Set, error) {
	start := time.Now()
	set, err := ioc.LoadFiles(bad, good)
	if err != nil {
		return nil, err
	}
	n, errs := set.Problems()
	if n > 0 && stderr != nil {
		fmt.Fprintf(stderr, "winnow: %d indicator lines skipped (not an address, range, domain, URL or hash):\n", n)
		for _, e := range errs {
			fmt.Fprintf(stderr, "    %v\n", e)
		}
	}
	if set.Len() == 0 {
		return nil, fmt.Errorf("no indicators in %s", strings.Join(append(append([]string{}, bad...), good...), ", "))
	}
	if stderr != nil {
		fmt.Fprintf(stderr, "winnow: loaded %d indicators in %.2fs\n", set.Len(), time.Since(start).Seconds())
	}
	return set, nil
}

// archiveRun is an open archive writer for one analyze run.
type archiveRun struct {
	w   *archive.Writer
	opt ArchiveOptions
}

// openArchive starts the archive writer and hooks it into cfg.
func (o *AnalyzeOptions) openArchive(cfg *pipeline.Config, version string) (*archiveRun, error) {
	a := o.ArchiveOptions
	if a.Archive == "" {
		if a.Keep != "" && a.Keep != "all" || len(a.KnownGood) > 0 {
			return nil, usagef("--keep and --known-good need --archive DIR")
		}
		return nil, nil
	}
	opt := archive.Options{Dir: a.Archive, Version: version}
	switch a.Keep {
	case "", "all":
	case "unknown":
		if len(a.KnownGood) == 0 {
			return nil, usagef("--keep unknown needs --known-good FILE (the allow-list that says what is known good)")
		}
		set, err := loadIndicators(nil, a.KnownGood, o.Stderr)
		if err != nil {
			return nil, usagef("--known-good: %v", err)
		}
		opt.Drop = knownGood(set)
	default:
		return nil, usagef("--keep %q: want all or unknown", a.Keep)
	}
	opt.Compact = true
	w, err := archive.NewWriter(opt)
	if err != nil {
		return nil, fmt.Errorf("archive %s: %w", a.Archive, err)
	}
	// Every input is identified (content fingerprint, file identity) so
	// that what the archive already holds of it is not stored again: the
	// detectors still read the whole input, the archive receives only
	// the events of lines it does not have.
	for _, in := range cfg.Inputs {
		var src archive.Source
		if in.Name == source.StdinName {
			br := bufio.NewReaderSize(cfg.Stdin, stdinPeek)
			peek, _ := br.Peek(stdinPeek)
			src = identify(source.Input{Name: in.Name}, bytes.NewReader(peek))
			cfg.Stdin = br
		} else {
			src = identify(in, nil)
		}
		w.Track(src)
	}
	cfg.Sink = w.Write
	return &archiveRun{w: w, opt: a}, nil
}

// stdinPeek is how much of standard input is looked at (and kept for the
// pipeline) to fingerprint it.
const stdinPeek = 256 << 10

// identify reads the head of an input's content (decompressed, lines as
// the pipeline reads them) and its file identity. An input that cannot
// be read yields an empty head: it is then archived whole, and its error
// is reported by the pipeline.
func identify(in source.Input, stdin io.Reader) archive.Source {
	src := archive.Source{Name: in.Name}
	if in.Path != "" || in.Name != source.StdinName {
		p := in.Path
		if p == "" {
			p = in.Name
		}
		fi, err := os.Stat(p)
		if err != nil || !fi.Mode().IsRegular() {
			// A named pipe or device (<(zcat …)) can be read once only: it
			// is not fingerprinted, and archived whole.
			return src
		}
		if st, ok := fi.Sys().(*syscall.Stat_t); ok {
			src.Dev, src.Ino = uint64(st.Dev), st.Ino
		}
	}
	rd, err := source.Open(in, stdin, source.Options{ChunkSize: 64 << 10})
	if err != nil {
		return src
	}
	defer rd.Close()
	head := make([]byte, 0, archive.FingerprintBytes)
	for len(head) < archive.FingerprintBytes {
		ch, err := rd.Next()
		if ch != nil {
			for _, ln := range ch.Lines {
				head = append(append(head, ln.B...), '\n')
			}
		}
		if err != nil {
			break
		}
	}
	src.Head = head[:min(len(head), archive.FingerprintBytes)]
	return src
}

// knownGood drops an event whose source address (or DNS name) is on a
// known-good list and whose outcome is not a failure: a failed login from
// a trusted address is still worth keeping.
func knownGood(set *ioc.Set) func(*event.Event) bool {
	var hits []ioc.Hit
	return func(ev *event.Event) bool {
		if ev.Outcome == event.OutcomeFailure {
			return false
		}
		hits = set.MatchEvent(ev, hits[:0])
		return len(hits) > 0
	}
}

// finish writes the findings, commits everything, applies retention and
// reports on stderr.
func (r *archiveRun) finish(alerts []event.Alert, stderr io.Writer, quiet bool) error {
	err := r.w.Close(alerts)
	st := r.w.Stats()
	say := func(format string, args ...any) {
		if !quiet {
			fmt.Fprintf(stderr, "winnow: archive: "+format+"\n", args...)
		}
	}
	for _, rb := range st.Recovered.RolledBack {
		say("removed the %d files (%d records) of run %s, which never finished (killed or failed): this run replaces them",
			rb.Files, rb.Rows, rb.Run)
	}
	if n := st.Recovered.Finished + st.Recovered.Undone; n > 0 {
		say("completed %d and undid %d interrupted compactions", st.Recovered.Finished, st.Recovered.Undone)
	}
	if st.Recovered.Temps > 0 {
		say("removed %d stale temporary files", st.Recovered.Temps)
	}
	if err != nil {
		return fmt.Errorf("archive %s: %w", r.opt.Archive, err)
	}
	for _, in := range r.w.Inputs() {
		name := textsafe.Terminal(in.Name)
		switch {
		case in.Duplicate != "":
			say("%s has the same content as %s: archived once", name, textsafe.Terminal(in.Duplicate))
		case in.Lines > 0 && in.Last <= in.Lines:
			was := ""
			if in.Prior != in.Name {
				was = " (as " + textsafe.Terminal(in.Prior) + ")"
			}
			say("%s already archived%s: its %d events skipped, nothing new", name, was, in.Skipped)
		case in.Lines > 0:
			say("%s: lines 1–%d already archived (%d events skipped), lines %d–%d added", name, in.Lines, in.Skipped,
				in.Lines+1, in.Last)
		}
	}
	if st.Repeated > 0 {
		say("%d findings already archived by an earlier run: not stored again", st.Repeated)
	}
	if c := st.Compacted; c.Inputs > 0 {
		say("compacted %d small files into %d (%.1f KiB → %.1f KiB)", c.Inputs, c.Outputs,
			float64(c.BytesBefore)/1024, float64(c.BytesAfter)/1024)
	}
	if st.CompactPostponed != "" {
		say("compaction postponed: %s (run winnow archive compact later)", st.CompactPostponed)
	}
	if !quiet {
		fmt.Fprintf(stderr, "winnow: archived %d events and %d findings to %s (%d files, %.1f MiB, %.1f bytes/event)",
			st.Events, st.Findings, r.opt.Archive, st.Files, float64(st.Bytes)/(1<<20), perEvent(st))
		if st.Dropped > 0 {
			fmt.Fprintf(stderr, "; %d known-good events not stored", st.Dropped)
		}
		fmt.Fprintln(stderr)
	}
	if r.opt.RetainAge > 0 || r.opt.RetainMax > 0 {
		ps, err := archive.Prune(r.opt.Archive, archive.Retention{MaxAge: r.opt.RetainAge, MaxBytes: r.opt.RetainMax,
			Basis: r.opt.RetainBasis})
		if errors.Is(err, archive.ErrBusy) {
			say("retention postponed: %v", err)
			return nil
		}
		if err != nil {
			return err
		}
		if !quiet && ps.Files > 0 {
			fmt.Fprintf(stderr, "winnow: retention removed %d files (%d records, %.1f MiB)\n", ps.Files, ps.Rows,
				float64(ps.Bytes)/(1<<20))
		}
	}
	return nil
}

func perEvent(st archive.Stats) float64 {
	if st.Events+st.Findings == 0 {
		return 0
	}
	return float64(st.Bytes) / float64(st.Events+st.Findings)
}

// archiveSource replays an archive window as a pipeline input.
type archiveSource struct {
	opt archive.ReadOptions
	st  archive.ReadStats
}

func (s *archiveSource) Name() string { return s.opt.Dir }

func (s *archiveSource) Read(ctx context.Context, emit func([]event.Event) error) error {
	st, err := archive.Events(ctx, s.opt, emit)
	s.st = st
	return err
}

func (s *archiveSource) Stats() pipeline.InputStats {
	is := pipeline.InputStats{Name: s.opt.Dir, Format: "archive", Lines: s.st.Events, Events: s.st.Events}
	for _, e := range s.st.Skipped {
		is.Samples = append(is.Samples, event.Sample{File: s.opt.Dir, Text: e.Error()})
		is.Malformed++
	}
	return is
}

// ReplayOptions configure 'winnow replay'.
type ReplayOptions struct {
	Analyze  AnalyzeOptions // detectors, output, --tz, --iocs, ...
	Archive  string
	From, To time.Time
	Diff     bool // print only findings that the original run did not produce
}

// Replay reads the archive window in event-time order through today's
// pipeline and reports like analyze.
func Replay(ctx context.Context, o ReplayOptions) (int, error) {
	a := &o.Analyze
	if o.Archive == "" {
		return ExitUsage, usagef("--archive DIR is required")
	}
	if !o.To.IsZero() && !o.From.Before(o.To) {
		return ExitUsage, usagef("--from must be before --to")
	}
	if err := checkArchiveDir(o.Archive); err != nil {
		return ExitInputErr, err
	}
	cfg, err := a.pipelineConfig(nil)
	if err != nil {
		return ExitUsage, err
	}
	failOn, minSev, err := a.severities()
	if err != nil {
		return ExitUsage, err
	}
	loc := cfg.Parse.Location
	src := &archiveSource{opt: archive.ReadOptions{Dir: o.Archive, From: o.From, To: o.To, Location: loc}}
	cfg.Sources = []pipeline.EventSource{src}
	p, err := pipeline.New(cfg)
	if err != nil {
		return ExitUsage, UsageError{err}
	}
	var mu sync.Mutex
	var alerts []event.Alert
	res, err := p.Run(ctx, func(al event.Alert) {
		mu.Lock()
		alerts = append(alerts, al)
		mu.Unlock()
	})
	if err != nil {
		return ExitInputErr, err
	}
	shown := alerts
	if o.Diff {
		before, errs := archive.Findings(o.Archive, o.From, o.To)
		for _, e := range errs {
			fmt.Fprintf(a.Stderr, "winnow: warning: %s\n", textsafe.Terminal(e.Error()))
		}
		var gone int
		shown, gone = diffFindings(alerts, before)
		if !a.Quiet {
			fmt.Fprintf(a.Stderr, "winnow: replay diff: %d findings now, %d before, %d new, %d no longer reported\n",
				len(alerts), len(before), len(shown), gone)
		}
	}
	corr := correlate.Build(shown, a.correlateConfig())
	incidents := corr.Snapshot()
	if err := a.write(incidents, shown, corr.IncidentOf, minSev); err != nil {
		return ExitInputErr, fmt.Errorf("cannot write report: %w", err)
	}
	if !a.Quiet {
		report.Summary(a.Stderr, res, incidents, len(shown))
	}
	if res.Events == 0 && !a.Quiet {
		fmt.Fprintf(a.Stderr, "winnow: no archived events in the window\n")
	}
	return finalExit(a.Stderr, res, incidents, failOn, 0), nil
}

// diffFindings returns the findings of now that before does not hold (by
// rule, entity and time range) and how many of before are not in now.
func diffFindings(now, before []event.Alert) ([]event.Alert, int) {
	old := map[archive.Key]int{}
	for i := range before {
		old[archive.KeyOf(&before[i])]++
	}
	var added []event.Alert
	for i := range now {
		k := archive.KeyOf(&now[i])
		if old[k] > 0 {
			old[k]--
			continue
		}
		added = append(added, now[i])
	}
	gone := 0
	for _, n := range old {
		gone += n
	}
	return added, gone
}

// HuntOptions configure 'winnow hunt'.
type HuntOptions struct {
	Archive  string
	IOCs     []string
	From, To time.Time
	Output   string // text or json
	Samples  int
	TZ       string
	Stdout   io.Writer
	Stderr   io.Writer
}

// huntHit aggregates the matches of one indicator.
type huntHit struct {
	Indicator string         `json:"indicator"`
	Type      string         `json:"type"`
	List      string         `json:"list"`
	ListLine  int            `json:"list_line"`
	Label     string         `json:"label,omitempty"`
	First     time.Time      `json:"first_seen"`
	Last      time.Time      `json:"last_seen"`
	Count     int64          `json:"count"`
	Fields    map[string]int `json:"fields"`
	Clients   []string       `json:"clients"`
	Events    []event.Sample `json:"events"`
	clients   map[string]bool
}

// Hunt matches every archived event of the window against indicator lists
// and reports each indicator seen: first and last seen, count, the fields
// and clients, and sample events.
func Hunt(ctx context.Context, o HuntOptions) (int, error) {
	if o.Archive == "" || len(o.IOCs) == 0 {
		return ExitUsage, usagef("--archive DIR and --iocs FILE are required")
	}
	if o.Output != "text" && o.Output != "json" {
		return ExitUsage, usagef("--format %q: want text or json", o.Output)
	}
	if err := checkArchiveDir(o.Archive); err != nil {
		return ExitInputErr, err
	}
	loc := time.UTC
	if o.TZ != "" {
		l, err := time.LoadLocation(o.TZ)
		if err != nil {
			return ExitUsage, usagef("--tz %q: %v", o.TZ, err)
		}
		loc = l
	}
	set, err := loadIndicators(o.IOCs, nil, o.Stderr)
	if err != nil {
		return ExitUsage, UsageError{err}
	}
	if o.Samples <= 0 {
		o.Samples = 5
	}
	hits := map[int32]*huntHit{}
	var buf []ioc.Hit
	start := time.Now()
	st, err := archive.Events(ctx, archive.ReadOptions{Dir: o.Archive, From: o.From, To: o.To, Location: loc},
		func(evs []event.Event) error {
			for i := range evs {
				ev := &evs[i]
				buf = set.MatchEvent(ev, buf[:0])
				for _, h := range buf {
					addHit(hits, set, h, ev, o.Samples)
				}
			}
			return nil
		})
	if err != nil {
		return ExitInputErr, err
	}
	for _, e := range st.Skipped {
		fmt.Fprintf(o.Stderr, "winnow: warning: %s\n", textsafe.Terminal(e.Error()))
	}
	out := make([]*huntHit, 0, len(hits))
	for _, h := range hits {
		for c := range h.clients {
			h.Clients = append(h.Clients, c)
		}
		sort.Strings(h.Clients)
		out = append(out, h)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		return out[i].Indicator < out[j].Indicator
	})
	if err := writeHunt(o, out); err != nil {
		return ExitInputErr, fmt.Errorf("cannot write report: %w", err)
	}
	fmt.Fprintf(o.Stderr, "winnow: hunted %d events in %d files against %d indicators: %d indicators seen, %.2fs\n",
		st.Events, st.Files, set.Len(), len(out), time.Since(start).Seconds())
	if len(st.Skipped) > 0 {
		return ExitInputErr, nil
	}
	return ExitOK, nil
}

func addHit(hits map[int32]*huntHit, set *ioc.Set, h ioc.Hit, ev *event.Event, samples int) {
	hh := hits[h.ID]
	if hh == nil {
		ind := set.Get(h.ID)
		hh = &huntHit{Indicator: ind.Value, Type: ind.Type.String(), List: ind.Source, ListLine: ind.Line, Label: ind.Label,
			First: ev.Time, Last: ev.Time, Fields: map[string]int{}, clients: map[string]bool{}}
		hits[h.ID] = hh
	}
	hh.Count++
	hh.Fields[h.Field]++
	if ev.Time.Before(hh.First) {
		hh.First = ev.Time
	}
	if ev.Time.After(hh.Last) {
		hh.Last = ev.Time
	}
	if ev.SrcIP.IsValid() && len(hh.clients) < 100 {
		hh.clients[ev.SrcIP.String()] = true
	}
	if len(hh.Events) < samples {
		hh.Events = append(hh.Events, event.SampleOf(ev))
	}
}

func writeHunt(o HuntOptions, out []*huntHit) error {
	if o.Output == "json" {
		enc := json.NewEncoder(o.Stdout)
		enc.SetEscapeHTML(false)
		for _, h := range out {
			if err := enc.Encode(h); err != nil {
				return err
			}
		}
		return nil
	}
	if len(out) == 0 {
		_, err := fmt.Fprintln(o.Stdout, "No indicator was seen in the archive window.")
		return err
	}
	// Indicators, labels, file names and log lines are attacker- or
	// feed-controlled: every one is escaped for the terminal.
	esc := textsafe.Terminal
	for i, h := range out {
		fmt.Fprintf(o.Stdout, "#%-3d %s %s  %d events  %s → %s\n", i+1, strings.ToUpper(h.Type), esc(h.Indicator), h.Count,
			h.First.Format("2006-01-02 15:04:05"), h.Last.Format("2006-01-02 15:04:05"))
		fmt.Fprintf(o.Stdout, "     list %s:%d", esc(h.List), h.ListLine)
		if h.Label != "" {
			fmt.Fprintf(o.Stdout, " (%s)", esc(h.Label))
		}
		fmt.Fprintf(o.Stdout, " · clients %s\n", esc(clipList(h.Clients, 5)))
		for _, s := range h.Events {
			fmt.Fprintf(o.Stdout, "     %s:%d  %s\n", esc(s.File), s.Line, clipRunes(esc(s.Text), 140))
		}
	}
	return nil
}

// clipRunes cuts s to at most n runes, marking the cut with "…".
func clipRunes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	i := 0
	for k := range s {
		if i == n-1 {
			return s[:k] + "…"
		}
		i++
	}
	return s
}

func clipList(l []string, n int) string {
	if len(l) <= n {
		return strings.Join(l, ", ")
	}
	return strings.Join(l[:n], ", ") + fmt.Sprintf(" and %d more", len(l)-n)
}

// PruneOptions configure 'winnow archive prune'.
type PruneOptions struct {
	Archive  string
	MaxAge   time.Duration
	MaxSize  int64
	AgeBasis string // archive.AgeArchived (default) or archive.AgeEvent
	DryRun   bool
	Now      time.Time // tests; zero: wall clock
	Stdout   io.Writer
}

// Prune applies retention to an archive and lists every file removed
// (with --dry-run: every file that would be).
func Prune(o PruneOptions) (int, error) {
	if o.Archive == "" || (o.MaxAge <= 0 && o.MaxSize <= 0) {
		return ExitUsage, usagef("--archive DIR and --max-age or --max-size are required")
	}
	switch o.AgeBasis {
	case "", archive.AgeArchived, archive.AgeEvent:
	default:
		return ExitUsage, usagef("--age-basis %q: want archived (when the data was archived) or event (record time)", o.AgeBasis)
	}
	if err := checkArchiveDir(o.Archive); err != nil {
		return ExitInputErr, err
	}
	st, err := archive.Prune(o.Archive, archive.Retention{MaxAge: o.MaxAge, MaxBytes: o.MaxSize, Basis: o.AgeBasis,
		DryRun: o.DryRun, Now: o.Now})
	if err != nil {
		return ExitInputErr, fmt.Errorf("archive %s: %w", o.Archive, err)
	}
	basis := o.AgeBasis
	if basis == "" {
		basis = archive.AgeArchived
	}
	verb := "removed"
	if o.DryRun {
		verb = "would remove"
	}
	for _, p := range st.Removed {
		why := "size cap"
		if p.Why == "age" {
			why = "older than --max-age by " + basis + " time"
		}
		at := "unknown"
		if !p.At.IsZero() {
			at = p.At.UTC().Format("2006-01-02 15:04")
		}
		fmt.Fprintf(o.Stdout, "%s %s  %d records, %.1f KiB, records %s → %s UTC, archived %s (%s)\n", verb, p.File, p.Rows,
			float64(p.Bytes)/1024, p.Min.UTC().Format("2006-01-02 15:04"), p.Max.UTC().Format("2006-01-02 15:04"), at, why)
	}
	fmt.Fprintf(o.Stdout, "%s %d files (%d records, %.1f MiB); kept %d files (%.1f MiB)", verb, st.Files, st.Rows,
		float64(st.Bytes)/(1<<20), st.KeptFiles, float64(st.KeptBytes)/(1<<20))
	if !st.FirstKept.IsZero() {
		fmt.Fprintf(o.Stdout, " from %s UTC", st.FirstKept.UTC().Format("2006-01-02 15:04"))
	}
	fmt.Fprintln(o.Stdout)
	if o.DryRun && st.Files > 0 {
		fmt.Fprintln(o.Stdout, "(dry run: nothing was removed)")
	}
	return ExitOK, nil
}

// CompactOptions configure 'winnow archive compact'.
type CompactOptions struct {
	Archive string
	Version string
	Stdout  io.Writer
}

// Compact merges the small files of every partition of an archive (and
// moves schema 1 hour partitions into day partitions).
func Compact(o CompactOptions) (int, error) {
	if o.Archive == "" {
		return ExitUsage, usagef("--archive DIR is required")
	}
	if err := checkArchiveDir(o.Archive); err != nil {
		return ExitInputErr, err
	}
	cs, rec, err := archive.Compact(o.Archive, archive.CompactOptions{Version: o.Version})
	for _, rb := range rec.RolledBack {
		fmt.Fprintf(o.Stdout, "removed the %d files (%d records) of run %s, which never finished\n", rb.Files, rb.Rows, rb.Run)
	}
	if err != nil {
		return ExitInputErr, fmt.Errorf("archive %s: %w", o.Archive, err)
	}
	for _, e := range cs.Skipped {
		fmt.Fprintf(o.Stdout, "skipped (unreadable): %s\n", textsafe.Terminal(e.Error()))
	}
	fmt.Fprintf(o.Stdout, "compacted %d files into %d in %d partitions (%d records, %.1f KiB → %.1f KiB)\n", cs.Inputs, cs.Outputs,
		cs.Partitions, cs.Rows, float64(cs.BytesBefore)/1024, float64(cs.BytesAfter)/1024)
	if len(cs.Skipped) > 0 {
		return ExitInputErr, nil
	}
	return ExitOK, nil
}
