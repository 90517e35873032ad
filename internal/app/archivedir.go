package app

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// errNotArchive is wrapped by checkArchiveDir's error for a directory that
// holds no winnow archive.
var errNotArchive = errors.New("not a winnow archive (no _commits.log and no kind=* directories); create one with 'winnow analyze --archive DIR'")

// checkArchiveDir makes sure dir is an existing winnow archive, so that
// reading a mistyped or missing --archive fails (exit 2) instead of
// reporting a clean, empty result.
func checkArchiveDir(dir string) error {
	fi, err := os.Stat(dir)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return fmt.Errorf("cannot open archive %s: %w", dir, err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("cannot open archive %s: not a directory", dir)
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("cannot read archive %s: %w", dir, err)
	}
	for _, e := range ents {
		if e.Name() == "_commits.log" || (e.IsDir() && strings.HasPrefix(e.Name(), "kind=")) {
			return nil
		}
	}
	return fmt.Errorf("%s: %w", filepath.Clean(dir), errNotArchive)
}
