package audit

import (
	"bytes"
	"encoding/hex"
	"errors"
	"strconv"
	"time"
)

// record is one audit record: `[node=N ]type=T msg=audit(TS:SERIAL): fields`.
type record struct {
	node   string
	typ    string
	time   time.Time
	serial uint64
	fields []field
	// enriched holds the ENRICHED log format's translations (after a GS
	// byte): AUID="root" UID="root" ...
	enriched []field
	// avc is the SELinux "avc:  denied  { perms } for" head, when present.
	avcVerb  string // "denied" or "granted"
	avcPerms string
}

type field struct {
	key    string
	val    []byte
	quoted bool
}

var errNotRecord = errors.New("not an audit record")

// parseRecord parses one line. interpreted says the line came from
// `ausearch -i` (local dates, values already decoded); loc is the zone of
// its dates.
func parseRecord(line []byte, loc *time.Location, interp bool, r *record) error {
	*r = record{fields: r.fields[:0], enriched: r.enriched[:0]}
	b := bytes.TrimRight(line, "\r\n")
	if gs := bytes.IndexByte(b, 0x1d); gs >= 0 {
		r.enriched = parseFields(b[gs+1:], r.enriched, false)
		b = b[:gs]
	}
	if bytes.HasPrefix(b, []byte("node=")) {
		sp := bytes.IndexByte(b, ' ')
		if sp < 0 {
			return errNotRecord
		}
		r.node = string(b[5:sp])
		b = b[sp+1:]
	}
	if !bytes.HasPrefix(b, []byte("type=")) {
		return errNotRecord
	}
	sp := bytes.IndexByte(b, ' ')
	if sp < 0 {
		return errNotRecord
	}
	r.typ = typeName(b[5:sp])
	b = bytes.TrimLeft(b[sp+1:], " ")
	if !bytes.HasPrefix(b, []byte("msg=audit(")) {
		return errNotRecord
	}
	b = b[len("msg=audit("):]
	end := bytes.IndexByte(b, ')')
	if end < 0 {
		return errNotRecord
	}
	var err error
	if r.time, r.serial, err = parseStamp(b[:end], loc); err != nil {
		return err
	}
	b = b[end+1:]
	b = bytes.TrimLeft(b, " ")
	if len(b) > 0 && b[0] == ':' {
		b = b[1:]
	}
	if !interp && r.time.Location() != time.UTC {
		interp = true // a local date in the stamp: ausearch -i
	}
	return r.body(bytes.TrimLeft(b, " "), interp)
}

// body parses the fields after the stamp (shared with syslog-carried
// records).
func (r *record) body(b []byte, interp bool) error {
	if bytes.HasPrefix(b, []byte("avc:")) {
		b = bytes.TrimLeft(b[4:], " ")
		sp := bytes.IndexByte(b, ' ')
		if sp < 0 {
			return errNotRecord
		}
		r.avcVerb = string(b[:sp])
		b = bytes.TrimLeft(b[sp:], " ")
		if len(b) > 0 && b[0] == '{' {
			end := bytes.IndexByte(b, '}')
			if end < 0 {
				return errNotRecord
			}
			r.avcPerms = string(bytes.TrimSpace(b[1:end]))
			b = bytes.TrimLeft(b[end+1:], " ")
		}
		b = bytes.TrimPrefix(b, []byte("for"))
	}
	if interp && r.typ == "PROCTITLE" && bytes.HasPrefix(b, []byte("proctitle=")) {
		// ausearch -i prints the command line as is, spaces and all.
		r.fields = append(r.fields, field{key: "proctitle", val: bytes.TrimRight(b[len("proctitle="):], " ")})
		return nil
	}
	r.fields = parseFields(b, r.fields, interp)
	// User-space records nest their message: msg='op=... acct="x" res=success'.
	for i := 0; i < len(r.fields); i++ {
		if f := r.fields[i]; f.key == "msg" && f.quoted {
			inner := f.val
			r.fields = append(r.fields[:i], r.fields[i+1:]...)
			r.fields = parseFields(inner, r.fields, interp)
			break
		}
	}
	return nil
}

// parseStamp parses "1364481363.243:24287" or, from ausearch -i,
// "03/28/2013 10:36:03.243:24287".
func parseStamp(b []byte, loc *time.Location) (time.Time, uint64, error) {
	c := bytes.LastIndexByte(b, ':')
	if c < 0 {
		return time.Time{}, 0, errNotRecord
	}
	serial, err := strconv.ParseUint(string(b[c+1:]), 10, 64)
	if err != nil {
		return time.Time{}, 0, errNotRecord
	}
	ts := b[:c]
	if bytes.IndexByte(ts, '/') >= 0 {
		if loc == nil {
			loc = time.Local
		}
		for _, layout := range []string{"01/02/2006 15:04:05.000", "01/02/06 15:04:05.000", "02/01/2006 15:04:05.000"} {
			if t, err := time.ParseInLocation(layout, string(ts), loc); err == nil {
				return t, serial, nil
			}
		}
		return time.Time{}, 0, errNotRecord
	}
	dot := bytes.IndexByte(ts, '.')
	secStr, frac := ts, []byte(nil)
	if dot >= 0 {
		secStr, frac = ts[:dot], ts[dot+1:]
	}
	sec, err := strconv.ParseInt(string(secStr), 10, 64)
	if err != nil || sec < 0 {
		return time.Time{}, 0, errNotRecord
	}
	var ns int64
	for i := 0; i < 9; i++ {
		ns *= 10
		if i < len(frac) {
			if frac[i] < '0' || frac[i] > '9' {
				return time.Time{}, 0, errNotRecord
			}
			ns += int64(frac[i] - '0')
		}
	}
	return time.Unix(sec, ns).UTC(), serial, nil
}

