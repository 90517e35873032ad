package report

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"winnow/internal/sink/sinktest"
)

// The text report keeps the latest report of an incident and renders once,
// at Close.
func TestSink(t *testing.T) {
	var buf bytes.Buffer
	s := NewSink(&buf, TextOptions{})
	f := sinktest.Finding("a")
	_ = s.Write(f)
	f2 := sinktest.Finding("a")
	f2.Alert.Description = "made 99 failed logins"
	_ = s.Write(f2)
	if buf.Len() != 0 {
		t.Fatal("text report written before Close")
	}
	if err := s.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if !strings.Contains(out, "203.0.113.7") || !strings.Contains(out, "made 99 failed logins") || strings.Contains(out, "made 42") {
		t.Fatalf("report:\n%s", out)
	}
	if err := s.Write(f); err == nil {
		t.Fatal("Write after Close accepted")
	}
}
