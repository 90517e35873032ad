// Package vector turns events into per-entity behaviour vectors: for each
// entity (a source address, an account, a host, ...) and each tumbling
// window of event time, counts by action and outcome, distinct targets,
// failure and status ratios, request and query shapes, and timing
// statistics. The batch learners train on these vectors (read from the
// archive) and the stream applies the compiled models to the same vectors
// (detect/forest), so training and scoring compute them with this one
// code.
//
// Windows are aligned to the Unix epoch in event time (a 10-minute window
// starts at :00, :10, ...), so a replay of a day gives the vectors the day
// gave live. Memory is bounded: entities per Windower and distinct values
// per set are capped, and what the caps drop is counted.
package vector

import (
	"fmt"
	"hash/maphash"
	"math"
	"strings"
	"time"

	"winnow/internal/detect"
	"winnow/internal/event"
)

// Version is the feature set's version: bump it when a feature is added,
// removed or computed differently, so that models trained on the old
// vectors are refused (it is part of Spec.Schema).
const Version = 1

// Feature indices. Names holds their names; Docs their meaning.
const (
	FEvents = iota
	FAuth
	FHTTP
	FDNS
	FFailures
	FSuccesses
	FFailureRatio
	FDistinctUsers
	FDistinctSources
	FDistinctHosts
	FInvalidUserRatio
	FRootRatio
	FPreauthRatio
	FPrivilege
	FAccountChanges
	FDistinctPaths
	FDistinctPathRatio
	F4xxRatio
	F404Ratio
	F401403Ratio
	F5xxRatio
	FPostRatio
	FQueryRatio
	FMeanPathLen
	FMaxURILen
	FDistinctUAs
	FNoUARatio
	FScriptExtRatio
	FInvalidRequestRatio
	FMeanLogBytes
	FDistinctNames
	FDistinctDomains
	FMeanNameLen
	FRareTypeRatio
	FNXDomainRatio
	FDuration
	FRatePerMin
	FMeanGap
	FGapCV
	FActiveMinutes
	NumFeatures
)

// Names are the features' names, by index.
var Names = [NumFeatures]string{
	"events", "auth_events", "http_events", "dns_events", "failures", "successes", "failure_ratio",
	"distinct_users", "distinct_sources", "distinct_hosts", "invalid_user_ratio", "root_ratio", "preauth_ratio",
	"privilege_events", "account_changes",
	"distinct_paths", "distinct_path_ratio", "status_4xx_ratio", "status_404_ratio", "status_401_403_ratio",
	"status_5xx_ratio", "post_ratio", "query_ratio", "mean_path_len", "max_uri_len", "distinct_user_agents",
	"no_user_agent_ratio", "script_ext_ratio", "invalid_request_ratio", "mean_log_bytes",
	"distinct_names", "distinct_domains", "mean_name_len", "rare_type_ratio", "nxdomain_ratio",
	"duration_s", "rate_per_min", "mean_gap_s", "gap_cv", "active_minutes",
}

// maxDistinct caps each distinct-value set of an entity window; a count
// at the cap means "at least".
const maxDistinct = 512

// Spec says which vectors are computed: per which entity key, over which
// window, from which event kinds.
type Spec struct {
	Key    detect.Key
	Window time.Duration
	Kinds  []event.Kind // nil: every kind
}

// Schema names the vectors for model files: a model is applied only to
// vectors of the same schema.
func (s Spec) Schema() string {
	var kinds []string
	for _, k := range s.Kinds {
		kinds = append(kinds, k.String())
	}
	if len(kinds) == 0 {
		kinds = []string{"all"}
	}
	return fmt.Sprintf("entity-v%d/%s/%s/%s", Version, s.Key, s.Window, strings.Join(kinds, "+"))
}

// ParseSchema is the inverse of Schema.
func ParseSchema(schema string) (Spec, error) {
	parts := strings.Split(schema, "/")
	if len(parts) != 4 || parts[0] != fmt.Sprintf("entity-v%d", Version) {
		return Spec{}, fmt.Errorf("feature schema %q is not entity-v%d/KEY/WINDOW/KINDS", schema, Version)
	}
	var s Spec
	k, ok := ParseKey(parts[1])
	if !ok {
		return Spec{}, fmt.Errorf("feature schema %q: unknown key %q", schema, parts[1])
	}
	s.Key = k
	w, err := time.ParseDuration(parts[2])
	if err != nil || w <= 0 {
		return Spec{}, fmt.Errorf("feature schema %q: bad window", schema)
	}
	s.Window = w
	if parts[3] != "all" {
		for _, n := range strings.Split(parts[3], "+") {
			kd, ok := ParseKind(n)
			if !ok {
				return Spec{}, fmt.Errorf("feature schema %q: unknown kind %q", schema, n)
			}
			s.Kinds = append(s.Kinds, kd)
		}
	}
	return s, nil
}

