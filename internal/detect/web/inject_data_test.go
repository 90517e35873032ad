package web

import (
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"testing"

	"winnow/internal/testdata"
)

// The injection matcher is measured on labelled payload datasets: each
// payload is inspected as the decoded value of a query parameter
// ("p=<payload>"), as a server would log it.

type labelled struct {
	text  string
	group string // attack type or "benign"
	bad   bool
}

func readCSV(t *testing.T, rel string) [][]string {
	t.Helper()
	f, err := os.Open(testdata.File(t, rel))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = -1
	r.LazyQuotes = true
	var rows [][]string
	for {
		row, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("%s: %v", rel, err)
		}
		rows = append(rows, row)
	}
	return rows[1:]
}

type rates struct {
	n, hit  map[string]int
	missed  map[string][]string
	flagged map[string][]string
}

func measure(items []labelled) rates {
	r := rates{n: map[string]int{}, hit: map[string]int{}, missed: map[string][]string{}, flagged: map[string][]string{}}
	var in Inspector
	var out []Match
	for _, it := range items {
		out = in.Inspect("p="+it.text, FieldQuery, out[:0])
		r.n[it.group]++
		if len(out) > 0 {
			r.hit[it.group]++
			if !it.bad && len(r.flagged[it.group]) < 400 {
				r.flagged[it.group] = append(r.flagged[it.group], fmt.Sprintf("%s/%s %q ← %q", out[0].Class, out[0].Rule, out[0].Fragment, clip(it.text, 120)))
			}
		} else if it.bad && len(r.missed[it.group]) < 400 {
			r.missed[it.group] = append(r.missed[it.group], clip(it.text, 120))
		}
	}
	return r
}

func (r rates) rate(g string) float64 {
	if r.n[g] == 0 {
		return 0
	}
	return float64(r.hit[g]) / float64(r.n[g])
}

func (r rates) report(t *testing.T) {
	var gs []string
	for g := range r.n {
		gs = append(gs, g)
	}
	sort.Strings(gs)
	for _, g := range gs {
		t.Logf("%-16s %6d rows  flagged %6.2f%%", g, r.n[g], 100*r.rate(g))
	}
	if testing.Verbose() && os.Getenv("WINNOW_SHOW") != "" {
		for _, g := range gs {
			for _, s := range r.flagged[g] {
				t.Logf("FP %s: %s", g, s)
			}
			for _, s := range r.missed[g] {
				t.Logf("MISS %s: %s", g, s)
			}
		}
	}
}

// TestInjectionHTTPParams measures detection per attack type and false
// positives on the benign parameter values of http-params-dataset, and on
// its lexical set (benign prose with quotes, code and SQL-looking words).
func TestInjectionHTTPParams(t *testing.T) {
	var items []labelled
	for _, row := range readCSV(t, "http-params-dataset/payload_train.csv") {
		items = append(items, labelled{text: row[0], group: row[2], bad: row[3] == "anom"})
	}
	for _, row := range readCSV(t, "http-params-dataset/payload_test_lexical.csv") {
		g := "lexical-" + row[2]
		items = append(items, labelled{text: row[0], group: g, bad: row[3] == "anom"})
	}
	r := measure(items)
	r.report(t)
	// Thresholds sit just under the measured values (in the README), so a
	// regression fails. SQL injection (sqlmap) is the bulk of the attacks
	// (measured 99.8%); XSS (92.9%) and traversal (63%) payloads come from
	// FuzzDB and include fragments that are not attacks on their own
	// ("/i{file}", "/aaaa…", "document.URL"); command injection (72.9%)
	// includes bare words ("asdf3334", "'true'", "id").
	for g, min := range map[string]float64{"sqli": 0.99, "xss": 0.92, "path-traversal": 0.62, "cmdi": 0.70} {
		if got := r.rate(g); got < min {
			t.Errorf("%s detection %.3f, want ≥ %.2f", g, got, min)
		}
	}
	// Benign values: measured 0 of 12,870 and 1 of 1,000 lexical
	// look-alikes (prose quoting a shell pipeline). The lexical set's SQL
	// and JavaScript code rows (labelled "anom" there, but they are code,
	// not attacks) are reported, not asserted: whole statements are not
	// break-outs (0% flagged), JavaScript calls to alert() are (42%).
	for g, max := range map[string]float64{"norm": 0.0005, "lexical-norm": 0.003} {
		if got := r.rate(g); got > max {
			t.Errorf("%s false positives %.4f, want ≤ %.4f", g, got, max)
		}
	}
}

// TestInjectionSQLXSSPayloads measures detection and false positives on the
// sqli-xss-payloads sets (benign rows include plain SQL statements, which a
// parameter may legitimately carry in this dataset's labelling, and prose).
func TestInjectionSQLXSSPayloads(t *testing.T) {
	var items []labelled
	for _, row := range readCSV(t, "sqli-xss-payloads/Modified_SQL_Dataset.csv") {
		if len(row) < 2 {
			continue
		}
		bad := row[len(row)-1] == "1"
		g := "sql-benign"
		if bad {
			g = "sql-attack"
		}
		items = append(items, labelled{text: strings.Join(row[:len(row)-1], ","), group: g, bad: bad})
	}
	for _, row := range readCSV(t, "sqli-xss-payloads/XSS_dataset.csv") {
		if len(row) < 3 {
			continue
		}
		bad := row[2] == "1"
		g := "xss-benign"
		if bad {
			g = "xss-attack"
		}
		items = append(items, labelled{text: row[1], group: g, bad: bad})
	}
	r := measure(items)
	r.report(t)
	// Measured: 97.0% of SQL attacks (the misses are fragments such as
	// "--", "as", "@variable"), 98.6% of XSS attacks (the misses are DOM
	// API names without a sink: "document.URL"); false positives 2 of
	// 19,537 benign SQL rows (whole statements, judged as statements) and
	// 0 of 3,810 benign prose rows.
	for g, min := range map[string]float64{"sql-attack": 0.96, "xss-attack": 0.98} {
		if got := r.rate(g); got < min {
			t.Errorf("%s detection %.3f, want ≥ %.2f", g, got, min)
		}
	}
	for g, max := range map[string]float64{"sql-benign": 0.0005, "xss-benign": 0.001} {
		if got := r.rate(g); got > max {
			t.Errorf("%s false positives %.4f, want ≤ %.4f", g, got, max)
		}
	}
}
