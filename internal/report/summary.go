package report

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"winnow/internal/event"
	"winnow/internal/pipeline"
	"winnow/internal/textsafe"
)

// Summary writes the end-of-run lines (for stderr): one line of totals,
// then per-input problems with file:line samples, then detector state that
// was shed because of caps.
func Summary(w io.Writer, res *pipeline.Result, incidents []event.Incident, nFindings int) {
	secs := res.Elapsed.Seconds()
	rate := 0.0
	if secs > 0 {
		rate = float64(res.Lines) / secs
	}
	strong := 0
	for i := range incidents {
		if incidents[i].Severity >= event.SeverityMedium {
			strong++
		}
	}
	found := fmt.Sprintf("%d findings in %d incidents (%d at medium or above)", nFindings, len(incidents), strong)
	if res.Records > 0 {
		// Packets are not lines: say both, and rate the lines alone.
		fmt.Fprintf(w, "winnow: %s lines, %s packets, %s events, %s malformed, %s, %.2fs, %s lines/s\n",
			group(res.Lines), group(res.Records), group(res.Events), group(res.Malformed), found, secs, group(int64(rate)))
	} else {
		fmt.Fprintf(w, "winnow: %s lines, %s events, %s malformed, %s, %.2fs, %s lines/s\n",
			group(res.Lines), group(res.Events), group(res.Malformed), found, secs, group(int64(rate)))
	}
	for _, in := range res.Inputs {
		writeInput(w, &in)
	}
	writeShed(w, res)
	writeUnfamiliar(w, res)
}

// writeUnfamiliar warns about trained models applied to data unlike their
// training data: most events examined were mostly unknown tokens.
func writeUnfamiliar(w io.Writer, res *pipeline.Result) {
	names := make([]string, 0, len(res.Detectors))
	for n, st := range res.Detectors {
		if st.Examined > 0 && 2*st.Unfamiliar > st.Examined {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	for _, n := range names {
		st := res.Detectors[n]
		fmt.Fprintf(w, "winnow: warning: %s: %d%% of the events checked were mostly made of tokens its model never saw in training: "+
			"the model was probably trained on other data (another site), and its verdicts here rest on priors, not evidence; train it on this data ('winnow train')\n",
			n, 100*st.Unfamiliar/st.Examined)
	}
}

func writeInput(w io.Writer, in *pipeline.InputStats) {
	if in.Err != nil {
		fmt.Fprintf(w, "winnow: error: %v\n", in.Err)
	}
	if in.Note != "" {
		fmt.Fprintf(w, "winnow: note: %s\n", in.Note)
	}
	for _, m := range in.Warnings {
		fmt.Fprintf(w, "winnow: warning: %s\n", m)
	}
	var notes []string
	if in.Malformed > 0 {
		notes = append(notes, fmt.Sprintf("%s malformed lines skipped", group(in.Malformed)))
	}
	if in.Truncated > 0 {
		notes = append(notes, fmt.Sprintf("%s over-long lines truncated", group(in.Truncated)))
	}
	if in.Junk > 0 {
		notes = append(notes, fmt.Sprintf("%s binary lines skipped", group(in.Junk)))
	}
	if in.Binary > 0 {
		notes = append(notes, fmt.Sprintf("%s lines with binary bytes", group(in.Binary)))
	}
	if in.RepeatCapped > 0 {
		notes = append(notes, fmt.Sprintf("%s repeats not expanded (cap)", group(in.RepeatCapped)))
	}
	if in.Format == "empty" {
		notes = append(notes, "empty input")
	}
	for _, k := range pipeline.DetailNames(in.Detail) {
		if n := in.Detail[k]; n > 0 {
			notes = append(notes, fmt.Sprintf("%s %s", group(n), strings.ReplaceAll(k, "_", " ")))
		}
	}
	if len(notes) == 0 {
		return
	}
	fmt.Fprintf(w, "winnow: %s (%s): %s\n", in.Name, in.Format, strings.Join(notes, ", "))
	for _, s := range in.Samples {
		fmt.Fprintf(w, "    %s:%d: %s\n", s.File, s.Line, textsafe.Terminal(s.Text))
	}
}

func writeShed(w io.Writer, res *pipeline.Result) {
	names := make([]string, 0, len(res.Detectors))
	for n, st := range res.Detectors {
		if st.Shed > 0 || st.Deferred > 0 {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	for _, n := range names {
		st := res.Detectors[n]
		var what []string
		if st.Shed > 0 {
			what = append(what, group(st.Shed)+" entities shed")
		}
		if st.Deferred > 0 {
			what = append(what, group(st.Deferred)+" new sightings not tracked")
		}
		limit := st.Limit
		if limit == "" {
			limit = "max_entities"
		}
		fmt.Fprintf(w, "winnow: %s: state cap reached: %s (raise --set %s.%s=N, a per-worker cap; see 'winnow detectors')\n",
			n, strings.Join(what, ", "), n, limit)
	}
}

// group formats n with thousands separators.
func group(n int64) string {
	s := fmt.Sprint(n)
	if n < 0 {
		return s
	}
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}
