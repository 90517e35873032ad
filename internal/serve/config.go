package serve

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"winnow/internal/decide"
	"winnow/internal/detect"
	"winnow/internal/event"
)

// Config is the daemon's configuration file (deploy/winnow.yaml is the
// commented sample). Decoding is strict: an unknown key, a value of the
// wrong type or a value out of range is an error naming the file and line.
type Config struct {
	// DataDir holds state snapshots and input positions ("" = no state:
	// every start is cold and followed files are read from their end).
	DataDir   string    `yaml:"data_dir"`
	Listen    Listen    `yaml:"listen"`
	Inputs    []Input   `yaml:"inputs"`
	Sinks     []Sink    `yaml:"sinks"`
	Detectors Detectors `yaml:"detectors"`
	Allowlist Allowlist `yaml:"allowlist"`
	// Indicators are known-bad indicator lists (addresses, ranges, domains,
	// URLs, hashes) matched live by ioc.match; reloaded on SIGHUP.
	Indicators []string `yaml:"indicators"`
	Engine     Engine   `yaml:"engine"`
	// Decisions turns findings into cost-priced bans served to CrowdSec
	// bouncers (/v1/decisions on the metrics listener) and written as an
	// nftables set file.
	Decisions Decisions `yaml:"decisions"`

	file  string // where it was read from, for messages
	lines map[string]int
}

// Listen holds listen addresses.
type Listen struct {
	// Metrics serves /metrics, /healthz and /readyz ("" = off). The
	// default 127.0.0.1:9464 keeps them on the machine.
	Metrics string `yaml:"metrics"`
}

// Input is one source of records.
type Input struct {
	Name string `yaml:"name"`
	// Type: follow (files, followed across rotation), file (read once),
	// syslog (a listener), journald.
	Type string `yaml:"type"`
	// Format forces the line format (see 'winnow analyze --help'); "" sniffs.
	Format string `yaml:"format"`

	// follow, file
	Paths     []string `yaml:"paths"`
	FromStart bool     `yaml:"from_start"`
	Poll      Duration `yaml:"poll"`

	// syslog
	Network     string   `yaml:"network"` // udp, tcp, tls
	Address     string   `yaml:"address"`
	CertFile    string   `yaml:"cert_file"`
	KeyFile     string   `yaml:"key_file"`
	MaxConns    int      `yaml:"max_conns"`
	IdleTimeout Duration `yaml:"idle_timeout"`

	// journald
	Units   []string `yaml:"units"`
	Command []string `yaml:"command"` // replaces journalctl (tests)

	MaxLine int `yaml:"max_line"`

	// Sensor names what saw this input's records (every event carries
	// it; findings name it): name, vantage (edge, internal, host, ...),
	// domain (network, host, service).
	Sensor SensorConfig `yaml:"sensor"`
}

// SensorConfig is an input's sensor.
type SensorConfig struct {
	Name    string `yaml:"name"`
	Vantage string `yaml:"vantage"`
	Domain  string `yaml:"domain"`
}

// Sink is one destination of findings.
type Sink struct {
	// Type: jsonl, webhook, syslog.
	Type        string   `yaml:"type"`
	MinSeverity Severity `yaml:"min_severity"`

	// jsonl: a file ("-" = standard output)
	Path string `yaml:"path"`
	Sync bool   `yaml:"sync"`

	// webhook
	URL       string            `yaml:"url"`
	Headers   map[string]string `yaml:"headers"`
	QueueSize int               `yaml:"queue_size"`
	Retries   int               `yaml:"retries"`
	Timeout   Duration          `yaml:"timeout"`

	// syslog
	Network  string `yaml:"network"`
	Address  string `yaml:"address"`
	Format   string `yaml:"format"` // rfc5424, cef
	Facility int    `yaml:"facility"`
	CAFile   string `yaml:"ca_file"`
}

// Detectors selects detectors and sets their parameters.
type Detectors struct {
	Only    []string `yaml:"only"`
	Disable []string `yaml:"disable"`
	// Params: detector name → parameter → value, validated against the
	// detector's spec ('winnow detectors' lists them).
	Params map[string]map[string]string `yaml:"params"`
}

// Allowlist names what is never reported: findings about these addresses
// (as entity or source) or accounts are dropped and counted.
type Allowlist struct {
	CIDRs []string `yaml:"cidrs"`
	Users []string `yaml:"users"`
}

