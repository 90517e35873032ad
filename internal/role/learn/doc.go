// Package learn implements the batch-learning commands ('winnow learn
// forest', 'learn tree', 'learn rules', 'learn campaigns', 'learn
// linkage', ...): it reads labelled tables or the archive, runs the
// learners of internal/learn, writes model files and reports. cmd/winnow
// only parses flags and calls these functions.
package learn

import (
	"errors"
	"fmt"
)

// UsageError marks errors in the command line.
type UsageError struct{ Err error }

func (e UsageError) Error() string { return e.Err.Error() }
func (e UsageError) Unwrap() error { return e.Err }

func usagef(format string, args ...any) error {
	return UsageError{fmt.Errorf(format, args...)}
}

// IsUsage reports whether err is a usage error.
func IsUsage(err error) bool {
	var u UsageError
	return errors.As(err, &u)
}
