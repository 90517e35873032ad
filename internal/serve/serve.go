// Package serve is the daemon behind `winnow serve`: it reads live inputs
// (followed files, syslog listeners, journald), runs the detectors,
// reports findings to the configured sinks as they happen, keeps state in
// a data directory across restarts, and serves Prometheus metrics and
// health checks.
//
// Lifecycle: New checks the configuration, loads saved state, binds every
// listener (so a port in use fails at start) and opens the sinks; Run
// reads until its context is done, checkpointing state periodically,
// reloading on each value from the hup channel; then it drains: a final
// checkpoint, the detectors flushed (open episodes report), the sinks
// flushed and closed, positions committed.
//
// Durability: a checkpoint takes the detectors' state at a quiet point,
// flushes the sinks, saves state and positions atomically (internal/state)
// and only then commits cursors, so a position never runs ahead of what is
// durable: a crash re-reads at most what came after the last checkpoint.
package serve

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"winnow/internal/correlate"
	"winnow/internal/decide"
	"winnow/internal/decide/crowdsec"
	"winnow/internal/decide/nft"
	"winnow/internal/detect"
	"winnow/internal/detect/indicator"
	"winnow/internal/enrich/ioc"
	"winnow/internal/event"
	"winnow/internal/parse"
	"winnow/internal/pipeline"
	"winnow/internal/sink"
	"winnow/internal/sink/jsonl"
	"winnow/internal/sink/syslogout"
	"winnow/internal/sink/webhook"
	"winnow/internal/source"
	"winnow/internal/source/journald"
	"winnow/internal/source/syslognet"
	"winnow/internal/state"
)

// Options wire a Daemon.
type Options struct {
	Config *Config
	// Reload re-reads the configuration for SIGHUP (nil refuses reloads).
	Reload func() (*Config, error)
	// NewRegistry returns the detectors (a fresh registry per call).
	NewRegistry func() *detect.Registry
	Formats     *parse.Formats
	Version     string
	Stdout      io.Writer // for a jsonl sink with path "-"
	Log         *slog.Logger
	// FreshState sets an unreadable state snapshot aside instead of
	// failing.
	FreshState bool
}

// Daemon is a configured, ready-to-run winnow serve.
type Daemon struct {
	o         Options
	cfg       *Config
	sources   []source.Source
	sinks     []sink.Sink
	fan       *sink.Fanout
	incidents *correlate.Reporter
	live      *pipeline.Live
	allow     atomic.Pointer[allowlist]
	metrics   *metrics
	ln        net.Listener
	srv       *http.Server
	dir       *state.Dir
	saves     uint64
	ready     atomic.Bool
	log       *slog.Logger

	// reported are the closed incidents already reported (kept in the
	// state snapshot), so that one restored from state and closed again
	// after a restart is not reported twice.
	repMu    sync.Mutex
	reported map[uint64]state.Reported
}

// maxReported bounds the reported-incident memory (the oldest half by
// end of evidence is dropped when it is reached).
const maxReported = 100000

