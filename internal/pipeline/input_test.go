package pipeline_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"winnow/internal/detect"
	"winnow/internal/event"
	"winnow/internal/parse"
	"winnow/internal/parse/access"
	"winnow/internal/parse/authlog"
	"winnow/internal/pipeline"
	"winnow/internal/source"
)

// runInputs runs the auth and access formats over inputs and returns the
// result, the events seen and the pipeline (for Progress).
func runInputs(t *testing.T, inputs []source.Input, force string) (*pipeline.Result, []event.Event, *pipeline.Pipeline) {
	t.Helper()
	return runYear(t, inputs, force, 2026)
}

// runYear is runInputs with a --year (0: inferred).
func runYear(t *testing.T, inputs []source.Input, force string, year int) (*pipeline.Result, []event.Event, *pipeline.Pipeline) {
	t.Helper()
	var mu sync.Mutex
	var seen []event.Event
	spec := &detect.Spec{Name: "test.record", Key: detect.KeyHost, Kinds: []event.Kind{event.KindAuth, event.KindSyslog, event.KindHTTP},
		New: func(detect.Params) (detect.Detector, error) { return recorder{&mu, &seen}, nil }}
	p, _ := detect.NewParams(spec, nil)
	formats := &parse.Formats{}
	formats.Add(authlog.Format())
	formats.Add(access.Format())
	pl, err := pipeline.New(pipeline.Config{Inputs: inputs, Formats: formats, Workers: 1, InputFormat: force,
		Detectors: []detect.Enabled{{Spec: spec, Params: p}}, Parse: parse.Options{Year: year, Location: time.UTC}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	res, err := pl.Run(ctx, func(event.Alert) {})
	if err != nil {
		t.Fatal(err)
	}
	return res, seen, pl
}

func writeInput(t *testing.T, dir, name string, body []byte) source.Input {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, body, 0o644); err != nil {
		t.Fatal(err)
	}
	ins, errs := source.Expand([]string{p})
	if len(errs) > 0 || len(ins) != 1 {
		t.Fatal(errs)
	}
	return ins[0]
}

// Issue 10 item 22: a junk prefix (over-long lines, NULs, invalid UTF-8)
// must not hide the log behind it; the junk is skipped and counted. A
// real binary file is still skipped.
func TestJunkPrefixDoesNotHideTheLog(t *testing.T) {
	attack := lines("victim", 10, 11, 12, 13, 14)
	rng := rand.New(rand.NewPCG(1, 2))
	random := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.UintN(256))
			if b[i] == '\n' || b[i] == '\r' {
				b[i] = 0
			}
		}
		return b
	}
	prefixes := map[string][]byte{
		"over-long lines": bytes.Repeat(append(bytes.Repeat([]byte("A"), 2<<20), '\n'), 33),
		"NUL lines":       bytes.Repeat([]byte("\x00\x00\x00\x00 junk \x00\x00\n"), 40),
		"invalid UTF-8":   bytes.Repeat([]byte("\xff\xfe\xfd\xfc\xfb\xfa\xf9\xf8\xf7\n"), 40),
		"random binary":   bytes.Join([][]byte{random(3000), random(5000), random(100000)}, []byte("\n")),
	}
	for name, prefix := range prefixes {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			in := writeInput(t, dir, "auth.log", append(append(prefix, '\n'), attack...))
			res, seen, _ := runInputs(t, []source.Input{in}, "")
			st := res.Inputs[0]
			if st.Err != nil || res.InputError {
				t.Fatalf("input failed: %v", st.Err)
			}
			if len(seen) != 5 || st.Format != "syslog" {
				t.Fatalf("format %q, %d events, want syslog and the 5 hidden behind the junk", st.Format, len(seen))
			}
			if name != "over-long lines" && st.Junk == 0 {
				t.Errorf("junk not counted: %+v", st)
			}
		})
	}

	// A real binary file is skipped: an error when named, a note when
	// found in a directory.
	dir := t.TempDir()
	elf := append([]byte("\x7fELF\x02\x01\x01\x00"), random(20000)...)
	named := writeInput(t, dir, "prog", elf)
	res, _, _ := runInputs(t, []source.Input{named}, "")
	if err := res.Inputs[0].Err; err == nil || !errors.Is(err, pipeline.ErrNotLog) || !strings.Contains(err.Error(), "ELF") {
		t.Errorf("named ELF: err %v", err)
	}
	bin := writeInput(t, dir, "noise.bin", random(200000))
	res, _, _ = runInputs(t, []source.Input{bin}, "")
	if err := res.Inputs[0].Err; err == nil || !strings.Contains(err.Error(), "binary data") {
		t.Errorf("named random binary: err %v", err)
	}
}

