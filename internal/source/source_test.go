package source

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// tree creates files (path → content) under a new temporary directory.
func tree(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for p, content := range files {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func names(ins []Input, dir string) []string {
	out := make([]string, len(ins))
	for i, in := range ins {
		out[i] = in.Name
		if dir != "" && in.Name != "-" {
			rel, err := filepath.Rel(dir, in.Name)
			if err == nil {
				out[i] = filepath.ToSlash(rel)
			}
		}
	}
	return out
}

func TestExpand(t *testing.T) {
	dir := tree(t, map[string]string{
		"a.log":              "a\n",
		"b.log.gz":           "b\n",
		"c.txt":              "c\n",
		".hidden.log":        "h\n",
		"logs/z.log":         "z\n",
		"logs/sub/y.log":     "y\n",
		"logs/sub/.x.log":    "x\n",
		"logs/.git/config":   "g\n",
		"logs/a.log":         "a\n",
		"empty/.only-hidden": "",
		"weird[1].log":       "w\n",
	})
	p := func(s string) string { return filepath.Join(dir, filepath.FromSlash(s)) }
	if err := os.Symlink(p("c.txt"), p("logs/link.log")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(p("logs/sub"), p("logs/dirlink")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(p("nowhere"), p("logs/dangling.log")); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name string
		args []string
		want []string
		errs []string // substrings, one per error, in order
		is   []error  // errors.Is targets, nil to skip
	}{
		{name: "files", args: []string{p("c.txt"), p("a.log")}, want: []string{"c.txt", "a.log"}},
		{name: "glob", args: []string{p("*.log")}, want: []string{"a.log", "weird[1].log"}},
		{name: "glob several", args: []string{p("*.gz"), p("[ab].log")}, want: []string{"b.log.gz", "a.log"}},
		{name: "dot glob", args: []string{p(".*.log")}, want: []string{".hidden.log"}},
		{name: "literal name with brackets", args: []string{p("weird[1].log")}, want: []string{"weird[1].log"}},
		{name: "no match", args: []string{p("*.nope"), p("a.log")}, want: []string{"a.log"},
			errs: []string{p("*.nope") + ": no files match"}, is: []error{ErrNoMatch}},
		{name: "bad pattern", args: []string{p("[a")}, errs: []string{"invalid glob pattern " + p("[a")}, is: []error{filepath.ErrBadPattern}},
		{name: "directory walk", args: []string{p("logs")},
			want: []string{"logs/a.log", "logs/link.log", "logs/sub/y.log", "logs/z.log"}},
		{name: "symlink to a directory", args: []string{p("logs/dirlink")}, want: []string{"logs/dirlink/y.log"}},
		{name: "hidden dir given explicitly", args: []string{p("logs/.git")}, want: []string{"logs/.git/config"}},
		{name: "empty directory", args: []string{p("empty")}, errs: []string{p("empty") + ": directory holds no input files"}, is: []error{ErrNoFiles}},
		{name: "missing", args: []string{p("missing.log"), p("a.log")}, want: []string{"a.log"},
			errs: []string{"cannot open " + p("missing.log") + ": no such file"}, is: []error{fs.ErrNotExist}},
		{name: "stdin", args: []string{"-", p("a.log")}, want: []string{"-", "a.log"}},
		{name: "stdin twice", args: []string{"-", "-"}, want: []string{"-"}, errs: []string{"given more than once"}, is: []error{ErrStdinTwice}},
		{name: "duplicates read once", args: []string{p("logs"), p("logs/z.log"), p("logs/*.log")},
			want: []string{"logs/a.log", "logs/link.log", "logs/sub/y.log", "logs/z.log"},
			// The walk skips a dangling symlink; a glob names it explicitly.
			errs: []string{"cannot open " + p("logs/dangling.log") + ": no such file"}, is: []error{fs.ErrNotExist}},
		{name: "empty arg", args: []string{""}, errs: []string{"empty input path"}},
		{name: "nothing", args: nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ins, errs := Expand(tc.args)
			if got := names(ins, dir); !slices.Equal(got, tc.want) && (len(got) != 0 || len(tc.want) != 0) {
				t.Errorf("inputs %q, want %q", got, tc.want)
			}
			if len(errs) != len(tc.errs) {
				t.Fatalf("errors %v, want %d", errs, len(tc.errs))
			}
			for i, err := range errs {
				if !strings.Contains(err.Error(), tc.errs[i]) {
					t.Errorf("error %q does not contain %q", err, tc.errs[i])
				}
				if i < len(tc.is) && tc.is[i] != nil && !errors.Is(err, tc.is[i]) {
					t.Errorf("error %q is not %v", err, tc.is[i])
				}
			}
		})
	}

	// Input fields.
	ins, _ := Expand([]string{p("a.log"), "-"})
	fi, _ := os.Stat(p("a.log"))
	if ins[0].Path != p("a.log") || ins[0].Size != 2 || !ins[0].ModTime.Equal(fi.ModTime()) {
		t.Errorf("file input %+v", ins[0])
	}
	if ins[1] != (Input{Name: "-", Size: -1}) {
		t.Errorf("stdin input %+v", ins[1])
	}
	// Files found in a directory are marked; named ones are not.
	ins, _ = Expand([]string{p("logs"), p("c.txt")})
	for _, in := range ins {
		if want := in.Name != p("c.txt"); in.Found != want {
			t.Errorf("%s: Found = %v, want %v", in.Name, in.Found, want)
		}
	}
}

func TestExpandUnreadable(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("running as root: chmod 000 does not stop root from reading")
	}
	dir := tree(t, map[string]string{"ok.log": "a\n", "secret.log": "s\n", "locked/x.log": "x\n", "d/in.log": "i\n", "d/no.log": "n\n"})
	p := func(s string) string { return filepath.Join(dir, filepath.FromSlash(s)) }
	for _, f := range []string{"secret.log", "locked", "d/no.log"} {
		if err := os.Chmod(p(f), 0); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() { os.Chmod(p("locked"), 0o755) })
	ins, errs := Expand([]string{p("secret.log"), p("ok.log"), p("locked"), p("d")})
	if got := names(ins, dir); !slices.Equal(got, []string{"ok.log", "d/in.log"}) {
		t.Errorf("inputs %q", got)
	}
	want := []string{"cannot open " + p("secret.log"), "cannot read " + p("locked"), "cannot open " + p("d/no.log")}
	if len(errs) != len(want) {
		t.Fatalf("errors %v", errs)
	}
	for i, err := range errs {
		if !strings.Contains(err.Error(), want[i]) || !errors.Is(err, fs.ErrPermission) {
			t.Errorf("error %q: want %q and permission denied", err, want[i])
		}
	}
}
