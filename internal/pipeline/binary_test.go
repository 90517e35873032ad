package pipeline

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"winnow/internal/detect"
	"winnow/internal/event"
	"winnow/internal/parse"
	"winnow/internal/source"
)

// A test binary format: "WBIN" then 8-byte records (unix seconds, value);
// a record with value 0xffffffff is malformed, a short tail is an error.
func binFormat() parse.Format {
	return parse.Format{
		Name:  "wbin",
		Magic: func(h []byte) bool { return bytes.HasPrefix(h, []byte("WBIN")) },
		Decode: func(r io.Reader, name string, _ parse.Options, emit func(*event.Event) error) (parse.DecodeStats, error) {
			var st parse.DecodeStats
			head := make([]byte, 4)
			if _, err := io.ReadFull(r, head); err != nil {
				return st, err
			}
			rec := make([]byte, 8)
			for {
				_, err := io.ReadFull(r, rec)
				if errors.Is(err, io.EOF) {
					return st, nil
				}
				if err != nil {
					return st, fmt.Errorf("short record: %w", err)
				}
				st.Records++
				v := binary.BigEndian.Uint32(rec[4:])
				if v == 0xffffffff {
					st.Malformed++
					st.Samples = append(st.Samples, event.Sample{File: name, Line: st.Records, Text: "bad record"})
					continue
				}
				ev := event.Event{Time: time.Unix(int64(binary.BigEndian.Uint32(rec)), 0).UTC(), Kind: event.KindDNS,
					Host: "bin", Msg: []byte(strconv.Itoa(int(v))), Ref: event.Ref{File: name, Line: st.Records}}
				st.Events++
				if err := emit(&ev); err != nil {
					return st, err
				}
			}
		},
	}
}

// A test text format: "<unix seconds> <host> <message>".
func textFormat() parse.Format {
	return parse.Format{
		Name: "ttext",
		Sniff: func(lines [][]byte) float64 {
			ok := 0
			for _, l := range lines {
				if f := strings.Fields(string(l)); len(f) == 3 {
					if _, err := strconv.Atoi(f[0]); err == nil {
						ok++
					}
				}
			}
			return float64(ok) / float64(len(lines))
		},
		New: func(parse.Options) parse.Parser { return textParser{} },
	}
}

type textParser struct{}

func (textParser) Parse(line []byte, ev *event.Event) error {
	f := strings.Fields(string(line))
	if len(f) != 3 {
		return fmt.Errorf("%w: fields", parse.ErrMalformed)
	}
	n, err := strconv.Atoi(f[0])
	if err != nil {
		return fmt.Errorf("%w: time", parse.ErrMalformed)
	}
	*ev = event.Event{Time: time.Unix(int64(n), 0).UTC(), Kind: event.KindDNS, Host: f[1], Msg: []byte(f[2]), Count: 1, Ref: ev.Ref}
	return nil
}

// recorder is a detector that records what it observes, in order.
type recorder struct {
	mu  *sync.Mutex
	got *[]string
}

func (r recorder) Observe(ev *event.Event, _ detect.Emit) {
	r.mu.Lock()
	*r.got = append(*r.got, fmt.Sprintf("%d:%s:%s", ev.Time.Unix(), ev.Host, ev.Msg))
	r.mu.Unlock()
}
func (recorder) Advance(time.Time, detect.Emit) {}
func (recorder) Flush(detect.Emit)              {}
func (recorder) Stats() detect.Stats            { return detect.Stats{} }

func binRecord(sec, v uint32) []byte {
	return binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint32(nil, sec), v)
}

