package main

import (
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"winnow/internal/app"
	"winnow/internal/detect"
	"winnow/internal/event"
	"winnow/internal/role/learn"
)

// defaultSite is $WINNOW_SITE, else the host name: models record where
// they were trained, and analyze warns when a model comes from elsewhere.
func defaultSite() string {
	if s := os.Getenv("WINNOW_SITE"); s != "" {
		return s
	}
	h, _ := os.Hostname()
	return h
}

// learnCommand returns root's "learn" command (created if absent).
func learnCommand(root *cobra.Command) *cobra.Command {
	for _, c := range root.Commands() {
		if c.Name() == "learn" {
			return c
		}
	}
	c := &cobra.Command{Use: "learn", Short: "Learn models"}
	root.AddCommand(c)
	return c
}

// usage turns the role package's usage errors into app's (exit 2 with the
// usage hint).
func usage(err error) error {
	if err != nil && learn.IsUsage(err) {
		return app.UsageError{Err: err}
	}
	return err
}

// addBatchLearnCommands adds the batch learners to 'winnow learn'.
func addBatchLearnCommands(root *cobra.Command) {
	l := learnCommand(root)
	l.Short = "Learn models: streaming learners over CSV (hst, vfdt), batch learners over the archive or CSV (forest, tree)"
	l.AddCommand(newLearnForest(false), newLearnForest(true), newLearnCampaigns(), newLearnRules())
	for _, c := range l.Commands() {
		if c.Name() == "vfdt" {
			archiveVFDT(c)
		}
	}
}

// archiveVFDT teaches 'learn vfdt' (CSV) to train on archive windows too:
// with --archive the tree learns entity behaviour vectors in event-time
// order and is saved with -o, reloaded with --model and updated by
// analyst labels (--labels, --feedback-only).
func archiveVFDT(cmd *cobra.Command) {
	var o learn.VFDTOptions
	finish := archiveDataFlags(cmd, &o.Archive)
	f := cmd.Flags()
	f.StringVar(&o.Model, "model", "", "with --archive: a saved tree to update (new windows, analyst labels) instead of starting empty")
	f.BoolVar(&o.FeedbackOnly, "feedback-only", false, "with --model: learn only the windows --labels cover")
	f.StringVarP(&o.Out, "output", "o", "", "with --archive: write the tree to this model file (apply it with 'analyze --model')")
	f.StringVar(&o.Site, "site", defaultSite(), "site name recorded in the model")
	f.Float64Var(&o.CostFP, "cost-fp", 1, "cost of alerting on a good window (threshold choice)")
	f.Float64Var(&o.CostFN, "cost-fn", 1, "cost of missing a bad window")
	cmd.Use = "vfdt (--data FILE.csv --label COL | --archive DIR) [flags]"
	cmd.Example += `
  winnow learn vfdt --archive arch/ --key source.ip -o ssh-vfdt.wnm
  winnow learn vfdt --archive arch/ --model ssh-vfdt.wnm --labels verdicts.csv --feedback-only -o ssh-vfdt.wnm`
	csvRun := cmd.RunE
	cmd.RunE = func(c *cobra.Command, args []string) error {
		if o.Archive.Dir == "" {
			return csvRun(c, args)
		}
		if err := finish(); err != nil {
			return err
		}
		var err error
		cfg := o.Config
		if cfg.GracePeriod, err = f.GetInt("grace"); err != nil {
			return err
		}
		if cfg.Delta, err = f.GetFloat64("delta"); err != nil {
			return err
		}
		if cfg.Tau, err = f.GetFloat64("tau"); err != nil {
			return err
		}
		if cfg.Leaf, err = f.GetString("leaf"); err != nil {
			return err
		}
		cfg.SplitPoints = 10
		o.Config = cfg
		if o.Format, err = f.GetString("format"); err != nil {
			return err
		}
		o.Stdout, o.Stderr, o.Version = os.Stdout, os.Stderr, version
		o.Archive.Location = time.Local
		return usage(learn.VFDT(c.Context(), o))
	}
}

