package rules

import (
	"fmt"
	"net/netip"
	"strings"
	"time"

	"winnow/internal/event"
)

// Kinds of transactions.
const (
	// KindAuth: per source address and window, the account names it used
	// ("user=admin"), its network ("net=203.0.113.0/24") and whether a
	// login succeeded ("logged-in").
	KindAuth = "auth"
	// KindHTTP: per client address and window, the paths it requested
	// that were answered 4xx/5xx ("path=/wp-login.php"), its user agents
	// ("ua=…") and network.
	KindHTTP = "http"
	// KindFindings: per entity and window, the rules that fired
	// ("rule=auth.brute_force").
	KindFindings = "findings"
)

// maxItemLen bounds an item's text (long user agents, paths).
const maxItemLen = 120

// EventItems appends the items an event contributes to its source's
// transaction of kind k; ok is false when the event has no place in one.
func EventItems(k string, ev *event.Event, dst []string) ([]string, bool) {
	if !ev.SrcIP.IsValid() {
		return dst, false
	}
	switch k {
	case KindAuth:
		if ev.Kind != event.KindAuth {
			return dst, false
		}
		if ev.User != "" {
			dst = append(dst, clip("user="+ev.User))
		}
		if ev.Outcome == event.OutcomeSuccess && ev.Action == event.ActLoginSuccess {
			dst = append(dst, "logged-in")
		}
	case KindHTTP:
		h := ev.HTTP
		if h == nil {
			return dst, false
		}
		if h.Status >= 400 {
			p := h.PathDecoded
			if p == "" {
				p = h.Path
			}
			dst = append(dst, clip("path="+p))
		}
		if h.UserAgent != "" && h.UserAgent != "-" {
			dst = append(dst, clip("ua="+h.UserAgent))
		}
	default:
		return dst, false
	}
	dst = append(dst, "net="+Net(ev.SrcIP))
	return dst, true
}

// Net is an address's /24 (IPv4) or /48 (IPv6).
func Net(a netip.Addr) string {
	a = a.Unmap()
	bits := 24
	if a.Is6() {
		bits = 48
	}
	p, _ := a.Prefix(bits)
	return p.String()
}

func clip(s string) string {
	if len(s) > maxItemLen {
		return s[:maxItemLen]
	}
	return s
}

// FindingItems are the items of a finding in its entity's transaction.
func FindingItems(a *event.Alert) []string { return []string{"rule=" + a.Rule} }

// Builder groups items into transactions per entity and window.
type Builder struct {
	Dict   *Dict
	window time.Duration
	max    int
	txs    map[txKey]map[int32]struct{}
	order  []txKey
	// Dropped counts items of new transactions beyond the cap.
	Dropped int64
}

type txKey struct {
	entity string
	start  int64
}

// NewBuilder groups by windows of w (default one day), at most max
// transactions (default 1,000,000).
func NewBuilder(w time.Duration, max int) *Builder {
	if w <= 0 {
		w = 24 * time.Hour
	}
	if max <= 0 {
		max = 1_000_000
	}
	return &Builder{Dict: NewDict(), window: w, max: max, txs: map[txKey]map[int32]struct{}{}}
}

// Add adds items to entity's transaction at time t.
func (b *Builder) Add(entity string, t time.Time, items ...string) {
	k := txKey{entity, t.Truncate(b.window).Unix()}
	tx := b.txs[k]
	if tx == nil {
		if len(b.txs) >= b.max {
			b.Dropped++
			return
		}
		tx = map[int32]struct{}{}
		b.txs[k] = tx
		b.order = append(b.order, k)
	}
	for _, it := range items {
		tx[b.Dict.ID(it)] = struct{}{}
	}
}

// Transactions returns the transactions (in order of first sight).
func (b *Builder) Transactions() [][]int32 {
	out := make([][]int32, 0, len(b.order))
	for _, k := range b.order {
		tx := b.txs[k]
		ids := make([]int32, 0, len(tx))
		for id := range tx {
			ids = append(ids, id)
		}
		out = append(out, sorted(ids))
	}
	return out
}

// Text renders a rule with item names.
func (r *Rule) Text(d *Dict) string {
	names := func(ids []int32) string {
		s := make([]string, len(ids))
		for i, id := range ids {
			s[i] = d.Name(id)
		}
		return strings.Join(s, ", ")
	}
	return fmt.Sprintf("{%s} → {%s}  support %.4f (%d), confidence %.3f, lift %.1f",
		names(r.If), names(r.Then), r.Support, r.Count, r.Confidence, r.Lift)
}