// ParseKey maps a key name ("source.ip", "user.name", "host.name",
// "url.domain", "dns.question.registered_domain", or the short forms
// "ip", "user", "host", "site", "domain") to a detect.Key.
func ParseKey(s string) (detect.Key, bool) {
	switch s {
	case "ip", "source", "src":
		return detect.KeySourceIP, true
	case "user":
		return detect.KeyUser, true
	case "host":
		return detect.KeyHost, true
	case "site":
		return detect.KeySite, true
	case "domain":
		return detect.KeyDomain, true
	}
	for k := detect.Key(1); int(k) < detect.KeyCount; k++ {
		if k.String() == s {
			return k, true
		}
	}
	return 0, false
}

// ParseKind maps a kind name to an event kind.
func ParseKind(s string) (event.Kind, bool) {
	for k := event.KindUnknown; k <= event.KindDNS; k++ {
		if k.String() == s {
			return k, true
		}
	}
	return 0, false
}

// EntityType is the entity type of findings about a key's values.
func EntityType(k detect.Key) event.EntityType {
	switch k {
	case detect.KeySourceIP:
		return event.EntityIP
	case detect.KeyUser:
		return event.EntityUser
	case detect.KeyDomain:
		return event.EntityDomain
	}
	return event.EntityHost
}

// wants reports whether the spec takes events of kind k.
func (s Spec) wants(k event.Kind) bool {
	if len(s.Kinds) == 0 {
		return true
	}
	for _, x := range s.Kinds {
		if x == k {
			return true
		}
	}
	return false
}

// set is a capped set of hashes.
type set struct {
	m    map[uint64]struct{}
	full bool
}

func (s *set) add(h uint64) {
	if s.full {
		return
	}
	if s.m == nil {
		s.m = make(map[uint64]struct{}, 8)
	}
	s.m[h] = struct{}{}
	if len(s.m) >= maxDistinct {
		s.full = true
	}
}

func (s *set) n() float64 { return float64(len(s.m)) }

func (s *set) reset() {
	clear(s.m)
	s.full = false
}

// Acc accumulates one entity window.
type Acc struct {
	seed  maphash.Seed
	first time.Time
	last  time.Time

	n, auth, http, dns                 float64
	fail, succ                         float64
	invalid, root, preauth, priv, acct float64
	c4xx, c404, c401, c5xx             float64
	post, query, pathLen, maxURI       float64
	noUA, script, invalidReq, logBytes float64
	nameLen, rareType, nx              float64
	gapSum, gapSq                      float64
	users, sources, hosts              set
	paths, uas, names, domains         set
	minutes                            set
}

// NewAcc returns an accumulator hashing with seed.
func NewAcc(seed maphash.Seed) *Acc { return &Acc{seed: seed} }

func (a *Acc) h(s string) uint64 { return maphash.String(a.seed, s) }

// Reset empties the accumulator (keeping its sets' memory).
func (a *Acc) Reset() {
	seed := a.seed
	users, sources, hosts, paths, uas, names, domains, minutes := a.users, a.sources, a.hosts, a.paths, a.uas, a.names, a.domains, a.minutes
	*a = Acc{seed: seed, users: users, sources: sources, hosts: hosts, paths: paths, uas: uas, names: names, domains: domains, minutes: minutes}
	for _, s := range []*set{&a.users, &a.sources, &a.hosts, &a.paths, &a.uas, &a.names, &a.domains, &a.minutes} {
		s.reset()
	}
}

// Events is the number of events added since the last Reset.
func (a *Acc) Events() int { return int(a.n) }

// Add adds one event (events should come in time order; gaps are taken
// between consecutive events).
func (a *Acc) Add(ev *event.Event) {
	if a.n > 0 {
		g := ev.Time.Sub(a.last).Seconds()
		if g < 0 {
			g = 0
		}
		a.gapSum += g
		a.gapSq += g * g
	} else {
		a.first = ev.Time
	}
	if ev.Time.After(a.last) || a.n == 0 {
		a.last = ev.Time
	}
	a.n++
	a.minutes.add(uint64(ev.Time.Unix() / 60))
	switch ev.Outcome {
	case event.OutcomeFailure:
		a.fail++
	case event.OutcomeSuccess:
		a.succ++
	}
	if ev.User != "" {
		a.users.add(a.h(ev.User))
		if ev.User == "root" {
			a.root++
		}
	}
	if ev.SrcIP.IsValid() {
		b := ev.SrcIP.As16()
		a.sources.add(maphash.Bytes(a.seed, b[:]))
	}
	if ev.Host != "" {
		a.hosts.add(a.h(ev.Host))
	}
	switch ev.Kind {
	case event.KindAuth:
		a.auth++
		if ev.InvalidUser || ev.Action == event.ActInvalidUser {
			a.invalid++
		}
		if ev.Preauth {
			a.preauth++
		}
		switch ev.Action {
		case event.ActSudoCommand, event.ActSudoFailure, event.ActSudoNotAllowed, event.ActSuSuccess, event.ActSuFailure, event.ActRootLogin:
			a.priv++
		case event.ActUserAdded, event.ActUserDeleted, event.ActUserModified, event.ActGroupAdded,
			event.ActPasswordChanged, event.ActPasswordAgingChanged:
			a.acct++
		}
	case event.KindHTTP:
		a.http++
		if h := ev.HTTP; h != nil {
			a.addHTTP(h)
		}
	case event.KindDNS:
		a.dns++
		if d := ev.DNS; d != nil {
			a.addDNS(d)
		}
	}
}

