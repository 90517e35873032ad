package archive

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"
)

// CompactOptions configure Compact.
type CompactOptions struct {
	// Partitions limits compaction to these partition paths
	// ("kind=auth/month=2026-11"); nil means every partition.
	Partitions []string
	// SmallRows: files with fewer rows are compacted (default 32,768).
	SmallRows int
	// MaxRows bounds the rows of a compacted file, and so the memory a
	// compaction holds (default 131,072).
	MaxRows      int
	RowGroupRows int    // default 65,536
	Version      string // winnow's version, in the files' metadata
	Now          func() time.Time

	failAt string // tests: stop as if killed after "intent" or "rename"
}

// errInjected is the failure TestCompactionCrash injects.
var errInjected = errors.New("injected failure")

// CompactStats describe a compaction.
type CompactStats struct {
	Partitions  int   // partitions that got a compacted file
	Inputs      int   // files replaced
	Outputs     int   // files written
	Rows        int64 // rows moved
	BytesBefore int64 // bytes of the files replaced
	BytesAfter  int64 // bytes of the files written
	Skipped     []error
}

// Compact merges the small files of each partition (kind and month) of
// the archive at dir into one file, rows sorted by time; files of the
// schema 1 layout (hour partitions) are moved into their month partition
// on the way.
// It takes the archive's write lock and the readers' lock (ErrBusy when a
// run, a replay or a hunt holds them), and is crash safe: the output is
// written under a temporary name and fsynced, the journal records the
// intent, the output is renamed into place, the inputs removed, and the
// journal records the end; recovery finishes or undoes an interrupted
// compaction. What replay and hunt read is the same before and after.
func Compact(dir string, o CompactOptions) (CompactStats, Recovery, error) {
	a, err := openWritable(dir)
	if err != nil {
		return CompactStats{}, Recovery{}, err
	}
	defer a.close()
	cs, err := a.compact(o)
	if err != nil {
		return cs, a.rec, err
	}
	return cs, a.rec, a.j.checkpoint(false)
}

// monthPartition is the partition a file belongs in: its directory, or
// for a file of the schema 1 layout (kind=/date=/hour=/) the month
// partition of its date.
func monthPartition(file string) (rel string, legacy bool) {
	dir := path.Dir(file)
	if !strings.HasPrefix(path.Base(dir), "hour=") {
		return dir, false
	}
	date := path.Dir(dir)
	ds := strings.TrimPrefix(path.Base(date), "date=")
	if len(ds) < len("2006-01") {
		return dir, false
	}
	return path.Dir(date) + "/month=" + ds[:len("2006-01")], true
}

