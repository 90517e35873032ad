// Package app implements winnow's commands (analyze, demo, generate,
// detectors) on top of the pipeline packages, so that cmd/winnow only
// parses flags and wires. Exit codes are decided here:
//
//	0  the run completed (with or without findings)
//	1  --fail-on was given and a finding at or above that severity exists
//	2  usage error, or an input could not be read completely
package app

import (
	"fmt"
	"sort"
	"strings"

	"winnow/internal/detect"
	"winnow/internal/detect/auth"
	"winnow/internal/detect/campaign"
	dnsdetect "winnow/internal/detect/dns"
	hostdetect "winnow/internal/detect/host"
	"winnow/internal/detect/hst"
	"winnow/internal/detect/linkage"
	netdetect "winnow/internal/detect/net"
	"winnow/internal/detect/outlier"
	"winnow/internal/detect/profile"
	"winnow/internal/detect/web"
	"winnow/internal/parse"
	"winnow/internal/parse/access"
	"winnow/internal/parse/audit"
	"winnow/internal/parse/authlog"
	"winnow/internal/parse/capture"
	"winnow/internal/parse/dnslog"
	"winnow/internal/parse/zeek"
)

// Exit codes.
const (
	ExitOK       = 0
	ExitFailOn   = 1
	ExitUsage    = 2
	ExitInputErr = 2
)

// UsageError marks errors caused by the command line (exit 2 with usage).
type UsageError struct{ Err error }

func (e UsageError) Error() string { return e.Err.Error() }
func (e UsageError) Unwrap() error { return e.Err }

func usagef(format string, args ...any) error {
	return UsageError{fmt.Errorf(format, args...)}
}

// NewRegistry returns a registry with every detector family.
func NewRegistry() *detect.Registry {
	r := &detect.Registry{}
	auth.Register(r)
	outlier.Register(r)
	dnsdetect.Register(r)
	web.Register(r)
	hst.Register(r)
	linkage.Register(r)
	campaign.Register(r)
	profile.Register(r)
	netdetect.Register(r)
	hostdetect.Register(r)
	return r
}

// NewFormats returns every input format, in sniffing priority order.
func NewFormats() *parse.Formats {
	f := &parse.Formats{}
	f.Add(authlog.Format())
	f.Add(capture.Format()) // binary: checked by magic before any text sniffing (DNS and flows)
	f.Add(audit.Format())   // audit.log: a byte stream grouped per event serial, found by magic too
	for _, fm := range dnslog.Formats() {
		f.Add(fm)
	}
	for _, fm := range zeek.Formats() {
		f.Add(fm)
	}
	f.Add(access.Format())
	f.Add(access.ErrorFormat())
	return f
}

// SelectDetectors builds the enabled set: all specs, or only those named in
// only (exact names or family prefixes like "auth."), minus disable, with
// "detector.param=value" overrides from set.
func SelectDetectors(r *detect.Registry, only, disable, set []string) ([]detect.Enabled, error) {
	overrides := map[string]map[string]string{}
	for _, kv := range set {
		name, val, ok := strings.Cut(kv, "=")
		dot := strings.LastIndexByte(name, '.')
		if !ok || dot <= 0 || dot == len(name)-1 {
			return nil, usagef("--set %q: want detector.param=value (e.g. auth.brute_force.threshold=20)", kv)
		}
		det, param := name[:dot], name[dot+1:]
		if _, ok := r.Get(det); !ok {
			return nil, usagef("--set %q: no detector %q (see 'winnow detectors')", kv, det)
		}
		if overrides[det] == nil {
			overrides[det] = map[string]string{}
		}
		overrides[det][param] = val
	}
	for _, n := range append(append([]string{}, only...), disable...) {
		if !matchesAny(r, n) {
			return nil, usagef("no detector or family %q (see 'winnow detectors')", n)
		}
	}
	var out []detect.Enabled
	for _, s := range r.Specs() {
		if len(only) > 0 && !selected(s.Name, only) {
			continue
		}
		if selected(s.Name, disable) {
			continue
		}
		p, err := detect.NewParams(s, overrides[s.Name])
		if err != nil {
			return nil, UsageError{err}
		}
		if _, err := s.New(p); err != nil { // validate parameters up front
			return nil, UsageError{err}
		}
		out = append(out, detect.Enabled{Spec: s, Params: p})
	}
	if len(out) == 0 {
		return nil, usagef("no detectors enabled")
	}
	return out, nil
}

func selected(name string, pats []string) bool {
	for _, p := range pats {
		if name == p || (strings.HasSuffix(p, ".") && strings.HasPrefix(name, p)) || strings.HasPrefix(name, p+".") {
			return true
		}
	}
	return false
}

func matchesAny(r *detect.Registry, pat string) bool {
	for _, s := range r.Specs() {
		if selected(s.Name, []string{pat}) {
			return true
		}
	}
	return false
}

// DescribeDetectors renders the registry for 'winnow detectors'.
func DescribeDetectors(r *detect.Registry) string {
	var b strings.Builder
	for _, s := range r.Specs() {
		fmt.Fprintf(&b, "%s  [by %s]\n    %s\n", s.Name, s.Key, s.Summary)
		if len(s.Techniques) > 0 {
			fmt.Fprintf(&b, "    ATT&CK: %s\n", strings.Join(s.Techniques, ", "))
		}
		params := append([]detect.Param(nil), s.Params...)
		sort.Slice(params, func(i, j int) bool { return params[i].Name < params[j].Name })
		for _, p := range params {
			fmt.Fprintf(&b, "    %-22s = %-10s %s\n", p.Name, p.Default, p.Doc)
		}
		b.WriteByte('\n')
	}
	return b.String()
}
