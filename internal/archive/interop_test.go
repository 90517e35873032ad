package archive

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	xreader "github.com/xitongsys/parquet-go/reader"
	xsource "github.com/xitongsys/parquet-go/source"

	"winnow/internal/event"
)

// osFile adapts *os.File to the independent reader's file interface.
type osFile struct{ *os.File }

// Open reopens the file ("" means the same file, as the reader asks for
// one handle per column).
func (f osFile) Open(name string) (xsource.ParquetFile, error) {
	if name == "" {
		name = f.Name()
	}
	g, err := os.Open(name)
	return osFile{g}, err
}
func (f osFile) Create(string) (xsource.ParquetFile, error) { return nil, os.ErrPermission }

// TestIndependentReader reads archive files with a second, unrelated
// Parquet implementation (xitongsys/parquet-go): the files are standard
// Parquet (zstd, nanosecond timestamps, dictionary and optional columns,
// a list column) that other engines read too.
func TestIndependentReader(t *testing.T) {
	evs := parseFile(t, "elastic-examples/suspicious_login_activity/auth.log")[:500]
	evs = append(evs, dnsAndHTTP(evs[len(evs)-1].Time)...)
	dir := t.TempDir()
	w, err := NewWriter(Options{Dir: dir, Run: "x"})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(evs); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(nil); err != nil {
		t.Fatal(err)
	}
	files, _ := list(dir, EventKinds, time.Time{}, time.Time{})
	var total int64
	kinds := map[string]bool{}
	originals := map[string]int{}
	for _, fr := range files {
		f, err := os.Open(fr.Path)
		if err != nil {
			t.Fatal(err)
		}
		pr, err := xreader.NewParquetReader(osFile{f}, nil, 1)
		if err != nil {
			t.Fatalf("%s: independent reader: %v", fr.Path, err)
		}
		n := pr.GetNumRows()
		rows, err := pr.ReadByNumber(int(n))
		if err != nil || int64(len(rows)) != n {
			t.Fatalf("%s: read %d of %d rows: %v", fr.Path, len(rows), n, err)
		}
		b, _ := json.Marshal(rows)
		js := string(b)
		var maps []map[string]any
		if err := json.Unmarshal(b, &maps); err != nil {
			t.Fatal(err)
		}
		for _, m := range maps {
			for k, v := range m {
				if strings.EqualFold(k, "event_original") {
					s, _ := v.(string)
					originals[s]++
				}
			}
		}
		switch fr.Kind {
		case "dns":
			if !strings.Contains(js, "x.example.com") || !strings.Contains(js, "TXT") {
				t.Errorf("dns file read independently: %.300s", js)
			}
		case "http":
			if !strings.Contains(js, "/a%20b") {
				t.Errorf("http file read independently: %.300s", js)
			}
		}
		kinds[fr.Kind] = true
		total += n
		pr.ReadStop()
		f.Close()
	}
	if total != int64(len(evs)) || !kinds["auth"] || !kinds["dns"] || !kinds["http"] {
		t.Errorf("independent reader saw %d rows of %d, kinds %v", total, len(evs), kinds)
	}
	// Every original line comes back, as many times as it was written.
	for _, ev := range evs {
		originals[string(ev.Raw)]--
	}
	for line, n := range originals {
		if n != 0 {
			t.Errorf("independent reader: line %q off by %d", line, n)
		}
	}
}

func dnsAndHTTP(t time.Time) []event.Event {
	return []event.Event{
		{Time: t, Kind: event.KindHTTP, Action: event.ActHTTPRequest, Count: 1,
			HTTP: &event.HTTP{Site: "www", Method: "GET", Path: "/a%20b", Status: 404, Bytes: -1}, Raw: []byte("GET /a%20b")},
		{Time: t, Kind: event.KindDNS, Action: event.ActDNSQuery, Count: 1,
			DNS: &event.DNS{Name: "x.example.com", QType: "TXT", Answers: []event.Answer{{Type: "TXT", TTL: 5, Data: "<3 bytes>", Size: 4}}}},
	}
}
