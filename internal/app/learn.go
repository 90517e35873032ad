package app

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"time"

	"winnow/internal/detect"
	"winnow/internal/detect/bayes"
	"winnow/internal/eval"
	"winnow/internal/event"
	"winnow/internal/parse"
	"winnow/internal/parse/access"
	"winnow/internal/parse/httpraw"
	"winnow/internal/pipeline"
	"winnow/internal/source"
)

// This file: 'winnow train', 'winnow score http', 'winnow feedback' and
// the --model option of analyze (the Bayesian good/bad filter, package
// detect/bayes). 'winnow learn' is in learnstream.go.

// registerModels loads model files and registers their "bayes.<kind>"
// detectors into reg (for analyze --model).
func registerModels(reg *detect.Registry, paths []string, site string, stderr io.Writer) error {
	seen := map[bayes.Kind]string{}
	for _, p := range paths {
		if compiled, err := isCompiledModel(p); err != nil {
			return err
		} else if compiled {
			if err := registerCompiled(reg, p, site, stderr); err != nil {
				return err
			}
			continue
		}
		m, err := bayes.Load(p)
		if err != nil {
			return err
		}
		if prev, dup := seen[m.Kind]; dup {
			return fmt.Errorf("--model %s: a %s model was already given (%s); give one model per kind", p, m.Kind, prev)
		}
		seen[m.Kind] = p
		if err := reg.Register(bayes.Spec(m)); err != nil {
			return err
		}
	}
	return nil
}

// item is one thing a model scores, read from an input.
type item struct {
	source string // the input's name as given
	index  int64  // 0-based position among the input's items
	line   int64  // 1-based line (request line for raw HTTP)
	ev     *event.Event
	req    *httpraw.Request // raw HTTP requests
	name   string           // DNS name lists
	label  string           // DNS name lists with a "label,name" layout: the label field
}

// tokens fills tok with the item's tokens for kind k; false when the item
// has none for that kind.
func (it *item) tokens(k bayes.Kind, tok *bayes.Tokens) bool {
	tok.Reset()
	switch {
	case it.req != nil:
		r := bayes.HTTPFromRaw(it.req)
		tok.HTTP(&r)
		return true
	case it.ev != nil:
		return tok.Event(k, it.ev)
	case it.name != "":
		tok.DNSName(it.name, "")
		return true
	}
	return false
}

// readOpts configure how inputs are read.
type readOpts struct {
	Year  int
	TZ    string
	Stdin io.Reader
}

func (o readOpts) parseOptions() (parse.Options, error) {
	loc := time.Local
	if o.TZ != "" {
		l, err := time.LoadLocation(o.TZ)
		if err != nil {
			return parse.Options{}, usagef("--tz %q: %v", o.TZ, err)
		}
		loc = l
	}
	return parse.Options{Year: o.Year, Location: loc}, nil
}

// itemStats count what reading an input produced.
type itemStats struct {
	items, skipped, malformed int64
	format                    string
}

// eachItem reads the items of one input for kind k and calls fn for each,
// in input order.
func eachItem(ctx context.Context, k bayes.Kind, in source.Input, o readOpts, fn func(*item) error) (itemStats, error) {
	po, err := o.parseOptions()
	if err != nil {
		return itemStats{}, err
	}
	if k == bayes.KindHTTP {
		return eachHTTP(in, o.Stdin, po, fn)
	}
	var st itemStats
	var n int64
	var ferr error
	cfg := pipeline.Config{
		Inputs:  []source.Input{in},
		Stdin:   o.Stdin,
		Formats: NewFormats(),
		Parse:   po,
		Workers: 1,
		Sink: func(evs []event.Event) error {
			for i := range evs {
				ev := &evs[i]
				if (k == bayes.KindAuth && ev.Kind != event.KindAuth) || (k == bayes.KindDNS && ev.DNS == nil) {
					st.skipped++
					continue
				}
				e := *ev
				e.Raw = append([]byte(nil), ev.Raw...)
				e.Msg = nil
				if len(ev.Msg) > 0 {
					e.Msg = append([]byte(nil), ev.Msg...)
				}
				it := &item{source: in.Name, index: n, line: ev.Ref.Line, ev: &e}
				n++
				st.items++
				if ferr = fn(it); ferr != nil {
					return ferr
				}
			}
			return nil
		},
	}
	p, err := pipeline.New(cfg)
	if err != nil {
		return st, err
	}
	res, err := p.Run(ctx, func(event.Alert) {})
	if ferr != nil {
		return st, ferr
	}
	if err != nil {
		return st, err
	}
	if len(res.Inputs) > 0 {
		is := res.Inputs[0]
		st.format = is.Format
		st.malformed = is.Malformed
		if is.Err != nil {
			if k == bayes.KindDNS && errors.Is(is.Err, parse.ErrUnknownFormat) && st.items == 0 {
				return eachName(in, o.Stdin, fn)
			}
			return st, is.Err
		}
	}
	return st, nil
}

