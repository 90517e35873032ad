package jsonl

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"winnow/internal/sink"
	"winnow/internal/sink/sinktest"
)

func ids(t *testing.T, b []byte) []string {
	t.Helper()
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		var d struct {
			Winnow struct {
				Incident struct{ ID string } `json:"incident"`
			} `json:"winnow"`
		}
		if err := json.Unmarshal(sc.Bytes(), &d); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		out = append(out, d.Winnow.Incident.ID)
	}
	return out
}

func TestConformanceFile(t *testing.T) {
	sinktest.Run(t, func(t *testing.T) (sink.Sink, func() []string) {
		path := filepath.Join(t.TempDir(), "findings.jsonl")
		s, err := Open(path, Options{Sync: true})
		if err != nil {
			t.Fatal(err)
		}
		return s, func() []string {
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			return ids(t, b)
		}
	})
}

func TestConformanceWriter(t *testing.T) {
	sinktest.Run(t, func(t *testing.T) (sink.Sink, func() []string) {
		var buf bytes.Buffer
		return New("buffer", &buf, Options{}), func() []string { return ids(t, buf.Bytes()) }
	})
}

// A finding is on disk when Write returns: a live consumer (tail -f) sees
// it without waiting for a Flush.
func TestWriteIsImmediate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f.jsonl")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(context.Background())
	if err := s.Write(sinktest.Finding("x")); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	var d map[string]any
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("file after Write: %q: %v", b, err)
	}
	if d["rule"].(map[string]any)["name"] != "auth.brute_force" {
		t.Fatalf("rule.name = %v", d["rule"])
	}
	inc := d["winnow"].(map[string]any)["incident"].(map[string]any)
	if inc["id"] != "x" || inc["open"] != true || inc["update"] != 1.0 {
		t.Fatalf("winnow.incident = %v", inc)
	}
}

func TestMinSeverity(t *testing.T) {
	var buf bytes.Buffer
	s := New("b", &buf, Options{MinSeverity: 99})
	if err := s.Write(sinktest.Finding("x")); err != nil {
		t.Fatal(err)
	}
	if buf.Len() != 0 {
		t.Fatalf("a high finding passed min severity critical: %s", buf.Bytes())
	}
}
