package learn

import (
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"winnow/internal/archive"
	"winnow/internal/event"
	"winnow/internal/learn/forest"
	"winnow/internal/learn/vector"
)

// ArchiveData selects labelled entity windows from an archive.
type ArchiveData struct {
	Dir      string
	From, To time.Time // event-time range [From, To); zero: unbounded
	Key      string    // entity: source.ip (default), user.name, host.name, url.domain, dns.question.registered_domain
	Window   time.Duration
	Kinds    []string // event kinds (default: every kind)
	// LabelFiles are analyst labels (see readLabelFile); Verdict applies
	// to label files that hold findings.
	LabelFiles []string
	Verdict    string
	Findings   FindingLabels
	// MinEvents drops windows with fewer events (default 1).
	MinEvents int
	Location  *time.Location
}

func (a *ArchiveData) spec() (vector.Spec, error) {
	key := a.Key
	if key == "" {
		key = "source.ip"
	}
	k, ok := vector.ParseKey(key)
	if !ok {
		return vector.Spec{}, usagef("--key %q: want source.ip, user.name, host.name, url.domain or dns.question.registered_domain", key)
	}
	w := a.Window
	if w == 0 {
		w = 10 * time.Minute
	}
	if w < time.Second || w > 31*24*time.Hour {
		return vector.Spec{}, usagef("--window %s: want 1s to 31 days", w)
	}
	s := vector.Spec{Key: k, Window: w}
	for _, n := range a.Kinds {
		kd, ok := vector.ParseKind(n)
		if !ok {
			return vector.Spec{}, usagef("--kinds: unknown kind %q (auth, http, dns, syslog, service)", n)
		}
		s.Kinds = append(s.Kinds, kd)
	}
	slices.Sort(s.Kinds)
	s.Kinds = slices.Compact(s.Kinds)
	return s, nil
}

// windowSet is a labelled dataset of entity windows.
type windowSet struct {
	spec     vector.Spec
	data     *forest.Dataset
	family   []int    // per row: index into families (bad rows); -1 for good rows
	families []string // family names: the finding rules / label files that made rows bad
	windows  []*vector.Window
	analyst  []bool // per row: labelled by an analyst (label file, feedback)
	events   int64
	labelled int // label records read
	skipped  []error
}

// Attrs are the behaviour vector's attributes.
func vectorAttrs() []forest.Attr {
	a := make([]forest.Attr, vector.NumFeatures)
	for i, n := range vector.Names {
		a[i] = forest.Attr{Name: n}
	}
	return a
}

// loadWindows reads the archive's events into entity windows and labels
// them from findings and label files.
func loadWindows(ctx context.Context, a ArchiveData) (*windowSet, error) {
	if a.Dir == "" {
		return nil, usagef("--archive DIR is required")
	}
	if st, err := os.Stat(a.Dir); err != nil || !st.IsDir() {
		return nil, usagef("--archive %s: not a directory", a.Dir)
	}
	spec, err := a.spec()
	if err != nil {
		return nil, err
	}
	if a.MinEvents < 1 {
		a.MinEvents = 1
	}
	if a.Findings.MinSeverity == 0 {
		a.Findings.MinSeverity = event.SeverityLow
	}
	ls := newLabelSet()
	ws := &windowSet{spec: spec}
	for _, f := range a.LabelFiles {
		n, err := ls.readLabelFile(f, a.Verdict)
		if err != nil {
			return nil, err
		}
		ws.labelled += n
	}
	alerts, errs := readArchiveFindings(a.Dir, a.From, a.To)
	ws.skipped = append(ws.skipped, errs...)
	ws.labelled += ls.addFindings(alerts, vector.EntityType(spec.Key), a.Findings)

	w := vector.NewWindower(vector.Options{Spec: spec, MaxEntities: 1 << 20})
	collect := func(win *vector.Window) {
		if win.Events >= a.MinEvents {
			ws.windows = append(ws.windows, win)
		}
	}
	ro := archive.ReadOptions{Dir: a.Dir, From: a.From, To: a.To, Location: a.Location}
	if len(spec.Kinds) > 0 {
		for _, k := range spec.Kinds {
			ro.Kinds = append(ro.Kinds, k.String())
		}
	}
	st, err := archive.Events(ctx, ro, func(evs []event.Event) error {
		for i := range evs {
			w.Add(&evs[i], collect)
		}
		if n := len(evs); n > 0 {
			w.Advance(evs[n-1].Time, collect)
		}
		return ctx.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("cannot read archive %s: %w", a.Dir, err)
	}
	w.Flush(collect)
	ws.events = st.Events
	ws.skipped = append(ws.skipped, st.Skipped...)
	if len(ws.windows) == 0 {
		return nil, fmt.Errorf("no %s windows in archive %s (range %s – %s)", spec.Key, a.Dir, fmtTime(a.From), fmtTime(a.To))
	}
	// A deterministic order (the Windower closes windows in map order).
	slices.SortFunc(ws.windows, func(x, y *vector.Window) int {
		if c := x.Start.Compare(y.Start); c != 0 {
			return c
		}
		return strings.Compare(x.Entity, y.Entity)
	})
	ws.data = &forest.Dataset{Attrs: vectorAttrs(), Classes: []string{"good", "bad"}}
	famIdx := map[string]int{}
	for _, win := range ws.windows {
		bad, fam, byAnalyst := ls.of(win.Entity, win.First, win.Last)
		ws.analyst = append(ws.analyst, byAnalyst)
		y, fi := 0, -1
		if bad {
			y = 1
			i, ok := famIdx[fam]
			if !ok {
				i = len(ws.families)
				famIdx[fam] = i
				ws.families = append(ws.families, fam)
			}
			fi = i
		}
		ws.data.Add(win.Vector, y)
		ws.family = append(ws.family, fi)
	}
	return ws, nil
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "…"
	}
	return t.Format(time.RFC3339)
}

// CSVData is a labelled table.
type CSVData struct {
	File   string
	Label  string   // label column (name, 1-based number, or negative from the end; default the last)
	Header string   // auto, yes, no
	Ignore []string // columns to drop
	Normal string   // the label value of good rows (required: the model scores bad vs good)
	// Names is a file naming the columns of a headerless CSV, one per line
	// (the first comma-separated field; NSL-KDD's field_names.csv).
	Names string
}

// readNames reads a column-names file.
func readNames(path string) ([]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read column names: %w", err)
	}
	var out []string
	for _, l := range strings.FieldsFunc(string(b), func(r rune) bool { return r == '\n' || r == '\r' }) {
		name, _, _ := strings.Cut(l, ",")
		if name = strings.TrimSpace(name); name != "" {
			out = append(out, name)
		}
	}
	return out, nil
}

// openData opens a file, decompressing .gz.
func openData(name string) (io.ReadCloser, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, fmt.Errorf("cannot open %s: %w", name, err)
	}
	if !strings.HasSuffix(name, ".gz") {
		return f, nil
	}
	z, err := gzip.NewReader(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("cannot read %s: %w", name, err)
	}
	return struct {
		io.Reader
		io.Closer
	}{z, f}, nil
}

var errNoRows = errors.New("no labelled rows")
