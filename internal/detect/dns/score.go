package dns

import (
	"math"
	"strings"
)

// DGA scoring: the registered label's per-character surprisal under the
// benign model plus shape features, combined by the model's logistic
// weights into a probability-like score in [0,1].

// DGAInputs are the features the DGA score is a function of.
type DGAInputs struct {
	BitsPerChar float64 // surprisal per symbol (end marker included)
	LogLen      float64 // ln(1 + length)
	Digits      float64 // share of digits
	Vowels      float64 // share of vowels among letters
	ConsRun     float64 // longest consonant run / length
	Unique      float64 // distinct characters / length
	Hyphens     float64 // share of hyphens
	RareShare   float64 // share of symbols costing ≥ 8 bits under the character model (transitions benign names almost never make)
	MaxBits     float64 // the costliest symbol's surprisal, bits
}

// dgaFeatureNames are the weight names, in DGAInputs order.
var dgaFeatureNames = []string{"bpc", "loglen", "digits", "vowels", "consrun", "unique", "hyphens", "rare", "maxbits"}

// Vector returns the inputs in dgaFeatureNames order.
func (d DGAInputs) Vector() []float64 {
	return []float64{d.BitsPerChar, d.LogLen, d.Digits, d.Vowels, d.ConsRun, d.Unique, d.Hyphens, d.RareShare, d.MaxBits}
}

// DGAFeatureNames lists the DGA score's inputs (weight names besides
// "bias").
func DGAFeatureNames() []string { return append([]string(nil), dgaFeatureNames...) }

// LabelInputs computes the DGA inputs of a registered label.
func LabelInputs(m *Model, label string) DGAInputs {
	var d DGAInputs
	n := len(label)
	if n == 0 {
		return d
	}
	bits, syms := m.Surprisal(label)
	d.BitsPerChar = bits / float64(syms)
	rare, maxBits := m.symbolCosts(label)
	d.RareShare = float64(rare) / float64(syms)
	d.MaxBits = maxBits
	d.LogLen = math.Log1p(float64(n))
	digits, vowels, letters, hyph, run, maxRun := 0, 0, 0, 0, 0, 0
	var seen [256]bool
	uniq := 0
	for i := 0; i < n; i++ {
		c := label[i]
		if !seen[c] {
			seen[c] = true
			uniq++
		}
		switch {
		case c >= '0' && c <= '9':
			digits++
			run = 0
		case c == '-':
			hyph++
			run = 0
		case strings.IndexByte("aeiouy", c) >= 0:
			vowels++
			letters++
			run = 0
		case c >= 'a' && c <= 'z':
			letters++
			run++
			maxRun = max(maxRun, run)
		default:
			run = 0
		}
	}
	d.Digits = float64(digits) / float64(n)
	if letters > 0 {
		d.Vowels = float64(vowels) / float64(letters)
	}
	d.ConsRun = float64(maxRun) / float64(n)
	d.Unique = float64(uniq) / float64(n)
	d.Hyphens = float64(hyph) / float64(n)
	return d
}

// DGAScore is the model's DGA probability for a registered label.
func (m *Model) DGAScore(label string) float64 {
	if label == "" {
		return 0
	}
	x := LabelInputs(m, label).Vector()
	z := m.weights["bias"]
	for i, name := range dgaFeatureNames {
		z += m.weights[name] * x[i]
	}
	return sigmoid(z)
}

func sigmoid(z float64) float64 { return 1 / (1 + math.Exp(-z)) }

// Tunnel scoring of one query name. Additive evidence in log-odds, each
// term a feature that encoded payload has and hostnames chosen by people
// do not; the weights are fixed and documented here (they were set on
// general grounds and checked against benign host names and the
// dns-tunneling training set, not fitted to one tool):
//
//	payload   (SubBits − 3·SubLen − 50) / 12: the subdomain's surprisal
//	          beyond 3 bits per byte (what word-like host names cost under
//	          the benign model); 0 at 110 excess bits. Host names chosen by
//	          people stay below ≈ 45 excess bits (CDN names with random parts, such as googlevideo.com's, reach ≈ 75); a 63-byte base32 label
//	          has ≈ 150, a full 250-byte tunnel name ≈ 1,000
//	          (a subdomain whose longest label is ≤ 40 hex bytes, with at
//	          most 20 other bytes, is a hash identifier: payload at most
//	          −1 and no shape term for the name alone; its domain still
//	          counts it as encoded, see TunnelEvidence.Stream)
//	long      +1.5 if a label ≥ 40 bytes (encoders fill labels)
//	special   +3 if the subdomain has bytes no hostname has (+ / = binary)
//	mixed     +2 if a label mixes cases (not 0x20 randomisation)
//	shape     +1 if the longest label is hex/base32/base64 text
//	qtype     +1 for NULL/private types, +0.5 for TXT, ANY, KEY
const (
	tunnelBitsPerByte = 3.0
	tunnelExcessZero  = 110.0
	tunnelExcessScale = 12.0
)

