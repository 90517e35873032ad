package dnslog

import (
	"bytes"
	"fmt"
	"time"

	"winnow/internal/event"
	"winnow/internal/parse"
)

// NamesFormat is a plain list of DNS names, one per line. In a line with
// commas the last field is the name, so labelled CSV files such as
// "label,name" or "class,family,domain" are read as they are.
func NamesFormat() parse.Format {
	return parse.Format{
		Name:    "dns-names",
		Summary: "plain list of DNS names, one per line (CSV: the last field)",
		Sniff: func(lines [][]byte) float64 {
			if len(lines) == 0 {
				return 0
			}
			ok := 0
			for _, l := range lines {
				if n := NameOf(l); looksLikeName(n) {
					ok++
				}
			}
			// A little below 1: a dedicated format that also parses
			// the lines (say, a CSV export) wins ties.
			return 0.9 * float64(ok) / float64(len(lines))
		},
		New: func(o parse.Options) parse.Parser { return namesParser{t: o.ModTime.UTC()} },
	}
}

// NameOf returns the name in a line of a name list: the last
// comma-separated field, trimmed.
func NameOf(line []byte) []byte {
	if i := bytes.LastIndexByte(line, ','); i >= 0 {
		line = line[i+1:]
	}
	return bytes.TrimSpace(line)
}

// looksLikeName: a dotted token of printable characters without blanks or
// quotes (encoded tunnel names may hold '+', '/', '=' and the like).
func looksLikeName(b []byte) bool {
	if len(b) < 3 || len(b) > 1100 || bytes.IndexByte(b, '.') <= 0 {
		return false
	}
	for _, c := range b {
		if c <= ' ' || c == '"' || c == '\'' || c == '<' || c == '>' || c == 0x7f {
			return false
		}
	}
	return true
}

type namesParser struct{ t time.Time }

func (p namesParser) Parse(line []byte, ev *event.Event) error {
	n := NameOf(line)
	if len(n) == 0 {
		return fmt.Errorf("%w: empty", parse.ErrSkip)
	}
	if len(n) > 1100 {
		return fmt.Errorf("%w: %d-byte name", parse.ErrMalformed, len(n))
	}
	name := normName(escapeRaw(string(n)))
	ref := ev.Ref
	*ev = event.Event{Time: p.t, Kind: event.KindDNS, Action: event.ActDNSQuery, Count: 1, Ref: ref, Raw: line}
	x := &event.DNS{Name: name, Registered: registered(name)}
	estimateSizes(x)
	ev.DNS = x
	return nil
}

// NormalizeName returns the name of a name-list line in the form the
// parsers give it (last CSV field, bytes outside printable ASCII as \DDD,
// no trailing dot); ok is false for a blank line.
func NormalizeName(line []byte) (name string, ok bool) {
	n := NameOf(line)
	if len(n) == 0 {
		return "", false
	}
	return normName(escapeRaw(string(n))), true
}