// eachName reads a list of DNS names, one per line; in a CSV line the last
// field is the name and the first the label ("label,name" files).
func eachName(in source.Input, stdin io.Reader, fn func(*item) error) (itemStats, error) {
	st := itemStats{format: "names"}
	r, err := source.Open(in, stdin, source.Options{})
	if err != nil {
		return st, err
	}
	defer r.Close()
	if err := r.CheckText(); err != nil {
		return st, err
	}
	for {
		ch, err := r.Next()
		if ch != nil {
			for _, l := range ch.Lines {
				text := strings.TrimSpace(strings.TrimPrefix(string(l.B), "\ufeff"))
				if text == "" || strings.HasPrefix(text, "#") {
					continue
				}
				name, label := text, ""
				if c := strings.LastIndexByte(text, ','); c >= 0 {
					name = strings.TrimSpace(text[c+1:])
					label = strings.TrimSpace(text[:strings.IndexByte(text, ',')])
				}
				if name == "" || strings.ContainsAny(name, " \t") {
					st.malformed++
					continue
				}
				it := &item{source: in.Name, index: st.items, line: l.N, name: strings.ToLower(strings.TrimSuffix(name, ".")), label: label}
				st.items++
				if err := fn(it); err != nil {
					return st, err
				}
			}
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				return st, nil
			}
			return st, err
		}
	}
}

// eachHTTP reads raw HTTP requests (CSIC format) or access-log lines,
// sniffed from the first non-blank line. Access-log lines that do not
// parse are scored as invalid requests (their text as the path), so that
// every non-blank line is an item.
func eachHTTP(in source.Input, stdin io.Reader, po parse.Options, fn func(*item) error) (itemStats, error) {
	var st itemStats
	r, err := source.Open(in, stdin, source.Options{})
	if err != nil {
		return st, err
	}
	if err := r.CheckText(); err != nil {
		r.Close()
		return st, err
	}
	rc := &lineReadCloser{r: r}
	defer rc.Close()
	po.ModTime = in.ModTime
	br := bufio.NewReaderSize(rc, 1<<16)
	head, _ := br.Peek(4096)
	first := head
	for len(first) > 0 && (first[0] == '\n' || first[0] == '\r' || first[0] == ' ') {
		first = first[1:]
	}
	if i := bytes.IndexAny(first, "\r\n"); i >= 0 {
		first = first[:i]
	}
	if httpraw.IsRequestLine(first) {
		st.format = "raw-http"
		rr := httpraw.NewReader(br)
		for {
			req, err := rr.Next()
			if err != nil {
				st.malformed = rr.Stats().Malformed
				if errors.Is(err, io.EOF) {
					return st, nil
				}
				return st, err
			}
			it := &item{source: in.Name, index: st.items, line: req.Line, req: req}
			st.items++
			if err := fn(it); err != nil {
				return st, err
			}
		}
	}
	st.format = "access"
	p := access.New(po)
	sc := bufio.NewScanner(br)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	var lineNo int64
	for sc.Scan() {
		lineNo++
		line := bytes.TrimRight(sc.Bytes(), "\r")
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		raw := append([]byte(nil), line...)
		ev := &event.Event{Ref: event.Ref{File: in.Name, Line: lineNo}}
		if err := p.Parse(raw, ev); err != nil {
			st.malformed++
			*ev = event.Event{Kind: event.KindHTTP, Ref: event.Ref{File: in.Name, Line: lineNo}, Raw: raw,
				HTTP: &event.HTTP{Invalid: true, Path: string(raw), PathDecoded: string(raw), Bytes: -1}}
		}
		it := &item{source: in.Name, index: st.items, line: lineNo, ev: ev}
		st.items++
		if err := fn(it); err != nil {
			return st, err
		}
	}
	return st, sc.Err()
}

