package archive

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"os"
	"sort"
	"strings"
	"time"
)

// The journal is DIR/_commits.log: one JSON object per line, appended and
// fsynced, each ending in a CRC-32C of the rest of the line
// (`…,"crc":"1a2b3c4d"}`), so that a torn or garbled line is recognised
// and ignored. It records, in order:
//
//	begin      a run started (it holds the archive lock until it ends)
//	commit     a part file is complete (written, fsynced, renamed, dir fsynced)
//	end        the run finished; the inputs it archived and up to which line
//	rollback   the files of a run that died before its end were removed
//	compact    intent: files In are about to be replaced by files Out
//	compacted  the replacement is done (In removed); aborted: it was undone
//	remove     files deleted by prune
//	inputs     the input manifest, written by a checkpoint
//
// Lines written before the journal existed (schema 1) have no op and no
// CRC: they are commit lines and are read as such.
const journalName = "_commits.log"

// Op values of journal records.
const (
	opBegin     = "begin"
	opCommit    = "commit"
	opEnd       = "end"
	opRollback  = "rollback"
	opCompact   = "compact"
	opCompacted = "compacted"
	opAborted   = "aborted"
	opRemove    = "remove"
	opInputs    = "inputs"
)

// record is one journal line.
type record struct {
	Op string `json:"op"`
	Commit
	ID     string        `json:"id,omitempty"`     // compaction id
	In     []string      `json:"in,omitempty"`     // compaction inputs
	Out    []Commit      `json:"out,omitempty"`    // compaction outputs
	Files  []string      `json:"files,omitempty"`  // removed (rollback, remove)
	Inputs []InputRecord `json:"inputs,omitempty"` // end, inputs
	Time   time.Time     `json:"time,omitzero"`
	PID    int           `json:"pid,omitempty"`
}

var crcTable = crc32.MakeTable(crc32.Castagnoli)

const crcSuffixLen = len(`,"crc":"00000000"}`)

// encodeRecord renders r as one checksummed line (with its newline).
func encodeRecord(r *record) []byte {
	b, _ := json.Marshal(r)
	sum := crc32.Checksum(b, crcTable)
	out := make([]byte, 0, len(b)+crcSuffixLen+1)
	out = append(out, b[:len(b)-1]...)
	out = fmt.Appendf(out, `,"crc":"%08x"}`, sum)
	return append(out, '\n')
}

// decodeRecord parses one line; ok is false for a torn or garbled line,
// checked says the line carried a valid checksum (schema 2 and later).
func decodeRecord(line []byte) (r record, ok, checked bool) {
	line = bytes.TrimSpace(line)
	if len(line) == 0 {
		return r, false, false
	}
	if n := len(line); n > crcSuffixLen && bytes.HasPrefix(line[n-crcSuffixLen:], []byte(`,"crc":"`)) {
		body := append(append([]byte{}, line[:n-crcSuffixLen]...), '}')
		var sum uint32
		if _, err := fmt.Sscanf(string(line[n-crcSuffixLen+8:n-2]), "%08x", &sum); err != nil ||
			sum != crc32.Checksum(body, crcTable) {
			return r, false, false
		}
		if err := json.Unmarshal(body, &r); err != nil {
			return r, false, false
		}
		return r, r.Op != "", r.Op != ""
	}
	// A schema-1 commit line: no op, no checksum.
	if err := json.Unmarshal(line, &r); err != nil || r.Op != "" || r.File == "" {
		return r, false, false
	}
	r.Op = opCommit
	return r, true, false
}

// state is what the journal says about the archive.
type state struct {
	files   map[string]Commit  // live committed files by path
	drops   []Commit           // drop counts of partitions with no file ("…/")
	begun   map[string]*record // runs begun and not ended
	pending map[string]*record // compactions begun and not finished
	inputs  []InputRecord      // every input archived, in journal order
	lines   int                // records read
	bad     int                // lines ignored (torn, garbled)
	size    int64              // bytes of the journal
	exists  bool
	legacy  bool // lines from before the journal (schema 1) are present
	v2      bool // checksummed records are present (the journal is schema 2)
}

func newState() *state {
	return &state{files: map[string]Commit{}, begun: map[string]*record{}, pending: map[string]*record{}}
}

// apply folds one record into the state.
func (s *state) apply(r *record) {
	s.lines++
	switch r.Op {
	case opBegin:
		s.begun[r.Run] = r
	case opCommit:
		if strings.HasSuffix(r.File, "/") {
			s.drops = append(s.drops, r.Commit)
			return
		}
		if r.At.IsZero() {
			s.legacy = true
		}
		s.files[r.File] = r.Commit
	case opEnd:
		delete(s.begun, r.Run)
		s.inputs = append(s.inputs, r.Inputs...)
	case opInputs:
		s.inputs = append(s.inputs, r.Inputs...)
	case opRollback:
		delete(s.begun, r.Run)
		for _, f := range r.Files {
			delete(s.files, f)
		}
	case opCompact:
		s.pending[r.ID] = r
	case opCompacted:
		if p := s.pending[r.ID]; p != nil {
			for _, f := range p.In {
				delete(s.files, f)
			}
			for _, c := range p.Out {
				s.files[c.File] = c
			}
		}
		delete(s.pending, r.ID)
	case opAborted:
		delete(s.pending, r.ID)
	case opRemove:
		for _, f := range r.Files {
			delete(s.files, f)
		}
	}
}

