package report

import (
	"bytes"
	"strings"
	"testing"

	"winnow/internal/sink"
	"winnow/internal/sink/sinktest"
)

func TestLinesConformance(t *testing.T) {
	sinktest.Run(t, func(t *testing.T) (sink.Sink, func() []string) {
		var buf bytes.Buffer
		return NewLines(&buf, false, 0), func() []string {
			var out []string
			for _, l := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
				if l != "" {
					out = append(out, l)
				}
			}
			ids := make([]string, len(out))
			for i, l := range out {
				_, rest, _ := strings.Cut(l, " #")
				ids[i], _, _ = strings.Cut(rest, " ")
			}
			return ids
		}
	})
}

func TestLinesEscapes(t *testing.T) {
	var buf bytes.Buffer
	s := NewLines(&buf, false, 0)
	f := sinktest.Finding("x")
	f.Alert.Entity.Value = "evil\x1b[2J"
	_ = s.Write(f)
	out := buf.String()
	if strings.Count(out, "\n") != 1 || strings.Contains(out, "\x1b") {
		t.Fatalf("not one escaped line: %q", out)
	}
	if !strings.Contains(out, "auth.brute_force  ip evil") || !strings.Contains(out, "  update 1 #x  ") {
		t.Fatalf("line %q", out)
	}
}