// Decisions configures blocking (see internal/decide for the pricing).
type Decisions struct {
	decide.Config `yaml:",inline"`
	// Bouncers may poll /v1/decisions/stream with their X-Api-Key; only the
	// key's SHA-256 is stored ('winnow decisions key NAME' makes one).
	Bouncers []Bouncer `yaml:"bouncers"`
	// NFTables, when set, is rewritten (nft -f ready) whenever bans change.
	NFTables      string `yaml:"nftables"`
	NFTablesTable string `yaml:"nftables_table"`
}

// Bouncer is one CrowdSec bouncer allowed to poll the decisions.
type Bouncer struct {
	Name      string `yaml:"name"`
	KeySHA256 string `yaml:"key_sha256"`
}

// Engine tunes the live pipeline.
type Engine struct {
	Workers    int      `yaml:"workers"`    // detector shards (0 = GOMAXPROCS)
	Lateness   Duration `yaml:"lateness"`   // default 1m
	Heartbeat  Duration `yaml:"heartbeat"`  // default 1s
	Checkpoint Duration `yaml:"checkpoint"` // state snapshot period (default 1m)
	Timezone   string   `yaml:"timezone"`   // for timestamps without a zone ("" = local)
	Year       int      `yaml:"year"`       // for timestamps without a year (0 = current)
}

// Duration is a time.Duration written as "90s", "5m".
type Duration time.Duration

// UnmarshalYAML parses a Go duration.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := time.ParseDuration(n.Value)
	if err != nil || v < 0 {
		return fmt.Errorf("line %d: %q is not a duration (e.g. 30s, 5m, 1h)", n.Line, n.Value)
	}
	*d = Duration(v)
	return nil
}

// Severity is a severity name (info, low, medium, high, critical) or 1–100.
type Severity int

// UnmarshalYAML parses a severity.
func (s *Severity) UnmarshalYAML(n *yaml.Node) error {
	v, ok := event.ParseSeverity(n.Value)
	if !ok {
		return fmt.Errorf("line %d: %q is not a severity (info, low, medium, high, critical or 1-100)", n.Line, n.Value)
	}
	*s = Severity(v)
	return nil
}

// DefaultMetrics is the default metrics listen address.
const DefaultMetrics = "127.0.0.1:9464"

// EnvPrefix starts the environment variables that override scalar keys:
// WINNOW_DATA_DIR, WINNOW_LISTEN_METRICS, WINNOW_ENGINE_WORKERS, ...
const EnvPrefix = "WINNOW_"

// LoadConfig reads and checks a configuration file, then applies
// environment overrides (env is os.Environ's form; nil means none).
// Every error names the file, and the line when the problem is in it.
func LoadConfig(path string, env []string) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read config: %w", err)
	}
	return ParseConfig(path, b, env)
}

// ParseConfig is LoadConfig on bytes (name is used in messages).
func ParseConfig(name string, b []byte, env []string) (*Config, error) {
	c := &Config{file: name, lines: map[string]int{}}
	c.Listen.Metrics = DefaultMetrics
	var root yaml.Node
	if err := yaml.Unmarshal(b, &root); err != nil {
		return nil, fmt.Errorf("%s: %w", name, cleanYAML(err))
	}
	if len(root.Content) > 0 {
		dec := yaml.NewDecoder(bytes.NewReader(b))
		dec.KnownFields(true)
		if err := dec.Decode(c); err != nil {
			return nil, fmt.Errorf("%s: %w", name, cleanYAML(err))
		}
		recordLines(&root, "", c.lines)
	}
	if err := applyEnv(c, env); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return c, nil
}

// cleanYAML drops the library's "yaml: " prefix.
func cleanYAML(err error) error {
	return errors.New(strings.TrimPrefix(strings.ReplaceAll(err.Error(), "yaml: unmarshal errors:\n  ", ""), "yaml: "))
}

// recordLines remembers the line of every key path ("inputs.0.address").
func recordLines(n *yaml.Node, path string, out map[string]int) {
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			recordLines(c, path, out)
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			p := k.Value
			if path != "" {
				p = path + "." + k.Value
			}
			out[p] = k.Line
			recordLines(n.Content[i+1], p, out)
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			p := path + "." + strconv.Itoa(i)
			out[p] = c.Line
			recordLines(c, p, out)
		}
	}
}

// at formats an error about the key at path, with its line when known.
func (c *Config) at(path string, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	for p := path; p != ""; {
		if line, ok := c.lines[p]; ok {
			return fmt.Errorf("%s:%d: %s: %s", c.file, line, path, msg)
		}
		i := strings.LastIndexByte(p, '.')
		if i < 0 {
			break
		}
		p = p[:i]
	}
	return fmt.Errorf("%s: %s: %s", c.file, path, msg)
}

// File is the path the configuration was read from.
func (c *Config) File() string { return c.file }

