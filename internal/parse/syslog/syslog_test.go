package syslog

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"winnow/internal/parse"
	"winnow/internal/testdata"
)

var update = flag.Bool("update", false, "rewrite the golden want.json files from the parser's output")

// goldenHeader is the JSON form of one input line's framing in want.json.
type goldenHeader struct {
	Line           int     `json:"line"`
	Error          string  `json:"error,omitempty"` // "malformed" or "skip"
	Time           string  `json:"time,omitempty"`
	Framing        string  `json:"framing,omitempty"`
	Priority       *int16  `json:"pri,omitempty"`
	Host           string  `json:"host,omitempty"`
	Program        string  `json:"program,omitempty"`
	ProcID         string  `json:"procid,omitempty"`
	PID            int32   `json:"pid,omitempty"`
	MsgID          string  `json:"msgid,omitempty"`
	StructuredData string  `json:"sd,omitempty"`
	Msg            *string `json:"msg,omitempty"`
}

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
	var g struct {
		Year     int    `json:"year"`
		ModTime  string `json:"modtime"`
		Location string `json:"location"`
	}
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatal(err)
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
			o := caseOptions(t, dir)
			var st State
			var got []goldenHeader
			lines := bytes.Split(bytes.TrimSuffix(input, []byte("\n")), []byte("\n"))
			for i, line := range lines {
				h, err := ParseHeader(line, &st, &o)
				g := goldenHeader{Line: i + 1}
				switch {
				case errors.Is(err, parse.ErrSkip):
					g.Error = "skip"
				case errors.Is(err, parse.ErrMalformed):
					g.Error = "malformed"
				case err != nil:
					t.Fatalf("line %d: error %v wraps neither ErrSkip nor ErrMalformed", i+1, err)
				default:
					checkHeader(t, line, &h)
					g.Time = h.Time.Format(time.RFC3339Nano)
					g.Framing, g.Priority = h.Framing.String(), &h.Priority
					g.Host, g.Program, g.ProcID, g.PID = string(h.Host), string(h.Program), string(h.ProcID), h.PID
					msg := string(h.Msg)
					g.MsgID, g.StructuredData, g.Msg = string(h.MsgID), string(h.StructuredData), &msg
				}
				got = append(got, g)
			}
			gotJSON, _ := json.MarshalIndent(got, "", "  ")
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
			var wantH []goldenHeader
			if err := json.Unmarshal(want, &wantH); err != nil {
				t.Fatal(err)
			}
			if len(wantH) != len(got) {
				t.Fatalf("%d results, want %d", len(got), len(wantH))
			}
			for i := range got {
				if !reflect.DeepEqual(got[i], wantH[i]) {
					g, _ := json.Marshal(got[i])
					w, _ := json.Marshal(wantH[i])
					t.Errorf("line %d:\n got %s\nwant %s", i+1, g, w)
				}
			}
		})
	}
}

// checkHeader asserts the invariants of a successful parse.
func checkHeader(t testing.TB, line []byte, h *Header) {
	t.Helper()
	if h.Time.IsZero() {
		t.Errorf("%q: zero time", line)
	}
	for name, s := range map[string][]byte{"Host": h.Host, "Program": h.Program, "ProcID": h.ProcID, "MsgID": h.MsgID, "SD": h.StructuredData, "Msg": h.Msg} {
		if !within(line, s) {
			t.Errorf("%q: %s %q is not a sub-slice of the line", line, name, s)
		}
	}
	if h.MsgOffset < 0 || h.MsgOffset+len(h.Msg) > len(line) || !bytes.Equal(line[h.MsgOffset:h.MsgOffset+len(h.Msg)], h.Msg) {
		t.Errorf("%q: MsgOffset %d does not locate Msg %q", line, h.MsgOffset, h.Msg)
	}
	if bytes.HasSuffix(h.Msg, []byte("\r")) || bytes.HasSuffix(h.Host, []byte("\r")) {
		t.Errorf("%q: trailing CR in a field", line)
	}
	if h.Framing == FramingUnknown {
		t.Errorf("%q: unknown framing", line)
	}
}

func within(line, sub []byte) bool {
	if len(sub) == 0 {
		return true
	}
	for off := 0; off+len(sub) <= len(line); off++ {
		if &line[off] == &sub[0] {
			return true
		}
	}
	return false
}

