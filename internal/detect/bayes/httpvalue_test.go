package bayes

import (
	"slices"
	"strings"
	"testing"
)

// valueTokens returns the text of the tokens of classes cs that one
// parameter value yields.
func valueTokens(name, value string, cs ...Class) []string {
	tok := NewTokens()
	tok.Verbose = true
	tok.ParamValue(name, value)
	var out []string
	for i, c := range tok.Classes {
		if slices.Contains(cs, c) {
			out = append(out, tok.Text[i])
		}
	}
	slices.Sort(out)
	return out
}

func TestValueProfile(t *testing.T) {
	f := func(name, value, want string) {
		t.Helper()
		got := strings.Join(valueTokens(name, value, HTTPParamChar, HTTPParamGram), " ")
		if got != want {
			t.Errorf("%s=%q: got %q, want %q", name, value, got, want)
		}
	}
	f("dni", "12345678Z", "dni:9A dni:A$ dni:^9 dni∋91 dni∋A1")
	f("email", "a@b@c", "email:@a email:^a email:a$ email:a@ email∋@2 email∋a1")
	f("nombre", "Jal*ed", "nombre:*a nombre:Aa nombre:^A nombre:a$ nombre:a* nombre∋*1 nombre∋A1 nombre∋a1")
}

func TestPayloadClasses(t *testing.T) {
	f := func(value string, want ...string) {
		t.Helper()
		var got []string
		for _, s := range valueTokens("q", value, HTTPPayload) {
			if !strings.Contains(s, ":") {
				got = append(got, s)
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("%q: payload classes %v, want %v", value, got, want)
		}
	}
	f("1' or '1'='1", "sql")
	f("<script>alert(1)</script>", "xss")
	f("../../etc/passwd", "traversal")
	f("x; cat /etc/shadow", "command", "traversal")
	f("a\r\nSet-Cookie: x", "crlf")
	f("Calle Mayor 5, 3-B")
	f("thanks ;) works and or not")
	f("Pablo de la Cruz")
	f(strings.Repeat("A", 600), "long")
}

// TestHTTPGroups checks that each parameter is a group of its own, the
// resource another, and the context (method, directories, agent) group 0.
func TestHTTPGroups(t *testing.T) {
	tok := NewTokens()
	tok.Verbose = true
	r := HTTPRequest{Method: "GET", Path: "/shop/cart/add.jsp", Query: "id=3&name=x'y", UserAgent: "curl/8"}
	tok.HTTP(&r)
	groupOf := map[string]uint8{}
	for i, c := range tok.Classes {
		groupOf[HTTPRequestClassName(c)+" "+tok.Text[i]] = tok.Groups[i]
	}
	want := map[string]uint8{
		"method GET":                 0,
		"segment shop":               0,
		"agent curl/8":               0,
		"segment add.jsp":            groupResource,
		"path /shop/cart/add.jsp":    groupResource,
		"param-list add.jsp?id,name": groupResource,
		"value-shape id=9":           1,
		"param-char name∋'1":         2,
	}
	for k, g := range want {
		if got, ok := groupOf[k]; !ok || got != g {
			t.Errorf("token %q: group %d (present %v), want %d", k, got, ok, g)
		}
	}
}

// HTTPRequestClassName names an HTTP token class (test helper).
func HTTPRequestClassName(c Class) string { return KindHTTP.ClassName(c) }
