package syslog

import (
	"time"

	"winnow/internal/parse"
)

// yearSlack is how far past the file's modification time the last line may
// seem to be before InferYear takes it for last year's: wall-clock times
// in another zone than the one they are read in can be off by up to 26
// hours (UTC−12 to UTC+14).
const yearSlack = 26 * time.Hour

// InferYear picks the year of the first RFC 3164 line of an input whose
// first and last lines are first and last and whose modification time is
// modTime: the year that puts the last line no later than modTime (a log
// is written before its file's mtime; a copied log's fresh mtime must not
// date its events in the future), and the first line a year earlier when
// the input crosses a new year between them (its month and day come after
// the last line's). An input is assumed to span less than a year.
//
// ok is false when either line is not RFC 3164 or modTime is zero; then the
// State's rule applies. rolledBack is true when the result is earlier
// than the State's own rule (the year of modTime, minus one for a first
// line in a later month) would give: a guess the user should hear about.
// Times are read in loc (nil: time.Local).
func InferYear(first, last []byte, modTime time.Time, loc *time.Location) (year int, rolledBack, ok bool) {
	if modTime.IsZero() {
		return 0, false, false
	}
	if loc == nil {
		loc = time.Local
	}
	// 2000 is a leap year: "Feb 29" parses.
	o := parse.Options{Year: 2000, Location: loc}
	hf, err := ParseHeader(first, nil, &o)
	if err != nil || hf.Framing != FramingRFC3164 {
		return 0, false, false
	}
	hl, err := ParseHeader(last, nil, &o)
	if err != nil || hl.Framing != FramingRFC3164 {
		return 0, false, false
	}
	m := modTime.In(loc)
	lastYear := m.Year()
	at := func(y int, t time.Time) time.Time {
		return time.Date(y, t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), loc)
	}
	if at(lastYear, hl.Time).After(modTime.Add(yearSlack)) {
		lastYear--
	}
	year = lastYear
	if hf.Time.After(hl.Time) { // crosses a new year
		year--
	}
	naive := m.Year()
	if int(hf.Time.Month()) > int(m.Month()) {
		naive--
	}
	return year, year < naive, true
}
