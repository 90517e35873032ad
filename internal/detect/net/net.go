// Package net holds the network-flow detectors: port scans and host
// sweeps per source (sliding HyperLogLog of failed probes, fast and slow
// windows), SYN/UDP/ICMP floods against each destination's learned
// baseline, reflection/amplification at a victim, heavy hitters per sensor
// (count-min sketch + top-k, with the sketch's error bound in the
// finding), beaconing (periodic connections from a client to one
// service), and connections that no DNS answer explains.
//
// They read flow events (event.Flow) from captures (parse/capture) and
// Zeek conn.log (parse/zeek) alike. All state is in bounded detect.Tables
// that expire in event time; what a cap drops is counted in Stats.
package net

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"winnow/internal/detect"
	"winnow/internal/event"
	"winnow/internal/stablehash"
)

// Register adds every network detector to r.
func Register(r *detect.Registry) {
	for _, s := range Specs() {
		r.MustRegister(s)
	}
}

// Specs returns the network detector specs.
func Specs() []detect.Spec {
	return []detect.Spec{portScanSpec(), hostSweepSpec(), floodSpec(), floodSourceSpec(), reflectionSpec(), heavyHitterSpec(),
		beaconSpec(), unexplainedSpec()}
}

var flowKinds = []event.Kind{event.KindFlow}
var flowActions = []event.Action{event.ActFlow}

func paramMax(def string) detect.Param {
	return detect.Param{Name: "max_entities", Default: def,
		Doc: "entities tracked per shard; beyond it the least recently active is shed (counted), and while the table is nearly full a new entity needs a second sighting (a spoofed flood of one-off sources never enters)"}
}

// failed reports whether a flow is a probe that got nowhere: a TCP attempt
// without a handshake (S0, REJ, RSTOS0, SH, or mid-stream packets without
// reply, as ACK scans send), an unanswered UDP/ICMP/ARP/other-protocol
// flow, or anything an ICMP destination-unreachable answered.
func failed(f *event.Flow) bool {
	if f.Unreachable {
		return true
	}
	if f.Transport == "tcp" {
		switch f.State {
		case "S0", "REJ", "RSTOS0", "SH":
			return true
		case "OTH":
			return f.RespPackets == 0
		}
		return false
	}
	return f.RespPackets == 0
}

// probe reports whether a flow counts as an attempt by its originator
// (replies whose request was not seen do not).
func probe(f *event.Flow) bool { return !f.Reversed }

// FlowText renders a flow event for evidence lines.
func FlowText(ev *event.Event) string {
	f := ev.Flow
	if f == nil {
		return string(ev.Raw)
	}
	if len(ev.Raw) > 0 {
		return string(ev.Raw)
	}
	var b strings.Builder
	b.WriteString(f.Transport)
	b.WriteByte(' ')
	b.WriteString(endpoint(ev.SrcIP.String(), ev.SrcPort, f))
	b.WriteString(" -> ")
	b.WriteString(endpoint(ev.DstIP.String(), ev.DstPort, f))
	if f.State != "" {
		b.WriteByte(' ')
		b.WriteString(f.State)
	}
	if f.Transport == "icmp" || f.Transport == "icmp6" {
		fmt.Fprintf(&b, " type %d code %d", f.ICMPType, f.ICMPCode)
	}
	fmt.Fprintf(&b, " pkts %d/%d bytes %d/%d", f.OrigPackets, f.RespPackets, f.OrigBytes, f.RespBytes)
	if f.Unreachable {
		fmt.Fprintf(&b, " unreachable(code %d)", f.UnreachCode)
	}
	if f.Reversed {
		b.WriteString(" reply-without-request")
	}
	return b.String()
}

func endpoint(a string, port uint16, f *event.Flow) string {
	switch f.Transport {
	case "tcp", "udp", "sctp":
		if strings.IndexByte(a, ':') >= 0 {
			return "[" + a + "]:" + strconv.Itoa(int(port))
		}
		return a + ":" + strconv.Itoa(int(port))
	}
	return a
}

func sampleOf(ev *event.Event) event.Sample {
	return event.Sample{File: ev.Ref.File, Line: ev.Ref.Line, Text: FlowText(ev)}
}

// addrHash hashes an address without allocating; stable across
// processes (package stablehash), so sketches holding such hashes survive
// a snapshot.
func addrHash(a [16]byte) uint64 { return stablehash.Sum64(netSeed, a[:]) }

// serviceHash hashes a service number (see service).
func serviceHash(svc uint32) uint64 {
	b := [4]byte{byte(svc), byte(svc >> 8), byte(svc >> 16), byte(svc >> 24)}
	return stablehash.Sum64(netSeed, b[:])
}

// netSeed seeds the family's hashes.
const netSeed = 0x6e6574

// service is a flow's (transport, destination port) as one number.
func service(ev *event.Event) uint32 {
	return uint32(ev.Flow.Proto)<<16 | uint32(ev.DstPort)
}

func serviceName(s uint32) string {
	proto, port := uint8(s>>16), uint16(s)
	switch proto {
	case 6:
		return strconv.Itoa(int(port)) + "/tcp"
	case 17:
		return strconv.Itoa(int(port)) + "/udp"
	case 132:
		return strconv.Itoa(int(port)) + "/sctp"
	case 1:
		return "icmp"
	case 58:
		return "icmp6"
	case 0:
		return "arp"
	}
	return "ip-proto-" + strconv.Itoa(int(proto))
}

// windowCounts are counters over a sliding window in buckets (the same
// bucketing as sketch.SlidingHLL).
type windowCounts struct {
	width  int64
	epochs []int64
	probes []uint32
	failed []uint32
}

func newWindowCounts(buckets int, window time.Duration) windowCounts {
	w := windowCounts{width: int64(window) / int64(buckets), epochs: make([]int64, buckets),
		probes: make([]uint32, buckets), failed: make([]uint32, buckets)}
	for i := range w.epochs {
		w.epochs[i] = -1
	}
	return w
}

func (w *windowCounts) add(t int64, fail bool) {
	e := t / w.width
	b := int(e % int64(len(w.epochs)))
	if w.epochs[b] != e {
		if w.epochs[b] > e {
			return
		}
		w.epochs[b], w.probes[b], w.failed[b] = e, 0, 0
	}
	w.probes[b]++
	if fail {
		w.failed[b]++
	}
}

func (w *windowCounts) sum(t int64) (probes, failed int64) {
	e := t / w.width
	for b, be := range w.epochs {
		if be <= e && be > e-int64(len(w.epochs)) {
			probes += int64(w.probes[b])
			failed += int64(w.failed[b])
		}
	}
	return
}

func unitParam(p detect.Params, name string) (float64, error) {
	v, err := p.Float(name)
	if err == nil && (v < 0 || v > 1) {
		err = fmt.Errorf("parameter %s must be between 0 and 1", name)
	}
	return v, err
}

func positiveFloat(p detect.Params, name string) (float64, error) {
	v, err := p.Float(name)
	if err == nil && v <= 0 {
		err = fmt.Errorf("parameter %s must be positive", name)
	}
	return v, err
}
