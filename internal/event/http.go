package event

// HTTP is the web part of an access-log event (ECS http.*, url.*,
// user_agent.*). Strings are immutable and may be retained.
type HTTP struct {
	Site      string // virtual host or site name the request was served for ("" when the log has none)
	Method    string // ECS http.request.method
	Path      string // ECS url.path, as logged (still percent-encoded)
	Query     string // ECS url.query, without '?', as logged
	Status    int    // ECS http.response.status_code (0 when the request line was invalid)
	Bytes     int64  // ECS http.response.body.bytes (-1 when "-")
	Referrer  string // ECS http.request.referrer
	UserAgent string // ECS user_agent.original
}
