package decide

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"sync"
	"time"

	"winnow/internal/event"
	"winnow/internal/sink"
)

// Config is the decisions section of the daemon's configuration (YAML).
// Zero values take DefaultPolicy's.
type Config struct {
	Enabled bool `yaml:"enabled"`
	Cost    struct {
		BlockGood float64 `yaml:"block_good"`
		MissBad   float64 `yaml:"miss_bad"`
	} `yaml:"cost"`
	Ban struct {
		Duration    time.Duration `yaml:"duration"`
		Backoff     float64       `yaml:"backoff"`
		MaxDuration time.Duration `yaml:"max_duration"`
	} `yaml:"ban"`
	RangeAfter          *int               `yaml:"range_after"`
	Memory              time.Duration      `yaml:"memory"`
	SeverityProbability map[string]float64 `yaml:"severity_probability"`
	RuleProbability     map[string]float64 `yaml:"rule_probability"`
	// Allowlist adds to the daemon's allowlist: never banned.
	Allowlist struct {
		CIDRs []string `yaml:"cidrs"`
		Users []string `yaml:"users"`
	} `yaml:"allowlist"`
	MaxActive int `yaml:"max_active"`
}

// Policy converts the configuration into a validated Policy; extraNets and
// extraUsers (the daemon-wide allowlist) are added to the allowlist.
func (c *Config) Policy(extraNets []string, extraUsers []string) (Policy, error) {
	p := DefaultPolicy()
	if c.Cost.BlockGood != 0 || c.Cost.MissBad != 0 {
		p.Cost = Cost{BlockGood: c.Cost.BlockGood, MissBad: c.Cost.MissBad}
	}
	if c.Ban.Duration != 0 {
		p.Duration = c.Ban.Duration
	}
	if c.Ban.Backoff != 0 {
		p.Backoff = c.Ban.Backoff
	}
	if c.Ban.MaxDuration != 0 {
		p.MaxDuration = c.Ban.MaxDuration
	}
	if c.RangeAfter != nil {
		p.RangeAfter = *c.RangeAfter
	}
	if c.Memory != 0 {
		p.Memory = c.Memory
	}
	for k, v := range c.SeverityProbability {
		p.SeverityProbability[k] = v
	}
	for k, v := range c.RuleProbability {
		p.RuleProbability[k] = v
	}
	if c.MaxActive != 0 {
		p.MaxActive = c.MaxActive
	}
	for _, s := range append(append([]string(nil), c.Allowlist.CIDRs...), extraNets...) {
		pfx, err := parseValue(s)
		if err != nil {
			return p, fmt.Errorf("cannot use allowlist entry %q: %w", s, err)
		}
		p.AllowNets = append(p.AllowNets, pfx)
	}
	p.AllowUsers = append(append(p.AllowUsers, c.Allowlist.Users...), extraUsers...)
	return p, p.Validate()
}

// Sink feeds findings to a Decider: the decisions stream is one more sink
// beside the JSON and webhook ones. When an nftables path is set, the set
// file is rewritten whenever the active bans change (on a finding, and on
// expiry, checked every Tick); when a snapshot path is set, the decisions
// are saved there on Flush and Close (temp file, fsync, rename) so a
// restart keeps them and their repeat counts.
type Sink struct {
	dc       *Decider
	write    func([]Decision, time.Time) error // nftables writer, or nil
	snapshot string
	counters sink.Counters

	mu      sync.Mutex
	written uint64 // change cursor last written to the nftables file
	closed  bool
	stop    chan struct{}
	done    chan struct{}
}

var (
	_ sink.Sink   = (*Sink)(nil)
	_ sink.Stater = (*Sink)(nil)
)

// SinkOptions configure NewSink.
type SinkOptions struct {
	// WriteSet, when set, receives the active decisions whenever they
	// change (the nftables writer).
	WriteSet func([]Decision, time.Time) error
	// Snapshot is the file decisions are saved to and restored from ("" =
	// none). A snapshot that cannot be read is an error naming it.
	Snapshot string
	// Tick is how often expiry is checked (default 10 s).
	Tick time.Duration
}

