package serve

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"winnow/internal/detect"
	"winnow/internal/event"
	"winnow/internal/parse"
	"winnow/internal/parse/authlog"
	"winnow/internal/source"
	"winnow/internal/source/syslognet"
)

func formats() *parse.Formats {
	f := &parse.Formats{}
	f.Add(authlog.Format())
	return f
}

// daemon starts a daemon on cfg (YAML) and returns it with a stop function
// that drains it and returns Run's error.
func daemon(t *testing.T, yml string, reload func() (*Config, error)) (*Daemon, chan os.Signal, func() error) {
	t.Helper()
	cfg, err := ParseConfig("test.yaml", []byte(yml), nil)
	if err != nil {
		t.Fatal(err)
	}
	d, err := New(Options{Config: cfg, Reload: reload, NewRegistry: registry, Formats: formats(), Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	hup := make(chan os.Signal, 1)
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx, hup) }()
	var once sync.Once
	var runErr error
	stop := func() error {
		once.Do(func() {
			cancel()
			select {
			case runErr = <-done:
			case <-time.After(60 * time.Second):
				runErr = fmt.Errorf("daemon did not drain")
			}
		})
		return runErr
	}
	t.Cleanup(func() { _ = stop() })
	return d, hup, stop
}

// waitFor polls cond for up to 20 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

type doc struct {
	Rule   struct{ Name string } `json:"rule"`
	Source struct{ IP string }   `json:"source"`
	Winnow struct {
		Incident struct {
			ID   string
			Open bool
		} `json:"incident"`
	} `json:"winnow"`
}

func readDocs(t *testing.T, path string) []doc {
	b, _ := os.ReadFile(path)
	var out []doc
	sc := bufio.NewScanner(strings.NewReader(string(b)))
	for sc.Scan() {
		var d doc
		if err := json.Unmarshal(sc.Bytes(), &d); err != nil {
			t.Fatalf("bad JSON line %q: %v", sc.Text(), err)
		}
		out = append(out, d)
	}
	return out
}

func scrape(t *testing.T, addr net.Addr) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get("http://" + addr.String() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	p := expfmt.NewTextParser(model.UTF8Validation)
	mf, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("metrics do not parse: %v", err)
	}
	return mf
}

