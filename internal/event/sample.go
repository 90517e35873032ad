package event

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// MaxSampleText caps a sample's text in bytes (scanners send very long
// URLs; one evidence line must not pin megabytes).
const MaxSampleText = 600

// SampleOf copies an event's evidence line: its log line (Raw, cut at
// MaxSampleText on a rune boundary), or for records without one (packet
// captures) a rendering of what the packet said — time, client, query,
// resolver, answer — so that no evidence line is empty.
func SampleOf(ev *Event) Sample {
	return Sample{File: ev.Ref.File, Line: ev.Ref.Line, Text: SampleText(ev, MaxSampleText)}
}

// SampleText is SampleOf's text, cut at max bytes ("…" appended).
func SampleText(ev *Event, max int) string {
	var s string
	switch {
	case len(ev.Raw) > 0:
		raw := ev.Raw
		if len(raw) > max {
			cut := max
			for cut > 0 && cut > max-utf8.UTFMax && !utf8.RuneStart(raw[cut]) {
				cut-- // do not split a rune
			}
			return string(raw[:cut]) + "…"
		}
		return string(raw)
	case ev.DNS != nil:
		s = dnsText(ev)
	default:
		s = recordText(ev)
	}
	if len(s) > max {
		s = s[:max] + "…"
	}
	return s
}

// dnsText renders a DNS event: "2026-11-21T10:12:01.465Z 10.0.0.66:40001
// query TXT name → 10.0.0.53 NOERROR 1 answers (TXT <37 bytes>) 120 bytes".
func dnsText(ev *Event) string {
	x := ev.DNS
	var b strings.Builder
	b.WriteString(ev.Time.UTC().Format("2006-01-02T15:04:05.000Z"))
	b.WriteByte(' ')
	if ev.SrcIP.IsValid() {
		b.WriteString(ev.SrcIP.String())
		if ev.SrcPort != 0 {
			b.WriteString(":" + strconv.Itoa(int(ev.SrcPort)))
		}
		b.WriteByte(' ')
	}
	if ev.Action == ActDNSResponse {
		b.WriteString("response ")
	} else {
		b.WriteString("query ")
	}
	b.WriteString(x.QType)
	b.WriteByte(' ')
	name := x.Name
	if len(name) > 200 {
		name = name[:200] + "…"
	}
	b.WriteString(name)
	if x.ServerIP.IsValid() {
		b.WriteString(" → " + x.ServerIP.String())
	}
	switch {
	case x.Answered:
		b.WriteString(" " + x.RCode)
		if x.AnswerCount > 0 {
			b.WriteString(" " + strconv.Itoa(int(x.AnswerCount)) + " answers")
			if len(x.Answers) > 0 {
				b.WriteString(" (" + x.Answers[0].Type + " " + x.Answers[0].Data + ")")
			}
		}
		if x.RespSize > 0 && !x.SizeEstimated {
			b.WriteString(" " + strconv.Itoa(int(x.RespSize)) + " bytes")
		}
		if x.Orphan != OrphanNone {
			b.WriteString(" (" + x.Orphan.String() + ")")
		}
	case x.Orphan != OrphanNone:
		b.WriteString(" (" + x.Orphan.String() + ")")
	}
	return b.String()
}

// recordText renders an event that came without a line (an archived or
// decoded record): time, kind, action, source, user.
func recordText(ev *Event) string {
	var b strings.Builder
	b.WriteString(ev.Time.UTC().Format("2006-01-02T15:04:05.000Z"))
	b.WriteString(" " + ev.Kind.String() + " " + ev.Action.String())
	if ev.SrcIP.IsValid() {
		b.WriteString(" from " + ev.SrcIP.String())
	}
	if ev.User != "" {
		b.WriteString(" user " + ev.User)
	}
	if ev.HTTP != nil {
		b.WriteString(" " + ev.HTTP.Method + " " + ev.HTTP.Path)
		if ev.HTTP.Status != 0 {
			b.WriteString(" " + strconv.Itoa(ev.HTTP.Status))
		}
	}
	return b.String()
}
