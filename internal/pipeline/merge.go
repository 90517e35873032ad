package pipeline

import (
	"context"

	"winnow/internal/detect"
	"winnow/internal/event"
)

// cursor is a stream's current batch and read position.
type cursor struct {
	st    *stream
	batch []event.Event
	pos   int
}

// head is the time of the cursor's next event.
func (c *cursor) head() int64 { return c.batch[c.pos].Time.UnixNano() }

// fill makes sure the cursor has an event; false when its stream is done.
func (c *cursor) fill(ctx context.Context) bool {
	for c.batch == nil || c.pos >= len(c.batch) {
		if c.batch != nil {
			c.st.recycle(c.batch)
			c.batch = nil
		}
		select {
		case b, ok := <-c.st.out:
			if !ok {
				return false
			}
			c.batch, c.pos = b, 0
		case <-ctx.Done():
			return false
		}
	}
	return true
}

// merge feeds the runner with the events of all streams in event-time
// order (a k-way merge by runs: it takes from the earliest stream every
// event up to the next stream's head). Within one input, order is the
// file's; small disorder is absorbed by the Runner's lateness.
func merge(ctx context.Context, streams []*stream, runner *detect.Runner, res *Result, sink func([]event.Event) error, rs *resumer) error {
	var cs []*cursor
	for _, st := range streams {
		c := &cursor{st: st}
		if c.fill(ctx) {
			cs = append(cs, c)
		} else if rs != nil && ctx.Err() == nil {
			rs.ended(st)
		}
	}
	for len(cs) > 0 {
		if err := ctx.Err(); err != nil {
			return err
		}
		mi, next := pickEarliest(cs)
		c := cs[mi]
		end := c.pos + 1
		for end < len(c.batch) && c.batch[end].Time.UnixNano() <= next {
			end++
		}
		run := c.batch[c.pos:end]
		res.observe(run)
		if err := runner.Submit(run); err != nil {
			return err
		}
		if sink != nil {
			if err := sink(run); err != nil {
				return err
			}
		}
		c.pos = end
		if rs != nil {
			rs.took(c.st, run)
		}
		if !c.fill(ctx) {
			cs = append(cs[:mi], cs[mi+1:]...)
			if rs != nil && ctx.Err() == nil {
				rs.ended(c.st)
			}
		}
		if rs != nil {
			if err := rs.maybe(cs); err != nil {
				return err
			}
		}
	}
	return ctx.Err()
}

// pickEarliest returns the index of the cursor with the earliest head and
// the head time of the runner-up (max int64 if there is none).
func pickEarliest(cs []*cursor) (int, int64) {
	best, second := 0, int64(1<<63-1)
	bt := cs[0].head()
	for i := 1; i < len(cs); i++ {
		t := cs[i].head()
		if t < bt {
			second = bt
			best, bt = i, t
		} else if t < second {
			second = t
		}
	}
	return best, second
}

// observe tracks the time range of the data.
func (res *Result) observe(run []event.Event) {
	for i := range run {
		t := run[i].Time
		if res.First.IsZero() || t.Before(res.First) {
			res.First = t
		}
		if t.After(res.Last) {
			res.Last = t
		}
	}
}
