package csvseries

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"winnow/internal/testdata"
)

func TestReadLineEndings(t *testing.T) {
	body := []string{"timestamp,value", "2014-02-14 14:30:00,0.132", "2014-02-14 14:35:00,0.134", "", "2014-02-14 14:40:00,1e3"}
	for name, sep := range map[string]string{"lf": "\n", "crlf": "\r\n", "cr": "\r"} {
		t.Run(name, func(t *testing.T) {
			for _, trailing := range []string{"", sep} {
				s, err := Read(strings.NewReader(strings.Join(body, sep) + trailing))
				if err != nil {
					t.Fatal(err)
				}
				if s.Len() != 3 || s.Bad != 0 {
					t.Fatalf("len %d bad %d %+v", s.Len(), s.Bad, s.BadRows)
				}
				if want := time.Date(2014, 2, 14, 14, 35, 0, 0, time.UTC); !s.Times[1].Equal(want) {
					t.Fatalf("time %v", s.Times[1])
				}
				if s.Values[2] != 1000 {
					t.Fatalf("value %v", s.Values[2])
				}
			}
		})
	}
}

func TestReadBadRowsAndExtras(t *testing.T) {
	in := "\xef\xbb\xbf\"timestamp\",\"value\",anomaly_score,label\r\n" +
		"2014-04-10 07:15:00.000000,1.5,0.25,0\r\n" +
		"not a time,1,0,0\r\n" +
		"2014-04-10 07:20:00,abc,0,0\r\n" +
		"2014-04-10 07:25:00,NaN,0,0\r\n" +
		"2014-04-10 07:30:00\r\n" +
		"\"2014-04-10 07:35:00\",\"2\",x,1\r\n" +
		"2014-02-30 07:35:00,2,0,1\r\n"
	s, err := Read(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if s.Len() != 2 || s.Bad != 5 {
		t.Fatalf("len %d bad %d %+v", s.Len(), s.Bad, s.BadRows)
	}
	if s.BadRows[0].Line != 3 || s.BadRows[1].Line != 4 {
		t.Fatalf("bad line numbers %+v", s.BadRows)
	}
	if got := s.Columns["anomaly_score"]; len(got) != 2 || got[0] != 0.25 || !math.IsNaN(got[1]) {
		t.Fatalf("anomaly_score %v", got)
	}
	if got := s.Columns["label"]; got[1] != 1 {
		t.Fatalf("label %v", got)
	}
}

func TestHeaderRequired(t *testing.T) {
	for _, in := range []string{"", "\n\n", "a,b\n1,2\n", "timestamp\n2014-01-01 00:00:00\n"} {
		if _, err := Read(strings.NewReader(in)); !errors.Is(err, ErrNoHeader) {
			t.Errorf("%q: err %v, want ErrNoHeader", in, err)
		}
	}
}

func TestParseTimeForms(t *testing.T) {
	want := time.Date(2015, 9, 1, 11, 0, 0, 0, time.UTC)
	for _, s := range []string{"2015-09-01 11:00:00", "2015-09-01T11:00:00", "2015-09-01T11:00:00Z",
		"2015-09-01T13:00:00+02:00", "1441105200", "1441105200000", "2015-09-01 11:00:00.000000"} {
		got, err := ParseTime([]byte(s))
		if err != nil || !got.Equal(want) {
			t.Errorf("%q: %v %v", s, got, err)
		}
	}
	for _, s := range []string{"", "2015-13-01 00:00:00", "yesterday", "2015-09-01 11:00:00.", "-5"} {
		if _, err := ParseTime([]byte(s)); err == nil {
			t.Errorf("%q: no error", s)
		}
	}
}

func TestLongLine(t *testing.T) {
	in := "timestamp,value\n" + "2014-01-01 00:00:00," + strings.Repeat("1", MaxLine+10) + "\n2014-01-01 00:05:00,2\n"
	s, err := Read(strings.NewReader(in))
	if err != nil || s.Len() != 1 || s.Bad != 1 {
		t.Fatalf("len %d bad %d err %v", s.Len(), s.Bad, err)
	}
}

// TestNABCorpus reads every NAB file of the shared data.
func TestNABCorpus(t *testing.T) {
	dir := testdata.File(t, "nab/data")
	files, _ := filepath.Glob(filepath.Join(dir, "*", "*.csv"))
	if len(files) == 0 {
		t.Skip("no NAB files")
	}
	total := 0
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		s, err := Read(fh)
		fh.Close()
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		// A few NAB files repeat a timestamp (clock changes); none goes back.
		if s.Bad != 0 || s.Unordered > s.Len()/100 || s.Len() < 1000 {
			t.Errorf("%s: len %d bad %d unordered %d", f, s.Len(), s.Bad, s.Unordered)
		}
		total += s.Len()
	}
	t.Logf("%d files, %d points", len(files), total)
}

func FuzzRead(f *testing.F) {
	f.Add([]byte("timestamp,value\n2014-02-14 14:30:00,0.132\r\n2014-02-14 14:35:00,1e9\r"))
	f.Add([]byte("value,timestamp,anomaly_score\n1,1441105200,0.5\n\"2\",\"2015-09-01T11:00:00Z\",x\n"))
	f.Add([]byte("\xef\xbb\xbftime,value\r\r\n,\n\",\",\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Read(strings.NewReader(string(data)))
		if err != nil {
			if !errors.Is(err, ErrNoHeader) {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		if len(s.Times) != len(s.Values) {
			t.Fatal("length mismatch")
		}
		for _, c := range s.Columns {
			if len(c) != len(s.Times) {
				t.Fatal("column length mismatch")
			}
		}
		for _, v := range s.Values {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				t.Fatal("non-finite value accepted")
			}
		}
		if len(s.BadRows) > MaxBadSamples || s.Bad < len(s.BadRows) {
			t.Fatal("bad row bookkeeping")
		}
	})
}
