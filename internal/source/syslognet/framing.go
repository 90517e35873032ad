package syslognet

import (
	"bufio"
	"bytes"
	"errors"
	"io"
)

// ErrMalformed is wrapped by a framer's error for a frame it could not
// split: an octet count that is not followed by a space, or has more than
// nine digits. The framer then skips to the next newline and goes on.
var ErrMalformed = errors.New("malformed syslog frame")

// framer splits a stream syslog transport (TCP, TLS) into messages. The
// framing is decided per message by its first byte, as rsyslog and
// syslog-ng do: a digit starts RFC 6587 octet counting ("LEN SP MSG"),
// anything else is a message terminated by a newline (RFC 6587
// non-transparent framing; a trailing '\r' and NUL terminators are
// accepted). A message longer than max is cut to max bytes (truncated is
// set) and the rest of it is read and dropped, so memory never exceeds max
// per connection whatever the peer sends.
type framer struct {
	br  *bufio.Reader
	max int
}

// next returns the next message, appended to buf (the caller's arena; the
// message is buf[len(buf):] of the result). At the end of the stream it
// returns io.EOF (a final message without terminator is delivered first);
// a malformed frame returns ErrMalformed with the bad bytes as the message
// (for sampling), after skipping to the next newline.
func (f *framer) next(buf []byte) (out []byte, msgStart int, truncated bool, err error) {
	start := len(buf)
	for {
		c, err := f.br.ReadByte()
		if err != nil {
			return buf, start, false, err
		}
		if c == '\n' || c == '\r' || c == 0 || c == ' ' {
			continue // empty frames and stray separators between frames
		}
		if err := f.br.UnreadByte(); err != nil {
			return buf, start, false, err
		}
		if c >= '0' && c <= '9' {
			return f.octets(buf, start)
		}
		return f.line(buf, start)
	}
}

// octets reads "LEN SP MSG".
func (f *framer) octets(buf []byte, start int) ([]byte, int, bool, error) {
	n, digits := 0, 0
	for {
		c, err := f.br.ReadByte()
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return buf, start, false, err
		}
		if c >= '0' && c <= '9' && digits < 9 {
			n = n*10 + int(c-'0')
			digits++
			continue
		}
		if c == ' ' && digits > 0 {
			break
		}
		// Not octet counting after all: resynchronise at the next newline.
		buf = append(buf, c)
		buf, _, err = f.until(buf, start)
		if err != nil && !errors.Is(err, io.EOF) {
			return buf, start, false, err
		}
		return buf, start, false, ErrMalformed
	}
	keep := min(n, f.max)
	for keep > 0 {
		p, err := f.br.Peek(min(keep, f.br.Size()))
		if len(p) == 0 && err != nil {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return buf, start, false, err
		}
		buf = append(buf, p...)
		_, _ = f.br.Discard(len(p))
		keep -= len(p)
	}
	if rest := n - f.max; rest > 0 {
		if _, err := f.br.Discard(rest); err != nil {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return buf, start, true, err
		}
		return buf, start, true, nil
	}
	return trimEnd(buf, start), start, false, nil
}

// line reads up to a newline or NUL.
func (f *framer) line(buf []byte, start int) ([]byte, int, bool, error) {
	buf, truncated, err := f.until(buf, start)
	if err != nil && (!errors.Is(err, io.EOF) || len(buf) == start) {
		return buf, start, truncated, err
	}
	return trimEnd(buf, start), start, truncated, nil
}

// until appends bytes up to the next '\n' or NUL (consumed, not appended),
// keeping at most max bytes of the message and dropping the rest.
func (f *framer) until(buf []byte, start int) ([]byte, bool, error) {
	truncated := false
	for {
		if _, err := f.br.Peek(1); err != nil {
			return buf, truncated, err
		}
		p, _ := f.br.Peek(f.br.Buffered())
		i := bytes.IndexAny(p, "\n\x00")
		if i >= 0 {
			buf, truncated = f.keep(buf, start, p[:i], truncated)
			_, _ = f.br.Discard(i + 1)
			return buf, truncated, nil
		}
		buf, truncated = f.keep(buf, start, p, truncated)
		_, _ = f.br.Discard(len(p))
	}
}

func (f *framer) keep(buf []byte, start int, p []byte, truncated bool) ([]byte, bool) {
	room := f.max - (len(buf) - start)
	if len(p) > room {
		p = p[:max(room, 0)]
		truncated = true
	}
	return append(buf, p...), truncated
}

// trimEnd drops a trailing '\r' (and '\n') from the message at buf[start:].
func trimEnd(buf []byte, start int) []byte {
	for len(buf) > start && (buf[len(buf)-1] == '\r' || buf[len(buf)-1] == '\n') {
		buf = buf[:len(buf)-1]
	}
	return buf
}
