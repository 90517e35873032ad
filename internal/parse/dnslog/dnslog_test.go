package dnslog

import (
	"bytes"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"winnow/internal/event"
	"winnow/internal/generate/dnsgen"
	"winnow/internal/parse"
	"winnow/internal/parse/dnspcap"
)

// parseAll parses text with a format's parser; skipped lines are dropped.
func parseAll(t *testing.T, fm parse.Format, text string) ([]event.Event, int) {
	t.Helper()
	p := fm.New(parse.Options{ModTime: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)})
	var evs []event.Event
	bad := 0
	for i, l := range strings.Split(strings.TrimRight(text, "\n"), "\n") {
		var ev event.Event
		ev.Ref = event.Ref{File: "t", Line: int64(i + 1)}
		err := p.Parse([]byte(l), &ev)
		switch {
		case err == nil:
			evs = append(evs, ev)
		case errors.Is(err, parse.ErrSkip):
		case errors.Is(err, parse.ErrMalformed):
			bad++
		default:
			t.Fatalf("line %d: error %v wraps neither ErrSkip nor ErrMalformed", i+1, err)
		}
	}
	return evs, bad
}

// key is what a query looks like in any input format.
type key struct {
	client, name, qtype, rcode string
	orphan                     event.Orphan
}

func keyOf(ev *event.Event) key {
	return key{ev.SrcIP.String(), strings.ToLower(ev.DNS.Name), ev.DNS.QType, ev.DNS.RCode, ev.DNS.Orphan}
}

