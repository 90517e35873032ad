package learn

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

	"winnow/internal/archive"
	"winnow/internal/event"
	"winnow/internal/learn/rules"
	"winnow/internal/modelfile"
	"winnow/internal/textsafe"
)

// RulesOptions are 'winnow learn rules' settings.
type RulesOptions struct {
	Archive      string
	From, To     time.Time
	Transactions string // auth, http or findings
	Window       time.Duration
	Mining       rules.Options
	Top          int    // rules shown (0 = 30)
	Out          string // model file (auth, http)
	Site         string
	Version      string
	Format       string
	Stdout       io.Writer
	Stderr       io.Writer
	Location     *time.Location
}

// RulesReport is the command's result.
type RulesReport struct {
	Archive      string            `json:"archive"`
	Transactions int               `json:"transactions"`
	Kind         string            `json:"kind"`
	Window       string            `json:"window"`
	Items        int               `json:"items"`
	MinCount     int               `json:"min_count"`
	Itemsets     int               `json:"frequent_itemsets"`
	Rules        []rules.NamedRule `json:"rules"`
	Total        int               `json:"rules_total"` // before the diversity filter
	Model        string            `json:"model,omitempty"`
}

// Rules mines association rules from the archive.
func Rules(ctx context.Context, o RulesOptions) error {
	if o.Archive == "" {
		return usagef("--archive DIR is required")
	}
	if st, err := os.Stat(o.Archive); err != nil || !st.IsDir() {
		return usagef("--archive %s: not a directory", o.Archive)
	}
	if o.Format == "" {
		o.Format = "text"
	}
	if o.Format != "text" && o.Format != "json" {
		return usagef("--format %q: want text or json", o.Format)
	}
	if o.Window <= 0 {
		o.Window = 24 * time.Hour
	}
	if o.Top <= 0 {
		o.Top = 30
	}
	b := rules.NewBuilder(o.Window, 0)
	switch o.Transactions {
	case rules.KindFindings:
		if o.Out != "" {
			return usagef("-o: rules over findings describe detectors, not events; mine auth or http transactions to write a model")
		}
		alerts, errs := archive.Findings(o.Archive, o.From, o.To)
		for _, e := range errs {
			fmt.Fprintf(o.Stderr, "winnow: %v\n", e)
		}
		for i := range alerts {
			a := &alerts[i]
			b.Add(a.Entity.String(), a.Start, rules.FindingItems(a)...)
		}
	case rules.KindAuth, rules.KindHTTP:
		var buf []string
		_, err := archive.Events(ctx, archive.ReadOptions{Dir: o.Archive, From: o.From, To: o.To, Kinds: []string{o.Transactions}, Location: o.Location},
			func(evs []event.Event) error {
				for i := range evs {
					var ok bool
					if buf, ok = rules.EventItems(o.Transactions, &evs[i], buf[:0]); ok {
						b.Add(evs[i].SrcIP.String(), evs[i].Time, buf...)
					}
				}
				return ctx.Err()
			})
		if err != nil {
			return fmt.Errorf("cannot read archive %s: %w", o.Archive, err)
		}
	default:
		return usagef("--transactions %q: want auth, http or findings", o.Transactions)
	}
	txs := b.Transactions()
	if len(txs) == 0 {
		return fmt.Errorf("no %s transactions in %s", o.Transactions, o.Archive)
	}
	sets, minCount, err := rules.Frequent(txs, o.Mining)
	if err != nil {
		return err
	}
	rs := rules.Rules(sets, len(txs), o.Mining)
	rep := &RulesReport{Archive: o.Archive, Transactions: len(txs), Kind: o.Transactions, Window: o.Window.String(),
		Items: b.Dict.Len(), MinCount: minCount, Itemsets: len(sets), Total: len(rs)}
	named := rules.Named(rules.Diverse(rs, 2), b.Dict)
	rep.Rules = named[:min(len(named), o.Top)]
	if rep.Rules == nil {
		rep.Rules = []rules.NamedRule{}
	}
	if o.Out != "" {
		m := &rules.Model{Kind: o.Transactions, Window: o.Window, Transactions: len(txs), Rules: rep.Rules}
		h := modelfile.Header{Type: rules.ModelType, TypeVersion: rules.PayloadVersion, Schema: m.Schema(), Site: o.Site,
			Producer: o.Version, Created: time.Now().UTC(), Meta: map[string]string{"transactions": strconv.Itoa(len(txs)),
				"rules": strconv.Itoa(len(m.Rules)), "data": o.Archive}}
		if err := modelfile.WriteFile(o.Out, h, m.Encode()); err != nil {
			return err
		}
		rep.Model = o.Out
	}
	if o.Format == "json" {
		enc := json.NewEncoder(o.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	w := o.Stdout
	fmt.Fprintf(w, "%d %s transactions (per entity per %s), %d items, %d frequent itemsets (support ≥ %d transactions), %d rules\n",
		rep.Transactions, rep.Kind, o.Window, rep.Items, rep.Itemsets, rep.MinCount, rep.Total)
	for i, r := range rep.Rules {
		fmt.Fprintf(w, "%3d  %s\n", i+1, textsafe.Terminal(r.String()))
	}
	if rep.Model != "" {
		fmt.Fprintf(w, "the %d rules shown written to %s: 'winnow analyze --model %s' reports the sources that match them (assoc.%s)\n",
			len(rep.Rules), rep.Model, rep.Model, rep.Kind)
	}
	return nil
}
