// Package syslognet is the syslog receiver: a source.Source that listens
// on UDP, TCP or TLS and yields every message it receives as a record.
//
// Framing (see framer): UDP carries one message per datagram; TCP and TLS
// carry RFC 6587 octet-counted or newline-terminated messages, chosen per
// message. The receiver does not interpret messages: RFC 5424 and RFC 3164
// headers with their "<PRI>" are parsed by winnow's own line parsers
// (parse/syslog via authlog and the other formats), so the HOSTNAME of each
// message becomes its event's host and one receiver serves many machines.
//
// Bounds: at most MaxConns connections at once (more are refused and
// counted), a connection that sends nothing for IdleTimeout is closed, a
// message is at most MaxLine bytes (longer ones are cut and counted), and
// per connection the receiver holds one small read buffer and one batch.
// TCP and TLS apply backpressure: when the consumer falls behind, the
// receiver stops reading and the senders' TCP windows fill. UDP cannot be
// slowed: datagrams that find the queue full are dropped and counted.
// Malformed frames are counted and the last few are kept as samples; they
// never stop the receiver.
package syslognet

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"winnow/internal/event"
	"winnow/internal/source"
	"winnow/internal/textsafe"
)

// Options configure a Receiver. Zero values mean the defaults.
type Options struct {
	Network string // "udp", "tcp" or "tls"
	Address string // listen address, e.g. 127.0.0.1:5514
	Name    string // source name (default "syslog-<network>:<address>")
	// CertFile and KeyFile are the server's certificate for TLS.
	CertFile, KeyFile string
	// TLS overrides CertFile/KeyFile when set (tests).
	TLS         *tls.Config
	MaxLine     int           // longest message kept (default 64 KiB)
	MaxConns    int           // concurrent connections (default 4096)
	IdleTimeout time.Duration // close a connection silent this long (default 5m)
	Queue       int           // batches buffered for the consumer (default 32): more absorbs bursts, less keeps latency low under overload
	BatchSize   int           // messages per batch (default 512)
	Samples     int           // malformed frames kept as samples (default 5)
}

// Receiver is a listening syslog source.
type Receiver struct {
	o      Options
	name   string
	ln     net.Listener   // tcp, tls
	pc     net.PacketConn // udp
	queue  chan []source.Record
	closed chan struct{}
	once   sync.Once
	wg     sync.WaitGroup
	seq    int64
	err    error

	mu      sync.Mutex
	conns   map[net.Conn]struct{}
	samples []event.Sample

	records, bytes, truncated, dropped, malformed, rejected atomic.Int64
}

var (
	_ source.Source = (*Receiver)(nil)
	_ source.Live   = (*Receiver)(nil)
	_ source.Stater = (*Receiver)(nil)
)

// Listen binds the address and starts receiving.
func Listen(o Options) (*Receiver, error) {
	if o.MaxLine <= 0 {
		o.MaxLine = source.DefaultMaxLine
	}
	if o.MaxConns <= 0 {
		o.MaxConns = 4096
	}
	if o.IdleTimeout <= 0 {
		o.IdleTimeout = 5 * time.Minute
	}
	if o.Queue <= 0 {
		o.Queue = 32
	}
	if o.BatchSize <= 0 {
		o.BatchSize = 512
	}
	if o.Samples <= 0 {
		o.Samples = 5
	}
	r := &Receiver{o: o, queue: make(chan []source.Record, o.Queue), closed: make(chan struct{}), conns: map[net.Conn]struct{}{}}
	r.name = o.Name
	if r.name == "" {
		r.name = "syslog-" + o.Network + ":" + o.Address
	}
	var err error
	switch o.Network {
	case "udp":
		r.pc, err = net.ListenPacket("udp", o.Address)
		if err == nil {
			r.wg.Add(1)
			go r.serveUDP()
		}
	case "tcp", "tls":
		r.ln, err = net.Listen("tcp", o.Address)
		if err == nil && o.Network == "tls" {
			cfg := o.TLS
			if cfg == nil {
				cert, cerr := tls.LoadX509KeyPair(o.CertFile, o.KeyFile)
				if cerr != nil {
					r.ln.Close()
					return nil, fmt.Errorf("cannot listen for syslog on %s: %w", o.Address, cerr)
				}
				cfg = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
			}
			r.ln = tls.NewListener(r.ln, cfg)
		}
		if err == nil {
			r.wg.Add(1)
			go r.accept()
		}
	default:
		return nil, fmt.Errorf("cannot listen for syslog: network %q: want udp, tcp or tls", o.Network)
	}
	if err != nil {
		return nil, fmt.Errorf("cannot listen for syslog on %s: %w", o.Address, err)
	}
	return r, nil
}

