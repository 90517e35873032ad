package access

import (
	"bytes"
	"encoding/csv"
	"errors"
	"net/netip"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"winnow/internal/event"
	"winnow/internal/parse"
	"winnow/internal/testdata"
)

// The tests in this file check the parsers against the real datasets in
// ../shared/data, with expectations computed independently: a regular
// expression for the combined format, and loghub's own structured CSV.

// readLines splits a file on '\n' only, keeping any '\r'.
func readLines(t testing.TB, path string) [][]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Split(bytes.TrimSuffix(b, []byte("\n")), []byte("\n"))
}

// reCombined is the combined format as a regular expression (optionally
// wrapped in quotes), written from the Apache documentation.
var reCombined = regexp.MustCompile(`^"?(\S+) (\S+) (\S+) \[([^\]]+)\] "((?:[^"\\]|\\.)*)" (\d{3}|-) (\d+|-)(?: "((?:[^"\\]|\\.)*)" "((?:[^"\\]|\\.)*)")?`)

// TestRealAccessLogs: every line of the Elastic site log and of the two
// scanner logs parses, and the fields agree with the regular expression.
func TestRealAccessLogs(t *testing.T) {
	for _, tc := range []struct {
		file  string
		lines int
		ips   int
	}{
		{"elastic-examples/apache_logs/apache_access.log", 10000, 1753},
		{"apache-scanner-logs/acunetix.txt", 6539, 1},
		{"apache-scanner-logs/netsparker.txt", 7314, 1},
	} {
		t.Run(tc.file, func(t *testing.T) {
			lines := readLines(t, testdata.File(t, tc.file))
			if len(lines) != tc.lines {
				t.Fatalf("%d lines, want %d", len(lines), tc.lines)
			}
			if s := Sniff(lines[:32]); s != 1 {
				t.Errorf("Sniff = %.2f on the first lines, want 1", s)
			}
			p := New(parse.Options{Location: time.UTC})
			ips := map[netip.Addr]bool{}
			for i, line := range lines {
				var ev event.Event
				if err := p.Parse(line, &ev); err != nil {
					t.Errorf("line %d: %v: %q", i+1, err, line)
					continue
				}
				checkInvariants(t, line, &ev)
				ips[ev.SrcIP] = true
				m := reCombined.FindSubmatch(line)
				if m == nil {
					t.Errorf("line %d: the reference regexp does not match: %q", i+1, line)
					continue
				}
				h := ev.HTTP
				if ev.SrcIP.String() != string(m[1]) {
					t.Errorf("line %d: ip %v, want %s", i+1, ev.SrcIP, m[1])
				}
				if st, _ := strconv.Atoi(string(m[6])); st != h.Status {
					t.Errorf("line %d: status %d, want %s", i+1, h.Status, m[6])
				}
				if bs, err := strconv.ParseInt(string(m[7]), 10, 64); (err == nil && bs != h.Bytes) || (err != nil && h.Bytes != -1) {
					t.Errorf("line %d: bytes %d, want %s", i+1, h.Bytes, m[7])
				}
				req := string(m[5])
				if f := strings.Fields(req); len(f) == 3 && !h.Invalid {
					target := h.Path
					if h.Query != "" || strings.HasSuffix(f[1], "?") {
						target += "?" + h.Query
					}
					if f[0] != h.Method || f[1] != target || f[2] != h.Protocol {
						t.Errorf("line %d: request %q %q %q, want %q", i+1, h.Method, target, h.Protocol, req)
					}
				}
				if ua := string(m[9]); ua != "-" && ua != h.UserAgent {
					t.Errorf("line %d: ua %q, want %q", i+1, h.UserAgent, ua)
				}
				want, err := time.Parse("02/Jan/2006:15:04:05 -0700", string(m[4]))
				if err != nil || !want.Equal(ev.Time) {
					t.Errorf("line %d: time %v, want %s", i+1, ev.Time, m[4])
				}
			}
			if len(ips) != tc.ips {
				t.Errorf("%d distinct clients, want %d", len(ips), tc.ips)
			}
		})
	}
}

