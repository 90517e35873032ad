// Package report renders ranked findings for people: an aligned terminal
// report (coloured on a terminal, plain when piped) and the run summary.
package report

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"winnow/internal/correlate"
	"winnow/internal/event"
)

// TextOptions control the terminal report.
type TextOptions struct {
	Color       bool
	Top         int // entities shown; 0 = all
	MinSeverity int // findings below are hidden
	Samples     int // evidence lines shown per finding; 0 = all kept
	Width       int // wrap/cut width for sample lines (default 160)
}

const (
	ansiReset = "\x1b[0m"
	ansiBold  = "\x1b[1m"
	ansiDim   = "\x1b[2m"
)

func sevColor(sev int) string {
	switch {
	case sev >= event.SeverityCritical:
		return "\x1b[1;97;41m"
	case sev >= event.SeverityHigh:
		return "\x1b[1;31m"
	case sev >= event.SeverityMedium:
		return "\x1b[33m"
	case sev >= event.SeverityLow:
		return "\x1b[36m"
	}
	return ansiDim
}

type painter struct{ on bool }

func (p painter) c(code, s string) string {
	if !p.on {
		return s
	}
	return code + s + ansiReset
}

// Text writes the ranked report.
func Text(w io.Writer, ranked []correlate.EntityRisk, o TextOptions) error {
	if o.Width <= 0 {
		o.Width = 160
	}
	p := painter{on: o.Color}
	shown, hidden := 0, 0
	var b strings.Builder
	for i := range ranked {
		er := &ranked[i]
		if er.Severity < o.MinSeverity {
			hidden++
			continue
		}
		if o.Top > 0 && shown >= o.Top {
			hidden++
			continue
		}
		shown++
		writeEntity(&b, p, i+1, er, o)
	}
	if shown == 0 {
		b.WriteString("No findings at or above the minimum severity.\n")
	}
	if hidden > 0 {
		fmt.Fprintf(&b, "… %d more entities not shown (see --top and --min-severity).\n", hidden)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func writeEntity(b *strings.Builder, p painter, rank int, er *correlate.EntityRisk, o TextOptions) {
	sev := strings.ToUpper(event.SeverityName(er.Severity))
	fmt.Fprintf(b, "%s %s  %s  risk %.2f  %d finding%s  %s\n",
		p.c(ansiBold, fmt.Sprintf("#%-3d", rank)),
		p.c(sevColor(er.Severity), fmt.Sprintf("%-8s", sev)),
		p.c(ansiBold, er.Entity.Type.String()+" "+er.Entity.Value),
		er.Risk, len(er.Findings), plural(len(er.Findings)), timeRange(er.Start, er.End))
	if len(er.Linked) > 0 {
		names := make([]string, len(er.Linked))
		for i, l := range er.Linked {
			names[i] = l.String()
		}
		fmt.Fprintf(b, "      linked: %s\n", strings.Join(names, ", "))
	}
	for j := range er.Findings {
		f := &er.Findings[j]
		if f.Severity < o.MinSeverity {
			continue
		}
		writeFinding(b, p, f, o)
	}
	b.WriteByte('\n')
}

func writeFinding(b *strings.Builder, p painter, f *event.Alert, o TextOptions) {
	fmt.Fprintf(b, "      %s %-36s %s\n",
		p.c(sevColor(f.Severity), fmt.Sprintf("%-8s", event.SeverityName(f.Severity))),
		f.Rule, f.Description)
	meta := fmt.Sprintf("score %.2f · %s", f.Score, timeRange(f.Start, f.End))
	if len(f.Techniques) > 0 {
		meta += " · ATT&CK " + strings.Join(f.Techniques, ", ")
	}
	fmt.Fprintf(b, "               %s\n", p.c(ansiDim, meta))
	if ev := formatEvidence(f.Evidence); ev != "" {
		fmt.Fprintf(b, "               %s\n", ev)
	}
	n := len(f.Samples)
	if o.Samples > 0 && n > o.Samples {
		n = o.Samples
	}
	for _, s := range f.Samples[:n] {
		line := fmt.Sprintf("%s:%d  %s", s.File, s.Line, s.Text)
		if len(line) > o.Width {
			line = line[:o.Width-1] + "…"
		}
		fmt.Fprintf(b, "               %s\n", p.c(ansiDim, line))
	}
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func timeRange(a, b time.Time) string {
	const layout = "2006-01-02 15:04:05"
	if a.IsZero() {
		return ""
	}
	if a.Equal(b) || b.IsZero() {
		return a.Format(layout)
	}
	if a.Year() == b.Year() && a.YearDay() == b.YearDay() {
		return a.Format(layout) + " → " + b.Format("15:04:05")
	}
	return a.Format(layout) + " → " + b.Format(layout)
}

// formatEvidence renders evidence as sorted key=value pairs.
func formatEvidence(ev map[string]any) string {
	if len(ev) == 0 {
		return ""
	}
	keys := make([]string, 0, len(ev))
	for k := range ev {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, k+"="+formatValue(ev[k]))
	}
	return strings.Join(parts, " ")
}

func formatValue(v any) string {
	switch x := v.(type) {
	case float64:
		return fmt.Sprintf("%.4g", x)
	case float32:
		return fmt.Sprintf("%.4g", x)
	case time.Time:
		return x.Format(time.RFC3339)
	case time.Duration:
		return x.String()
	case []string:
		if len(x) > 8 {
			return strings.Join(x[:8], ",") + fmt.Sprintf(",…(+%d)", len(x)-8)
		}
		return strings.Join(x, ",")
	}
	return fmt.Sprint(v)
}
