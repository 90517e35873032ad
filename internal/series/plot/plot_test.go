package plot

import (
	"bytes"
	"math"
	"testing"
	"time"

	"gonum.org/v1/plot/vg"
)

func input() Input {
	t0 := time.Date(2014, 4, 1, 0, 0, 0, 0, time.UTC)
	in := Input{Title: "test", Threshold: 0.5}
	for i := 0; i < 500; i++ {
		in.Times = append(in.Times, t0.Add(time.Duration(i)*5*time.Minute))
		in.Values = append(in.Values, math.Sin(float64(i)/20))
		s := 0.0
		if i == 300 {
			s = 0.9
		}
		in.Scores = append(in.Scores, s)
	}
	in.Windows = []Window{{in.Times[280], in.Times[320]}}
	return in
}

func TestWritePNGAndSVG(t *testing.T) {
	for _, f := range []Format{PNG, SVG} {
		var b bytes.Buffer
		if err := Write(&b, input(), f, 8*vg.Inch, 4*vg.Inch); err != nil {
			t.Fatal(err)
		}
		head := b.Bytes()[:min(b.Len(), 64)]
		if f == PNG && !bytes.HasPrefix(head, []byte("\x89PNG")) || f == SVG && !bytes.Contains(head, []byte("<?xml")) {
			t.Fatalf("%s: %q", f, head)
		}
	}
	in := input()
	in.Scores = in.Scores[:10]
	if err := Write(&bytes.Buffer{}, in, PNG, vg.Inch, vg.Inch); err == nil {
		t.Fatal("mismatched lengths accepted")
	}
	if FormatOf("a.SVG") != SVG || FormatOf("a.png") != PNG {
		t.Fatal("FormatOf")
	}
}
