// Package forest implements CART decision trees and random forests
// (Breiman 2001) for winnow's batch learners: trees are grown on
// quantile-binned features (at most 254 bins per numeric attribute,
// categorical attributes split into two sets of values ordered by class
// frequency, missing values sent to the better side), forests on
// bootstrap samples with a random subset of attributes tried per split.
// Training reports out-of-bag error and Gini feature importance;
// predictions are explained by the features that moved the score along
// each tree's path (contributions that sum to the score) and, for a
// single tree, by the path itself.
//
// Models are plain data once trained: Predict, Proba and Explain are safe
// for concurrent use. Encode/Decode give a versioned payload for the
// model container (package modelfile).
package forest

import (
	"errors"
	"fmt"
	"math"
)

// Attr describes one attribute of the feature vector. A nominal
// attribute's values are 0, 1, 2, … (as float64, indices into Values when
// it is set); NaN is a missing value for either kind.
type Attr struct {
	Name    string
	Nominal bool
	Values  []string // nominal: the value names (optional; for explanations)
}

// Dataset is a labelled table: rows of len(Attrs) values, one class index
// per row.
type Dataset struct {
	Attrs   []Attr
	Classes []string // class names, by index
	X       []float64
	Y       []int
}

// N is the number of rows.
func (d *Dataset) N() int { return len(d.Y) }

// Row returns row i (aliasing X).
func (d *Dataset) Row(i int) []float64 {
	w := len(d.Attrs)
	return d.X[i*w : (i+1)*w : (i+1)*w]
}

// Add appends a row of class y.
func (d *Dataset) Add(x []float64, y int) {
	if len(x) != len(d.Attrs) {
		panic(fmt.Sprintf("BUG: forest: row of %d values, want %d", len(x), len(d.Attrs)))
	}
	d.X = append(d.X, x...)
	d.Y = append(d.Y, y)
}

func (d *Dataset) check() error {
	if len(d.Attrs) == 0 {
		return errors.New("no attributes")
	}
	if d.N() == 0 {
		return errors.New("no rows")
	}
	if len(d.X) != d.N()*len(d.Attrs) {
		return fmt.Errorf("%d values for %d rows of %d attributes", len(d.X), d.N(), len(d.Attrs))
	}
	if len(d.Classes) < 2 {
		return errors.New("need at least two classes")
	}
	for i, y := range d.Y {
		if y < 0 || y >= len(d.Classes) {
			return fmt.Errorf("row %d: class %d out of range", i, y)
		}
	}
	for _, v := range d.X {
		if math.IsInf(v, 0) {
			return errors.New("infinite value")
		}
	}
	return nil
}
