package main

import (
	"github.com/spf13/cobra"

	"winnow/internal/app"
)

// stateFlags adds --state and its companions (analyze for cron users).
func stateFlags(cmd *cobra.Command, o *app.StateOptions) {
	f := cmd.Flags()
	f.StringVar(&o.State, "state", "", "keep detector state, input positions and reported incidents in this directory: the next run reads only what is new, with the baselines learned so far, and reports only new or grown incidents (see docs/format/state.md)")
	f.BoolVar(&o.FreshState, "fresh-state", false, "with --state: set the saved state aside (state.snap.discarded) and start over")
	f.Int64Var(&o.CheckpointEvery, "checkpoint-every", app.DefaultCheckpointEvery, "with --state: save the state every N events while reading, so a killed run loses little (0 = only at the end; always only at the end with --archive)")
}
