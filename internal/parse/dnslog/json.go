package dnslog

import (
	"errors"
	"strconv"
	"unicode/utf8"
)

// A minimal scanner for flat JSON objects (Zeek's log records): string,
// number, literal and array values; nested objects are skipped. It never
// panics and does not allocate except to unescape strings it returns.

type jsonKind uint8

const (
	jsonString jsonKind = iota + 1
	jsonNumber
	jsonLiteral
	jsonArray
	jsonObject
)

type jsonValue struct {
	kind jsonKind
	raw  []byte // the value's bytes; for strings without the quotes (still escaped)
	esc  bool   // the string has escapes
}

var errJSON = errors.New("bad JSON")

// str returns a string value, unescaped ("" for other kinds).
func (v jsonValue) str() string {
	if v.kind != jsonString {
		if v.kind == jsonLiteral && string(v.raw) == "null" {
			return ""
		}
		return string(v.raw)
	}
	if !v.esc {
		return string(v.raw)
	}
	return unescapeJSON(v.raw)
}

// text returns the value as written (numbers, literals) or unescaped.
func (v jsonValue) text() string { return v.str() }

// strings returns an array's elements as text.
func (v jsonValue) strings() []string {
	if v.kind != jsonArray {
		return nil
	}
	var out []string
	b := v.raw[1:] // after '['
	i := skipWS(b, 0)
	for i < len(b) && b[i] != ']' {
		val, next, err := scanValue(b, i)
		if err != nil {
			return out
		}
		out = append(out, val.str())
		i = skipWS(b, next)
		if i < len(b) && b[i] == ',' {
			i = skipWS(b, i+1)
		}
	}
	return out
}

// scanObject calls fn for each top-level key of the object in b.
func scanObject(b []byte, fn func(key []byte, v jsonValue) error) error {
	i := skipWS(b, 0)
	if i >= len(b) || b[i] != '{' {
		return errJSON
	}
	i = skipWS(b, i+1)
	if i < len(b) && b[i] == '}' {
		return nil
	}
	for {
		if i >= len(b) || b[i] != '"' {
			return errJSON
		}
		k, next, err := scanValue(b, i)
		if err != nil {
			return err
		}
		i = skipWS(b, next)
		if i >= len(b) || b[i] != ':' {
			return errJSON
		}
		v, next, err := scanValue(b, skipWS(b, i+1))
		if err != nil {
			return err
		}
		if err := fn(k.raw, v); err != nil {
			return err
		}
		i = skipWS(b, next)
		if i >= len(b) {
			return errJSON
		}
		if b[i] == '}' {
			return nil
		}
		if b[i] != ',' {
			return errJSON
		}
		i = skipWS(b, i+1)
	}
}

func skipWS(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\r' || b[i] == '\n') {
		i++
	}
	return i
}

// scanValue scans the value at b[i] and returns it and the index after it.
func scanValue(b []byte, i int) (jsonValue, int, error) {
	if i >= len(b) {
		return jsonValue{}, i, errJSON
	}
	switch c := b[i]; {
	case c == '"':
		esc := false
		for j := i + 1; j < len(b); j++ {
			switch b[j] {
			case '\\':
				esc = true
				j++
			case '"':
				return jsonValue{kind: jsonString, raw: b[i+1 : j], esc: esc}, j + 1, nil
			}
		}
		return jsonValue{}, len(b), errJSON
	case c == '[' || c == '{':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				_, next, err := scanValue(b, j)
				if err != nil {
					return jsonValue{}, next, err
				}
				j = next - 1
			case '[', '{':
				depth++
			case ']', '}':
				depth--
				if depth == 0 {
					k := jsonArray
					if c == '{' {
						k = jsonObject
					}
					return jsonValue{kind: k, raw: b[i : j+1]}, j + 1, nil
				}
			}
		}
		return jsonValue{}, len(b), errJSON
	case c == '-' || (c >= '0' && c <= '9'):
		j := i + 1
		for j < len(b) && (b[j] >= '0' && b[j] <= '9' || b[j] == '.' || b[j] == 'e' || b[j] == 'E' || b[j] == '+' || b[j] == '-') {
			j++
		}
		return jsonValue{kind: jsonNumber, raw: b[i:j]}, j, nil
	case c == 't' || c == 'f' || c == 'n':
		j := i
		for j < len(b) && b[j] >= 'a' && b[j] <= 'z' {
			j++
		}
		switch string(b[i:j]) {
		case "true", "false", "null":
			return jsonValue{kind: jsonLiteral, raw: b[i:j]}, j, nil
		}
	}
	return jsonValue{}, i, errJSON
}

// unescapeJSON decodes a JSON string body.
func unescapeJSON(b []byte) string {
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c != '\\' || i+1 >= len(b) {
			out = append(out, c)
			continue
		}
		i++
		switch b[i] {
		case 'n':
			out = append(out, '\n')
		case 't':
			out = append(out, '\t')
		case 'r':
			out = append(out, '\r')
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'u':
			if i+4 < len(b) {
				if n, err := strconv.ParseUint(string(b[i+1:i+5]), 16, 32); err == nil {
					out = utf8.AppendRune(out, rune(n))
					i += 4
					continue
				}
			}
			out = append(out, 'u')
		default:
			out = append(out, b[i])
		}
	}
	return string(out)
}