// TestTimesAgainstStdlib formats random instants with the time package in
// every accepted layout and checks that framing recovers them.
func TestTimesAgainstStdlib(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Skip("no tzdata:", err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	layouts := []string{
		"2006-01-02T15:04:05.000000Z07:00", // rsyslog high precision
		"2006-01-02T15:04:05Z07:00",
		"2006-01-02T15:04:05-0700",        // journald short-iso
		"2006-01-02T15:04:05.000000-0700", // short-iso-precise
		"2006-01-02T15:04:05.999999999Z07:00",
	}
	zones := []*time.Location{time.UTC, paris, time.FixedZone("", -(9*3600 + 30*60)), time.FixedZone("", 14*3600)}
	o := parse.Options{Location: paris}
	var st State
	for i := 0; i < 20000; i++ {
		want := time.Unix(86400+rng.Int64N(4102444800), rng.Int64N(1e9)).In(zones[i%len(zones)])
		layout := layouts[i%len(layouts)]
		line := want.Format(layout) + " host p: m"
		h, err := ParseHeader([]byte(line), &st, &o)
		if err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		ref, _ := time.Parse(layout, want.Format(layout)) // truncation by the layout
		if !h.Time.Equal(ref) {
			t.Fatalf("%q: got %v, want %v", line, h.Time, ref)
		}
		if h.Time.Location() != paris {
			t.Fatalf("%q: location %v, want Options.Location", line, h.Time.Location())
		}
	}
	// RFC 3164 in a zone with DST: compare with time.Date, in line order
	// (the minute cache is exercised by repeated minutes).
	st = State{}
	o = parse.Options{Year: 2026, Location: paris}
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, paris)
	for i := 0; i < 20000; i++ {
		want := base.Add(time.Duration(i) * 1571 * time.Second) // ~1 year, crosses both DST changes
		line := want.Format(time.Stamp) + " host p: m"
		h, err := ParseHeader([]byte(line), &st, &o)
		if err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		ref := time.Date(2026, want.Month(), want.Day(), want.Hour(), want.Minute(), want.Second(), 0, paris)
		if !h.Time.Equal(ref) {
			t.Fatalf("%q: got %v, want %v", line, h.Time, ref)
		}
		// Same line again hits the cache and must give the same instant.
		h2, _ := ParseHeader([]byte(line), &st, &o)
		if !h2.Time.Equal(h.Time) {
			t.Fatalf("%q: cached %v != %v", line, h2.Time, h.Time)
		}
	}
}

func TestYearInference(t *testing.T) {
	utc := time.UTC
	cases := []struct {
		name   string
		o      parse.Options
		months []string // line stamps, in order
		want   []int    // years
	}{
		{"explicit year", parse.Options{Year: 2019, Location: utc, ModTime: time.Date(2030, 1, 1, 0, 0, 0, 0, utc)},
			[]string{"Dec 31 23:00:00", "Jan  1 01:00:00"}, []int{2019, 2020}},
		{"modtime same month", parse.Options{Location: utc, ModTime: time.Date(2024, 11, 30, 0, 0, 0, 0, utc)},
			[]string{"Nov 30 06:39:00", "Dec  1 00:00:00"}, []int{2024, 2024}},
		{"month after modtime is last year", parse.Options{Location: utc, ModTime: time.Date(2025, 1, 3, 0, 0, 0, 0, utc)},
			[]string{"Nov 30 06:39:00", "Dec 31 00:00:00", "Jan  2 00:00:00"}, []int{2024, 2024, 2025}},
		{"now when no modtime", parse.Options{Location: utc, Now: time.Date(2031, 2, 1, 0, 0, 0, 0, utc)},
			[]string{"Mar  1 00:00:00", "Feb 28 00:00:00", "Apr  1 00:00:00", "Jan 31 00:00:00"}, []int{2030, 2030, 2030, 2031}},
		{"modtime in another zone", parse.Options{Location: time.FixedZone("", 3600), ModTime: time.Date(2024, 12, 31, 23, 30, 0, 0, utc)},
			[]string{"Jan  1 00:10:00"}, []int{2025}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var st State
			for i, s := range c.months {
				h, err := ParseHeader([]byte(s+" h p: m"), &st, &c.o)
				if err != nil {
					t.Fatal(err)
				}
				if h.Time.Year() != c.want[i] {
					t.Errorf("line %d %q: year %d, want %d", i+1, s, h.Time.Year(), c.want[i])
				}
			}
		})
	}
	// time.Now() is the default reference: a line from this month gets
	// this year.
	now := time.Now()
	h, err := ParseHeader([]byte(now.Format(time.Stamp)+" h p: m"), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if y := h.Time.Year(); y != now.Year() && y != now.Year()-1 { // -1 only across a New Year midnight
		t.Errorf("default year %d, want %d", y, now.Year())
	}
}

