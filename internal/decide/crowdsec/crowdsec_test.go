package crowdsec

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"
	"time"

	"winnow/internal/decide"
	"winnow/internal/event"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func setup(t *testing.T) (*decide.Decider, *clock, *httptest.Server) {
	t.Helper()
	c := &clock{t: time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)}
	dec, err := decide.New(decide.DefaultPolicy(), c.now)
	if err != nil {
		t.Fatal(err)
	}
	h, err := New(dec, []Key{{Name: "fw", Hash: HashKey("secret-fw")}, {Name: "nginx", Hash: HashKey("secret-nginx")}}, c.now)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return dec, c, srv
}

func ban(dec *decide.Decider, ip, rule string) *decide.Decision {
	return dec.Observe(event.Alert{Rule: rule, Severity: event.SeverityHigh, SourceIP: netip.MustParseAddr(ip)})
}

func get(t *testing.T, srv *httptest.Server, path, key string, into any) int {
	t.Helper()
	req, _ := http.NewRequest("GET", srv.URL+path, nil)
	if key != "" {
		req.Header.Set("X-Api-Key", key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if into != nil && resp.StatusCode == 200 {
		if err := json.NewDecoder(resp.Body).Decode(into); err != nil {
			t.Fatal(err)
		}
	}
	return resp.StatusCode
}

func TestAuth(t *testing.T) {
	_, _, srv := setup(t)
	for _, key := range []string{"", "wrong", "secret-fw2"} {
		if code := get(t, srv, "/v1/decisions/stream?startup=true", key, nil); code != http.StatusForbidden {
			t.Errorf("key %q: status %d, want 403", key, code)
		}
	}
	if code := get(t, srv, "/v1/decisions/stream?startup=true", "secret-fw", nil); code != 200 {
		t.Fatalf("good key: %d", code)
	}
	if code := get(t, srv, "/v1/decisions/stream?startup=maybe", "secret-fw", nil); code != 400 {
		t.Fatalf("bad startup: %d", code)
	}
	if code := get(t, srv, "/v1/nothing", "secret-fw", nil); code != 404 {
		t.Fatalf("unknown path: %d", code)
	}
	if _, err := New(nil, nil, nil); err == nil {
		t.Fatal("handler without keys accepted")
	}
	if _, err := New(nil, []Key{{Name: "x", Hash: "abc"}}, nil); err == nil {
		t.Fatal("bad hash accepted")
	}
}

func TestStream(t *testing.T) {
	dec, c, srv := setup(t)
	a := ban(dec, "203.0.113.5", "auth.brute_force")
	var r streamResponse
	get(t, srv, "/v1/decisions/stream?startup=true", "secret-fw", &r)
	if len(r.New) != 1 || r.New[0].Value != "203.0.113.5" || r.New[0].Scope != "Ip" || r.New[0].Type != "ban" ||
		r.New[0].Origin != "winnow" || r.New[0].Scenario != "auth.brute_force" || r.New[0].Duration != "4h0m0s" {
		t.Fatalf("startup: %+v", r)
	}
	// Nothing new: empty lists, not null.
	r = streamResponse{}
	get(t, srv, "/v1/decisions/stream?startup=false", "secret-fw", &r)
	if r.New == nil || r.Deleted == nil || len(r.New)+len(r.Deleted) != 0 {
		t.Fatalf("idle poll: %+v", r)
	}
	ban(dec, "2001:db8::7", "web.scanner")
	dec.Delete(a.Value)
	r = streamResponse{}
	get(t, srv, "/v1/decisions/stream", "secret-fw", &r)
	if len(r.New) != 1 || r.New[0].Value != "2001:db8::7" || len(r.Deleted) != 1 || r.Deleted[0].Value != "203.0.113.5" {
		t.Fatalf("incremental: %+v", r)
	}
	// Another bouncer has its own cursor: its first poll is a full sync.
	r = streamResponse{}
	get(t, srv, "/v1/decisions/stream", "secret-nginx", &r)
	if len(r.New) != 1 || len(r.Deleted) != 0 {
		t.Fatalf("second bouncer: %+v", r)
	}
	// Filters.
	ban(dec, "198.51.100.1", "auth.password_spray")
	r = streamResponse{}
	get(t, srv, "/v1/decisions/stream?startup=true&scenarios_not_containing=spray", "secret-fw", &r)
	if len(r.New) != 1 || r.New[0].Value != "2001:db8::7" {
		t.Fatalf("scenarios_not_containing: %+v", r)
	}
	r = streamResponse{}
	get(t, srv, "/v1/decisions/stream?startup=true&scopes=range", "secret-fw", &r)
	if len(r.New) != 0 {
		t.Fatalf("scopes=range: %+v", r)
	}
	// Expiry reaches bouncers as deletions.
	c.t = c.t.Add(5 * time.Hour)
	r = streamResponse{}
	get(t, srv, "/v1/decisions/stream", "secret-fw", &r)
	if len(r.Deleted) != 2 || len(r.New) != 0 {
		t.Fatalf("after expiry: %+v", r)
	}
}

func TestQuery(t *testing.T) {
	dec, _, srv := setup(t)
	for i := 1; i <= 3; i++ {
		ban(dec, netip.AddrFrom4([4]byte{198, 51, 100, byte(i)}).String(), "auth.brute_force")
	}
	var ds []decision
	get(t, srv, "/v1/decisions?ip=198.51.100.200", "secret-fw", &ds)
	if len(ds) != 1 || ds[0].Scope != "Range" || ds[0].Value != "198.51.100.0/24" {
		t.Fatalf("ip in banned range: %+v", ds)
	}
	ds = nil
	get(t, srv, "/v1/decisions?ip=192.0.2.1", "secret-fw", &ds)
	if ds != nil {
		t.Fatalf("clean ip: %+v", ds)
	}
	if code := get(t, srv, "/v1/decisions?ip=nope", "secret-fw", nil); code != 400 {
		t.Fatalf("bad ip: %d", code)
	}
}
