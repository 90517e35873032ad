package syslog

import (
	"errors"
	"time"

	"winnow/internal/parse"
)

// Sniff scores how well sample lines fit syslog framing, 0 to 1: the mean
// over non-empty lines of 1 for a line that frames, except that an ISO 8601
// line without a program tag counts only 0.25 (an application log that
// starts lines with an ISO timestamp and a word is not syslog). journalctl
// marker lines (ErrSkip) are left out. Web access logs, CSV, JSON lines and
// binary data score 0.
func Sniff(lines [][]byte) float64 {
	var st State
	o := parse.Options{Year: 2000, Location: time.UTC} // no clock, no zone lookups
	var h Header
	sum, n := 0.0, 0
	for _, l := range lines {
		if len(trimEOL(l)) == 0 {
			continue
		}
		err := st.Parse(l, &o, &h)
		if errors.Is(err, ErrSkip) {
			continue
		}
		n++
		switch {
		case err != nil:
		case h.Framing == FramingISO && len(h.Program) == 0:
			sum += 0.25
		default:
			sum++
		}
	}
	if n == 0 {
		return 0
	}
	return sum / float64(n)
}
