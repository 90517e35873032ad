// Package webhook is the webhook sink: each finding report is POSTed as
// one JSON document (the ECS document of sink/jsonl) to a URL, from a
// bounded queue, with retries.
//
// Delivery: Write encodes the finding and queues it without blocking; a
// sender goroutine POSTs the queue in order. A 2xx answer delivers it; a
// network error, 429 or 5xx is retried with exponential backoff (doubling
// from Options.Backoff up to MaxBackoff) up to Options.Retries times; any
// other answer (a 4xx: the receiver will never accept it) and exhausted
// retries drop the finding. A full queue drops the new finding. Every drop
// and every failed attempt is counted (Stats), so a dead receiver costs
// bounded memory and never stops the daemon.
package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"winnow/internal/sink"
	"winnow/internal/sink/jsonl"
)

// Options configure a Sink. Zero values mean the defaults.
type Options struct {
	URL         string
	Headers     map[string]string // added to every request (e.g. Authorization)
	QueueSize   int               // findings waiting to be sent (default 1024)
	Retries     int               // further attempts after a failed one (default 5; <0 = none)
	Backoff     time.Duration     // first wait before a retry (default 500ms)
	MaxBackoff  time.Duration     // longest wait (default 30s)
	Timeout     time.Duration     // per request (default 10s)
	MinSeverity int               // findings below are not sent
	Client      *http.Client      // default: a client with Timeout
}

// Sink POSTs findings to a webhook.
type Sink struct {
	o      Options
	name   string
	queue  chan item
	cnt    sink.Counters
	stop   context.CancelFunc // cancels in-flight requests and backoff waits
	ctx    context.Context
	done   chan struct{}
	closed bool
}

// item is a queued document, or a flush marker (body nil, mark set).
type item struct {
	body []byte
	mark chan struct{}
}

var (
	_ sink.Sink   = (*Sink)(nil)
	_ sink.Stater = (*Sink)(nil)
)

// New validates the options and starts the sender.
func New(o Options) (*Sink, error) {
	u, err := url.Parse(o.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("cannot start webhook sink: url %q: want an http:// or https:// URL", o.URL)
	}
	if o.QueueSize <= 0 {
		o.QueueSize = 1024
	}
	if o.Retries == 0 {
		o.Retries = 5
	}
	if o.Backoff <= 0 {
		o.Backoff = 500 * time.Millisecond
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = 30 * time.Second
	}
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	if o.Client == nil {
		o.Client = &http.Client{Timeout: o.Timeout}
	}
	u.User = nil // never show credentials in names and metrics
	s := &Sink{o: o, name: "webhook:" + u.Redacted(), queue: make(chan item, o.QueueSize), done: make(chan struct{})}
	s.ctx, s.stop = context.WithCancel(context.Background())
	go s.run()
	return s, nil
}

// Name returns "webhook:<url>" without credentials.
func (s *Sink) Name() string { return s.name }

// Write queues the finding; a full queue drops it (counted).
func (s *Sink) Write(f *sink.Finding) error {
	if s.closed {
		return fmt.Errorf("cannot write finding to %s: %w", s.name, sink.ErrClosed)
	}
	if f.Alert.Severity < s.o.MinSeverity {
		return nil
	}
	body, err := json.Marshal(jsonl.Doc(f))
	if err != nil {
		return fmt.Errorf("cannot encode finding for %s: %w", s.name, err)
	}
	select {
	case s.queue <- item{body: body}:
		s.cnt.Queue(1)
	default:
		s.cnt.Drop()
	}
	return nil
}

// Flush waits until every finding queued before it was sent or dropped,
// or ctx is done.
func (s *Sink) Flush(ctx context.Context) error {
	if s.closed {
		return nil
	}
	mark := make(chan struct{})
	select {
	case s.queue <- item{mark: mark}:
	case <-ctx.Done():
		return fmt.Errorf("cannot flush %s: %w", s.name, ctx.Err())
	}
	select {
	case <-mark:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("cannot flush %s: %w", s.name, ctx.Err())
	}
}

// Close flushes (until ctx is done: what is still queued then is dropped
// and counted) and stops the sender.
func (s *Sink) Close(ctx context.Context) error {
	if s.closed {
		return nil
	}
	err := s.Flush(ctx)
	s.closed = true
	s.stop()
	close(s.queue)
	<-s.done
	return err
}

// Stats returns the counters.
func (s *Sink) Stats() sink.Stats { return s.cnt.Stats() }

func (s *Sink) run() {
	defer close(s.done)
	for it := range s.queue {
		if it.mark != nil {
			close(it.mark)
			continue
		}
		s.cnt.Queue(-1)
		if s.ctx.Err() != nil {
			s.cnt.Drop()
			continue
		}
		if s.deliver(it.body) {
			s.cnt.Wrote()
		} else {
			s.cnt.Drop()
		}
	}
}

// errPermanent marks an answer that retrying cannot change.
var errPermanent = errors.New("rejected")

func (s *Sink) deliver(body []byte) bool {
	wait := s.o.Backoff
	for attempt := 0; ; attempt++ {
		err := s.post(body)
		if err == nil {
			return true
		}
		s.cnt.Fail()
		if errors.Is(err, errPermanent) || attempt >= s.o.Retries {
			return false
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-s.ctx.Done():
			t.Stop()
			return false
		}
		wait = min(2*wait, s.o.MaxBackoff)
	}
}

func (s *Sink) post(body []byte) error {
	req, err := http.NewRequestWithContext(s.ctx, http.MethodPost, s.o.URL, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("%w: %v", errPermanent, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "winnow")
	for k, v := range s.o.Headers {
		req.Header.Set(k, v)
	}
	resp, err := s.o.Client.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		return nil
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	return fmt.Errorf("%w: status %d", errPermanent, resp.StatusCode)
}
