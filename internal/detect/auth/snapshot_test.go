package auth

import (
	"sort"
	"testing"

	"winnow/internal/detect"
	"winnow/internal/detect/detecttest"
	"winnow/internal/event"
	"winnow/internal/parse"
	"winnow/internal/parse/authlog"
	"winnow/internal/testdata"
)

func realAuthEvents(t *testing.T) []event.Event {
	f := &parse.Formats{}
	f.Add(authlog.Format())
	evs := detecttest.ReadEvents(t, f, 2015, testdata.File(t, "auth-logs/secrepo/auth.log"))
	evs = append(evs, detecttest.ReadEvents(t, f, 2016, testdata.File(t, "elastic-examples/suspicious_login_activity/auth.log"))...)
	sort.SliceStable(evs, func(i, j int) bool { return evs[i].Time.Before(evs[j].Time) })
	return evs
}

func enabledAuth(t *testing.T, set map[string]string) []detect.Enabled {
	var reg detect.Registry
	Register(&reg)
	var en []detect.Enabled
	for _, s := range reg.Specs() {
		p, err := detect.NewParams(s, set)
		if err != nil {
			t.Fatal(err)
		}
		en = append(en, detect.Enabled{Spec: s, Params: p})
	}
	return en
}

// TestSnapshotRestore: every auth detector's state survives a restart in
// the middle of real logs (secrepo's month of an Internet-facing server,
// Elastic's suspicious-login example): the findings of a run cut,
// snapshotted and resumed — on as many shards or others — equal one
// run's. Again with tables so small that the caps shed and the
// doorkeepers defer.
func TestSnapshotRestore(t *testing.T) {
	evs := realAuthEvents(t)
	// The brute-force and invalid-user bars are learned over a shard's
	// share of the sources: checked with an unchanged shard count.
	bound := map[string]bool{"auth.brute_force": true, "auth.invalid_user_enumeration": true}
	if n := detecttest.CheckSnapshot(t, enabledAuth(t, nil), evs, detecttest.SnapshotOptions{ShardBound: bound}); n < 50 {
		t.Errorf("only %d findings: the data does not exercise the detectors", n)
	}
	small := map[string]string{"max_entities": "4"}
	detecttest.CheckSnapshot(t, enabledAuth(t, small), evs, detecttest.SnapshotOptions{Reshards: []detecttest.Reshard{{From: 2, To: 2}}})
}