// applyEnv sets scalar fields from WINNOW_<KEY_PATH> variables.
func applyEnv(c *Config, env []string) error {
	vals := map[string]string{}
	for _, kv := range env {
		k, v, ok := strings.Cut(kv, "=")
		if ok && strings.HasPrefix(k, EnvPrefix) {
			vals[k] = v
		}
	}
	if len(vals) == 0 {
		return nil
	}
	var errs []error
	var walk func(v reflect.Value, prefix string)
	walk = func(v reflect.Value, prefix string) {
		t := v.Type()
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			tag := strings.Split(f.Tag.Get("yaml"), ",")[0]
			if tag == "" || tag == "-" {
				continue
			}
			name := prefix + strings.ToUpper(tag)
			fv := v.Field(i)
			if f.Type.Kind() == reflect.Struct && f.Type != reflect.TypeOf(Duration(0)) {
				walk(fv, name+"_")
				continue
			}
			s, ok := vals[name]
			if !ok {
				continue
			}
			delete(vals, name)
			switch f.Type.Kind() {
			case reflect.String, reflect.Int, reflect.Int64, reflect.Bool:
			default:
				errs = append(errs, fmt.Errorf("environment %s: only scalar keys can be overridden", name))
				continue
			}
			if f.Type.Kind() == reflect.String {
				fv.SetString(s) // "" too: WINNOW_LISTEN_METRICS= turns metrics off
				continue
			}
			node := &yaml.Node{Kind: yaml.ScalarNode, Value: s, Line: 0}
			if err := node.Decode(fv.Addr().Interface()); err != nil {
				errs = append(errs, fmt.Errorf("environment %s=%q: %w", name, s, cleanYAML(err)))
			}
		}
	}
	walk(reflect.ValueOf(c).Elem(), EnvPrefix)
	var unknown []string
	for k := range vals {
		unknown = append(unknown, k)
	}
	sort.Strings(unknown)
	for _, k := range unknown {
		errs = append(errs, fmt.Errorf("environment %s: no such setting", k))
	}
	return errors.Join(errs...)
}

// Check validates values that decoding cannot: required keys, choices,
// addresses, detector names and parameters (against reg's specs), CIDRs.
// It returns every problem, each naming file and line.
func (c *Config) Check(reg *detect.Registry) error {
	var errs []error
	bad := func(path, format string, args ...any) { errs = append(errs, c.at(path, format, args...)) }
	if len(c.Inputs) == 0 {
		bad("inputs", "at least one input is needed")
	}
	names := map[string]bool{}
	for i, in := range c.Inputs {
		p := "inputs." + strconv.Itoa(i)
		if in.Name == "" {
			bad(p, "name is required")
		} else if names[in.Name] {
			bad(p+".name", "%q is used by another input", in.Name)
		}
		names[in.Name] = true
		switch in.Sensor.Domain {
		case "", "network", "host", "service":
		default:
			bad(p+".sensor.domain", "%q: want network, host or service", in.Sensor.Domain)
		}
		if in.Sensor != (SensorConfig{}) && in.Sensor.Name == "" {
			bad(p+".sensor.name", "a sensor needs a name")
		}
		switch in.Type {
		case "follow", "file":
			if len(in.Paths) == 0 {
				bad(p, "a %s input needs paths", in.Type)
			}
		case "syslog":
			switch in.Network {
			case "udp", "tcp", "tls":
			default:
				bad(p+".network", "%q: want udp, tcp or tls", in.Network)
			}
			if _, _, err := net.SplitHostPort(in.Address); err != nil {
				bad(p+".address", "%q: want host:port", in.Address)
			}
			if in.Network == "tls" && (in.CertFile == "" || in.KeyFile == "") {
				bad(p, "a tls listener needs cert_file and key_file")
			}
		case "journald":
		default:
			bad(p+".type", "%q: want follow, file, syslog or journald", in.Type)
		}
		if in.MaxLine < 0 || in.MaxConns < 0 {
			bad(p, "limits must not be negative")
		}
	}
	for i, s := range c.Sinks {
		p := "sinks." + strconv.Itoa(i)
		switch s.Type {
		case "jsonl":
			if s.Path == "" {
				bad(p, "a jsonl sink needs a path (- for standard output)")
			}
		case "webhook":
			if !strings.HasPrefix(s.URL, "http://") && !strings.HasPrefix(s.URL, "https://") {
				bad(p+".url", "%q: want an http:// or https:// URL", s.URL)
			}
		case "syslog":
			switch s.Network {
			case "udp", "tcp", "tls":
			default:
				bad(p+".network", "%q: want udp, tcp or tls", s.Network)
			}
			if _, _, err := net.SplitHostPort(s.Address); err != nil {
				bad(p+".address", "%q: want host:port", s.Address)
			}
			if s.Format != "" && s.Format != "rfc5424" && s.Format != "cef" {
				bad(p+".format", "%q: want rfc5424 or cef", s.Format)
			}
			if s.Facility < 0 || s.Facility > 23 {
				bad(p+".facility", "%d: want 0-23", s.Facility)
			}
		default:
			bad(p+".type", "%q: want jsonl, webhook or syslog", s.Type)
		}
	}
	if len(c.Sinks) == 0 {
		bad("sinks", "at least one sink is needed (e.g. type: jsonl, path: -)")
	}
	if c.Listen.Metrics != "" {
		if _, _, err := net.SplitHostPort(c.Listen.Metrics); err != nil {
			bad("listen.metrics", "%q: want host:port", c.Listen.Metrics)
		}
	}
	for i, s := range c.Allowlist.CIDRs {
		if _, err := parsePrefix(s); err != nil {
			bad("allowlist.cidrs."+strconv.Itoa(i), "%q: not an address or CIDR range", s)
		}
	}
	if c.Engine.Timezone != "" {
		if _, err := time.LoadLocation(c.Engine.Timezone); err != nil {
			bad("engine.timezone", "%q: %v", c.Engine.Timezone, err)
		}
	}
	if c.Engine.Workers < 0 {
		bad("engine.workers", "must not be negative")
	}
	if reg != nil {
		errs = append(errs, c.checkDetectors(reg)...)
	}
	return errors.Join(errs...)
}

