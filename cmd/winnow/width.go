package main

import (
	"os"
	"strconv"

	"golang.org/x/term"
)

// termWidth is the text report's width: the terminal's when stdout is
// one, else $COLUMNS, else 0 (the report's default).
func termWidth(tty bool) int {
	if tty {
		if w, _, err := term.GetSize(int(os.Stdout.Fd())); err == nil && w > 0 {
			return w
		}
	}
	if n, err := strconv.Atoi(os.Getenv("COLUMNS")); err == nil && n > 0 {
		return n
	}
	return 0
}
