package app

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"winnow/internal/generate"
	"winnow/internal/testdata"
)

// doc is the part of the JSON contract the tests read.
type doc struct {
	Timestamp string `json:"@timestamp"`
	Event     struct {
		Kind     string `json:"kind"`
		Start    string `json:"start"`
		End      string `json:"end"`
		Severity int    `json:"severity"`
	} `json:"event"`
	Rule struct {
		Name        string `json:"name"`
		Description string `json:"description"`
	} `json:"rule"`
	Winnow struct {
		Entity struct {
			Type  string `json:"type"`
			Value string `json:"value"`
		} `json:"entity"`
		Record   string  `json:"record"`
		Score    float64 `json:"score"`
		Incident struct {
			ID      string  `json:"id"`
			Rank    int     `json:"rank"`
			Risk    float64 `json:"risk"`
			Reasons []struct {
				Rule     string `json:"rule"`
				Severity int    `json:"severity"`
			} `json:"reasons"`
			Context []struct {
				Rule     string `json:"rule"`
				Severity int    `json:"severity"`
			} `json:"context"`
		} `json:"incident"`
		Evidence map[string]any `json:"evidence"`
		Samples  []struct {
			File string `json:"file"`
			Line int64  `json:"line"`
			Text string `json:"text"`
		} `json:"samples"`
		Related []struct {
			Type  string `json:"type"`
			Value string `json:"value"`
		} `json:"related"`
	} `json:"winnow"`
	Source *struct {
		IP string `json:"ip"`
	} `json:"source"`
	User *struct {
		Name string `json:"name"`
	} `json:"user"`
	Threat *struct {
		Technique struct {
			ID []string `json:"id"`
		} `json:"technique"`
	} `json:"threat"`
}

type result struct {
	code   int
	err    error
	stdout string
	stderr string
	docs   []doc
}

func analyze(t *testing.T, args []string, mod func(*AnalyzeOptions)) result {
	t.Helper()
	var out, errb bytes.Buffer
	o := AnalyzeOptions{Args: args, Output: "json", Stdout: &out, Stderr: &errb, TZ: "UTC", Samples: 3,
		Stdin: strings.NewReader(""), Now: time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)}
	if mod != nil {
		mod(&o)
	}
	code, err := Analyze(context.Background(), o)
	r := result{code: code, err: err, stdout: out.String(), stderr: errb.String()}
	if o.Output == "json" {
		sc := bufio.NewScanner(strings.NewReader(r.stdout))
		sc.Buffer(nil, 1<<24)
		for sc.Scan() {
			var d doc
			if err := json.Unmarshal(sc.Bytes(), &d); err != nil {
				t.Fatalf("bad JSON line %q: %v", sc.Text(), err)
			}
			r.docs = append(r.docs, d)
		}
	}
	return r
}

// ranks maps entity "type:value" to the rank of its best incident.
func ranks(docs []doc) map[string]int {
	m := map[string]int{}
	for _, d := range docs {
		k := d.Winnow.Entity.Type + ":" + d.Winnow.Entity.Value
		if r := d.Winnow.Incident.Rank; m[k] == 0 || r < m[k] {
			m[k] = r
		}
	}
	return m
}

// findings keeps the finding documents (--min-severity info writes them
// after each incident).
func findings(docs []doc) []doc {
	var out []doc
	for _, d := range docs {
		if d.Winnow.Record == "finding" {
			out = append(out, d)
		}
	}
	return out
}

// incidents keeps the incident documents.
func incidents(docs []doc) []doc {
	var out []doc
	for _, d := range docs {
		if d.Winnow.Record == "incident" {
			out = append(out, d)
		}
	}
	return out
}

// rules lists the rules of an incident document: reasons and context.
func (d *doc) rules() []string {
	var out []string
	for _, r := range d.Winnow.Incident.Reasons {
		out = append(out, r.Rule)
	}
	for _, r := range d.Winnow.Incident.Context {
		out = append(out, r.Rule)
	}
	return out
}

