// Package rules mines association rules (FP-growth: Han, Pei, Yin, "Mining
// Frequent Patterns without Candidate Generation", SIGMOD 2000) from
// transactions — sets of items such as the detectors that fired on one
// entity in a day, or the account names and network one source used in a
// day — and reports rules X → y with their support, confidence and lift,
// so an analyst sees which detectors fire together and which names and
// networks go together (a campaign's signature), and can turn a rule into
// a detector (Model, applied by detect/assoc).
package rules

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
)

// Dict maps item strings to small integers.
type Dict struct {
	ids   map[string]int32
	names []string
}

// NewDict returns an empty dictionary.
func NewDict() *Dict { return &Dict{ids: map[string]int32{}} }

// ID returns the id of an item, adding it.
func (d *Dict) ID(s string) int32 {
	if id, ok := d.ids[s]; ok {
		return id
	}
	id := int32(len(d.names))
	d.ids[s] = id
	d.names = append(d.names, s)
	return id
}

// Name returns an item's string.
func (d *Dict) Name(id int32) string { return d.names[id] }

// Len is the number of items.
func (d *Dict) Len() int { return len(d.names) }

// Options bound the mining.
type Options struct {
	MinSupport    float64 // share of transactions (0.01)
	MinCount      int     // and at least this many transactions (3)
	MinConfidence float64 // 0.8
	MinLift       float64 // 1.5
	MaxLen        int     // items per itemset (4)
	MaxItemsets   int     // frequent itemsets kept (200,000)
}

func (o *Options) defaults() {
	if o.MinSupport <= 0 {
		o.MinSupport = 0.01
	}
	if o.MinCount <= 0 {
		o.MinCount = 3
	}
	if o.MinConfidence <= 0 {
		o.MinConfidence = 0.8
	}
	if o.MinLift <= 0 {
		o.MinLift = 1.5
	}
	if o.MaxLen <= 0 {
		o.MaxLen = 4
	}
	if o.MaxItemsets <= 0 {
		o.MaxItemsets = 200_000
	}
}

// Itemset is a frequent set of items (ids ascending) and its count.
type Itemset struct {
	Items []int32
	Count int
}

// ErrTooMany is returned (wrapped) when the frequent itemsets exceed
// MaxItemsets: raise the minimum support.
var ErrTooMany = errors.New("too many frequent itemsets")

// node is an FP-tree node.
type node struct {
	item     int32
	count    int
	parent   *node
	children []*node
	next     *node // next node of the same item (header list)
}

type tree struct {
	root   *node
	head   map[int32]*node
	counts map[int32]int
}

func newTree() *tree {
	return &tree{root: &node{item: -1}, head: map[int32]*node{}, counts: map[int32]int{}}
}

// insert adds a path of items (already ordered) with a count.
func (t *tree) insert(items []int32, count int) {
	n := t.root
	for _, it := range items {
		var child *node
		for _, c := range n.children {
			if c.item == it {
				child = c
				break
			}
		}
		if child == nil {
			child = &node{item: it, parent: n, next: t.head[it]}
			t.head[it] = child
			n.children = append(n.children, child)
		}
		child.count += count
		t.counts[it] += count
		n = child
	}
}

// Frequent returns every itemset present in at least minCount
// transactions (minCount = max(MinCount, MinSupport × N)).
func Frequent(txs [][]int32, o Options) ([]Itemset, int, error) {
	o.defaults()
	n := len(txs)
	minCount := max(o.MinCount, int(math.Ceil(o.MinSupport*float64(n))))
	freq := map[int32]int{}
	for _, tx := range txs {
		for _, it := range tx {
			freq[it]++
		}
	}
	// Items ordered by descending frequency (ties by id), infrequent
	// items dropped: the FP-tree's path order.
	rank := map[int32]int{}
	var order []int32
	for it, c := range freq {
		if c >= minCount {
			order = append(order, it)
		}
	}
	slices.SortFunc(order, func(a, b int32) int {
		if c := cmp.Compare(freq[b], freq[a]); c != 0 {
			return c
		}
		return cmp.Compare(a, b)
	})
	for i, it := range order {
		rank[it] = i
	}
	t := newTree()
	buf := make([]int32, 0, 64)
	for _, tx := range txs {
		buf = buf[:0]
		for _, it := range tx {
			if _, ok := rank[it]; ok {
				buf = append(buf, it)
			}
		}
		slices.SortFunc(buf, func(a, b int32) int { return cmp.Compare(rank[a], rank[b]) })
		buf = slices.Compact(buf)
		if len(buf) > 0 {
			t.insert(buf, 1)
		}
	}
	var out []Itemset
	var err error
	var mine func(t *tree, prefix []int32)
	mine = func(t *tree, prefix []int32) {
		// Items of this tree, least frequent first.
		items := make([]int32, 0, len(t.counts))
		for it, c := range t.counts {
			if c >= minCount {
				items = append(items, it)
			}
		}
		slices.SortFunc(items, func(a, b int32) int { return cmp.Compare(rank[b], rank[a]) })
		for _, it := range items {
			if err != nil {
				return
			}
			set := append(slices.Clone(prefix), it)
			out = append(out, Itemset{Items: sorted(set), Count: t.counts[it]})
			if len(out) > o.MaxItemsets {
				err = fmt.Errorf("%w (more than %d at support %d): raise the minimum support", ErrTooMany, o.MaxItemsets, minCount)
				return
			}
			if len(set) >= o.MaxLen {
				continue
			}
			// The conditional tree of it: the paths above its nodes.
			ct := newTree()
			var path []int32
			for nd := t.head[it]; nd != nil; nd = nd.next {
				path = path[:0]
				for p := nd.parent; p != nil && p.item >= 0; p = p.parent {
					path = append(path, p.item)
				}
				slices.Reverse(path)
				if len(path) > 0 {
					ct.insert(path, nd.count)
				}
			}
			// Drop the conditional tree's infrequent items by rebuilding
			// only when needed: mine skips them through counts.
			mine(ct, set)
		}
	}
	mine(t, nil)
	if err != nil {
		return nil, minCount, err
	}
	return out, minCount, nil
}

