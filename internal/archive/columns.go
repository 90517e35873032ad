package archive

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/parquet-go/parquet-go"

	"winnow/internal/event"
)

// A columnar reader for the flat row schemas (AuthRow, HTTPRow): it reads
// each column chunk's values straight into the rows of a row group,
// instead of parquet-go's reflective row reconstruction, and interns the
// values of low-cardinality (dictionary) columns so that a host or action
// name is allocated once per file, not once per row. It is about 3× faster
// than GenericReader here; DNSRow (a repeated column) keeps GenericReader.

// setter assigns one column value to a row; in is the column's interner
// (nil for high-cardinality columns).
type setter[T any] func(r *T, v parquet.Value, in *interner)

// interner maps a column's byte values to shared strings.
type interner struct{ m map[string]string }

func (in *interner) str(b []byte) string {
	if in == nil {
		return string(b)
	}
	if s, ok := in.m[string(b)]; ok {
		return s
	}
	if len(in.m) >= 4096 { // not low-cardinality after all
		return string(b)
	}
	s := string(b)
	in.m[s] = s
	return s
}

func str(v parquet.Value, in *interner) string {
	if v.IsNull() {
		return ""
	}
	return in.str(v.ByteArray())
}

func i32(v parquet.Value) int32 {
	if v.IsNull() {
		return 0
	}
	return v.Int32()
}

func i64(v parquet.Value) int64 {
	if v.IsNull() {
		return 0
	}
	return v.Int64()
}

func boolean(v parquet.Value) bool { return !v.IsNull() && v.Boolean() }

func coreSetters[T any](core func(*T) *CoreRow) map[string]setter[T] {
	return map[string]setter[T]{
		"timestamp":        func(r *T, v parquet.Value, _ *interner) { core(r).Timestamp = time.Unix(0, v.Int64()).UTC() },
		"event_kind":       func(r *T, v parquet.Value, in *interner) { core(r).Kind = str(v, in) },
		"event_action":     func(r *T, v parquet.Value, in *interner) { core(r).Action = str(v, in) },
		"event_outcome":    func(r *T, v parquet.Value, in *interner) { core(r).Outcome = str(v, in) },
		"host_name":        func(r *T, v parquet.Value, in *interner) { core(r).Host = str(v, in) },
		"process_name":     func(r *T, v parquet.Value, in *interner) { core(r).Program = str(v, in) },
		"process_pid":      func(r *T, v parquet.Value, _ *interner) { core(r).PID = i32(v) },
		"source_ip":        func(r *T, v parquet.Value, in *interner) { core(r).SrcIP = str(v, in) },
		"source_port":      func(r *T, v parquet.Value, _ *interner) { core(r).SrcPort = i32(v) },
		"source_domain":    func(r *T, v parquet.Value, in *interner) { core(r).SrcHost = str(v, in) },
		"user_name":        func(r *T, v parquet.Value, in *interner) { core(r).User = str(v, in) },
		"event_count":      func(r *T, v parquet.Value, _ *interner) { core(r).Count = i32(v) },
		"log_file_path":    func(r *T, v parquet.Value, in *interner) { core(r).File = str(v, in) },
		"log_offset":       func(r *T, v parquet.Value, _ *interner) { core(r).Line = i64(v) },
		"event_original":   func(r *T, v parquet.Value, _ *interner) { core(r).Message = str(v, nil) },
		"message_offset":   func(r *T, v parquet.Value, _ *interner) { core(r).MsgOffset = i32(v) },
		"message":          func(r *T, v parquet.Value, _ *interner) { core(r).MsgText = str(v, nil) },
		"observer_name":    func(r *T, v parquet.Value, in *interner) { core(r).SensorName = str(v, in) },
		"observer_vantage": func(r *T, v parquet.Value, in *interner) { core(r).SensorVantage = str(v, in) },
		"observer_domain":  func(r *T, v parquet.Value, in *interner) { core(r).SensorDomain = str(v, in) },
	}
}

