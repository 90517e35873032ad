package app

import (
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"winnow/internal/event"
)

// sensorRule is one --sensor: the sensor and the inputs it saw.
type sensorRule struct {
	s     event.Sensor
	input string // glob over the input's name or base name; "" = every input no other rule names
}

// parseSensors reads --sensor values: NAME[,vantage=V][,domain=D][,input=GLOB].
func parseSensors(vals []string) ([]sensorRule, error) {
	var out []sensorRule
	for _, v := range vals {
		parts := strings.Split(v, ",")
		r := sensorRule{s: event.Sensor{Name: strings.TrimSpace(parts[0])}}
		if r.s.Name == "" || strings.Contains(r.s.Name, "=") {
			return nil, usagef("--sensor %q: want NAME[,vantage=V][,domain=network|host|service][,input=GLOB]", v)
		}
		for _, p := range parts[1:] {
			k, val, ok := strings.Cut(strings.TrimSpace(p), "=")
			if !ok || val == "" {
				return nil, usagef("--sensor %q: %q is not key=value", v, p)
			}
			switch k {
			case "vantage":
				r.s.Vantage = val
			case "domain":
				switch val {
				case "network", "host", "service":
				default:
					return nil, usagef("--sensor %q: domain %q: want network, host or service", v, val)
				}
				r.s.Domain = val
			case "input":
				if _, err := filepath.Match(val, ""); err != nil {
					return nil, usagef("--sensor %q: bad glob %q", v, val)
				}
				r.input = val
			default:
				return nil, usagef("--sensor %q: unknown key %q (vantage, domain, input)", v, k)
			}
		}
		out = append(out, r)
	}
	return out, nil
}

// domainOf is the domain a format's records come from when --sensor
// does not say.
func domainOf(format string) string {
	switch {
	case format == "pcap" || strings.HasPrefix(format, "zeek") || strings.Contains(format, "dns"):
		return "network"
	case format == "audit" || format == "syslog":
		return "host"
	case format == "access" || format == "errorlog":
		return "service"
	}
	return ""
}

// sensors resolves inputs to sensors and remembers the answers, so that
// findings can name the sensors of their evidence.
type sensors struct {
	rules []sensorRule
	mu    sync.Mutex
	byIn  map[string]*event.Sensor
}

// of is pipeline.Config.Sensor: the sensor of an input.
func (s *sensors) of(input, format string) *event.Sensor {
	var rule *sensorRule
	for i := range s.rules {
		r := &s.rules[i]
		if r.input == "" {
			if rule == nil {
				rule = r
			}
			continue
		}
		if ok, _ := filepath.Match(r.input, input); ok {
			rule = r
			break
		}
		if ok, _ := filepath.Match(r.input, filepath.Base(input)); ok {
			rule = r
			break
		}
	}
	if rule == nil {
		return nil
	}
	sn := rule.s
	if sn.Domain == "" {
		sn.Domain = domainOf(format)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.byIn == nil {
		s.byIn = map[string]*event.Sensor{}
	}
	s.byIn[input] = &sn
	return &sn
}

// label sets a finding's Sensors from its samples' inputs.
func (s *sensors) label(a *event.Alert) {
	if s == nil || len(s.rules) == 0 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	seen := map[string]bool{}
	for _, smp := range a.Samples {
		sn := s.byIn[smp.File]
		if sn == nil || seen[sn.Name] {
			continue
		}
		seen[sn.Name] = true
		a.Sensors = append(a.Sensors, *sn)
	}
	sort.Slice(a.Sensors, func(i, j int) bool { return a.Sensors[i].Name < a.Sensors[j].Name })
}

// SensorList renders sensors as "name (vantage/domain), ...".
func SensorList(ss []event.Sensor) string {
	out := make([]string, len(ss))
	for i := range ss {
		out[i] = ss[i].String()
	}
	return strings.Join(out, ", ")
}
