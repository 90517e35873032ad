package host

import (
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"winnow/internal/detect"
	"winnow/internal/event"
	"winnow/internal/parse"
	"winnow/internal/parse/audit"
)

func run(t *testing.T, file string) []event.Alert {
	t.Helper()
	f, err := os.Open("../../parse/audit/testdata/" + file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var evs []event.Event
	if _, err := audit.Decode(f, file, parse.Options{Location: time.UTC}, func(ev *event.Event) error {
		evs = append(evs, *ev)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return runEvents(t, evs)
}

func runEvents(t *testing.T, evs []event.Event) []event.Alert {
	var out []event.Alert
	for _, s := range Specs() {
		p, _ := detect.NewParams(&s, nil)
		d, err := s.New(p)
		if err != nil {
			t.Fatal(err)
		}
		acts := map[event.Action]bool{}
		for _, a := range s.Actions {
			acts[a] = true
		}
		for i := range evs {
			if len(acts) == 0 || acts[evs[i].Action] {
				d.Observe(&evs[i], func(a event.Alert) { out = append(out, a) })
			}
		}
		d.Flush(func(a event.Alert) { out = append(out, a) })
	}
	return out
}

func summary(as []event.Alert) []string {
	var s []string
	for _, a := range as {
		s = append(s, a.Rule+" "+a.Entity.String())
	}
	sort.Strings(s)
	return s
}

func TestHostRules(t *testing.T) {
	cases := map[string][]string{
		"rhel-security-guide.log":            nil,
		"rhel-security-guide.ausearch-i.log": nil,
		"interleaved-enriched.log":           nil,
		"selinux-avc.log":                    {"host.avc_denial host:-"},
		"selinux-avc.ausearch-i.log":         {"host.avc_denial host:-"},
		"execve-temp.log":                    {"host.exec_from_temp host:-", "host.privilege_change host:-"},
		"execve-temp.ausearch-i.log":         {"host.exec_from_temp host:-", "host.privilege_change host:-"},
		"config-account.log":                 {"host.account_change user:backdoor", "host.audit_tamper host:web1"},
		"config-account.ausearch-i.log":      {"host.account_change user:backdoor", "host.audit_tamper host:web1"},
	}
	for file, want := range cases {
		t.Run(file, func(t *testing.T) {
			as := run(t, file)
			got := summary(as)
			if strings.Join(got, "|") != strings.Join(want, "|") {
				t.Fatalf("got %v, want %v", got, want)
			}
			for _, a := range as {
				switch a.Rule {
				case "host.audit_tamper":
					if a.Evidence["count"] != int64(4) || !strings.Contains(a.Description, "rules deleted") {
						t.Errorf("%s: %v", a.Description, a.Evidence)
					}
				case "host.exec_from_temp":
					if a.Severity != event.SeverityHigh || !strings.Contains(a.Description, "/tmp/.x/x") {
						t.Errorf("%s", a.Description)
					}
				case "host.avc_denial":
					if a.Evidence["permission"] != "getattr" || a.Evidence["target_context"] != "unconfined_u:object_r:samba_share_t:s0" {
						t.Errorf("%v", a.Evidence)
					}
				}
			}
		})
	}
}

// AVC denials that reach syslog (AppArmor through the kernel) are
// findings too, and a looping denial is one finding with its count.
func TestAVCFromSyslog(t *testing.T) {
	var evs []event.Event
	for i := 0; i < 50; i++ {
		ev := event.Event{Time: time.Unix(1700000000+int64(i), 0), Host: "web1"}
		if !audit.SyslogMessage([]byte(`audit: type=1400 audit(1700000000.000:45): apparmor="DENIED" operation="open" profile="/usr/sbin/cupsd" name="/etc/shadow" pid=1234 comm="cupsd" requested_mask="r" denied_mask="r" fsuid=0 ouid=0`), &ev) {
			t.Fatal("not read")
		}
		evs = append(evs, ev)
	}
	as := runEvents(t, evs)
	if len(as) != 1 || as[0].Rule != "host.avc_denial" || as[0].Evidence["count"] != int64(50) || as[0].Evidence["mechanism"] != "AppArmor" {
		t.Fatalf("%+v", as)
	}
}
