package webhook

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"winnow/internal/sink"
	"winnow/internal/sink/sinktest"
)

// receiver records the incident ids it was POSTed.
type receiver struct {
	mu  sync.Mutex
	ids []string
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	var d struct {
		Winnow struct {
			Incident struct{ ID string } `json:"incident"`
		} `json:"winnow"`
	}
	if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" || json.Unmarshal(b, &d) != nil {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	rc.mu.Lock()
	rc.ids = append(rc.ids, d.Winnow.Incident.ID)
	rc.mu.Unlock()
}

func (rc *receiver) got() []string {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]string(nil), rc.ids...)
}

func TestConformance(t *testing.T) {
	sinktest.Run(t, func(t *testing.T) (sink.Sink, func() []string) {
		rc := &receiver{}
		srv := httptest.NewServer(rc)
		t.Cleanup(srv.Close)
		s, err := New(Options{URL: srv.URL + "/hook"})
		if err != nil {
			t.Fatal(err)
		}
		return s, rc.got
	})
}

// A receiver that fails twice with 503 then accepts gets the finding once;
// every failed attempt is counted.
func TestRetries(t *testing.T) {
	var calls atomic.Int32
	rc := &receiver{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) <= 2 {
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		}
		rc.ServeHTTP(w, r)
	}))
	defer srv.Close()
	s, err := New(Options{URL: srv.URL, Backoff: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Write(sinktest.Finding("a")); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if g := rc.got(); len(g) != 1 || g[0] != "a" {
		t.Fatalf("delivered %v", g)
	}
	if st := s.Stats(); st.Errors != 2 || st.Written != 1 || st.Dropped != 0 {
		t.Fatalf("stats %+v, want 2 errors, 1 written", st)
	}
}

// A 4xx is not retried; the finding is dropped and counted.
func TestRejected(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		http.Error(w, "no", http.StatusForbidden)
	}))
	defer srv.Close()
	s, _ := New(Options{URL: srv.URL, Backoff: time.Millisecond})
	_ = s.Write(sinktest.Finding("a"))
	_ = s.Close(context.Background())
	if calls.Load() != 1 {
		t.Fatalf("%d calls for a 403, want 1", calls.Load())
	}
	if st := s.Stats(); st.Dropped != 1 || st.Written != 0 {
		t.Fatalf("stats %+v", st)
	}
}

// A receiver that hangs fills the bounded queue: further findings are
// dropped and counted, Write never blocks, and Close gives up when its
// context ends.
func TestBoundedQueue(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	s, _ := New(Options{URL: srv.URL, QueueSize: 4, Retries: -1})
	done := make(chan struct{})
	go func() {
		for range 100 {
			_ = s.Write(sinktest.Finding("x"))
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Write blocked on a hung receiver")
	}
	st := s.Stats()
	if st.Dropped < 95 || st.Queued > 4 {
		t.Fatalf("stats %+v: want ≥95 dropped and ≤4 queued", st)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_ = s.Close(ctx)
	if st := s.Stats(); st.Dropped+st.Written != 100 {
		t.Fatalf("after Close: %+v: every finding must be written or dropped", st)
	}
}

func TestBadURL(t *testing.T) {
	for _, u := range []string{"", "ftp://x/", "http://", "::"} {
		if _, err := New(Options{URL: u}); err == nil {
			t.Errorf("New(%q) accepted", u)
		}
	}
}
