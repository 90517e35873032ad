package forest

import (
	"bytes"
	"errors"
	"math"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"winnow/internal/modelfile"
)

// synth is a concept over a numeric, a nominal and a noise attribute:
// positive when x > 0.6 and colour ∈ {1, 3}, or x < 0.1; 5 % label noise.
func synth(n int, seed uint64) *Dataset {
	r := rand.New(rand.NewPCG(seed, 7))
	d := &Dataset{Attrs: []Attr{{Name: "x"}, {Name: "colour", Nominal: true, Values: []string{"red", "green", "blue", "grey"}}, {Name: "noise"}},
		Classes: []string{"good", "bad"}}
	for range n {
		x, c, z := r.Float64(), float64(r.IntN(4)), r.NormFloat64()
		y := 0
		if (x > 0.6 && (c == 1 || c == 3)) || x < 0.1 {
			y = 1
		}
		if r.Float64() < 0.05 {
			y = 1 - y
		}
		if r.IntN(50) == 0 {
			z = math.NaN()
		}
		d.Add([]float64{x, c, z}, y)
	}
	return d
}

func accuracy(f *Forest, d *Dataset) float64 {
	right := 0
	for i := range d.N() {
		if f.Predict(d.Row(i)) == d.Y[i] {
			right++
		}
	}
	return float64(right) / float64(d.N())
}

