package main

import (
	"os"

	"github.com/spf13/cobra"

	"winnow/internal/app"
	"winnow/internal/detect/bayes"
)

// addLearnCommands adds train, feedback and learn to root, and 'http' to
// the score command (created if absent).
func addLearnCommands(root *cobra.Command, ex *exit) {
	root.AddCommand(newTrain(ex), newFeedback(ex), newLearn(ex))
	var score *cobra.Command
	for _, c := range root.Commands() {
		if c.Name() == "score" {
			score = c
		}
	}
	if score == nil {
		score = &cobra.Command{Use: "score", Short: "Score items one by one with winnow's models (for evaluation on labelled lists)"}
		root.AddCommand(score)
	}
	score.AddCommand(newScoreHTTP(ex))
}

// modelFlag binds analyze's --model.
func modelFlag(cmd *cobra.Command, o *app.AnalyzeOptions) {
	cmd.Flags().StringArrayVar(&o.Models, "model", nil,
		"apply a model: a Bayesian filter from 'winnow train' (detector bayes.<kind>) or a compiled behaviour model from 'winnow learn forest|tree' (detector forest.<key>); repeatable")
	cmd.Flags().StringSliceVar(&o.GeoIP, "geoip", nil, "MaxMind-format databases (GeoLite2/GeoIP2 City or Country and ASN, DB-IP Lite): run the geo.* detectors and add source.geo/source.as fields to findings")
	cmd.Flags().StringVar(&o.Site, "site", defaultSite(), "this site's name: a compiled model trained at another site is applied with a warning")
}

func newTrain(ex *exit) *cobra.Command {
	o := app.TrainOptions{CostBlockGood: bayes.DefaultCosts.BlockGood, CostMissBad: bayes.DefaultCosts.MissBad}
	cmd := &cobra.Command{
		Use:   "train --kind http|auth|dns --good FILES [--bad FILES | --bad-after TIME [--host H]] -o model.wnm",
		Short: "Train a Bayesian good/bad filter from labelled traffic",
		Long: `Train learns which tokens of an event mark bad traffic and which mark good:
for HTTP requests the method, path segments and shapes, parameter names,
value shapes, lengths, words, symbol runs and trigrams of decoded values;
for auth events the action, account class, hour bucket and source
attributes; for DNS names the label shapes, lengths, bigrams and the
registered domain. Evidence is combined as modern spam filters do
(Robinson's token probabilities, Fisher's chi-square), with unknown tokens
weighted per token class.

--good and --bad take files, globs or directories. HTTP inputs are raw
requests (the CSIC 2010 format: request line, headers, blank line, body)
or access logs; auth inputs are auth logs; DNS inputs are captures, DNS
logs, or lists of names (one per line; in "label,name" CSV lines the last
field). With --bad-after, events of the --good inputs at or after that
time (logged by --host, if given) are labelled bad: "everything from the
break-in on is suspect".

A share of the items (--validation) is held out, deterministically by
--seed; the threshold is the one that minimises
  cost-block-good × false positives + cost-miss-bad × missed bad items
on it. Train prints the confusion matrix, the ROC AUC and the operating
point; --plot writes roc.png and cost.png.`,
		Example: `  winnow train --kind http --good normalTrafficTraining.txt --bad anomalousTrafficTraining.txt -o csic.wnm
  winnow train --kind auth --good auth.log --bad-after 2026-11-21T14:05:00Z --host web1 -o auth.wnm
  winnow train --kind http --good access.log --bad scanner.log --cost-block-good 5 --plot plots -o web.wnm`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.Stdin, o.Stdout, o.Stderr = os.Stdin, os.Stdout, os.Stderr
			code, err := app.Train(cmd.Context(), o)
			ex.code = code
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Kind, "kind", "", "what the model scores: http, auth or dns")
	f.StringSliceVar(&o.Good, "good", nil, "known-good inputs (files, globs, directories)")
	f.StringSliceVar(&o.Bad, "bad", nil, "known-bad inputs")
	f.StringVar(&o.BadAfter, "bad-after", "", "RFC 3339 time: events of the good inputs from then on are bad (a break-in)")
	f.StringVar(&o.Host, "host", "", "with --bad-after: only events of this host (auth: the logging host; http: the site) turn bad")
	f.Float64Var(&o.CostBlockGood, "cost-block-good", o.CostBlockGood, "cost of blocking (alerting on) one good item")
	f.Float64Var(&o.CostMissBad, "cost-miss-bad", o.CostMissBad, "cost of missing one bad item")
	f.Float64Var(&o.Validation, "validation", 0.2, "share of items held out to choose the threshold")
	f.Uint64Var(&o.Seed, "seed", 1, "seed of the validation split")
	f.StringVar(&o.Plot, "plot", "", "write roc.png and cost.png into this directory")
	f.StringVarP(&o.Out, "output", "o", "", "model file to write")
	f.IntVar(&o.Year, "year", 0, "year for timestamps that have none")
	f.StringVar(&o.TZ, "tz", "", "time zone for timestamps that have none")
	return cmd
}