// TestLoghubApacheErrorLog: loghub's "Apache" sample is an error log. The
// access format rejects it (so it is never misread as requests); the
// errorlog format reads every line, with the level and client address that
// loghub's structured CSV gives.
func TestLoghubApacheErrorLog(t *testing.T) {
	dir := "loghub/Apache/"
	lines := readLines(t, testdata.File(t, dir+"Apache_2k.log"))
	if s := Sniff(lines[:32]); s != 0 {
		t.Errorf("access Sniff = %.2f on the error log, want 0", s)
	}
	if s := ErrorFormat().Sniff(lines[:32]); s != 1 {
		t.Errorf("errorlog Sniff = %.2f, want 1", s)
	}
	f, err := os.Open(testdata.File(t, dir+"Apache_2k.log_structured.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	rows = rows[1:] // LineId,Time,Level,Content,EventId,EventTemplate
	if len(rows) != len(lines) {
		t.Fatalf("%d rows for %d lines", len(rows), len(lines))
	}
	reClient := regexp.MustCompile(`\[client ([^\]]+)\]`)
	p := NewError(parse.Options{Location: time.UTC})
	clients := 0
	for i, line := range lines {
		var ev event.Event
		if err := p.Parse(line, &ev); err != nil {
			t.Errorf("line %d: %v", i+1, err)
			continue
		}
		checkInvariants(t, line, &ev)
		level := rows[i][2]
		if want := level == "error"; (ev.Outcome == event.OutcomeFailure) != want {
			t.Errorf("line %d: outcome %v for level %s", i+1, ev.Outcome, level)
		}
		if !strings.HasSuffix(string(ev.Msg), rows[i][3]) {
			t.Errorf("line %d: msg %q does not end with loghub's content %q", i+1, ev.Msg, rows[i][3])
		}
		want := ""
		if m := reClient.FindStringSubmatch(string(line)); m != nil {
			want = m[1]
			clients++
		}
		if got := ev.SrcIP.String(); (want == "" && ev.SrcIP.IsValid()) || (want != "" && got != want) {
			t.Errorf("line %d: client %v, want %q", i+1, ev.SrcIP, want)
		}
		wantTime, err := time.Parse("Mon Jan 02 15:04:05 2006", rows[i][1])
		if err != nil || !wantTime.Equal(ev.Time) {
			t.Errorf("line %d: time %v, want %s", i+1, ev.Time, rows[i][1])
		}
	}
	if clients == 0 {
		t.Error("no [client] lines checked")
	}
}

// TestSniffRejectsOtherFormats: syslog, JSON, CSV and HTTP requests are not
// access logs.
func TestSniffRejectsOtherFormats(t *testing.T) {
	for _, f := range []string{
		"auth-logs/secrepo/auth.log", "loghub/OpenSSH/OpenSSH_2k.log",
		"csic2010/normalTrafficTraining.txt", "http-params-dataset/payload_train.csv",
	} {
		path := testdata.File(t, f)
		lines := readLines(t, path)
		if len(lines) > 32 {
			lines = lines[:32]
		}
		if s := Sniff(lines); s > 0.1 {
			t.Errorf("%s: access Sniff = %.2f", f, s)
		}
		if s := ErrorFormat().Sniff(lines); s > 0.1 {
			t.Errorf("%s: errorlog Sniff = %.2f", f, s)
		}
	}
}

// TestAllocs: once the interners and the time cache have seen a file's
// strings, a line costs at most one allocation (its request target) plus
// the slab share of the HTTP part (decoded paths excepted: those lines are
// left out).
func TestAllocs(t *testing.T) {
	lines := readLines(t, testdata.File(t, "elastic-examples/apache_logs/apache_access.log"))
	p := New(parse.Options{Location: time.UTC})
	var ev event.Event
	var keep [][]byte
	for _, l := range lines {
		if p.Parse(l, &ev) == nil && ev.HTTP.PathDecoded == ev.HTTP.Path && ev.HTTP.QueryDecoded == ev.HTTP.Query {
			keep = append(keep, l)
		}
	}
	n := 0
	allocs := testing.AllocsPerRun(len(keep), func() {
		_ = p.Parse(keep[n%len(keep)], &ev)
		n++
	})
	if allocs > 1+2.0/slabSize {
		t.Errorf("%.4f allocs per line, want ≤ 1 (the target string) + one slab per %d lines", allocs, slabSize)
	}
}

func TestErrorsWrapSentinels(t *testing.T) {
	var ev event.Event
	err := New(parse.Options{}).Parse([]byte("not a log line"), &ev)
	if !errors.Is(err, parse.ErrMalformed) {
		t.Errorf("error %v does not wrap ErrMalformed", err)
	}
}
