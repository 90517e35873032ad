package syslognet

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"runtime"
	"strings"
	"testing"
	"time"

	"winnow/internal/source"
	"winnow/internal/source/sourcetest"
)

func listen(t *testing.T, o Options) *Receiver {
	t.Helper()
	if o.Address == "" {
		o.Address = "127.0.0.1:0"
	}
	r, err := Listen(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

func dial(t *testing.T, r *Receiver, tlsCfg *tls.Config) net.Conn {
	t.Helper()
	var c net.Conn
	var err error
	if tlsCfg != nil {
		c, err = tls.Dial("tcp", r.Addr().String(), tlsCfg)
	} else {
		c, err = net.Dial(r.Addr().Network(), r.Addr().String())
	}
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// frame encodes lines alternately octet-counted and newline-terminated.
func frame(lines []string, octets, mixed bool) []byte {
	var b bytes.Buffer
	for i, l := range lines {
		if octets && (!mixed || i%2 == 0) {
			fmt.Fprintf(&b, "%d %s", len(l), l)
		} else {
			b.WriteString(l + "\n")
		}
	}
	return b.Bytes()
}

func TestConformanceTCP(t *testing.T) {
	for _, mode := range []string{"newline", "octets", "mixed"} {
		t.Run(mode, func(t *testing.T) {
			sourcetest.Run(t, func(t *testing.T, _ []string) sourcetest.Harness {
				r := listen(t, Options{Network: "tcp"})
				return sourcetest.Harness{Source: r, Feed: func(t *testing.T, lines []string) {
					c := dial(t, r, nil)
					defer c.Close()
					data := frame(lines, mode != "newline", mode == "mixed")
					for len(data) > 0 { // odd-sized writes split frames
						n := min(777, len(data))
						if _, err := c.Write(data[:n]); err != nil {
							t.Error(err)
							return
						}
						data = data[n:]
					}
				}}
			})
		})
	}
}

func TestConformanceTLS(t *testing.T) {
	srvCfg, cliCfg := tlsConfigs(t)
	sourcetest.Run(t, func(t *testing.T, _ []string) sourcetest.Harness {
		r := listen(t, Options{Network: "tls", TLS: srvCfg})
		return sourcetest.Harness{Source: r, Feed: func(t *testing.T, lines []string) {
			c := dial(t, r, cliCfg)
			defer c.Close()
			if _, err := c.Write(frame(lines, true, false)); err != nil {
				t.Error(err)
			}
		}}
	})
}

func TestConformanceUDP(t *testing.T) {
	sourcetest.Run(t, func(t *testing.T, _ []string) sourcetest.Harness {
		r := listen(t, Options{Network: "udp", Queue: 4096})
		return sourcetest.Harness{Source: r, Feed: func(t *testing.T, lines []string) {
			c := dial(t, r, nil)
			defer c.Close()
			for i, l := range lines {
				if _, err := c.Write([]byte(l + "\n")); err != nil {
					t.Error(err)
				}
				// Loopback UDP drops bursts at the socket buffer when the
				// machine is busy: keep at most 32 datagrams in flight
				// (received = delivered to the queue, or dropped and counted).
				deadline := time.Now().Add(5 * time.Second)
				for {
					st := r.Stats()
					if st.Records+st.Dropped >= int64(i+1-32) || time.Now().After(deadline) {
						break
					}
					time.Sleep(100 * time.Microsecond)
				}
			}
		}}
	})
}

func next(t *testing.T, r *Receiver) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	b, err := r.Next(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, rc := range b.Records {
		out = append(out, string(rc.B))
	}
	return out
}

// Malformed frames are counted and sampled, and the connection goes on
// with the next frame.
func TestMalformed(t *testing.T) {
	r := listen(t, Options{Network: "tcp"})
	c := dial(t, r, nil)
	defer c.Close()
	fmt.Fprintf(c, "12x bad\x1b[31m frame\n5 hello")
	var got []string
	for len(got) < 1 {
		got = append(got, next(t, r)...)
	}
	if got[0] != "hello" {
		t.Fatalf("got %q", got)
	}
	if st := r.Stats(); st.Malformed != 1 {
		t.Fatalf("malformed %d", st.Malformed)
	}
	s := r.Samples()
	if len(s) != 1 || strings.Contains(s[0].Text, "\x1b") || !strings.Contains(s[0].Text, "bad") {
		t.Fatalf("samples %+v", s)
	}
}

// A peer that sends megabytes without a newline costs at most MaxLine:
// the message is cut, counted, and the next message arrives.
func TestHugeLine(t *testing.T) {
	r := listen(t, Options{Network: "tcp", MaxLine: 1000})
	c := dial(t, r, nil)
	defer c.Close()
	go func() {
		chunk := bytes.Repeat([]byte("A"), 1<<16)
		for range 256 { // 16 MiB
			if _, err := c.Write(chunk); err != nil {
				return
			}
		}
		c.Write([]byte("\nnext\n"))
	}()
	var got []string
	for len(got) < 2 {
		got = append(got, next(t, r)...)
	}
	if len(got[0]) != 1000 || got[1] != "next" {
		t.Fatalf("got %d bytes then %q", len(got[0]), got[1])
	}
	if st := r.Stats(); st.Truncated != 1 {
		t.Fatalf("truncated %d", st.Truncated)
	}
	// and an octet count far beyond MaxLine
	fmt.Fprintf(c, "99999999 %s", strings.Repeat("B", 5000))
	c.(*net.TCPConn).CloseWrite()
	// the stream ends inside the frame: the connection is closed, the
	// receiver keeps serving.
	c2 := dial(t, r, nil)
	defer c2.Close()
	fmt.Fprintf(c2, "after\n")
	for {
		g := next(t, r)
		if g[len(g)-1] == "after" {
			break
		}
	}
}

// Idle peers: connections beyond MaxConns are refused, silent ones are
// closed after IdleTimeout, and the receiver keeps serving a real sender.
func TestIdleConnections(t *testing.T) {
	r := listen(t, Options{Network: "tcp", MaxConns: 200, IdleTimeout: 300 * time.Millisecond})
	var idle []net.Conn
	for range 300 {
		c, err := net.Dial("tcp", r.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		idle = append(idle, c)
	}
	defer func() {
		for _, c := range idle {
			c.Close()
		}
	}()
	deadline := time.Now().Add(20 * time.Second)
	for r.Stats().Rejected < 100 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if st := r.Stats(); st.Conns > 200 {
		t.Fatalf("%d connections open, limit 200", st.Conns)
	}
	// the silent ones are closed after the idle timeout
	for r.Stats().Conns > 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if st := r.Stats(); st.Conns != 0 {
		t.Fatalf("%d silent connections still open", st.Conns)
	}
	c := dial(t, r, nil)
	defer c.Close()
	fmt.Fprintf(c, "still serving\n")
	if g := next(t, r); g[0] != "still serving" {
		t.Fatalf("got %q", g)
	}
}

// TCP applies backpressure: a consumer that does not read stops the
// receiver from reading (bounded queue), and nothing is lost.
func TestBackpressure(t *testing.T) {
	r := listen(t, Options{Network: "tcp", Queue: 2, BatchSize: 10})
	c := dial(t, r, nil)
	const n = 20000
	done := make(chan struct{})
	go func() {
		defer close(done)
		w := bufio.NewWriter(c)
		for i := range n {
			fmt.Fprintf(w, "line %d\n", i)
		}
		w.Flush()
		c.Close()
	}()
	time.Sleep(50 * time.Millisecond) // the queue fills up
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	got := 0
	for got < n {
		for _, l := range next(t, r) {
			if l != fmt.Sprintf("line %d", got) {
				t.Fatalf("record %d = %q", got, l)
			}
			got++
		}
	}
	<-done
	if st := r.Stats(); st.Dropped != 0 {
		t.Fatalf("TCP dropped %d", st.Dropped)
	}
}

func TestClosedNext(t *testing.T) {
	r := listen(t, Options{Network: "udp"})
	r.Close()
	if _, err := r.Next(context.Background()); !errors.Is(err, source.ErrSourceClosed) {
		t.Fatalf("Next after Close = %v", err)
	}
}

func TestListenErrors(t *testing.T) {
	if _, err := Listen(Options{Network: "sctp", Address: "127.0.0.1:0"}); err == nil {
		t.Error("sctp accepted")
	}
	if _, err := Listen(Options{Network: "tcp", Address: "256.0.0.1:1"}); err == nil {
		t.Error("bad address accepted")
	}
	if _, err := Listen(Options{Network: "tls", Address: "127.0.0.1:0", CertFile: "/nonexistent", KeyFile: "/nonexistent"}); err == nil {
		t.Error("missing certificate accepted")
	}
}

func tlsConfigs(t *testing.T) (srv, cli *tls.Config) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "winnow test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	srv = &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
	cli = &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}
	return srv, cli
}

var _ = io.EOF

// Thousands of connections that send nothing cost bounded memory (no
// per-connection arena while idle) and the receiver keeps serving.
func TestManyIdleConnectionsMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("opens 3000 connections")
	}
	r := listen(t, Options{Network: "tcp"})
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for range 3000 {
		c, err := net.Dial("tcp", r.Addr().String())
		if err != nil {
			t.Skipf("cannot open more connections here: %v", err)
		}
		conns = append(conns, c)
	}
	waitConns := time.Now().Add(20 * time.Second)
	for r.Stats().Conns < 3000 && time.Now().Before(waitConns) {
		time.Sleep(10 * time.Millisecond)
	}
	runtime.GC()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	grown := int64(after.HeapInuse+after.StackInuse) - int64(before.HeapInuse+before.StackInuse)
	// a read buffer (4 KiB) and a goroutine stack per connection: ~12 KiB
	t.Logf("%d bytes per idle connection", grown/3000)
	if per := grown / 3000; per > 32<<10 {
		t.Fatalf("%d bytes per idle connection", per)
	}
	c := dial(t, r, nil)
	defer c.Close()
	fmt.Fprintf(c, "still serving\n")
	if g := next(t, r); g[0] != "still serving" {
		t.Fatalf("got %q", g)
	}
}