// value returns the metric's value for the labels given (name=value pairs).
func value(mf map[string]*dto.MetricFamily, name string, labels ...string) (float64, bool) {
	f, ok := mf[name]
	if !ok {
		return 0, false
	}
next:
	for _, m := range f.Metric {
		for i := 0; i+1 < len(labels); i += 2 {
			found := false
			for _, lp := range m.Label {
				if lp.GetName() == labels[i] && lp.GetValue() == labels[i+1] {
					found = true
				}
			}
			if !found {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue(), true
		case m.Gauge != nil:
			return m.Gauge.GetValue(), true
		}
	}
	return 0, false
}

func failureLines(ip string, n int, host string) []string {
	var out []string
	t0 := time.Now().UTC().Add(-time.Minute)
	for i := range n {
		ts := t0.Add(time.Duration(i) * time.Second).Format("2006-01-02T15:04:05.000000Z")
		out = append(out, fmt.Sprintf("<38>1 %s %s sshd 4242 - - Failed password for root from %s port %d ssh2", ts, host, ip, 40000+i))
	}
	return out
}

func sendOctets(t *testing.T, addr net.Addr, lines []string) {
	t.Helper()
	c, err := net.Dial("tcp", addr.String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, l := range lines {
		fmt.Fprintf(c, "%d %s", len(l), l)
	}
}

const serveYAML = `
data_dir: %s
listen:
  metrics: 127.0.0.1:0
inputs:
  - name: syslog
    type: syslog
    network: tcp
    address: 127.0.0.1:0
    format: syslog
sinks:
  - type: jsonl
    path: %s
detectors:
  only: [auth.brute_force]
  params:
    auth.brute_force:
      threshold: %d
engine:
  heartbeat: 20ms
  checkpoint: 50ms
`

// End to end on loopback: syslog over TCP in, a brute force reported while
// it goes on, metrics scraped and parsed, SIGHUP applying a new threshold
// without a restart, SIGTERM draining with state saved.
func TestServeSyslog(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "findings.jsonl")
	data := filepath.Join(dir, "data")
	reloaded := fmt.Sprintf(serveYAML, data, out, 5)
	d, hup, stop := daemon(t, fmt.Sprintf(serveYAML, data, out, 20), func() (*Config, error) {
		return ParseConfig("test.yaml", []byte(reloaded), nil)
	})
	addr := d.Sources()[0].(*syslognet.Receiver).Addr()

	get := func(path string) int {
		resp, err := http.Get("http://" + d.MetricsAddr().String() + path)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	waitFor(t, "readyz", func() bool { return get("/readyz") == 200 })
	if get("/healthz") != 200 {
		t.Fatal("healthz")
	}

	sendOctets(t, addr, failureLines("203.0.113.7", 25, "web7"))
	waitFor(t, "an open brute-force finding", func() bool {
		for _, dc := range readDocs(t, out) {
			if dc.Rule.Name == "auth.brute_force" && dc.Source.IP == "203.0.113.7" && dc.Winnow.Incident.Open {
				return true
			}
		}
		return false
	})
	mf := scrape(t, d.MetricsAddr())
	if v, _ := value(mf, "winnow_input_events_total", "input", "syslog"); v != 25 {
		t.Errorf("winnow_input_events_total = %v, want 25", v)
	}
	if v, _ := value(mf, "winnow_findings_total", "rule", "auth.brute_force"); v < 1 {
		t.Errorf("winnow_findings_total = %v", v)
	}
	if v, ok := value(mf, "winnow_sink_written_total"); !ok || v < 1 {
		t.Errorf("winnow_sink_written_total = %v %v", v, ok)
	}
	for _, name := range []string{"winnow_input_lag_seconds", "winnow_detector_seconds_total", "winnow_input_connections", "go_goroutines"} {
		if _, ok := mf[name]; !ok {
			t.Errorf("metric %s missing", name)
		}
	}

	// SIGHUP: threshold 5 applies to the next source.
	hup <- nil
	waitFor(t, "the reload", func() bool {
		v, _ := value(scrape(t, d.MetricsAddr()), "winnow_reloads_total", "result", "ok")
		return v == 1
	})
	sendOctets(t, addr, failureLines("198.51.100.9", 6, "web8"))
	waitFor(t, "a finding under the reloaded threshold", func() bool {
		for _, dc := range readDocs(t, out) {
			if dc.Source.IP == "198.51.100.9" {
				return true
			}
		}
		return false
	})

	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(data, "state.snap")); err != nil {
		t.Fatalf("no state saved at drain: %v", err)
	}
	// At drain the open episodes closed: the last report of each incident
	// is closed.
	last := map[string]bool{}
	for _, dc := range readDocs(t, out) {
		last[dc.Winnow.Incident.ID] = dc.Winnow.Incident.Open
	}
	for id, open := range last {
		if open {
			t.Errorf("incident %s still open after drain", id)
		}
	}
}

// A followed file: after a restart, reading resumes at the saved position:
// nothing read twice, nothing lost (lines written while down are read).
func TestServeFollowRestart(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "auth.log")
	out := filepath.Join(dir, "f.jsonl")
	yml := fmt.Sprintf(`
data_dir: %s
listen: {metrics: ""}
inputs:
  - {name: auth, type: follow, paths: [%s], poll: 10ms, format: syslog}
sinks:
  - {type: jsonl, path: %s}
engine: {heartbeat: 20ms, checkpoint: 50ms, year: 2026, timezone: UTC}
`, filepath.Join(dir, "data"), log, out)
	write := func(from, n int) {
		f, _ := os.OpenFile(log, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
		for i := from; i < from+n; i++ {
			fmt.Fprintf(f, "Nov 22 10:%02d:%02d web1 sshd[%d]: Failed password for alice from 192.0.2.%d port 22 ssh2\n", i/60, i%60, i, 1+i%200)
		}
		f.Close()
	}
	write(0, 3) // before the first start: read from the end, not these
	d, _, stop := daemon(t, yml, nil)
	waitFor(t, "the file opened", func() bool { return d.sources[0].(source.Stater).Stats().Files == 1 })
	write(3, 10)
	waitFor(t, "10 events", func() bool { return d.live.Inputs()[0].Events == 10 })
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if got := d.live.Inputs()[0].Events; got != 10 {
		t.Fatalf("%d events in the first run", got)
	}
	write(13, 5) // while down
	d2, _, stop2 := daemon(t, yml, nil)
	waitFor(t, "5 events after the restart", func() bool { return d2.live.Inputs()[0].Events >= 5 })
	write(18, 2)
	waitFor(t, "7 events", func() bool { return d2.live.Inputs()[0].Events >= 7 })
	time.Sleep(100 * time.Millisecond)
	if got := d2.live.Inputs()[0].Events; got != 7 {
		t.Fatalf("%d events after the restart, want 7 (5 written while down + 2)", got)
	}
	if err := stop2(); err != nil {
		t.Fatal(err)
	}
}

// A second daemon on the same data directory is refused.
func TestServeBusyDataDir(t *testing.T) {
	dir := t.TempDir()
	yml := fmt.Sprintf("data_dir: %s\nlisten: {metrics: \"\"}\ninputs: [{name: a, type: follow, paths: [%s/x]}]\nsinks: [{type: jsonl, path: %s/o}]\n", dir, dir, dir)
	daemon(t, yml, nil)
	cfg, _ := ParseConfig("t.yaml", []byte(yml), nil)
	if _, err := New(Options{Config: cfg, NewRegistry: registry, Formats: formats()}); err == nil || !strings.Contains(err.Error(), "in use") {
		t.Fatalf("second daemon: %v", err)
	}
}

var _ = detect.Stats{}

// A closed incident is reported once, also across a restart (the reported
// set is kept in the state snapshot).
func TestServeNoDuplicateAfterRestart(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "f.jsonl")
	yml := fmt.Sprintf("data_dir: %s\nlisten: {metrics: \"\"}\ninputs: [{name: a, type: follow, paths: [%s/none]}]\nsinks: [{type: jsonl, path: %s}]\n",
		filepath.Join(dir, "data"), dir, out)
	a := event.Alert{Rule: "auth.brute_force", Entity: event.Entity{Type: event.EntityIP, Value: "192.0.2.1"},
		Start: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), End: time.Date(2026, 1, 1, 0, 5, 0, 0, time.UTC),
		Severity: 47, Score: 0.6, Description: "x"}
	for range 2 {
		d, _, stop := daemon(t, yml, nil)
		d.emit(a)
		d.emit(a) // a repeat in the same run too
		if err := stop(); err != nil {
			t.Fatal(err)
		}
	}
	if docs := readDocs(t, out); len(docs) != 1 {
		t.Fatalf("%d reports of one closed incident over two runs, want 1", len(docs))
	}
	a.Description = "y" // an update with new content is reported
	d, _, stop := daemon(t, yml, nil)
	d.emit(a)
	stop()
	if docs := readDocs(t, out); len(docs) != 2 {
		t.Fatalf("%d reports, want 2", len(docs))
	}
}

