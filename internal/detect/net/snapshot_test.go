package net

import (
	"sort"
	"testing"

	"winnow/internal/detect"
	"winnow/internal/detect/detecttest"
	"winnow/internal/event"
	"winnow/internal/parse"
	"winnow/internal/parse/capture"
	"winnow/internal/testdata"
)

// TestSnapshotRestore: every network detector's state survives a restart
// in the middle of real scan, flood and reflection captures: the findings
// of a run cut, snapshotted and resumed equal one run's. The reflection
// detector measures amplification over its shard's traffic, so it is
// compared only with the shard count unchanged.
func TestSnapshotRestore(t *testing.T) {
	dir := testdata.Dir(t) + "/attack-pcaps/"
	fm := &parse.Formats{}
	fm.Add(capture.Format())
	var evs []event.Event
	for _, f := range []string{"chrissanders-packets/synscan.pcapng", "chrissanders-packets/ppa1e/portscan.pcap",
		"lucaderi-sgr/2022/Favilli/tests/hs-icmpScan.pcap", "stopddos/pkt.TCP.synflood.spoofed.pcap",
		"stopddos/amp.UDP.isakmp.pcap", "chrissanders-packets/dns_lab.pcapng"} {
		evs = append(evs, detecttest.ReadEvents(t, fm, 2026, dir+f)...)
	}
	sort.SliceStable(evs, func(i, j int) bool { return evs[i].Time.Before(evs[j].Time) })
	var reg detect.Registry
	Register(&reg)
	var en []detect.Enabled
	for _, s := range reg.Specs() {
		p, err := detect.NewParams(s, nil)
		if err != nil {
			t.Fatal(err)
		}
		en = append(en, detect.Enabled{Spec: s, Params: p})
	}
	if n := detecttest.CheckSnapshot(t, en, evs, detecttest.SnapshotOptions{Cuts: []float64{0.4, 0.75},
		Reshards: []detecttest.Reshard{{From: 2, To: 2}, {From: 2, To: 3}}, ShardBound: map[string]bool{"net.reflection": true}}); n < 4 {
		t.Errorf("only %d findings: the captures do not exercise the detectors", n)
	}
}
