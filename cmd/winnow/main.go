// Command winnow is the one binary; main only parses flags and wires packages.
package main

import (
	"os"

	"github.com/spf13/cobra"
)

func main() {
	root := &cobra.Command{Use: "winnow"}
	if err := root.Execute(); err != nil {
		os.Exit(2)
	}
}
