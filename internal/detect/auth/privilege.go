package auth

import (
	"fmt"
	"path"
	"strings"
	"time"

	"winnow/internal/detect"
	"winnow/internal/event"
)

// keyedEpisodes is a detector over a user's (or host's) episodes with a
// rule-specific state and judge.
type keyedEpisodes[V any] struct {
	rule  string
	tech  []string
	c     common
	key   detect.Key
	eps   *episodes[V]
	obs   func(ev *event.Event, e *ep[V])
	judge func(key string, e *ep[V]) (event.Alert, bool)
}

func (d *keyedEpisodes[V]) Observe(ev *event.Event, emit detect.Emit) {
	k, ok := detect.KeyValue(d.key, ev)
	if !ok {
		return
	}
	if e := d.eps.touchString(k, ev.Time, emit); e != nil {
		d.obs(ev, e)
	}
}

func (d *keyedEpisodes[V]) end(key string, e *ep[V], emit detect.Emit) {
	if a, ok := d.judge(key, e); ok {
		emit(a)
	}
}

func (d *keyedEpisodes[V]) Advance(t time.Time, emit detect.Emit) { d.eps.advance(t, emit) }

// Probe reports open episodes whose evidence is complete (live runs).
func (d *keyedEpisodes[V]) Probe(emit detect.Emit) {
	if d.eps.peek == nil {
		d.eps.peek = d.judge
	}
	d.eps.probe(emit)
}
func (d *keyedEpisodes[V]) Flush(emit detect.Emit) { d.eps.flush(emit) }
func (d *keyedEpisodes[V]) Stats() detect.Stats    { return d.eps.stats() }

func keyedSpec[V any](name, summary string, key detect.Key, kinds []event.Kind, actions []event.Action, tech []string,
	gap detect.Param, extra []detect.Param, build func(d *keyedEpisodes[V], p detect.Params) error) detect.Spec {
	return detect.Spec{
		Name: name, Summary: summary, Key: key, Kinds: kinds, Actions: actions, Techniques: tech,
		Params: append([]detect.Param{gap, paramMaxEntities, paramSamples}, extra...),
		New: func(p detect.Params) (detect.Detector, error) {
			c, err := readCommon(p)
			if err != nil {
				return nil, err
			}
			d := &keyedEpisodes[V]{rule: name, tech: tech, c: c, key: key}
			d.eps = newEpisodes(c, d.end)
			if err := build(d, p); err != nil {
				return nil, err
			}
			return d, nil
		},
	}
}

// ---- auth.sudo_sensitive ----

type sudoClass uint8

const (
	sudoPlain sudoClass = iota
	sudoShell
	sudoConfig
	sudoSensitive
)

var shells = map[string]bool{"sh": true, "bash": true, "dash": true, "zsh": true, "ksh": true, "fish": true,
	"csh": true, "tcsh": true, "su": true, "busybox": true}

// sensitiveMarks are substrings of commands that read credentials, change
// accounts or privileges, weaken defences or open a remote shell.
var sensitiveMarks = []string{
	"/etc/shadow", "/etc/gshadow", "/etc/sudoers", "visudo", "/root/.ssh", "authorized_keys",
	"useradd ", "adduser ", "usermod ", "userdel ", "passwd", "chpasswd",
	"chmod u+s", "chmod +s", "chmod 4755", "chmod 6755", "setcap ",
	"setenforce 0", "iptables -f", "ufw disable", "history -c", "unset histfile", "auditctl -d", "auditctl -e 0",
	"base64 -d", "nc -e", "ncat ", "socat ", "/dev/tcp/", "insmod ", "crontab -r",
	"| sh", "|sh", "| bash", "|bash", "python -c", "python3 -c", "perl -e",
	"/dev/shm/",
}

// configMarks are security configuration an admin edits now and then:
// worth a look (medium), not an alarm.
var configMarks = []string{"/etc/ssh/sshd_config", "/etc/pam.d", "/etc/security/", "/etc/audit/", "crontab -r"}

// classifySudo says whether a sudo COMMAND is a shell, sensitive or plain.
// It runs only on sudo lines (rare), so clarity wins over speed.
func classifySudo(cmd string) (sudoClass, string) {
	lc := strings.ToLower(cmd)
	for _, m := range sensitiveMarks {
		if strings.Contains(lc, m) {
			return sudoSensitive, strings.TrimSpace(m)
		}
	}
	for _, m := range configMarks {
		if strings.Contains(lc, m) {
			return sudoConfig, strings.TrimSpace(m)
		}
	}
	first, _, _ := strings.Cut(strings.TrimSpace(cmd), " ")
	if shells[path.Base(first)] {
		return sudoShell, "shell " + path.Base(first)
	}
	return sudoPlain, ""
}

type sudoState struct {
	cmds  counted[string]
	why   counted[string]
	worst sudoClass
	runas counted[string]
	hosts counted[string]
}