func (a *Acc) addHTTP(h *event.HTTP) {
	path := h.PathDecoded
	if path == "" {
		path = h.Path
	}
	a.paths.add(a.h(path))
	a.pathLen += float64(len(path))
	if u := float64(len(h.Path) + len(h.Query)); u > a.maxURI {
		a.maxURI = u
	}
	switch {
	case h.Status == 404:
		a.c404++
		a.c4xx++
	case h.Status == 401 || h.Status == 403:
		a.c401++
		a.c4xx++
	case h.Status >= 400 && h.Status < 500:
		a.c4xx++
	case h.Status >= 500:
		a.c5xx++
	}
	if h.Method == "POST" {
		a.post++
	}
	if h.Query != "" {
		a.query++
	}
	if h.UserAgent == "" || h.UserAgent == "-" {
		a.noUA++
	} else {
		a.uas.add(a.h(h.UserAgent))
	}
	switch strings.ToLower(h.Ext) {
	case "php", "asp", "aspx", "jsp", "cgi", "pl", "cfm", "sh", "exe", "dll":
		a.script++
	}
	if h.Invalid {
		a.invalidReq++
	}
	if h.Bytes > 0 {
		a.logBytes += math.Log1p(float64(h.Bytes))
	}
}

func (a *Acc) addDNS(d *event.DNS) {
	a.names.add(a.h(d.Name))
	if d.Registered != "" {
		a.domains.add(a.h(d.Registered))
	}
	a.nameLen += float64(len(d.Name))
	switch d.QType {
	case "A", "AAAA", "PTR", "HTTPS", "SVCB", "SOA", "NS", "SRV", "MX":
	default:
		a.rareType++
	}
	if d.RCode == "NXDOMAIN" {
		a.nx++
	}
}

// Vector writes the window's features into dst (grown to NumFeatures).
// Ratios are NaN (missing) when their denominator is zero, so a tree does
// not read "no HTTP requests" as "no 404s among them".
func (a *Acc) Vector(dst []float64) []float64 {
	if cap(dst) < NumFeatures {
		dst = make([]float64, NumFeatures)
	}
	x := dst[:NumFeatures]
	ratio := func(v, d float64) float64 {
		if d == 0 {
			return math.NaN()
		}
		return v / d
	}
	x[FEvents] = a.n
	x[FAuth], x[FHTTP], x[FDNS] = a.auth, a.http, a.dns
	x[FFailures], x[FSuccesses] = a.fail, a.succ
	x[FFailureRatio] = ratio(a.fail, a.fail+a.succ)
	x[FDistinctUsers], x[FDistinctSources], x[FDistinctHosts] = a.users.n(), a.sources.n(), a.hosts.n()
	x[FInvalidUserRatio] = ratio(a.invalid, a.auth)
	x[FRootRatio] = ratio(a.root, a.n)
	x[FPreauthRatio] = ratio(a.preauth, a.auth)
	x[FPrivilege], x[FAccountChanges] = a.priv, a.acct
	x[FDistinctPaths] = a.paths.n()
	x[FDistinctPathRatio] = ratio(a.paths.n(), a.http)
	x[F4xxRatio] = ratio(a.c4xx, a.http)
	x[F404Ratio] = ratio(a.c404, a.http)
	x[F401403Ratio] = ratio(a.c401, a.http)
	x[F5xxRatio] = ratio(a.c5xx, a.http)
	x[FPostRatio] = ratio(a.post, a.http)
	x[FQueryRatio] = ratio(a.query, a.http)
	x[FMeanPathLen] = ratio(a.pathLen, a.http)
	x[FMaxURILen] = math.NaN()
	if a.http > 0 {
		x[FMaxURILen] = a.maxURI
	}
	x[FDistinctUAs] = a.uas.n()
	x[FNoUARatio] = ratio(a.noUA, a.http)
	x[FScriptExtRatio] = ratio(a.script, a.http)
	x[FInvalidRequestRatio] = ratio(a.invalidReq, a.http)
	x[FMeanLogBytes] = ratio(a.logBytes, a.http)
	x[FDistinctNames], x[FDistinctDomains] = a.names.n(), a.domains.n()
	x[FMeanNameLen] = ratio(a.nameLen, a.dns)
	x[FRareTypeRatio] = ratio(a.rareType, a.dns)
	x[FNXDomainRatio] = ratio(a.nx, a.dns)
	dur := a.last.Sub(a.first).Seconds()
	x[FDuration] = dur
	x[FRatePerMin] = a.n / math.Max(dur/60, 1)
	x[FMeanGap], x[FGapCV] = math.NaN(), math.NaN()
	if a.n > 1 {
		m := a.gapSum / (a.n - 1)
		x[FMeanGap] = m
		if m > 0 {
			v := a.gapSq/(a.n-1) - m*m
			x[FGapCV] = math.Sqrt(math.Max(v, 0)) / m
		}
	}
	x[FActiveMinutes] = a.minutes.n()
	return x
}
