package dns

import (
	"os"
	"path/filepath"
	"sort"
	"testing"

	"winnow/internal/detect"
	"winnow/internal/detect/detecttest"
	"winnow/internal/generate/dnsgen"
	"winnow/internal/parse"
	"winnow/internal/parse/dnspcap"
	"winnow/internal/testdata"
)

// TestSnapshotRestore: every DNS detector's state survives a restart in
// the middle of a generated capture with its planted tunnels, DGA and
// volume attacks, and of a real iodine tunnel capture: the findings of a
// run cut, snapshotted and resumed equal one run's. The tunnel detector
// learns the query-type mix of its shard's traffic, so it is compared
// only with the shard count unchanged.
func TestSnapshotRestore(t *testing.T) {
	dir := t.TempDir()
	gen := filepath.Join(dir, "dns.pcap")
	f, err := os.Create(gen)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := dnsgen.WritePcap(f, dnsgen.DefaultConfig()); err != nil {
		t.Fatal(err)
	}
	f.Close()
	fm := &parse.Formats{}
	fm.Add(dnspcap.Format())
	evs := detecttest.ReadEvents(t, fm, 2026, gen)
	evs = append(evs, detecttest.ReadEvents(t, fm, 2026, testdata.File(t, "elastic-examples/dns_tunnel_detection/dns-tunnel-iodine.pcap"))...)
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
	if n := detecttest.CheckSnapshot(t, en, evs, detecttest.SnapshotOptions{ShardBound: map[string]bool{"dns.tunnel": true, "dns.resolver": true}}); n < 5 {
		t.Errorf("only %d findings: the data does not exercise the detectors", n)
	}
}
