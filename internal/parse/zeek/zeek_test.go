package zeek

import (
	"bytes"
	"errors"
	"os"
	"testing"

	"winnow/internal/event"
	"winnow/internal/parse"
)

func parseFile(t *testing.T, path string) (string, []event.Event) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := bytes.Split(bytes.TrimRight(data, "\n"), []byte("\n"))
	var fs parse.Formats
	for _, f := range Formats() {
		fs.Add(f)
	}
	fm, err := fs.Detect(lines)
	if err != nil {
		t.Fatal(err)
	}
	p := fm.New(parse.Options{})
	var evs []event.Event
	for i, l := range lines {
		var ev event.Event
		ev.Ref = event.Ref{File: path, Line: int64(i + 1)}
		if err := p.Parse(l, &ev); err != nil {
			if errors.Is(err, parse.ErrSkip) {
				continue
			}
			t.Fatalf("line %d: %v", i+1, err)
		}
		evs = append(evs, ev)
	}
	return fm.Name, evs
}

func TestConnTSV(t *testing.T) {
	name, evs := parseFile(t, "testdata/conn.log")
	if name != "zeek-conn" || len(evs) != 6 {
		t.Fatalf("%s: %d events", name, len(evs))
	}
	e := evs[0]
	f := e.Flow
	if e.Kind != event.KindFlow || e.SrcIP.String() != "192.168.1.10" || e.DstPort != 443 || f.Transport != "tcp" || f.Service != "ssl" ||
		f.State != "SF" || f.OrigPackets != 12 || f.RespBytes != 4842 || f.UID != "Cj5bQa1Xf5yOlE0aJ1" ||
		f.End.Sub(e.Time).Milliseconds() != 2503 || f.OrigFlags&event.FlagFIN == 0 || f.RespFlags != event.FlagSYN|event.FlagACK|event.FlagFIN {
		t.Errorf("%+v %+v", e, f)
	}
	if s0 := evs[2].Flow; s0.State != "S0" || s0.RespPackets != 0 || s0.OrigFlags != event.FlagSYN {
		t.Errorf("S0: %+v", s0)
	}
	if icmp := evs[4]; icmp.Flow.ICMPType != 8 || icmp.SrcPort != 0 || icmp.Flow.Transport != "icmp" {
		t.Errorf("icmp: %+v", icmp.Flow)
	}
	// Only the responder spoke (a SYN-ACK from 443): turned around.
	if r := evs[5]; !r.Flow.Reversed || r.SrcIP.String() != "198.51.100.7" || r.SrcPort != 443 || r.Flow.OrigPackets != 1 {
		t.Errorf("reversed: %v:%d %+v", r.SrcIP, r.SrcPort, r.Flow)
	}
}

func TestConnJSON(t *testing.T) {
	name, evs := parseFile(t, "testdata/conn.json")
	if name != "zeek-conn-json" || len(evs) != 2 {
		t.Fatalf("%s %d", name, len(evs))
	}
	if evs[0].Flow.OrigBytes != 1145 || evs[1].Flow.State != "S0" || evs[1].Time.Second() != 2 {
		t.Errorf("%+v %+v", evs[0].Flow, evs[1])
	}
}

func TestFiles(t *testing.T) {
	for _, path := range []string{"testdata/files.log", "testdata/files.json"} {
		_, evs := parseFile(t, path)
		if len(evs) != 1 {
			t.Fatalf("%s: %d", path, len(evs))
		}
		e := evs[0]
		f := e.File
		if e.Kind != event.KindFile || f.MD5 != "44d88612fea8a8f36de82e1278abb02f" || f.SHA1 == "" || f.MimeType != "application/x-dosexec" ||
			e.SrcIP.String() != "93.184.216.34" || e.DstIP.String() != "192.168.1.10" || f.Size != 73802 || f.ConnUID != "Cj5bQa1Xf5yOlE0aJ1" {
			t.Errorf("%s: %+v %+v", path, e, f)
		}
		if path == "testdata/files.log" && f.Name != "invoice copy.exe" {
			t.Errorf("escaped name %q", f.Name)
		}
	}
}

// FuzzConn: any line parses or fails with a documented sentinel, and an
// event it returns is a sane flow.
func FuzzConn(f *testing.F) {
	for _, p := range []string{"testdata/conn.log", "testdata/conn.json", "testdata/files.log", "testdata/files.json"} {
		data, _ := os.ReadFile(p)
		for _, l := range bytes.Split(data, []byte("\n")) {
			f.Add(l)
		}
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		for _, fm := range Formats() {
			p := fm.New(parse.Options{})
			var ev event.Event
			err := p.Parse(line, &ev)
			if err != nil {
				if !errors.Is(err, parse.ErrMalformed) && !errors.Is(err, parse.ErrSkip) {
					t.Fatalf("%s: error %v wraps no sentinel", fm.Name, err)
				}
				continue
			}
			switch ev.Kind {
			case event.KindFlow:
				if ev.Flow == nil || ev.Flow.End.Before(ev.Time) || ev.Flow.OrigPackets < 0 || !ev.SrcIP.IsValid() {
					t.Fatalf("%s: bad flow %+v", fm.Name, ev.Flow)
				}
			case event.KindFile:
				if ev.File == nil {
					t.Fatalf("%s: no file part", fm.Name)
				}
			default:
				t.Fatalf("%s: kind %v", fm.Name, ev.Kind)
			}
			if fm.Sniff([][]byte{line}) < 0 {
				t.Fatal("negative sniff")
			}
		}
	})
}
