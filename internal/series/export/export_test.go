package export

import (
	"bytes"
	"encoding/csv"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"
)

func rows() []Row {
	s := 0.93
	t0 := time.Date(2026, 3, 30, 15, 54, 0, 0, time.UTC)
	return []Row{
		{Metric: "failed_logins_by_source", EntityType: "ip", Entity: "24.151.103.17", StepSeconds: 60, Timestamp: t0, Value: 21, AnomalyScore: &s},
		{Metric: "failed_logins_by_source", EntityType: "ip", Entity: "24.151.103.17", StepSeconds: 60, Timestamp: t0.Add(time.Minute), Value: 0},
	}
}

func TestCSV(t *testing.T) {
	var b bytes.Buffer
	w, err := NewWriter(&b, CSV)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(rows()); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&b).ReadAll()
	if err != nil || len(recs) != 3 {
		t.Fatalf("%v %v", recs, err)
	}
	if recs[1][4] != "2026-03-30T15:54:00Z" || recs[1][5] != "21" || recs[1][6] != "0.93" || recs[2][6] != "" {
		t.Fatalf("rows %v", recs)
	}
}

func TestParquetRoundTrip(t *testing.T) {
	var b bytes.Buffer
	w, err := NewWriter(&b, Parquet)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(rows()); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	got, err := parquet.Read[Row](bytes.NewReader(b.Bytes()), int64(b.Len()))
	if err != nil {
		t.Fatal(err)
	}
	want := rows()
	if len(got) != 2 || got[0].Entity != want[0].Entity || !got[0].Timestamp.Equal(want[0].Timestamp) ||
		got[0].AnomalyScore == nil || *got[0].AnomalyScore != 0.93 || got[1].AnomalyScore != nil || got[1].Value != 0 {
		t.Fatalf("round trip: %+v", got)
	}
}

func TestParseFormat(t *testing.T) {
	for in, want := range map[string]Format{"csv": CSV, "out.parquet": Parquet, "x.CSV": CSV} {
		if f, err := ParseFormat(in); err != nil || f != want {
			t.Errorf("%q: %v %v", in, f, err)
		}
	}
	if _, err := ParseFormat("xml"); err == nil {
		t.Error("xml accepted")
	}
}