// NewSink wraps dc, restoring its decisions from o.Snapshot when present.
func NewSink(dc *Decider, o SinkOptions) (*Sink, error) {
	s := &Sink{dc: dc, write: o.WriteSet, snapshot: o.Snapshot, stop: make(chan struct{}), done: make(chan struct{})}
	if s.snapshot != "" {
		b, err := os.ReadFile(s.snapshot)
		switch {
		case errors.Is(err, os.ErrNotExist):
		case err != nil:
			return nil, fmt.Errorf("cannot read decisions snapshot %s: %w", s.snapshot, err)
		default:
			if err := dc.Load(bytes.NewReader(b)); err != nil {
				return nil, fmt.Errorf("%s: %w (move it away to start with no decisions)", s.snapshot, err)
			}
		}
	}
	if err := s.sync(true); err != nil {
		return nil, err
	}
	tick := o.Tick
	if tick <= 0 {
		tick = 10 * time.Second
	}
	go s.loop(tick)
	return s, nil
}

// Name implements sink.Sink.
func (s *Sink) Name() string { return "decisions" }

// Decider returns the wrapped Decider (for the bouncer API).
func (s *Sink) Decider() *Decider { return s.dc }

// Write weighs the finding.
func (s *Sink) Write(f *sink.Finding) error {
	s.mu.Lock()
	closed := s.closed
	s.mu.Unlock()
	if closed {
		return fmt.Errorf("cannot write finding to decisions: %w", sink.ErrClosed)
	}
	if d := s.dc.ObserveIncident(f.Alert, f.Incident); d != nil {
		s.counters.Wrote()
	}
	return s.sync(false)
}

// Observe is Write for callers that hold a bare Alert.
func (s *Sink) Observe(a event.Alert) error { return s.Write(&sink.Finding{Alert: a}) }

// sync rewrites the set file if the decisions changed since the last write
// (or always when force).
func (s *Sink) sync(force bool) error {
	if s.write == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cur := s.dc.Cursor()
	if !force && cur == s.written {
		return nil
	}
	if err := s.write(s.dc.Active(), s.dc.now()); err != nil {
		s.counters.Fail()
		return err
	}
	s.written = cur
	return nil
}

func (s *Sink) loop(tick time.Duration) {
	defer close(s.done)
	t := time.NewTicker(tick)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			s.dc.Expire()
			_ = s.sync(false) // counted in Stats; the next change retries
		}
	}
}

// Flush saves the snapshot.
func (s *Sink) Flush(ctx context.Context) error {
	if err := s.sync(false); err != nil {
		return err
	}
	return s.save()
}

func (s *Sink) save() error {
	if s.snapshot == "" {
		return nil
	}
	var b bytes.Buffer
	if err := s.dc.Save(&b); err != nil {
		return err
	}
	return writeAtomic(s.snapshot, b.Bytes())
}

// Close stops the expiry loop and saves the snapshot.
func (s *Sink) Close(ctx context.Context) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.mu.Unlock()
	close(s.stop)
	<-s.done
	return s.Flush(ctx)
}

// Stats implements sink.Stater: Written counts bans made.
func (s *Sink) Stats() sink.Stats { return s.counters.Stats() }

// writeAtomic replaces path with b: a temp file in the same directory,
// fsynced, renamed over path; a symlink at path is refused.
func writeAtomic(path string, b []byte) error {
	if fi, err := os.Lstat(path); err == nil && !fi.Mode().IsRegular() {
		return fmt.Errorf("cannot write %s: exists and is not a regular file", path)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("cannot write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return fmt.Errorf("cannot write %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("cannot write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("cannot write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("cannot write %s: %w", path, err)
	}
	return nil
}

// ParsePrefixes parses addresses and CIDRs (for allowlists).
func ParsePrefixes(ss []string) ([]netip.Prefix, error) {
	out := make([]netip.Prefix, 0, len(ss))
	for _, s := range ss {
		p, err := parseValue(s)
		if err != nil {
			return nil, fmt.Errorf("cannot parse %q as an address or CIDR: %w", s, err)
		}
		out = append(out, p)
	}
	return out, nil
}