// lineReadCloser turns a source.Reader (lines, gzip-aware) back into a
// byte stream with LF line ends.
type lineReadCloser struct {
	r    *source.Reader
	buf  []byte
	done bool
	err  error
}

func (l *lineReadCloser) Read(p []byte) (int, error) {
	for len(l.buf) == 0 {
		if l.done {
			return 0, l.err
		}
		ch, err := l.r.Next()
		if ch != nil {
			for _, ln := range ch.Lines {
				l.buf = append(l.buf, ln.B...)
				l.buf = append(l.buf, '\n')
			}
		}
		if err != nil {
			l.done, l.err = true, err
		}
	}
	n := copy(p, l.buf)
	l.buf = l.buf[n:]
	return n, nil
}

func (l *lineReadCloser) Close() error { return l.r.Close() }

// TrainOptions configure 'winnow train'.
type TrainOptions struct {
	Kind          string
	Good, Bad     []string // files, globs, directories
	BadAfter      string   // RFC 3339: events of the good inputs at or after it are bad
	Host          string   // with BadAfter: only events logged by this host (or for this web site) turn bad
	CostBlockGood float64
	CostMissBad   float64
	Validation    float64 // share held out to choose the threshold
	Seed          uint64
	Plot          string // directory for roc.png and cost.png
	Out           string
	Year          int
	TZ            string
	Stdin         io.Reader
	Stdout        io.Writer
	Stderr        io.Writer
}

// Train learns a model and writes it.
func Train(ctx context.Context, o TrainOptions) (int, error) {
	k, err := bayes.ParseKind(o.Kind)
	if err != nil {
		return ExitUsage, UsageError{err}
	}
	if o.Out == "" {
		return ExitUsage, usagef("-o: give the model file to write")
	}
	if len(o.Good) == 0 {
		return ExitUsage, usagef("--good: give known-good inputs")
	}
	if len(o.Bad) == 0 && o.BadAfter == "" {
		return ExitUsage, usagef("give known-bad inputs (--bad) or a break-in time (--bad-after)")
	}
	if o.Host != "" && o.BadAfter == "" {
		return ExitUsage, usagef("--host needs --bad-after")
	}
	var badAfter time.Time
	if o.BadAfter != "" {
		if badAfter, err = time.Parse(time.RFC3339, o.BadAfter); err != nil {
			return ExitUsage, usagef("--bad-after %q: want RFC 3339, e.g. 2026-11-21T14:05:00Z", o.BadAfter)
		}
	}
	if !(o.Validation >= 0 && o.Validation < 1) {
		return ExitUsage, usagef("--validation %v: want a share in [0, 1)", o.Validation)
	}
	costs := eval.Costs{BlockGood: o.CostBlockGood, MissBad: o.CostMissBad}
	if !(costs.BlockGood > 0) || !(costs.MissBad > 0) || math.IsInf(costs.BlockGood, 0) || math.IsInf(costs.MissBad, 0) {
		return ExitUsage, usagef("--cost-block-good and --cost-miss-bad must be positive")
	}
	tr := bayes.NewTrainer(k, bayes.Split{Seed: o.Seed, Fraction: o.Validation})
	tr.KeepText = true
	tok := bayes.NewTokens()
	tok.Verbose = true
	ro := readOpts{Year: o.Year, TZ: o.TZ, Stdin: o.Stdin}
	var read, labelled [2]int64
	for pass, args := range [][]string{o.Good, o.Bad} {
		inputs, errs := source.Expand(args)
		if len(errs) > 0 {
			return ExitInputErr, errs[0]
		}
		for _, in := range inputs {
			st, err := eachItem(ctx, k, in, ro, func(it *item) error {
				if !it.tokens(k, tok) {
					return nil
				}
				bad := pass == 1
				if !bad && !badAfter.IsZero() && it.ev != nil && !it.ev.Time.Before(badAfter) &&
					(o.Host == "" || it.ev.Host == o.Host || (it.ev.HTTP != nil && it.ev.HTTP.Site == o.Host)) {
					bad = true
				}
				b := 0
				if bad {
					b = 1
				}
				labelled[b]++
				tr.Add(it.source, it.index, tok, bad)
				return nil
			})
			if err != nil {
				return ExitInputErr, fmt.Errorf("cannot read %s: %w", in.Name, err)
			}
			read[pass] += st.items
			fmt.Fprintf(o.Stderr, "winnow: %s: %d items (%s)", in.Name, st.items, st.format)
			if st.malformed > 0 {
				fmt.Fprintf(o.Stderr, ", %d malformed", st.malformed)
			}
			fmt.Fprintln(o.Stderr)
		}
	}
	rep, err := tr.Finish(costs)
	if err != nil {
		return ExitInputErr, err
	}
	m := tr.Model
	writeTrainReport(o.Stdout, k, rep, m)
	if o.Plot != "" {
		if err := plotTraining(o.Plot, k, rep); err != nil {
			return ExitInputErr, err
		}
		fmt.Fprintf(o.Stdout, "plots: %s/roc.png, %s/cost.png\n", o.Plot, o.Plot)
	}
	if err := m.Save(o.Out); err != nil {
		return ExitInputErr, err
	}
	fi, _ := os.Stat(o.Out)
	size := int64(0)
	if fi != nil {
		size = fi.Size()
	}
	fmt.Fprintf(o.Stdout, "wrote %s (%s model, %d tokens, %d bytes)\n", o.Out, k, m.Tokens(), size)
	return ExitOK, nil
}

