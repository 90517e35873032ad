package profile

import "strings"

// Client names a user agent's software as "family/OS" for profiles:
// "Firefox/Linux", "IE/Windows", "curl", "Googlebot". The distinction that
// matters is the one an analyst would make between two machines or two
// programs; versions are ignored so upgrades are not changes.
func Client(ua string) string {
	if ua == "" || ua == "-" {
		return "(none)"
	}
	l := strings.ToLower(ua)
	for _, t := range []struct{ marker, name string }{
		{"googlebot", "Googlebot"}, {"bingbot", "Bingbot"}, {"sqlmap", "sqlmap"}, {"nikto", "Nikto"}, {"nmap", "Nmap"},
		{"masscan", "masscan"}, {"zgrab", "zgrab"}, {"curl/", "curl"}, {"wget/", "Wget"}, {"python-requests", "python-requests"},
		{"python-urllib", "python-urllib"}, {"go-http-client", "Go-http-client"}, {"java/", "Java"}, {"okhttp", "okhttp"},
		{"libwww-perl", "libwww-perl"}, {"powershell", "PowerShell"}, {"winhttp", "WinHTTP"},
	} {
		if strings.Contains(l, t.marker) {
			return t.name
		}
	}
	for _, b := range []string{"bot", "crawler", "spider", "slurp"} {
		if strings.Contains(l, b) {
			return "crawler"
		}
	}
	fam := ""
	switch {
	case strings.Contains(l, "edg/") || strings.Contains(l, "edge/"):
		fam = "Edge"
	case strings.Contains(l, "opr/") || strings.HasPrefix(l, "opera"):
		fam = "Opera"
	case strings.Contains(l, "firefox/") || strings.Contains(l, "fxios/"):
		fam = "Firefox"
	case strings.Contains(l, "chrome/") || strings.Contains(l, "crios/") || strings.Contains(l, "chromium/"):
		fam = "Chrome"
	case strings.Contains(l, "msie ") || strings.Contains(l, "trident/"):
		fam = "IE"
	case strings.Contains(l, "safari/"):
		fam = "Safari"
	}
	os := ""
	switch {
	case strings.Contains(l, "android"):
		os = "Android"
	case strings.Contains(l, "iphone") || strings.Contains(l, "ipad") || strings.Contains(l, "ipod"):
		os = "iOS"
	case strings.Contains(l, "windows"):
		os = "Windows"
	case strings.Contains(l, "mac os x") || strings.Contains(l, "macintosh"):
		os = "macOS"
	case strings.Contains(l, "cros"):
		os = "ChromeOS"
	case strings.Contains(l, "linux") || strings.Contains(l, "x11"):
		os = "Linux"
	}
	switch {
	case fam != "" && os != "":
		return fam + "/" + os
	case fam != "":
		return fam
	case os != "":
		return "other/" + os
	}
	// Unknown software: its product token, without the version.
	tok := ua
	if i := strings.IndexAny(tok, "/ ("); i > 0 {
		tok = tok[:i]
	}
	if len(tok) > 32 {
		tok = tok[:32]
	}
	return tok
}