// archiveDataFlags binds the flags that select labelled entity windows
// from the archive.
func archiveDataFlags(cmd *cobra.Command, a *learn.ArchiveData) func() error {
	f := cmd.Flags()
	f.StringVar(&a.Dir, "archive", "", "archive directory (from 'winnow analyze --archive DIR')")
	var from, to string
	f.StringVar(&from, "from", "", "first event time, RFC 3339 (default: the archive's start)")
	f.StringVar(&to, "to", "", "end of the range (exclusive), RFC 3339 (default: the archive's end)")
	f.StringVar(&a.Key, "key", "source.ip", "entity the vectors describe: source.ip, user.name, host.name, url.domain, dns.question.registered_domain")
	f.DurationVar(&a.Window, "window", 10*time.Minute, "tumbling window of event time per vector")
	f.StringSliceVar(&a.Kinds, "kinds", nil, "event kinds read (auth, http, dns, ...; default all)")
	f.StringArrayVar(&a.LabelFiles, "labels", nil, "analyst labels: CSV entity,good|bad[,from,to], or findings JSON Lines with --verdict; repeatable; they override findings")
	f.StringVar(&a.Verdict, "verdict", "", "what findings given with --labels are: good (false positives) or bad (confirmed)")
	f.StringSliceVar(&a.Findings.Rules, "label-rules", nil, "finding rules or families (e.g. auth.,web.scanner) whose archived findings label windows bad (default: every rule but compiled models' and context rules campaign., linkage., profile.; none: no findings)")
	var sev string
	f.StringVar(&sev, "label-severity", "low", "lowest severity of a finding that labels a window bad")
	f.IntVar(&a.MinEvents, "min-events", 1, "drop windows with fewer events")
	return func() error {
		for _, x := range []struct {
			s   string
			dst *time.Time
			n   string
		}{{from, &a.From, "--from"}, {to, &a.To, "--to"}} {
			if x.s == "" {
				continue
			}
			t, err := time.Parse(time.RFC3339, x.s)
			if err != nil {
				return app.UsageError{Err: err}
			}
			*x.dst = t
		}
		if sev != "" {
			v, ok := event.ParseSeverity(sev)
			if !ok {
				return app.UsageError{Err: fmt.Errorf("--label-severity %q: want low, medium, high, critical or 1–100", sev)}
			}
			a.Findings.MinSeverity = v
		}
		return nil
	}
}

func newLearnForest(tree bool) *cobra.Command {
	o := learn.ForestOptions{Tree: tree}
	name, short := "forest", "Train a random forest on labelled entity behaviour (archive) or a labelled CSV"
	long := `Learn forest grows a random forest (Breiman: bootstrap samples, a random
subset of features per split, fully grown CART trees) and reports its
out-of-bag accuracy and the features' importance.

From the archive (--archive DIR) it learns per-entity behaviour: for each
entity (--key) and tumbling window (--window) of event time, a vector of
counts by action and outcome, distinct targets, failure and HTTP status
ratios, request and DNS query shapes and timing statistics. A window is
bad when an archived finding (by default any detection rule — not the
context rules campaign., linkage., profile. — at --label-severity or above) or an analyst label (--labels) covers it; the rest are good. Apply
the model with 'winnow analyze --model FILE' (detector forest.<key>):
findings name the features that drove the score.

From a CSV (--data, --normal LABEL) it learns normal vs the rest and, with
--test, scores a held-out file.

The threshold (--threshold auto) is chosen the way the model will be
tested: bad rows of whole families (finding rules, CSV labels) are held out
of training in turn, and the threshold minimises
  cost-fp × false positives + cost-fn × missed families
on them; with fewer than three families, on out-of-bag scores.`
	example := `  winnow learn forest --data KDDTrain+.txt --test KDDTest+.txt --names field_names.csv --label 42 --ignore 43 --normal normal -o kdd.wnm
  winnow analyze --archive arch/ /var/log/auth.log* && winnow learn forest --archive arch/ --key source.ip -o ssh.wnm
  winnow analyze --model ssh.wnm /var/log/auth.log`
	if tree {
		name, short = "tree", "Train a single CART decision tree (readable; explains its verdicts by its path)"
		long = `Learn tree grows one CART tree (Gini impurity, every feature tried per
split, depth ≤ --max-depth, leaves ≥ --min-leaf rows) on the same data as
'learn forest', and prints its first levels. Its findings in analyze carry
the path through the tree.`
		example = `  winnow learn tree --archive arch/ --key source.ip -o ssh-tree.wnm
  winnow learn tree --data KDDTrain+.txt --test KDDTest+.txt --label 42 --ignore 43 --normal normal`
	}
	cmd := &cobra.Command{
		Use:     name + " (--archive DIR | --data FILE.csv --normal LABEL) [flags]",
		Short:   short,
		Long:    long,
		Example: example,
		Args:    cobra.NoArgs,
	}
	finish := archiveDataFlags(cmd, &o.Archive)
	f := cmd.Flags()
	f.StringVar(&o.CSV.File, "data", "", "labelled CSV (.gz ok) instead of the archive")
	f.StringVar(&o.Test, "test", "", "held-out CSV with the same columns, scored after training")
	f.StringVar(&o.CSV.Label, "label", "", "CSV label column: header name, 1-based number, or negative from the end (default: the last)")
	f.StringVar(&o.CSV.Header, "header", "auto", "CSV first row is a header: auto, yes or no")
	f.StringSliceVar(&o.CSV.Ignore, "ignore", nil, "CSV columns to drop")
	f.StringVar(&o.CSV.Normal, "normal", "", "CSV label value of good rows; every other label is bad")
	f.StringVar(&o.CSV.Names, "names", "", "file naming the columns of a headerless CSV, one per line (e.g. NSL-KDD's field_names.csv)")
	if tree {
		f.IntVar(&o.MaxDepth, "max-depth", 8, "depth limit")
		f.IntVar(&o.MinLeaf, "min-leaf", 20, "minimum rows per leaf")
		f.IntVar(&o.TreeText, "show-depth", 4, "levels of the tree printed")
	} else {
		f.IntVar(&o.Trees, "trees", 100, "trees in the forest")
		f.IntVar(&o.MaxFeatures, "max-features", 0, "features tried per split (0 = √features)")
		f.IntVar(&o.MinLeaf, "min-leaf", 1, "minimum rows per leaf")
		f.IntVar(&o.MaxDepth, "max-depth", 0, "depth limit (0 = none)")
	}
	f.BoolVar(&o.Balanced, "balanced", false, "weight classes inversely to their frequency")
	f.Uint64Var(&o.Seed, "seed", 1, "random seed")
	f.StringVar(&o.Threshold, "threshold", "auto", "auto, families (held-out families), oob (least cost on out-of-bag scores) or a score in [0, 1]")
	f.Float64Var(&o.CostFP, "cost-fp", 1, "cost of alerting on a good window or row")
	f.Float64Var(&o.CostFN, "cost-fn", 1, "cost of missing a bad one")
	f.StringVarP(&o.Out, "output", "o", "", "write the model to this file")
	f.StringVar(&o.Site, "site", defaultSite(), "site name recorded in the model")
	f.StringVar(&o.Format, "format", "text", "report: text or json")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		if err := finish(); err != nil {
			return err
		}
		o.Stdout, o.Stderr, o.Version = os.Stdout, os.Stderr, version
		o.Archive.Location = time.Local
		return usage(learn.Forest(cmd.Context(), o))
	}
	return cmd
}

