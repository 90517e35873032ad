package audit

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"winnow/internal/event"
	"winnow/internal/parse"
)

// FuzzDecode: any input decodes without panic or error (bad lines are
// counted, never fatal), the events emitted are the events counted, each
// is a KindAudit event with its part, and decoding is deterministic.
func FuzzDecode(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.log")
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte("type=AVC msg=audit(1.2:3): avc: denied { x"))
	f.Add([]byte("----\ntype=SYSCALL msg=audit(01/02/03 04:05:06.007:8) : exit=E(a b"))
	f.Add([]byte("type=EXECVE msg=audit(1:1): a0=4 a1=\"x\nnode="))
	f.Fuzz(func(t *testing.T, data []byte) {
		run := func() (int64, []string) {
			var n int64
			var sig []string
			st, err := Decode(bytes.NewReader(data), "f", parse.Options{Location: time.UTC}, func(ev *event.Event) error {
				n++
				if ev.Kind != event.KindAudit || ev.Audit == nil || ev.Host == "" {
					t.Fatalf("bad event %+v", ev)
				}
				sig = append(sig, ev.Audit.Type+ev.Command)
				return nil
			})
			if err != nil && !bytes.Contains([]byte(err.Error()), []byte("cannot read audit log")) {
				t.Fatalf("unexpected error %v", err)
			}
			if n != st.Events {
				t.Fatalf("emitted %d, counted %d", n, st.Events)
			}
			if st.Records < st.Malformed {
				t.Fatalf("stats %+v", st)
			}
			return n, sig
		}
		n1, s1 := run()
		n2, s2 := run()
		if n1 != n2 || len(s1) != len(s2) {
			t.Fatal("not deterministic")
		}
		for i := range s1 {
			if s1[i] != s2[i] {
				t.Fatal("not deterministic")
			}
		}
		var ev event.Event
		SyslogMessage(data, &ev)
	})
}

func TestSyslogMessage(t *testing.T) {
	f := func(msg string, ok bool, check func(*event.Event)) {
		t.Helper()
		ev := event.Event{Time: time.Unix(1700000000, 0), Host: "web1", Ref: event.Ref{File: "syslog", Line: 7}}
		if got := SyslogMessage([]byte(msg), &ev); got != ok {
			t.Fatalf("%q: %v", msg, got)
		}
		if ok {
			if ev.Kind != event.KindAudit || ev.Host != "web1" || ev.Ref.Line != 7 || ev.Time.Unix() != 1700000000 {
				t.Errorf("%q: %+v", msg, ev)
			}
			check(&ev)
		}
	}
	f(`[ 1234.567890] audit: type=1400 audit(1591784427.123:45): apparmor="DENIED" operation="open" profile="/usr/sbin/cupsd" name="/etc/shadow" pid=1234 comm="cupsd" requested_mask="r" denied_mask="r" fsuid=0 ouid=0`, true, func(ev *event.Event) {
		a := ev.Audit
		if !a.Denied || a.SContext != "/usr/sbin/cupsd" || a.Name != "/etc/shadow" || a.Perms != "r" || ev.Action != event.ActAVCDenied || ev.PID != 1234 || a.Serial != 45 {
			t.Errorf("%+v %+v", ev, a)
		}
	})
	f(`AVC avc:  denied  { read } for  pid=812 comm="nginx" name="key.pem" dev="sda1" ino=9 scontext=system_u:system_r:httpd_t:s0 tcontext=unconfined_u:object_r:user_home_t:s0 tclass=file permissive=0`, true, func(ev *event.Event) {
		a := ev.Audit
		if !a.Denied || a.Perms != "read" || a.TClass != "file" || a.Comm != "nginx" || ev.Action != event.ActAVCDenied {
			t.Errorf("%+v", a)
		}
	})
	f(`audit: type=1400 audit(1591784427.123:46): apparmor="STATUS" operation="profile_load" profile="unconfined" name="/usr/bin/man" pid=1 comm="apparmor_parser"`, true, func(ev *event.Event) {
		if ev.Audit.Denied || ev.Action != event.ActAudit {
			t.Errorf("%+v", ev.Audit)
		}
	})
	f(`usb 1-1: new high-speed USB device number 2`, false, nil)
	f(`audit: type=1130 audit(1:2): pid=1 uid=0 msg='unit=foo res=success'`, false, nil)
}
