package main

import (
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"winnow/internal/app"
	"winnow/internal/serve"
)

func newServe(ex *exit) *cobra.Command {
	var path string
	var fresh bool
	var mo modelOpts
	cmd := &cobra.Command{
		Use:   "serve --config FILE",
		Short: "Run as a daemon: follow logs, receive syslog, report findings as they happen",
		Long: `Serve reads live inputs (files followed across rotation, a syslog listener on
UDP, TCP or TLS, the systemd journal), runs the detectors and reports each
finding to the configured sinks (JSON Lines, webhook, syslog/CEF) as soon as
its evidence is complete, then again while the incident grows. State and
input positions are kept in the data directory across restarts. Prometheus
metrics, /healthz and /readyz are served on 127.0.0.1:9464 by default.

SIGHUP reloads detector parameters, indicator lists and allowlists;
SIGTERM drains (findings flushed, state saved, positions committed).
See deploy/winnow.yaml for a commented configuration.`,
		Example: `  winnow config check /etc/winnow/winnow.yaml
  winnow serve --config /etc/winnow/winnow.yaml`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if path == "" {
				return app.UsageError{Err: fmt.Errorf("--config is required")}
			}
			cfg, err := serve.LoadConfig(path, os.Environ())
			if err != nil {
				ex.code = app.ExitUsage
				return err
			}
			log := slog.New(slog.NewTextHandler(os.Stderr, nil))
			newRegistry, closeModels, err := mo.registry()
			if err != nil {
				ex.code = app.ExitUsage
				return err
			}
			defer closeModels()
			d, err := serve.New(serve.Options{Config: cfg, NewRegistry: newRegistry, Formats: app.NewFormats(),
				Version: version, Stdout: os.Stdout, Log: log, FreshState: fresh,
				Reload: func() (*serve.Config, error) { return serve.LoadConfig(path, os.Environ()) }})
			if err != nil {
				ex.code = app.ExitUsage
				return err
			}
			hup := make(chan os.Signal, 1)
			signal.Notify(hup, syscall.SIGHUP)
			defer signal.Stop(hup)
			if err := d.Run(cmd.Context(), hup); err != nil {
				ex.code = app.ExitInputErr
				return err
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&path, "config", "", "configuration file (YAML; see deploy/winnow.yaml)")
	cmd.Flags().BoolVar(&fresh, "fresh-state", false, "set an unreadable state snapshot aside and start over")
	mo.flags(cmd)
	return cmd
}

func newConfig(ex *exit) *cobra.Command {
	cmd := &cobra.Command{Use: "config", Short: "Check a serve configuration"}
	check := &cobra.Command{
		Use:   "check FILE",
		Short: "Check a configuration file: every problem is reported with its line",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := serve.LoadConfig(args[0], os.Environ())
			if err == nil {
				_, err = serve.EnabledDetectors(cfg, app.NewRegistry)
			}
			if err != nil {
				ex.code = app.ExitUsage
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: ok\n", args[0])
			return nil
		},
	}
	cmd.AddCommand(check)
	return cmd
}
