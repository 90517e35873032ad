package detecttest

import (
	"context"
	"testing"
	"time"

	"winnow/internal/event"
	"winnow/internal/parse"
	"winnow/internal/pipeline"
	"winnow/internal/source"
)

// ReadEvents parses files (paths or globs) with the given formats, as
// analyze does (sniffed per input, merged by event time), and returns
// their events in merge order. Timestamps without a year get year.
func ReadEvents(t testing.TB, formats *parse.Formats, year int, paths ...string) []event.Event {
	t.Helper()
	inputs, errs := source.Expand(paths)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	var evs []event.Event
	pl, err := pipeline.New(pipeline.Config{Inputs: inputs, Formats: formats, Workers: 1,
		Parse: parse.Options{Year: year, Location: time.UTC},
		Sink:  func(b []event.Event) error { evs = append(evs, b...); return nil }})
	if err != nil {
		t.Fatal(err)
	}
	res, err := pl.Run(context.Background(), func(event.Alert) {})
	if err != nil {
		t.Fatal(err)
	}
	if res.InputError {
		t.Fatalf("input error reading %v", paths)
	}
	return evs
}