func sudoSensitiveSpec() detect.Spec {
	return keyedSpec("auth.sudo_sensitive",
		"sudo to a shell (low), to security configuration (medium), or to credential files, account tools, defence tampering or download-and-run (high)",
		detect.KeyUser, []event.Kind{event.KindAuth}, []event.Action{event.ActSudoCommand}, []string{"T1548.003"},
		gapParam("30m", "one admin task"), nil,
		func(d *keyedEpisodes[sudoState], _ detect.Params) error {
			d.obs = func(ev *event.Event, e *ep[sudoState]) {
				cls, why := classifySudo(ev.Command)
				if cls == sudoPlain {
					return
				}
				s := &e.v
				s.worst = max(s.worst, cls)
				if s.cmds.Add(ev.Command, 1, 64) {
					e.smp.add(ev, d.c.samples)
				}
				s.why.Add(why, 1, 64)
				s.runas.Add(ev.TargetUser, 1, 16)
				s.hosts.Add(ev.Host, 1, 16)
			}
			d.judge = func(user string, e *ep[sudoState]) (event.Alert, bool) {
				s := &e.v
				if s.worst == sudoPlain {
					return event.Alert{}, false
				}
				a := base(d.rule, d.tech, event.Entity{Type: event.EntityUser, Value: user}, e)
				a.User = user
				a.Severity, a.Score = event.SeverityLow, 0.5
				what := "opened a root shell"
				switch s.worst {
				case sudoSensitive:
					a.Severity, a.Score, what = event.SeverityHigh, 0.8, "ran sensitive commands"
				case sudoConfig:
					a.Severity, a.Score, what = event.SeverityMedium, 0.6, "changed security configuration"
				}
				cmds := names(top(&s.cmds, 10, ident))
				a.Evidence = map[string]any{"commands": cmds, "matched": names(top(&s.why, 10, ident)),
					"run_as": names(top(&s.runas, 5, ident)), "hosts": names(top(&s.hosts, 5, ident))}
				for _, h := range a.Evidence["hosts"].([]string) {
					a.Related = append(a.Related, event.Entity{Type: event.EntityHost, Value: h})
				}
				a.Description = fmt.Sprintf("%s %s with sudo: %s (matched %s)", user, what,
					clipList(cmds, 3), strings.Join(names(top(&s.why, 3, ident)), ", "))
				return a, true
			}
			return nil
		})
}

func clipList(l []string, n int) string {
	if len(l) <= n {
		return strings.Join(l, "; ")
	}
	return strings.Join(l[:n], "; ") + fmt.Sprintf("; and %d more", len(l)-n)
}

// ---- auth.sudo_failure ----

type sudoFailState struct {
	tries, gaveUp, notAllowed, suFails int32
	cmds                               counted[string]
}

func sudoFailureSpec() detect.Spec {
	return keyedSpec("auth.sudo_failure",
		"a user is refused by sudo (not in sudoers: medium) or fails sudo/su passwords repeatedly",
		detect.KeyUser, []event.Kind{event.KindAuth},
		[]event.Action{event.ActSudoFailure, event.ActSudoNotAllowed, event.ActSuFailure}, []string{"T1548.003"},
		gapParam("30m", "one attempt at privilege"),
		[]detect.Param{{Name: "min_failures", Default: "3", Doc: "wrong sudo/su passwords per episode; sudo itself gives up after 3"}},
		func(d *keyedEpisodes[sudoFailState], p detect.Params) error {
			v, err := positive(p, "min_failures")
			if err != nil {
				return err
			}
			th := v[0]
			d.obs = func(ev *event.Event, e *ep[sudoFailState]) {
				s := &e.v
				switch {
				case ev.Action == event.ActSudoNotAllowed:
					s.notAllowed++
				case ev.Action == event.ActSuFailure:
					s.suFails++
				case ev.Command != "":
					s.gaveUp++
				default:
					s.tries++
				}
				if ev.Command != "" {
					s.cmds.Add(ev.Command, 1, 32)
				}
				e.smp.add(ev, d.c.samples)
			}
			d.judge = func(user string, e *ep[sudoFailState]) (event.Alert, bool) {
				s := &e.v
				// A give-up line stands for the tries it ended when PAM did not log them.
				fails := int(max(s.tries, 3*s.gaveUp) + s.suFails)
				if s.notAllowed == 0 && fails < th {
					return event.Alert{}, false
				}
				a := base(d.rule, d.tech, event.Entity{Type: event.EntityUser, Value: user}, e)
				a.User = user
				a.Severity, a.Score = event.SeverityLow, strength(float64(fails), float64(th))
				a.Description = fmt.Sprintf("%s failed %d sudo/su password attempts in %s (threshold %d)", user, fails, span(e), th)
				if fails >= 10*th {
					a.Severity = event.SeverityMedium
				}
				if s.notAllowed > 0 {
					a.Severity, a.Score = event.SeverityMedium, 0.8
					a.Description = fmt.Sprintf("%s is not allowed to use sudo and tried %s", user, plural(int(s.notAllowed), "time", "times"))
				}
				a.Evidence = map[string]any{"password_failures": fails, "not_allowed": s.notAllowed, "su_failures": s.suFails,
					"min_failures": th, "commands": names(top(&s.cmds, 5, ident))}
				return a, true
			}
			return nil
		})
}
