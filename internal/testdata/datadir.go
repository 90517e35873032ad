// Package testdata locates the shared real datasets (../shared/data beside
// the repository root, see its README) for tests and benchmarks. It is
// imported only by _test.go files.
package testdata

import (
	"os"
	"path/filepath"
	"testing"
)

// EnvVar names the environment variable that overrides the data directory.
const EnvVar = "WINNOW_DATA"

// Dir returns the real-data directory: $WINNOW_DATA if set, else
// ../shared/data relative to the repository root (the nearest ancestor of
// the working directory holding go.mod). It skips the test with a clear
// message when the directory is absent, as in a user's fresh clone.
func Dir(t testing.TB) string {
	t.Helper()
	d, why := find()
	if d == "" {
		t.Skipf("real data not available (%s); set %s or put the datasets in ../shared/data beside the repository", why, EnvVar)
	}
	return d
}

// File returns the path of rel (slash-separated) inside Dir, skipping the
// test when the data directory or the file is absent.
func File(t testing.TB, rel string) string {
	t.Helper()
	p := filepath.Join(Dir(t), filepath.FromSlash(rel))
	if _, err := os.Stat(p); err != nil {
		t.Skipf("real data file %s not available: %v", rel, err)
	}
	return p
}

func find() (dir, why string) {
	if d := os.Getenv(EnvVar); d != "" {
		if isDir(d) {
			return d, ""
		}
		return "", EnvVar + "=" + d + " is not a directory"
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", err.Error()
	}
	for d := wd; ; {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			cand := filepath.Join(d, "..", "shared", "data")
			if isDir(cand) {
				return filepath.Clean(cand), ""
			}
			return "", filepath.Clean(cand) + " does not exist"
		}
		parent := filepath.Dir(d)
		if parent == d {
			return "", "no go.mod above " + wd
		}
		d = parent
	}
}

func isDir(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}