func writeTrainReport(w io.Writer, k bayes.Kind, rep *bayes.Report, m *bayes.Model) {
	fmt.Fprintf(w, "trained a %s model on %d good and %d bad items (%d distinct tokens)\n", k, rep.TrainGood, rep.TrainBad, rep.Tokens)
	if rep.Points == nil {
		fmt.Fprintf(w, "no validation split with both classes (--validation 0 or too little data): threshold %.4f (default)\n", m.Threshold)
		return
	}
	final := eval.At(rep.Scores, rep.Labels, rep.Threshold)
	fmt.Fprintf(w, "validation: %d good, %d bad items held out; ROC AUC %.5f\n", rep.ValGood, rep.ValBad, rep.AUC)
	fmt.Fprintf(w, "costs: blocking a good item %g, missing a bad item %g\n", rep.Costs.BlockGood, rep.Costs.MissBad)
	fmt.Fprintf(w, "operating point: threshold %.6f — %.2f%% of bad caught (TPR), %.3f%% of good blocked (FPR), validation cost %g\n",
		rep.Threshold, 100*final.TPR(), 100*final.FPR(), final.Cost(rep.Costs))
	fmt.Fprintf(w, "confusion matrix (validation, at the threshold):\n%v\n", final)
	if len(rep.TopBad) > 0 {
		fmt.Fprintln(w, "strongest bad tokens:")
		for _, t := range rep.TopBad[:min(10, len(rep.TopBad))] {
			fmt.Fprintf(w, "  %.4f  %-16s %-40q good %d, bad %d\n", t.Prob, t.Class, clipToken(t.Token, 40), t.Good, t.Bad)
		}
	}
	if len(rep.TopGood) > 0 {
		fmt.Fprintln(w, "strongest good tokens:")
		for _, t := range rep.TopGood[:min(10, len(rep.TopGood))] {
			fmt.Fprintf(w, "  %.4f  %-16s %-40q good %d, bad %d\n", t.Prob, t.Class, clipToken(t.Token, 40), t.Good, t.Bad)
		}
	}
}