func newScoreHTTP(ex *exit) *cobra.Command {
	var o app.ScoreHTTPOptions
	cmd := &cobra.Command{
		Use:   "http --model M FILE|- ...",
		Short: "Score HTTP requests with a trained model: one JSON line per request, in input order",
		Long: `Score http reads raw HTTP requests (the CSIC 2010 format) or access-log
lines (sniffed per input; .gz is decompressed) and prints for each request,
in input order:

  {"index":0,"score":0.0031,"verdict":"good"}

index counts requests from 0 across all inputs; score is the model's 0–1
score (1 = bad); verdict is "bad" at or above the model's threshold.
Access-log lines that do not parse are scored as invalid requests.`,
		Example: `  winnow score http --model csic.wnm normalTrafficTest.txt anomalousTrafficTest.txt`,
		Args:    cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Args = args
			o.Stdin, o.Stdout, o.Stderr = os.Stdin, os.Stdout, os.Stderr
			code, err := app.ScoreHTTP(cmd.Context(), o)
			ex.code = code
			return err
		},
	}
	cmd.Flags().StringVar(&o.Model, "model", "", "model file (from 'winnow train --kind http')")
	return cmd
}

func newFeedback(ex *exit) *cobra.Command {
	var o app.FeedbackOptions
	cmd := &cobra.Command{
		Use:   "feedback --model M [--good SEL...] [--bad SEL...] [--findings F.jsonl --verdict good|bad]",
		Short: "Teach a model analyst verdicts (false positive / confirmed)",
		Long: `Feedback trains a model further on items an analyst labelled, and writes
it back (or to -o). Items are selected by FILE (every item), FILE:LINE or
FILE:FROM-TO (1-based lines; for raw HTTP the request line), or by the
findings of 'winnow analyze --format json': every bayes finding names its
events in evidence.event_ids ("file:line"), other findings their evidence
samples. The threshold is kept.`,
		Example: `  winnow feedback --model web.wnm --good access.log:1200-1250
  winnow analyze --model web.wnm --format json access.log > f.jsonl
  winnow feedback --model web.wnm --findings f.jsonl --verdict good`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.Stdin, o.Stdout, o.Stderr = os.Stdin, os.Stdout, os.Stderr
			code, err := app.Feedback(cmd.Context(), o)
			ex.code = code
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Model, "model", "", "model file to update")
	f.StringArrayVar(&o.Good, "good", nil, "items that are good (FILE, FILE:LINE, FILE:FROM-TO); repeatable")
	f.StringArrayVar(&o.Bad, "bad", nil, "items that are bad; repeatable")
	f.StringVar(&o.Findings, "findings", "", "findings file from 'winnow analyze --format json'")
	f.StringVar(&o.Verdict, "verdict", "", "the analyst's verdict on --findings: good (false positive) or bad (confirmed)")
	f.StringVarP(&o.Out, "output", "o", "", "write the updated model here instead of over --model")
	f.IntVar(&o.Year, "year", 0, "year for timestamps that have none")
	f.StringVar(&o.TZ, "tz", "", "time zone for timestamps that have none")
	return cmd
}