// TunnelEvidence is the per-query tunnel score with the terms that made it.
type TunnelEvidence struct {
	Score   float64            // 0–1
	Logit   float64            // sum of the terms
	Terms   map[string]float64 // nonzero terms by name (nil when not requested)
	Payload float64            // SubBits
	// Stream is the score the name contributes to its domain's judgement:
	// Score, except for hash-like names (one hex label of a hash's
	// length), which are no evidence alone but are as a stream.
	Stream float64
}

// TunnelScore scores one query name (qtype may be "").
func TunnelScore(f *Features, qtype string, explain bool) TunnelEvidence {
	ev := TunnelEvidence{Payload: f.SubBits}
	add := func(k string, v float64) {
		ev.Logit += v
		if explain && v != 0 {
			if ev.Terms == nil {
				ev.Terms = map[string]float64{}
			}
			ev.Terms[k] = math.Round(v*100) / 100
		}
	}
	excess := math.Min(f.SubBits-tunnelBitsPerByte*float64(f.SubLen), 1000)
	payload := (excess - tunnelExcessZero) / tunnelExcessScale
	hashID := f.Shape == "hex" && f.MaxLabel <= 40 && f.SubLen-f.MaxLabel <= 20
	if hashID {
		// One hex label of a hash's length (MD5, SHA-1) and a word or
		// two: an identifier that services put in names (ad frames,
		// caches). The name alone is no evidence; many of them under one
		// domain still are (Stream).
		ev.Stream = sigmoid(ev.Logit + payload + 1 + qtypeWeight(qtype) + extras(f))
		payload = math.Min(payload, -1)
	}
	add("payload", payload)
	if f.MaxLabel >= 40 {
		add("long_label", 1.5)
	}
	if f.Special > 0 {
		add("special_bytes", 3)
	}
	if f.Mixed {
		add("mixed_case", 2)
	}
	if f.Shape != "" && !hashID {
		add("encoded_shape", 1)
	}
	add("qtype", qtypeWeight(qtype))
	ev.Score = sigmoid(ev.Logit)
	if !hashID {
		ev.Stream = ev.Score
	}
	return ev
}

// extras is the sum of the name-shape terms other than payload, shape
// and qtype (used for the undemoted Stream score of hash-like names).
func extras(f *Features) float64 {
	x := 0.0
	if f.MaxLabel >= 40 {
		x += 1.5
	}
	if f.Special > 0 {
		x += 3
	}
	if f.Mixed {
		x += 2
	}
	return x
}

// qtypeWeight is the per-query evidence of a question type.
func qtypeWeight(t string) float64 {
	switch t {
	case "NULL":
		return 1
	case "TXT", "ANY", "KEY":
		return 0.5
	}
	if strings.HasPrefix(t, "TYPE") { // unassigned/private types
		return 1
	}
	return 0
}

// RareType reports whether a question type is one tunnels favour (TXT,
// NULL, CNAME, MX, ANY, KEY, SRV and unassigned types) rather than the
// A/AAAA/HTTPS/PTR of ordinary lookups.
func RareType(t string) bool {
	switch t {
	case "A", "AAAA", "HTTPS", "SVCB", "PTR", "SOA", "NS", "DS", "DNSKEY", "":
		return false
	}
	return true
}

// InTrainSplit says whether a labelled name belongs to the training half
// of a data set (FNV-1a of the lower-case name, even): the model builder
// trains on it, the tests evaluate on the other half.
func InTrainSplit(name string) bool {
	name = strings.ToLower(strings.TrimSpace(name))
	h := uint32(2166136261)
	for i := 0; i < len(name); i++ {
		h ^= uint32(name[i])
		h *= 16777619
	}
	return h%2 == 0
}