func clipToken(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// ScoreHTTPOptions configure 'winnow score http'.
type ScoreHTTPOptions struct {
	Model  string
	Args   []string
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
}

// ScoreHTTP prints one JSON line per request, in input order:
// {"index":0,"score":0.0012,"verdict":"good"}. index counts requests from
// 0 across all inputs.
func ScoreHTTP(ctx context.Context, o ScoreHTTPOptions) (int, error) {
	m, err := loadModel(o.Model, bayes.KindHTTP)
	if err != nil {
		return ExitUsage, err
	}
	if len(o.Args) == 0 {
		return ExitUsage, usagef("no input: give files of raw HTTP requests or access-log lines, or - for stdin")
	}
	inputs, errs := source.Expand(o.Args)
	for _, err := range errs {
		fmt.Fprintf(o.Stderr, "winnow: error: %v\n", err)
	}
	bw := bufio.NewWriterSize(o.Stdout, 1<<16)
	tok := bayes.NewTokens()
	var idx int64
	code := ExitOK
	if len(errs) > 0 {
		code = ExitInputErr
	}
	buf := make([]byte, 0, 64)
	for _, in := range inputs {
		if err := ctx.Err(); err != nil {
			return ExitInputErr, err
		}
		st, err := eachItem(ctx, bayes.KindHTTP, in, readOpts{Stdin: o.Stdin}, func(it *item) error {
			it.tokens(bayes.KindHTTP, tok)
			s := m.Score(tok)
			v := "good"
			if m.IsBad(s) {
				v = "bad"
			}
			buf = append(buf[:0], `{"index":`...)
			buf = strconv.AppendInt(buf, idx, 10)
			buf = append(buf, `,"score":`...)
			buf = strconv.AppendFloat(buf, s, 'g', 8, 64)
			buf = append(buf, `,"verdict":"`...)
			buf = append(buf, v...)
			buf = append(buf, "\"}\n"...)
			idx++
			_, err := bw.Write(buf)
			return err
		})
		if err != nil {
			fmt.Fprintf(o.Stderr, "winnow: error: %s: %v\n", in.Name, err)
			code = ExitInputErr
		}
		if st.malformed > 0 {
			fmt.Fprintf(o.Stderr, "winnow: %s: %d lines did not parse (scored as invalid requests)\n", in.Name, st.malformed)
		}
	}
	if err := bw.Flush(); err != nil {
		return ExitInputErr, fmt.Errorf("cannot write: %w", err)
	}
	return code, nil
}

func loadModel(path string, want bayes.Kind) (*bayes.Model, error) {
	if path == "" {
		return nil, usagef("--model: give a model file (see 'winnow train')")
	}
	m, err := bayes.Load(path)
	if err != nil {
		return nil, UsageError{err}
	}
	if want != 0 && m.Kind != want {
		return nil, usagef("--model %s is a %s model, not %s", path, m.Kind, want)
	}
	return m, nil
}

// FeedbackOptions configure 'winnow feedback'.
type FeedbackOptions struct {
	Model     string
	Good, Bad []string // selectors: FILE, FILE:LINE, FILE:FROM-TO
	Findings  string   // analyze --format json output
	Verdict   string   // good or bad, for Findings
	Out       string   // "" = update Model in place
	Year      int
	TZ        string
	Stdin     io.Reader
	Stdout    io.Writer
	Stderr    io.Writer
}

// selector is FILE with an optional line range.
type selector struct {
	file     string
	from, to int64 // 0, 0 = every item
}

func parseSelector(s string) (selector, error) {
	if _, err := os.Stat(s); err == nil {
		return selector{file: s}, nil
	}
	i := strings.LastIndexByte(s, ':')
	if i <= 0 {
		return selector{file: s}, nil
	}
	file, rng := s[:i], s[i+1:]
	lo, hi, isRange := strings.Cut(rng, "-")
	a, err1 := strconv.ParseInt(lo, 10, 64)
	b := a
	var err2 error
	if isRange {
		b, err2 = strconv.ParseInt(hi, 10, 64)
	}
	if err1 != nil || err2 != nil || a < 1 || b < a {
		return selector{}, usagef("selector %q: want FILE, FILE:LINE or FILE:FROM-TO (1-based lines)", s)
	}
	return selector{file: file, from: a, to: b}, nil
}

// findingSelectors reads analyze's JSON output and returns the event
// selectors of every bayes finding (evidence.event_ids) and the evidence
// samples of the others. With --min-severity info the output holds every
// finding after its incident: then the finding documents are used (an
// incident document repeats its strongest finding's evidence).
func findingSelectors(path string) ([]selector, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read findings: %w", err)
	}
	type findingDoc struct {
		Winnow struct {
			Record   string         `json:"record"`
			Evidence map[string]any `json:"evidence"`
			Samples  []event.Sample `json:"samples"`
		} `json:"winnow"`
	}
	var docs []findingDoc
	findings := false
	for n, line := range bytes.Split(b, []byte("\n")) {
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var doc findingDoc
		if err := json.Unmarshal(line, &doc); err != nil {
			return nil, fmt.Errorf("%s:%d: not a finding: %w", path, n+1, err)
		}
		findings = findings || doc.Winnow.Record == "finding"
		docs = append(docs, doc)
	}
	var out []selector
	for _, doc := range docs {
		if findings && doc.Winnow.Record != "finding" {
			continue
		}
		ids, _ := doc.Winnow.Evidence["event_ids"].([]any)
		for _, id := range ids {
			if s, ok := id.(string); ok {
				sel, err := parseSelector(s)
				if err != nil {
					return nil, err
				}
				out = append(out, sel)
			}
		}
		if len(ids) == 0 {
			for _, s := range doc.Winnow.Samples {
				out = append(out, selector{file: s.File, from: s.Line, to: s.Line})
			}
		}
	}
	return out, nil
}

