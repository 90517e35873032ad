package learn

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"winnow/internal/archive"
	"winnow/internal/event"
)

// label marks an entity bad (or good) over a time range; a zero range
// means always.
type label struct {
	entity   string
	bad      bool
	from, to time.Time
	family   string // the finding rule or label file that said so
}

// labelSet answers "is this entity window bad, and by whose say?".
// Analyst labels (files, feedback) override labels from findings.
type labelSet struct {
	analyst  map[string][]label
	findings map[string][]label
}

func newLabelSet() *labelSet {
	return &labelSet{analyst: map[string][]label{}, findings: map[string][]label{}}
}

func overlaps(l label, start, end time.Time) bool {
	if !l.from.IsZero() && !end.After(l.from) {
		return false
	}
	if !l.to.IsZero() && start.After(l.to) {
		return false
	}
	return true
}

// of returns the window's label: bad, its family, and whether an analyst
// said so (unlabelled windows are good).
func (s *labelSet) of(entity string, start, end time.Time) (bad bool, family string, analyst bool) {
	for _, l := range s.analyst[entity] {
		if overlaps(l, start, end) {
			return l.bad, l.family, true
		}
	}
	for _, l := range s.findings[entity] {
		if overlaps(l, start, end) {
			return true, l.family, false
		}
	}
	return false, "", false
}

// FindingLabels select the archived findings that label windows bad.
type FindingLabels struct {
	// Rules are rule names or family prefixes ("auth.", "web.scanner");
	// empty means every rule but the compiled models' own (forest.,
	// vfdt., assoc.: a model never learns from its own findings) and the
	// context rules (campaign., linkage., profile.: they say an entity is
	// linked to others or changed, not that a window is bad).
	Rules []string
	// MinSeverity is the lowest severity that labels (default low):
	// informational findings are not verdicts.
	MinSeverity int
}

func (fl FindingLabels) selects(a *event.Alert) bool {
	if a.Severity < fl.MinSeverity {
		return false
	}
	if len(fl.Rules) == 0 {
		for _, p := range []string{"forest.", "vfdt.", "assoc.", "campaign.", "linkage.", "profile."} {
			if strings.HasPrefix(a.Rule, p) {
				return false
			}
		}
		return true
	}
	for _, r := range fl.Rules {
		if a.Rule == r || (strings.HasSuffix(r, ".") && strings.HasPrefix(a.Rule, r)) {
			return true
		}
	}
	return false
}

// addFindings labels the entities of archived findings (the finding's
// entity and its related entities of the same type) bad over the
// finding's time range.
func (s *labelSet) addFindings(alerts []event.Alert, typ event.EntityType, fl FindingLabels) int {
	n := 0
	for i := range alerts {
		a := &alerts[i]
		if !fl.selects(a) {
			continue
		}
		ents := append([]event.Entity{a.Entity}, a.Related...)
		for _, e := range ents {
			if e.Type != typ {
				continue
			}
			s.findings[e.Value] = append(s.findings[e.Value], label{entity: e.Value, bad: true, from: a.Start, to: a.End, family: a.Rule})
			n++
		}
	}
	return n
}

// readArchiveFindings loads the archive's findings for labels.
func readArchiveFindings(dir string, from, to time.Time) ([]event.Alert, []error) {
	return archive.Findings(dir, from, to)
}

// readLabelFile reads analyst labels: CSV lines "entity,label[,from,to]"
// (label bad/good, 1/0, attack/normal, malicious/benign; times RFC 3339;
// an entity may be written type:value, "ip:1.2.3.4"), or JSON Lines of
// findings from 'winnow analyze --format json' when verdict is given
// ("good" marks their entity windows false positives, "bad" confirms
// them).
func (s *labelSet) readLabelFile(path, verdict string) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, fmt.Errorf("cannot open labels: %w", err)
	}
	defer f.Close()
	br := bufio.NewReader(f)
	first, _ := br.Peek(1)
	if len(first) == 1 && first[0] == '{' {
		if verdict != "good" && verdict != "bad" {
			return 0, usagef("%s holds findings: say what they are with --verdict good|bad", path)
		}
		return s.readFindingsJSON(br, path, verdict == "bad")
	}
	cr := csv.NewReader(br)
	cr.FieldsPerRecord = -1
	cr.Comment = '#'
	n := 0
	for line := 1; ; line++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return n, fmt.Errorf("cannot read labels %s: %w", path, err)
		}
		if len(rec) < 2 {
			return n, fmt.Errorf("labels %s:%d: want entity,label[,from,to]", path, line)
		}
		bad, ok := parseVerdict(rec[1])
		if !ok {
			if line == 1 {
				continue // a header
			}
			return n, fmt.Errorf("labels %s:%d: label %q is not good/bad", path, line, rec[1])
		}
		l := label{entity: entityValue(rec[0]), bad: bad, family: "label:" + strings.TrimSpace(rec[1])}
		for i, dst := range []*time.Time{&l.from, &l.to} {
			if len(rec) > 2+i && strings.TrimSpace(rec[2+i]) != "" {
				t, err := time.Parse(time.RFC3339, strings.TrimSpace(rec[2+i]))
				if err != nil {
					return n, fmt.Errorf("labels %s:%d: %v", path, line, err)
				}
				*dst = t
			}
		}
		s.analyst[l.entity] = append(s.analyst[l.entity], l)
		n++
	}
	return n, nil
}

func (s *labelSet) readFindingsJSON(r io.Reader, path string, bad bool) (int, error) {
	dec := json.NewDecoder(r)
	n := 0
	for {
		var doc struct {
			Event struct {
				Start string `json:"start"`
				End   string `json:"end"`
			} `json:"event"`
			Rule struct {
				Name string `json:"name"`
			} `json:"rule"`
			Winnow struct {
				Entity struct {
					Value string `json:"value"`
				} `json:"entity"`
			} `json:"winnow"`
		}
		if err := dec.Decode(&doc); errors.Is(err, io.EOF) {
			return n, nil
		} else if err != nil {
			return n, fmt.Errorf("cannot read findings %s: %w", path, err)
		}
		l := label{entity: doc.Winnow.Entity.Value, bad: bad, family: "feedback:" + doc.Rule.Name}
		l.from, _ = time.Parse(time.RFC3339Nano, doc.Event.Start)
		l.to, _ = time.Parse(time.RFC3339Nano, doc.Event.End)
		if l.entity == "" {
			continue
		}
		s.analyst[l.entity] = append(s.analyst[l.entity], l)
		n++
	}
}

func parseVerdict(s string) (bad, ok bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "bad", "1", "attack", "malicious", "anomaly", "true", "confirmed":
		return true, true
	case "good", "0", "normal", "benign", "false", "false-positive", "fp":
		return false, true
	}
	return false, false
}

// entityValue strips a "type:" prefix ("ip:1.2.3.4" → "1.2.3.4"); IPv6
// addresses, which hold colons, are kept whole.
func entityValue(s string) string {
	s = strings.TrimSpace(s)
	for _, p := range []string{"ip:", "user:", "host:", "domain:"} {
		if v, ok := strings.CutPrefix(s, p); ok {
			return v
		}
	}
	return s
}