func TestSniff(t *testing.T) {
	syslogLines := [][]byte{
		[]byte("Nov 30 06:39:00 ip-172-31-27-153 CRON[21882]: pam_unix(cron:session): session closed for user root"),
		[]byte("Nov 30 07:07:14 ip-172-31-27-153 sshd[22116]: Connection closed by 122.225.103.87 [preauth]"),
		[]byte("2026-11-22T10:11:48.123456+01:00 host1 sshd[4321]: x"),
		[]byte("-- Boot 3f2a --"),
		[]byte("<34>1 2026-11-22T10:11:48.003Z host1 sshd 4321 - - x"),
	}
	if s := Sniff(syslogLines); s != 1 {
		t.Errorf("syslog sample scored %.2f, want 1", s)
	}
	bad := map[string][][]byte{
		"access log": {[]byte(`83.149.9.216 - - [17/May/2015:10:05:03 +0000] "GET / HTTP/1.1" 200 203023 "-" "Mozilla/5.0"`), []byte(`::1 - - [17/May/2015:10:05:03 +0000] "GET / HTTP/1.1" 200 1 "-" "-"`)},
		"csv":        {[]byte("timestamp,value"), []byte("2014-04-01 00:00:00,19.761252"), []byte("2014-04-01 00:05:00,20.5")},
		"csv iso":    {[]byte("2014-04-01T00:00:00Z,19.7"), []byte("2014-04-01T00:05:00Z,20.5")},
		"json":       {[]byte(`{"time":"2026-11-22T10:11:48Z","msg":"x"}`), []byte(`{"a":1}`)},
		"binary":     {[]byte("\x00\x01\x02\xff\xfe"), []byte("\x89PNG\r\n\x1a\n")},
		"app log":    {[]byte("2026-11-22T10:11:48Z INFO starting server"), []byte("2026-11-22T10:11:49Z WARN slow request")},
		"apache err": {[]byte("[Sun Dec 04 04:47:44 2005] [notice] workerEnv.init() ok")},
		"empty":      {[]byte(""), []byte("\r")},
	}
	for name, lines := range bad {
		if s := Sniff(lines); s >= parse.MinSniffScore {
			t.Errorf("%s scored %.2f, want < %.2f", name, s, parse.MinSniffScore)
		}
	}
}

// TestNoAllocs checks that framing allocates nothing, with and without a
// cache hit.
func TestNoAllocs(t *testing.T) {
	lines := [][]byte{
		[]byte("Nov 30 06:39:00 ip-172-31-27-153 CRON[21882]: pam_unix(cron:session): session closed for user root"),
		[]byte("Nov 30 06:40:01 ip-172-31-27-153 sshd[22116]: Connection closed by 122.225.103.87 [preauth]"),
		[]byte("2026-11-22T10:11:48.123456+01:00 host1 sshd[4321]: x"),
		[]byte("<165>1 2026-11-22T10:11:48Z host1 app 77 ID47 [a@1 x=\"y\"] msg"),
		[]byte("garbage"),
		[]byte("-- Boot x --"),
	}
	o := parse.Options{Location: time.UTC, Year: 2026}
	var st State
	var h Header
	n := 0
	allocs := testing.AllocsPerRun(1000, func() {
		_ = st.Parse(lines[n%len(lines)], &o, &h)
		n++
	})
	if allocs != 0 {
		t.Errorf("%.1f allocs per line, want 0", allocs)
	}
}

func FuzzParseHeader(f *testing.F) {
	ins, _ := filepath.Glob(filepath.Join("testdata", "*", "input"))
	for _, in := range ins {
		b, _ := os.ReadFile(in)
		for _, l := range bytes.Split(b, []byte("\n")) {
			f.Add(l)
		}
	}
	o := parse.Options{Location: time.UTC, Now: goldenNow}
	f.Fuzz(func(t *testing.T, line []byte) {
		var st State
		h, err := ParseHeader(line, &st, &o)
		if err != nil {
			if !errors.Is(err, parse.ErrMalformed) && !errors.Is(err, parse.ErrSkip) {
				t.Fatalf("%q: error %v wraps neither sentinel", line, err)
			}
			return
		}
		checkHeader(t, line, &h)
		// Deterministic: a second fresh parse gives the same header.
		h2, err := ParseHeader(line, new(State), &o)
		if err != nil || !h2.Time.Equal(h.Time) || !bytes.Equal(h2.Msg, h.Msg) || !bytes.Equal(h2.Host, h.Host) {
			t.Fatalf("%q: second parse differs: %v", line, err)
		}
	})
}