// TestSecrepoHeaviestSourcesRankFirst counts, independently of the
// parser, how many failed authentications each address made in secrepo's
// auth.log (Failed lines plus connections that sshd closed before
// authentication, the only trace a key-only server leaves) and checks that
// the heaviest sources are the top-ranked findings.
func TestSecrepoHeaviestSourcesRankFirst(t *testing.T) {
	path := testdata.File(t, "auth-logs/secrepo/auth.log")
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	re := regexp.MustCompile(`(?:Failed \S+ for .* from|Received disconnect from) (\d+\.\d+\.\d+\.\d+)\b.*`)
	counts := map[string]int{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if m := re.FindStringSubmatch(line); m != nil && (strings.Contains(line, "Failed ") || strings.HasSuffix(line, "[preauth]")) {
			counts[m[1]]++
		}
	}
	type kv struct {
		ip string
		n  int
	}
	var heavy []kv
	for ip, n := range counts {
		heavy = append(heavy, kv{ip, n})
	}
	sort.Slice(heavy, func(i, j int) bool { return heavy[i].n > heavy[j].n })
	if len(heavy) < 5 || heavy[0].n < 1000 {
		t.Fatalf("independent count looks wrong: %v", heavy[:min(5, len(heavy))])
	}
	r := analyze(t, []string{path}, nil)
	if r.code != 0 || r.err != nil {
		t.Fatalf("exit %d, %v\n%s", r.code, r.err, r.stderr)
	}
	rk := ranks(r.docs)
	for i := 0; i < 5; i++ {
		got := rk["ip:"+heavy[i].ip]
		if got == 0 || got > 8 {
			t.Errorf("source #%d by count (%s, %d failures) ranked %d, want within the top 8", i+1, heavy[i].ip, heavy[i].n, got)
		}
	}
	if rk["ip:"+heavy[0].ip] != 1 {
		t.Errorf("heaviest source %s ranked %d, want 1", heavy[0].ip, rk["ip:"+heavy[0].ip])
	}
}

// TestElasticBenignUsersNotFlagged: in Elastic's suspicious-login sample,
// elastic_user_1…9 and ubuntu log in normally (with the odd typo) from two
// addresses; a burst of 147 failures on elastic_user_0 ends in a login.
func TestElasticBenignUsersNotFlagged(t *testing.T) {
	path := testdata.File(t, "elastic-examples/suspicious_login_activity/auth.log")
	r := analyze(t, []string{path}, func(o *AnalyzeOptions) { o.MinSeverity = "info" })
	if r.code != 0 {
		t.Fatalf("exit %d: %v\n%s", r.code, r.err, r.stderr)
	}
	found := false
	for _, d := range findings(r.docs) {
		ent := d.Winnow.Entity.Value
		login := strings.HasPrefix(d.Rule.Name, "auth.") && !strings.HasPrefix(d.Rule.Name, "auth.sudo") &&
			d.Rule.Name != "auth.account_change"
		benignUser := strings.HasPrefix(ent, "elastic_user_") && ent != "elastic_user_0"
		if login && (benignUser || ent == "85.245.107.41") && d.Event.Severity >= 47 {
			t.Errorf("benign activity flagged as an attack: %s on %s (severity %d): %s", d.Rule.Name, ent, d.Event.Severity, d.Rule.Description)
		}
		if d.Rule.Name == "auth.success_after_failures" && ent == "24.151.103.17" && d.User != nil && d.User.Name == "elastic_user_0" {
			found = true
			if d.Event.Severity != 99 || d.Winnow.Incident.Rank != 1 {
				t.Errorf("compromise severity %d rank %d, want 99 and 1", d.Event.Severity, d.Winnow.Incident.Rank)
			}
		}
	}
	if !found {
		t.Error("the burst that ends in elastic_user_0's login was not reported as success after failures")
	}
}

func TestJSONContract(t *testing.T) {
	path := testdata.File(t, "auth-logs/dfrws-2009/auth.all.log")
	r := analyze(t, []string{path}, nil)
	if len(r.docs) == 0 {
		t.Fatalf("no findings on dfrws-2009: %s", r.stderr)
	}
	for _, d := range r.docs {
		if _, err := time.Parse(time.RFC3339, d.Timestamp); err != nil {
			t.Errorf("@timestamp %q: %v", d.Timestamp, err)
		}
		if d.Timestamp != d.Event.End {
			t.Errorf("@timestamp %s != event.end %s", d.Timestamp, d.Event.End)
		}
		if d.Event.Kind != "alert" || d.Event.Severity < 1 || d.Event.Severity > 100 {
			t.Errorf("event = %+v", d.Event)
		}
		if !(strings.HasPrefix(d.Rule.Name, "auth.") || strings.HasPrefix(d.Rule.Name, "series.")) || d.Rule.Description == "" {
			t.Errorf("rule = %+v", d.Rule)
		}
		if d.Winnow.Record != "incident" || d.Winnow.Incident.ID == "" || len(d.Winnow.Incident.Reasons) == 0 {
			t.Errorf("winnow.record %q incident %+v", d.Winnow.Record, d.Winnow.Incident)
		}
		if d.Winnow.Score <= 0 || d.Winnow.Score > 1 || d.Winnow.Incident.Rank < 1 || len(d.Winnow.Evidence) == 0 {
			t.Errorf("winnow = score %v rank %d evidence %v", d.Winnow.Score, d.Winnow.Incident.Rank, d.Winnow.Evidence)
		}
		if len(d.Winnow.Samples) == 0 || d.Winnow.Samples[0].File != path || d.Winnow.Samples[0].Line < 1 {
			t.Errorf("samples = %+v", d.Winnow.Samples)
		}
		if d.Threat == nil || len(d.Threat.Technique.ID) == 0 {
			t.Errorf("%s: no ATT&CK technique", d.Rule.Name)
		}
		if d.Winnow.Entity.Type == "ip" && (d.Source == nil || d.Source.IP != d.Winnow.Entity.Value) {
			t.Errorf("ip finding without source.ip: %+v", d.Source)
		}
	}
}

