package journald

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"winnow/internal/source"
	"winnow/internal/source/sourcetest"
)

// entryJSON is a journal entry as journalctl -o json prints it.
func entryJSON(i int, msg string) string {
	b, _ := json.Marshal(map[string]any{
		"__CURSOR": fmt.Sprintf("s=abc;i=%x", i), "__REALTIME_TIMESTAMP": fmt.Sprint(1795000000000000 + int64(i)*1000),
		"_HOSTNAME": "web1", "SYSLOG_IDENTIFIER": "sshd", "_PID": "4242", "MESSAGE": msg,
	})
	return string(b)
}

func want(i int, msg string) string {
	t := time.UnixMicro(1795000000000000 + int64(i)*1000).UTC()
	return t.Format("2006-01-02T15:04:05.000000-07:00") + " web1 sshd[4242]: " + msg
}

// tailSource is a journald source whose "journalctl" follows a file of
// JSON entries.
func tailSource(t *testing.T) (*Source, string) {
	path := filepath.Join(t.TempDir(), "journal.json")
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	return New(Options{Command: []string{"tail", "-n", "+1", "-f", path}}), path
}

func TestConformance(t *testing.T) {
	sourcetest.Run(t, func(t *testing.T, _ []string) sourcetest.Harness {
		s, path := tailSource(t)
		idx := map[string]int{}
		return sourcetest.Harness{Source: s,
			Feed: func(t *testing.T, lines []string) {
				f, _ := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
				defer f.Close()
				for i, l := range lines {
					fmt.Fprintln(f, entryJSON(i, l))
				}
			},
			Want: func(line string) string {
				i := idx["n"]
				idx["n"]++
				return want(i, line)
			},
		}
	})
}

func TestLine(t *testing.T) {
	f := func(js, wantLine, wantCursor string) {
		t.Helper()
		line, cur, ok := Line([]byte(js), time.UTC)
		if wantLine == "" {
			if ok {
				t.Errorf("%s: accepted as %q", js, line)
			}
			return
		}
		if string(line) != wantLine || cur != wantCursor {
			t.Errorf("%s:\n got %q %q\nwant %q %q", js, line, cur, wantLine, wantCursor)
		}
	}
	f(`{"__CURSOR":"c1","__REALTIME_TIMESTAMP":"1795000000000000","_HOSTNAME":"h","SYSLOG_IDENTIFIER":"sshd","_PID":"7","MESSAGE":"Failed password for root from 192.0.2.1 port 22 ssh2"}`,
		"2026-11-18T11:06:40.000000+00:00 h sshd[7]: Failed password for root from 192.0.2.1 port 22 ssh2", "c1")
	f(`{"__CURSOR":"c2","__REALTIME_TIMESTAMP":"1795000000000000","_COMM":"cron","MESSAGE":[104,105,10,255]}`,
		"2026-11-18T11:06:40.000000+00:00 localhost cron: hi \xff", "c2")
	f(`{"__CURSOR":"c3","MESSAGE":"no time"}`, "", "")
	f(`not json`, "", "")
}

// Resume passes the cursor to journalctl.
func TestResumeArgs(t *testing.T) {
	s := New(Options{Units: []string{"ssh"}})
	_ = s.Resume([]source.Position{{Source: "journald", Cursor: "s=1;i=2"}})
	if got := strings.Join(s.argv(), " "); got != "journalctl -o json -f --no-pager --after-cursor=s=1;i=2 -u ssh" {
		t.Fatalf("argv %q", got)
	}
	if got := strings.Join(New(Options{}).argv(), " "); got != "journalctl -o json -f --no-pager -n 0" {
		t.Fatalf("argv %q", got)
	}
}

// The command ending is an error naming it, after the entries it printed.
func TestCommandEnds(t *testing.T) {
	s := New(Options{Command: []string{"sh", "-c", "echo '" + entryJSON(0, "x") + "'"}})
	defer s.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	b, err := s.Next(ctx)
	if err != nil || len(b.Records) != 1 || b.Pos.Cursor != "s=abc;i=0" {
		t.Fatalf("first Next: %v %+v", err, b)
	}
	if _, err := s.Next(ctx); err == nil || !strings.Contains(err.Error(), "journal") {
		t.Fatalf("after the command ended: %v", err)
	}
}
