package ioc

import (
	"strings"

	"winnow/internal/event"
)

// Hit is one indicator matched by an event field.
type Hit struct {
	ID    int32
	Field string // ECS name of the field that matched
	Value string // the event's value that matched
}

// MatchEvent appends to out the indicators matching ev: its source
// address, its DNS question name and answer addresses, its HTTP site and
// URL. It allocates only when something matches.
func (s *Set) MatchEvent(ev *event.Event, out []Hit) []Hit {
	if s == nil {
		return out
	}
	if ev.SrcIP.IsValid() {
		for _, id := range s.MatchAddr(ev.SrcIP) {
			out = append(out, Hit{id, "source.ip", ev.SrcIP.String()})
		}
	}
	if d := ev.DNS; d != nil {
		for _, id := range s.MatchDomain(d.Name) {
			out = append(out, Hit{id, "dns.question.name", d.Name})
		}
		if d.ServerIP.IsValid() {
			for _, id := range s.MatchAddr(d.ServerIP) {
				out = append(out, Hit{id, "destination.ip", d.ServerIP.String()})
			}
		}
	}
	if ev.DstIP.IsValid() && ev.DNS == nil {
		for _, id := range s.MatchAddr(ev.DstIP) {
			out = append(out, Hit{id, "destination.ip", ev.DstIP.String()})
		}
	}
	if f := ev.File; f != nil {
		for _, h := range [...]struct{ field, v string }{{"file.hash.md5", f.MD5}, {"file.hash.sha1", f.SHA1}, {"file.hash.sha256", f.SHA256}} {
			if h.v == "" {
				continue
			}
			for _, id := range s.MatchHash(h.v) {
				out = append(out, Hit{id, h.field, h.v})
			}
		}
	}
	if h := ev.HTTP; h != nil && h.Site != "" && h.Site != "-" {
		for _, id := range s.MatchDomain(h.Site) {
			out = append(out, Hit{id, "url.domain", h.Site})
		}
		if len(s.strs) > 0 && s.maybeURL(h) {
			u := "http://" + h.Site + h.Path
			if h.Query != "" {
				u += "?" + h.Query
			}
			for _, id := range s.MatchURL(u) {
				out = append(out, Hit{id, "url.full", u})
			}
		}
	}
	return out
}

// maybeURL tests the Bloom filter for the request's URL without building
// a string (the common miss costs no allocation). A site that would need
// normalising (upper case, a port, a trailing slash-only path) takes the
// exact path.
func (s *Set) maybeURL(h *event.HTTP) bool {
	if strings.ContainsAny(h.Site, "ABCDEFGHIJKLMNOPQRSTUVWXYZ:") || h.Path == "/" || strings.Contains(h.Path, "#") {
		return true
	}
	var buf [512]byte
	k := append(append(append(buf[:0], "u:http://"...), h.Site...), h.Path...)
	if h.Query != "" {
		k = append(append(k, '?'), h.Query...)
	}
	return s.filter.Test(k)
}

// Describe renders an indicator for a finding: value, type and origin.
func (ind *Indicator) Describe() string {
	var b strings.Builder
	b.WriteString(ind.Value)
	b.WriteString(" (")
	b.WriteString(ind.Type.String())
	b.WriteString(" from ")
	b.WriteString(ind.Source)
	if ind.Label != "" {
		b.WriteString(": ")
		b.WriteString(ind.Label)
	}
	b.WriteByte(')')
	return b.String()
}
