package main

import (
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"

	"github.com/spf13/cobra"
)

// profileFlags adds --cpuprofile and --memprofile to cmd (hidden: they are
// for performance work) and returns start/stop functions wrapping the run.
func profileFlags(cmd *cobra.Command) (start func() error, stop func()) {
	var cpu, mem string
	cmd.Flags().StringVar(&cpu, "cpuprofile", "", "write a CPU profile to this file")
	cmd.Flags().StringVar(&mem, "memprofile", "", "write a heap profile to this file at the end")
	_ = cmd.Flags().MarkHidden("cpuprofile")
	_ = cmd.Flags().MarkHidden("memprofile")
	var cpuFile *os.File
	start = func() error {
		if cpu == "" {
			return nil
		}
		f, err := os.Create(cpu)
		if err != nil {
			return fmt.Errorf("cannot create CPU profile: %w", err)
		}
		cpuFile = f
		return pprof.StartCPUProfile(f)
	}
	stop = func() {
		if cpuFile != nil {
			pprof.StopCPUProfile()
			_ = cpuFile.Close()
		}
		if mem != "" {
			f, err := os.Create(mem)
			if err != nil {
				fmt.Fprintf(os.Stderr, "winnow: cannot create heap profile: %v\n", err)
				return
			}
			runtime.GC()
			_ = pprof.WriteHeapProfile(f)
			_ = f.Close()
		}
	}
	return start, stop
}
