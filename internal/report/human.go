package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"winnow/internal/textsafe"
)

// Human renders a finding's evidence value as words and numbers: no Go
// syntax (no map[…], no {…}), attacker-controlled strings escaped for the
// terminal. Lists longer than maxList items end with "and N more".
func Human(v any) string {
	switch x := v.(type) {
	case nil:
		return "-"
	case string:
		return textsafe.Terminal(x)
	case bool:
		return yesNo(x)
	case time.Time:
		return x.UTC().Format("2006-01-02 15:04:05")
	case time.Duration:
		return x.String()
	case float64:
		return num(x)
	case float32:
		return num(float64(x))
	case int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64:
		return fmt.Sprint(x)
	case []string:
		parts := make([]string, len(x))
		for i, s := range x {
			parts[i] = textsafe.Terminal(s)
		}
		return list(parts)
	case fmt.Stringer:
		return textsafe.Terminal(x.String())
	}
	// Anything else (structs, maps, slices of them) goes through its JSON
	// form, which is what the JSON output shows too.
	b, err := json.Marshal(v)
	if err != nil {
		return "?"
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var g any
	if err := dec.Decode(&g); err != nil {
		return "?"
	}
	return humanJSON(g, 0)
}

const maxList = 8

func list(parts []string) string {
	if len(parts) > maxList {
		return strings.Join(parts[:maxList], ", ") + fmt.Sprintf(" and %d more", len(parts)-maxList)
	}
	return strings.Join(parts, ", ")
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func num(f float64) string {
	if f == float64(int64(f)) && f < 1e15 && f > -1e15 {
		return strconv.FormatInt(int64(f), 10)
	}
	return strconv.FormatFloat(f, 'g', 4, 64)
}

func humanJSON(v any, depth int) string {
	switch x := v.(type) {
	case nil:
		return "-"
	case string:
		return textsafe.Terminal(x)
	case bool:
		return yesNo(x)
	case json.Number:
		if f, err := x.Float64(); err == nil {
			return num(f)
		}
		return x.String()
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = humanJSON(e, depth+1)
		}
		if depth > 0 {
			return "(" + list(parts) + ")"
		}
		if len(parts) > 0 && strings.ContainsRune(parts[0], ',') {
			if len(parts) > maxList {
				return strings.Join(parts[:maxList], "; ") + fmt.Sprintf("; and %d more", len(parts)-maxList)
			}
			return strings.Join(parts, "; ")
		}
		return list(parts)
	case map[string]any:
		if s, ok := nameCount(x); ok {
			return s
		}
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		parts := make([]string, 0, len(keys))
		for _, k := range keys {
			parts = append(parts, label(k)+" "+humanJSON(x[k], depth+1))
		}
		s := strings.Join(parts, ", ")
		if depth > 1 {
			s = "(" + s + ")"
		}
		return s
	}
	return fmt.Sprint(v)
}

// nameCount renders {"name": x, "count": n} (ranked lists of the detectors)
// as "x (n)".
func nameCount(m map[string]any) (string, bool) {
	if len(m) < 2 || len(m) > 3 {
		return "", false
	}
	var name string
	found := false
	for _, k := range [...]string{"name", "key", "value", "domain", "path"} {
		if s, ok := m[k].(string); ok {
			name, found = s, true
			break
		}
	}
	c, ok := m["count"].(json.Number)
	if !found || !ok {
		return "", false
	}
	if len(m) == 3 {
		// a third field that is a flag or number goes in the brackets
		for k, v := range m {
			if k == "count" || (m[k] == any(name)) {
				continue
			}
			return fmt.Sprintf("%s (%s, %s %s)", textsafe.Terminal(name), c, label(k), humanJSON(v, 2)), true
		}
	}
	return fmt.Sprintf("%s (%s)", textsafe.Terminal(name), c), true
}

// label turns an evidence key into words: "failed_logins" → "failed logins".
func label(k string) string { return strings.ReplaceAll(k, "_", " ") }

// Evidence renders an evidence map as "key value" items in key order.
func Evidence(ev map[string]any) []string {
	keys := make([]string, 0, len(ev))
	for k := range ev {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]string, 0, len(keys))
	for _, k := range keys {
		v := Human(ev[k])
		if v == "" {
			continue
		}
		out = append(out, label(k)+" "+v)
	}
	return out
}

// width is the display width of s (runes; good enough for log text).
func width(s string) int { return utf8.RuneCountInString(s) }

// cut shortens s to at most n display columns, ending in "…" when cut.
func cut(s string, n int) string {
	if n <= 1 || width(s) <= n {
		return s
	}
	i, cols := 0, 0
	for i < len(s) && cols < n-1 {
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
		cols++
	}
	return s[:i] + "…"
}

// wrap breaks text into lines of at most w columns at spaces (a word longer
// than a line is cut into pieces). The first line is prefixed with first,
// the others with indent (both count against w).
func wrap(text string, w int, first, indent string) []string {
	var lines []string
	line := first
	empty := true
	avail := func() int { return w - width(line) }
	for _, word := range strings.Fields(text) {
		for word != "" {
			need := width(word)
			if !empty {
				need++
			}
			if need <= avail() {
				if !empty {
					line += " "
				}
				line += word
				empty = false
				word = ""
				continue
			}
			if !empty {
				lines = append(lines, line)
				line, empty = indent, true
				continue
			}
			// a word longer than a whole line: split it
			n := max(1, avail())
			head := cut(word, n+1)
			head = strings.TrimSuffix(head, "…")
			line += head
			lines = append(lines, line)
			line = indent
			word = word[len(head):]
		}
	}
	if !empty || len(lines) == 0 {
		lines = append(lines, line)
	}
	return lines
}
