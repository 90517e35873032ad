package httpraw

import (
	"bytes"
	"errors"
	"io"
	"os"
	"strings"
	"testing"

	"winnow/internal/event"
	"winnow/internal/testdata"
)

const sample = "GET http://localhost:8080/tienda1/index.jsp HTTP/1.1\r\n" +
	"User-Agent: Mozilla/5.0 (compatible; Konqueror/3.5; Linux)\r\n" +
	"Host: localhost:8080\r\n" +
	"Cookie: JSESSIONID=1F767F17239C9B670A39E9B10C3825F4\r\n" +
	"\r\n\r\n" +
	"POST http://localhost:8080/tienda1/publico/anadir.jsp HTTP/1.1\r\n" +
	"Host: localhost:8080\r\n" +
	"Content-Type: application/x-www-form-urlencoded\r\n" +
	"Content-Length: 22\r\n" +
	"\r\n" +
	"id=3&nombre=Vino+Rioja\r\n" +
	"\r\n" +
	"GET /a/b.php?x=%27or HTTP/1.0\r\n" +
	"Host: example.org\r\n"

func readAll(t testing.TB, s string) ([]*Request, Stats) {
	t.Helper()
	r := NewReader(strings.NewReader(s))
	var out []*Request
	for {
		req, err := r.Next()
		if errors.Is(err, io.EOF) {
			return out, r.Stats()
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, req)
	}
}

func TestReader(t *testing.T) {
	for _, tc := range []struct{ name, eol string }{{"crlf", "\r\n"}, {"lf", "\n"}, {"cr", "\r"}} {
		t.Run(tc.name, func(t *testing.T) {
			in := strings.ReplaceAll(sample, "\r\n", tc.eol)
			reqs, st := readAll(t, in)
			if len(reqs) != 3 || st.Malformed != 0 {
				t.Fatalf("got %d requests, stats %+v", len(reqs), st)
			}
			a, b, c := reqs[0], reqs[1], reqs[2]
			if a.Method != "GET" || a.Path != "/tienda1/index.jsp" || a.Query != "" || a.Host != "localhost:8080" || a.Body != nil || a.Line != 1 {
				t.Errorf("first: %+v", a)
			}
			if a.Get("cookie") != "JSESSIONID=1F767F17239C9B670A39E9B10C3825F4" || len(a.Headers) != 3 {
				t.Errorf("headers: %+v", a.Headers)
			}
			if b.Method != "POST" || string(b.Body) != "id=3&nombre=Vino+Rioja" || b.Line != 7 || b.Get("Content-Length") != "22" {
				t.Errorf("second: %+v body %q", b, b.Body)
			}
			if c.Path != "/a/b.php" || c.Query != "x=%27or" || c.Proto != "HTTP/1.0" || c.Host != "example.org" || c.Line != 14 {
				t.Errorf("third: %+v", c)
			}
			var ev event.Event
			c.Event(&ev, event.Ref{File: "f", Line: c.Line})
			if ev.Kind != event.KindHTTP || ev.HTTP.QueryDecoded != "x='or" || ev.HTTP.Ext != "php" || ev.HTTP.Site != "example.org" || ev.Ref.Line != 14 {
				t.Errorf("event: %+v %+v", ev, ev.HTTP)
			}
		})
	}
}

func TestMalformedAndLimits(t *testing.T) {
	in := "garbage before\nnot a request\n\nGET / HTTP/1.1\nno colon here\nA: b\n  folded\n\nline1\n\nline2\n\n\n"
	reqs, st := readAll(t, in)
	if len(reqs) != 1 || st.Malformed != 3 {
		t.Fatalf("got %d, %+v", len(reqs), st)
	}
	if string(reqs[0].Body) != "line1\n\nline2" || reqs[0].Get("a") != "b folded" {
		t.Errorf("%+v %q", reqs[0], reqs[0].Body)
	}
	long := "GET / HTTP/1.1\n\n" + strings.Repeat("x", MaxLine+10) + "\n"
	reqs, st = readAll(t, long)
	if len(reqs) != 1 || st.TruncatedLines != 1 || len(reqs[0].Body) != MaxLine {
		t.Errorf("long: %d %+v", len(reqs), st)
	}
	if IsRequestLine([]byte("GET /")) || IsRequestLine([]byte("get / HTTP/1.1")) || !IsRequestLine([]byte("PROPFIND /x y HTTP/1.1")) {
		t.Error("IsRequestLine")
	}
	if Sniff([][]byte{[]byte("GET / HTTP/1.1"), []byte("Host: x")}) != 1 || Sniff([][]byte{[]byte("1.2.3.4 - - [x]")}) != 0 {
		t.Error("Sniff")
	}
}

// TestCSIC reads the real dataset: every request is found (the files hold
// 36,000 normal and 12,500 anomalous requests) and nothing is malformed.
func TestCSIC(t *testing.T) {
	for _, c := range []struct {
		file string
		want int
	}{{"csic2010/normalTrafficTraining.txt", 36000}, {"csic2010/anomalousTrafficTraining.txt", 12500}} {
		f, err := os.Open(testdata.File(t, c.file))
		if err != nil {
			t.Fatal(err)
		}
		r := NewReader(f)
		n, posts := 0, 0
		for {
			req, err := r.Next()
			if err != nil {
				if !errors.Is(err, io.EOF) {
					t.Fatal(err)
				}
				break
			}
			n++
			if req.Method == "POST" {
				posts++
				if len(req.Body) == 0 {
					t.Errorf("%s:%d: POST without body", c.file, req.Line)
				}
			}
		}
		f.Close()
		st := r.Stats()
		if n != c.want || st.Malformed != 0 {
			t.Errorf("%s: %d requests (want %d), %d POST, stats %+v", c.file, n, c.want, posts, st)
		}
	}
}

func FuzzReader(f *testing.F) {
	f.Add([]byte(sample))
	f.Add([]byte("GET / HTTP/1.1\r\n\r\n"))
	f.Add([]byte("POST x HTTP/1.1\rA:\r\rbody\rGET y HTTP/9\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		r := NewReader(bytes.NewReader(b))
		n := 0
		for {
			req, err := r.Next()
			if err != nil {
				if !errors.Is(err, io.EOF) {
					t.Fatalf("error %v", err)
				}
				break
			}
			n++
			if req.Method == "" || req.Line < 1 || len(req.Body) > MaxBody || len(req.Headers) > MaxHeaders {
				t.Fatalf("bad request %+v", req)
			}
			if req.Path == "" && req.Query == "" && req.Target == "" {
				t.Fatalf("empty target %+v", req)
			}
			var ev event.Event
			req.Event(&ev, event.Ref{Line: req.Line})
			if ev.HTTP == nil || ev.Kind != event.KindHTTP {
				t.Fatal("no event")
			}
		}
		if st := r.Stats(); st.Requests != int64(n) || st.Lines > int64(len(b))+1 {
			t.Fatalf("stats %+v for %d requests, %d bytes", st, n, len(b))
		}
	})
}

func BenchmarkReader(b *testing.B) {
	data := []byte(strings.Repeat(sample, 200))
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		r := NewReader(bytes.NewReader(data))
		for {
			if _, err := r.Next(); err != nil {
				break
			}
			n++
		}
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "requests/s")
}
