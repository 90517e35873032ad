// Package crowdsec serves winnow's decisions to CrowdSec bouncers: the part
// of CrowdSec's Local API that bouncers poll, so the firewall, nginx and
// custom bouncers users already run enforce winnow's bans unchanged.
//
// Endpoints (all GET, authenticated by the X-Api-Key header):
//
//	/v1/decisions/stream?startup=true|false   {"new":[...],"deleted":[...]}
//	/v1/decisions?ip=ADDR | range=CIDR        [...] or null (live-mode bouncers)
//
// Stream semantics follow the Local API: startup=true (or a bouncer not
// seen before) returns every active decision as new; later polls return
// what was added and deleted since that bouncer's previous poll. Cursors
// are kept per API key in memory: after a restart every bouncer resyncs.
// The optional filters scopes=ip,range, origins=, scenarios_containing= and
// scenarios_not_containing= (comma-separated) are honoured. A decision is
// {id, origin, type, scope, value, duration, scenario, until, simulated}.
//
// A Handler is safe for concurrent use.
package crowdsec

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	"winnow/internal/decide"
)

// Key is one bouncer's API key, stored as the hex SHA-256 of the key so
// the configuration never holds the key itself.
type Key struct {
	Name string // the bouncer's name (for logs and cursors)
	Hash string // hex SHA-256 of the key
}

// HashKey returns the hex SHA-256 of an API key, as Key.Hash stores it.
func HashKey(key string) string {
	h := sha256.Sum256([]byte(key))
	return hex.EncodeToString(h[:])
}

// Handler serves the bouncer API.
type Handler struct {
	dec  *decide.Decider
	now  func() time.Time
	keys []keyHash

	mu      sync.Mutex
	cursors map[string]uint64 // by key name
}

type keyHash struct {
	name string
	sum  [sha256.Size]byte
}

// New builds a Handler over dec for the given keys; now is the clock
// (time.Now when nil). At least one key is required: the API is never
// served without authentication.
func New(dec *decide.Decider, keys []Key, now func() time.Time) (*Handler, error) {
	if len(keys) == 0 {
		return nil, errors.New("cannot serve the bouncer API without an API key")
	}
	h := &Handler{dec: dec, now: now, cursors: map[string]uint64{}}
	if h.now == nil {
		h.now = time.Now
	}
	for _, k := range keys {
		b, err := hex.DecodeString(k.Hash)
		if err != nil || len(b) != sha256.Size {
			return nil, fmt.Errorf("cannot use API key %q: hash must be 64 hex digits (sha256)", k.Name)
		}
		var kh keyHash
		kh.name = k.Name
		copy(kh.sum[:], b)
		h.keys = append(h.keys, kh)
	}
	return h, nil
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	name, ok := h.auth(r.Header.Get("X-Api-Key"))
	if !ok {
		writeJSON(w, http.StatusForbidden, map[string]string{"message": "access forbidden"})
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"message": "method not allowed"})
		return
	}
	f, err := parseFilter(r)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"message": err.Error()})
		return
	}
	switch strings.TrimSuffix(r.URL.Path, "/") {
	case "/v1/decisions/stream":
		h.stream(w, r, name, f)
	case "/v1/decisions":
		h.query(w, r, f)
	default:
		writeJSON(w, http.StatusNotFound, map[string]string{"message": "not found"})
	}
}

// auth returns the name of the key that matches, comparing every key's
// hash in constant time.
func (h *Handler) auth(key string) (string, bool) {
	if key == "" {
		return "", false
	}
	sum := sha256.Sum256([]byte(key))
	name, found := "", 0
	for _, k := range h.keys {
		if subtle.ConstantTimeCompare(sum[:], k.sum[:]) == 1 {
			name, found = k.name, 1
		}
	}
	return name, found == 1
}

// decision is the Local API's decision object.
type decision struct {
	ID        int64  `json:"id"`
	Origin    string `json:"origin"`
	Type      string `json:"type"`
	Scope     string `json:"scope"`
	Value     string `json:"value"`
	Duration  string `json:"duration"`
	Scenario  string `json:"scenario"`
	Until     string `json:"until"`
	Simulated bool   `json:"simulated"`
}

type streamResponse struct {
	New     []decision `json:"new"`
	Deleted []decision `json:"deleted"`
}

