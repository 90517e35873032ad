package source

import "bytes"

// splitter cuts a byte stream that arrives in pieces into lines ("\n" or
// "\r\n" terminated), with bounded memory: a line longer than max is cut
// to max bytes, delivered, counted, and the rest of it up to its newline is
// dropped. A partial line waits in pending (at most max bytes) for the
// next piece.
type splitter struct {
	max       int
	pending   []byte
	skipping  bool
	truncated int64
}

// feed splits data (which the splitter does not keep) and appends the
// complete lines to recs. Each call copies the lines it completes into one
// fresh buffer, so records never share memory with later calls. consumed
// is the number of bytes of data (and earlier pieces) that the appended
// records account for, terminators included: the caller's resume offset
// advances by it.
func (s *splitter) feed(data []byte, recs []Record, n *int64, file string) (out []Record, consumed int64) {
	// First pass: how much memory the complete lines need.
	need := 0
	{
		pend := len(s.pending)
		skipping := s.skipping
		rest := data
		for {
			i := bytes.IndexByte(rest, '\n')
			if i < 0 {
				break
			}
			if !skipping {
				need += min(pend+i, s.max)
			}
			skipping, pend = false, 0
			rest = rest[i+1:]
		}
	}
	arena := make([]byte, 0, need)
	for {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			break
		}
		seg := data[:i]
		data = data[i+1:]
		consumed += int64(len(s.pending)) + int64(i) + 1
		if s.skipping {
			s.skipping = false
			s.pending = s.pending[:0]
			continue
		}
		start := len(arena)
		room := s.max - len(s.pending)
		arena = append(arena, s.pending...)
		if len(seg) > room {
			seg = seg[:room]
			s.truncated++
		}
		arena = append(arena, seg...)
		s.pending = s.pending[:0]
		line := arena[start:len(arena):len(arena)]
		if len(line) > 0 && line[len(line)-1] == '\r' {
			line = line[: len(line)-1 : len(line)-1]
		}
		*n++
		out = append(recs, Record{B: line, N: *n, File: file})
		recs = out
	}
	out = recs
	// What is left is the start of a line.
	if s.skipping {
		consumed += int64(len(data)) // dropped bytes are consumed too
		return out, consumed
	}
	if room := s.max - len(s.pending); len(data) > room {
		// Cut now: deliver the first max bytes, drop the rest of the line.
		line := make([]byte, 0, s.max)
		line = append(line, s.pending...)
		line = append(line, data[:room]...)
		consumed += int64(len(s.pending)) + int64(len(data))
		s.pending = s.pending[:0]
		s.skipping = true
		s.truncated++
		*n++
		out = append(out, Record{B: line[:len(line):len(line)], N: *n, File: file})
		return out, consumed
	}
	s.pending = append(s.pending, data...)
	return out, consumed
}

// reset forgets a partial line (the file was truncated or replaced).
func (s *splitter) reset() {
	s.pending = s.pending[:0]
	s.skipping = false
}
