package assoc

import (
	"net/netip"
	"path/filepath"
	"testing"
	"time"

	"winnow/internal/detect"
	"winnow/internal/event"
	"winnow/internal/learn/rules"
	"winnow/internal/modelfile"
)

func TestDetector(t *testing.T) {
	m := &rules.Model{Kind: rules.KindAuth, Window: 24 * time.Hour, Transactions: 100, Rules: []rules.NamedRule{
		{If: []string{"user=agata", "user=arbab"}, Then: []string{"user=dreamer"}, Count: 30, Support: 0.3, Confidence: 1, Lift: 3.3}}}
	path := filepath.Join(t.TempDir(), "r.wnm")
	if err := modelfile.WriteFile(path, modelfile.Header{Type: rules.ModelType, TypeVersion: rules.PayloadVersion, Schema: m.Schema(), Site: "a"}, m.Encode()); err != nil {
		t.Fatal(err)
	}
	lm, warn, err := Load(path, "b")
	if err != nil || len(warn) != 1 {
		t.Fatalf("load: %v %v", err, warn)
	}
	s := Spec(lm, path)
	p, _ := detect.NewParams(&s, nil)
	d, err := s.New(p)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 1, 1, 1, 0, 0, 0, time.UTC)
	var got []event.Alert
	emit := func(a event.Alert) { got = append(got, a) }
	try := func(ip, user string, h int) {
		ev := event.Event{Time: t0.Add(time.Duration(h) * time.Hour), Kind: event.KindAuth, Outcome: event.OutcomeFailure,
			SrcIP: netip.MustParseAddr(ip), User: user, Raw: []byte(user)}
		d.Observe(&ev, emit)
	}
	for _, u := range []string{"agata", "root", "arbab", "dreamer", "dreamer"} {
		try("198.51.100.1", u, 0)
	}
	try("198.51.100.2", "agata", 0) // part of the list only
	try("198.51.100.2", "arbab", 1)
	try("198.51.100.2", "dreamer", 25) // the next day: another window
	if len(got) != 1 || got[0].Entity.Value != "198.51.100.1" || len(got[0].Related) != 3 || len(got[0].Samples) != 3 {
		t.Fatalf("findings %+v", got)
	}
}
