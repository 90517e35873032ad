package syslog

import "time"

// monthOf maps a three-letter month name (any case) to 1–12, or 0.
func monthOf(a, b, c byte) int {
	switch uint32(a|0x20)<<16 | uint32(b|0x20)<<8 | uint32(c|0x20) {
	case 'j'<<16 | 'a'<<8 | 'n':
		return 1
	case 'f'<<16 | 'e'<<8 | 'b':
		return 2
	case 'm'<<16 | 'a'<<8 | 'r':
		return 3
	case 'a'<<16 | 'p'<<8 | 'r':
		return 4
	case 'm'<<16 | 'a'<<8 | 'y':
		return 5
	case 'j'<<16 | 'u'<<8 | 'n':
		return 6
	case 'j'<<16 | 'u'<<8 | 'l':
		return 7
	case 'a'<<16 | 'u'<<8 | 'g':
		return 8
	case 's'<<16 | 'e'<<8 | 'p':
		return 9
	case 'o'<<16 | 'c'<<8 | 't':
		return 10
	case 'n'<<16 | 'o'<<8 | 'v':
		return 11
	case 'd'<<16 | 'e'<<8 | 'c':
		return 12
	}
	return 0
}

func digit(c byte) (int, bool) {
	return int(c - '0'), c >= '0' && c <= '9'
}

// two parses two decimal digits at b[i:].
func two(b []byte, i int) (int, bool) {
	if i+1 >= len(b) {
		return 0, false
	}
	x, ok1 := digit(b[i])
	y, ok2 := digit(b[i+1])
	return x*10 + y, ok1 && ok2
}

// clock parses "hh:mm:ss" at b[i:].
func clock(b []byte, i int) (h, m, s int, ok bool) {
	if len(b)-i < 8 || b[i+2] != ':' || b[i+5] != ':' {
		return 0, 0, 0, false
	}
	h, ok1 := two(b, i)
	m, ok2 := two(b, i+3)
	s, ok3 := two(b, i+6)
	if !ok1 || !ok2 || !ok3 || h > 23 || m > 59 || s > 60 {
		return 0, 0, 0, false
	}
	return h, m, s, true
}

// fraction parses ".ddd…" at b[i:] into nanoseconds (digits past the ninth
// are ignored) and returns the bytes consumed (0 when there is none).
func fraction(b []byte, i int) (int, int) {
	if i >= len(b) || b[i] != '.' {
		return 0, 0
	}
	j, ns, scale := i+1, 0, 100000000
	for j < len(b) && b[j] >= '0' && b[j] <= '9' {
		ns += int(b[j]-'0') * scale
		scale /= 10
		j++
	}
	if j == i+1 {
		return 0, 0
	}
	return ns, j - i
}

// parse3164 parses "Mmm dd hh:mm:ss[.fff]" (day "dd", " d" or "d") and
// returns the time and the bytes consumed.
func (st *State) parse3164(b []byte) (time.Time, int, bool) {
	if len(b) < 14 || b[3] != ' ' {
		return time.Time{}, 0, false
	}
	mon := monthOf(b[0], b[1], b[2])
	if mon == 0 {
		return time.Time{}, 0, false
	}
	i := 4
	if b[i] == ' ' { // "Nov  2"
		i++
	}
	day, ok := digit(b[i])
	if !ok {
		return time.Time{}, 0, false
	}
	i++
	if d2, ok := digit(b[i]); ok {
		day = day*10 + d2
		i++
	}
	if day < 1 || day > 31 || i >= len(b) || b[i] != ' ' {
		return time.Time{}, 0, false
	}
	i++
	hh, mm, ss, ok := clock(b, i)
	if !ok {
		return time.Time{}, 0, false
	}
	i += 8
	ns, n := fraction(b, i)
	i += n
	year := st.yearFor(mon)
	base := st.minute(year, mon, day, hh, mm)
	return base.Add(time.Duration(ss)*time.Second + time.Duration(ns)), i, true
}