func (h *Handler) stream(w http.ResponseWriter, r *http.Request, name string, f filter) {
	h.mu.Lock()
	defer h.mu.Unlock()
	cursor, seen := h.cursors[name]
	if r.URL.Query().Get("startup") == "true" || !seen {
		cursor = 0
	}
	added, deleted, next := h.dec.Changes(cursor)
	h.cursors[name] = next
	h.trimLocked()
	now := h.now()
	resp := streamResponse{New: f.apply(added, now), Deleted: f.apply(deleted, now)}
	writeJSON(w, http.StatusOK, resp)
}

// trimLocked lets the Decider forget changes every bouncer has seen.
func (h *Handler) trimLocked() {
	least := ^uint64(0)
	for _, c := range h.cursors {
		least = min(least, c)
	}
	h.dec.Trim(least)
}

func (h *Handler) query(w http.ResponseWriter, r *http.Request, f filter) {
	q := r.URL.Query()
	var match func(netip.Prefix) bool
	switch {
	case q.Get("ip") != "":
		a, err := netip.ParseAddr(q.Get("ip"))
		if err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"message": "bad ip: " + err.Error()})
			return
		}
		a = a.Unmap()
		match = func(p netip.Prefix) bool { return p.Contains(a) }
	case q.Get("range") != "":
		rng, err := netip.ParsePrefix(q.Get("range"))
		if err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"message": "bad range: " + err.Error()})
			return
		}
		rng = rng.Masked()
		match = func(p netip.Prefix) bool { return p.Overlaps(rng) }
	default:
		match = func(netip.Prefix) bool { return true }
	}
	var out []decide.Decision
	for _, d := range h.dec.Active() {
		if match(d.Prefix) {
			out = append(out, d)
		}
	}
	res := f.apply(out, h.now())
	if len(res) == 0 {
		writeJSON(w, http.StatusOK, nil) // the Local API answers null
		return
	}
	writeJSON(w, http.StatusOK, res)
}

type filter struct {
	scopes, origins, contains, notContains []string
}

func list(r *http.Request, name string) []string {
	v := r.URL.Query().Get(name)
	if v == "" {
		return nil
	}
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, strings.ToLower(s))
		}
	}
	return out
}

func parseFilter(r *http.Request) (filter, error) {
	f := filter{scopes: list(r, "scopes"), origins: list(r, "origins"),
		contains: list(r, "scenarios_containing"), notContains: list(r, "scenarios_not_containing")}
	if s := r.URL.Query().Get("startup"); s != "" && s != "true" && s != "false" {
		return f, fmt.Errorf("startup must be true or false, not %q", s)
	}
	return f, nil
}

func (f filter) keep(d *decide.Decision) bool {
	if len(f.scopes) > 0 && !contains(f.scopes, strings.ToLower(d.Scope)) {
		return false
	}
	if len(f.origins) > 0 && !contains(f.origins, strings.ToLower(d.Origin)) {
		return false
	}
	sc := strings.ToLower(d.Scenario)
	if len(f.contains) > 0 && !anyIn(sc, f.contains) {
		return false
	}
	return !anyIn(sc, f.notContains)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func anyIn(s string, subs []string) bool {
	for _, x := range subs {
		if strings.Contains(s, x) {
			return true
		}
	}
	return false
}

// apply filters and converts; it returns an empty (non-nil) slice when
// nothing is left, which encodes as [] like the Local API.
func (f filter) apply(ds []decide.Decision, now time.Time) []decision {
	out := []decision{}
	for i := range ds {
		d := &ds[i]
		if !f.keep(d) {
			continue
		}
		out = append(out, decision{ID: d.ID, Origin: d.Origin, Type: d.Type, Scope: d.Scope, Value: d.Value,
			Duration: d.Duration(now), Scenario: d.Scenario, Until: d.Until.UTC().Format(time.RFC3339)})
	}
	return out
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// NewKey returns a fresh random API key (43 URL-safe characters, 256 bits)
// and its hash for the configuration.
func NewKey() (key, hash string, err error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", "", fmt.Errorf("cannot make an API key: %w", err)
	}
	key = base64.RawURLEncoding.EncodeToString(b)
	return key, HashKey(key), nil
}