func TestFailOnAndExitCodes(t *testing.T) {
	path := testdata.File(t, "elastic-examples/suspicious_login_activity/auth.log")
	if r := analyze(t, []string{path}, func(o *AnalyzeOptions) { o.FailOn = "critical" }); r.code != ExitFailOn {
		t.Errorf("--fail-on critical with a compromise: exit %d, want 1", r.code)
	}
	dir := t.TempDir()
	quiet := filepath.Join(dir, "quiet.log")
	write(t, quiet, "Nov 22 10:00:00 h sshd[1]: Accepted publickey for a from 10.0.0.1 port 1 ssh2\n")
	if r := analyze(t, []string{quiet}, func(o *AnalyzeOptions) { o.FailOn = "low" }); r.code != ExitOK || len(r.docs) != 0 {
		t.Errorf("nothing to report: exit %d, %d findings", r.code, len(r.docs))
	}
	if r := analyze(t, []string{filepath.Join(dir, "missing.log")}, nil); r.code != ExitInputErr || r.err == nil {
		t.Errorf("missing file: exit %d err %v", r.code, r.err)
	}
	if r := analyze(t, []string{quiet, filepath.Join(dir, "missing.log")}, nil); r.code != ExitInputErr ||
		!strings.Contains(r.stderr, "missing.log") {
		t.Errorf("one missing of two: exit %d, stderr %q", r.code, r.stderr)
	}
	for _, bad := range []func(*AnalyzeOptions){
		func(o *AnalyzeOptions) { o.Output = "xml" },
		func(o *AnalyzeOptions) { o.FailOn = "sometimes" },
		func(o *AnalyzeOptions) { o.Set = []string{"auth.brute_force.threshold=x"} },
		func(o *AnalyzeOptions) { o.Set = []string{"auth.nope.threshold=3"} },
		func(o *AnalyzeOptions) { o.Only = []string{"nosuch."} },
		func(o *AnalyzeOptions) { o.InputFormat = "parquet" },
	} {
		r := analyze(t, []string{quiet}, bad)
		var ue UsageError
		if r.code != ExitUsage || r.err == nil {
			t.Errorf("usage error: exit %d err %v", r.code, r.err)
		} else if !asUsage(r.err, &ue) && !strings.Contains(r.err.Error(), "format") {
			t.Errorf("not a usage error: %v", r.err)
		}
	}
}

func asUsage(err error, ue *UsageError) bool {
	u, ok := err.(UsageError)
	if ok {
		*ue = u
	}
	return ok
}

