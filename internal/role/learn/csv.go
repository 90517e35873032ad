package learn

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"winnow/internal/eval"
	"winnow/internal/learn/forest"
)

// csvSet is a labelled table read from CSV: binary (Normal = good, every
// other label bad), each bad row's original label kept as its family.
type csvSet struct {
	data     *forest.Dataset
	family   []int
	families []string
	stream   *eval.CSVStream
}

func loadCSV(ctx context.Context, c CSVData, like *csvSet) (*csvSet, error) {
	if c.Normal == "" {
		return nil, usagef("--normal LABEL is required for CSV data: the label value of good rows (e.g. normal)")
	}
	f, err := openData(c.File)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var s *eval.CSVStream
	if like != nil {
		s, err = eval.NewCSVStreamLike(f, like.stream)
	} else {
		s, err = eval.NewCSVStream(f, eval.CSVOptions{Label: c.Label, Header: c.Header, Ignore: c.Ignore})
	}
	if err != nil {
		return nil, UsageError{fmt.Errorf("%s: %w", c.File, err)}
	}
	cs := &csvSet{stream: s, data: &forest.Dataset{Classes: []string{c.Normal, "bad"}}}
	var names []string
	if c.Names != "" {
		if names, err = readNames(c.Names); err != nil {
			return nil, err
		}
	}
	for _, col := range s.Columns {
		name := col.Name
		// Headerless columns are c1, c2, …: name them from the file.
		if k, err := strconv.Atoi(strings.TrimPrefix(name, "c")); err == nil && strings.HasPrefix(name, "c") && k >= 1 && k <= len(names) {
			name = names[k-1]
		}
		cs.data.Attrs = append(cs.data.Attrs, forest.Attr{Name: name, Nominal: col.Nominal})
	}
	var x []float64
	for n := 0; ; n++ {
		if n&4095 == 0 && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		var y int
		x, y, err = s.Next(x)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", c.File, err)
		}
		name := s.Classes()[y]
		bad := 0
		if name != c.Normal {
			bad = 1
		}
		cs.data.Add(x, bad)
		cs.family = append(cs.family, y)
	}
	if cs.data.N() == 0 {
		return nil, fmt.Errorf("%s: %w", c.File, errNoRows)
	}
	cs.families = s.Classes()
	// The nominal dictionaries grow while reading: attach them now (the
	// test file's rows share the training dictionaries).
	for i := range cs.data.Attrs {
		cs.data.Attrs[i].Values = s.Columns[i].Values
	}
	return cs, nil
}
