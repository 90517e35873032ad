package learn

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"winnow/internal/archive"
	"winnow/internal/detect"
	"winnow/internal/detect/outlier"
	"winnow/internal/event"
	"winnow/internal/state"
)

// BackfillOptions are 'winnow series backfill' settings.
type BackfillOptions struct {
	Archive  string
	From, To time.Time
	// Metrics are series metrics (failed_logins_by_host, ...); each
	// backfills series.<metric> and series.<metric>_outlier_count. Empty:
	// every series detector.
	Metrics []string
	// Set overrides detector parameters ("series.x.window=120"), as the
	// analyze runs that will resume from the state must use.
	Set      []string
	State    string // the data directory of 'analyze --state'
	Workers  int    // shards when the state has none yet (0 = GOMAXPROCS)
	Version  string
	Location *time.Location
	Stdout   io.Writer
	Stderr   io.Writer
}

// Backfill computes the chosen series detectors' state — per-entity
// series, baselines, outlier-count histories — from the archive's history
// and writes it into a state directory: an analyze run with --state DIR
// then starts with months of baseline for a metric created today. The
// state's other detectors, input positions and reported incidents are
// kept; the backfilled detectors' previous state is replaced.
func Backfill(ctx context.Context, o BackfillOptions) error {
	if o.Archive == "" || o.State == "" {
		return usagef("--archive DIR and --state DIR are required")
	}
	if st, err := os.Stat(o.Archive); err != nil || !st.IsDir() {
		return usagef("--archive %s: not a directory", o.Archive)
	}
	enabled, err := backfillDetectors(o.Metrics, o.Set)
	if err != nil {
		return err
	}
	dir, err := state.Open(o.State)
	if err != nil {
		return err
	}
	defer dir.Close()
	old, err := dir.Load()
	if err != nil {
		return fmt.Errorf("cannot backfill into %s: %w (start over with 'analyze --state %s --fresh-state')", o.State, err, o.State)
	}
	cfg := detect.RunnerConfig{Workers: o.Workers}
	if cfg.Workers <= 0 {
		cfg.Workers = runtime.GOMAXPROCS(0)
	}
	if old != nil && old.Detect != nil {
		// The snapshot's detectors must share one sharding.
		cfg.Workers, cfg.Seed = old.Detect.Shards, old.Detect.Seed
	}
	var found atomic.Int64
	r, err := detect.NewRunner(ctx, cfg, enabled, func(event.Alert) { found.Add(1) })
	if err != nil {
		return err
	}
	defer r.Close()
	st, err := archive.Events(ctx, archive.ReadOptions{Dir: o.Archive, From: o.From, To: o.To, Location: o.Location},
		func(evs []event.Event) error { return r.Submit(evs) })
	if err != nil {
		return fmt.Errorf("cannot read archive %s: %w", o.Archive, err)
	}
	for _, e := range st.Skipped {
		fmt.Fprintf(o.Stderr, "winnow: %v\n", e)
	}
	snap, err := r.Snapshot()
	if err != nil {
		return err
	}
	s := &state.Snapshot{Version: o.Version}
	if old != nil {
		*s = *old
		s.Version = o.Version
	}
	s.Detect = merge(s.Detect, snap)
	if err := dir.Save(s); err != nil {
		return err
	}
	names := make([]string, 0, len(enabled))
	for _, e := range enabled {
		names = append(names, e.Spec.Name)
	}
	entities := 0
	for _, d := range snap.Detectors {
		entities += len(d.Entries)
	}
	fmt.Fprintf(o.Stdout, "backfilled %d detectors (%s) from %d archived events up to %s: %d entity states written to %s\n",
		len(names), summarise(names), st.Events, snap.MaxSeen.UTC().Format(time.RFC3339), entities, o.State)
	fmt.Fprintf(o.Stdout, "resume with: winnow analyze --state %s NEW-LOGS (events after %s; %d findings over the history were not reported)\n",
		o.State, snap.MaxSeen.UTC().Format(time.RFC3339), found.Load())
	return nil
}

func summarise(names []string) string {
	if len(names) <= 4 {
		return strings.Join(names, ", ")
	}
	return strings.Join(names[:3], ", ") + fmt.Sprintf(" and %d more", len(names)-3)
}

// backfillDetectors selects the series detectors of the metrics.
func backfillDetectors(metrics, set []string) ([]detect.Enabled, error) {
	specs := outlier.FamilySpecs()
	var out []detect.Enabled
	known := outlier.MetricNames()
	for _, m := range metrics {
		if !slices.Contains(known, m) {
			return nil, usagef("--metric %q: want one of %s", m, strings.Join(known, ", "))
		}
	}
	overrides := map[string]map[string]string{}
	for _, kv := range set {
		k, v, ok := strings.Cut(kv, "=")
		i := strings.LastIndexByte(k, '.')
		if !ok || i < 0 {
			return nil, usagef("--set %q: want detector.param=value", kv)
		}
		if overrides[k[:i]] == nil {
			overrides[k[:i]] = map[string]string{}
		}
		overrides[k[:i]][k[i+1:]] = v
	}
	for i := range specs {
		s := &specs[i]
		m := strings.TrimSuffix(strings.TrimPrefix(s.Name, "series."), "_outlier_count")
		if len(metrics) > 0 && !slices.Contains(metrics, m) {
			continue
		}
		p, err := detect.NewParams(s, overrides[s.Name])
		if err != nil {
			return nil, UsageError{err}
		}
		delete(overrides, s.Name)
		out = append(out, detect.Enabled{Spec: s, Params: p})
	}
	for name := range overrides {
		return nil, usagef("--set: %s is not a backfilled detector", name)
	}
	if len(out) == 0 {
		return nil, usagef("no series detector selected")
	}
	return out, nil
}

// merge puts the detectors of add into base (replacing those of the same
// name); both were taken with the same sharding.
func merge(base, add *detect.Snapshot) *detect.Snapshot {
	if base == nil {
		return add
	}
	out := *base
	out.Detectors = slices.Clone(base.Detectors)
	for _, d := range add.Detectors {
		i := slices.IndexFunc(out.Detectors, func(x detect.DetectorSnapshot) bool { return x.Name == d.Name })
		if i >= 0 {
			out.Detectors[i] = d
		} else {
			out.Detectors = append(out.Detectors, d)
		}
	}
	if add.MaxSeen.After(out.MaxSeen) {
		out.MaxSeen = add.MaxSeen
	}
	if add.Watermark.After(out.Watermark) {
		out.Watermark = add.Watermark
	}
	return &out
}