func write(t *testing.T, path, s string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

// attack is 30 failures then a success from one address, in syslog lines.
func attack(lineEnd string) string {
	var b strings.Builder
	for i := 0; i < 30; i++ {
		b.WriteString("Nov 22 10:00:" + pad(i) + " web sshd[100]: Failed password for alice from 203.0.113.5 port 4000 ssh2" + lineEnd)
	}
	b.WriteString("Nov 22 10:01:00 web sshd[101]: Accepted password for alice from 203.0.113.5 port 4001 ssh2" + lineEnd)
	return b.String()
}

func pad(i int) string {
	s := "0" + string(rune('0'+i/10)) + string(rune('0'+i%10))
	return s[len(s)-2:]
}

func TestBadInputs(t *testing.T) {
	dir := t.TempDir()
	crlf := filepath.Join(dir, "crlf.log")
	write(t, crlf, attack("\r\n"))
	cr := filepath.Join(dir, "cr.log")
	write(t, cr, attack("\r"))
	junk := filepath.Join(dir, "junk.log")
	// Text first (the first 8 KiB decide whether a file is text), then junk.
	write(t, junk, strings.Repeat(attack("\n"), 4)+"\x00\x01\x02binary\xff\xfe junk\n"+strings.Repeat("A", 10<<20)+"\nnot syslog at all\n")
	bin := filepath.Join(dir, "core.bin")
	write(t, bin, "\x7fELF\x02\x01\x01\x00\x00\x00"+strings.Repeat("\x00\x13\x37", 4000))
	empty := filepath.Join(dir, "empty.log")
	write(t, empty, "")
	gzPath := filepath.Join(dir, "trunc.log.gz")
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(strings.Repeat(attack("\n"), 50)))
	zw.Close()
	write(t, gzPath, string(gz.Bytes()[:gz.Len()/2]))

	for _, c := range []struct {
		name     string
		path     string
		code     int
		stderr   string
		findings bool
	}{
		{"CRLF", crlf, 0, "", true},
		{"CR only", cr, 0, "", true},
		{"binary, NUL, 10 MB line", junk, 0, "malformed", true},
		{"empty", empty, 0, "empty", false},
		{"binary file", bin, 2, "binary", false},
		{"truncated gzip", gzPath, 2, "trunc.log.gz", true},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := analyze(t, []string{c.path}, nil)
			if r.code != c.code {
				t.Errorf("exit %d, want %d (err %v)\n%s", r.code, c.code, r.err, r.stderr)
			}
			if !strings.Contains(r.stderr, c.stderr) {
				t.Errorf("stderr lacks %q:\n%s", c.stderr, r.stderr)
			}
			has := false
			for _, d := range r.docs {
				has = has || (d.Rule.Name == "auth.success_after_failures" && d.Winnow.Entity.Value == "203.0.113.5")
			}
			if has != c.findings {
				t.Errorf("compromise found = %v, want %v; stderr:\n%s", has, c.findings, r.stderr)
			}
		})
	}
}

func TestStdinAndTextReport(t *testing.T) {
	r := analyze(t, []string{"-"}, func(o *AnalyzeOptions) {
		o.Stdin = strings.NewReader(attack("\n"))
		o.Output = "text"
		o.Year = 2026
	})
	if r.code != 0 {
		t.Fatalf("exit %d: %v", r.code, r.err)
	}
	for _, want := range []string{"CRITICAL", "203.0.113.5", "auth.success_after_failures", "-:31"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("text report lacks %q:\n%s", want, r.stdout)
		}
	}
	if strings.Contains(r.stdout, "\x1b[") {
		t.Error("colour codes in a piped report")
	}
	if !regexp.MustCompile(`winnow: 31 lines, 31 events, 0 malformed, \d+ findings`).MatchString(r.stderr) {
		t.Errorf("summary line: %q", r.stderr)
	}
}

// TestGeneratedDayFindsEveryEmbeddedAttack analyzes the demo's generated
// day and checks, in the default output (incidents at medium or above),
// that every attack of the ground truth is an incident on its addresses or
// accounts (or names them) holding its expected rules as reasons or
// context, and that no legitimate person of the fleet has an incident
// other than the break-in victim.
func TestGeneratedDayFindsEveryEmbeddedAttack(t *testing.T) {
	for _, seed := range []int64{1, 2, 3} {
		gc := generate.DefaultAuthConfig()
		gc.Seed = seed
		path := filepath.Join(t.TempDir(), "auth.log")
		truth, err := writeAuth(path, gc, os.Create)
		if err != nil {
			t.Fatal(err)
		}
		r := analyze(t, []string{path}, func(o *AnalyzeOptions) { o.Year = gc.Start.Year() })
		if r.code != 0 {
			t.Fatalf("seed %d: exit %d %v", seed, r.code, r.err)
		}
		involved := map[string]bool{}
		for _, at := range truth.Attacks {
			for _, v := range append(append([]string{}, at.SourceIPs...), at.Users...) {
				involved[v] = true
			}
			for _, rule := range at.Rules {
				if !reported(r.docs, rule, at) {
					t.Errorf("seed %d: %s: %s not reported on %v / %v", seed, at.Name, rule, at.SourceIPs, at.Users)
				}
			}
		}
		for _, d := range incidents(r.docs) {
			v := d.Winnow.Entity.Value
			if d.Event.Severity >= 47 && d.Winnow.Entity.Type != "host" && !involved[v] {
				t.Errorf("seed %d: benign %s flagged: %s (severity %d): %s", seed, v, d.Rule.Name, d.Event.Severity, d.Rule.Description)
			}
		}
	}
}

func reported(docs []doc, rule string, at generate.Attack) bool {
	want := map[string]bool{}
	for _, v := range append(append([]string{}, at.SourceIPs...), at.Users...) {
		want[v] = true
	}
	for _, d := range incidents(docs) {
		if !slices.Contains(d.rules(), rule) {
			continue
		}
		if want[d.Winnow.Entity.Value] {
			return true
		}
		for _, rel := range d.Winnow.Related {
			if want[rel.Value] {
				return true
			}
		}
	}
	return false
}
