package archive

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"strings"
	"syscall"
)

// ErrSymlink is wrapped by the error for a symbolic link met inside an
// archive where winnow writes: winnow never writes through a link (a
// `_commits.log -> ../victim.txt` would otherwise append to the victim,
// a symlinked `kind=auth` directory would receive the data).
var ErrSymlink = errors.New("is a symbolic link; winnow never writes through links inside an archive (remove it)")

// store is the archive directory opened for writing. Every path it takes
// is slash-separated and relative to the archive root. It never follows a
// symbolic link inside the archive: directories are checked with Lstat
// component by component before use, files are opened with O_NOFOLLOW
// (and created with O_EXCL), and all access goes through an os.Root so
// that nothing can resolve outside the archive. The root directory itself
// is the user's choice and may be a link.
type store struct {
	dir  string // as the user named it (for messages and readers)
	root *os.Root
}

func openStore(dir string) (*store, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("cannot create archive %s: %w", dir, err)
	}
	r, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("cannot open archive %s: %w", dir, err)
	}
	return &store{dir: dir, root: r}, nil
}

func (s *store) close() error { return s.root.Close() }

// linkErr names a link found at rel (callers name the archive).
func (s *store) linkErr(rel string) error {
	return fmt.Errorf("%s %w", rel, ErrSymlink)
}

// mkdirs creates the directory rel and its missing parents, refusing any
// component that is a symbolic link or not a directory.
func (s *store) mkdirs(rel string) error {
	cur := ""
	for _, part := range strings.Split(rel, "/") {
		if part == "" || part == "." {
			continue
		}
		cur = path.Join(cur, part)
		fi, err := s.root.Lstat(cur)
		switch {
		case err == nil && fi.Mode()&fs.ModeSymlink != 0:
			return s.linkErr(cur)
		case err == nil && !fi.IsDir():
			return fmt.Errorf("archive %s: %s is not a directory", s.dir, cur)
		case err == nil:
			continue
		case !errors.Is(err, fs.ErrNotExist):
			return fmt.Errorf("cannot create partition %s: %w", cur, err)
		}
		if err := s.root.Mkdir(cur, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("cannot create partition %s: %w", cur, err)
		}
	}
	return nil
}

// checkDirs refuses rel's parent directories when one is a link.
func (s *store) checkDirs(rel string) error {
	dir := path.Dir(rel)
	if dir == "." {
		return nil
	}
	cur := ""
	for _, part := range strings.Split(dir, "/") {
		cur = path.Join(cur, part)
		fi, err := s.root.Lstat(cur)
		if err != nil {
			return nil // the open reports it
		}
		if fi.Mode()&fs.ModeSymlink != 0 {
			return s.linkErr(cur)
		}
	}
	return nil
}

// openFile opens rel without following a link at any component.
func (s *store) openFile(rel string, flag int, perm os.FileMode) (*os.File, error) {
	if err := s.checkDirs(rel); err != nil {
		return nil, err
	}
	f, err := s.root.OpenFile(rel, flag|syscall.O_NOFOLLOW, perm)
	if err != nil {
		if fi, lerr := s.root.Lstat(rel); lerr == nil && fi.Mode()&fs.ModeSymlink != 0 {
			return nil, s.linkErr(rel)
		}
		return nil, err
	}
	return f, nil
}

// create makes a new file rel (it must not exist).
func (s *store) create(rel string) (*os.File, error) {
	return s.openFile(rel, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
}

// rename moves a file inside the archive; a link at newRel is refused.
func (s *store) rename(oldRel, newRel string) error {
	if fi, err := s.root.Lstat(newRel); err == nil && fi.Mode()&fs.ModeSymlink != 0 {
		return s.linkErr(newRel)
	}
	if err := s.checkDirs(newRel); err != nil {
		return err
	}
	return s.root.Rename(oldRel, newRel)
}

// remove deletes the file or empty directory rel (a link itself, never
// its target).
func (s *store) remove(rel string) error { return s.root.Remove(rel) }

// syncDir fsyncs the directory rel ("." for the root).
func (s *store) syncDir(rel string) error {
	d, err := s.openFile(rel, os.O_RDONLY|syscall.O_DIRECTORY, 0)
	if err != nil {
		return fmt.Errorf("cannot sync %s: %w", rel, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, os.ErrInvalid) {
		return fmt.Errorf("cannot sync %s: %w", rel, err)
	}
	return nil
}
