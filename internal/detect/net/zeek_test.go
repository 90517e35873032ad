package net

import (
	"fmt"
	"testing"

	"winnow/internal/event"
	"winnow/internal/parse"
	"winnow/internal/parse/zeek"
)

// The same scan read from Zeek's conn.log instead of a capture is found
// the same way: flows are flows whatever their source.
func TestScanFromZeekConn(t *testing.T) {
	p := zeek.Formats()[0].New(parse.Options{})
	lines := []string{"#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\tduration\torig_bytes\tresp_bytes\tconn_state\tlocal_orig\tlocal_resp\tmissed_bytes\thistory\torig_pkts\torig_ip_bytes\tresp_pkts\tresp_ip_bytes\ttunnel_parents"}
	for i := 0; i < 40; i++ {
		state, hist, rp := "S0", "S", 0
		if i%10 == 0 {
			state, hist, rp = "REJ", "Sr", 1
		}
		lines = append(lines, fmt.Sprintf("%d.%06d\tC%d\t203.0.113.66\t40000\t192.168.1.20\t%d\ttcp\t-\t-\t-\t-\t%s\tF\tT\t0\t%s\t1\t44\t%d\t%d\t-",
			1617271200+i/10, i, i, 1+i*7, state, hist, rp, 40*rp))
	}
	// A client with ordinary traffic.
	for i := 0; i < 40; i++ {
		lines = append(lines, fmt.Sprintf("%d.5\tD%d\t192.168.1.10\t%d\t93.184.216.%d\t443\ttcp\tssl\t1.5\t500\t4000\tSF\tT\tF\t0\tShADadFf\t10\t900\t9\t4400\t-", 1617271200+i, i, 50000+i, i))
	}
	var evs []event.Event
	for _, l := range lines {
		var ev event.Event
		if err := p.Parse([]byte(l), &ev); err == nil {
			evs = append(evs, ev)
		}
	}
	sortByTime(evs)
	got := flagged(runEvents(t, evs, Specs()...))
	if !equal(got["net.port_scan"], []string{"203.0.113.66"}) || len(got) != 1 {
		t.Fatalf("flagged %v", got)
	}
}
