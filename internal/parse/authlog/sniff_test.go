package authlog

import (
	"bytes"
	"os"
	"testing"

	"winnow/internal/parse"
	"winnow/internal/testdata"
)

// head returns the first n non-empty lines of a file, as format detection
// sees them.
func head(t *testing.T, path string, n int) [][]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	for _, l := range bytes.Split(b, []byte("\n")) {
		if len(bytes.TrimSpace(l)) > 0 {
			out = append(out, l)
		}
		if len(out) == n {
			break
		}
	}
	return out
}

// TestFormatSniff: the real syslog files are detected as "syslog"; the real
// web logs, CSVs, JSON, raw HTTP and pcaps are not.
func TestFormatSniff(t *testing.T) {
	fm := Format()
	if fm.Name != "syslog" || fm.Summary == "" || fm.New == nil {
		t.Fatalf("bad format %+v", fm)
	}
	if _, ok := fm.New(parse.Options{}).(*Parser); !ok {
		t.Fatal("New does not return a *Parser")
	}
	var fs parse.Formats
	fs.Add(fm)
	for _, f := range []string{
		"auth-logs/secrepo/auth.log", "auth-logs/dfrws-2009/auth.all.log",
		"auth-logs/honeynet-challenge7/auth.log", "auth-logs/honeynet-challenge7/messages",
		"auth-logs/honeynet-challenge7/syslog", "auth-logs/honeynet-challenge7/daemon.log",
		"elastic-examples/suspicious_login_activity/auth.log",
		"loghub/OpenSSH/OpenSSH_2k.log", "loghub/Linux/Linux_2k.log",
	} {
		lines := head(t, testdata.File(t, f), 32)
		if s := fm.Sniff(lines); s < 0.9 {
			t.Errorf("%s: sniff %.2f, want ≥ 0.9", f, s)
		}
		if got, err := fs.Detect(lines); err != nil || got.Name != "syslog" {
			t.Errorf("%s: detected %q, %v", f, got.Name, err)
		}
	}
	for _, f := range []string{
		"elastic-examples/apache_logs/apache_access.log",
		"loghub/Apache/Apache_2k.log",
		"apache-scanner-logs/acunetix.txt",
		"apache-scanner-logs/netsparker.txt",
		"csic2010/normalTrafficTraining.txt",
		"http-params-dataset/payload_train.csv",
		"sqli-xss-payloads/XSS_dataset.csv",
		"dga-domains/chrmor/dga_domains_sample.csv",
		"dns-tunneling/train.csv",
		"nab/data/artificialNoAnomaly/art_daily_small_noise.csv",
		"nab/labels/combined_windows.json",
		"nsl-kdd/KDDTest+.txt",
		"dns-tunneling/dns2tcp-netrack-2018-03-23.pcap",
		"elastic-examples/dns_tunnel_detection/dns-tunnel-iodine.pcap",
		"loghub/OpenSSH/OpenSSH_2k.log_structured.csv",
	} {
		if s := fm.Sniff(head(t, testdata.File(t, f), 32)); s >= parse.MinSniffScore {
			t.Errorf("%s: sniff %.2f, want < %.2f", f, s, parse.MinSniffScore)
		}
	}
}
