package generate

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"io"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"
)

var lineRE = regexp.MustCompile(`^[A-Z][a-z]{2} [ 0-9]\d \d\d:\d\d:\d\d \S+ \S+: .+$`)

// checkLog checks the shape and order of every line and returns the number
// of lines.
func checkLog(t *testing.T, data []byte, cfg AuthConfig) int {
	t.Helper()
	if len(data) > 0 && data[len(data)-1] != '\n' {
		t.Fatal("output does not end with a newline")
	}
	loc := cfg.Start.Location()
	year := cfg.Start.In(loc).Year()
	first := cfg.Start.Truncate(time.Second)
	last := first.Add(cfg.Duration)
	var prev time.Time
	n, bad := 0, 0
	for len(data) > 0 {
		i := bytes.IndexByte(data, '\n')
		line := data[:i]
		data = data[i+1:]
		n++
		if !lineRE.Match(line) {
			if bad++; bad < 5 {
				t.Errorf("line %d does not match: %q", n, line)
			}
			continue
		}
		ts, err := time.ParseInLocation("Jan _2 15:04:05", string(line[:15]), loc)
		if err != nil {
			t.Fatalf("line %d: %v", n, err)
		}
		ts = ts.AddDate(year, 0, 0)
		if ts.Before(prev) {
			t.Fatalf("line %d goes back in time (%v after %v): %q", n, ts, prev, line)
		}
		if ts.Before(first) || !ts.Before(last) {
			t.Fatalf("line %d at %v is outside [%v, %v): %q", n, ts, first, last, line)
		}
		prev = ts
	}
	if bad > 0 {
		t.Fatalf("%d of %d lines do not match", bad, n)
	}
	return n
}

func generate(t testing.TB, cfg AuthConfig) ([]byte, Truth, stats) {
	t.Helper()
	var buf bytes.Buffer
	tr, st, err := auth(&buf, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), tr, st
}

var attackNames = []string{"fast-brute-force", "slow-brute-force", "password-spray", "invalid-user-sweep", "distributed-brute-force", "break-in"}

func checkTruth(t *testing.T, data []byte, tr Truth) {
	t.Helper()
	if len(tr.Attacks) != len(attackNames) {
		t.Fatalf("truth has %d attacks, want %d", len(tr.Attacks), len(attackNames))
	}
	seen := map[string]string{}
	for i, a := range tr.Attacks {
		if a.Name != attackNames[i] {
			t.Errorf("attack %d is %q, want %q", i, a.Name, attackNames[i])
		}
		if len(a.SourceIPs) == 0 || len(a.Users) == 0 || len(a.Rules) == 0 {
			t.Errorf("%s: empty field in %+v", a.Name, a)
		}
		for _, ip := range a.SourceIPs {
			if other, ok := seen[ip]; ok {
				t.Errorf("%s and %s share address %s", a.Name, other, ip)
			}
			seen[ip] = a.Name
			if !bytes.Contains(data, []byte(" "+ip+" port ")) {
				t.Errorf("%s: address %s does not appear in the output", a.Name, ip)
			}
		}
	}
	if n := len(tr.Attacks[atkDistributed].SourceIPs); n != distributedIPs {
		t.Errorf("distributed brute force from %d addresses, want %d", n, distributedIPs)
	}
}

func TestAuthDefaultDay(t *testing.T) {
	cfg := DefaultAuthConfig()
	data, tr, st := generate(t, cfg)
	n := checkLog(t, data, cfg)
	if n != tr.Lines || n != st.written {
		t.Errorf("counted %d lines, truth says %d, stats %d", n, tr.Lines, st.written)
	}
	if n < 3000 || n > 20000 {
		t.Errorf("a natural day has %d lines, want a few thousand to 20k", n)
	}
	if st.total() != n {
		t.Errorf("planned %d lines, wrote %d", st.total(), n)
	}
	checkTruth(t, data, tr)
	for _, want := range []string{
		"Accepted publickey for ", "Accepted password for ", "systemd-logind[", "Removed session ",
		"CRON[", "COMMAND=", "message repeated ", "Did not receive identification string",
		"Bad protocol version identification", "Unable to negotiate", "Too many authentication failures",
		"PAM service(sshd) ignoring max retries", "useradd[", "passwd[", "usermod[", "Server listening on",
	} {
		if !bytes.Contains(data, []byte(want)) {
			t.Errorf("no line contains %q", want)
		}
	}
	t.Logf("%d lines, %d sessions, %d noise visits, lines per category %v, failures per attack %v, max pending %d",
		n, st.sessions, st.noiseVisits, st.lines, st.attackFailures, st.maxPending)
}

