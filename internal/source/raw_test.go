package source_test

import (
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"testing"

	"winnow/internal/source"
)

// OpenRaw shows a gzip input's decompressed head, streams it from its first
// byte, and replays stdin for the line reader.
func TestOpenRaw(t *testing.T) {
	body := append([]byte{0xd4, 0xc3, 0xb2, 0xa1}, bytes.Repeat([]byte("x"), 1000)...) // pcap magic
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(body)
	zw.Close()
	path := filepath.Join(t.TempDir(), "cap.pcap.gz")
	os.WriteFile(path, gz.Bytes(), 0o644)
	raw, replay, err := source.OpenRaw(source.Input{Name: path, Path: path}, nil)
	if err != nil || replay != nil {
		t.Fatal(err, replay)
	}
	defer raw.Close()
	if !bytes.Equal(raw.Head(), body[:source.HeadLen]) {
		t.Fatalf("head %x", raw.Head()[:8])
	}
	all, _ := io.ReadAll(raw.Stream())
	if !bytes.Equal(all, body) || raw.DecompressErr() != nil || raw.BytesRead() != int64(gz.Len()) {
		t.Fatalf("stream %d bytes, err %v, read %d", len(all), raw.DecompressErr(), raw.BytesRead())
	}

	stdin := bytes.NewReader([]byte("Nov 22 10:00:00 h sshd[1]: hello\n"))
	raw, replay, err = source.OpenRaw(source.Input{Name: source.StdinName}, stdin)
	if err != nil || replay == nil {
		t.Fatal(err)
	}
	raw.Close()
	again, _ := io.ReadAll(replay)
	if string(again) != "Nov 22 10:00:00 h sshd[1]: hello\n" {
		t.Fatalf("replay %q", again)
	}
	// a truncated gzip stream is reported by DecompressErr
	os.WriteFile(path, gz.Bytes()[:gz.Len()-12], 0o644)
	raw, _, _ = source.OpenRaw(source.Input{Name: path, Path: path}, nil)
	io.ReadAll(raw.Stream())
	if raw.DecompressErr() == nil {
		t.Fatal("truncated gzip not reported")
	}
	raw.Close()
}
