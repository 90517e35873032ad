package correlate

import (
	"context"
	"testing"

	"winnow/internal/event"
	"winnow/internal/sink"
)

type collect struct{ got []sink.Finding }

func (c *collect) Name() string                { return "collect" }
func (c *collect) Write(f *sink.Finding) error { c.got = append(c.got, *f); return nil }
func (c *collect) Flush(context.Context) error { return nil }
func (c *collect) Close(context.Context) error { return nil }

// TestReporter: findings of two rules about one entity, and a provisional
// report superseded by its final one, are reports of one incident with
// the same stable ID and rising updates; another entity is another
// incident.
func TestReporter(t *testing.T) {
	out := &collect{}
	r := NewReporter(out, Config{})
	ip := ipEnt("203.0.113.7")
	r.Emit(event.Alert{Rule: "auth.brute_force", Entity: ip, Severity: 47, Score: 0.5, Start: at(0), End: at(5), Open: true})
	r.Emit(event.Alert{Rule: "auth.brute_force", Entity: ip, Severity: 47, Score: 0.6, Start: at(0), End: at(10)})
	r.Emit(event.Alert{Rule: "auth.success_after_failures", Entity: ip, Severity: 99, Score: 1, Start: at(9), End: at(11)})
	r.Emit(event.Alert{Rule: "web.scanner", Entity: ipEnt("198.51.100.9"), Severity: 47, Score: 0.5, Start: at(0), End: at(1)})
	g := out.got
	if len(g) != 4 || g[0].Incident == "" || g[1].Incident != g[0].Incident || g[2].Incident != g[0].Incident || g[3].Incident == g[0].Incident {
		t.Fatalf("reports %+v", g)
	}
	if g[0].Update != 0 || g[1].Update != 1 || g[2].Update != 2 || !g[0].Open || g[1].Open || g[2].Risk <= g[1].Risk {
		t.Errorf("updates %d %d %d open %v risk %v %v", g[0].Update, g[1].Update, g[2].Update, g[0].Open, g[1].Risk, g[2].Risk)
	}
	if open, _ := r.OpenCount(); open != 2 {
		t.Errorf("open %d", open)
	}
	snap := r.Snapshot()
	if len(snap) != 2 || snap[0].Count != 2 || snap[0].Severity != 99 {
		t.Errorf("snapshot %+v", snap)
	}
}