func TestAuthAttackSizes(t *testing.T) {
	for seed := int64(1); seed <= 5; seed++ {
		cfg := DefaultAuthConfig()
		cfg.Seed = seed
		_, tr, st := generate(t, cfg)
		f := st.attackFailures
		check := func(name string, got, lo, hi int) {
			if got < lo || got > hi {
				t.Errorf("seed %d: %s has %d failures, want %d..%d", seed, name, got, lo, hi)
			}
		}
		check("fast-brute-force", f[atkFast], 280, 320)
		check("slow-brute-force", f[atkSlow], 58, 62)
		check("password-spray", f[atkSpray], len(tr.Attacks[atkSpray].Users), 2*len(tr.Attacks[atkSpray].Users))
		check("invalid-user-sweep", f[atkSweep], 90, 155)
		check("distributed-brute-force", f[atkDistributed], 2*distributedIPs, 4*distributedIPs)
		check("break-in", f[atkBreakIn], 36, 44)
		if u := tr.Attacks[atkFast].Users; u[0] != "root" || len(u) < 2 || len(u) > 3 {
			t.Errorf("seed %d: fast brute force users %v", seed, u)
		}
		if n := len(tr.Attacks[atkSweep].Users); n < 145 || n > 155 {
			t.Errorf("seed %d: sweep of %d names", seed, n)
		}
	}
}

func TestAuthDeterministic(t *testing.T) {
	cfg := DefaultAuthConfig()
	cfg.Seed = 42
	cfg.Lines = 50000
	cfg.FloodIPs = 1000
	a, ta, _ := generate(t, cfg)
	b, tb, _ := generate(t, cfg)
	if sha256.Sum256(a) != sha256.Sum256(b) || !reflect.DeepEqual(ta, tb) {
		t.Fatal("two runs with the same seed differ")
	}
	cfg.Seed = 43
	c, tc, _ := generate(t, cfg)
	if bytes.Equal(a, c) || reflect.DeepEqual(ta, tc) {
		t.Fatal("different seeds give the same output")
	}
}

func TestAuthLines(t *testing.T) {
	for _, lines := range []int{2000, 30000, 200000} {
		cfg := DefaultAuthConfig()
		cfg.Lines = lines
		cfg.Seed = int64(lines)
		data, tr, st := generate(t, cfg)
		n := checkLog(t, data, cfg)
		if n != tr.Lines {
			t.Errorf("Lines=%d: counted %d lines, truth says %d", lines, n, tr.Lines)
		}
		lo, hi := 0.9*float64(lines), 1.1*float64(lines)
		if lines < 5000 {
			// below the natural day: attacks and hourly cron stay
			hi = float64(lines + st.lines[catAttack] + 24*cfg.Hosts*2)
		}
		if float64(n) < lo || float64(n) > hi {
			t.Errorf("Lines=%d: wrote %d lines", lines, n)
		}
		checkTruth(t, data, tr)
		t.Logf("Lines=%d: %d lines, per category %v, max pending %d", lines, n, st.lines, st.maxPending)
	}
}

