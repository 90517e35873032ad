package event

import (
	"net/netip"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestSampleOfPacket(t *testing.T) {
	ev := Event{Time: time.Date(2026, 11, 21, 10, 12, 1, 465e6, time.UTC), Kind: KindDNS, Action: ActDNSQuery,
		SrcIP: netip.MustParseAddr("10.0.0.66"), SrcPort: 40001, Ref: Ref{File: "dns.pcap", Line: 12},
		DNS: &DNS{Name: "a.t.example.net", QType: "TXT", ServerIP: netip.MustParseAddr("10.0.0.53"), Answered: true,
			RCode: "NOERROR", AnswerCount: 1, Answers: []Answer{{Type: "TXT", Data: "<37 bytes>"}}, RespSize: 120}}
	s := SampleOf(&ev)
	want := "2026-11-21T10:12:01.465Z 10.0.0.66:40001 query TXT a.t.example.net → 10.0.0.53 NOERROR 1 answers (TXT <37 bytes>) 120 bytes"
	if s.Text != want || s.File != "dns.pcap" || s.Line != 12 {
		t.Errorf("got %+v\nwant %s", s, want)
	}
}

func TestSampleOfLineCut(t *testing.T) {
	raw := strings.Repeat("a", MaxSampleText-1) + "é and more"
	ev := Event{Raw: []byte(raw)}
	s := SampleOf(&ev).Text
	if !utf8.ValidString(s) || !strings.HasSuffix(s, "…") || len(s) > MaxSampleText+len("…") {
		t.Errorf("cut %q", s[len(s)-10:])
	}
	ev.Raw = []byte("short line")
	if SampleOf(&ev).Text != "short line" {
		t.Error("short line changed")
	}
	ev = Event{Time: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), Kind: KindAuth, Action: ActLoginFailure, User: "root"}
	if got := SampleOf(&ev).Text; got != "2026-01-02T03:04:05.000Z auth login-failed user root" {
		t.Errorf("record without a line: %q", got)
	}
}