func (a *writable) compact(o CompactOptions) (CompactStats, error) {
	var cs CompactStats
	if o.SmallRows <= 0 {
		o.SmallRows = 1 << 15
	}
	if o.MaxRows <= 0 {
		o.MaxRows = 1 << 17
	}
	if o.RowGroupRows <= 0 {
		o.RowGroupRows = 1 << 16
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	var only map[string]bool
	if o.Partitions != nil {
		only = map[string]bool{}
		for _, p := range o.Partitions {
			only[p] = true
		}
	}
	s := a.j.state
	byPart := map[string][]Commit{}
	for f, c := range s.files {
		if s.begun[c.Run] != nil {
			continue
		}
		rel, legacy := monthPartition(f)
		if only != nil && !only[rel] {
			continue
		}
		if !strings.HasPrefix(rel, "kind=") || !strings.Contains(rel, "/month=") {
			continue
		}
		if c.Rows < int64(o.SmallRows) || legacy {
			byPart[rel] = append(byPart[rel], c)
		}
	}
	var groups [][]Commit
	var targets []string
	rels := make([]string, 0, len(byPart))
	for rel := range byPart {
		rels = append(rels, rel)
	}
	sort.Strings(rels)
	for _, rel := range rels {
		files := byPart[rel]
		sort.Slice(files, func(i, j int) bool { return files[i].File < files[j].File })
		var g []Commit
		var rows int64
		flush := func() {
			_, legacy := monthPartition(g[0].File)
			if len(g) > 1 || legacy {
				groups = append(groups, g)
				targets = append(targets, rel)
			}
			g, rows = nil, 0
		}
		for _, c := range files {
			if len(g) > 0 && rows+c.Rows > int64(o.MaxRows) {
				flush()
			}
			g = append(g, c)
			rows += c.Rows
		}
		if len(g) > 0 {
			flush()
		}
	}
	if len(groups) == 0 {
		return cs, nil
	}
	// Readers must not see a partition half replaced.
	rl, err := a.st.lockFile(readLockName, lockEx)
	if err != nil {
		return cs, err
	}
	defer unlock(rl)
	done := map[string]bool{}
	for i, g := range groups {
		var err error
		kind := strings.TrimPrefix(strings.SplitN(targets[i], "/", 2)[0], "kind=")
		fam := family(kind)
		if kind == "finding" {
			fam = kind
		}
		switch fam {
		case "http":
			err = compactGroup(a, g, targets[i], httpTime, o, &cs)
		case "dns":
			err = compactGroup(a, g, targets[i], dnsTime, o, &cs)
		case "flow":
			err = compactGroup(a, g, targets[i], flowTime, o, &cs)
		case "audit":
			err = compactGroup(a, g, targets[i], auditTime, o, &cs)
		case "file":
			err = compactGroup(a, g, targets[i], fileTime, o, &cs)
		case "finding":
			err = compactGroup(a, g, targets[i], findingTime, o, &cs)
		case "auth":
			err = compactGroup(a, g, targets[i], authTime, o, &cs)
		default: // a row schema compaction does not know: left as it is
			continue
		}
		if err != nil {
			return cs, err
		}
		done[targets[i]] = true
	}
	cs.Partitions = len(done)
	return cs, nil
}

// archivedAt is when a committed file's rows were archived: its record's
// time, or for schema 1 records the run's start (the run id).
func archivedAt(c Commit) time.Time {
	if !c.At.IsZero() {
		return c.At
	}
	if t, err := time.Parse("20060102T150405.000000000", c.Run); err == nil {
		return t
	}
	return time.Time{}
}

// compactedName names the file that replaces a group whose first file
// is first: the same name with a generation suffix (.c1, .c2, …), so that
// it sorts where its first input sorted.
func compactedName(first string) string {
	base := strings.TrimSuffix(path.Base(first), ".parquet")
	gen := 1
	if i := strings.LastIndex(base, ".c"); i >= 0 {
		if n, err := strconv.Atoi(base[i+2:]); err == nil {
			base, gen = base[:i], n+1
		}
	}
	return fmt.Sprintf("%s.c%d.parquet", base, gen)
}

func compactGroup[T any](a *writable, g []Commit, rel string, at func(*T) time.Time, o CompactOptions, cs *CompactStats) error {
	var rows []T
	var in []string
	var dropped, before int64
	var latest time.Time
	for _, c := range g {
		r, err := readAllExact[T](a.st.dir + "/" + c.File)
		if err != nil {
			cs.Skipped = append(cs.Skipped, err) // left where it is
			continue
		}
		rows = append(rows, r...)
		in = append(in, c.File)
		dropped += c.Dropped
		before += c.Bytes
		latest = maxTime(latest, archivedAt(c))
	}
	if len(in) == 0 || (len(in) == 1 && !strings.Contains(in[0], "/hour=")) {
		return nil
	}
	sort.SliceStable(rows, func(i, j int) bool { return at(&rows[i]).Before(at(&rows[j])) })
	name := compactedName(in[0])
	for {
		if _, err := a.st.root.Lstat(path.Join(rel, name)); errors.Is(err, fs.ErrNotExist) {
			break
		}
		name = compactedName(name)
	}
	first := g[0]
	for _, c := range g {
		if c.File == in[0] {
			first = c
		}
	}
	p := &part[T]{kind: strings.TrimPrefix(path.Dir(rel), "kind="), rel: rel, time: at, run: first.Run, at: latest, dropped: dropped}
	if err := openPart(a.st, p, name, o.Version, first.Run); err != nil {
		return err
	}
	for i := 0; i < len(rows); i += o.RowGroupRows {
		if err := p.append(rows[i:min(i+o.RowGroupRows, len(rows))]); err != nil {
			p.f.Close()
			a.st.remove(p.tmp)
			return err
		}
	}
	out, err := p.seal()
	if err != nil {
		a.st.remove(p.tmp)
		return err
	}
	id := "c-" + o.Now().UTC().Format("20060102T150405.000000000") + "-" + strconv.Itoa(cs.Outputs)
	if err := a.j.append(&record{Op: opCompact, ID: id, In: in, Out: []Commit{out}}); err != nil {
		return err
	}
	if o.failAt == "intent" {
		return errInjected
	}
	if err := a.st.rename(p.tmp, out.File); err != nil {
		return fmt.Errorf("cannot commit %s: %w", out.File, err)
	}
	if err := a.st.syncDir(rel); err != nil {
		return err
	}
	if o.failAt == "rename" {
		return errInjected
	}
	dirs := map[string]bool{}
	for _, f := range in {
		if err := a.st.remove(f); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("cannot remove %s: %w", f, err)
		}
		dirs[path.Dir(f)] = true
	}
	for d := range dirs {
		if err := a.st.syncDir(d); err != nil {
			return err
		}
		a.removeEmpty(d) // an emptied hour directory of the old layout
	}
	if err := a.j.append(&record{Op: opCompacted, ID: id}); err != nil {
		return err
	}
	cs.Inputs += len(in)
	cs.Outputs++
	cs.Rows += out.Rows
	cs.BytesBefore += before
	cs.BytesAfter += out.Bytes
	return nil
}
