package app

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"winnow/internal/detect/detecttest"
	"winnow/internal/generate"
	"winnow/internal/state"
)

// childEnv carries a helper process's arguments (JSON).
const childEnv = "WINNOW_STATE_CHILD"

type childArgs struct {
	File, State string
	Every       int64
}

// TestStateChild is the helper process of TestStateSurvivesKill: it runs
// analyze --state once, the report on its stdout, and exits.
func TestStateChild(t *testing.T) {
	env := os.Getenv(childEnv)
	if env == "" {
		t.Skip("helper process of TestStateSurvivesKill")
	}
	var a childArgs
	if err := json.Unmarshal([]byte(env), &a); err != nil {
		t.Fatal(err)
	}
	o := AnalyzeOptions{Args: []string{a.File}, Output: "json", MinSeverity: "info", TZ: "UTC", Year: 2026, Workers: 2,
		Stdout: os.Stdout, Stderr: os.Stderr, Stdin: strings.NewReader(""), Quiet: true,
		Now: time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)}
	o.State, o.CheckpointEvery = a.State, a.Every
	code, err := Analyze(context.Background(), o)
	if err != nil {
		os.Stderr.WriteString("winnow: " + err.Error() + "\n")
	}
	os.Exit(code)
}

// child starts the helper process.
func child(t *testing.T, a childArgs) (*exec.Cmd, *bytes.Buffer, *bytes.Buffer) {
	t.Helper()
	b, _ := json.Marshal(a)
	cmd := exec.Command(os.Args[0], "-test.run=^TestStateChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), childEnv+"="+string(b))
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd, &out, &errb
}

// printed returns the findings in a report, key → body; a line cut by a
// kill is not a finding.
func printed(t *testing.T, out []byte) map[string][]string {
	m := map[string][]string{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<24)
	for sc.Scan() {
		var d doc
		if json.Unmarshal(sc.Bytes(), &d) != nil || d.Winnow.Record != "finding" {
			continue
		}
		m[findingKey(&d)] = append(m[findingKey(&d)], findingBody(&d))
	}
	return m
}

// TestStateSurvivesKill: analyze --state on a large generated day, killed
// with SIGKILL at random points while it reads and checkpoints (and run
// again each time, as cron would), then once to completion, reports the
// same findings — rule, entity, episode start, and what they say — as one
// uninterrupted run: none missing, none twice. (A run killed in the
// instant between printing its report and saving the state that records
// it prints those findings again on the next run — reporting is at least
// once; such a kill is tolerated and logged.) A last run reports nothing.
func TestStateSurvivesKill(t *testing.T) {
	if testing.Short() || detecttest.Race {
		t.Skip("runs analyze over a generated day about ten times (processes: the race detector has nothing to see)")
	}
	deadline := time.Now().Add(4 * time.Minute)
	dir := t.TempDir()
	file := filepath.Join(dir, "auth.log")
	var buf bytes.Buffer
	cfg := generate.DefaultAuthConfig()
	cfg.Lines = 150000
	if _, err := generate.Auth(&buf, cfg); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	const every = 15000

	// One uninterrupted run (over a copy with the name the grown log has,
	// which the evidence lines cite).
	wholeDir := filepath.Join(dir, "whole")
	os.MkdirAll(wholeDir, 0o700)
	os.Rename(file, filepath.Join(wholeDir, "auth.log"))
	file = filepath.Join(wholeDir, "auth.log")
	began := time.Now()
	cmd, out, errb := child(t, childArgs{File: file, State: filepath.Join(dir, "whole.state"), Every: every})
	if err := cmd.Wait(); err != nil {
		t.Fatalf("uninterrupted run: %v\n%s", err, errb)
	}
	took := time.Since(began)
	want := printed(t, out.Bytes())
	if len(want) < 20 {
		t.Fatalf("the uninterrupted run reported %d findings", len(want))
	}

	// Killed runs over a log that grows between them (as cron sees it),
	// then one to completion once the log is whole.
	sdir := filepath.Join(dir, "crashed")
	grown := filepath.Join(dir, "grown", "auth.log") // same name in the evidence
	os.MkdirAll(filepath.Dir(grown), 0o700)
	full := buf.Bytes()
	upTo := func(frac float64) []byte {
		n := int(frac * float64(len(full)))
		return full[:n+bytes.IndexByte(full[n:], '\n')+1]
	}
	os.WriteFile(grown, upTo(0.4), 0o600)
	rng := rand.New(rand.NewPCG(1, 2))
	got := map[string][]string{}
	kills, completed, late := 0, 0, 0
	for i := 0; i < 6 && time.Now().Before(deadline); i++ {
		if i%2 == 1 {
			os.WriteFile(grown+".tmp", upTo(0.4+0.2*float64(i/2+1)), 0o600)
			grow(t, grown, grown+".tmp")
		}
		cmd, out, errb := child(t, childArgs{File: grown, State: sdir, Every: every})
		delay := time.Duration((0.1 + 0.4*rng.Float64()) * float64(took))
		timer := time.AfterFunc(delay, func() { cmd.Process.Signal(syscall.SIGKILL) })
		err := cmd.Wait()
		timer.Stop()
		p := printed(t, out.Bytes())
		if err == nil {
			completed++
		} else if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			kills++
			if len(p) > 0 {
				late++ // killed while or after printing its report
			}
		} else {
			t.Fatalf("run %d: %v\n%s", i, err, errb)
		}
		for k, v := range p {
			got[k] = append(got[k], v...)
		}
	}
	os.WriteFile(grown+".tmp", full, 0o600)
	grow(t, grown, grown+".tmp")
	cmd, out, errb = child(t, childArgs{File: grown, State: sdir, Every: every})
	if err := cmd.Wait(); err != nil {
		t.Fatalf("final run: %v\n%s", err, errb)
	}
	for k, v := range printed(t, out.Bytes()) {
		got[k] = append(got[k], v...)
	}
	cmd, out, errb = child(t, childArgs{File: grown, State: sdir, Every: every})
	if err := cmd.Wait(); err != nil {
		t.Fatalf("last run: %v\n%s", err, errb)
	}
	if n := len(printed(t, out.Bytes())); n != 0 {
		t.Errorf("a run with nothing new reported %d findings", n)
	}

	var missing, differ, twice []string
	for k, w := range want {
		g := got[k]
		switch {
		case len(g) == 0:
			missing = append(missing, k)
		case g[len(g)-1] != strings.ReplaceAll(w[0], wholeDir, filepath.Dir(grown)):
			differ = append(differ, k+"\n   got  "+g[len(g)-1]+"\n   want "+w[0])
		}
		for i := 1; i < len(g); i++ {
			if g[i] == g[i-1] {
				twice = append(twice, k)
			}
		}
	}
	var extra []string
	for k := range got {
		if _, ok := want[k]; !ok {
			extra = append(extra, k)
		}
	}
	saves := uint64(0)
	if b, err := os.ReadFile(filepath.Join(sdir, state.FileName)); err == nil {
		var s state.Snapshot
		if state.Decode(b, &s) == nil {
			saves = s.Saves
		}
	}
	t.Logf("%d findings; %d runs killed (%d of them while printing), %d finished before the kill; %d state saves; uninterrupted run %v",
		len(want), kills, late, completed, saves, took.Round(time.Millisecond))
	if saves <= uint64(2+completed) {
		t.Errorf("only %d state saves: the killed runs made no checkpoint", saves)
	}
	if kills == 0 {
		t.Error("no run was killed mid-way")
	}
	if len(missing)+len(extra)+len(differ) > 0 {
		t.Errorf("after kills: %d findings missing, %d extra, %d different (of %d)\nmissing %v\nextra %v\ndiffer %v",
			len(missing), len(extra), len(differ), len(want), head(missing), head(extra), head(differ))
	}
	if len(twice) > 0 && late == 0 {
		t.Errorf("%d findings reported twice unchanged: %v", len(twice), head(twice))
	}
}

// grow appends to path what next holds beyond path's current length (the
// log grows; it is not replaced), then removes next.
func grow(t *testing.T, path, next string) {
	t.Helper()
	cur, _ := os.ReadFile(path)
	b, err := os.ReadFile(next)
	if err != nil || !bytes.HasPrefix(b, cur) {
		t.Fatalf("grow %s: %v", path, err)
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Write(b[len(cur):])
	f.Close()
	os.Remove(next)
}
