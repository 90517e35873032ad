package archive

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// Lock files (flock(2), released by the kernel when the process dies, so
// a kill -9 never leaves an archive locked):
//
//	_lock       held exclusively by whoever changes the archive (a run,
//	            compaction, prune); a second writer is refused.
//	_read.lock  held shared by readers (replay, hunt); compaction and
//	            prune, which delete files, take it exclusively so that a
//	            reader never sees a partition half replaced.
const (
	writeLockName = "_lock"
	readLockName  = "_read.lock"
)

const (
	lockEx = syscall.LOCK_EX
	lockSh = syscall.LOCK_SH
)

// ErrBusy is wrapped by the error for an archive another winnow process
// is writing (or, for prune and compaction, reading).
var ErrBusy = errors.New("archive in use by another winnow process")

// lockFile takes an flock on rel in the archive (creating it).
func (s *store) lockFile(rel string, how int) (*os.File, error) {
	f, err := s.openFile(rel, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("cannot open archive lock: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), how|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("%w (%s held)", ErrBusy, rel)
		}
		return nil, fmt.Errorf("cannot lock archive: %w", err)
	}
	return f, nil
}

// unlock releases a lock taken by lockFile.
func unlock(f *os.File) {
	if f != nil {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}
}

// ReadLock takes the readers' shared lock on the archive at dir, so that
// no compaction or prune deletes files while it reads. An archive without
// a lock file (read-only copies, schema 1) is read without one; release
// is never nil.
func ReadLock(dir string) (release func(), err error) {
	f, err := os.OpenFile(dir+"/"+readLockName, os.O_RDONLY|syscall.O_NOFOLLOW, 0)
	if err != nil {
		return func() {}, nil
	}
	if err := syscall.Flock(int(f.Fd()), lockSh); err != nil {
		f.Close()
		return func() {}, nil
	}
	return func() { unlock(f) }, nil
}