func TestSynthetic(t *testing.T) {
	train, test := synth(4000, 1), synth(2000, 2)
	f, rep, err := Train(train, 1, DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	if acc := accuracy(f, test); acc < 0.92 {
		t.Errorf("forest accuracy %.3f, want ≥ 0.92 (label noise 5 %%)", acc)
	}
	if rep.OOBAccuracy < 0.9 || rep.OOBAccuracy > 0.97 {
		t.Errorf("OOB accuracy %.3f: want ≈ 0.95 (the noise bounds it)", rep.OOBAccuracy)
	}
	if rep.Importance[2] > rep.Importance[0] || rep.Importance[2] > rep.Importance[1] {
		t.Errorf("noise more important than the concept: %v", rep.Importance)
	}
	tree, _, err := Train(train, 1, TreeConfig())
	if err != nil {
		t.Fatal(err)
	}
	if acc := accuracy(tree, test); acc < 0.92 {
		t.Errorf("CART accuracy %.3f, want ≥ 0.92", acc)
	}
	text := tree.Trees[0].Format(train.Attrs, train.Classes, 3)
	if !strings.Contains(text, "colour ∈ {") || !strings.Contains(text, "x ≤") {
		t.Errorf("tree text lacks the concept's splits:\n%s", text)
	}
	// A positive example is explained by x and colour.
	x := []float64{0.8, 3, 0}
	_, steps := tree.Path(x)
	if len(steps) == 0 || steps[len(steps)-1].Score < 0.8 {
		t.Errorf("path %+v does not end in a bad leaf", steps)
	}
	bias, top := f.Explain(x, 2)
	sum := bias
	_, all := f.Explain(x, 10)
	for _, c := range all {
		sum += c.Effect
	}
	if math.Abs(sum-f.Score(x)) > 1e-6 {
		t.Errorf("bias + contributions = %.6f, score %.6f", sum, f.Score(x))
	}
	names := map[string]bool{}
	for _, c := range top {
		names[c.Name] = true
	}
	if !names["x"] || !names["colour"] || top[0].Effect <= 0 {
		t.Errorf("top contributions %+v, want x and colour pushing towards bad", top)
	}
	if all[0].Shown == "" || (top[0].Name == "colour" && top[0].Shown != "grey") {
		t.Errorf("value text: %+v", top)
	}
}

// Trees are seeded by their index: the number of workers does not change
// the model.
func TestDeterministic(t *testing.T) {
	d := synth(1500, 3)
	c1 := DefaultConfig()
	c1.Trees, c1.Workers = 12, 1
	c2 := c1
	c2.Workers = 3
	f1, _, err := Train(d, 1, c1)
	if err != nil {
		t.Fatal(err)
	}
	f2, _, err := Train(d, 1, c2)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(f1.Encode(), f2.Encode()) {
		t.Error("models differ with the number of workers")
	}
	c3 := c1
	c3.Seed = 2
	f3, _, _ := Train(d, 1, c3)
	if bytes.Equal(f1.Encode(), f3.Encode()) {
		t.Error("another seed gave the same model")
	}
}

func TestMissingValues(t *testing.T) {
	// The class is carried by a that is missing in 30 % of rows; where it
	// is missing, b (a weaker copy) decides.
	r := rand.New(rand.NewPCG(4, 4))
	d := &Dataset{Attrs: []Attr{{Name: "a"}, {Name: "b"}}, Classes: []string{"n", "p"}}
	for range 3000 {
		y := r.IntN(2)
		a, b := float64(y)+0.1*r.NormFloat64(), float64(y)+0.3*r.NormFloat64()
		if r.Float64() < 0.3 {
			a = math.NaN()
		}
		d.Add([]float64{a, b}, y)
	}
	f, _, err := Train(d, 1, DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	if s := f.Score([]float64{math.NaN(), 1.1}); s < 0.7 {
		t.Errorf("missing a, b=1.1: score %.3f, want high", s)
	}
	if s := f.Score([]float64{math.NaN(), -0.1}); s > 0.3 {
		t.Errorf("missing a, b=-0.1: score %.3f, want low", s)
	}
	if s := f.Score([]float64{math.NaN(), math.NaN()}); s < 0 || s > 1 {
		t.Errorf("all missing: score %v", s)
	}
}

func TestTrainErrors(t *testing.T) {
	d := synth(10, 1)
	if _, _, err := Train(&Dataset{Attrs: d.Attrs, Classes: d.Classes}, 1, DefaultConfig()); err == nil {
		t.Error("no rows: no error")
	}
	if _, _, err := Train(d, 2, DefaultConfig()); err == nil {
		t.Error("positive class out of range: no error")
	}
	bad := *d
	bad.Y = append([]int(nil), d.Y...)
	bad.Y[0] = 5
	if _, _, err := Train(&bad, 1, DefaultConfig()); err == nil {
		t.Error("class out of range: no error")
	}
}

func TestModelFile(t *testing.T) {
	d := synth(1000, 5)
	cfg := DefaultConfig()
	cfg.Trees = 8
	f, _, err := Train(d, 1, cfg)
	if err != nil {
		t.Fatal(err)
	}
	f.Threshold = 0.37
	path := filepath.Join(t.TempDir(), "m.wnm")
	schema := SchemaOf("test", d.Attrs)
	if err := f.Save(path, modelfile.Header{Schema: schema, Site: "lab", Producer: "test"}); err != nil {
		t.Fatal(err)
	}
	g, h, warn, err := Load(path, modelfile.Expect{Schema: schema, Site: "lab"})
	if err != nil || len(warn) != 0 {
		t.Fatalf("load: %v %v", err, warn)
	}
	if h.Site != "lab" || g.Threshold != 0.37 || !bytes.Equal(f.Encode(), g.Encode()) {
		t.Errorf("round trip changed the model (site %q threshold %v)", h.Site, g.Threshold)
	}
	for i := range 50 {
		if f.Score(d.Row(i)) != g.Score(d.Row(i)) {
			t.Fatal("round trip changed a score")
		}
	}
	// Another site: a warning, or a refusal when strict.
	if _, _, warn, err := Load(path, modelfile.Expect{Schema: schema, Site: "prod"}); err != nil || len(warn) != 1 || !strings.Contains(warn[0], `"lab"`) {
		t.Errorf("foreign site: err %v warnings %v", err, warn)
	}
	if _, _, _, err := Load(path, modelfile.Expect{Schema: schema, Site: "prod", StrictSite: true}); !errors.Is(err, modelfile.ErrSite) {
		t.Errorf("strict foreign site: %v", err)
	}
	// Other features: refused.
	if _, _, _, err := Load(path, modelfile.Expect{Schema: "test/3/00000000"}); !errors.Is(err, modelfile.ErrVersion) {
		t.Errorf("other schema: %v", err)
	}
	// Another payload version: refused with a message naming both.
	old := modelfile.Encode(modelfile.Header{Type: ModelType, TypeVersion: PayloadVersion + 1, Schema: schema, Producer: "v9"}, f.Encode())
	p2 := filepath.Join(t.TempDir(), "old.wnm")
	if err := writeFile(p2, old); err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := Load(p2, modelfile.Expect{}); !errors.Is(err, modelfile.ErrVersion) || !strings.Contains(err.Error(), "retrain") {
		t.Errorf("newer payload version: %v", err)
	}
}

func FuzzDecode(f *testing.F) {
	d := synth(300, 6)
	cfg := DefaultConfig()
	cfg.Trees = 2
	m, _, err := Train(d, 1, cfg)
	if err != nil {
		f.Fatal(err)
	}
	good := m.Encode()
	f.Add(good)
	f.Add(good[:len(good)/2])
	f.Add([]byte{})
	f.Add([]byte{1, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		g, err := Decode(b)
		if err != nil {
			if !errors.Is(err, modelfile.ErrFormat) {
				t.Fatalf("error %v does not wrap ErrFormat", err)
			}
			return
		}
		// A decoded model scores any vector without panicking or looping,
		// and encodes back to the same bytes.
		x := make([]float64, len(g.Attrs))
		for i := range x {
			x[i] = float64(i%3) - 0.5
		}
		if s := g.Score(x); math.IsNaN(s) {
			t.Fatal("NaN score")
		}
		g.Explain(x, 3)
		if !bytes.Equal(g.Encode(), b) {
			t.Fatal("round trip differs")
		}
	})
}

func BenchmarkTrainSynthetic(b *testing.B) {
	d := synth(20000, 1)
	cfg := DefaultConfig()
	cfg.Trees = 10
	b.SetBytes(int64(d.N() * len(d.Attrs) * 8))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := Train(d, 1, cfg); err != nil {
			b.Fatal(err)
		}
	}
}
