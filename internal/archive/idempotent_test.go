package archive

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"

	"winnow/internal/event"
)

// lineEvents are events of lines 1..n of a named input; every tenth line
// is a "message repeated 3 times" (three events of one line).
func lineEvents(name string, n int) []event.Event {
	t0 := time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)
	var evs []event.Event
	for i := 1; i <= n; i++ {
		ev := event.Event{Time: t0.Add(time.Duration(i) * time.Minute), Kind: event.KindAuth, Action: event.ActLoginFailure,
			Outcome: event.OutcomeFailure, Count: 1, User: "root", Ref: event.Ref{File: name, Line: int64(i)},
			Raw: []byte(fmt.Sprintf("%s line %d", name, i))}
		evs = append(evs, ev)
		if i%10 == 0 {
			evs = append(evs, ev, ev)
		}
	}
	return evs
}

// head is an input's content head as analyze computes it.
func head(name string, n int) []byte {
	var b bytes.Buffer
	for i := 1; i <= n && b.Len() < FingerprintBytes; i++ {
		fmt.Fprintf(&b, "%s content line %d with some padding to make it longer than a few bytes\n", name, i)
	}
	return b.Bytes()[:min(b.Len(), FingerprintBytes)]
}

type runInput struct {
	src Source
	evs []event.Event
}

