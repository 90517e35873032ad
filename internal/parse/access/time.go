package access

import (
	"time"
)

// parseTime parses an access-log timestamp:
//
//	22/Nov/2026:10:11:48 +0100       Apache/nginx %t, $time_local
//	22/Nov/2026:10:11:48.123 +0100   with fractions (%{msec_frac}t and friends)
//	2026-11-22T10:11:48+01:00        nginx $time_iso8601, RFC 3339
//	2026-11-22T10:11:48.123Z         with fractions, Z
//	2026-11-22 10:11:48              zoneless (loc applies)
//
// A timestamp without a zone is in loc. The result is in UTC.
func parseTime(b []byte, loc *time.Location) (time.Time, bool) {
	if len(b) >= 20 && isDigit(b[0]) && isDigit(b[1]) && b[2] == '/' {
		return parseCLF(b, loc)
	}
	if len(b) >= 19 && isDigit(b[0]) && b[4] == '-' {
		return parseISO(b, loc)
	}
	return time.Time{}, false
}

var months = [...]string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}

func month(b []byte) int {
	if len(b) < 3 {
		return 0
	}
	for i, m := range months {
		if b[0] == m[0] && b[1]|0x20 == m[1] && b[2]|0x20 == m[2] {
			return i + 1
		}
	}
	return 0
}

// parseCLF parses "02/Jan/2006:15:04:05[.frac] [-0700]".
func parseCLF(b []byte, loc *time.Location) (time.Time, bool) {
	// dd/Mon/yyyy:hh:mm:ss = 20 bytes.
	if b[6] != '/' || b[11] != ':' || b[14] != ':' || b[17] != ':' {
		return time.Time{}, false
	}
	day, ok1 := num(b[0:2])
	mon := month(b[3:6])
	year, ok2 := num(b[7:11])
	hh, ok3 := num(b[12:14])
	mm, ok4 := num(b[15:17])
	ss, ok5 := num(b[18:20])
	if !ok1 || !ok2 || !ok3 || !ok4 || !ok5 || mon == 0 {
		return time.Time{}, false
	}
	rest := b[20:]
	nsec, rest, ok := frac(rest)
	if !ok {
		return time.Time{}, false
	}
	off, zoned := 0, false
	if len(rest) > 0 {
		if rest[0] != ' ' {
			return time.Time{}, false
		}
		rest = rest[1:]
		if off, ok = zone(rest); !ok {
			return time.Time{}, false
		}
		zoned = true
	}
	return civil(year, mon, day, hh, mm, ss, nsec, off, zoned, loc)
}

// parseISO parses "2006-01-02T15:04:05[.frac][Z|±07:00|±0700]" (or a space
// instead of T).
func parseISO(b []byte, loc *time.Location) (time.Time, bool) {
	if b[7] != '-' || (b[10] != 'T' && b[10] != ' ') || b[13] != ':' || b[16] != ':' {
		return time.Time{}, false
	}
	year, ok1 := num(b[0:4])
	mon, ok2 := num(b[5:7])
	day, ok3 := num(b[8:10])
	hh, ok4 := num(b[11:13])
	mm, ok5 := num(b[14:16])
	ss, ok6 := num(b[17:19])
	if !ok1 || !ok2 || !ok3 || !ok4 || !ok5 || !ok6 {
		return time.Time{}, false
	}
	nsec, rest, ok := frac(b[19:])
	if !ok {
		return time.Time{}, false
	}
	off, zoned := 0, false
	if len(rest) > 0 {
		if len(rest) == 1 && (rest[0] == 'Z' || rest[0] == 'z') {
			zoned = true
		} else if off, ok = zone(rest); ok {
			zoned = true
		} else {
			return time.Time{}, false
		}
	}
	return civil(year, mon, day, hh, mm, ss, nsec, off, zoned, loc)
}

// frac parses an optional ".ddd" (or ",ddd") fraction.
func frac(b []byte) (int, []byte, bool) {
	if len(b) == 0 || (b[0] != '.' && b[0] != ',') {
		return 0, b, true
	}
	i, n, scale := 1, 0, 100000000
	for ; i < len(b) && isDigit(b[i]); i++ {
		if scale > 0 {
			n += int(b[i]-'0') * scale
			scale /= 10
		}
	}
	if i == 1 {
		return 0, b, false
	}
	return n, b[i:], true
}

// zone parses "+0100", "-05:30" into seconds east of UTC.
func zone(b []byte) (int, bool) {
	if len(b) != 5 && len(b) != 6 {
		return 0, false
	}
	sign := 1
	switch b[0] {
	case '+':
	case '-':
		sign = -1
	default:
		return 0, false
	}
	h, ok1 := num(b[1:3])
	m := b[3:]
	if len(b) == 6 {
		if b[3] != ':' {
			return 0, false
		}
		m = b[4:]
	}
	mi, ok2 := num(m)
	if !ok1 || !ok2 || h > 23 || mi > 59 {
		return 0, false
	}
	return sign * (h*3600 + mi*60), true
}

// civil converts a civil time to a UTC instant: with the offset when the
// stamp had a zone, else in loc.
func civil(year, mon, day, hh, mm, ss, nsec, off int, zoned bool, loc *time.Location) (time.Time, bool) {
	if mon < 1 || mon > 12 || day < 1 || day > daysIn(year, mon) || hh > 23 || mm > 59 || ss > 60 {
		return time.Time{}, false
	}
	if !zoned {
		if loc == nil {
			loc = time.Local
		}
		return time.Date(year, time.Month(mon), day, hh, mm, ss, nsec, loc).UTC(), true
	}
	sec := daysFromCivil(year, mon, day)*86400 + int64(hh*3600+mm*60+ss) - int64(off)
	return time.Unix(sec, int64(nsec)).UTC(), true
}

// daysFromCivil is the number of days from 1970-01-01 to y-m-d (proleptic
// Gregorian; H. Hinnant's algorithm).
func daysFromCivil(y, m, d int) int64 {
	if m <= 2 {
		y--
	}
	era := y / 400
	if y < 0 && y%400 != 0 {
		era = (y - 399) / 400
	}
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return int64(era)*146097 + int64(doe) - 719468
}

func daysIn(y, m int) int {
	switch m {
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// num parses a short run of decimal digits.
func num(b []byte) (int, bool) {
	if len(b) == 0 {
		return 0, false
	}
	n := 0
	for _, c := range b {
		if !isDigit(c) {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}
