package app

import (
	"strings"
	"testing"

	"winnow/internal/testdata"
)

// Captures give DNS and flow findings in one run, the summary names what
// was decoded per protocol, sensors reach the findings, and an audit log
// is recognised by its magic and gives host findings.
func TestAnalyzeNetworkAndHost(t *testing.T) {
	tunnel := testdata.File(t, "elastic-examples/dns_tunnel_detection/dns-tunnel-iodine.pcap")
	scan := testdata.File(t, "attack-pcaps/chrissanders-packets/synscan.pcapng")
	r := analyze(t, []string{tunnel, scan, "../parse/audit/testdata/config-account.log"}, func(o *AnalyzeOptions) {
		o.Sensors = []string{"edge-tap,vantage=edge,input=*.pcap*", "web1,vantage=host"}
	})
	if r.err != nil || r.code != ExitOK {
		t.Fatalf("code %d err %v\n%s", r.code, r.err, r.stderr)
	}
	rules := map[string]bool{}
	for _, d := range r.docs {
		rules[d.Rule.Name] = true
	}
	for _, want := range []string{"dns.tunnel", "net.port_scan", "host.audit_tamper", "host.account_change"} {
		if !rules[want] {
			t.Errorf("no %s finding; rules %v", want, rules)
		}
	}
	for _, want := range []string{"tcp flows", "tcp packets", "dns events", "udp flows"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("summary does not say %q:\n%s", want, r.stderr)
		}
	}
	if !strings.Contains(r.stdout, `"sensors":[{"name":"edge-tap","vantage":"edge","domain":"network"}]`) ||
		!strings.Contains(r.stdout, `{"name":"web1","vantage":"host","domain":"host"}`) {
		t.Errorf("findings do not name their sensors:\n%.2000s", r.stdout)
	}
	if _, err := parseSensors([]string{"x,domain=sky"}); err == nil {
		t.Error("bad domain accepted")
	}
}