// A file input reads .gz and plain files once; when every input ended the
// daemon drains and Run returns.
func TestServeFileInputEnds(t *testing.T) {
	dir := t.TempDir()
	var lines []string
	for i := range 25 {
		lines = append(lines, fmt.Sprintf("Nov 22 10:00:%02d web1 sshd[%d]: Failed password for root from 203.0.113.5 port %d ssh2", i, i, 40000+i))
	}
	os.WriteFile(filepath.Join(dir, "auth.log"), []byte(strings.Join(lines, "\n")+"\n"), 0o644)
	out := filepath.Join(dir, "f.jsonl")
	yml := fmt.Sprintf("listen: {metrics: \"\"}\ninputs: [{name: old, type: file, paths: [%s/auth.log*]}]\nsinks: [{type: jsonl, path: %s}]\nengine: {year: 2026, timezone: UTC}\n", dir, out)
	cfg, _ := ParseConfig("t.yaml", []byte(yml), nil)
	d, err := New(Options{Config: cfg, NewRegistry: registry, Formats: formats()})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- d.Run(context.Background(), nil) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the daemon did not end with its inputs")
	}
	found := false
	for _, dc := range readDocs(t, out) {
		found = found || (dc.Rule.Name == "auth.brute_force" && dc.Source.IP == "203.0.113.5")
	}
	if !found {
		t.Fatal("no brute-force finding from the file input")
	}
}