// benchLines returns the real secrepo auth.log lines (87k) or skips.
func benchLines(b *testing.B) ([][]byte, int) {
	b.Helper()
	data, err := os.ReadFile(testdata.File(b, "auth-logs/secrepo/auth.log"))
	if err != nil {
		b.Fatal(err)
	}
	lines := bytes.Split(bytes.TrimSuffix(data, []byte("\n")), []byte("\n"))
	return lines, len(data)
}

func BenchmarkParseHeader(b *testing.B) {
	lines, size := benchLines(b)
	o := parse.Options{Location: time.UTC, Year: 2015}
	var st State
	var h Header
	b.SetBytes(int64(size / len(lines)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := st.Parse(lines[i%len(lines)], &o, &h); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "lines/s")
}

func ExampleParseHeader() {
	o := parse.Options{Year: 2026, Location: time.UTC}
	h, err := ParseHeader([]byte("Nov 22 10:11:48 web1 sshd[4321]: Accepted publickey for bob"), nil, &o)
	fmt.Println(h.Time, string(h.Host), string(h.Program), h.PID, string(h.Msg), err)
	// Output: 2026-11-22 10:11:48 +0000 UTC web1 sshd 4321 Accepted publickey for bob <nil>
}

// TestInferYear (issue 10 item 10): a copied log with a fresh mtime must
// not date events after the mtime; the year is rolled back and that is
// reported.
func TestInferYear(t *testing.T) {
	utc := time.UTC
	mod := time.Date(2026, 12, 4, 16, 58, 0, 0, utc)
	for _, c := range []struct {
		name, first, last string
		mod               time.Time
		year              int
		rolled, ok        bool
	}{
		// secrepo: Nov 30 – Dec 31, copied on 2026-12-04: Dec 31 2026 is in
		// the future, so the log is from 2025.
		{"copied", "Nov 30 06:39:00 h CRON[1]: x", "Dec 31 22:27:48 h sshd[2]: x", mod, 2025, true, true},
		// Written up to the mtime: the mtime's year.
		{"live", "Nov 30 06:39:00 h CRON[1]: x", "Dec  4 16:50:00 h sshd[2]: x", mod, 2026, false, true},
		// Across a new year: the first line a year before the last.
		{"new year", "Dec 28 06:39:00 h CRON[1]: x", "Jan  3 10:00:00 h sshd[2]: x", time.Date(2027, 1, 3, 11, 0, 0, 0, utc), 2026, false, true},
		// Within a day of the mtime (zone skew): not rolled back.
		{"zone skew", "Dec  1 00:00:00 h a: x", "Dec  4 23:00:00 h a: x", mod, 2026, false, true},
		{"not rfc3164", "2026-11-30T06:39:00Z h a: x", "Dec  4 16:50:00 h a: x", mod, 0, false, false},
		{"no mtime", "Nov 30 06:39:00 h a: x", "Dec  4 16:50:00 h a: x", time.Time{}, 0, false, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			y, rolled, ok := InferYear([]byte(c.first), []byte(c.last), c.mod, utc)
			if y != c.year || rolled != c.rolled || ok != c.ok {
				t.Errorf("InferYear = %d, %v, %v; want %d, %v, %v", y, rolled, ok, c.year, c.rolled, c.ok)
			}
		})
	}
}

// FuzzInferYear: never panics; when it answers, the last line dated from
// the answer (plus a new year when the input crosses one) is no later than
// a day past the mtime.
func FuzzInferYear(f *testing.F) {
	f.Add([]byte("Nov 30 06:39:00 h a: x"), []byte("Dec 31 22:27:48 h a: x"), int64(1796403480))
	f.Add([]byte("Dec 28 06:39:00 h a: x"), []byte("Jan  3 10:00:00 h a: x"), int64(1798884000))
	f.Fuzz(func(t *testing.T, first, last []byte, mod int64) {
		m := time.Unix(mod%(1<<40), 0).UTC()
		y, _, ok := InferYear(first, last, m, time.UTC)
		if !ok {
			return
		}
		o := parse.Options{Year: 2000, Location: time.UTC}
		hf, _ := ParseHeader(first, nil, &o)
		hl, _ := ParseHeader(last, nil, &o)
		ly := y
		if hf.Time.After(hl.Time) {
			ly++
		}
		lt := time.Date(ly, hl.Time.Month(), hl.Time.Day(), hl.Time.Hour(), hl.Time.Minute(), hl.Time.Second(), 0, time.UTC)
		if lt.After(m.Add(yearSlack)) && !(hl.Time.Month() == 2 && hl.Time.Day() == 29) {
			t.Fatalf("last line dated %v, after the mtime %v", lt, m)
		}
	})
}
