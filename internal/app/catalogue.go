package app

import (
	"fmt"
	"strings"

	"winnow/internal/detect"
	"winnow/internal/detect/bayes"
	"winnow/internal/detect/indicator"
)

// DetectorCatalogue renders every detector for 'winnow detectors': those
// that always run, then those an option enables (ioc.match with --iocs,
// bayes.<kind> with --model), with the option named.
func DetectorCatalogue() string {
	var b strings.Builder
	b.WriteString(DescribeDetectors(NewRegistry()))
	b.WriteString("Enabled by an option:\n\n")
	opt := &detect.Registry{}
	ioc := indicator.Spec(nil) // described only; New is never called
	ioc.Summary += "; enabled by --iocs FILE"
	_ = opt.Register(ioc)
	for _, k := range []bayes.Kind{bayes.KindHTTP, bayes.KindAuth, bayes.KindDNS} {
		s := bayes.Spec(&bayes.Model{Kind: k})
		s.Summary = fmt.Sprintf("trained Bayesian good/bad filter for %s events; enabled by --model FILE.wnm (a %s model from 'winnow train --kind %s'); warns when most events are unknown to the model", k, k, k)
		_ = opt.Register(s)
	}
	b.WriteString(DescribeDetectors(opt))
	return b.String()
}
