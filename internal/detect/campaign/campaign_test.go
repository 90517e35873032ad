package campaign_test

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"winnow/internal/app"
	"winnow/internal/detect/detecttest"
	"winnow/internal/testdata"
)

// TestSecrepo: the secrepo server's auth.log. Its three heaviest sources
// (and a fourth as heavy) tried one 47-name list of accounts; the stream
// detector must report them as one campaign explained by that list, and
// must not mix the 47-name list with other lists.
func TestSecrepo(t *testing.T) {
	if detecttest.Race {
		t.Skip("a whole real log: run without -race (make test runs both)")
	}
	var out, errb bytes.Buffer
	o := app.AnalyzeOptions{Args: []string{testdata.File(t, "auth-logs/secrepo/auth.log")}, Year: 2016, TZ: "UTC",
		Only: []string{"campaign."}, MinSeverity: "info", Output: "json", Stdout: &out, Stderr: &errb, Quiet: true}
	if code, err := app.Analyze(context.Background(), o); err != nil || code != 0 {
		t.Fatalf("analyze: %d %v %s", code, err, errb.String())
	}
	heaviest := []string{"61.197.203.243", "220.99.93.50", "218.25.17.234"}
	found := false
	campaigns := 0
	for _, l := range strings.Split(out.String(), "\n") {
		if !strings.Contains(l, `"record":"finding"`) {
			continue
		}
		campaigns++
		var d struct {
			Rule struct {
				Description string `json:"description"`
			} `json:"rule"`
			Winnow struct {
				Evidence struct {
					Members     []string `json:"members"`
					SharedCount int      `json:"shared_names_count"`
				} `json:"evidence"`
			} `json:"winnow"`
		}
		if err := json.Unmarshal([]byte(l), &d); err != nil {
			t.Fatal(err)
		}
		ev := d.Winnow.Evidence
		has := 0
		for _, m := range ev.Members {
			for _, h := range heaviest {
				if m == h {
					has++
				}
			}
		}
		if has == 3 && ev.SharedCount == 47 && strings.Contains(d.Rule.Description, "the same 47-name account list") {
			found = true
			if len(ev.Members) > 4 {
				t.Errorf("the 47-name campaign absorbed other sources: %v", ev.Members)
			}
		}
		if has > 0 && ev.SharedCount != 47 && has == len(ev.Members) {
			t.Errorf("a campaign of 47-name sources not explained by the list: %s", d.Rule.Description)
		}
	}
	t.Logf("%d campaign findings", campaigns)
	if !found {
		t.Errorf("no campaign of the three heaviest sources with their 47-name list:\n%s", out.String())
	}
}
