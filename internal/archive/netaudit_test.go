package archive

import (
	"net/netip"
	"testing"
	"time"

	"winnow/internal/event"
)

// Flow, audit and file events, with their sensor, come back from the
// archive as they went in.
func TestRoundTripFlowAuditFile(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	edge := &event.Sensor{Name: "edge-tap", Vantage: "edge", Domain: "network"}
	host := &event.Sensor{Name: "web1", Vantage: "host", Domain: "host"}
	evs := []event.Event{
		{Time: t0, Kind: event.KindFlow, Action: event.ActFlow, Count: 1, Sensor: edge,
			SrcIP: netip.MustParseAddr("203.0.113.9"), SrcPort: 40000, DstIP: netip.MustParseAddr("192.0.2.1"), DstPort: 22,
			Flow: &event.Flow{Transport: "tcp", Proto: 6, End: t0.Add(time.Second), OrigPackets: 2, OrigBytes: 88,
				OrigFlags: event.FlagSYN, State: "S0", Unreachable: true, UnreachCode: 3, Reversed: true, Partial: true, UID: "C1"},
			Ref: event.Ref{File: "cap.pcap", Line: 1}},
		{Time: t0.Add(time.Second), Kind: event.KindAudit, Action: event.ActAVCDenied, Outcome: event.OutcomeFailure, Count: 1, Sensor: host,
			Host: "web1", PID: 42, User: "alice", Program: "httpd", Command: "httpd -k start",
			Audit: &event.Audit{Serial: 96, Type: "AVC", Records: []string{"AVC", "SYSCALL"}, Syscall: "open", Exit: "-13", PPID: 1,
				AUID: "alice", UID: "48", EUID: "48", Comm: "httpd", Exe: "/usr/sbin/httpd", Cwd: "/", Argv: []string{"httpd", "-k", "start"},
				Paths:  []event.AuditPath{{Name: "/etc/shadow", NameType: "NORMAL", Mode: 0o100640, OUID: "0"}},
				Denied: true, Perms: "read", SContext: "system_u:system_r:httpd_t:s0", TContext: "system_u:object_r:shadow_t:s0", TClass: "file",
				Name: "/etc/shadow", Op: "x", Caps: "fp=1"},
			Ref: event.Ref{File: "audit.log", Line: 2}, Raw: []byte("type=AVC msg=audit(1:96): avc: denied")},
		{Time: t0.Add(2 * time.Second), Kind: event.KindFile, Action: event.ActFileTransfer, Count: 1,
			SrcIP: netip.MustParseAddr("93.184.216.34"), DstIP: netip.MustParseAddr("192.168.1.10"),
			File: &event.File{MD5: "44d88612fea8a8f36de82e1278abb02f", SHA1: "x", Name: "a.exe", MimeType: "application/x-dosexec", Size: 10, Source: "HTTP", FUID: "F1", ConnUID: "C1"},
			Ref:  event.Ref{File: "files.log", Line: 3}},
	}
	dir := t.TempDir()
	w, err := NewWriter(Options{Dir: dir, Run: "t1"})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(evs); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(nil); err != nil {
		t.Fatal(err)
	}
	got := readAllEvents(t, dir)
	if len(got) != len(evs) {
		t.Fatalf("read %d, wrote %d", len(got), len(evs))
	}
	for i := range evs {
		if !equalEvent(evs[i], got[i]) {
			t.Errorf("event %d changed:\nwant %+v\n got %+v", i, evs[i], got[i])
		}
	}
}