// interned lists the columns worth interning (few distinct values).
var interned = map[string]bool{
	"event_kind": true, "event_action": true, "event_outcome": true, "host_name": true, "process_name": true,
	"log_file_path": true, "auth_method": true, "service_name": true, "user_name": true, "source_ip": true,
	"user_target_name": true, "url_domain": true, "http_request_method": true, "user_agent_original": true,
	"http_version": true, "url_extension": true, "observer_name": true, "observer_vantage": true, "observer_domain": true,
}

func authSetters() map[string]setter[AuthRow] {
	m := coreSetters(func(r *AuthRow) *CoreRow { return &r.CoreRow })
	m["user_target_name"] = func(r *AuthRow, v parquet.Value, in *interner) { r.TargetUser = str(v, in) }
	m["auth_method"] = func(r *AuthRow, v parquet.Value, in *interner) { r.Method = str(v, in) }
	m["process_command_line"] = func(r *AuthRow, v parquet.Value, _ *interner) { r.Command = str(v, nil) }
	m["service_name"] = func(r *AuthRow, v parquet.Value, in *interner) { r.Unit = str(v, in) }
	m["user_invalid"] = func(r *AuthRow, v parquet.Value, _ *interner) { r.InvalidUser = boolean(v) }
	m["ssh_preauth"] = func(r *AuthRow, v parquet.Value, _ *interner) { r.Preauth = boolean(v) }
	return m
}

func httpSetters() map[string]setter[HTTPRow] {
	m := coreSetters(func(r *HTTPRow) *CoreRow { return &r.CoreRow })
	m["url_domain"] = func(r *HTTPRow, v parquet.Value, in *interner) { r.Site = str(v, in) }
	m["http_request_method"] = func(r *HTTPRow, v parquet.Value, in *interner) { r.Method = str(v, in) }
	m["url_path"] = func(r *HTTPRow, v parquet.Value, _ *interner) { r.Path = str(v, nil) }
	m["url_query"] = func(r *HTTPRow, v parquet.Value, _ *interner) { r.Query = str(v, nil) }
	m["http_response_status_code"] = func(r *HTTPRow, v parquet.Value, _ *interner) { r.Status = i32(v) }
	m["http_response_body_bytes"] = func(r *HTTPRow, v parquet.Value, _ *interner) { r.Bytes = i64(v) }
	m["http_request_referrer"] = func(r *HTTPRow, v parquet.Value, _ *interner) { r.Referrer = str(v, nil) }
	m["user_agent_original"] = func(r *HTTPRow, v parquet.Value, in *interner) { r.UserAgent = str(v, in) }
	m["http_version"] = func(r *HTTPRow, v parquet.Value, in *interner) { r.Protocol = str(v, in) }
	m["url_path_decoded"] = func(r *HTTPRow, v parquet.Value, _ *interner) { r.PathDec = str(v, nil) }
	m["url_query_decoded"] = func(r *HTTPRow, v parquet.Value, _ *interner) { r.QueryDec = str(v, nil) }
	m["url_extension"] = func(r *HTTPRow, v parquet.Value, in *interner) { r.Ext = str(v, in) }
	m["http_request_invalid"] = func(r *HTTPRow, v parquet.Value, _ *interner) { r.Invalid = boolean(v) }
	return m
}

// columnCursor reads a flat-schema file one row group at a time.
type columnCursor[T any] struct {
	path    string
	closer  io.Closer
	groups  []parquet.RowGroup
	cols    []setter[T] // by column index; nil: unknown column (ignored)
	interns []*interner
	g       int
	rows    []T
	pos     int
	vals    []parquet.Value
	at      func(*T) time.Time
	conv    func(*T, *time.Location, *event.Event)
	done    bool
	full    bool // every field has a column: rows need no clearing
	spare   []T
	pending chan group[T] // the next row group being decoded, if any
}

