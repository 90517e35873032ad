package dns

import (
	"math"
	"strings"
)

// Scoring of name lists (winnow score dns): every name gets a per-query
// tunnel score and a DGA score; the names of one registered domain are
// then judged together, as the streaming tunnel detector judges a domain's
// traffic, and a domain judged a tunnel lifts every name under it.

// Shipped thresholds.
const (
	// TunnelThreshold: a name (or domain) with a tunnel score at or above
	// it is a tunnel.
	TunnelThreshold = 0.5
	// DefaultDGAThreshold is used when the model file carries none.
	DefaultDGAThreshold = 0.8
)

// DGAThreshold is the model's shipped DGA threshold (calibrated by the
// model builder at 1% false positives on benign training names).
func (m *Model) DGAThreshold() float64 {
	if t, ok := m.weights["threshold"]; ok && t > 0 && t < 1 {
		return t
	}
	return DefaultDGAThreshold
}

// NameScore is one scored name.
type NameScore struct {
	Name    string  `json:"name"`
	Tunnel  float64 `json:"tunnel"`
	DGA     float64 `json:"dga"`
	Verdict string  `json:"verdict"`
}

// DomainStats aggregates one registered domain's names; the streaming
// tunnel detector keeps the same numbers (with a sketch for Distinct).
type DomainStats struct {
	Queries     int     // names (queries) seen
	Distinct    int     // distinct names
	Encoded     int     // queries whose TunnelEvidence.Stream ≥ TunnelThreshold
	EncodedBits float64 // subdomain surprisal of the distinct encoded names, bits
	RareTypes   bool    // most of the domain's queries use types rare in the network's mix
}

// DomainTunnel is the domain-level tunnel score, with its terms.
//
// A tunnel domain is one under which a good share of the names carry
// encoded payload. Gates: at least 5 encoded names (one odd name is the
// per-query score's business) and at least one query in ten encoded (a
// busy CDN or ad domain whose names have random parts produces a few
// encoded-looking ones, never a tenth of its traffic). Then, in log-odds
// from −1:
//
//	encoded   1.5 per doubling of the encoded names beyond 5, at most 4.5
//	share     (encoded share − 0.15) × 10
//	volume    +1 when the encoded names carry ≥ 20,000 bits (2.5 KB) of
//	          subdomain information, +1 more at ≥ 200,000
//	rare      +1 when most queries use types rare in the network's mix
func DomainTunnel(s DomainStats) (float64, map[string]float64) {
	if s.Encoded < 5 || s.Queries == 0 || 10*s.Encoded < s.Queries {
		return 0, nil
	}
	terms := map[string]float64{}
	terms["encoded"] = math.Min(1.5*math.Log2(float64(s.Encoded)/5), 4.5)
	share := float64(s.Encoded) / float64(s.Queries)
	terms["share"] = (share - 0.15) * 10
	v := 0.0
	if s.EncodedBits >= 20000 {
		v++
	}
	if s.EncodedBits >= 200000 {
		v++
	}
	terms["volume"] = v
	if s.RareTypes {
		terms["rare_types"] = 1
	}
	z := -1.0
	for _, t := range terms {
		z += t
	}
	for k, t := range terms {
		terms[k] = math.Round(t*100) / 100
	}
	return sigmoid(z), terms
}

// DefaultAllow lists registered domains whose services encode lookups in
// names by design (DNS blocklists, antivirus and reputation lookups, ad
// frames named by hashes): the tunnel detector's default allow list, also
// applied by ScoreNames at the domain level (a name's own score still
// counts).
const DefaultAllow = "spamhaus.org,spamcop.net,sorbs.net,barracudacentral.org,surbl.org,uribl.com,dnswl.org," +
	"mailspike.net,senderscore.com,mcafee.com,sophosxl.net,e5.sk,trendmicro.com,avast.com,kaspersky.com," +
	"googlesyndication.com,cymru.com"

func allowSet(list string) map[string]bool {
	m := map[string]bool{}
	for _, d := range strings.Split(list, ",") {
		if d = strings.TrimSpace(strings.ToLower(d)); d != "" {
			m[d] = true
		}
	}
	return m
}

// ScoreNames scores a list of names (two passes: names, then domains).
// The result is in input order.
func ScoreNames(m *Model, names []string) []NameScore {
	type perName struct {
		f      Features
		tunnel float64
	}
	pn := make([]perName, len(names))
	doms := map[string]*DomainStats{}
	seen := map[string]bool{}
	for i, n := range names {
		f := Analyze(m, n)
		te := TunnelScore(&f, "", false)
		pn[i] = perName{f: f, tunnel: te.Score}
		enc := te.Stream >= TunnelThreshold
		d := doms[f.Registered]
		if d == nil {
			d = &DomainStats{}
			doms[f.Registered] = d
		}
		d.Queries++
		if !seen[n] {
			seen[n] = true
			d.Distinct++
			if enc {
				d.EncodedBits += f.SubBits
			}
		}
		if enc {
			d.Encoded++
		}
	}
	allow := allowSet(DefaultAllow)
	domScore := make(map[string]float64, len(doms))
	for k, d := range doms {
		if !allow[k] {
			domScore[k], _ = DomainTunnel(*d)
		}
	}
	thr := m.DGAThreshold()
	out := make([]NameScore, len(names))
	for i, n := range names {
		p := &pn[i]
		t := p.tunnel
		if p.f.Sub != "" {
			t = math.Max(t, domScore[p.f.Registered])
		}
		dga := m.DGAScore(p.f.Label)
		v := "benign"
		switch {
		case t >= TunnelThreshold:
			v = "tunnel"
		case dga >= thr:
			v = "dga"
		}
		out[i] = NameScore{Name: n, Tunnel: round3(t), DGA: round3(dga), Verdict: v}
	}
	return out
}

func round3(x float64) float64 { return math.Round(x*1000) / 1000 }