// Feedback trains a model further on items an analyst labelled.
func Feedback(ctx context.Context, o FeedbackOptions) (int, error) {
	m, err := loadModel(o.Model, 0)
	if err != nil {
		return ExitUsage, err
	}
	type labelled struct {
		sel selector
		bad bool
	}
	var sels []labelled
	for pass, list := range [][]string{o.Good, o.Bad} {
		for _, s := range list {
			sel, err := parseSelector(s)
			if err != nil {
				return ExitUsage, err
			}
			sels = append(sels, labelled{sel, pass == 1})
		}
	}
	if o.Findings != "" {
		if o.Verdict != "good" && o.Verdict != "bad" {
			return ExitUsage, usagef("--verdict: want good or bad for the findings in %s", o.Findings)
		}
		fs, err := findingSelectors(o.Findings)
		if err != nil {
			return ExitUsage, UsageError{err}
		}
		for _, s := range fs {
			sels = append(sels, labelled{s, o.Verdict == "bad"})
		}
	} else if o.Verdict != "" {
		return ExitUsage, usagef("--verdict needs --findings")
	}
	if len(sels) == 0 {
		return ExitUsage, usagef("nothing to learn: give --good/--bad selectors or --findings with --verdict")
	}
	// Group selectors by file so each file is read once.
	byFile := map[string][]labelled{}
	var files []string
	for _, s := range sels {
		if _, ok := byFile[s.sel.file]; !ok {
			files = append(files, s.sel.file)
		}
		byFile[s.sel.file] = append(byFile[s.sel.file], s)
	}
	tok := bayes.NewTokens()
	var learned [2]int
	var before, after [2]float64
	type done struct {
		h   []uint64
		c   []bayes.Class
		g   []uint8
		bad bool
	}
	var items []done
	for _, f := range files {
		inputs, errs := source.Expand([]string{f})
		if len(errs) > 0 {
			return ExitInputErr, errs[0]
		}
		for _, in := range inputs {
			_, err := eachItem(ctx, m.Kind, in, readOpts{Year: o.Year, TZ: o.TZ, Stdin: o.Stdin}, func(it *item) error {
				for _, l := range byFile[f] {
					if l.sel.from != 0 && (it.line < l.sel.from || it.line > l.sel.to) {
						continue
					}
					if !it.tokens(m.Kind, tok) {
						return nil
					}
					items = append(items, done{append([]uint64(nil), tok.Hashes...), append([]bayes.Class(nil), tok.Classes...), append([]uint8(nil), tok.Groups...), l.bad})
					return nil
				}
				return nil
			})
			if err != nil {
				return ExitInputErr, fmt.Errorf("cannot read %s: %w", in.Name, err)
			}
		}
	}
	if len(items) == 0 {
		return ExitInputErr, errors.New("no item matched the selectors")
	}
	for _, it := range items {
		b := 0
		if it.bad {
			b = 1
		}
		before[b] += m.Score(&bayes.Tokens{Hashes: it.h, Classes: it.c, Groups: it.g})
	}
	for _, it := range items {
		m.Learn(&bayes.Tokens{Hashes: it.h, Classes: it.c, Groups: it.g}, it.bad)
		if it.bad {
			learned[1]++
		} else {
			learned[0]++
		}
	}
	m.Compile()
	for _, it := range items {
		b := 0
		if it.bad {
			b = 1
		}
		after[b] += m.Score(&bayes.Tokens{Hashes: it.h, Classes: it.c, Groups: it.g})
	}
	out := o.Out
	if out == "" {
		out = o.Model
	}
	if err := m.Save(out); err != nil {
		return ExitInputErr, err
	}
	for b, name := range []string{"good", "bad"} {
		if learned[b] > 0 {
			fmt.Fprintf(o.Stdout, "learned %d %s items: mean score %.4f → %.4f (threshold %.4f)\n",
				learned[b], name, before[b]/float64(learned[b]), after[b]/float64(learned[b]), m.Threshold)
		}
	}
	fmt.Fprintf(o.Stdout, "wrote %s (%d good, %d bad items trained in total)\n", out, m.Good, m.Bad)
	return ExitOK, nil
}