// readState reads the journal of the archive at dir (an absent journal is
// an empty state). It never writes.
func readState(dir string) (*state, error) {
	s := newState()
	f, err := os.Open(dir + "/" + journalName)
	if errors.Is(err, fs.ErrNotExist) {
		return s, nil
	}
	if err != nil {
		return s, fmt.Errorf("cannot read archive journal: %w", err)
	}
	defer f.Close()
	return s, s.read(f)
}

func (s *state) read(r io.Reader) error {
	s.exists = true
	br := bufio.NewReaderSize(r, 1<<16)
	for {
		line, err := br.ReadBytes('\n')
		s.size += int64(len(line))
		if len(bytes.TrimSpace(line)) > 0 {
			if rec, ok, checked := decodeRecord(line); ok {
				s.v2 = s.v2 || checked
				s.apply(&rec)
			} else {
				s.bad++
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("cannot read archive journal: %w", err)
		}
	}
}

// checkpointRecords are the records that rebuild the state's live part:
// every live file's commit, the drop counts and the input manifest
// (one record per input kept: the furthest line per fingerprint).
func (s *state) checkpointRecords() []*record {
	var out []*record
	names := make([]string, 0, len(s.files))
	for f := range s.files {
		names = append(names, f)
	}
	sort.Strings(names)
	for _, f := range names {
		out = append(out, &record{Op: opCommit, Commit: s.files[f]})
	}
	for _, d := range s.drops {
		out = append(out, &record{Op: opCommit, Commit: d})
	}
	for _, r := range s.begun {
		out = append(out, r)
	}
	for _, r := range s.pending {
		out = append(out, r)
	}
	if in := compactInputs(s.inputs); len(in) > 0 {
		out = append(out, &record{Op: opInputs, Inputs: in})
	}
	return out
}

// compactInputs keeps, per fingerprint, the record with the most lines.
func compactInputs(in []InputRecord) []InputRecord {
	best := map[string]int{}
	var out []InputRecord
	for _, r := range in {
		if i, ok := best[r.Fingerprint]; ok {
			if r.Lines >= out[i].Lines {
				out[i] = r
			}
			continue
		}
		best[r.Fingerprint] = len(out)
		out = append(out, r)
	}
	return out
}

// journal is the open, locked journal of a writable archive.
type journal struct {
	st    *store
	f     *os.File
	state *state
}

// openJournal reads the journal and opens it for appending.
func openJournal(st *store) (*journal, error) {
	s := newState()
	if f, err := st.openFile(journalName, os.O_RDONLY, 0); err == nil {
		err = s.read(f)
		f.Close()
		if err != nil {
			return nil, err
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("cannot open archive commit log: %w", err)
	}
	f, err := st.openFile(journalName, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("cannot open archive commit log: %w", err)
	}
	return &journal{st: st, f: f, state: s}, nil
}

// append writes records as lines, fsyncs and applies them.
func (j *journal) append(rs ...*record) error {
	var buf []byte
	for _, r := range rs {
		buf = append(buf, encodeRecord(r)...)
	}
	if _, err := j.f.Write(buf); err != nil {
		return fmt.Errorf("cannot write commit log: %w", err)
	}
	if err := j.f.Sync(); err != nil {
		return fmt.Errorf("cannot sync commit log: %w", err)
	}
	for _, r := range rs {
		j.state.apply(r)
	}
	j.state.v2 = true
	j.state.size += int64(len(buf))
	return nil
}

// checkpoint rewrites the journal to its live records (temp file, fsync,
// rename over the journal, fsync the directory) when most of its lines
// no longer describe anything live.
func (j *journal) checkpoint(force bool) error {
	recs := j.state.checkpointRecords()
	if !force && (j.state.lines < 256 || j.state.lines < 2*len(recs)) {
		return nil
	}
	tmp := journalName + ".tmp"
	_ = j.st.remove(tmp)
	f, err := j.st.create(tmp)
	if err != nil {
		return fmt.Errorf("cannot checkpoint commit log: %w", err)
	}
	var buf []byte
	for _, r := range recs {
		buf = append(buf, encodeRecord(r)...)
	}
	if _, err := f.Write(buf); err != nil {
		f.Close()
		return fmt.Errorf("cannot checkpoint commit log: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("cannot checkpoint commit log: %w", err)
	}
	f.Close()
	if err := j.st.rename(tmp, journalName); err != nil {
		return fmt.Errorf("cannot checkpoint commit log: %w", err)
	}
	if err := j.st.syncDir("."); err != nil {
		return err
	}
	j.f.Close()
	if j.f, err = j.st.openFile(journalName, os.O_WRONLY|os.O_APPEND, 0); err != nil {
		return fmt.Errorf("cannot open archive commit log: %w", err)
	}
	s := newState()
	s.exists, s.v2 = true, true
	for _, r := range recs {
		s.apply(r)
	}
	s.size = int64(len(buf))
	j.state = s
	return nil
}

func (j *journal) close() error {
	if j.f == nil {
		return nil
	}
	err := j.f.Close()
	j.f = nil
	return err
}
