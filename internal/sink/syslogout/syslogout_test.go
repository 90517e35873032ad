package syslogout

import (
	"bufio"
	"context"
	"io"
	"net"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"winnow/internal/sink"
	"winnow/internal/sink/sinktest"
)

// tcpReceiver accepts connections and splits octet-counted frames.
type tcpReceiver struct {
	ln   net.Listener
	mu   sync.Mutex
	msgs []string
}

func newTCP(t *testing.T) *tcpReceiver {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &tcpReceiver{ln: ln}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go r.read(c)
		}
	}()
	t.Cleanup(func() { ln.Close() })
	return r
}

func (r *tcpReceiver) read(c net.Conn) {
	defer c.Close()
	br := bufio.NewReader(c)
	for {
		ls, err := br.ReadString(' ')
		if err != nil {
			return
		}
		n, err := strconv.Atoi(strings.TrimSpace(ls))
		if err != nil {
			return
		}
		b := make([]byte, n)
		if _, err := io.ReadFull(br, b); err != nil {
			return
		}
		r.mu.Lock()
		r.msgs = append(r.msgs, string(b))
		r.mu.Unlock()
	}
}

var incRE = regexp.MustCompile(`incident="([^"]*)"`)

// wait returns the incidents of the messages once n arrived (or after 10s).
func (r *tcpReceiver) wait(n int) []string {
	deadline := time.Now().Add(10 * time.Second)
	for {
		r.mu.Lock()
		msgs := append([]string(nil), r.msgs...)
		r.mu.Unlock()
		if len(msgs) >= n || time.Now().After(deadline) {
			var out []string
			for _, m := range msgs {
				if s := incRE.FindStringSubmatch(m); s != nil {
					out = append(out, s[1])
				}
			}
			return out
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestConformanceTCP(t *testing.T) {
	sinktest.Run(t, func(t *testing.T) (sink.Sink, func() []string) {
		rc := newTCP(t)
		s, err := New(Options{Network: "tcp", Address: rc.ln.Addr().String(), Hostname: "sensor1"})
		if err != nil {
			t.Fatal(err)
		}
		return s, func() []string {
			n := int(s.Stats().Written)
			return rc.wait(n)
		}
	})
}

var rfc5424 = regexp.MustCompile(`^<(\d+)>1 \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z sensor1 winnow - auth\.brute_force \[winnow@32473 rule="auth\.brute_force" entity="ip:203\.0\.113\.7" severity="73" [^\n]*\] [^\n]+$`)

func TestFormatUDP(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	for _, format := range []string{"rfc5424", "cef"} {
		s, err := New(Options{Network: "udp", Address: pc.LocalAddr().String(), Hostname: "sensor1", Format: format, Facility: 4})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Write(sinktest.Finding("inc1")); err != nil {
			t.Fatal(err)
		}
		_ = pc.SetReadDeadline(time.Now().Add(10 * time.Second))
		buf := make([]byte, 8192)
		n, _, err := pc.ReadFrom(buf)
		if err != nil {
			t.Fatal(err)
		}
		msg := string(buf[:n])
		m := rfc5424.FindStringSubmatch(msg)
		if m == nil {
			t.Fatalf("%s: not the expected RFC 5424 message: %q", format, msg)
		}
		if m[1] != strconv.Itoa(4*8+3) {
			t.Errorf("PRI %s, want facility 4 severity 3 = 35", m[1])
		}
		if strings.ContainsAny(msg, "\n\r") {
			t.Errorf("control bytes from the description reached the wire: %q", msg)
		}
		if format == "cef" {
			if !strings.Contains(msg, `] CEF:0|winnow|winnow|dev|auth.brute_force|made 42 failed logins for 3 accounts "root" ] \\ \| =   forged line|7|`) {
				t.Errorf("CEF header not escaped as expected: %q", msg)
			}
			if !strings.Contains(msg, "src=203.0.113.7 suser=root cs1Label=entity cs1=ip:203.0.113.7 cs2Label=incident cs2=inc1") {
				t.Errorf("CEF extension: %q", msg)
			}
		} else if !strings.Contains(msg, `user="root" incident="inc1" update="1" open="true"] made 42`) {
			t.Errorf("structured data: %q", msg)
		}
		_ = s.Close(context.Background())
	}
}

// A receiver that went away: the sink redials on the next Write.
func TestReconnect(t *testing.T) {
	rc := newTCP(t)
	addr := rc.ln.Addr().String()
	s, _ := New(Options{Network: "tcp", Address: addr, Hostname: "sensor1"})
	defer s.Close(context.Background())
	if err := s.Write(sinktest.Finding("a")); err != nil {
		t.Fatal(err)
	}
	rc.wait(1)
	s.conn.Close() // the connection dies under the sink
	if err := s.Write(sinktest.Finding("b")); err != nil {
		t.Fatal(err)
	}
	if got := rc.wait(2); len(got) != 2 || got[1] != "b" {
		t.Fatalf("after reconnect: %v", got)
	}
}

func TestOptions(t *testing.T) {
	bad := []Options{
		{Network: "x", Address: "127.0.0.1:1"},
		{Network: "tcp", Address: "nohost"},
		{Network: "tcp", Address: "127.0.0.1:1", Format: "json"},
		{Network: "tcp", Address: "127.0.0.1:1", Facility: 24},
		{Network: "tls", Address: "127.0.0.1:1", CAFile: "/nonexistent"},
	}
	for _, o := range bad {
		if _, err := New(o); err == nil {
			t.Errorf("New(%+v) accepted", o)
		}
	}
}

func TestHeader(t *testing.T) {
	f := func(in string, n int, want string) {
		t.Helper()
		if got := header(in, n); got != want {
			t.Errorf("header(%q, %d) = %q, want %q", in, n, got, want)
		}
	}
	f("", 5, "-")
	f("a b", 5, "a_b")
	f("abcdefgh", 3, "abc")
	f("é", 5, "__")
}
