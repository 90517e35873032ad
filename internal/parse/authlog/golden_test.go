package authlog

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"winnow/internal/event"
	"winnow/internal/parse"
)

var update = flag.Bool("update", false, "rewrite the golden want.json files from the parser's output")

// goldenEvent is the JSON form of one input line's result in want.json.
type goldenEvent struct {
	Line        int    `json:"line"`
	Error       string `json:"error,omitempty"` // "malformed" or "skip"
	Time        string `json:"time,omitempty"`
	Kind        string `json:"kind,omitempty"`
	Action      string `json:"action,omitempty"`
	Outcome     string `json:"outcome,omitempty"`
	Host        string `json:"host,omitempty"`
	Program     string `json:"program,omitempty"`
	PID         int32  `json:"pid,omitempty"`
	SrcIP       string `json:"src_ip,omitempty"`
	SrcPort     uint16 `json:"src_port,omitempty"`
	User        string `json:"user,omitempty"`
	TargetUser  string `json:"target_user,omitempty"`
	Method      string `json:"method,omitempty"`
	Command     string `json:"command,omitempty"`
	Unit        string `json:"unit,omitempty"`
	InvalidUser bool   `json:"invalid_user,omitempty"`
	Preauth     bool   `json:"preauth,omitempty"`
	Count       int32  `json:"count,omitempty"`
	Msg         string `json:"msg,omitempty"`
}

// goldenOptions is the optional opts.json of a case.
type goldenOptions struct {
	Year     int    `json:"year"`
	ModTime  string `json:"modtime"`  // RFC 3339
	Location string `json:"location"` // IANA name; default UTC
}

// goldenNow is the wall clock the golden cases run under.
var goldenNow = time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)

func caseOptions(t *testing.T, dir string) parse.Options {
	t.Helper()
	o := parse.Options{Location: time.UTC, Now: goldenNow}
	b, err := os.ReadFile(filepath.Join(dir, "opts.json"))
	if errors.Is(err, os.ErrNotExist) {
		return o
	}
	if err != nil {
		t.Fatal(err)
	}
	var g goldenOptions
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatalf("%s/opts.json: %v", dir, err)
	}
	o.Year = g.Year
	if g.ModTime != "" {
		if o.ModTime, err = time.Parse(time.RFC3339, g.ModTime); err != nil {
			t.Fatal(err)
		}
	}
	if g.Location != "" {
		if o.Location, err = time.LoadLocation(g.Location); err != nil {
			t.Fatal(err)
		}
	}
	return o
}

func toGolden(n int, ev *event.Event, err error) goldenEvent {
	g := goldenEvent{Line: n}
	switch {
	case errors.Is(err, parse.ErrSkip):
		g.Error = "skip"
		return g
	case errors.Is(err, parse.ErrMalformed):
		g.Error = "malformed"
		return g
	case err != nil:
		g.Error = "unexpected: " + err.Error()
		return g
	}
	g.Time = ev.Time.Format(time.RFC3339Nano)
	g.Kind, g.Action, g.Outcome = ev.Kind.String(), ev.Action.String(), ev.Outcome.String()
	g.Host, g.Program, g.PID = ev.Host, ev.Program, ev.PID
	if ev.SrcIP.IsValid() {
		g.SrcIP = ev.SrcIP.String()
	}
	g.SrcPort = ev.SrcPort
	g.User, g.TargetUser, g.Method, g.Command, g.Unit = ev.User, ev.TargetUser, ev.Method, ev.Command, ev.Unit
	g.InvalidUser, g.Preauth, g.Count, g.Msg = ev.InvalidUser, ev.Preauth, ev.Count, string(ev.Msg)
	return g
}

// splitLines splits on '\n' only, so that a "\r" before it stays in the
// line as a reader that strips only '\n' would hand it over.
func splitLines(b []byte) [][]byte {
	b = bytes.TrimSuffix(b, []byte("\n"))
	if len(b) == 0 {
		return nil
	}
	return bytes.Split(b, []byte("\n"))
}

// TestGolden parses testdata/<case>/input line by line and compares the
// events with testdata/<case>/want.json (go test -update rewrites them).
func TestGolden(t *testing.T) {
	dirs, err := filepath.Glob(filepath.Join("testdata", "*", "input"))
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no golden cases: %v", err)
	}
	for _, in := range dirs {
		dir := filepath.Dir(in)
		t.Run(filepath.Base(dir), func(t *testing.T) {
			input, err := os.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			p := New(caseOptions(t, dir))
			var got []goldenEvent
			for i, line := range splitLines(input) {
				var ev event.Event
				err := p.Parse(line, &ev)
				got = append(got, toGolden(i+1, &ev, err))
				if err == nil {
					checkInvariants(t, line, &ev)
				}
			}
			gotJSON, err := json.MarshalIndent(got, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			gotJSON = append(gotJSON, '\n')
			wantPath := filepath.Join(dir, "want.json")
			if *update {
				if err := os.WriteFile(wantPath, gotJSON, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(wantPath)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			var wantEv []goldenEvent
			if err := json.Unmarshal(want, &wantEv); err != nil {
				t.Fatalf("%s: %v", wantPath, err)
			}
			if len(wantEv) != len(got) {
				t.Fatalf("%d results, want %d", len(got), len(wantEv))
			}
			for i := range got {
				if got[i] != wantEv[i] {
					g, _ := json.Marshal(got[i])
					w, _ := json.Marshal(wantEv[i])
					t.Errorf("line %d:\n got %s\nwant %s", i+1, g, w)
				}
			}
		})
	}
}

// checkInvariants holds for every successfully parsed line.
func checkInvariants(t testing.TB, line []byte, ev *event.Event) {
	t.Helper()
	if ev.Time.IsZero() {
		t.Errorf("%q: zero time", line)
	}
	if ev.Count < 1 {
		t.Errorf("%q: count %d", line, ev.Count)
	}
	if !within(line, ev.Raw) || !within(line, ev.Msg) {
		t.Errorf("%q: Raw or Msg does not alias the line", line)
	}
	if bytes.HasSuffix(ev.Raw, []byte("\r")) || bytes.HasSuffix(ev.Msg, []byte("\r")) {
		t.Errorf("%q: trailing CR in Raw/Msg", line)
	}
	// CRs that end the line (CRLF remnants) must not reach any field.
	if !bytes.Contains(bytes.TrimRight(line, "\r\n"), []byte("\r")) {
		for _, s := range []string{ev.Host, ev.Program, ev.User, ev.TargetUser, ev.Method, ev.Command, ev.Unit} {
			if strings.Contains(s, "\r") {
				t.Errorf("%q: field %q contains a CR", line, s)
			}
		}
	}
	wantKind := event.KindAuth
	switch ev.Action {
	case event.ActSyslog:
		wantKind = event.KindSyslog
	case event.ActServiceFailed:
		wantKind = event.KindService
	case event.ActNone:
		t.Errorf("%q: action none", line)
	}
	if ev.Kind != wantKind {
		t.Errorf("%q: kind %v for action %v", line, ev.Kind, ev.Action)
	}
	if ev.SrcIP.Is4In6() || ev.SrcIP.Zone() != "" {
		t.Errorf("%q: SrcIP %v not unmapped/zoneless", line, ev.SrcIP)
	}
}

// within reports whether sub is empty or a sub-slice of line's memory.
func within(line, sub []byte) bool {
	if len(sub) == 0 {
		return true
	}
	if len(sub) > len(line) {
		return false
	}
	for off := 0; off+len(sub) <= len(line); off++ {
		if &line[off] == &sub[0] {
			return true
		}
	}
	return false
}
