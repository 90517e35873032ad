package access

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
	Line         int    `json:"line"`
	Error        string `json:"error,omitempty"` // "malformed" or "skip"
	Time         string `json:"time,omitempty"`
	Kind         string `json:"kind,omitempty"`
	Action       string `json:"action,omitempty"`
	Outcome      string `json:"outcome,omitempty"`
	SrcIP        string `json:"src_ip,omitempty"`
	User         string `json:"user,omitempty"`
	Program      string `json:"program,omitempty"`
	PID          int32  `json:"pid,omitempty"`
	Msg          string `json:"msg,omitempty"`
	Site         string `json:"site,omitempty"`
	Method       string `json:"method,omitempty"`
	Path         string `json:"path,omitempty"`
	Query        string `json:"query,omitempty"`
	Protocol     string `json:"protocol,omitempty"`
	Status       int    `json:"status,omitempty"`
	Bytes        *int64 `json:"bytes,omitempty"`
	Referrer     string `json:"referrer,omitempty"`
	UserAgent    string `json:"user_agent,omitempty"`
	PathDecoded  string `json:"path_decoded,omitempty"`  // only when it differs from path
	QueryDecoded string `json:"query_decoded,omitempty"` // only when it differs from query
	Ext          string `json:"ext,omitempty"`
	Invalid      bool   `json:"invalid,omitempty"`
}

// goldenOptions is the optional opts.json of a case.
type goldenOptions struct {
	Location string `json:"location"` // IANA name; default UTC
	Format   string `json:"format"`   // "access" (default) or "errorlog"
}

func caseParser(t *testing.T, dir string) parse.Parser {
	t.Helper()
	o := parse.Options{Location: time.UTC}
	var g goldenOptions
	b, err := os.ReadFile(filepath.Join(dir, "opts.json"))
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		t.Fatal(err)
	default:
		if err := json.Unmarshal(b, &g); err != nil {
			t.Fatalf("%s/opts.json: %v", dir, err)
		}
	}
	if g.Location != "" {
		if o.Location, err = time.LoadLocation(g.Location); err != nil {
			t.Fatal(err)
		}
	}
	if g.Format == "errorlog" {
		return NewError(o)
	}
	return New(o)
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
	if ev.SrcIP.IsValid() {
		g.SrcIP = ev.SrcIP.String()
	}
	g.User, g.Program, g.PID = ev.User, ev.Program, ev.PID
	if ev.Kind != event.KindHTTP {
		g.Msg = string(ev.Msg)
	}
	if h := ev.HTTP; h != nil {
		g.Site, g.Method, g.Path, g.Query, g.Protocol = h.Site, h.Method, h.Path, h.Query, h.Protocol
		g.Status, g.Referrer, g.UserAgent, g.Ext, g.Invalid = h.Status, h.Referrer, h.UserAgent, h.Ext, h.Invalid
		b := h.Bytes
		g.Bytes = &b
		if h.PathDecoded != h.Path {
			g.PathDecoded = h.PathDecoded
		}
		if h.QueryDecoded != h.Query {
			g.QueryDecoded = h.QueryDecoded
		}
	}
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
	ins, err := filepath.Glob(filepath.Join("testdata", "*", "input"))
	if err != nil || len(ins) == 0 {
		t.Fatalf("no golden cases: %v", err)
	}
	for _, in := range ins {
		dir := filepath.Dir(in)
		t.Run(filepath.Base(dir), func(t *testing.T) {
			input, err := os.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			p := caseParser(t, dir)
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
			if !bytes.Equal(want, gotJSON) {
				var wantEv []goldenEvent
				if err := json.Unmarshal(want, &wantEv); err != nil {
					t.Fatalf("%s: %v", wantPath, err)
				}
				for i := range got {
					g, _ := json.Marshal(got[i])
					var w []byte
					if i < len(wantEv) {
						w, _ = json.Marshal(wantEv[i])
					}
					if !bytes.Equal(g, w) {
						t.Errorf("line %d:\n got %s\nwant %s", i+1, g, w)
					}
				}
				if len(wantEv) != len(got) {
					t.Errorf("%d results, want %d", len(got), len(wantEv))
				}
			}
		})
	}
}

// checkInvariants holds for every successfully parsed line.
func checkInvariants(t testing.TB, line []byte, ev *event.Event) {
	t.Helper()
	if ev.Time.IsZero() || ev.Time.Location() != time.UTC {
		t.Errorf("%q: time %v is zero or not UTC", line, ev.Time)
	}
	if ev.Count != 1 {
		t.Errorf("%q: count %d", line, ev.Count)
	}
	if !within(line, ev.Raw) || !within(line, ev.Msg) {
		t.Errorf("%q: Raw or Msg does not alias the line", line)
	}
	if bytes.HasSuffix(ev.Raw, []byte("\r")) || bytes.HasSuffix(ev.Raw, []byte("\n")) {
		t.Errorf("%q: line terminator in Raw", line)
	}
	if ev.SrcIP.Is4In6() || ev.SrcIP.Zone() != "" {
		t.Errorf("%q: SrcIP %v not unmapped/zoneless", line, ev.SrcIP)
	}
	switch ev.Kind {
	case event.KindHTTP:
		h := ev.HTTP
		if h == nil || ev.Action != event.ActHTTPRequest {
			t.Fatalf("%q: HTTP event without part or with action %v", line, ev.Action)
		}
		if h.Invalid != (h.Method == "") {
			t.Errorf("%q: Invalid %v with method %q", line, h.Invalid, h.Method)
		}
		if !h.Invalid && (h.Path == "" || h.PathDecoded == "") {
			t.Errorf("%q: valid request without a path", line)
		}
		if (h.Query == "") != (h.QueryDecoded == "") {
			t.Errorf("%q: query %q but decoded %q", line, h.Query, h.QueryDecoded)
		}
		if h.Ext != strings.ToLower(h.Ext) || strings.Contains(h.Ext, ".") {
			t.Errorf("%q: ext %q", line, h.Ext)
		}
		if h.Status < 0 || h.Status > 999 {
			t.Errorf("%q: status %d", line, h.Status)
		}
		if want := h.Status >= 400; (ev.Outcome == event.OutcomeFailure) != want {
			t.Errorf("%q: outcome %v for status %d", line, ev.Outcome, h.Status)
		}
		// CRs that end the line (CRLF remnants) must not reach any field.
		if !bytes.ContainsAny(bytes.TrimRight(line, "\r\n"), "\r\n") {
			for _, s := range []string{h.Site, h.Method, h.Path, h.Query, h.Referrer, h.UserAgent, ev.User} {
				if strings.ContainsAny(s, "\r\n") {
					t.Errorf("%q: field %q holds a line terminator", line, s)
				}
			}
		}
	case event.KindSyslog:
		if ev.Action != event.ActSyslog || ev.HTTP != nil {
			t.Errorf("%q: syslog-kind event with action %v / HTTP part", line, ev.Action)
		}
	default:
		t.Errorf("%q: kind %v", line, ev.Kind)
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
