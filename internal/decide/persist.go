package decide

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"time"
)

// SnapshotVersion is the version of the format Save writes. Load refuses
// any other version with ErrSnapshotVersion.
const SnapshotVersion = 1

// ErrSnapshotVersion is wrapped by Load's error for a snapshot written by
// another version of the format.
var ErrSnapshotVersion = errors.New("unsupported decisions snapshot version")

type snapshot struct {
	Version  int                  `json:"version"`
	NextID   int64                `json:"next_id"`
	Active   []Decision           `json:"active"`
	Evidence map[string]evidenceJ `json:"evidence"`
}

type evidenceJ struct {
	PNot     float64   `json:"p_not"`
	Offences int       `json:"offences"`
	Rules    []string  `json:"rules,omitempty"`
	Last     time.Time `json:"last"`
}

// Save writes the active decisions and the remembered evidence (so repeat
// offenders stay repeat offenders across a restart) as versioned JSON.
func (dc *Decider) Save(w io.Writer) error {
	dc.mu.Lock()
	s := snapshot{Version: SnapshotVersion, NextID: dc.nextID, Evidence: make(map[string]evidenceJ, len(dc.tracked))}
	for _, d := range dc.active {
		s.Active = append(s.Active, *d)
	}
	for a, ev := range dc.tracked {
		s.Evidence[a.String()] = evidenceJ{PNot: 1 - ev.combined(), Offences: ev.offences, Rules: ev.rules, Last: ev.last}
	}
	dc.mu.Unlock()
	if err := json.NewEncoder(w).Encode(&s); err != nil {
		return fmt.Errorf("cannot write decisions snapshot: %w", err)
	}
	return nil
}

// Load replaces the Decider's decisions and evidence with a snapshot made
// by Save. Expired decisions are dropped; pollers see the loaded decisions
// as new. On error the Decider is unchanged.
func (dc *Decider) Load(r io.Reader) error {
	var s snapshot
	dec := json.NewDecoder(io.LimitReader(r, 256<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return fmt.Errorf("cannot read decisions snapshot: %w", err)
	}
	if s.Version != SnapshotVersion {
		return fmt.Errorf("cannot read decisions snapshot: version %d: %w", s.Version, ErrSnapshotVersion)
	}
	active := make(map[netip.Prefix]*Decision, len(s.Active))
	for i := range s.Active {
		d := s.Active[i]
		pfx, err := parseValue(d.Value)
		if err != nil {
			return fmt.Errorf("cannot read decisions snapshot: decision %d: %w", d.ID, err)
		}
		d.Prefix = pfx
		active[pfx] = &d
	}
	tracked := make(map[netip.Addr]*evidence, len(s.Evidence))
	for k, e := range s.Evidence {
		a, err := netip.ParseAddr(k)
		if err != nil {
			return fmt.Errorf("cannot read decisions snapshot: evidence for %q: %w", k, err)
		}
		if e.PNot < 0 || e.PNot > 1 {
			return fmt.Errorf("cannot read decisions snapshot: evidence for %s: p_not %v out of [0,1]", k, e.PNot)
		}
		tracked[a] = &evidence{pNot: e.PNot, offences: e.Offences, rules: e.Rules, last: e.Last}
	}
	dc.mu.Lock()
	defer dc.mu.Unlock()
	dc.active, dc.tracked, dc.log = active, tracked, nil
	dc.nextID = max(dc.nextID, s.NextID)
	dc.seq++
	dc.floor = dc.seq // every poller's cursor is now older than the log: full resync
	dc.expireLocked(dc.now())
	return nil
}