func newLearn(ex *exit) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "learn",
		Short: "Run a streaming learner (Half-Space Trees, Hoeffding tree) over a CSV",
	}
	for _, algo := range []string{"hst", "vfdt"} {
		o := app.LearnOptions{Algo: algo}
		short := "Half-Space Trees (unsupervised, streaming anomaly scores); labels only evaluate"
		long := `Learn hst runs Half-Space Trees (River's defaults: 10 trees, height 8,
window 250) over the rows of a CSV in order. Numeric columns are
log-compressed and min-max scaled as the stream goes; nominal columns
(any non-numeric value in the first 1000 rows) are encoded by frequency.
Labels are not learned: with --normal, the ROC AUC of the scores (normal
vs the rest) is reported. --train-normal learns only the --data rows
labelled normal and then scores --test.`
		if algo == "vfdt" {
			short = "Hoeffding tree (supervised, streaming), evaluated prequentially"
			long = `Learn vfdt runs a Hoeffding tree (information gain, Hoeffding bound,
tie threshold, grace period, naive-Bayes-adaptive leaves, Gaussian
estimators for numeric columns) over the rows of a CSV in order, testing
each row before training on it (prequential accuracy). --test scores a
held-out file with the trained tree. --normal turns the label into normal
vs the rest.`
		}
		sub := &cobra.Command{
			Use:   algo + " --data FILE.csv --label COL [flags]",
			Short: short,
			Long: long + `

COL is a header name, a 1-based column number, or a negative number from
the end; files without a header name their columns c1, c2, …`,
			Example: "  winnow learn " + algo + " --data KDDTrain+.txt --test KDDTest+.txt --label 42 --ignore 43 --normal normal",
			Args:    cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				o.Stdin, o.Stdout, o.Stderr = os.Stdin, os.Stdout, os.Stderr
				code, err := app.Learn(cmd.Context(), o)
				ex.code = code
				return err
			},
		}
		f := sub.Flags()
		f.StringVar(&o.Data, "data", "", "CSV file (.gz ok)")
		f.StringVar(&o.Test, "test", "", "held-out CSV with the same columns")
		f.StringVar(&o.Label, "label", "", "label column (default: the last)")
		f.StringVar(&o.Header, "header", "auto", "first row is a header: auto, yes or no")
		f.StringSliceVar(&o.Ignore, "ignore", nil, "columns to drop")
		f.StringVar(&o.Normal, "normal", "", "label value of normal rows (binary task: normal vs the rest)")
		f.IntVar(&o.Every, "every", 10000, "rows per point of the prequential curve")
		f.StringVar(&o.Plot, "plot", "", "write plots (prequential curve, ROC) into this directory")
		f.StringVar(&o.Format, "format", "text", "output: text or json")
		if algo == "hst" {
			f.IntVar(&o.Trees, "trees", 10, "number of trees")
			f.IntVar(&o.Height, "height", 8, "height of each tree")
			f.IntVar(&o.Window, "window", 250, "rows per reference window")
			f.Uint64Var(&o.Seed, "seed", 42, "random seed")
			f.BoolVar(&o.TrainNormal, "train-normal", false, "learn only the --data rows labelled --normal, then score --test")
		} else {
			f.IntVar(&o.Grace, "grace", 200, "grace period: rows a leaf sees between split attempts")
			f.Float64Var(&o.Delta, "delta", 1e-7, "1 − confidence of a split (δ of the Hoeffding bound)")
			f.Float64Var(&o.Tau, "tau", 0.05, "tie threshold")
			f.StringVar(&o.Leaf, "leaf", "nba", "leaf prediction: mc, nb or nba")
		}
		cmd.AddCommand(sub)
	}
	return cmd
}
