package dns

import (
	"bufio"
	"encoding/csv"
	"io"
	"os"
	"sort"
	"strings"
	"testing"

	"winnow/internal/testdata"
)

// scored is a score with its label.
type scored struct {
	s   float64
	pos bool
}

// auc is the ROC area (ties count half).
func auc(xs []scored) float64 {
	sort.Slice(xs, func(i, j int) bool { return xs[i].s < xs[j].s })
	var pos, neg, rankSum float64
	for i := 0; i < len(xs); {
		j := i
		for j < len(xs) && xs[j].s == xs[i].s {
			j++
		}
		r := float64(i+j+1) / 2 // average 1-based rank
		for k := i; k < j; k++ {
			if xs[k].pos {
				rankSum += r
				pos++
			} else {
				neg++
			}
		}
		i = j
	}
	return (rankSum - pos*(pos+1)/2) / (pos * neg)
}

// recallAtFPR returns the recall at the threshold that keeps the false
// positive rate at most fpr, and that threshold.
func recallAtFPR(xs []scored, fpr float64) (float64, float64) {
	var negs []float64
	npos := 0
	for _, x := range xs {
		if x.pos {
			npos++
		} else {
			negs = append(negs, x.s)
		}
	}
	sort.Float64s(negs)
	k := int(float64(len(negs)) * (1 - fpr))
	if k >= len(negs) {
		k = len(negs) - 1
	}
	thr := negs[k] // scores above it are flagged
	tp := 0
	for _, x := range xs {
		if x.pos && x.s > thr {
			tp++
		}
	}
	return float64(tp) / float64(npos), thr
}

type chrmorRow struct{ class, family, domain string }

func readChrmor(t testing.TB) []chrmorRow {
	f, err := os.Open(testdata.File(t, "dga-domains/chrmor/dga_domains_sample.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	var out []chrmorRow
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, chrmorRow{rec[0], rec[1], rec[2]})
	}
	return out
}

func readLabelled(t testing.TB, rel string) (names []string, labels []bool) {
	f, err := os.Open(testdata.File(t, rel))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		l, n, ok := strings.Cut(sc.Text(), ",")
		if !ok {
			continue
		}
		names = append(names, n)
		labels = append(labels, l == "1")
	}
	return names, labels
}