// yearFor returns the year of an RFC 3164 line in month mon and advances the
// state (see State).
func (st *State) yearFor(mon int) int {
	if st.year == 0 {
		st.year = st.refYear
		if !st.fixed && mon > st.refMonth {
			st.year--
		}
		st.month = mon
		return st.year
	}
	if (st.month-mon+12)%12 == 1 { // one month back: a straggler
		if mon == 12 {
			return st.year - 1
		}
		return st.year
	}
	if mon < st.month {
		st.year++
	}
	st.month = mon
	return st.year
}

// minute returns the start of the given minute in the State's location,
// calling time.Date only when the minute differs from the previous call's.
func (st *State) minute(year, mon, day, hh, mm int) time.Time {
	key := uint64(year)<<32 | uint64(mon)<<24 | uint64(day)<<16 | uint64(hh)<<8 | uint64(mm) | 1<<63
	if key == st.cacheKey {
		return st.cacheBase
	}
	t := time.Date(year, time.Month(mon), day, hh, mm, 0, 0, st.loc)
	st.cacheKey, st.cacheBase = key, t
	return t
}

// parseISO parses "YYYY-MM-DDThh:mm:ss[.f]ZONE" where ZONE is "Z", "±hh",
// "±hh:mm" or "±hhmm". The zone is required: a bare local time would make
// generic application logs look like syslog. Years before 1970 are rejected.
func (st *State) parseISO(b []byte) (time.Time, int, bool) {
	if len(b) < 19 || b[4] != '-' || b[7] != '-' || b[10] != 'T' {
		return time.Time{}, 0, false
	}
	y1, ok1 := two(b, 0)
	y2, ok2 := two(b, 2)
	mon, ok3 := two(b, 5)
	day, ok4 := two(b, 8)
	if !ok1 || !ok2 || !ok3 || !ok4 || mon < 1 || mon > 12 || day < 1 || day > 31 {
		return time.Time{}, 0, false
	}
	year := y1*100 + y2
	if year < 1970 { // not a log time; also keeps the zero time.Time out
		return time.Time{}, 0, false
	}
	hh, mm, ss, ok := clock(b, 11)
	if !ok {
		return time.Time{}, 0, false
	}
	i := 19
	ns, n := fraction(b, i)
	i += n
	off, n, ok := zone(b, i)
	if !ok {
		return time.Time{}, 0, false
	}
	i += n
	secs := daysFromCivil(year, mon, day)*86400 + int64(hh*3600+mm*60+ss) - int64(off)
	return time.Unix(secs, int64(ns)).In(st.loc), i, true
}

// zone parses a zone designator at b[i:] and returns its offset east of UTC
// in seconds.
func zone(b []byte, i int) (int, int, bool) {
	if i >= len(b) {
		return 0, 0, false
	}
	switch b[i] {
	case 'Z', 'z':
		return 0, 1, true
	case '+', '-':
	default:
		return 0, 0, false
	}
	sign := 1
	if b[i] == '-' {
		sign = -1
	}
	h, ok := two(b, i+1)
	if !ok || h > 23 {
		return 0, 0, false
	}
	n, m := 3, 0
	switch {
	case i+3 < len(b) && b[i+3] == ':':
		if m, ok = two(b, i+4); !ok {
			return 0, 0, false
		}
		n = 6
	case i+4 < len(b) && b[i+3] >= '0' && b[i+3] <= '9':
		if m, ok = two(b, i+3); !ok {
			return 0, 0, false
		}
		n = 5
	}
	if m > 59 {
		return 0, 0, false
	}
	return sign * (h*3600 + m*60), n, true
}

// daysFromCivil returns the days since 1970-01-01 of a proleptic Gregorian
// date (H. Hinnant's algorithm).
func daysFromCivil(y, m, d int) int64 {
	if m <= 2 {
		y--
	}
	era := y / 400
	if y < 0 && y%400 != 0 {
		era--
	}
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return int64(era)*146097 + int64(doe) - 719468
}
