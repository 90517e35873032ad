package report

import (
	"fmt"
	"net/netip"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"winnow/internal/correlate"
	"winnow/internal/event"
)

var t0 = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)

type kv struct {
	Key   string `json:"name"`
	Count int32  `json:"count"`
}

type example struct {
	Class    string `json:"class"`
	Fragment string `json:"fragment"`
}

func alerts() []event.Alert {
	ip := netip.MustParseAddr("203.0.113.7")
	var out []event.Alert
	out = append(out, event.Alert{
		Rule: "auth.brute_force", Severity: 73, Score: 0.9, Entity: event.Entity{Type: event.EntityIP, Value: ip.String()}, SourceIP: ip,
		Start: t0, End: t0.Add(10 * time.Minute),
		Description: "203.0.113.7 made 316 failed login attempts in 10m against root and 1 invalid name \x1b[2J\x1b]8;;http://evil\x07click\x1b]8;;\x07 (threshold 20)",
		Evidence: map[string]any{
			"top_accounts": []kv{{"root", 153}, {"admin\x1b[1A\x1b[2K", 2}},
			"classes":      map[string]int{"command": 3, "sql": 2},
			"examples":     []map[string]any{{"class": "command", "fragment": "uname -a"}},
			"typed":        []example{{"sql", "' or 1=1"}},
			"hosts":        []string{"web-01"},
			"ratio":        0.123456,
			"long_list":    []string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j"},
		},
		Samples: []event.Sample{{File: "/var/log/auth.log", Line: 7, Text: "Nov 22 10:00:00 web-01 sshd[1]: Invalid user \x1b]0;pwned\x07bob from 203.0.113.7 " + strings.Repeat("x", 300)}},
	})
	for i := 0; i < 30; i++ {
		out = append(out, event.Alert{Rule: "web.scanner", Severity: 47, Score: 0.5,
			Entity: event.Entity{Type: event.EntityIP, Value: fmt.Sprintf("198.51.100.%d", i)},
			Start:  t0.Add(time.Duration(i) * time.Minute), End: t0.Add(time.Duration(i+1) * time.Minute),
			Description: "asked the site for " + strings.Repeat("many ", 40) + "paths"})
	}
	out = append(out, event.Alert{Rule: "web.rare_user_agent", Severity: 21, Score: 0.5,
		Entity: event.Entity{Type: event.EntityIP, Value: "192.0.2.200"}, Start: t0, End: t0, Description: "rare agent"})
	out = append(out, event.Alert{Rule: "series.http_status_mix_by_site", Severity: 21, Score: 1,
		Entity: event.Entity{Type: event.EntityDomain, Value: "-"}, Start: t0, End: t0, Description: "status mix"})
	return out
}

func render(t *testing.T, o TextOptions) string {
	t.Helper()
	var b strings.Builder
	if err := Text(&b, correlate.Build(alerts(), correlate.Config{}).Snapshot(), o); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

var goSyntax = regexp.MustCompile(`map\[|\[\{|\{[a-z]+ [0-9]|&\{|\[\]string`)

func TestTextNoGoSyntaxWrappedEscaped(t *testing.T) {
	for _, width := range []int{60, 80, 132} {
		out := render(t, TextOptions{Width: width, MinSeverity: event.SeverityMedium, Top: 10, Samples: 3, Findings: true})
		if m := goSyntax.FindString(out); m != "" {
			t.Errorf("width %d: Go syntax %q in:\n%s", width, m, out)
		}
		if strings.ContainsAny(out, "\x1b\x07") {
			t.Errorf("width %d: raw ESC/BEL from the log reach the terminal:\n%q", width, out)
		}
		for _, l := range strings.Split(out, "\n") {
			if n := utf8.RuneCountInString(l); n > width {
				t.Errorf("width %d: line of %d columns: %q", width, n, l)
			}
		}
		for _, want := range []string{`\x1b[2J`, "root (153)", "command 3, sql 2", "uname -a", "21 more incidents not listed", "21 web.scanner"} {
			if !strings.Contains(out, want) {
				t.Errorf("width %d: %q missing from:\n%s", width, want, out)
			}
		}
	}
}

func TestTextListAndDetail(t *testing.T) {
	out := render(t, TextOptions{Width: 100, MinSeverity: event.SeverityMedium, Top: 5, Detail: 2})
	lines := strings.Split(out, "\n")
	if !strings.HasPrefix(lines[0], "31 incidents (1 high, 30 medium)") || !strings.Contains(out, "2 weaker incidents hidden") {
		t.Errorf("header: %q", lines[0])
	}
	first := ""
	for _, l := range lines {
		if strings.HasPrefix(l, "  1 ") {
			first = l
			break
		}
	}
	if !strings.Contains(first, "HIGH") || !strings.Contains(first, "ip 203.0.113.7") || !strings.Contains(first, "  made 316 failed") {
		t.Errorf("first listed incident: %q", first)
	}
	if n := strings.Count(out, "\n#"); n != 2 {
		t.Errorf("%d incidents in detail, want 2", n)
	}
	if len(lines) > 50 {
		t.Errorf("%d lines: does not fit a screen", len(lines))
	}
	// low shows the weak ones; the unnamed site is named as a user would
	low := render(t, TextOptions{Width: 100, MinSeverity: event.SeverityLow, Top: 0, Detail: -1})
	if !strings.Contains(low, "site (unnamed)") || strings.Contains(low, "domain -") {
		t.Errorf("unnamed site:\n%s", low)
	}
}

func TestColourOnlyWhenAsked(t *testing.T) {
	if out := render(t, TextOptions{Width: 100, MinSeverity: event.SeverityMedium}); strings.Contains(out, "\x1b[") {
		t.Error("colour codes without Color")
	}
	if out := render(t, TextOptions{Width: 100, MinSeverity: event.SeverityMedium, Color: true}); !strings.Contains(out, "\x1b[1;31m") {
		t.Error("no colour with Color")
	}
}

func TestWrap(t *testing.T) {
	f := func(text string, w int, want ...string) {
		t.Helper()
		got := wrap(text, w, "> ", "  ")
		if strings.Join(got, "|") != strings.Join(want, "|") {
			t.Errorf("wrap(%q, %d) = %q, want %q", text, w, got, want)
		}
	}
	f("one two three", 20, "> one two three")
	f("one two three", 9, "> one two", "  three")
	f("abcdefghijkl", 6, "> abcd", "  efgh", "  ijkl")
	f("", 10, "> ")
}

func TestHuman(t *testing.T) {
	f := func(v any, want string) {
		t.Helper()
		if got := Human(v); got != want {
			t.Errorf("Human(%#v) = %q, want %q", v, got, want)
		}
	}
	f(3, "3")
	f(0.5, "0.5")
	f(2.0, "2")
	f(true, "yes")
	f([]string{"a", "b"}, "a, b")
	f(map[string]int{"b": 2, "a": 1}, "a 1, b 2")
	f([]kv{{"root", 3}}, "root (3)")
	f("bell\x07", `bell\x07`)
	f(90*time.Minute, "1h30m0s")
}
