package main

import (
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"winnow/internal/app"
)

// newScore is 'winnow score', with 'dns' for name lists.
func newScore(ex *exit) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "score",
		Short: "Score items one by one with winnow's models (for evaluation on labelled lists)",
	}
	var o app.ScoreDNSOptions
	dns := &cobra.Command{
		Use:   "dns [flags] FILE|- ...",
		Short: "Score DNS names for tunnelling and DGA: one JSON line per name, in input order",
		Long: `Score dns reads names, one per line (in a CSV line the last field is the
name, so "label,name" files work as they are; .gz is decompressed) and
prints for each, in input order:

  {"name":"…","tunnel":0.97,"dga":0.02,"verdict":"tunnel"}

tunnel is the tunnel score (0–1) of the name on its own, raised to its
registered domain's score when the file's names under that domain are
judged a tunnel together; dga is the DGA score of its registered domain.
The verdict is "tunnel" at tunnel ≥ 0.5, else "dga" at the model's shipped
DGA threshold (1% false positives on benign training names), else
"benign". Each file is scored as one population.`,
		Example: `  winnow score dns names.txt
  cut -d, -f2 labelled.csv | winnow score dns -`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Args = args
			o.Stdin, o.Stdout, o.Stderr = os.Stdin, os.Stdout, os.Stderr
			code, err := app.ScoreDNS(cmd.Context(), o)
			ex.code = code
			return err
		},
	}
	dns.Flags().StringVar(&o.Model, "model", "", "DGA model file (default: the embedded one; see go run ./internal/detect/dns/cmd/builddga)")
	cmd.AddCommand(dns)
	return cmd
}

// newGenerateDNS is 'winnow generate dns'.
func newGenerateDNS() *cobra.Command {
	var o app.GenerateDNSOptions
	var start string
	cmd := &cobra.Command{
		Use:   "dns",
		Short: "Generate a network's DNS traffic (pcap or Zeek dns.log) with a tunnel, a DGA host and a dead beacon",
		Example: `  winnow generate dns -o dns.pcap
  winnow generate dns --queries 1000000 -o dns-1m.pcap
  winnow generate dns --zeek -o dns.log`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if start != "" {
				t, err := time.Parse(time.RFC3339, start)
				if err != nil {
					return app.UsageError{Err: fmt.Errorf("--start %q: want RFC 3339, e.g. 2026-03-02T08:00:00Z", start)}
				}
				o.Start = t
			}
			o.Stdout = os.Stdout
			t, err := app.GenerateDNS(o)
			if err != nil {
				return err
			}
			if o.Out != "" && o.Out != "-" {
				fmt.Fprintf(os.Stderr, "winnow: wrote %d queries (%d packets) to %s; tunnel %s from %s, DGA host %s, dead beacon %s\n",
					t.Queries, t.Packets, o.Out, t.TunnelDomain, t.TunnelClient, t.DGAClient, t.OrphanClient)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVarP(&o.Out, "output", "o", "-", "output file (- = stdout)")
	f.BoolVar(&o.Zeek, "zeek", false, "write a Zeek dns.log (TSV) instead of a pcap")
	f.IntVar(&o.Queries, "queries", 0, "approximate number of queries (0 = a natural 2 hours for 30 clients)")
	f.Int64Var(&o.Seed, "seed", 1, "random seed")
	f.IntVar(&o.Clients, "clients", 0, "benign clients (default 30)")
	f.BoolVar(&o.Upstream, "upstream", false, "also capture the resolver's own queries upstream (a sensor on both sides of the resolver)")
	f.IntVar(&o.Tunnels, "tunnels", 0, "hosts running a DNS tunnel (default 1)")
	f.StringVar(&start, "start", "", "first timestamp, RFC 3339 (default 2026-03-02T08:00:00Z)")
	f.DurationVar(&o.Duration, "duration", 0, "time span (default 2h)")
	return cmd
}
