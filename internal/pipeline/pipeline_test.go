package pipeline_test

import (
	"context"
	"errors"
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

// recorder records the events it sees (one shard, so one instance).
type recorder struct {
	mu  *sync.Mutex
	out *[]event.Event
}

func (r recorder) Observe(ev *event.Event, _ detect.Emit) {
	r.mu.Lock()
	*r.out = append(*r.out, *ev)
	r.mu.Unlock()
}
func (recorder) Advance(time.Time, detect.Emit) {}
func (recorder) Flush(detect.Emit)              {}
func (recorder) Stats() detect.Stats            { return detect.Stats{} }

func run(t *testing.T, ctx context.Context, files map[string]string) (*pipeline.Result, []event.Event, error) {
	t.Helper()
	dir := t.TempDir()
	var args []string
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		args = append(args, p)
	}
	inputs, errs := source.Expand(args)
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
	pl, err := pipeline.New(pipeline.Config{Inputs: inputs, Formats: formats, Workers: 1,
		Detectors: []detect.Enabled{{Spec: spec, Params: p}}, Parse: parse.Options{Year: 2026, Location: time.UTC}})
	if err != nil {
		t.Fatal(err)
	}
	res, err := pl.Run(ctx, func(event.Alert) {})
	return res, seen, err
}

func lines(host string, secs ...int) string {
	var b strings.Builder
	for _, s := range secs {
		fmt.Fprintf(&b, "Nov 22 10:%02d:%02d %s sshd[1]: Failed password for root from 203.0.113.9 port 22 ssh2\n", s/60, s%60, host)
	}
	return b.String()
}

func TestMergeByEventTime(t *testing.T) {
	a := lines("a", 0, 2, 4, 6, 8, 100)
	b := lines("b", 1, 3, 5, 7, 9) + "garbage that is not syslog\n" +
		"Nov 22 10:01:50 b sshd[1]: message repeated 3 times: [ Failed password for root from 203.0.113.9 port 22 ssh2]\n"
	res, seen, err := run(t, context.Background(), map[string]string{"a.log": a, "b.log": b})
	if err != nil {
		t.Fatal(err)
	}
	if len(seen) != 6+5+3 {
		t.Fatalf("saw %d events, want 14", len(seen))
	}
	for i := 1; i < len(seen); i++ {
		if seen[i].Time.Before(seen[i-1].Time) {
			t.Fatalf("event %d at %v after %v: not merged by time", i, seen[i].Time, seen[i-1].Time)
		}
	}
	if res.Lines != 13 || res.Events != 14 || res.Malformed != 1 || res.InputError {
		t.Errorf("result: lines %d events %d malformed %d inputErr %v", res.Lines, res.Events, res.Malformed, res.InputError)
	}
	var sample event.Sample
	for _, in := range res.Inputs {
		if len(in.Samples) > 0 {
			sample = in.Samples[0]
		}
	}
	if !strings.HasSuffix(sample.File, "b.log") || sample.Line != 6 || !strings.Contains(sample.Text, "garbage") {
		t.Errorf("malformed sample = %+v", sample)
	}
	if !res.First.Equal(time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)) || !res.Last.Equal(time.Date(2026, 11, 22, 10, 1, 50, 0, time.UTC)) {
		t.Errorf("range %v – %v", res.First, res.Last)
	}
}

func TestRunCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, _, err := run(t, ctx, map[string]string{"a.log": lines("a", 0, 1, 2)})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}
