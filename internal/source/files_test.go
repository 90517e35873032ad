package source_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"winnow/internal/source"
	"winnow/internal/source/sourcetest"
)

// Files over a plain file and a gzip file (the lines split between them)
// and a missing one.
func TestFilesConformance(t *testing.T) {
	sourcetest.Run(t, func(t *testing.T, lines []string) sourcetest.Harness {
		dir := t.TempDir()
		half := len(lines) / 2
		a := filepath.Join(dir, "auth.log.1.gz")
		var gz bytes.Buffer
		zw := gzip.NewWriter(&gz)
		for _, l := range lines[:half] {
			zw.Write([]byte(l + "\n"))
		}
		zw.Close()
		os.WriteFile(a, gz.Bytes(), 0o644)
		b := filepath.Join(dir, "auth.log")
		os.WriteFile(b, []byte(strings.Join(lines[half:], "\n")), 0o644)
		ins, errs := source.Expand([]string{a, b})
		if len(errs) > 0 {
			t.Fatal(errs)
		}
		ins = append(ins, source.Input{Name: "gone", Path: filepath.Join(dir, "gone")})
		return sourcetest.Harness{Source: source.NewFiles("auth", ins, nil, source.Options{})}
	})
}

func TestFilesErrors(t *testing.T) {
	dir := t.TempDir()
	ok := filepath.Join(dir, "ok.log")
	os.WriteFile(ok, []byte("one\ntwo\n"), 0o644)
	f := source.NewFiles("x", []source.Input{{Name: "gone", Path: filepath.Join(dir, "gone")}, {Name: ok, Path: ok}}, nil, source.Options{})
	var got []string
	for {
		b, err := f.Next(context.Background())
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range b.Records {
			got = append(got, string(r.B)+"@"+r.File)
		}
		if b.Pos.Path != ok || b.Pos.Line != 2 || b.Pos.Offset != 8 || b.Pos.ID == "" {
			t.Fatalf("position %+v", b.Pos)
		}
	}
	if strings.Join(got, ",") != "one@"+ok+",two@"+ok {
		t.Fatalf("records %v", got)
	}
	if errs := f.Errs(); len(errs) != 1 || !strings.Contains(errs[0].Error(), "gone") {
		t.Fatalf("errs %v", errs)
	}
}