func newLearnCampaigns() *cobra.Command {
	var o learn.CampaignOptions
	var from, to string
	cmd := &cobra.Command{
		Use:   "campaigns --archive DIR [flags]",
		Short: "Group the archive's attacking sources into campaigns (shared account lists, paths, agents, pace, networks)",
		Long: `Learn campaigns profiles the sources of the archive's findings (or, with
--all, every source with failed attempts): the account names they tried,
the paths they probed (answered 4xx/5xx), their user agents, their pace
(median gap between attempts), their /24 (or /48) and, with --geoip, their
autonomous system. Two sources are linked when their combined similarity
reaches --threshold and they share a list of names or paths (Jaccard ≥ 0.8
over at least five values); linked sources form a campaign (single
linkage). Each campaign is shown with what binds it and the names or paths
every member tried. The stream runs the same clustering per host or site
as detectors campaign.auth and campaign.web.`,
		Example: `  winnow analyze --archive arch/ /var/log/auth.log*
  winnow learn campaigns --archive arch/
  winnow learn campaigns --archive arch/ --all --geoip GeoLite2-ASN.mmdb --format json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			for _, x := range []struct {
				s   string
				dst *time.Time
			}{{from, &o.From}, {to, &o.To}} {
				if x.s == "" {
					continue
				}
				t, err := time.Parse(time.RFC3339, x.s)
				if err != nil {
					return app.UsageError{Err: err}
				}
				*x.dst = t
			}
			o.Stdout, o.Stderr, o.Location = os.Stdout, os.Stderr, time.Local
			return usage(learn.Campaigns(cmd.Context(), o))
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Archive, "archive", "", "archive directory")
	f.StringVar(&from, "from", "", "first event time, RFC 3339")
	f.StringVar(&to, "to", "", "end of the range (exclusive), RFC 3339")
	f.StringSliceVar(&o.Kinds, "kinds", nil, "event kinds read (default auth,http)")
	f.BoolVar(&o.All, "all", false, "profile every source with failed attempts, not only the sources of findings")
	f.StringSliceVar(&o.GeoIP, "geoip", nil, "MaxMind-format ASN (or City) databases: the autonomous system joins the compared attributes")
	f.Float64Var(&o.Threshold, "threshold", 0.6, "combined similarity two sources need to be linked (0–1)")
	f.IntVar(&o.MinEvents, "min-events", 10, "failed attempts a source needs to be clustered")
	f.StringVar(&o.Format, "format", "text", "report: text or json")
	return cmd
}

func newLearnRules() *cobra.Command {
	var o learn.RulesOptions
	var from, to string
	cmd := &cobra.Command{
		Use:   "rules --archive DIR --transactions auth|http|findings [flags]",
		Short: "Mine association rules (FP-growth) from the archive: detectors that fire together, names and networks that go together",
		Long: `Learn rules groups the archive into transactions, one per entity and
--window, and mines the frequent itemsets (FP-growth) and the rules X → y
between them with their support (share of transactions with X and y),
confidence (share of X's transactions that have y) and lift (how many
times likelier y is given X). Redundant rules (a shorter X gives y as
surely) are dropped; the strongest are shown first.

  findings  per entity: the detectors that fired (rule=auth.brute_force)
  auth      per source address: the account names it used (user=admin),
            its /24 (net=…) and whether it logged in (logged-in)
  http      per client: the paths answered 4xx/5xx (path=…), user agents
            (ua=…) and its /24

With -o, the rules shown become a model: 'winnow analyze --model FILE'
reports (assoc.auth, assoc.http) a source whose window holds every item
of a rule — it matches the campaign signature the rule describes.`,
		Example: `  winnow learn rules --archive arch/ --transactions findings
  winnow learn rules --archive arch/ --transactions auth --min-support 0.02 --min-lift 5 -o names.wnm
  winnow analyze --model names.wnm /var/log/auth.log`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			for _, x := range []struct {
				s   string
				dst *time.Time
			}{{from, &o.From}, {to, &o.To}} {
				if x.s == "" {
					continue
				}
				t, err := time.Parse(time.RFC3339, x.s)
				if err != nil {
					return app.UsageError{Err: err}
				}
				*x.dst = t
			}
			o.Stdout, o.Stderr, o.Location, o.Version = os.Stdout, os.Stderr, time.Local, version
			return usage(learn.Rules(cmd.Context(), o))
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Archive, "archive", "", "archive directory")
	f.StringVar(&from, "from", "", "first event time, RFC 3339")
	f.StringVar(&to, "to", "", "end of the range (exclusive), RFC 3339")
	f.StringVar(&o.Transactions, "transactions", "findings", "what a transaction holds: findings, auth or http")
	f.DurationVar(&o.Window, "window", 24*time.Hour, "time span of one entity's transaction")
	f.Float64Var(&o.Mining.MinSupport, "min-support", 0.01, "least share of transactions an itemset appears in")
	f.IntVar(&o.Mining.MinCount, "min-count", 3, "and least number of transactions")
	f.Float64Var(&o.Mining.MinConfidence, "min-confidence", 0.8, "least confidence of a rule")
	f.Float64Var(&o.Mining.MinLift, "min-lift", 1.5, "least lift of a rule")
	f.IntVar(&o.Mining.MaxLen, "max-len", 4, "most items in an itemset")
	f.IntVar(&o.Top, "top", 30, "rules shown (and written with -o)")
	f.StringVarP(&o.Out, "output", "o", "", "write the rules shown as a model (auth and http transactions)")
	f.StringVar(&o.Site, "site", defaultSite(), "site name recorded in the model")
	f.StringVar(&o.Format, "format", "text", "report: text or json")
	return cmd
}

// modelOpts are serve's --model, --geoip and --site.
type modelOpts struct {
	models, geoip []string
	site          string
}

func (m *modelOpts) flags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringArrayVar(&m.models, "model", nil, "apply a model (Bayesian filter, compiled behaviour model, rules); repeatable")
	f.StringSliceVar(&m.geoip, "geoip", nil, "MaxMind-format databases: run the geo.* detectors")
	f.StringVar(&m.site, "site", defaultSite(), "this site's name: a model trained at another site is applied with a warning")
}

func (m *modelOpts) registry() (func() *detect.Registry, func(), error) {
	if len(m.models) == 0 && len(m.geoip) == 0 {
		return app.NewRegistry, func() {}, nil
	}
	return app.ModelRegistry(m.models, m.geoip, m.site, os.Stderr)
}
