package eval

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"winnow/internal/parse/csvseries"
)

// ScoreColumn is the results column holding the anomaly score.
const ScoreColumn = "anomaly_score"

// ReadLabelsFile reads combined_windows.json from a path.
func ReadLabelsFile(name string) (Labels, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, fmt.Errorf("cannot open labels: %w", err)
	}
	defer f.Close()
	return ReadLabels(f)
}

// ReadProfilesFile reads profiles.json from a path.
func ReadProfilesFile(name string) ([]Profile, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, fmt.Errorf("cannot open profiles: %w", err)
	}
	defer f.Close()
	return ReadProfiles(f)
}

// DataFiles lists the CSV files under dataDir as slash-separated paths
// relative to it, sorted.
func DataFiles(dataDir string) ([]string, error) {
	var out []string
	err := filepath.WalkDir(dataDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || !strings.HasSuffix(strings.ToLower(d.Name()), ".csv") {
			return nil
		}
		rel, err := filepath.Rel(dataDir, p)
		if err != nil {
			return err
		}
		out = append(out, filepath.ToSlash(rel))
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("cannot list data files: %w", err)
	}
	sort.Strings(out)
	return out, nil
}

// ResultPath finds the results file for a data file named rel
// ("cat/name.csv") under resultsDir: resultsDir/cat/name.csv as winnow
// writes it, or NAB's resultsDir/cat/<detector>_name.csv.
func ResultPath(resultsDir, rel string) (string, error) {
	p := filepath.Join(resultsDir, filepath.FromSlash(rel))
	if _, err := os.Stat(p); err == nil {
		return p, nil
	}
	dir, base := path.Split(rel)
	matches, _ := filepath.Glob(filepath.Join(resultsDir, filepath.FromSlash(dir), "*_"+base))
	if len(matches) == 1 {
		return matches[0], nil
	}
	if len(matches) > 1 {
		return "", fmt.Errorf("several results for %s: %v", rel, matches)
	}
	return "", fmt.Errorf("no results for %s under %s", rel, resultsDir)
}

// ReadResult reads one results CSV (timestamp, value, anomaly_score).
func ReadResult(name, rel string) (File, error) {
	f, err := os.Open(name)
	if err != nil {
		return File{}, fmt.Errorf("cannot open results: %w", err)
	}
	defer f.Close()
	s, err := csvseries.Read(f)
	if err != nil {
		return File{}, fmt.Errorf("cannot read %s: %w", name, err)
	}
	if s.Bad > 0 {
		return File{}, fmt.Errorf("cannot score %s: %d malformed rows (first at line %d: %s)", name, s.Bad, s.BadRows[0].Line, s.BadRows[0].Err)
	}
	sc, ok := s.Columns[ScoreColumn]
	if !ok {
		return File{}, fmt.Errorf("cannot score %s: no %s column", name, ScoreColumn)
	}
	for i, x := range sc {
		if math.IsNaN(x) { // an unparsable score detects nothing
			sc[i] = 0
		}
	}
	return File{Name: rel, Times: s.Times, Scores: sc}, nil
}

// ErrNoFiles is returned when the data directory holds no CSV files.
var ErrNoFiles = errors.New("no data files")

// LoadCorpus reads the results of every data file that has labels. Data
// files without labels are an error (NAB labels every corpus file, with
// an empty list when it has no anomaly).
func LoadCorpus(dataDir, resultsDir string, labels Labels) ([]File, error) {
	rels, err := DataFiles(dataDir)
	if err != nil {
		return nil, err
	}
	if len(rels) == 0 {
		return nil, fmt.Errorf("%w under %s", ErrNoFiles, dataDir)
	}
	var out []File
	for _, rel := range rels {
		if _, ok := labels[rel]; !ok {
			return nil, fmt.Errorf("no labels for data file %s", rel)
		}
		p, err := ResultPath(resultsDir, rel)
		if err != nil {
			return nil, err
		}
		f, err := ReadResult(p, rel)
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, nil
}

// Find returns the windows of the labelled file that p (any path to a data
// or results file) names: the label key p ends with, else the key whose
// base name p's base name ends with (results files are named
// <detector>_<name>.csv).
func (l Labels) Find(p string) (string, []Window, bool) {
	p = filepath.ToSlash(p)
	best := ""
	for k := range l {
		if strings.HasSuffix(p, "/"+k) || p == k {
			if len(k) > len(best) {
				best = k
			}
		}
	}
	if best == "" {
		dir, base := path.Split(p)
		for k := range l {
			kd, kb := path.Split(k)
			if (base == kb || strings.HasSuffix(base, "_"+kb)) && (strings.HasSuffix(dir, "/"+kd) || strings.HasSuffix(dir, kd) || best == "") {
				best = k
			}
		}
	}
	if best == "" {
		return "", nil, false
	}
	return best, l[best], true
}
