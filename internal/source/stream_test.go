package source_test

import (
	"io"
	"strings"
	"testing"

	"winnow/internal/source"
	"winnow/internal/source/sourcetest"
)

func TestStreamConformance(t *testing.T) {
	sourcetest.Run(t, func(t *testing.T, lines []string) sourcetest.Harness {
		// CRLF and LF mixed; the last line ends without a terminator
		body := ""
		if len(lines) > 0 {
			body = strings.Join(lines[:len(lines)-1], "\r\n") + "\n" + lines[len(lines)-1]
		}
		return sourcetest.Harness{Source: source.NewStream("-", &slowReader{r: strings.NewReader(body)}, 0)}
	})
}

// slowReader returns odd-sized pieces, splitting lines across reads.
type slowReader struct{ r io.Reader }

func (s *slowReader) Read(p []byte) (int, error) {
	if len(p) > 333 {
		p = p[:333]
	}
	return s.r.Read(p)
}
