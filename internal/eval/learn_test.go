package eval

import (
	"errors"
	"io"
	"math"
	"strings"
	"testing"
)

func TestCSVStream(t *testing.T) {
	// CR-only line ends, a header, a nominal and a numeric column, a
	// missing value, a BOM.
	in := "\ufeffproto,bytes,label\rtcp,10,normal\rudp,?,attack\rtcp,7.5,normal\r\rtcp,3,\ricmp,1,attack\r"
	s, err := NewCSVStream(strings.NewReader(in), CSVOptions{Label: "label", Normal: "normal"})
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Columns) != 2 || !s.Columns[0].Nominal || s.Columns[1].Nominal || s.Columns[0].Name != "proto" {
		t.Fatalf("columns %+v", s.Columns)
	}
	var rows [][]float64
	var ys []int
	for {
		x, y, err := s.Next(nil)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		rows = append(rows, x)
		ys = append(ys, y)
	}
	if len(rows) != 4 || ys[0] != 0 || ys[1] != 1 || rows[0][0] != 0 || rows[1][0] != 1 || !math.IsNaN(rows[1][1]) || rows[3][0] != 2 {
		t.Fatalf("rows %v labels %v", rows, ys)
	}
	// A second file shares the dictionaries.
	t2, err := NewCSVStreamLike(strings.NewReader("proto,bytes,label\nicmp,2,normal\n"), s)
	if err != nil {
		t.Fatal(err)
	}
	x, y, err := t2.Next(nil)
	if err != nil || x[0] != 2 || y != 0 {
		t.Fatalf("like: %v %d %v", x, y, err)
	}
	// No header, numbered label, ignored column.
	s, err = NewCSVStream(strings.NewReader("1,a,9,x\n2,b,8,y\n"), CSVOptions{Label: "-2", Ignore: []string{"1"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Columns) != 2 || s.Columns[0].Name != "c2" || s.Columns[1].Name != "c4" {
		t.Fatalf("columns %+v", s.Columns)
	}
	if _, _, err := s.Next(nil); err != nil || len(s.Classes()) != 1 || s.Classes()[0] != "9" {
		t.Fatalf("classes %v %v", s.Classes(), err)
	}
	if _, err := NewCSVStream(strings.NewReader("a,b\n1,2\n"), CSVOptions{Label: "zz"}); err == nil {
		t.Error("unknown label column accepted")
	}
	if _, err := NewCSVStream(strings.NewReader(""), CSVOptions{}); err == nil {
		t.Error("empty input accepted")
	}
}

func TestPrequential(t *testing.T) {
	p := Prequential{Every: 10}
	for i := 0; i < 95; i++ {
		truth := i % 2
		pred := truth
		if i%10 == 0 {
			pred = 1 - truth
		}
		p.Add(truth, pred, float64(truth)*0.8+0.1)
	}
	p.Finish()
	if p.N != 95 || len(p.Curve) != 10 || math.Abs(p.Accuracy()-85.0/95) > 1e-12 || p.AUC() != 1 {
		t.Fatalf("N %d curve %d acc %v auc %v", p.N, len(p.Curve), p.Accuracy(), p.AUC())
	}
	if p.Curve[0].Window != 0.9 || p.Curve[9].N != 95 || math.IsNaN(p.Curve[9].AUC) {
		t.Errorf("curve %+v", p.Curve)
	}
	b := p.Confusion.Binary()
	if b.N() != 95 || b.FP+b.FN != 10 {
		t.Errorf("binary %+v", b)
	}
	if s := p.Confusion.Format([]string{"normal", "attack"}); !strings.Contains(s, "attack") {
		t.Errorf("format %q", s)
	}
}