func pcapKeys(t *testing.T, cfg dnsgen.Config) ([]key, []event.Event) {
	var b bytes.Buffer
	if _, err := dnsgen.WritePcap(&b, cfg); err != nil {
		t.Fatal(err)
	}
	var keys []key
	var evs []event.Event
	_, err := dnspcap.NewDecoder(dnspcap.Config{FollowUp: -1})(&b, "gen.pcap", parse.Options{}, func(ev *event.Event) error {
		keys = append(keys, keyOf(ev))
		evs = append(evs, *ev)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return keys, evs
}

// TestZeekMatchesPcap: the generator writes the same traffic as a pcap and
// as a Zeek dns.log; both parse to the same queries.
func TestZeekMatchesPcap(t *testing.T) {
	cfg := dnsgen.Config{Seed: 5, Clients: 3, Duration: 40 * time.Minute}
	var z bytes.Buffer
	if _, err := dnsgen.WriteZeek(&z, cfg); err != nil {
		t.Fatal(err)
	}
	if s := ZeekFormat().Sniff(firstLines(z.String(), 32)); s < 0.99 {
		t.Errorf("sniff %.2f", s)
	}
	zevs, bad := parseAll(t, ZeekFormat(), z.String())
	pk, pevs := pcapKeys(t, cfg)
	if bad != 0 || len(zevs) != len(pk) {
		t.Fatalf("zeek %d events (%d malformed), pcap %d", len(zevs), bad, len(pk))
	}
	for i := range zevs {
		if k := keyOf(&zevs[i]); k != pk[i] {
			t.Fatalf("event %d: zeek %+v, pcap %+v", i, k, pk[i])
		}
		zx, px := zevs[i].DNS, pevs[i].DNS
		if zx.Registered != px.Registered || zx.ID != px.ID || !zevs[i].Time.Equal(pevs[i].Time.Truncate(time.Microsecond)) ||
			len(zx.Answers) != len(px.Answers) || zx.ServerIP != px.ServerIP || !zx.SizeEstimated {
			t.Fatalf("event %d:\nzeek %+v\npcap %+v", i, zx, px)
		}
		if len(zx.Answers) > 0 && (zx.Answers[0].Type != px.Answers[0].Type || zx.Answers[0].TTL != px.Answers[0].TTL) {
			t.Fatalf("event %d answers: zeek %+v, pcap %+v", i, zx.Answers, px.Answers)
		}
	}
}

func firstLines(s string, n int) [][]byte {
	var out [][]byte
	for _, l := range strings.Split(s, "\n") {
		if l != "" && len(out) < n {
			out = append(out, []byte(l))
		}
	}
	return out
}

// TestTsharkMatchesPcap: testdata/generated-seed3.tshark.tsv is the first
// 400 lines of the documented tshark export (TsharkCommand, tshark 4.0) of
// `winnow generate dns --seed 3 --clients 2 --duration 6m`; its queries
// and responses must agree with the decoder's events for the same capture.
func TestTsharkMatchesPcap(t *testing.T) {
	b, err := os.ReadFile("testdata/generated-seed3.tshark.tsv")
	if err != nil {
		t.Fatal(err)
	}
	if s := TsharkFormat().Sniff(firstLines(string(b), 32)); s < 0.99 {
		t.Errorf("sniff %.2f", s)
	}
	tevs, bad := parseAll(t, TsharkFormat(), string(b))
	if bad != 0 || len(tevs) != 399 {
		t.Fatalf("%d events, %d malformed", len(tevs), bad)
	}
	_, pevs := pcapKeys(t, dnsgen.Config{Seed: 3, Clients: 2, Duration: 6 * time.Minute})
	type qk struct {
		client string
		id     uint16
		name   string
	}
	byQuery := map[qk]*event.Event{}
	for i := range pevs {
		byQuery[qk{pevs[i].SrcIP.String(), pevs[i].DNS.ID, pevs[i].DNS.Name}] = &pevs[i]
	}
	queries, responses := 0, 0
	for i := range tevs {
		ev := &tevs[i]
		x := ev.DNS
		p := byQuery[qk{ev.SrcIP.String(), x.ID, x.Name}]
		if p == nil {
			t.Fatalf("line %d: no such query in the capture: %v %+v", ev.Ref.Line, ev.SrcIP, x)
		}
		if x.QType != p.DNS.QType || x.Registered != p.DNS.Registered || x.ServerIP != p.DNS.ServerIP || x.Transport != "udp" {
			t.Fatalf("line %d: %+v vs %+v", ev.Ref.Line, x, p.DNS)
		}
		switch ev.Action {
		case event.ActDNSQuery:
			queries++
			if ev.Time.UnixNano() != p.Time.UnixNano() || x.QuerySize != p.DNS.QuerySize {
				t.Fatalf("line %d: query time/size %v %d vs %v %d", ev.Ref.Line, ev.Time, x.QuerySize, p.Time, p.DNS.QuerySize)
			}
		case event.ActDNSResponse:
			responses++
			if x.RCode != p.DNS.RCode || x.RespSize != p.DNS.RespSize || len(x.Answers) != len(p.DNS.Answers) || x.AnswerCount != p.DNS.AnswerCount {
				t.Fatalf("line %d: response %+v vs %+v", ev.Ref.Line, x, p.DNS)
			}
			for j := range x.Answers {
				if x.Answers[j].Type != p.DNS.Answers[j].Type || x.Answers[j].TTL != p.DNS.Answers[j].TTL ||
					(x.Answers[j].Data != "" && x.Answers[j].Data != p.DNS.Answers[j].Data) {
					t.Fatalf("line %d: answer %d %+v vs %+v", ev.Ref.Line, j, x.Answers[j], p.DNS.Answers[j])
				}
			}
		}
	}
	if queries < 150 || responses < 150 {
		t.Errorf("%d queries, %d responses", queries, responses)
	}
}

func TestZeekVariants(t *testing.T) {
	// A reordered header with original_query, an unanswered query, a
	// SERVFAIL without a name, \x escapes, (empty) and TXT answers.
	log := "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tdns\n" +
		"#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\ttrans_id\trtt\tquery\toriginal_query\tqclass\tqclass_name\tqtype\tqtype_name\trcode\trcode_name\tAA\tTC\tRD\tRA\tZ\tanswers\tTTLs\trejected\n" +
		"#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tcount\tinterval\tstring\tstring\tcount\tstring\tcount\tstring\tcount\tstring\tbool\tbool\tbool\tbool\tcount\tvector[string]\tvector[interval]\tbool\n" +
		"1772414415.305988\tCwX\t192.168.0.20\t36844\t192.168.0.1\t53\tudp\t19671\t0.066852\twww.example.com\tWww.Example.com\t1\tC_INTERNET\t1\tA\t0\tNOERROR\tF\tF\tT\tT\t0\t203.0.113.10,2001:db8::1\t3600.000000,60.000000\tF\n" +
		"1772414416.000000\tCwY\t192.168.0.20\t36845\t192.168.0.1\t53\tudp\t19672\t-\tslow.example.org\t-\t1\tC_INTERNET\t1\tA\t-\t-\tF\tF\tT\tF\t0\t-\t-\tF\n" +
		"1772414417.000000\tCwZ\t192.168.0.21\t36846\t192.168.0.1\t53\ttcp\t19673\t-\t-\t-\t-\t-\t-\t-\t2\tSERVFAIL\tF\tF\tF\tF\t0\t-\t-\tT\n" +
		"1772414418.000000\tCwW\t192.168.0.22\t36847\t192.168.0.1\t53\tudp\t19674\t0.07\tab\\x01c.dnsc.r-1x.com\t-\t1\tC_INTERNET\t16\tTXT\t0\tNOERROR\tF\tT\tT\tT\t0\tTXT 18 302f017537c68f5169\t60.000000\tF\n" +
		"not a record\n#close\t2026-03-02-08-00-00\n"
	evs, bad := parseAll(t, ZeekFormat(), log)
	if len(evs) != 4 || bad != 1 {
		t.Fatalf("%d events, %d malformed", len(evs), bad)
	}
	if x := evs[0].DNS; x.Name != "Www.Example.com" || x.Registered != "example.com" || len(x.Answers) != 2 ||
		x.Answers[1] != (event.Answer{Type: "AAAA", TTL: 60, Data: "2001:db8::1", Size: 16}) || x.RTT != 66852*time.Microsecond || !x.Answered {
		t.Errorf("answered: %+v", x)
	}
	if x := evs[1].DNS; x.Answered || x.Orphan != event.OrphanUnanswered || x.RCode != "" {
		t.Errorf("unanswered: %+v", x)
	}
	if x := evs[2].DNS; x.Name != "" || x.RCode != "SERVFAIL" || x.Transport != "tcp" {
		t.Errorf("servfail: %+v", x)
	}
	if x := evs[3].DNS; x.Name != `ab\001c.dnsc.r-1x.com` || x.QType != "TXT" || x.QTypeCode != 16 || !x.Truncated || x.Answers[0].Type != "TXT" {
		t.Errorf("txt: %+v", x)
	}
	if string(evs[0].Raw) == "" || evs[0].Time != time.Unix(1772414415, 305988000).UTC() {
		t.Errorf("raw/time: %q %v", evs[0].Raw, evs[0].Time)
	}
}

func TestZeekJSON(t *testing.T) {
	log := `{"ts":1591367999.305988,"uid":"CMdzit1AMNsmfAIiQc","id.orig_h":"192.168.4.76","id.orig_p":36844,"id.resp_h":"192.168.4.1","id.resp_p":53,"proto":"udp","trans_id":8555,"rtt":0.0001,"query":"testmyids.com","qclass":1,"qclass_name":"C_INTERNET","qtype":1,"qtype_name":"A","rcode":0,"rcode_name":"NOERROR","AA":false,"TC":false,"RD":true,"RA":true,"Z":0,"answers":["31.3.245.133"],"TTLs":[3600.0],"rejected":false}
{"ts":"2020-06-05T14:40:00.5Z","uid":"C2","id.orig_h":"192.168.4.76","id.orig_p":36845,"id.resp_h":"192.168.4.1","id.resp_p":53,"proto":"udp","trans_id":1,"query":"never.example.\u0063om","qtype":28,"qtype_name":"AAAA","rejected":false}
{"ts":1591368001,"id.orig_h":"::ffff:10.0.0.1","query":"x.example.net","qtype_name":"TXT","rcode_name":"NXDOMAIN","answers":[],"extra":{"nested":[1,2,{"a":"]"}]}}
{"ts":1591368002,"uid":"broken"
{"uid":"no-ts","query":"a.b"}
`
	lines := firstLines(log, 32)
	if s := ZeekJSONFormat().Sniff(lines); s < 0.5 || s > 0.7 {
		t.Errorf("sniff %.2f", s)
	}
	evs, bad := parseAll(t, ZeekJSONFormat(), log)
	if len(evs) != 3 || bad != 2 {
		t.Fatalf("%d events, %d malformed", len(evs), bad)
	}
	if x := evs[0].DNS; x.Name != "testmyids.com" || x.ID != 8555 || x.Answers[0].Data != "31.3.245.133" || x.Answers[0].TTL != 3600 || x.RCode != "NOERROR" {
		t.Errorf("first: %+v", x)
	}
	if x := evs[1].DNS; x.Name != "never.example.com" || x.Orphan != event.OrphanUnanswered || x.QType != "AAAA" ||
		evs[1].Time != time.Date(2020, 6, 5, 14, 40, 0, 5e8, time.UTC) {
		t.Errorf("second: %+v at %v", x, evs[1].Time)
	}
	if evs[2].SrcIP.String() != "10.0.0.1" || evs[2].DNS.RCode != "NXDOMAIN" {
		t.Errorf("third: %v %+v", evs[2].SrcIP, evs[2].DNS)
	}
}

func TestNames(t *testing.T) {
	text := "www.example.com\n1,q+Z8BnweCORdAGL4.hidemyself.org.\ndga,gozi,mortiscontrastatim.com\n\n  spaced.example.org  \nbin\xff\xfe.example.net\n"
	lines := firstLines(text, 32)
	if s := NamesFormat().Sniff(lines); s < 0.85 {
		t.Errorf("sniff %.2f", s)
	}
	evs, _ := parseAll(t, NamesFormat(), text)
	want := []string{"www.example.com", "q+Z8BnweCORdAGL4.hidemyself.org", "mortiscontrastatim.com", "spaced.example.org", `bin\255\254.example.net`}
	if len(evs) != len(want) {
		t.Fatalf("%d events", len(evs))
	}
	for i, w := range want {
		if evs[i].DNS.Name != w || evs[i].Action != event.ActDNSQuery || !evs[i].Time.Equal(time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)) {
			t.Errorf("%d: %q at %v", i, evs[i].DNS.Name, evs[i].Time)
		}
	}
	if evs[1].DNS.Registered != "hidemyself.org" {
		t.Errorf("registered %q", evs[1].DNS.Registered)
	}
}

// TestSniffing: each format claims its own samples and not the others'
// (nor auth.log lines).
func TestSniffing(t *testing.T) {
	var z bytes.Buffer
	dnsgen.WriteZeek(&z, dnsgen.Config{Seed: 1, Clients: 2, Duration: 10 * time.Minute})
	tsv, _ := os.ReadFile("testdata/generated-seed3.tshark.tsv")
	samples := map[string]string{
		"zeek-dns":      z.String(),
		"zeek-dns-json": `{"ts":1591367999.305988,"uid":"C1","id.orig_h":"192.168.4.76","id.orig_p":1,"id.resp_h":"192.168.4.1","id.resp_p":53,"query":"a.example.com","qtype_name":"A"}` + "\n",
		"tshark-dns":    string(tsv),
		"dns-names":     "www.example.com\nmail.example.org\n",
		"":              "Nov 30 12:00:01 host sshd[12]: Failed password for root from 203.0.113.5 port 22 ssh2\nNov 30 12:00:02 host sshd[12]: Connection closed\n",
	}
	fs := &parse.Formats{}
	for _, f := range Formats() {
		fs.Add(f)
	}
	for want, text := range samples {
		fm, err := fs.Detect(firstLines(text, 32))
		switch {
		case want == "" && err == nil:
			t.Errorf("auth.log detected as %s", fm.Name)
		case want != "" && (err != nil || fm.Name != want):
			t.Errorf("%s sample detected as %q (%v)", want, fm.Name, err)
		}
	}
}

// FuzzParsers feeds arbitrary lines to every DNS log parser (after a
// header, so the column maps are exercised too).
func FuzzParsers(f *testing.F) {
	f.Add("1591367999.305988\tC\t1.2.3.4\t1\t5.6.7.8\t53\tudp\t1\t0.1\ta.example.com\t1\tC_INTERNET\t1\tA\t0\tNOERROR\tF\tF\tT\tT\t0\t1.2.3.4\t60.0\tF")
	f.Add(`{"ts":1,"id.orig_h":"1.2.3.4","query":"a\u00e9.b","answers":["x",1,{"y":[]}],"TTLs":[1e3]}`)
	f.Add("1772438404.445298918\t10.0.0.10\t\t10.0.0.53\t\t50009\t53\t\t\t53\t\t0x827a\t0\t\t0\texample-corp.com\t15\t0")
	f.Add("q+Z8A3wbBA.hidemyself.org.")
	headers := map[string]string{
		"zeek-dns":   "#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\ttrans_id\trtt\tquery\tqclass\tqclass_name\tqtype\tqtype_name\trcode\trcode_name\tAA\tTC\tRD\tRA\tZ\tanswers\tTTLs\trejected",
		"tshark-dns": strings.Join(tsharkFields[:], "\t"),
	}
	f.Fuzz(func(t *testing.T, line string) {
		for _, fm := range Formats() {
			p := fm.New(parse.Options{})
			var ev event.Event
			if h, ok := headers[fm.Name]; ok {
				_ = p.Parse([]byte(h), &ev)
			}
			err := p.Parse([]byte(line), &ev)
			if err == nil && (ev.DNS == nil || ev.Kind != event.KindDNS) {
				t.Fatalf("%s: event without DNS part", fm.Name)
			}
			if err != nil && !errors.Is(err, parse.ErrMalformed) && !errors.Is(err, parse.ErrSkip) {
				t.Fatalf("%s: %v", fm.Name, err)
			}
			fm.Sniff([][]byte{[]byte(line)})
		}
	})
}
