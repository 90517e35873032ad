package learn

import "winnow/internal/learn/rules"

func rulesOptions(conf, lift float64) rules.Options {
	return rules.Options{MinSupport: 0.01, MinCount: 3, MinConfidence: conf, MinLift: lift}
}
