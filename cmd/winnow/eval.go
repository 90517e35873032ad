package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"sort"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"winnow/internal/app"
	"winnow/internal/eval"
)

// newEval is `winnow eval`: benchmark scorers.
func newEval() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "eval",
		Short: "Score detector output against benchmark labels (NAB)",
	}
	cmd.AddCommand(newEvalNAB())
	return cmd
}

func newEvalNAB() *cobra.Command {
	var dataDir, labelsPath, resultsDir, profilesPath, format string
	var threshold float64
	var perFile, loco bool
	cmd := &cobra.Command{
		Use:   "nab --data DIR --labels FILE --results DIR",
		Short: "Score anomaly_score CSVs with the Numenta Anomaly Benchmark's rules",
		Long: `Eval nab scores a detector's results (one timestamp,value,anomaly_score CSV
per data file, mirroring the data tree, as 'winnow series detect' writes them;
NAB's own <detector>_<name>.csv naming is accepted too) with NAB v1.1's rules:
anomaly windows, the probationary period (first 15% of each file, at most
750 rows), the scaled sigmoid, the first detection per window, the three
application profiles, one corpus-wide threshold per profile (optimised
unless --threshold is given), normalised so that the null detector scores 0
and the perfect detector 100.

--leave-one-out validates the way unseen data is scored: each category (the
data tree's top-level folder) is held out in turn, the threshold is
optimised on the other categories, and the held-out one is scored at it.`,
		Example: `  winnow series detect ../shared/data/nab/data --out results/winnow
  winnow eval nab --data ../shared/data/nab/data \
      --labels ../shared/data/nab/labels/combined_windows.json --results results/winnow
  winnow eval nab --leave-one-out --data ../shared/data/nab/data \
      --labels ../shared/data/nab/labels/combined_windows.json --results results/winnow`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if dataDir == "" || labelsPath == "" || resultsDir == "" {
				return app.UsageError{Err: fmt.Errorf("--data, --labels and --results are required")}
			}
			if format != "text" && format != "json" {
				return app.UsageError{Err: fmt.Errorf("--format %q: want text or json", format)}
			}
			labels, err := eval.ReadLabelsFile(labelsPath)
			if err != nil {
				return err
			}
			profiles := eval.DefaultProfiles()
			if profilesPath != "" {
				if profiles, err = eval.ReadProfilesFile(profilesPath); err != nil {
					return err
				}
			}
			files, err := eval.LoadCorpus(dataDir, resultsDir, labels)
			if err != nil {
				return err
			}
			if loco {
				if cmd.Flags().Changed("threshold") {
					return app.UsageError{Err: fmt.Errorf("--leave-one-out optimises the threshold: drop --threshold")}
				}
				folds, err := eval.LeaveOneCategoryOut(files, labels, profiles)
				if err != nil {
					return err
				}
				if format == "json" {
					enc := json.NewEncoder(cmd.OutOrStdout())
					enc.SetIndent("", "  ")
					return enc.Encode(eval.FoldsJSON(profiles, folds))
				}
				return eval.WriteFoldsText(cmd.OutOrStdout(), profiles, folds)
			}
			opt := eval.Options{Threshold: math.NaN()}
			if cmd.Flags().Changed("threshold") {
				opt.Threshold = threshold
			}
			res, err := eval.Score(files, labels, profiles, opt)
			if err != nil {
				return err
			}
			if format == "json" {
				return writeNABJSON(cmd.OutOrStdout(), res, perFile)
			}
			writeNABText(cmd.OutOrStdout(), res, len(files), perFile)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&dataDir, "data", "", "NAB data directory (the corpus: every *.csv below it is scored)")
	f.StringVar(&labelsPath, "labels", "", "NAB labels/combined_windows.json")
	f.StringVar(&resultsDir, "results", "", "results directory mirroring the data tree")
	f.StringVar(&profilesPath, "profiles", "", "NAB config/profiles.json (default: NAB v1.1's three profiles)")
	f.Float64Var(&threshold, "threshold", 0, "score every profile at this threshold instead of optimising it")
	f.BoolVar(&perFile, "per-file", false, "also list each file's score and counts (standard profile first)")
	f.StringVar(&format, "format", "text", "output: text or json")
	f.BoolVar(&loco, "leave-one-out", false, "hold out each category in turn: optimise the threshold on the others, score it there")
	return cmd
}

func writeNABText(w io.Writer, res []eval.ProfileResult, files int, perFile bool) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "profile\tthreshold\traw\tnull\tperfect\tscore\twindows hit\tTP rows\tFP rows\t\n")
	for _, r := range res {
		fmt.Fprintf(tw, "%s\t%.6g\t%.3f\t%.1f\t%.1f\t%.2f\t%d/%d\t%d\t%d\t\n", r.Profile.Name, r.Threshold, r.Score, r.Null,
			r.Perfect, r.Normalized, r.Detected, r.Windows, r.TP, r.FP)
	}
	tw.Flush()
	fmt.Fprintf(w, "%d files; score = 100·(raw − null)/(perfect − null)\n", files)
	if !perFile {
		return
	}
	for _, r := range res {
		fmt.Fprintf(w, "\n%s (threshold %.6g)\n", r.Profile.Name, r.Threshold)
		fs := append([]eval.FileScore(nil), r.Files...)
		sort.Slice(fs, func(i, j int) bool { return fs[i].Name < fs[j].Name })
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintf(tw, "file\tscore\tTP\tTN\tFP\tFN\trows\n")
		for _, f := range fs {
			fmt.Fprintf(tw, "%s\t%.4f\t%d\t%d\t%d\t%d\t%d\n", f.Name, f.Score, f.TP, f.TN, f.FP, f.FN, f.Rows)
		}
		tw.Flush()
	}
}

func writeNABJSON(w io.Writer, res []eval.ProfileResult, perFile bool) error {
	type fileJSON struct {
		File  string  `json:"file"`
		Score float64 `json:"score"`
		TP    int     `json:"tp"`
		TN    int     `json:"tn"`
		FP    int     `json:"fp"`
		FN    int     `json:"fn"`
		Rows  int     `json:"rows"`
	}
	type profJSON struct {
		Profile   string     `json:"profile"`
		Threshold float64    `json:"threshold"`
		Raw       float64    `json:"raw"`
		Null      float64    `json:"null"`
		Perfect   float64    `json:"perfect"`
		Score     float64    `json:"score"`
		Detected  int        `json:"windows_detected"`
		Windows   int        `json:"windows"`
		Files     []fileJSON `json:"files,omitempty"`
	}
	var out []profJSON
	for _, r := range res {
		p := profJSON{Profile: r.Profile.Name, Threshold: r.Threshold, Raw: r.Score, Null: r.Null, Perfect: r.Perfect,
			Score: r.Normalized, Detected: r.Detected, Windows: r.Windows}
		if perFile {
			for _, f := range r.Files {
				p.Files = append(p.Files, fileJSON{f.Name, f.Score, f.TP, f.TN, f.FP, f.FN, f.Rows})
			}
		}
		out = append(out, p)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}
