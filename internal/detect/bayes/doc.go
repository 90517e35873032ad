// Package bayes is winnow's Bayesian good/bad filter: spam filtering
// applied to security events. It learns, per token of an event, how many
// good and how many bad training items contained it, and combines the
// evidence of a new item's tokens with Robinson's token probabilities and
// Fisher's chi-square method (as SpamBayes does); see Model.
//
// Tokenisers, one per kind of item (each documents its token classes):
//
//   - HTTP (Tokens.HTTP): method, path segments and their shapes, the
//     whole path and its shape, extension, parameter names (alone, per
//     resource, and the resource's name list), per parameter the shape,
//     length bucket and (short, digit-free) exact value, the character
//     classes and symbols it holds and the bigrams of its class string
//     (its make-up, which carries to values never seen), the payload
//     classes of decoded values (SQL, XSS, traversal, command, CRLF, SSI,
//     filter syntax), the words, symbol runs and symbol-bearing trigrams
//     of decoded values, encoding oddities (double encoding, %u, NUL),
//     and the user agent.
//   - auth (Tokens.Auth): action and outcome, program, method, account
//     class and name, target account and command, hour bucket and
//     weekday/weekend (also per account), source address class, network
//     and address (also per account), flags, message words.
//   - DNS (Tokens.DNS, Tokens.DNSName): label shapes and lengths by
//     position, label count, name length, registered domain and public
//     suffix, character set and bigrams of the subdomain, query type and
//     response code.
//
// Tokens are combined per part of an item (Tokens.Groups; for HTTP the
// context, the resource and each parameter) and an item scores as its
// worst part, so that the ordinary parameters of a form do not outvote the
// one that carries an attack. Tokens that name instances (words, exact
// values, trigrams) need many items before they count (classStrength), so
// a name that happened to occur in a few training attacks does not
// condemn the next request that carries it.
//
// Unknown tokens are not simply neutral: each token class learns (by
// Good–Turing, from the tokens seen once in each corpus) how likely a
// never-seen token of that class is to come from bad traffic. An unseen
// parameter name or path shape is suspicious; an unseen word usually is
// not.
//
// Training (Trainer) holds out a deterministic validation split and picks
// the threshold that minimises the stated costs of blocking good items and
// missing bad ones. Models are saved in a versioned, checksummed binary
// format (see format.go) holding token hashes, not token text, and can be
// trained further (feedback). Spec wraps a model as the pipeline detector
// "bayes.<kind>".
package bayes
