// Package source resolves command-line inputs (files, globs, directories and
// "-" for standard input) and reads them as batches of lines.
//
// Contract:
//   - Expand turns arguments into Inputs and reports, per argument, what it
//     could not resolve; the caller reports those errors and goes on.
//   - Open returns a Reader for one Input. Gzip and xz are detected by
//     their magic bytes, so compressed and plain files may be mixed freely.
//   - Reader.Next returns Chunks of consecutive Lines. A chunk's memory is
//     allocated for that chunk alone and is never reused or rewritten, so a
//     Line.B may be retained (and aliased by event.Event.Raw) for as long as
//     the consumer likes; it pins the chunk's buffer (about Options.ChunkSize
//     bytes) while it is reachable.
//   - A Reader belongs to one goroutine, except BytesRead, which any
//     goroutine may call (progress display).
//   - Bad input never panics and never stops reading: over-long lines are
//     truncated and counted, lines with binary bytes are counted (and still
//     delivered). Only a failing source (read error, truncated or corrupt
//     gzip) ends a Reader early, after every complete line read before the
//     failure has been delivered.
package source

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Input is one resolved input.
type Input struct {
	Name    string    // what reports show: the path as given/found, "-" for stdin
	Path    string    // filesystem path ("" for stdin)
	Size    int64     // bytes on disk (compressed size for .gz); -1 if unknown
	ModTime time.Time // zero for stdin
	// Found is true for a file found by walking a directory rather than
	// named by an argument or a glob: a caller may skip such a file with a
	// note when it turns out not to be a log it reads (a binary file, an
	// unknown format) instead of failing the run.
	Found bool
}

// StdinName is the argument (and Input.Name) that stands for standard input.
const StdinName = "-"

// ErrNoMatch is wrapped by Expand's error for a glob pattern that matches no
// file.
var ErrNoMatch = errors.New("no files match the pattern")

// ErrNoFiles is wrapped by Expand's error for a directory that holds no
// (non-hidden) regular file.
var ErrNoFiles = errors.New("directory holds no input files (hidden files are skipped)")

// ErrStdinTwice is wrapped by Expand's error for a second "-".
var ErrStdinTwice = errors.New("standard input (-) given more than once")

// Expand resolves CLI arguments: plain files, globs (filepath.Glob; a glob that
// matches nothing is an error naming it), directories (walked recursively, regular
// files only, hidden files/dirs skipped, sorted), and "-" for stdin (at most once).
// It returns the inputs it could resolve and one error per argument it could not
// (missing path, permission denied, ...), each message naming the path: the caller
// reports them and goes on with the rest.
//
// Details:
//   - An argument that exists as a path is taken literally even if it
//     contains glob metacharacters; otherwise an argument with *, ? or [ is
//     a pattern. Matches whose base name starts with "." are dropped unless
//     the pattern's base name starts with "." too (as a shell does).
//   - A directory (or a symlink to one) yields its regular files (and
//     symlinks to regular files) in lexical order, marked Found; hidden entries below it are skipped. A directory
//     with nothing to read is an error wrapping ErrNoFiles. Errors met
//     during the walk (an unreadable subdirectory or file) are reported one
//     per path and the walk goes on.
//   - An explicit argument may also be a named pipe or character device
//     (e.g. /dev/fd/63 from a shell's process substitution): Size is -1.
//   - Readability of regular files is checked by opening them (and closing
//     them again), so permission problems are reported here and not later.
//   - A file reached twice (given twice, or by a glob and a directory) is
//     read once, under the name it was first reached by.
func Expand(args []string) ([]Input, []error) {
	e := expander{seen: make(map[string]bool)}
	for _, a := range args {
		switch {
		case a == StdinName:
			if e.stdin {
				e.errs = append(e.errs, fmt.Errorf("%s: %w", a, ErrStdinTwice))
				continue
			}
			e.stdin = true
			e.ins = append(e.ins, Input{Name: StdinName, Size: -1})
		case a == "":
			e.errs = append(e.errs, errors.New("empty input path"))
		case hasMeta(a) && !exists(a):
			e.glob(a)
		default:
			e.resolve(a, true)
		}
	}
	return e.ins, e.errs
}

type expander struct {
	ins   []Input
	errs  []error
	seen  map[string]bool
	stdin bool
}

func hasMeta(p string) bool { return strings.ContainsAny(p, "*?[") }