func sorted(s []int32) []int32 {
	slices.Sort(s)
	return s
}

func key(items []int32) string {
	var sb strings.Builder
	for _, it := range items {
		fmt.Fprintf(&sb, "%d,", it)
	}
	return sb.String()
}

// Rule is an association rule X → Y.
type Rule struct {
	If         []int32
	Then       []int32
	Count      int     // transactions holding X ∪ Y
	Support    float64 // Count / N
	Confidence float64 // Count / count(X)
	Lift       float64 // Confidence / support(Y)
}

// Rules derives the rules with one consequent item from frequent
// itemsets, keeping those with confidence ≥ MinConfidence and lift ≥
// MinLift, strongest (lift, then confidence, then support) first. A rule
// whose antecedent has a subset giving the same consequent with at least
// the same confidence is redundant and dropped.
func Rules(sets []Itemset, n int, o Options) []Rule {
	o.defaults()
	count := make(map[string]int, len(sets))
	for _, s := range sets {
		count[key(s.Items)] = s.Count
	}
	var out []Rule
	for _, s := range sets {
		if len(s.Items) < 2 {
			continue
		}
		for i, y := range s.Items {
			x := append(slices.Clone(s.Items[:i]), s.Items[i+1:]...)
			cx, ok := count[key(x)]
			cy, ok2 := count[key([]int32{y})]
			if !ok || !ok2 || cx == 0 || cy == 0 {
				continue
			}
			conf := float64(s.Count) / float64(cx)
			lift := conf / (float64(cy) / float64(n))
			if conf < o.MinConfidence || lift < o.MinLift {
				continue
			}
			out = append(out, Rule{If: x, Then: []int32{y}, Count: s.Count, Support: float64(s.Count) / float64(n), Confidence: conf, Lift: lift})
		}
	}
	// Redundancy: drop X → y when some X' ⊂ X gives y with ≥ confidence.
	best := map[string]float64{}
	for _, r := range out {
		k := key(r.If) + ">" + key(r.Then)
		best[k] = r.Confidence
	}
	kept := out[:0]
	for _, r := range out {
		redundant := false
		if len(r.If) > 1 {
			for i := range r.If {
				sub := append(slices.Clone(r.If[:i]), r.If[i+1:]...)
				if c, ok := best[key(sub)+">"+key(r.Then)]; ok && c >= r.Confidence-1e-9 {
					redundant = true
					break
				}
			}
		}
		if !redundant {
			kept = append(kept, r)
		}
	}
	slices.SortStableFunc(kept, func(a, b Rule) int {
		if c := cmp.Compare(b.Lift, a.Lift); c != 0 {
			return c
		}
		if c := cmp.Compare(b.Confidence, a.Confidence); c != 0 {
			return c
		}
		if c := cmp.Compare(b.Count, a.Count); c != 0 {
			return c
		}
		return strings.Compare(key(a.If)+key(a.Then), key(b.If)+key(b.Then))
	})
	return kept
}

// Diverse keeps, in order, the rules that add an item not already covered
// by the kept rules with the same consequent, at most perThen per
// consequent: subsets of one long list (twenty rules "{any two names of a
// wordlist} → {a third}") collapse to the few that span it.
func Diverse(rs []Rule, perThen int) []Rule {
	covered := map[string]map[int32]bool{}
	kept := map[string]int{}
	var out []Rule
	for _, r := range rs {
		k := key(r.Then)
		if perThen > 0 && kept[k] >= perThen {
			continue
		}
		cov := covered[k]
		if cov == nil {
			cov = map[int32]bool{}
			covered[k] = cov
		}
		adds := false
		for _, it := range r.If {
			if !cov[it] {
				adds = true
			}
		}
		if !adds {
			continue
		}
		for _, it := range r.If {
			cov[it] = true
		}
		kept[k]++
		out = append(out, r)
	}
	return out
}
