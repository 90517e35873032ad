package main

import (
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"winnow/internal/app"
)

// newGenerateWeb is 'winnow generate web'.
func newGenerateWeb() *cobra.Command {
	var o app.GenerateWebOptions
	var start, truth string
	cmd := &cobra.Command{
		Use:   "web",
		Short: "Generate a web shop's access log (combined format) with attacks embedded",
		Long: `Generate a day of a web shop's access log: visitors, Googlebot and Bingbot,
SEO crawlers, load-balancer health checks, an uptime monitor, a busy API client
and Internet background noise, with attacks embedded (a Nikto wordlist scan,
SQL injection, traversal/command/Log4Shell attempts, credential stuffing, an
HTTP Basic brute force, an HTTP flood and a web shell). Deterministic for a
seed; --truth writes the ground truth as JSON.`,
		Example: `  winnow generate web -o access.log --truth truth.json
  winnow generate web --lines 1000000 -o web-1m.log`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if start != "" {
				t, err := time.Parse(time.RFC3339, start)
				if err != nil {
					return app.UsageError{Err: fmt.Errorf("--start %q: want RFC 3339, e.g. 2026-11-21T00:00:00Z", start)}
				}
				o.Start = t
			}
			o.Stdout = os.Stdout
			t, err := app.GenerateWeb(o)
			if err != nil {
				return err
			}
			if truth != "" {
				b, err := json.MarshalIndent(t, "", "  ")
				if err != nil {
					return err
				}
				if err := os.WriteFile(truth, append(b, '\n'), 0o644); err != nil {
					return fmt.Errorf("cannot write %s: %w", truth, err)
				}
			}
			if o.Out != "" && o.Out != "-" {
				fmt.Fprintf(os.Stderr, "winnow: wrote %d lines to %s (%d attacks embedded)\n", t.Lines, o.Out, len(t.Attacks))
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVarP(&o.Out, "output", "o", "-", "output file (- = stdout)")
	f.IntVar(&o.Lines, "lines", 0, "approximate number of lines (0 = a natural day, ≈190k)")
	f.Int64Var(&o.Seed, "seed", 1, "random seed")
	f.StringVar(&start, "start", "", "first timestamp, RFC 3339 (default 2026-11-21T00:00:00Z)")
	f.DurationVar(&o.Duration, "duration", 0, "time span (default 24h)")
	f.StringVar(&o.ScannerIP, "scanner-ip", "", "address of the wordlist scanner (default 45.155.205.233)")
	f.StringVar(&o.Site, "site", "", "write vhost_combined lines for this site name")
	f.BoolVar(&o.Hard, "hard", false, "also embed what fixed bars miss: six aggressive crawlers (125–450 requests in 15–60 s) and eleven bots probing one known vulnerability with 3–4 requests")
	f.StringVar(&truth, "truth", "", "write the ground truth (JSON) to this file")
	return cmd
}