// newColumnCursor prepares a columnar cursor; ok is false when the file's
// schema has a nested column (then the caller uses GenericReader).
func newColumnCursor[T any](path string, c io.Closer, pf *parquet.File, set map[string]setter[T],
	at func(*T) time.Time, conv func(*T, *time.Location, *event.Event)) (*columnCursor[T], bool) {
	leaves := pf.Schema().Columns()
	cc := &columnCursor[T]{path: path, closer: c, groups: pf.RowGroups(), at: at, conv: conv, vals: make([]parquet.Value, 1024)}
	known := 0
	for _, p := range leaves {
		if len(p) != 1 {
			return nil, false
		}
		if set[p[0]] != nil {
			known++
		}
		cc.cols = append(cc.cols, set[p[0]])
		var in *interner
		if interned[p[0]] {
			in = &interner{m: map[string]string{}}
		}
		cc.interns = append(cc.interns, in)
	}
	cc.full = known == len(set)
	cc.prefetch() // start decoding the first row group right away
	return cc, true
}

// group is one decoded row group (or the end, or an error).
type group[T any] struct {
	rows []T
	ok   bool
	err  error
}

// decode reads the next row group into buf (reused when large enough).
// It runs on a prefetch goroutine, one at a time per cursor: it alone
// touches c.g, the interners and c.vals while it runs.
func (c *columnCursor[T]) decode(buf []T) group[T] {
	for c.g < len(c.groups) {
		rg := c.groups[c.g]
		c.g++
		n := int(rg.NumRows())
		if n == 0 {
			continue
		}
		if cap(buf) < n {
			buf = make([]T, n)
		} else {
			buf = buf[:n]
			if !c.full {
				clear(buf)
			}
		}
		for i, chunk := range rg.ColumnChunks() {
			if i >= len(c.cols) || c.cols[i] == nil {
				continue
			}
			if err := c.readColumn(chunk, buf, c.cols[i], c.interns[i], n); err != nil {
				return group[T]{err: err}
			}
		}
		return group[T]{rows: buf, ok: true}
	}
	return group[T]{}
}

// prefetch starts decoding the next row group into the spare buffer.
func (c *columnCursor[T]) prefetch() {
	ch := make(chan group[T], 1)
	buf := c.spare
	c.spare = nil
	go func() { ch <- c.decode(buf) }()
	c.pending = ch
}

func (c *columnCursor[T]) readColumn(chunk parquet.ColumnChunk, rows []T, set setter[T], in *interner, n int) error {
	pages := chunk.Pages()
	defer pages.Close()
	row := 0
	for row < n {
		pg, err := pages.ReadPage()
		if err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			return err
		}
		vr := pg.Values()
		for {
			k, err := vr.ReadValues(c.vals)
			for _, v := range c.vals[:k] {
				if row < n {
					set(&rows[row], v, in)
				}
				row++
			}
			if err != nil {
				if errors.Is(err, io.EOF) {
					break
				}
				parquet.Release(pg)
				return err
			}
		}
		parquet.Release(pg)
	}
	if row != n {
		return fmt.Errorf("column has %d values for %d rows", row, n)
	}
	return nil
}

func (c *columnCursor[T]) head() time.Time                           { return c.at(&c.rows[c.pos]) }
func (c *columnCursor[T]) event(loc *time.Location, ev *event.Event) { c.conv(&c.rows[c.pos], loc, ev) }
func (c *columnCursor[T]) advance()                                  { c.pos++ }
func (c *columnCursor[T]) name() string                              { return c.path }

// close waits for a decode in flight, then closes the file.
func (c *columnCursor[T]) close() {
	if c.pending != nil {
		<-c.pending
		c.pending = nil
	}
	c.closer.Close()
}

// next makes sure the cursor has a row; false at the end of the file or
// on a read error (recorded in st: the rest of the file is skipped). The
// row group after the current one is decoded on another goroutine while
// the current one is consumed.
func (c *columnCursor[T]) next(st *ReadStats) bool {
	if c.pos < len(c.rows) {
		return true
	}
	if c.done {
		return false
	}
	if c.pending == nil {
		c.prefetch()
	}
	g := <-c.pending
	c.pending = nil
	c.spare = c.rows[:0]
	if g.err != nil {
		st.Skipped = append(st.Skipped, fmt.Errorf("corrupt archive file %s (rest skipped): %w", c.path, g.err))
	}
	if !g.ok || g.err != nil {
		c.done = true
		c.rows = nil
		return false
	}
	c.rows, c.pos = g.rows, 0
	if c.g < len(c.groups) {
		c.prefetch()
	}
	return true
}
