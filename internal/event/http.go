package event

// HTTP is the web part of an access-log event (ECS http.*, url.*,
// user_agent.*). Strings are immutable and may be retained.
type HTTP struct {
	Site      string // virtual host or site name the request was served for ("" when the log has none)
	Method    string // ECS http.request.method
	Path      string // ECS url.path, as logged (still percent-encoded)
	Query     string // ECS url.query, without '?', as logged
	Status    int    // ECS http.response.status_code (0 when the log has "-")
	Bytes     int64  // ECS http.response.body.bytes (-1 when "-")
	Referrer  string // ECS http.request.referrer
	UserAgent string // ECS user_agent.original
	Protocol  string // "HTTP/1.1"; "" when the request line named none (HTTP/0.9) or was invalid

	// PathDecoded and QueryDecoded are Path and Query decoded once by the
	// parser for every detector (see access.Decode): the log's own escapes
	// (\" \\ \xHH) undone, then percent-decoding repeated while it changes
	// (double encoding), %uXXXX, overlong UTF-8 forms of ASCII and
	// full-width ASCII folded; '+' is a space in the query only. They are
	// the same strings as Path and Query when nothing was encoded.
	PathDecoded  string
	QueryDecoded string
	// Ext is the lower-case extension of PathDecoded's last segment
	// without the dot ("php", "tar.gz" gives "gz"), "" if it has none.
	Ext string
	// Invalid is set when the request line was not "METHOD TARGET
	// [PROTOCOL]" (TLS handshakes and junk sent to a plain-HTTP port, "-"):
	// Method is empty and Path holds the request line as logged.
	Invalid bool
}