// Addr is the bound address (useful with port 0).
func (r *Receiver) Addr() net.Addr {
	if r.pc != nil {
		return r.pc.LocalAddr()
	}
	return r.ln.Addr()
}

// Name returns the source's name.
func (r *Receiver) Name() string { return r.name }

// Live reports true.
func (r *Receiver) Live() bool { return true }

// Stats returns the counters.
func (r *Receiver) Stats() source.SourceStats {
	r.mu.Lock()
	conns := len(r.conns)
	r.mu.Unlock()
	return source.SourceStats{Records: r.records.Load(), Bytes: r.bytes.Load(), Truncated: r.truncated.Load(),
		Dropped: r.dropped.Load(), Malformed: r.malformed.Load(), Rejected: r.rejected.Load(), Conns: int64(conns)}
}

// Samples returns the last malformed frames (escaped for terminals).
func (r *Receiver) Samples() []event.Sample {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]event.Sample(nil), r.samples...)
}

// Next returns the next batch of messages.
func (r *Receiver) Next(ctx context.Context) (source.Batch, error) {
	if r.err != nil {
		return source.Batch{}, r.err
	}
	select {
	case recs := <-r.queue:
		for i := range recs {
			r.seq++
			recs[i].N = r.seq
		}
		return source.Batch{Records: recs, Pos: source.Position{Source: r.name}}, nil
	case <-ctx.Done():
		return source.Batch{}, ctx.Err()
	case <-r.closed:
		r.err = fmt.Errorf("cannot read %s: %w", r.name, source.ErrSourceClosed)
		return source.Batch{}, r.err
	}
}

// Close stops listening, closes every connection and waits for the
// receiver's goroutines.
func (r *Receiver) Close() error {
	r.once.Do(func() {
		close(r.closed)
		if r.ln != nil {
			r.ln.Close()
		}
		if r.pc != nil {
			r.pc.Close()
		}
		r.mu.Lock()
		for c := range r.conns {
			c.Close()
		}
		r.mu.Unlock()
	})
	r.wg.Wait()
	return nil
}

// deliver hands a batch to the consumer: blocking (TCP backpressure) or
// dropping when the queue is full (UDP).
func (r *Receiver) deliver(recs []source.Record, block bool) bool {
	if len(recs) == 0 {
		return true
	}
	var nb int64
	for _, rc := range recs {
		nb += int64(len(rc.B))
	}
	if block {
		select {
		case r.queue <- recs:
		case <-r.closed:
			return false
		}
	} else {
		select {
		case r.queue <- recs:
		default:
			r.dropped.Add(int64(len(recs)))
			return true
		}
	}
	r.records.Add(int64(len(recs)))
	r.bytes.Add(nb)
	return true
}