func exists(p string) bool {
	_, err := os.Lstat(p)
	return err == nil
}

// pathErr strips the *fs.PathError wrapper (whose message repeats the
// operation and path) so that messages name the path once; errors.Is on
// the result still sees fs.ErrNotExist, fs.ErrPermission and so on.
func pathErr(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

func (e *expander) glob(pattern string) {
	matches, err := filepath.Glob(pattern)
	if err != nil {
		e.errs = append(e.errs, fmt.Errorf("invalid glob pattern %s: %w", pattern, err))
		return
	}
	dotPattern := strings.HasPrefix(filepath.Base(pattern), ".")
	n := 0
	for _, m := range matches {
		if !dotPattern && strings.HasPrefix(filepath.Base(m), ".") {
			continue
		}
		n++
		e.resolve(m, true)
	}
	if n == 0 {
		e.errs = append(e.errs, fmt.Errorf("%s: %w", pattern, ErrNoMatch))
	}
}

// resolve adds path (a file, or a directory to walk). explicit is true for
// paths named by an argument or a glob, which may also be pipes/devices.
func (e *expander) resolve(path string, explicit bool) {
	fi, err := os.Stat(path)
	if err != nil {
		e.errs = append(e.errs, fmt.Errorf("cannot open %s: %w", path, pathErr(err)))
		return
	}
	switch m := fi.Mode(); {
	case m.IsDir():
		if lfi, err := os.Lstat(path); err == nil && lfi.Mode()&fs.ModeSymlink != 0 {
			// WalkDir does not follow a symlink at its root; a trailing
			// separator makes it (names stay under the link's name).
			e.walk(path + string(filepath.Separator))
			return
		}
		e.walk(path)
	case m.IsRegular():
		e.addFile(path, fi)
	case explicit && m&(fs.ModeNamedPipe|fs.ModeCharDevice) != 0:
		e.add(Input{Name: path, Path: path, Size: -1, ModTime: fi.ModTime()})
	default:
		e.errs = append(e.errs, fmt.Errorf("cannot read %s: not a regular file (%v)", path, m.Type()))
	}
}

func (e *expander) addFile(path string, fi fs.FileInfo) {
	if e.open(path) {
		e.add(Input{Name: path, Path: path, Size: fi.Size(), ModTime: fi.ModTime()})
	}
}

// addFound adds a file found by walking a directory.
func (e *expander) addFound(path string, fi fs.FileInfo) {
	if e.open(path) {
		e.add(Input{Name: path, Path: path, Size: fi.Size(), ModTime: fi.ModTime(), Found: true})
	}
}

// open checks that path can be opened, reporting it when not.
func (e *expander) open(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		e.errs = append(e.errs, fmt.Errorf("cannot open %s: %w", path, pathErr(err)))
		return false
	}
	f.Close()
	return true
}

func (e *expander) add(in Input) {
	key := filepath.Clean(in.Path)
	if e.seen[key] {
		return
	}
	e.seen[key] = true
	e.ins = append(e.ins, in)
}

func (e *expander) walk(root string) {
	found := 0
	nerr := len(e.errs)
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			e.errs = append(e.errs, fmt.Errorf("cannot read %s: %w", p, pathErr(err)))
			return nil // WalkDir skips the unreadable directory and goes on
		}
		if p != root && strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		var fi fs.FileInfo
		switch t := d.Type(); {
		case t.IsDir():
			return nil
		case t.IsRegular():
			fi, err = d.Info()
		case t&fs.ModeSymlink != 0:
			// Follow symlinks to files (not to directories: no cycles);
			// dangling links are skipped like other non-files.
			fi, err = os.Stat(p)
			if err != nil || !fi.Mode().IsRegular() {
				return nil
			}
		default:
			return nil
		}
		if err != nil {
			e.errs = append(e.errs, fmt.Errorf("cannot open %s: %w", p, pathErr(err)))
			return nil
		}
		found++
		e.addFound(p, fi)
		return nil
	})
	if err != nil { // not expected: the callback never returns an error
		e.errs = append(e.errs, fmt.Errorf("cannot walk %s: %w", root, err))
		return
	}
	if found == 0 && len(e.errs) == nerr {
		e.errs = append(e.errs, fmt.Errorf("%s: %w", root, ErrNoFiles))
	}
}
