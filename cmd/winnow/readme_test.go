package main

import (
	"bufio"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestReadmeExamples runs the README's example commands that need no
// external file, in order, in one working directory (so a file an example
// writes is there for the next), and checks each exit code: 0, or the one
// its comment names ("# exit 1: …"). An example that names a file no
// earlier example made (a real log, an absolute or ../ path, a glob) is
// skipped; at least the quick start's generated-data examples must run.
// This keeps the README's commands and exit-code table true (issue 10).
func TestReadmeExamples(t *testing.T) {
	if raceEnabled || testing.Short() {
		t.Skip("runs the demo several times; not under -race or -short")
	}
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	examples := readmeExamples(string(readme))
	work := t.TempDir()
	t.Chdir(work)
	ran := map[string]bool{}
	for _, ex := range examples {
		if why := ex.skip(); why != "" {
			t.Logf("skipped (%s): %s", why, ex.line)
			continue
		}
		code, stderr := runExample(t, ex)
		if code != ex.want {
			t.Errorf("README example %q: exit %d, want %d\n%s", ex.line, code, ex.want, tail(stderr, 2000))
			continue
		}
		ran[ex.args[0]] = true
		t.Logf("ok (exit %d): %s", code, ex.line)
	}
	for _, cmd := range []string{"demo", "analyze", "generate", "detectors"} {
		if !ran[cmd] {
			t.Errorf("no README example of 'winnow %s' ran", cmd)
		}
	}
}

type example struct {
	line   string   // as in the README, without its comment
	args   []string // after "winnow"
	stdout string   // "> FILE" redirection, or ""
	want   int      // expected exit code
	shell  bool     // uses shell syntax this test does not run
}

var wantExit = regexp.MustCompile(`#\s*exit (\d)`)

// readmeExamples returns the "winnow …" lines of the README's sh blocks.
func readmeExamples(readme string) []example {
	var out []example
	in := false
	sc := bufio.NewScanner(strings.NewReader(readme))
	var cont string
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "```") {
			in = strings.TrimPrefix(line, "```") == "sh"
			continue
		}
		if !in {
			continue
		}
		if cont != "" {
			line = cont + " " + strings.TrimSpace(line)
			cont = ""
		}
		if strings.HasSuffix(line, "\\") {
			cont = strings.TrimSuffix(line, "\\")
			continue
		}
		line = strings.TrimSpace(line)
		if !strings.HasPrefix(line, "winnow ") {
			continue
		}
		ex := example{}
		cmd, comment, _ := strings.Cut(line, " #")
		if m := wantExit.FindStringSubmatch("#" + comment); m != nil {
			ex.want, _ = strconv.Atoi(m[1])
		}
		cmd = strings.TrimSpace(cmd)
		ex.line = cmd
		if strings.ContainsAny(cmd, "|<`;&$'\"") {
			ex.shell = true
		}
		if l, r, ok := strings.Cut(cmd, ">"); ok {
			cmd, ex.stdout = l, strings.TrimSpace(r)
		}
		ex.args = strings.Fields(cmd)[1:]
		out = append(out, ex)
	}
	return out
}

// outputFlags take a path the command writes.
var outputFlags = map[string]bool{"-o": true, "--output": true, "--out": true, "--save": true, "--save-web": true,
	"--save-dns": true, "--plot": true, "--archive": true}

var fileExt = regexp.MustCompile(`\.(log|pcap|pcapng|wnm|txt|csv|jsonl|json|mmdb|gz|xz|tsv|svg|parquet|png)$`)

// skip says why the example cannot run here ("" when it can).
func (ex example) skip() string {
	if ex.shell {
		return "shell syntax"
	}
	if len(ex.args) == 0 {
		return "no command"
	}
	for i, a := range ex.args {
		if strings.HasPrefix(a, "-") {
			continue
		}
		if !strings.Contains(a, "/") && !fileExt.MatchString(a) {
			continue
		}
		if strings.ContainsAny(a, "*?[") || filepath.IsAbs(a) || strings.HasPrefix(a, "..") {
			return "external file " + a
		}
		if i > 0 && outputFlags[ex.args[i-1]] && !(ex.args[0] != "analyze" && ex.args[i-1] == "--archive") {
			continue // written, not read
		}
		if _, err := os.Stat(a); err != nil && ex.want != 2 {
			return "no file " + a
		}
	}
	return ""
}

// runExample runs one example through the command's entry point with
// stdout and stderr in files.
func runExample(t *testing.T, ex example) (int, string) {
	t.Helper()
	outPath := ex.stdout
	if outPath == "" {
		outPath = os.DevNull
	}
	stdout, err := os.Create(outPath)
	if err != nil {
		t.Fatal(err)
	}
	stderr, err := os.CreateTemp(t.TempDir(), "stderr")
	if err != nil {
		t.Fatal(err)
	}
	saveOut, saveErr := os.Stdout, os.Stderr
	os.Stdout, os.Stderr = stdout, stderr
	code := run(context.Background(), ex.args)
	os.Stdout, os.Stderr = saveOut, saveErr
	stdout.Close()
	stderr.Close()
	b, _ := os.ReadFile(stderr.Name())
	return code, string(b)
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}