func runBinary(t *testing.T, inputs []source.Input, stdin io.Reader, inputFormat string) ([]string, *Result) {
	t.Helper()
	var mu sync.Mutex
	var got []string
	spec := &detect.Spec{Name: "test.rec", Key: detect.KeyHost, Kinds: []event.Kind{event.KindDNS},
		New: func(detect.Params) (detect.Detector, error) { return recorder{&mu, &got}, nil }}
	fs := &parse.Formats{}
	fs.Add(textFormat())
	fs.Add(binFormat())
	p, err := New(Config{Inputs: inputs, Stdin: stdin, Formats: fs, InputFormat: inputFormat,
		Detectors: []detect.Enabled{{Spec: spec}}, Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	res, err := p.Run(context.Background(), func(event.Alert) {})
	if err != nil {
		t.Fatal(err)
	}
	return got, res
}

func writeFile(t *testing.T, dir, name string, b []byte) source.Input {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return source.Input{Name: name, Path: p, Size: int64(len(b))}
}

func gz(b []byte) []byte {
	var out bytes.Buffer
	w := gzip.NewWriter(&out)
	w.Write(b)
	w.Close()
	return out.Bytes()
}

func TestBinaryInputsMergeWithText(t *testing.T) {
	dir := t.TempDir()
	bin := append([]byte("WBIN"), binRecord(10, 1)...)
	bin = append(bin, binRecord(20, 0xffffffff)...) // malformed, counted
	bin = append(bin, binRecord(30, 3)...)
	text := []byte("15 t a\n25 t b\n35 t c\n")
	inputs := []source.Input{
		writeFile(t, dir, "cap.wbin", bin),
		writeFile(t, dir, "log.txt", text),
		writeFile(t, dir, "cap2.wbin.gz", gz(append([]byte("WBIN"), binRecord(12, 2)...))),
		writeFile(t, dir, "log2.txt.gz", gz([]byte("11 u x\n"))),
	}
	got, res := runBinary(t, inputs, nil, "")
	want := "10:bin:1 11:u:x 12:bin:2 15:t:a 25:t:b 30:bin:3 35:t:c"
	if strings.Join(got, " ") != want {
		t.Errorf("merged\n got %v\nwant %v", got, want)
	}
	if res.InputError {
		t.Errorf("input error: %+v", res.Inputs)
	}
	in := res.Inputs[0]
	if in.Format != "wbin" || in.Records != 3 || in.Lines != 0 || in.Events != 2 || in.Malformed != 1 || len(in.Samples) != 1 || in.Samples[0].Line != 2 {
		t.Errorf("binary stats %+v", in)
	}
	if res.Inputs[1].Format != "ttext" || res.Inputs[3].Format != "ttext" || res.Inputs[2].Format != "wbin" {
		t.Errorf("formats %q %q %q", res.Inputs[1].Format, res.Inputs[2].Format, res.Inputs[3].Format)
	}
}

func TestBinaryStdinAndTextStdinReplay(t *testing.T) {
	std := []source.Input{{Name: "-", Size: -1}}
	// Binary on stdin, plain and gzip.
	for _, b := range [][]byte{append([]byte("WBIN"), binRecord(5, 7)...), gz(append([]byte("WBIN"), binRecord(5, 7)...))} {
		got, res := runBinary(t, std, bytes.NewReader(b), "")
		if strings.Join(got, " ") != "5:bin:7" || res.Inputs[0].Format != "wbin" {
			t.Errorf("binary stdin: %v %+v", got, res.Inputs[0])
		}
	}
	// Text on stdin is replayed in full after the binary sniff read it,
	// plain and gzip, including input longer than the sniff buffer.
	long := strings.Repeat("1 h long\n", 100000)
	for _, s := range []string{"1 h a\n2 h b\n", long} {
		for _, b := range [][]byte{[]byte(s), gz([]byte(s))} {
			got, res := runBinary(t, std, bytes.NewReader(b), "")
			if len(got) != strings.Count(s, "\n") || res.Inputs[0].Format != "ttext" || res.InputError {
				t.Errorf("text stdin: %d events, want %d; %+v", len(got), strings.Count(s, "\n"), res.Inputs[0])
			}
		}
	}
}

func TestBinaryErrors(t *testing.T) {
	dir := t.TempDir()
	short := writeFile(t, dir, "short.wbin", append(append([]byte("WBIN"), binRecord(1, 1)...), 0, 0, 0))
	trunc := gz(append([]byte("WBIN"), bytes.Repeat(binRecord(1, 1), 5000)...))
	truncGz := writeFile(t, dir, "trunc.wbin.gz", trunc[:len(trunc)/2])
	got, res := runBinary(t, []source.Input{short}, nil, "")
	if len(got) != 1 || !res.InputError || !strings.Contains(res.Inputs[0].Err.Error(), "short record") {
		t.Errorf("short: %v %+v", got, res.Inputs[0])
	}
	_, res = runBinary(t, []source.Input{truncGz}, nil, "")
	if !res.InputError || !strings.Contains(res.Inputs[0].Err.Error(), "gzip") {
		t.Errorf("truncated gzip: %+v", res.Inputs[0])
	}
	// Forcing the binary format on text: the decoder's error is reported.
	txt := writeFile(t, dir, "x.txt", []byte("1 h a\n"))
	_, res = runBinary(t, []source.Input{txt}, nil, "wbin")
	if !res.InputError {
		t.Errorf("forced binary on text: %+v", res.Inputs[0])
	}
	// Forcing the text format on a binary file skips the magic check.
	bin := writeFile(t, dir, "y.wbin", append([]byte("WBIN"), binRecord(1, 1)...))
	_, res = runBinary(t, []source.Input{bin}, nil, "ttext")
	if !res.InputError || !strings.Contains(res.Inputs[0].Err.Error(), "binary") {
		t.Errorf("forced text on binary: %+v", res.Inputs[0])
	}
}

// The raw head covers what binary formats' Magic is offered.
func TestRawHeadCoversMagic(t *testing.T) {
	if source.HeadLen < parse.MagicLen {
		t.Fatalf("source.HeadLen %d < parse.MagicLen %d", source.HeadLen, parse.MagicLen)
	}
}