func (c *Config) checkDetectors(reg *detect.Registry) []error {
	var errs []error
	known := func(n string) bool {
		for _, s := range reg.Specs() {
			if s.Name == n || (strings.HasSuffix(n, ".") && strings.HasPrefix(s.Name, n)) {
				return true
			}
		}
		return false
	}
	for i, n := range c.Detectors.Only {
		if !known(n) {
			errs = append(errs, c.at("detectors.only."+strconv.Itoa(i), "no detector or family %q (see 'winnow detectors')", n))
		}
	}
	for i, n := range c.Detectors.Disable {
		if !known(n) {
			errs = append(errs, c.at("detectors.disable."+strconv.Itoa(i), "no detector or family %q (see 'winnow detectors')", n))
		}
	}
	dets := make([]string, 0, len(c.Detectors.Params))
	for d := range c.Detectors.Params {
		dets = append(dets, d)
	}
	sort.Strings(dets)
	for _, d := range dets {
		spec, ok := reg.Get(d)
		if !ok {
			errs = append(errs, c.at("detectors.params."+d, "no detector %q (see 'winnow detectors')", d))
			continue
		}
		ps := make([]string, 0, len(c.Detectors.Params[d]))
		for k := range c.Detectors.Params[d] {
			ps = append(ps, k)
		}
		sort.Strings(ps)
		for _, k := range ps {
			path := "detectors.params." + d + "." + k
			p, err := detect.NewParams(spec, map[string]string{k: c.Detectors.Params[d][k]})
			if err != nil {
				errs = append(errs, c.at(path, "%v", err))
				continue
			}
			if _, err := spec.New(p); err != nil {
				errs = append(errs, c.at(path, "%v", err))
			}
		}
	}
	return errs
}

// Enabled returns the detectors the configuration selects, with their
// parameters (Check must have passed).
func (c *Config) Enabled(reg *detect.Registry) ([]detect.Enabled, error) {
	sel := func(name string, list []string) bool {
		for _, n := range list {
			if n == name || (strings.HasSuffix(n, ".") && strings.HasPrefix(name, n)) {
				return true
			}
		}
		return false
	}
	var out []detect.Enabled
	for _, s := range reg.Specs() {
		if len(c.Detectors.Only) > 0 && !sel(s.Name, c.Detectors.Only) {
			continue
		}
		if sel(s.Name, c.Detectors.Disable) {
			continue
		}
		p, err := detect.NewParams(s, c.Detectors.Params[s.Name])
		if err != nil {
			return nil, c.at("detectors.params."+s.Name, "%v", err)
		}
		if _, err := s.New(p); err != nil {
			return nil, c.at("detectors.params."+s.Name, "%v", err)
		}
		out = append(out, detect.Enabled{Spec: s, Params: p})
	}
	if len(out) == 0 {
		return nil, c.at("detectors", "no detector enabled")
	}
	return out, nil
}

func parsePrefix(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		return p.Masked(), err
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}
