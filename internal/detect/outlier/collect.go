package outlier

import (
	"fmt"
	"net/netip"
	"sort"
	"strings"
	"time"

	"winnow/internal/detect"
	"winnow/internal/event"
	"winnow/internal/series"
)

// Record is one collected entity series at one resolution.
type Record struct {
	Metric     string
	Entity     event.Entity
	Resolution series.Resolution
	Times      []time.Time
	Values     []float64
}

// MetricNames lists the series family's metrics.
func MetricNames() []string {
	var out []string
	for _, m := range metrics() {
		out = append(out, m.name)
	}
	return out
}

// CollectSpecs returns detector specs that keep, for each named metric
// (all when names is empty), every entity's series at the given
// resolutions (at most maxEntities per shard, the least recently active
// shed first) and hand them to sink at the end of input. sink is called
// from the shard goroutines and must be safe for that. Distinct-count
// metrics are kept at the first (finest) resolution only: distinct counts
// of buckets do not add up to coarser ones.
func CollectSpecs(names []string, res []series.Resolution, maxEntities int, sink func(Record)) ([]detect.Spec, error) {
	if len(res) == 0 || maxEntities < 1 {
		return nil, fmt.Errorf("collect: resolutions and max entities ≥ 1 are required")
	}
	all := metrics()
	var chosen []metric
	if len(names) == 0 {
		chosen = all
	}
	for _, n := range names {
		n = strings.TrimPrefix(n, "series.")
		found := false
		for _, m := range all {
			if m.name == n {
				chosen = append(chosen, m)
				found = true
			}
		}
		if !found {
			return nil, fmt.Errorf("no series metric %q (known: %s)", n, strings.Join(MetricNames(), ", "))
		}
	}
	var out []detect.Spec
	for _, m := range chosen {
		m := m
		r := res
		if m.distinct != nil {
			r = res[:1]
		}
		out = append(out, detect.Spec{
			Name: "collect." + m.name, Summary: "collects " + m.summary, Key: m.key, Kinds: m.kinds, Actions: m.actions,
			New: func(detect.Params) (detect.Detector, error) { return newCollector(m, r, maxEntities, sink), nil },
		})
	}
	return out, nil
}

type collected struct {
	s    *series.Series
	dist *series.Distinct
	cur  int64 // open minute of dist
}

type collector struct {
	m    metric
	res  []series.Resolution
	tab  *detect.Table[collected]
	sink func(Record)
	kbuf [16]byte
}

func newCollector(m metric, res []series.Resolution, max int, sink func(Record)) *collector {
	c := &collector{m: m, res: res, sink: sink}
	c.tab = detect.NewTable(max, detect.TableOptions[collected]{Shed: c.emit})
	return c
}

func (c *collector) Observe(ev *event.Event, _ detect.Emit) {
	var v float64
	var item string
	var ok bool
	if c.m.distinct != nil {
		item, ok = c.m.distinct(ev)
	} else {
		v, ok = c.m.value(ev)
	}
	if !ok {
		return
	}
	var st *collected
	if c.m.key == detect.KeySourceIP {
		if !ev.SrcIP.IsValid() {
			return
		}
		c.kbuf = ev.SrcIP.As16()
		st, _ = c.tab.UpsertBytes(c.kbuf[:], ev.Time)
	} else {
		k, ok := detect.KeyValue(c.m.key, ev)
		if !ok {
			return
		}
		st, _ = c.tab.Upsert(k, ev.Time)
	}
	if st.s == nil {
		st.s = series.New(c.res)
		st.cur = -1
	}
	if c.m.distinct == nil {
		st.s.Add(ev.Time, v)
		return
	}
	// Distinct per bucket of the finest resolution: the ring holds the
	// count so far of the open bucket.
	step := int64(c.res[0].Step)
	b := ev.Time.UnixNano() / step
	if st.dist == nil {
		st.dist = series.NewDistinct(0)
	}
	if b != st.cur {
		st.dist.Reset()
		st.cur = b
	}
	before := st.dist.Count()
	st.dist.AddString(item)
	st.s.Add(ev.Time, float64(st.dist.Count()-before))
}

func (c *collector) emit(key string, st *collected) {
	if st.s == nil {
		return
	}
	ent := event.Entity{Type: c.m.entity, Value: key}
	if c.m.key == detect.KeySourceIP && len(key) == 16 {
		var a [16]byte
		copy(a[:], key)
		ent.Value = netip.AddrFrom16(a).Unmap().String()
	}
	for _, r := range st.s.Rings {
		ts, vs := r.Points(nil, nil)
		c.sink(Record{Metric: c.m.name, Entity: ent, Resolution: r.Resolution(), Times: ts, Values: vs})
	}
}

func (c *collector) Advance(time.Time, detect.Emit) {}

func (c *collector) Flush(detect.Emit) {
	var keys []string
	c.tab.Each(func(k string, _ *collected) bool { keys = append(keys, k); return true })
	sort.Strings(keys)
	for _, k := range keys {
		c.emit(k, c.tab.Get(k))
	}
	c.tab.Drain(nil)
}

func (c *collector) Stats() detect.Stats { return c.tab.Stats() }
