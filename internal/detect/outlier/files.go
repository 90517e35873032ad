package outlier

import (
	"bufio"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"winnow/internal/parse/csvseries"
)

// FileReport is what DetectFile did with one file.
type FileReport struct {
	In, Out string
	Points  int
	Bad     int                // malformed rows skipped
	BadRows []csvseries.BadRow // the first few
	Alerts  int                // points scoring ≥ AlertLevel
}

// AlertLevel is the score the CLI reports points at (and NAB's optimiser
// is free to choose another).
const AlertLevel = 0.5

// DetectStream reads a timestamp,value CSV from r and writes
// timestamp,value,anomaly_score to w (NAB's results format).
func DetectStream(r io.Reader, w io.Writer, cfg EnsembleConfig) (FileReport, error) {
	var rep FileReport
	e, err := NewEnsemble(cfg)
	if err != nil {
		return rep, err
	}
	rd, err := csvseries.NewReader(r)
	if err != nil {
		return rep, err
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	bw.WriteString("timestamp,value,anomaly_score\n")
	bad := func(b csvseries.BadRow) {
		rep.Bad++
		if len(rep.BadRows) < csvseries.MaxBadSamples {
			rep.BadRows = append(rep.BadRows, b)
		}
	}
	var buf []byte
	for {
		row, err := rd.Next(bad)
		if err == io.EOF {
			break
		}
		if err != nil {
			return rep, fmt.Errorf("cannot read series: %w", err)
		}
		res := e.Update(row.Time, row.Value)
		rep.Points++
		if res.Score >= AlertLevel {
			rep.Alerts++
		}
		buf = buf[:0]
		buf = row.Time.UTC().AppendFormat(buf, "2006-01-02 15:04:05")
		buf = append(buf, ',')
		buf = strconv.AppendFloat(buf, row.Value, 'g', -1, 64)
		buf = append(buf, ',')
		buf = strconv.AppendFloat(buf, res.Score, 'g', 8, 64)
		buf = append(buf, '\n')
		if _, err := bw.Write(buf); err != nil {
			return rep, fmt.Errorf("cannot write scores: %w", err)
		}
	}
	if err := bw.Flush(); err != nil {
		return rep, fmt.Errorf("cannot write scores: %w", err)
	}
	return rep, nil
}

// DetectFile scores the file in and writes the result to out (creating
// its directory).
func DetectFile(in, out string, cfg EnsembleConfig) (FileReport, error) {
	rep := FileReport{In: in, Out: out}
	f, err := os.Open(in)
	if err != nil {
		return rep, fmt.Errorf("cannot open series: %w", err)
	}
	defer f.Close()
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return rep, fmt.Errorf("cannot create output directory: %w", err)
	}
	tmp := out + ".tmp"
	o, err := os.Create(tmp)
	if err != nil {
		return rep, fmt.Errorf("cannot create results: %w", err)
	}
	r, err := DetectStream(f, o, cfg)
	r.In, r.Out = in, out
	if cerr := o.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("cannot write results: %w", cerr)
	}
	if err != nil {
		os.Remove(tmp)
		return r, fmt.Errorf("%s: %w", in, err)
	}
	if err := os.Rename(tmp, out); err != nil {
		return r, fmt.Errorf("cannot write results: %w", err)
	}
	return r, nil
}

// DetectTree scores in (a CSV file or a directory searched recursively for
// *.csv) into outDir, mirroring the tree below in (a single file lands at
// outDir/<its name>). It keeps going after a file fails and returns the
// reports with the first error.
func DetectTree(in, outDir string, cfg EnsembleConfig, each func(FileReport)) ([]FileReport, error) {
	fi, err := os.Stat(in)
	if err != nil {
		return nil, fmt.Errorf("cannot read input: %w", err)
	}
	if !fi.IsDir() {
		r, err := DetectFile(in, filepath.Join(outDir, filepath.Base(in)), cfg)
		if each != nil {
			each(r)
		}
		return []FileReport{r}, err
	}
	var reps []FileReport
	var first error
	absOut, _ := filepath.Abs(outDir)
	err = filepath.WalkDir(in, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if a, _ := filepath.Abs(p); a == absOut {
				return filepath.SkipDir // the output tree inside the input tree
			}
			return nil
		}
		if !strings.HasSuffix(strings.ToLower(d.Name()), ".csv") {
			return nil
		}
		rel, err := filepath.Rel(in, p)
		if err != nil {
			return err
		}
		r, err := DetectFile(p, filepath.Join(outDir, rel), cfg)
		if err != nil && first == nil {
			first = err
		}
		if each != nil {
			each(r)
		}
		reps = append(reps, r)
		return nil
	})
	if err != nil {
		return reps, fmt.Errorf("cannot walk %s: %w", in, err)
	}
	if len(reps) == 0 {
		return nil, fmt.Errorf("no .csv files under %s", in)
	}
	return reps, first
}
