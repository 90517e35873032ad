package app

import (
	"time"

	"github.com/schollz/progressbar/v3"

	"winnow/internal/pipeline"
)

// startProgress shows a progress bar of bytes read on stderr when stderr is
// a terminal and the input is large (or --progress always). It returns a
// function that stops and clears the bar.
func startProgress(o AnalyzeOptions, p *pipeline.Pipeline) func() {
	_, total := p.Progress()
	show := false
	switch o.Progress {
	case "always":
		show = total > 0
	case "never":
	default:
		show = o.StderrTTY && total >= progressThreshold
	}
	if !show {
		return func() {}
	}
	bar := progressbar.NewOptions64(total,
		progressbar.OptionSetWriter(o.Stderr),
		progressbar.OptionSetDescription("reading"),
		progressbar.OptionShowBytes(true),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionClearOnFinish(),
		progressbar.OptionSetWidth(30),
	)
	// Start the bar's clock now: its first rate is bytes over the time
	// since its first render, which without this is the first tick's
	// (megabytes over microseconds: "1.2 TB/s").
	_ = bar.RenderBlank()
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				d, _ := p.Progress()
				_ = bar.Set64(d)
				_ = bar.Finish()
				_ = bar.Clear()
				return
			case <-t.C:
				d, _ := p.Progress()
				_ = bar.Set64(d)
			}
		}
	}()
	return func() {
		close(done)
		<-stopped
	}
}
