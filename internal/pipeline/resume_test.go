package pipeline_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"winnow/internal/detect"
	"winnow/internal/event"
	"winnow/internal/parse"
	"winnow/internal/parse/authlog"
	"winnow/internal/pipeline"
	"winnow/internal/source"
)

// resumeRun runs over paths from starts, checkpointing every `every`
// events; it returns the events seen (as "file:line") and the checkpoints.
func resumeRun(t *testing.T, paths []string, starts []pipeline.Mark, every int64) ([]string, []pipeline.Checkpoint) {
	t.Helper()
	inputs, errs := source.Expand(paths)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	var mu sync.Mutex
	var seen []event.Event
	spec := &detect.Spec{Name: "test.record", Key: detect.KeyHost, Kinds: []event.Kind{event.KindAuth, event.KindSyslog},
		New: func(detect.Params) (detect.Detector, error) { return recorder{&mu, &seen}, nil }}
	p, _ := detect.NewParams(spec, nil)
	formats := &parse.Formats{}
	formats.Add(authlog.Format())
	var cps []pipeline.Checkpoint
	pl, err := pipeline.New(pipeline.Config{Inputs: inputs, Formats: formats, Workers: 1,
		Detectors: []detect.Enabled{{Spec: spec, Params: p}}, Parse: parse.Options{Year: 2026, Location: time.UTC},
		Resume: &pipeline.Resume{Start: starts, Every: every, Checkpoint: func(c pipeline.Checkpoint) error {
			mu.Lock()
			defer mu.Unlock()
			c.Detect = nil
			c.Inputs = append([]pipeline.Mark(nil), c.Inputs...)
			// What the detectors saw so far, for the restart check.
			c.Detect = &detect.Snapshot{Shards: len(seen)}
			cps = append(cps, c)
			return nil
		}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pl.Run(context.Background(), func(event.Alert) {}); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, ev := range seen {
		out = append(out, fmt.Sprintf("%s:%d", filepath.Base(ev.Ref.File), ev.Ref.Line))
	}
	return out, cps
}

// TestResumeFromEveryCheckpoint: two inputs merged by time, with repeats
// and malformed lines; a run restarted from any checkpoint's marks sees
// exactly the events the checkpoint had not seen, with the same line
// numbers.
func TestResumeFromEveryCheckpoint(t *testing.T) {
	dir := t.TempDir()
	var a, b strings.Builder
	for i := 0; i < 300; i++ {
		fmt.Fprintf(&a, "Nov 22 10:%02d:%02d a sshd[1]: Failed password for root from 203.0.113.9 port 22 ssh2\n", i/60, i%60)
		if i%7 == 0 {
			fmt.Fprintf(&b, "Nov 22 10:%02d:%02d b sshd[1]: message repeated 3 times: [ Failed password for root from 203.0.113.9 port 22 ssh2]\n", i/60, i%60)
		}
		if i%11 == 0 {
			b.WriteString("not a syslog line\r\n")
		}
	}
	b.WriteString("Nov 22 11:00:00 b sshd[1]: Failed password for root from 203.0.113.9 port 22 ssh2") // no newline: held
	pa, pb := filepath.Join(dir, "a.log"), filepath.Join(dir, "b.log")
	os.WriteFile(pa, []byte(a.String()), 0o600)
	os.WriteFile(pb, []byte(b.String()), 0o600)
	paths := []string{pa, pb}
	all, cps := resumeRun(t, paths, nil, 25)
	if len(cps) < 10 || !cps[len(cps)-1].Final {
		t.Fatalf("%d checkpoints", len(cps))
	}
	if want := 300 + 43*3; len(all) != want {
		t.Fatalf("%d events, want %d (the unterminated last line is held)", len(all), want)
	}
	last := cps[len(cps)-1].Inputs
	if !last[0].Done || last[0].Offset != int64(a.Len()) || last[1].Offset != int64(strings.LastIndexByte(b.String(), '\n')+1) {
		t.Fatalf("final marks %+v", last)
	}
	for i, cp := range cps {
		seenBefore := cp.Detect.Shards
		rest, _ := resumeRun(t, paths, cp.Inputs, 0)
		if fmt.Sprint(rest) != fmt.Sprint(all[seenBefore:]) {
			t.Fatalf("checkpoint %d (after %d events, marks %+v): resumed run saw %d events, want %d\n got %v\nwant %v",
				i, seenBefore, cp.Inputs, len(rest), len(all)-seenBefore, rest, all[seenBefore:])
		}
	}
	// The writer finishes its last line: the next run reads just it.
	os.WriteFile(pb, []byte(b.String()+"\n"), 0o600)
	rest, _ := resumeRun(t, paths, last, 0)
	if len(rest) != 1 || rest[0] != fmt.Sprintf("b.log:%d", 300/7+1+300/11+1+1) {
		t.Fatalf("after completing the last line: %v", rest)
	}
}
