package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"winnow/internal/decide/crowdsec"
)

// newDecisions: `winnow decisions key NAME` makes a bouncer API key.
func newDecisions() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "decisions",
		Short: "Blocking decisions served to CrowdSec bouncers (see serve's decisions: section)",
	}
	key := &cobra.Command{
		Use:   "key NAME",
		Short: "Make an API key for a CrowdSec bouncer: prints the key (for the bouncer) and the config entry (its SHA-256)",
		Example: `  winnow decisions key firewall
  # put api_key in /etc/crowdsec/bouncers/crowdsec-firewall-bouncer.yaml.local,
  # the printed entry under decisions.bouncers in winnow.yaml, and reload winnow`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			k, h, err := crowdsec.NewKey()
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "api_key: %s\n\n# winnow.yaml, under decisions.bouncers:\n    - name: %q\n      key_sha256: %s\n", k, args[0], h)
			return nil
		},
	}
	cmd.AddCommand(key)
	return cmd
}