// run archives inputs as one run (like analyze --archive with them).
func run(t *testing.T, dir string, ins ...runInput) *Writer {
	t.Helper()
	w, err := NewWriter(Options{Dir: dir, Compact: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range ins {
		w.Track(in.src)
	}
	for _, in := range ins {
		if err := w.Write(in.evs); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(nil); err != nil {
		t.Fatal(err)
	}
	return w
}

// lines counts the archived events per input line.
func lines(t *testing.T, dir string) map[string]int {
	t.Helper()
	out := map[string]int{}
	_, err := Events(context.Background(), ReadOptions{Dir: dir, Location: time.UTC}, func(b []event.Event) error {
		for i := range b {
			out[fmt.Sprintf("%s:%d", b[i].Ref.File, b[i].Ref.Line)]++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func checkOnce(t *testing.T, dir, name string, n int) {
	t.Helper()
	got := lines(t, dir)
	for i := 1; i <= n; i++ {
		want := 1
		if i%10 == 0 {
			want = 3
		}
		if c := got[fmt.Sprintf("%s:%d", name, i)]; c != want {
			t.Fatalf("%s line %d archived as %d events, want %d", name, i, c, want)
		}
	}
}

// TestIdempotentRuns: the same input archived twice is stored once; a
// grown input adds only its new lines; a renamed or compressed copy (same
// content, another file) is recognised; the same content given twice in
// one run is stored once; another file that merely starts like a small
// archived one is not mistaken for it.
func TestIdempotentRuns(t *testing.T) {
	dir := t.TempDir()
	h := head("auth.log", 1000)
	first := runInput{src: Source{Name: "auth.log", Head: h, Dev: 1, Ino: 100}, evs: lineEvents("auth.log", 500)}
	w := run(t, dir, first)
	if s := w.Stats(); s.Events != 600 || s.Skipped != 0 {
		t.Fatalf("first run: %+v", s)
	}
	// Again: nothing stored, everything counted as skipped.
	w = run(t, dir, first)
	in := w.Inputs()[0]
	if s := w.Stats(); s.Events != 0 || in.Skipped != 600 || in.Lines != 500 || in.Prior != "auth.log" {
		t.Fatalf("second run: %+v %+v", s, in)
	}
	checkOnce(t, dir, "auth.log", 500)
	// The file grew: only lines 501..800 are new.
	grown := runInput{src: Source{Name: "auth.log", Head: h, Dev: 1, Ino: 100}, evs: lineEvents("auth.log", 800)}
	w = run(t, dir, grown)
	if in := w.Inputs()[0]; in.Stored != 360 || in.Skipped != 600 || in.Last != 800 {
		t.Fatalf("grown: %+v", in)
	}
	checkOnce(t, dir, "auth.log", 800)
	// Rotated and compressed: another name and file, the same content.
	gz := runInput{src: Source{Name: "auth.log.1.gz", Head: h, Dev: 1, Ino: 200}, evs: lineEvents("auth.log.1.gz", 800)}
	w = run(t, dir, gz)
	if in := w.Inputs()[0]; in.Stored != 0 || in.Prior != "auth.log" {
		t.Fatalf("compressed copy: %+v", in)
	}
	// Two names for one content in one run: archived once.
	other := head("other.log", 1000)
	a := runInput{src: Source{Name: "a.log", Head: other, Dev: 1, Ino: 300}, evs: lineEvents("a.log", 40)}
	b := runInput{src: Source{Name: "b.log", Head: other, Dev: 1, Ino: 301}, evs: lineEvents("b.log", 40)}
	w = run(t, dir, a, b)
	if ins := w.Inputs(); ins[0].Stored != 48 || ins[1].Stored != 0 || ins[1].Duplicate != "a.log" {
		t.Fatalf("duplicate in one run: %+v", ins)
	}
	// A small input (shorter than the fingerprint window) ...
	small := head("small.log", 3)
	run(t, dir, runInput{src: Source{Name: "small.log", Head: small, Dev: 1, Ino: 400}, evs: lineEvents("small.log", 3)})
	// ... grown in place (same file) is resumed,
	grownSmall := append(append([]byte{}, small...), []byte("a fourth line\n")...)
	w = run(t, dir, runInput{src: Source{Name: "small.log", Head: grownSmall, Dev: 1, Ino: 400}, evs: lineEvents("small.log", 4)})
	if in := w.Inputs()[0]; in.Stored != 1 || in.Lines != 3 {
		t.Fatalf("small file grown: %+v", in)
	}
	// but another file that starts with the same bytes is new.
	longer := append(append([]byte{}, grownSmall...), []byte("and more\n")...)
	w = run(t, dir, runInput{src: Source{Name: "else.log", Head: longer, Dev: 1, Ino: 500}, evs: lineEvents("else.log", 5)})
	if in := w.Inputs()[0]; in.Stored != 5 || in.Lines != 0 {
		t.Fatalf("different file with a known small prefix: %+v", in)
	}
}

// TestEventIDs: every stored event carries its input's fingerprint, its
// line and its index among the events of the line — a stable id.
func TestEventIDs(t *testing.T) {
	dir := t.TempDir()
	h := head("auth.log", 1000)
	run(t, dir, runInput{src: Source{Name: "auth.log", Head: h}, evs: lineEvents("auth.log", 30)})
	files, _ := list(dir, EventKinds, time.Time{}, time.Time{})
	if len(files) != 1 {
		t.Fatalf("%d files", len(files))
	}
	rows, err := readAll[AuthRow](files[0].Path)
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for _, r := range rows {
		if r.FileID != fingerprint(h) {
			t.Fatalf("row %d: file id %q", r.Line, r.FileID)
		}
		id := fmt.Sprintf("%s:%d:%d", r.FileID, r.Line, r.Seq)
		if ids[id] {
			t.Fatalf("id %s twice", id)
		}
		ids[id] = true
	}
	if len(ids) != 36 || !ids[fmt.Sprintf("%s:%d:%d", fingerprint(h), 30, 2)] {
		t.Errorf("%d ids: %v", len(ids), ids)
	}
}

// readAllEvents returns the archive's events in read order.
func readAllEvents(t *testing.T, dir string) []event.Event {
	t.Helper()
	var out []event.Event
	st, err := Events(context.Background(), ReadOptions{Dir: dir, Location: time.UTC}, func(b []event.Event) error {
		out = append(out, b...)
		return nil
	})
	if err != nil || len(st.Skipped) > 0 {
		t.Fatalf("read: %v %v", err, st.Skipped)
	}
	return out
}

// TestCompactionKeepsWhatReadersSee archives a real log in many small
// runs (an hourly cron over a growing file), then compacts: the events
// read back, their order, and the findings are the same, and the
// archive is a fraction of its size.
func TestCompactionKeepsWhatReadersSee(t *testing.T) {
	evs := parseFile(t, "elastic-examples/suspicious_login_activity/auth.log")
	dir := t.TempDir()
	h := head("auth.log", 1000)
	t0 := evs[0].Time
	alerts := []event.Alert{{Rule: "auth.brute_force", Entity: event.Entity{Type: event.EntityIP, Value: "203.0.113.7"},
		Start: t0, End: t0.Add(time.Minute), Severity: 47, Score: 0.6}}
	// 20 runs, each over a longer prefix of the file, compaction off.
	for k := 1; k <= 20; k++ {
		n := len(evs) * k / 20
		for n < len(evs) && n > 0 && evs[n].Ref.Line == evs[n-1].Ref.Line {
			n++ // a run reads whole lines
		}
		w, err := NewWriter(Options{Dir: dir})
		if err != nil {
			t.Fatal(err)
		}
		w.Track(Source{Name: evs[0].Ref.File, Head: h})
		if err := w.Write(evs[:n]); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(alerts); err != nil {
			t.Fatal(err)
		}
	}
	before := readAllEvents(t, dir)
	findBefore, _ := Findings(dir, time.Time{}, time.Time{})
	filesBefore, _ := list(dir, append(append([]string{}, EventKinds...), "finding"), time.Time{}, time.Time{})
	sizeBefore := dirSize(dir)
	if len(before) != len(evs) || len(findBefore) != 1 {
		t.Fatalf("before compaction: %d events of %d, %d findings", len(before), len(evs), len(findBefore))
	}
	cs, _, err := Compact(dir, CompactOptions{})
	if err != nil {
		t.Fatal(err)
	}
	after := readAllEvents(t, dir)
	findAfter, _ := Findings(dir, time.Time{}, time.Time{})
	filesAfter, _ := list(dir, append(append([]string{}, EventKinds...), "finding"), time.Time{}, time.Time{})
	if len(after) != len(before) {
		t.Fatalf("compaction changed the event count: %d → %d", len(before), len(after))
	}
	for i := range before {
		if !equalEvent(before[i], after[i]) {
			t.Fatalf("event %d differs after compaction:\n%+v\n%+v", i, before[i], after[i])
		}
	}
	if !reflect.DeepEqual(findBefore, findAfter) {
		t.Errorf("findings differ after compaction")
	}
	if len(filesAfter) >= len(filesBefore) || cs.Inputs == 0 {
		t.Errorf("files %d → %d (%+v)", len(filesBefore), len(filesAfter), cs)
	}
	perEvent := float64(dirSize(dir)) / float64(len(evs))
	t.Logf("%d files, %d bytes → %d files, %d bytes (%.1f bytes/event)", len(filesBefore), sizeBefore, len(filesAfter),
		dirSize(dir), perEvent)
	// Issue 12's bound for this sparse log (it was ~790 in hour files).
	if perEvent > 60 {
		t.Errorf("%.1f bytes per event on disk after compaction, want ≤ 60", perEvent)
	}
	// Compacting again changes nothing.
	if cs, _, err := Compact(dir, CompactOptions{}); err != nil || cs.Inputs != 0 {
		t.Errorf("second compaction: %+v %v", cs, err)
	}
}

// TestCompactionCrash interrupts a compaction after its intent is
// journaled (before the rename) and after the rename (before the inputs
// are removed): readers see every event once in both states, and the
// next writer undoes or finishes it.
func TestCompactionCrash(t *testing.T) {
	for _, at := range []string{"intent", "rename"} {
		t.Run(at, func(t *testing.T) {
			dir := t.TempDir()
			for k := 1; k <= 3; k++ {
				run(t, dir, runInput{src: Source{Name: "auth.log", Head: head("auth.log", 1000)},
					evs: lineEvents("auth.log", 100*k)})
			}
			// run() compacts; add small files again without compaction.
			for k := 4; k <= 6; k++ {
				w, _ := NewWriter(Options{Dir: dir})
				w.Track(Source{Name: "auth.log", Head: head("auth.log", 1000)})
				w.Write(lineEvents("auth.log", 100*k))
				if err := w.Close(nil); err != nil {
					t.Fatal(err)
				}
			}
			a, err := openWritable(dir)
			if err != nil {
				t.Fatal(err)
			}
			_, err = a.compact(CompactOptions{failAt: at})
			a.close()
			if err == nil || !strings.Contains(err.Error(), "injected") {
				t.Fatalf("compaction did not stop at %s: %v", at, err)
			}
			checkOnce(t, dir, "auth.log", 600) // readers, before recovery
			w, err := NewWriter(Options{Dir: dir})
			if err != nil {
				t.Fatal(err)
			}
			if err := w.Close(nil); err != nil {
				t.Fatal(err)
			}
			rec := w.Stats().Recovered
			if (at == "intent" && rec.Undone != 1) || (at == "rename" && rec.Finished != 1) {
				t.Errorf("recovery %+v", rec)
			}
			checkOnce(t, dir, "auth.log", 600)
			var files []string
			filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
				if err == nil && !d.IsDir() && strings.HasSuffix(p, ".parquet") {
					files = append(files, p)
				}
				return nil
			})
			st, _ := readState(dir)
			if len(files) != len(st.files) {
				t.Errorf("%d part files on disk, %d in the journal", len(files), len(st.files))
			}
		})
	}
}

// TestSecondWriterRefused: while a run holds the archive, another writer
// (or a compaction, or a prune) is refused with ErrBusy instead of
// interleaving its files; once the run ends the archive is free again.
func TestSecondWriterRefused(t *testing.T) {
	dir := t.TempDir()
	w, err := NewWriter(Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewWriter(Options{Dir: dir}); !errors.Is(err, ErrBusy) {
		t.Errorf("second writer: %v, want ErrBusy", err)
	}
	if _, _, err := Compact(dir, CompactOptions{}); !errors.Is(err, ErrBusy) {
		t.Errorf("compaction during a run: %v, want ErrBusy", err)
	}
	if _, err := Prune(dir, Retention{MaxBytes: 1}); !errors.Is(err, ErrBusy) {
		t.Errorf("prune during a run: %v, want ErrBusy", err)
	}
	if err := w.Close(nil); err != nil {
		t.Fatal(err)
	}
	w, err = NewWriter(Options{Dir: dir})
	if err != nil {
		t.Fatalf("after the run ended: %v", err)
	}
	w.Close(nil)
}

// TestJournalCheckpoint: after many runs the journal is rewritten to its
// live records; what it says (files, inputs) is unchanged, and a later
// run still knows what was archived.
func TestJournalCheckpoint(t *testing.T) {
	dir := t.TempDir()
	h := head("auth.log", 1000)
	for k := 1; k <= 100; k++ {
		run(t, dir, runInput{src: Source{Name: "auth.log", Head: h}, evs: lineEvents("auth.log", 5*k)})
	}
	st, err := readState(dir)
	if err != nil {
		t.Fatal(err)
	}
	if st.lines > 260 {
		t.Errorf("journal has %d records after 100 runs: never checkpointed", st.lines)
	}
	if len(st.begun) != 0 || len(st.pending) != 0 || len(st.files) == 0 {
		t.Errorf("state after checkpoint: %d begun, %d pending, %d files", len(st.begun), len(st.pending), len(st.files))
	}
	checkOnce(t, dir, "auth.log", 500)
	w := run(t, dir, runInput{src: Source{Name: "auth.log", Head: h}, evs: lineEvents("auth.log", 500)})
	if in := w.Inputs()[0]; in.Lines != 500 || in.Stored != 0 {
		t.Errorf("after checkpoints the archive forgot its input: %+v", in)
	}
	// A torn last line (a crash mid-append) and a garbled one are ignored.
	f, _ := os.OpenFile(filepath.Join(dir, journalName), os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(`{"op":"end","run":"x","inputs":[{"name":"auth.log","fp":"` + "\n" + `{"op":"remove","files":["kind=auth/month=2026-11/x"],"crc":"00000000"}` + "\n")
	f.Close()
	st2, err := readState(dir)
	if err != nil || st2.bad != 2 || len(st2.files) != len(st.files) {
		t.Errorf("torn lines: %d bad, %d files (want 2 bad, %d files), %v", st2.bad, len(st2.files), len(st.files), err)
	}
}

// TestSchema1Archive: an archive written by winnow before schema 2 (hour
// partitions, plain commit lines, no run records) is read as it is, is
// not touched by a new writer's recovery, and compaction moves it into
// month partitions with the same events read back.
func TestSchema1Archive(t *testing.T) {
	dir := t.TempDir()
	evs := lineEvents("old.log", 300) // 22 Nov 2026, one per minute: hours 00-05
	var log bytes.Buffer
	for h := 0; h < 6; h++ {
		var rows []AuthRow
		for i := range evs {
			if evs[i].Time.Hour() == h {
				var r AuthRow
				authRow(&evs[i], rowMeta{}, &r)
				rows = append(rows, r)
			}
		}
		rel := fmt.Sprintf("kind=auth/date=2026-11-22/hour=%02d/part-20261122T060000.000000000-%05d.parquet", h, h+1)
		os.MkdirAll(filepath.Join(dir, filepath.Dir(rel)), 0o755)
		f, err := os.Create(filepath.Join(dir, rel))
		if err != nil {
			t.Fatal(err)
		}
		pw := parquet.NewGenericWriter[AuthRow](f)
		pw.Write(rows)
		pw.Close()
		fi, _ := f.Stat()
		f.Close()
		fmt.Fprintf(&log, `{"file":%q,"rows":%d,"min":"2026-11-22T%02d:00:00Z","max":"2026-11-22T%02d:59:00Z","run":"20261122T060000.000000000","bytes":%d}`+"\n",
			rel, len(rows), h, h, fi.Size())
	}
	os.WriteFile(filepath.Join(dir, journalName), log.Bytes(), 0o644)
	os.WriteFile(filepath.Join(dir, "kind=auth/date=2026-11-22/hour=03/.part-20261122T060000.000000000-00099.parquet.tmp"), []byte("x"), 0o644)
	before := readAllEvents(t, dir)
	if len(before) != len(evs) {
		t.Fatalf("read %d events of a schema 1 archive, want %d", len(before), len(evs))
	}
	w, err := NewWriter(Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(nil); err != nil {
		t.Fatal(err)
	}
	if rec := w.Stats().Recovered; len(rec.RolledBack) != 0 || rec.Temps != 1 {
		t.Errorf("recovery on a schema 1 archive: %+v (want only the stale temporary file removed)", rec)
	}
	cs, _, err := Compact(dir, CompactOptions{})
	if err != nil || cs.Inputs != 6 || cs.Outputs != 1 {
		t.Fatalf("compaction: %+v %v", cs, err)
	}
	after := readAllEvents(t, dir)
	if len(after) != len(before) {
		t.Fatalf("%d events after compaction, %d before", len(after), len(before))
	}
	for i := range before {
		if !equalEvent(before[i], after[i]) {
			t.Fatalf("event %d differs after compaction", i)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "kind=auth/date=2026-11-22")); !os.IsNotExist(err) {
		t.Errorf("the emptied hour directories were not removed: %v", err)
	}
}

// futureRow is a row of a later schema: one more column.
type futureRow struct {
	AuthRow
	Extra string `parquet:"some_future_column"`
}

// TestCompactionKeepsUnknownColumns: a file written by a later winnow
// (a column this one does not know) is never rewritten by compaction,
// which would drop the column.
func TestCompactionKeepsUnknownColumns(t *testing.T) {
	dir := t.TempDir()
	run(t, dir, runInput{src: Source{Name: "a.log", Head: head("a.log", 1000)}, evs: lineEvents("a.log", 10)})
	rel := "kind=auth/month=2026-11/part-20990101T000000.000000000-00001.parquet"
	f, err := os.Create(filepath.Join(dir, rel))
	if err != nil {
		t.Fatal(err)
	}
	var r futureRow
	ev := lineEvents("b.log", 1)[0]
	authRow(&ev, rowMeta{}, &r.AuthRow)
	r.Extra = "keep me"
	pw := parquet.NewGenericWriter[futureRow](f)
	pw.Write([]futureRow{r})
	pw.Close()
	f.Close()
	jf, _ := os.OpenFile(filepath.Join(dir, journalName), os.O_APPEND|os.O_WRONLY, 0)
	jf.Write(encodeRecord(&record{Op: opCommit, Commit: Commit{File: rel, Rows: 1, Run: "20990101T000000.000000000",
		Min: ev.Time, Max: ev.Time, At: time.Now()}}))
	jf.Close()
	cs, _, err := Compact(dir, CompactOptions{})
	if err != nil || len(cs.Skipped) != 1 || !strings.Contains(cs.Skipped[0].Error(), "some_future_column") {
		t.Fatalf("compaction: %+v %v", cs, err)
	}
	rows, err := readAll[futureRow](filepath.Join(dir, rel))
	if err != nil || len(rows) != 1 || rows[0].Extra != "keep me" {
		t.Errorf("the later file was changed: %v %v", rows, err)
	}
}