// parseFields splits `k=v k2="v 2" k3='a=b c=d'` into fields. In
// interpreted output (ausearch -i) unquoted values may hold spaces
// (cwd=/home/alice/my docs): a value then runs to the next " key=".
func parseFields(b []byte, out []field, interp bool) []field {
	for {
		for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
			b = b[1:]
		}
		if len(b) == 0 {
			return out
		}
		eq := bytes.IndexByte(b, '=')
		sp := bytes.IndexByte(b, ' ')
		if eq < 0 || (sp >= 0 && sp < eq) {
			// A bare word (", " or garbage): skip it.
			if sp < 0 {
				return out
			}
			b = b[sp:]
			continue
		}
		key := string(b[:eq])
		b = b[eq+1:]
		var val []byte
		quoted := false
		if len(b) > 0 && (b[0] == '"' || b[0] == '\'') {
			q := b[0]
			end := bytes.IndexByte(b[1:], q)
			if end < 0 {
				val, b = b[1:], nil
			} else {
				val, b = b[1:1+end], b[2+end:]
			}
			quoted = true
		} else {
			sp := bytes.IndexByte(b, ' ')
			if interp {
				sp = nextKey(b)
			}
			// ausearch -i writes exit=EACCES(Permission denied): a
			// parenthesis holds the value together.
			if op := bytes.IndexByte(b, '('); op >= 0 && sp > op {
				if cp := bytes.IndexByte(b[op:], ')'); cp >= 0 {
					sp = op + cp + 1
					if sp >= len(b) {
						sp = -1
					}
				}
			}
			if sp < 0 {
				val, b = b, nil
			} else {
				val, b = b[:sp], b[sp:]
			}
		}
		out = append(out, field{key: key, val: val, quoted: quoted})
	}
}

// nextKey returns the index of the space before the next "key=" in b
// (or before trailing spaces at the end), -1 if none.
func nextKey(b []byte) int {
	for i := 0; i < len(b); i++ {
		if b[i] != ' ' {
			continue
		}
		j := i + 1
		for j < len(b) && (b[j] == '_' || b[j] >= 'a' && b[j] <= 'z' || b[j] >= 'A' && b[j] <= 'Z' || b[j] >= '0' && b[j] <= '9' || b[j] == '[' || b[j] == ']') {
			j++
		}
		if j > i+1 && j < len(b) && b[j] == '=' {
			return i
		}
		if len(bytes.TrimRight(b[i:], " ")) == 0 {
			return i
		}
	}
	return -1
}

func (r *record) get(key string) ([]byte, bool) {
	for i := range r.fields {
		if r.fields[i].key == key {
			return r.fields[i].val, true
		}
	}
	return nil, false
}

func (r *record) getField(key string) (field, bool) {
	for i := range r.fields {
		if r.fields[i].key == key {
			return r.fields[i], true
		}
	}
	return field{}, false
}

// str returns a field as text: quoted values as they are; unquoted hex
// (auditd's encoding of untrusted strings that hold spaces or controls)
// decoded, NULs as spaces, when hexOK; "(null)" and "?" as "".
func (r *record) str(key string, hexOK bool) string {
	f, ok := r.getField(key)
	if !ok {
		return ""
	}
	return value(f, hexOK)
}

func value(f field, hexOK bool) string {
	v := f.val
	if !f.quoted {
		switch string(v) {
		case "(null)", "?", "(none)":
			return ""
		}
		if hexOK && isHex(v) {
			d := make([]byte, len(v)/2)
			if _, err := hex.Decode(d, v); err == nil {
				for i := range d {
					if d[i] == 0 {
						d[i] = ' '
					}
				}
				return string(bytes.TrimRight(d, " "))
			}
		}
	}
	return string(v)
}

func isHex(b []byte) bool {
	if len(b) < 2 || len(b)%2 != 0 {
		return false
	}
	for _, c := range b {
		if !('0' <= c && c <= '9' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// typeName turns a numeric record type (kernel messages in syslog:
// "type=1400") into its name.
func typeName(b []byte) string {
	if len(b) == 0 || b[0] < '0' || b[0] > '9' {
		return string(b)
	}
	switch string(b) {
	case "1100":
		return "USER_AUTH"
	case "1101":
		return "USER_ACCT"
	case "1105":
		return "USER_START"
	case "1106":
		return "USER_END"
	case "1107":
		return "USER_AVC"
	case "1112":
		return "USER_LOGIN"
	case "1130":
		return "SERVICE_START"
	case "1131":
		return "SERVICE_STOP"
	case "1300":
		return "SYSCALL"
	case "1302":
		return "PATH"
	case "1305":
		return "CONFIG_CHANGE"
	case "1307":
		return "CWD"
	case "1309":
		return "EXECVE"
	case "1320":
		return "EOE"
	case "1321":
		return "BPRM_FCAPS"
	case "1327":
		return "PROCTITLE"
	case "1400":
		return "AVC"
	case "1401":
		return "SELINUX_ERR"
	}
	return "UNKNOWN[" + string(b) + "]"
}