// New builds the daemon; on error everything opened is released.
func New(o Options) (_ *Daemon, err error) {
	if o.Log == nil {
		o.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if o.Stdout == nil {
		o.Stdout = os.Stdout
	}
	d := &Daemon{o: o, cfg: o.Config, log: o.Log, reported: map[uint64]state.Reported{}}
	defer func() {
		if err != nil {
			d.release()
		}
	}()
	cfg := o.Config
	enabled, err := d.detectors(cfg)
	if err != nil {
		return nil, err
	}
	d.allow.Store(newAllowlist(cfg.Allowlist))

	var snap *state.Snapshot
	if cfg.DataDir != "" {
		if d.dir, err = state.Open(cfg.DataDir); err != nil {
			return nil, err
		}
		snap, err = d.dir.Load()
		if err != nil && o.FreshState {
			d.log.Warn("state unreadable: starting fresh", "err", err)
			if err = d.dir.Fresh(); err != nil {
				return nil, err
			}
			snap = nil
		}
		if err != nil {
			return nil, err
		}
		if snap != nil {
			d.saves = snap.Saves
		}
	}
	cursors := d.loadCursors()
	if snap != nil {
		for _, r := range snap.Reported {
			d.reported[r.ID] = r
		}
	}

	var inputs []pipeline.LiveInput
	for i := range cfg.Inputs {
		src, err := d.openInput(&cfg.Inputs[i])
		if err != nil {
			return nil, cfg.at("inputs."+strconv.Itoa(i), "%v", err)
		}
		d.sources = append(d.sources, src)
		if r, ok := src.(source.Resumer); ok && snap != nil {
			if err := r.Resume(resumePositions(src.Name(), snap.Inputs, cursors)); err != nil {
				return nil, err
			}
		}
		li := pipeline.LiveInput{Source: src, Format: cfg.Inputs[i].Format}
		if sc := cfg.Inputs[i].Sensor; sc != (SensorConfig{}) {
			li.Sensor = &event.Sensor{Name: sc.Name, Vantage: sc.Vantage, Domain: sc.Domain}
		}
		inputs = append(inputs, li)
	}
	for i := range cfg.Sinks {
		s, err := d.openSink(&cfg.Sinks[i])
		if err != nil {
			return nil, cfg.at("sinks."+strconv.Itoa(i), "%v", err)
		}
		d.sinks = append(d.sinks, s)
	}
	bouncerAPI, err := d.openDecisions(cfg)
	if err != nil {
		return nil, err
	}
	d.fan = sink.NewFanout(d.sinks...)
	d.incidents = correlate.NewReporter(d.fan, correlate.Config{})

	loc := time.Local
	if cfg.Engine.Timezone != "" {
		loc, _ = time.LoadLocation(cfg.Engine.Timezone)
	}
	workers := cfg.Engine.Workers
	if workers == 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	lc := pipeline.LiveConfig{Inputs: inputs, Formats: o.Formats, Detectors: enabled, Workers: workers,
		Parse:    parse.Options{Year: cfg.Engine.Year, Location: loc},
		Lateness: time.Duration(cfg.Engine.Lateness), Heartbeat: time.Duration(cfg.Engine.Heartbeat)}
	if snap != nil {
		lc.Restore = snap.Detect
	}
	if d.live, err = pipeline.NewLive(lc); err != nil {
		return nil, err
	}
	d.metrics = newMetrics(d)
	if cfg.Listen.Metrics != "" {
		if d.ln, err = net.Listen("tcp", cfg.Listen.Metrics); err != nil {
			return nil, fmt.Errorf("cannot listen for metrics on %s: %w", cfg.Listen.Metrics, err)
		}
		mux := http.NewServeMux()
		mux.Handle("/metrics", promhttp.HandlerFor(d.metrics.reg, promhttp.HandlerOpts{Registry: d.metrics.reg}))
		mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok\n") })
		mux.HandleFunc("/readyz", func(w http.ResponseWriter, _ *http.Request) {
			if !d.ready.Load() {
				http.Error(w, "not ready", http.StatusServiceUnavailable)
				return
			}
			io.WriteString(w, "ready\n")
		})
		if bouncerAPI != nil {
			mux.Handle("/v1/", bouncerAPI)
		}
		d.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	} else if bouncerAPI != nil {
		return nil, cfg.at("decisions.bouncers", "the bouncer API is served on listen.metrics, which is off")
	}
	return d, nil
}

// openDecisions adds the decisions sink when decisions are enabled and
// returns the bouncer API handler (nil without bouncers).
func (d *Daemon) openDecisions(cfg *Config) (http.Handler, error) {
	dc := &cfg.Decisions
	if !dc.Enabled {
		if len(dc.Bouncers) > 0 || dc.NFTables != "" {
			return nil, cfg.at("decisions", "bouncers or nftables are set but decisions.enabled is false")
		}
		return nil, nil
	}
	pol, err := dc.Policy(cfg.Allowlist.CIDRs, cfg.Allowlist.Users)
	if err != nil {
		return nil, cfg.at("decisions", "%v", err)
	}
	dec, err := decide.New(pol, nil)
	if err != nil {
		return nil, cfg.at("decisions", "%v", err)
	}
	o := decide.SinkOptions{}
	if cfg.DataDir != "" {
		o.Snapshot = filepath.Join(cfg.DataDir, "decisions.json")
	}
	if dc.NFTables != "" {
		path, opt := dc.NFTables, nft.Options{Table: dc.NFTablesTable}
		o.WriteSet = func(ds []decide.Decision, now time.Time) error { return nft.WriteFile(path, ds, now, opt) }
	}
	ds, err := decide.NewSink(dec, o)
	if err != nil {
		return nil, cfg.at("decisions", "%v", err)
	}
	d.sinks = append(d.sinks, ds)
	if len(dc.Bouncers) == 0 {
		return nil, nil
	}
	keys := make([]crowdsec.Key, len(dc.Bouncers))
	for i, b := range dc.Bouncers {
		keys[i] = crowdsec.Key{Name: b.Name, Hash: b.KeySHA256}
	}
	h, err := crowdsec.New(dec, keys, nil)
	if err != nil {
		return nil, cfg.at("decisions.bouncers", "%v", err)
	}
	return h, nil
}

// MetricsAddr is the bound metrics address (nil when off).
func (d *Daemon) MetricsAddr() net.Addr {
	if d.ln == nil {
		return nil
	}
	return d.ln.Addr()
}

// Sources returns the inputs (tests use a listener's bound address).
func (d *Daemon) Sources() []source.Source { return d.sources }

// detectors builds the registry (with the indicator detector when lists
// are configured) and the enabled set.
func (d *Daemon) detectors(cfg *Config) ([]detect.Enabled, error) {
	return EnabledDetectors(cfg, d.o.NewRegistry)
}

// EnabledDetectors checks cfg (Check) against the registry newRegistry returns,
// with the indicator detector added when cfg lists indicator files (they
// are loaded), and returns the enabled detectors. `winnow config check`
// and the daemon's start and reload use it.
func EnabledDetectors(cfg *Config, newRegistry func() *detect.Registry) ([]detect.Enabled, error) {
	reg := newRegistry()
	if len(cfg.Indicators) > 0 {
		set, err := ioc.LoadFiles(cfg.Indicators, nil)
		if err != nil {
			return nil, cfg.at("indicators", "%v", err)
		}
		if err := reg.Register(indicator.Spec(set)); err != nil {
			return nil, err
		}
	}
	if err := cfg.Check(reg); err != nil {
		return nil, err
	}
	return cfg.Enabled(reg)
}

func (d *Daemon) openInput(in *Input) (source.Source, error) {
	switch in.Type {
	case "follow":
		return source.NewFollow(source.FollowOptions{Name: in.Name, Patterns: in.Paths,
			FromStart: in.FromStart, Poll: time.Duration(in.Poll), MaxLine: in.MaxLine})
	case "file":
		ins, errs := source.Expand(in.Paths)
		for _, err := range errs {
			d.log.Warn("input", "name", in.Name, "err", err)
		}
		if len(ins) == 0 {
			return nil, fmt.Errorf("no readable file in %v", in.Paths)
		}
		return source.NewFiles(in.Name, ins, os.Stdin, source.Options{MaxLine: in.MaxLine}), nil
	case "syslog":
		return syslognet.Listen(syslognet.Options{Name: in.Name, Network: in.Network, Address: in.Address,
			CertFile: in.CertFile, KeyFile: in.KeyFile, MaxLine: in.MaxLine, MaxConns: in.MaxConns,
			IdleTimeout: time.Duration(in.IdleTimeout)})
	case "journald":
		return journald.New(journald.Options{Name: in.Name, Units: in.Units, Command: in.Command, MaxLine: in.MaxLine}), nil
	}
	return nil, fmt.Errorf("unknown input type %q", in.Type)
}

func (d *Daemon) openSink(s *Sink) (sink.Sink, error) {
	switch s.Type {
	case "jsonl":
		if s.Path == "-" {
			return jsonl.New("jsonl:-", d.o.Stdout, jsonl.Options{MinSeverity: int(s.MinSeverity)}), nil
		}
		return jsonl.Open(s.Path, jsonl.Options{MinSeverity: int(s.MinSeverity), Sync: s.Sync})
	case "webhook":
		return webhook.New(webhook.Options{URL: s.URL, Headers: s.Headers, QueueSize: s.QueueSize, Retries: s.Retries,
			Timeout: time.Duration(s.Timeout), MinSeverity: int(s.MinSeverity)})
	case "syslog":
		return syslogout.New(syslogout.Options{Network: s.Network, Address: s.Address, Format: s.Format,
			Facility: s.Facility, CAFile: s.CAFile, Version: d.o.Version, MinSeverity: int(s.MinSeverity)})
	}
	return nil, fmt.Errorf("unknown sink type %q", s.Type)
}

// emit receives every finding from the detectors (any shard goroutine).
func (d *Daemon) emit(a event.Alert) {
	if d.allow.Load().match(&a) {
		d.metrics.suppressed.Inc()
		return
	}
	if !a.Open && d.seen(&a) {
		d.metrics.duplicates.Inc()
		return
	}
	d.metrics.findings.WithLabelValues(a.Rule, event.SeverityName(a.Severity)).Inc()
	d.incidents.Emit(a)
}

// seen records a closed finding and reports whether the same finding (same
// incident, same content) was reported before, in this run or an earlier
// one.
func (d *Daemon) seen(a *event.Alert) bool {
	id := state.IncidentID(a)
	dg, err := state.Digest(a)
	if err != nil {
		return false
	}
	d.repMu.Lock()
	defer d.repMu.Unlock()
	r, ok := d.reported[id]
	if ok && r.Digest == dg {
		return true
	}
	if len(d.reported) >= maxReported {
		ends := make([]int64, 0, len(d.reported))
		for _, r := range d.reported {
			ends = append(ends, r.End.UnixNano())
		}
		slices.Sort(ends)
		cut := ends[len(ends)/2]
		for k, r := range d.reported {
			if r.End.UnixNano() <= cut {
				delete(d.reported, k)
			}
		}
	}
	d.reported[id] = state.Reported{ID: id, Digest: dg, Count: r.Count + 1, End: a.End}
	return false
}

// Run serves until ctx is done, then drains. Each value on hup reloads
// the configuration.
func (d *Daemon) Run(ctx context.Context, hup <-chan os.Signal) error {
	if d.srv != nil {
		go func() { _ = d.srv.Serve(d.ln) }()
	}
	runCtx, cancel := context.WithCancel(context.Background())
	defer cancel()
	liveErr := make(chan error, 1)
	go func() { liveErr <- d.live.Run(runCtx, d.emit) }()
	d.ready.Store(true)
	d.log.Info("serving", "inputs", len(d.sources), "sinks", len(d.sinks), "metrics", d.cfg.Listen.Metrics)

	every := time.Duration(d.cfg.Engine.Checkpoint)
	if every <= 0 {
		every = time.Minute
	}
	tick := time.NewTicker(every)
	defer tick.Stop()
	var err error
	ended := false
loop:
	for {
		select {
		case <-hup:
			if rerr := d.reload(ctx); rerr != nil {
				d.metrics.reloads.WithLabelValues("error").Inc()
				d.log.Error("reload failed; the running configuration stays", "err", rerr)
			} else {
				d.metrics.reloads.WithLabelValues("ok").Inc()
				d.log.Info("configuration reloaded")
			}
		case <-tick.C:
			if cerr := d.checkpoint(runCtx); cerr != nil {
				d.log.Error("checkpoint failed", "err", cerr)
			}
		case err = <-liveErr:
			ended = true
			break loop
		case <-ctx.Done():
			break loop
		}
	}
	// Drain.
	d.ready.Store(false)
	d.log.Info("draining")
	if !ended {
		if cerr := d.checkpoint(runCtx); cerr != nil {
			d.log.Error("final checkpoint failed", "err", cerr)
		}
		cancel()
		err = <-liveErr
	}
	fctx, fcancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer fcancel()
	if cerr := d.fan.Close(fctx); cerr != nil {
		d.log.Error("cannot close sinks", "err", cerr)
	}
	if d.srv != nil {
		_ = d.srv.Shutdown(fctx)
	}
	d.release()
	return err
}

// release closes what New opened (sources, sinks that were not closed,
// the state directory, the metrics listener).
func (d *Daemon) release() {
	for _, s := range d.sources {
		_ = s.Close()
	}
	if d.fan == nil {
		for _, s := range d.sinks {
			_ = s.Close(context.Background())
		}
	}
	if d.dir != nil {
		_ = d.dir.Close()
		d.dir = nil
	}
	if d.ln != nil && d.srv == nil {
		d.ln.Close()
	}
}

// checkpoint saves state and positions (no-op without a data directory,
// except that sinks are flushed).
func (d *Daemon) checkpoint(ctx context.Context) error {
	t0 := time.Now()
	var cursors map[string]string
	err := d.live.Checkpoint(ctx, d.dir != nil, func(ps []source.Position, snap *detect.Snapshot) error {
		if err := d.fan.Flush(ctx); err != nil {
			d.log.Warn("cannot flush sinks", "err", err)
		}
		if d.dir == nil {
			return nil
		}
		s := &state.Snapshot{Version: d.o.Version, Saves: d.saves, Detect: snap}
		d.repMu.Lock()
		for _, r := range d.reported {
			s.Reported = append(s.Reported, r)
		}
		d.repMu.Unlock()
		for _, p := range ps {
			if p.Cursor != "" {
				if cursors == nil {
					cursors = map[string]string{}
				}
				cursors[p.Source] = p.Cursor
			}
			if sp, ok := toStatePosition(p); ok {
				s.Inputs = append(s.Inputs, sp)
			}
		}
		if err := d.dir.Save(s); err != nil {
			return err
		}
		d.saves = s.Saves
		return nil
	})
	if err != nil {
		return err
	}
	if d.dir != nil && cursors != nil {
		if err := d.saveCursors(cursors); err != nil {
			return err
		}
	}
	d.metrics.ckptTime.Set(float64(time.Now().UnixNano()) / 1e9)
	d.metrics.ckptDur.Set(time.Since(t0).Seconds())
	return nil
}

// reload re-reads the configuration: detector parameters, indicator lists
// and allowlists change; inputs, sinks and listen addresses need a
// restart (a warning says so).
func (d *Daemon) reload(ctx context.Context) error {
	if d.o.Reload == nil {
		return errors.New("cannot reload: no configuration file")
	}
	cfg, err := d.o.Reload()
	if err != nil {
		return err
	}
	enabled, err := d.detectors(cfg)
	if err != nil {
		return err
	}
	if err := d.live.Reload(ctx, enabled); err != nil {
		return err
	}
	d.allow.Store(newAllowlist(cfg.Allowlist))
	if !sameShape(d.cfg, cfg) {
		d.log.Warn("inputs, sinks, listen addresses, data_dir and engine settings change only on restart")
	}
	d.cfg.Detectors, d.cfg.Allowlist, d.cfg.Indicators = cfg.Detectors, cfg.Allowlist, cfg.Indicators
	return nil
}

func sameShape(a, b *Config) bool {
	ja, _ := json.Marshal([]any{a.DataDir, a.Listen, a.Inputs, a.Sinks, a.Engine})
	jb, _ := json.Marshal([]any{b.DataDir, b.Listen, b.Inputs, b.Sinks, b.Engine})
	return string(ja) == string(jb)
}

// toStatePosition converts a file position (ID "dev:ino") to the state's.
func toStatePosition(p source.Position) (state.Position, bool) {
	dev, ino, ok := strings.Cut(p.ID, ":")
	if !ok {
		return state.Position{}, false
	}
	dv, err1 := strconv.ParseUint(dev, 10, 64)
	in, err2 := strconv.ParseUint(ino, 10, 64)
	if err1 != nil || err2 != nil {
		return state.Position{}, false
	}
	return state.Position{Path: p.Path, ID: source.FileID{Dev: dv, Ino: in}, Offset: p.Offset, Lines: p.Line,
		Seen: time.Now().UTC()}, true
}

// resumePositions turns saved positions back into a source's.
func resumePositions(name string, ps []state.Position, cursors map[string]string) []source.Position {
	var out []source.Position
	for _, p := range ps {
		out = append(out, source.Position{Source: name, Path: p.Path, ID: fmt.Sprintf("%d:%d", p.ID.Dev, p.ID.Ino),
			Offset: p.Offset, Line: p.Lines})
	}
	if c, ok := cursors[name]; ok {
		out = append(out, source.Position{Source: name, Cursor: c})
	}
	return out
}

// cursorsFile keeps journal cursors beside the state snapshot.
const cursorsFile = "cursors.json"

func (d *Daemon) loadCursors() map[string]string {
	if d.dir == nil {
		return nil
	}
	b, err := os.ReadFile(filepath.Join(d.dir.Path(), cursorsFile))
	if err != nil {
		return nil
	}
	var m map[string]string
	if json.Unmarshal(b, &m) != nil {
		d.log.Warn("ignoring unreadable journal cursors", "file", cursorsFile)
		return nil
	}
	return m
}

func (d *Daemon) saveCursors(m map[string]string) error {
	b, _ := json.Marshal(m)
	path := filepath.Join(d.dir.Path(), cursorsFile)
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("cannot save journal cursors: %w", err)
	}
	if _, err = f.Write(b); err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		return fmt.Errorf("cannot save journal cursors: %w", err)
	}
	return nil
}

// allowlist matches findings that must not be reported.
type allowlist struct {
	prefixes []netip.Prefix
	users    map[string]bool
}

func newAllowlist(a Allowlist) *allowlist {
	al := &allowlist{users: map[string]bool{}}
	for _, s := range a.CIDRs {
		if p, err := parsePrefix(s); err == nil {
			al.prefixes = append(al.prefixes, p)
		}
	}
	for _, u := range a.Users {
		al.users[u] = true
	}
	return al
}

func (al *allowlist) ip(a netip.Addr) bool {
	if !a.IsValid() {
		return false
	}
	a = a.Unmap()
	for _, p := range al.prefixes {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

func (al *allowlist) match(a *event.Alert) bool {
	if al.ip(a.SourceIP) || (a.User != "" && al.users[a.User]) {
		return true
	}
	switch a.Entity.Type {
	case event.EntityIP:
		if ip, err := netip.ParseAddr(a.Entity.Value); err == nil && al.ip(ip) {
			return true
		}
	case event.EntityUser:
		return al.users[a.Entity.Value]
	}
	return false
}