func (r *Receiver) sample(peer string, b []byte) {
	r.malformed.Add(1)
	text := b
	if len(text) > 300 {
		text = text[:300]
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	s := event.Sample{File: r.name + " from " + peer, Text: textsafe.Terminal(string(text))}
	if len(r.samples) >= r.o.Samples {
		copy(r.samples, r.samples[1:])
		r.samples = r.samples[:len(r.samples)-1]
	}
	r.samples = append(r.samples, s)
}

func (r *Receiver) serveUDP() {
	defer r.wg.Done()
	buf := make([]byte, 65536)
	for {
		n, _, err := r.pc.ReadFrom(buf)
		if err != nil {
			select {
			case <-r.closed:
				return
			default:
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return
		}
		msg := trimEnd(buf[:n], 0)
		if len(msg) == 0 {
			continue
		}
		if len(msg) > r.o.MaxLine {
			msg = msg[:r.o.MaxLine]
			r.truncated.Add(1)
		}
		b := make([]byte, len(msg))
		copy(b, msg)
		r.deliver([]source.Record{{B: b}}, false)
	}
}

func (r *Receiver) accept() {
	defer r.wg.Done()
	for {
		c, err := r.ln.Accept()
		if err != nil {
			select {
			case <-r.closed:
				return
			default:
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				time.Sleep(10 * time.Millisecond)
				continue
			}
			return
		}
		r.mu.Lock()
		if len(r.conns) >= r.o.MaxConns {
			r.mu.Unlock()
			r.rejected.Add(1)
			c.Close()
			continue
		}
		r.conns[c] = struct{}{}
		r.mu.Unlock()
		r.wg.Add(1)
		go r.serveConn(c)
	}
}

// arena is the size of the buffer a connection's batch is built in.
const arena = 64 << 10

func (r *Receiver) serveConn(c net.Conn) {
	defer r.wg.Done()
	defer func() {
		r.mu.Lock()
		delete(r.conns, c)
		r.mu.Unlock()
		c.Close()
	}()
	peer := c.RemoteAddr().String()
	dl := &deadlineConn{Conn: c, idle: r.o.IdleTimeout}
	f := &framer{br: bufio.NewReaderSize(dl, 4096), max: r.o.MaxLine}
	var recs []source.Record
	var buf []byte
	flush := func() bool {
		ok := r.deliver(recs, true)
		recs = nil
		// The rest of the arena is still unused: later messages go there
		// (the delivered ones are never written again).
		buf = buf[len(buf):]
		return ok
	}
	size := 4096 // the next arena's size: grows while messages come in bursts
	for {
		if len(recs) == 0 && f.br.Buffered() == 0 {
			// Idle: hold no arena while waiting, so that thousands of quiet
			// connections cost only their read buffers.
			buf, size = nil, 4096
			if _, err := f.br.Peek(1); err != nil {
				if errors.Is(err, errIdle) {
					r.rejected.Add(1)
				}
				return
			}
		}
		if cap(buf)-len(buf) < min(r.o.MaxLine, size/2) {
			buf = make([]byte, 0, size)
			size = min(2*size, arena)
		}
		before := len(buf)
		out, start, truncated, err := f.next(buf)
		if errors.Is(err, ErrMalformed) {
			r.sample(peer, out[start:])
			buf = out[:before]
			continue
		}
		if err == nil {
			if truncated {
				r.truncated.Add(1)
			}
			// When a message did not fit the arena, append moved it (and a
			// copy of the earlier messages) to a new array; the records
			// taken so far keep the old one, which is never written again.
			buf = out
			msg := buf[start:len(buf):len(buf)]
			recs = append(recs, source.Record{B: msg})
			if len(recs) >= r.o.BatchSize || f.br.Buffered() == 0 {
				if !flush() {
					return
				}
			}
			continue
		}
		flush()
		if errors.Is(err, errIdle) {
			r.rejected.Add(1)
		}
		return
	}
}

// errIdle is returned by a connection that was silent for IdleTimeout.
var errIdle = errors.New("idle connection")

// deadlineConn renews the read deadline before every read.
type deadlineConn struct {
	net.Conn
	idle time.Duration
}

func (d *deadlineConn) Read(p []byte) (int, error) {
	_ = d.SetReadDeadline(time.Now().Add(d.idle))
	n, err := d.Conn.Read(p)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return n, errIdle
	}
	return n, err
}