// TestAuthFlood: every flood line is a failed login from its own address.
func TestAuthFlood(t *testing.T) {
	cfg := DefaultAuthConfig()
	cfg.FloodIPs = 50000
	data, tr, st := generate(t, cfg)
	checkLog(t, data, cfg)
	checkTruth(t, data, tr)
	if st.lines[catFlood] != cfg.FloodIPs {
		t.Errorf("%d flood lines, want %d", st.lines[catFlood], cfg.FloodIPs)
	}
	ips := map[string]int{}
	const marker = "Failed password for invalid user "
	for _, line := range strings.Split(string(data), "\n") {
		i := strings.Index(line, marker)
		if i < 0 {
			continue
		}
		rest := line[i+len(marker):]
		j := strings.LastIndex(rest, " from ")
		ip, _, _ := strings.Cut(rest[j+len(" from "):], " ")
		ips[ip]++
	}
	if len(ips) < cfg.FloodIPs {
		t.Errorf("%d distinct addresses with invalid-user failures, want at least %d", len(ips), cfg.FloodIPs)
	}
}

// TestAuthFloodMemory: the flood is generated lazily; the merge heap stays
// as small as without it.
func TestAuthFloodMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("2M lines")
	}
	cfg := DefaultAuthConfig()
	cfg.FloodIPs = 2000000
	tr, st, err := auth(io.Discard, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if st.maxPending > 1000 {
		t.Errorf("merge heap grew to %d records", st.maxPending)
	}
	if tr.Lines < cfg.FloodIPs {
		t.Errorf("%d lines", tr.Lines)
	}
}

// TestAuthCalendar: day padding, month change, zones, other fleet sizes.
func TestAuthCalendar(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		berlin = time.FixedZone("CET", 3600)
	}
	for _, cfg := range []AuthConfig{
		{Seed: 7, Start: time.Date(2026, 10, 31, 18, 0, 0, 0, time.UTC), Duration: 36 * time.Hour},
		{Seed: 8, Start: time.Date(2026, 3, 28, 12, 30, 0, 0, berlin), Duration: 48 * time.Hour, Hosts: 1, Users: 1},
		{Seed: 9, Start: time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC), Duration: time.Hour, Hosts: 60, Users: 300},
	} {
		data, tr, _ := generate(t, cfg)
		full, _ := normalize(cfg)
		checkLog(t, data, full)
		checkTruth(t, data, tr)
	}
	cfg := DefaultAuthConfig()
	cfg.Start = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	data, _, _ := generate(t, cfg)
	if !bytes.HasPrefix(data, []byte("Nov  1 00:")) {
		t.Errorf("day not padded with a space: %q", data[:16])
	}
}

func TestAuthErrors(t *testing.T) {
	for _, cfg := range []AuthConfig{
		{Duration: time.Minute},
		{Lines: -1},
		{FloodIPs: -5},
		{Hosts: -1},
		{FloodIPs: maxFloodIPs + 1},
	} {
		if _, err := Auth(io.Discard, cfg); err == nil {
			t.Errorf("%+v: no error", cfg)
		}
	}
	want := errors.New("disk full")
	if _, err := Auth(failWriter{want}, DefaultAuthConfig()); !errors.Is(err, want) {
		t.Errorf("write error: got %v", err)
	}
}

type failWriter struct{ err error }

func (w failWriter) Write([]byte) (int, error) { return 0, w.err }

type countWriter struct{ n int64 }

func (w *countWriter) Write(p []byte) (int, error) {
	w.n += int64(len(p))
	return len(p), nil
}

// BenchmarkAuth generates 1M lines per op.
func BenchmarkAuth(b *testing.B) {
	benchAuth(b, AuthConfig{Lines: 1000000})
}

// BenchmarkAuthFlood generates a natural day plus 1M flood lines per op.
func BenchmarkAuthFlood(b *testing.B) {
	benchAuth(b, AuthConfig{FloodIPs: 1000000})
}

func benchAuth(b *testing.B, cfg AuthConfig) {
	var w countWriter
	tr, err := Auth(&w, cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(w.n)
	b.ReportAllocs()
	b.ResetTimer()
	lines := 0
	for i := 0; i < b.N; i++ {
		tr, err = Auth(&w, cfg)
		if err != nil {
			b.Fatal(err)
		}
		lines += tr.Lines
	}
	b.ReportMetric(float64(lines)/b.Elapsed().Seconds(), "lines/s")
}
