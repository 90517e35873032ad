package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"

	"winnow/internal/event"
	"winnow/internal/parse"
	"winnow/internal/source"
)

// Binary inputs (packet captures) take a separate path: the input is
// opened as a byte stream (source.OpenRaw), its first bytes (after gzip
// decompression) are offered to the binary formats' Magic before anything
// looks at it as text, and a match is decoded by the format's Decoder
// straight into the same batches and merge as line inputs. Inputs that
// match no magic go on to the line path unchanged (a file is simply
// reopened; stdin is replayed from what was read).

// sniffBinary decides whether in is a binary input. It returns the run
// ready to decode (r.decode set) when it is; otherwise stdin is what the
// line path must read for "-" (the replay of what sniffing consumed).
//
// A named pipe or device cannot be reopened either: for one, from is the
// replay of everything sniffing took followed by the rest of the pipe, and
// the line path must read it instead of opening the path again.
func (p *Pipeline) sniffBinary(r *inputRun, in source.Input) (binary bool, stdin, from io.Reader) {
	stdin = p.cfg.Stdin
	if !p.cfg.Formats.HasBinary() {
		return false, stdin, nil
	}
	var forced parse.Format
	if p.cfg.InputFormat != "" {
		fm, _ := p.cfg.Formats.Get(p.cfg.InputFormat)
		if !fm.Binary() {
			return false, stdin, nil
		}
		forced = fm
	}
	raw, replay, err := source.OpenRaw(in, p.cfg.Stdin)
	if err != nil {
		r.stats.Err = err
		return true, nil, nil
	}
	if replay != nil {
		if in.Name == source.StdinName {
			stdin = replay
		} else {
			from = replay
		}
	}
	if raw == nil {
		return false, stdin, from
	}
	fm, ok := forced, forced.Decode != nil
	if !ok {
		fm, ok = p.cfg.Formats.DetectBinary(raw.Head())
	}
	if !ok {
		if from == nil { // a pipe's file lives on in from
			raw.Close()
		}
		return false, stdin, from
	}
	r.raw = raw
	r.decode = fm.Decode
	r.stats.Format = fm.Name
	return true, stdin, nil
}

// readBinary decodes a binary input into batches on st.out.
func (r *inputRun) readBinary(ctx context.Context, st *stream, o parse.Options) {
	defer close(st.out)
	defer r.done.Store(true)
	defer r.raw.Close()
	batch := st.get()
	errStop := errors.New("stopped")
	emit := func(ev *event.Event) error {
		if r.skip > 0 { // taken by an earlier run (Resume)
			r.skip--
			return nil
		}
		ev.Sensor = r.sensor()
		batch = append(batch, *ev)
		if len(batch) >= batchSize {
			if !send(ctx, st.out, batch) {
				return errStop
			}
			batch = st.get()
		}
		return nil
	}
	ds, err := r.decode(r.raw.Stream(), r.in.Name, o, emit)
	if ds.Lines {
		r.stats.Lines = ds.Records // a text stream decoded as a whole (audit logs)
	} else {
		r.stats.Records = ds.Records
	}
	r.stats.Events = ds.Events
	r.stats.Malformed = ds.Malformed
	r.stats.Skipped = ds.Skipped
	r.stats.Detail = ds.Detail
	for _, s := range ds.Samples {
		if len(r.stats.Samples) < r.samples {
			r.stats.Samples = append(r.stats.Samples, s)
		}
	}
	switch {
	case errors.Is(err, errStop):
		return
	case r.raw.DecompressErr() != nil:
		r.stats.Err = fmt.Errorf("%s: corrupt or truncated gzip stream after record %d: %w", r.in.Name, ds.Records, r.raw.DecompressErr())
	case err != nil:
		r.stats.Err = fmt.Errorf("%s: %w", r.in.Name, err)
	}
	if len(batch) > 0 {
		send(ctx, st.out, batch)
	}
}

// DetailNames returns the keys of a Detail map, sorted (for reports).
func DetailNames(d map[string]int64) []string {
	out := make([]string, 0, len(d))
	for k := range d {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