// Issue 10 item 14: files found in a directory that are not logs winnow
// reads (dpkg.log, apt's history.log, a binary wtmp) are skipped with a
// note, not an error; the same files named explicitly are errors.
func TestDirectoryOfUnknownFormatsIsNotAnError(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"auth.log":        lines("h", 1, 2, 3),
		"dpkg.log":        strings.Repeat("2026-11-22 10:00:00 status installed libc6:amd64 2.36-9\n", 40),
		"apt/history.log": "\nStart-Date: 2026-11-22  10:00:00\nCommandline: apt-get upgrade\nUpgrade: libc6:amd64 (2.36-8, 2.36-9)\nEnd-Date: 2026-11-22  10:00:05\n",
		"wtmp":            string(bytes.Repeat([]byte{7, 0, 0, 0, 0x4a, 0x02, 0, 0, 't', 't', 'y', '1', 0, 0, 0, 0}, 300)),
	}
	for name, body := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ins, errs := source.Expand([]string{dir})
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	res, seen, pl := runInputs(t, ins, "")
	if res.InputError {
		t.Fatalf("input error for a directory with unknown formats: %+v", res.Inputs)
	}
	if len(seen) != 3 {
		t.Errorf("%d events, want 3", len(seen))
	}
	notes := 0
	for _, in := range res.Inputs {
		if in.Note != "" {
			notes++
			if !strings.Contains(in.Note, "skipped") {
				t.Errorf("note %q does not say skipped", in.Note)
			}
		}
	}
	if notes != 3 {
		t.Errorf("%d notes, want 3: %+v", notes, res.Inputs)
	}
	// The progress bar ends at 100 % though three inputs were skipped.
	if done, total := pl.Progress(); done != total || total == 0 {
		t.Errorf("progress %d of %d after the run", done, total)
	}

	named, _ := source.Expand([]string{filepath.Join(dir, "dpkg.log")})
	res, _, _ = runInputs(t, named, "")
	if !res.InputError || !errors.Is(res.Inputs[0].Err, pipeline.ErrNotLog) {
		t.Errorf("named dpkg.log: %+v", res.Inputs[0])
	}
}

// Issue 10 item 5: an input whose every line is malformed (wrong
// --input-format) failed.
func TestAllMalformedIsAFailure(t *testing.T) {
	in := writeInput(t, t.TempDir(), "auth.log", []byte(lines("h", 1, 2, 3, 4, 5, 6, 7, 8, 9, 10)))
	res, _, _ := runInputs(t, []source.Input{in}, "access")
	err := res.Inputs[0].Err
	if !res.InputError || err == nil || !strings.Contains(err.Error(), "10 of 10 lines") || !strings.Contains(err.Error(), "--input-format") {
		t.Fatalf("forced wrong format: inputErr %v, err %v", res.InputError, err)
	}
	// A few malformed lines among good ones are not a failure.
	body := lines("h", 1, 2, 3, 4, 5, 6, 7, 8, 9, 10) + "garbage\n"
	in = writeInput(t, t.TempDir(), "auth.log", []byte(body))
	res, _, _ = runInputs(t, []source.Input{in}, "")
	if res.InputError || res.Malformed != 1 {
		t.Fatalf("one malformed line: %+v", res.Inputs[0])
	}
}

