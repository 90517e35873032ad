package auth

import (
	"fmt"
	"strings"

	"winnow/internal/detect"
	"winnow/internal/event"
)

// ---- auth.account_change ----

// privilegedGroups grant root or its equivalent.
var privilegedGroups = map[string]bool{"sudo": true, "wheel": true, "admin": true, "adm": true, "root": true,
	"docker": true, "lxd": true, "disk": true, "shadow": true}

type acctState struct {
	changes    counted[string] // "created user x", "added x to group sudo", ...
	accounts   counted[string]
	privileged bool
	uid0       bool
	created    int32
	deleted    int32
	passwords  int32
	failed     int32
}

// quoted returns the last '…'-quoted word of msg ("add 'eve' to group
// 'sudo'" → "sudo").
func lastQuoted(msg string) string {
	j := strings.LastIndexByte(msg, '\'')
	if j <= 0 {
		return ""
	}
	i := strings.LastIndexAny(msg[:j], "'`")
	if i < 0 {
		return ""
	}
	return msg[i+1 : j]
}

// describeChange renders one account event and reports whether it grants
// privilege.
func describeChange(ev *event.Event) (string, bool) {
	acct := ev.TargetUser
	if acct == "" {
		acct = ev.User
	}
	msg := string(ev.Msg)
	var s string
	priv := false
	switch ev.Action {
	case event.ActUserAdded:
		s = "created user " + acct
		if strings.Contains(msg, "UID=0,") {
			s += " with UID 0"
			priv = true
		}
	case event.ActUserDeleted:
		s = "deleted user " + acct
	case event.ActGroupAdded:
		s = "created group " + acct
	case event.ActPasswordChanged:
		s = "changed the password of " + acct
	case event.ActPasswordAgingChanged:
		s = "changed password expiry of " + acct
	case event.ActUserModified:
		if strings.Contains(msg, " to group ") || strings.Contains(msg, " to shadow group ") {
			g := lastQuoted(msg)
			s = "added " + acct + " to group " + g
			priv = privilegedGroups[g]
		} else {
			s = "modified user " + acct
		}
	default:
		return "", false
	}
	if ev.Outcome == event.OutcomeFailure {
		s = "failed: " + s
		priv = false
	}
	return s, priv
}

func accountChangeSpec() detect.Spec {
	return keyedSpec("auth.account_change",
		"accounts created, deleted, given passwords or added to groups on a host (high when a privileged group or UID 0 is granted)",
		detect.KeyHost, []event.Kind{event.KindAuth},
		[]event.Action{event.ActUserAdded, event.ActUserDeleted, event.ActUserModified, event.ActGroupAdded,
			event.ActPasswordChanged, event.ActPasswordAgingChanged},
		[]string{"T1136.001", "T1098", "T1531"},
		gapParam("10m", "one administrative change"), nil,
		func(d *keyedEpisodes[acctState], _ detect.Params) error {
			d.obs = func(ev *event.Event, e *ep[acctState]) {
				what, priv := describeChange(ev)
				if what == "" {
					return
				}
				s := &e.v
				if s.changes.Add(what, 1, 64) {
					e.smp.add(ev, d.c.samples)
				}
				acct := ev.TargetUser
				if acct == "" {
					acct = ev.User
				}
				s.accounts.Add(acct, 1, 64)
				s.privileged = s.privileged || priv
				s.uid0 = s.uid0 || strings.Contains(what, "UID 0")
				if ev.Outcome == event.OutcomeFailure {
					s.failed++
					return
				}
				switch ev.Action {
				case event.ActUserAdded:
					s.created++
				case event.ActUserDeleted:
					s.deleted++
				case event.ActPasswordChanged:
					s.passwords++
				}
			}
			d.judge = func(host string, e *ep[acctState]) (event.Alert, bool) {
				s := &e.v
				if s.changes.Distinct() == 0 {
					return event.Alert{}, false
				}
				a := base(d.rule, d.tech, event.Entity{Type: event.EntityHost, Value: host}, e)
				a.Severity, a.Score = event.SeverityLow, 0.5
				if s.privileged {
					a.Severity, a.Score = event.SeverityHigh, 0.8
				}
				changes := names(top(&s.changes, 20, ident))
				a.Evidence = map[string]any{"changes": changes, "users_created": s.created, "users_deleted": s.deleted,
					"passwords_changed": s.passwords, "failed": s.failed, "privilege_granted": s.privileged, "uid0": s.uid0}
				for _, acct := range names(top(&s.accounts, 10, ident)) {
					a.Related = append(a.Related, event.Entity{Type: event.EntityUser, Value: acct})
				}
				a.Description = fmt.Sprintf("on %s: %s", host, clipList(changes, 4))
				return a, true
			}
			return nil
		})
}

// ---- auth.service_failures ----

type svcState struct {
	fails int32
	units counted[string]
}

func serviceFailuresSpec() detect.Spec {
	return keyedSpec("auth.service_failures",
		"a burst of systemd unit failures on one host (crash loops, killed services, failed security agents)",
		detect.KeyHost, []event.Kind{event.KindService}, []event.Action{event.ActServiceFailed}, []string{"T1489"},
		gapParam("10m", "a crash loop restarts within seconds to minutes"),
		[]detect.Param{{Name: "min_failures", Default: "5", Doc: "unit failures per episode; a single failure is routine, a burst is not"}},
		func(d *keyedEpisodes[svcState], p detect.Params) error {
			v, err := positive(p, "min_failures")
			if err != nil {
				return err
			}
			th := v[0]
			d.obs = func(ev *event.Event, e *ep[svcState]) {
				e.v.fails++
				if e.v.units.Add(ev.Unit, 1, 64) {
					e.smp.add(ev, d.c.samples)
				}
			}
			d.judge = func(host string, e *ep[svcState]) (event.Alert, bool) {
				s := &e.v
				if int(s.fails) < th {
					return event.Alert{}, false
				}
				a := base(d.rule, d.tech, event.Entity{Type: event.EntityHost, Value: host}, e)
				a.Severity, a.Score = event.SeverityLow, strength(float64(s.fails), float64(th))
				units := top(&s.units, 10, ident)
				a.Evidence = map[string]any{"failures": s.fails, "units": units, "min_failures": th}
				a.Description = fmt.Sprintf("%d service failures on %s in %s (%s; threshold %d)", s.fails, host, span(e),
					clipList(names(units), 3), th)
				return a, true
			}
			return nil
		})
}