// Issue 10 item 23: lines up to 1 MiB are whole; a longer sshd line keeps
// its "from ADDR" tail.
func TestLongLinesKeepTheirTail(t *testing.T) {
	user := strings.Repeat("u", 200<<10) // 200 KiB: under the limit
	huge := strings.Repeat("x", 3<<20)   // 3 MiB: cut
	body := fmt.Sprintf("Nov 22 10:00:00 h sshd[1]: Failed password for invalid user %s from 198.51.100.7 port 22 ssh2\n", user) +
		fmt.Sprintf("Nov 22 10:00:01 h sshd[1]: Failed password for invalid user %s from 198.51.100.8 port 22 ssh2\n", huge) +
		lines("h", 2, 3)
	in := writeInput(t, t.TempDir(), "auth.log", []byte(body))
	res, seen, _ := runInputs(t, []source.Input{in}, "")
	if res.InputError || len(seen) != 4 {
		t.Fatalf("%d events, %+v", len(seen), res.Inputs[0])
	}
	if st := res.Inputs[0]; st.Truncated != 1 {
		t.Errorf("truncated %d, want 1 (the 3 MiB line only)", st.Truncated)
	}
	if got := seen[0].SrcIP.String(); got != "198.51.100.7" {
		t.Errorf("200 KiB line: source %s", got)
	}
	if got := seen[1].SrcIP.String(); got != "198.51.100.8" {
		t.Errorf("cut 3 MiB line: source %q, want 198.51.100.8 (the tail must survive the cut)", got)
	}
}

// Issue 10 item 10: an RFC 3164 log copied with a fresh mtime (secrepo's
// auth.log: Nov 30 – Dec 31, copied on Dec 4) is dated so that no event
// is after the mtime, with a warning; a live log keeps the mtime's year.
func TestYearInferredFromMtime(t *testing.T) {
	dir := t.TempDir()
	body := "Nov 30 06:39:00 h sshd[1]: Failed password for root from 203.0.113.9 port 22 ssh2\n" +
		"Dec  2 10:00:00 h sshd[1]: Failed password for root from 203.0.113.9 port 22 ssh2\n" +
		"Dec 31 22:27:48 h sshd[1]: Failed password for root from 203.0.113.9 port 22 ssh2\n"
	p := filepath.Join(dir, "auth.log")
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	mod := time.Date(2026, 12, 4, 16, 58, 0, 0, time.UTC)
	if err := os.Chtimes(p, mod, mod); err != nil {
		t.Fatal(err)
	}
	ins, _ := source.Expand([]string{p})
	res, seen, _ := runYear(t, ins, "", 0)
	if len(seen) != 3 {
		t.Fatalf("%d events", len(seen))
	}
	for _, ev := range seen {
		if ev.Time.After(mod) {
			t.Errorf("event at %v, after the file's mtime %v", ev.Time, mod)
		}
	}
	if seen[0].Time.Year() != 2025 || seen[2].Time.Year() != 2025 {
		t.Errorf("years %d..%d, want 2025", seen[0].Time.Year(), seen[2].Time.Year())
	}
	if w := res.Inputs[0].Warnings; len(w) != 1 || !strings.Contains(w[0], "took 2025") || !strings.Contains(w[0], "--year") {
		t.Errorf("warnings %q", w)
	}
	// A log written up to its mtime: the mtime's year, no warning.
	live := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	if err := os.Chtimes(p, live, live); err != nil {
		t.Fatal(err)
	}
	ins, _ = source.Expand([]string{p})
	res, seen, _ = runYear(t, ins, "", 0)
	if seen[2].Time.Year() != 2026 || len(res.Inputs[0].Warnings) != 0 {
		t.Errorf("live log: last event %v, warnings %q", seen[2].Time, res.Inputs[0].Warnings)
	}
}
