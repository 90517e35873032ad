package web

import (
	"net/netip"
	"strings"
	"unsafe"
)

// lowerASCII returns s lower-cased (without allocating when it already is).
func lowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			return strings.ToLower(s)
		}
	}
	return s
}

// wellKnown are paths every client may ask for and many sites lack: their
// 404s say nothing about the client.
func wellKnown(p string) bool {
	switch p {
	case "/robots.txt", "/favicon.ico", "/sitemap.xml", "/ads.txt", "/app-ads.txt", "/humans.txt", "/security.txt",
		"/browserconfig.xml", "/crossdomain.xml", "/manifest.json", "/site.webmanifest", "/favicon.png", "/sitemap_index.xml":
		return true
	}
	return strings.HasPrefix(p, "/.well-known/") || strings.HasPrefix(p, "/apple-touch-icon")
}

// ------------------------------------------------------ sensitive files

// sensitiveKind names what a sensitive path exposes.
type sensitiveKind uint8

const (
	sensNone    sensitiveKind = iota
	sensVCS                   // .git/, .svn/, .hg/
	sensSecrets               // .env, credentials, keys, cloud and tool configs
	sensConfig                // application and server configuration
	sensBackup                // backups, archives of the site, database dumps
	sensInfo                  // phpinfo, server-status, debug and actuator endpoints
	sensLogs                  // log files
	sensSystem                // OS files (/etc/passwd) asked for directly
)

var sensitiveNames = [...]string{"none", "version-control", "secrets", "configuration", "backup", "server-info", "logs", "system-file"}

func (k sensitiveKind) String() string { return sensitiveNames[k] }

var sensitiveSegments = map[string]sensitiveKind{
	".git": sensVCS, ".svn": sensVCS, ".hg": sensVCS, ".bzr": sensVCS, "cvs": sensNone, ".gitlab-ci.yml": sensVCS,
	".env": sensSecrets, ".aws": sensSecrets, ".ssh": sensSecrets, ".docker": sensSecrets, ".npmrc": sensSecrets, ".pypirc": sensSecrets,
	".netrc": sensSecrets, ".git-credentials": sensSecrets, ".bash_history": sensSecrets, ".zsh_history": sensSecrets, ".mysql_history": sensSecrets,
	"id_rsa": sensSecrets, "id_dsa": sensSecrets, "id_ecdsa": sensSecrets, "id_ed25519": sensSecrets, ".htpasswd": sensSecrets, "credentials": sensSecrets,
	"credentials.json": sensSecrets, "secrets.yml": sensSecrets, "secrets.json": sensSecrets, "sftp-config.json": sensSecrets, ".s3cfg": sensSecrets,
	".htaccess": sensConfig, "web.config": sensConfig, "wp-config.php": sensNone, "web-inf": sensConfig, "meta-inf": sensConfig, ".vscode": sensConfig,
	".idea": sensConfig, ".ds_store": sensConfig, "docker-compose.yml": sensConfig, "docker-compose.yaml": sensConfig, "dockerfile": sensConfig,
	"config.json": sensConfig, "config.yml": sensConfig, "config.yaml": sensConfig, "appsettings.json": sensConfig, "database.yml": sensConfig,
	"settings.py": sensConfig, "parameters.yml": sensConfig, "composer.json": sensNone, "package.json": sensNone, ".travis.yml": sensConfig,
	"phpinfo.php": sensInfo, "info.php": sensInfo, "php_info.php": sensInfo, "test.php": sensNone, "server-status": sensInfo, "server-info": sensInfo,
	"heapdump": sensInfo, "jolokia": sensInfo, "elmah.axd": sensInfo, "trace.axd": sensInfo, "_profiler": sensInfo, "telescope": sensInfo,
	"error_log": sensLogs, "error.log": sensLogs, "debug.log": sensLogs, "access.log": sensLogs, "laravel.log": sensLogs, "php_errors.log": sensLogs,
	"passwd": sensNone, "shadow": sensNone,
}

var backupExts = map[string]bool{"bak": true, "backup": true, "old": true, "orig": true, "save": true, "swp": true, "swo": true, "tmp": false, "sql": true, "dump": true, "bkp": true, "copy": true}

var archiveExts = map[string]bool{"zip": true, "tar": true, "gz": true, "tgz": true, "rar": true, "7z": true, "bz2": true, "xz": true}

// backupStems are archive names that mean "the whole site or database".
var backupStems = map[string]bool{"backup": true, "backups": true, "site": true, "www": true, "wwwroot": true, "htdocs": true, "public_html": true,
	"web": true, "db": true, "database": true, "dump": true, "sql": true, "data": true, "html": true, "old": true, "archive": true, "src": true, "source": true}

// sensitiveByHash is sensitiveSegments keyed by hashString (no string
// compare on the hot path).
var sensitiveByHash = func() map[uint64]sensitiveKind {
	m := make(map[uint64]sensitiveKind, len(sensitiveSegments))
	for k, v := range sensitiveSegments {
		m[hashString(k)] = v
	}
	return m
}()

// sensitiveFile classifies the last segment of a path (a file name).
func sensitiveFile(seg string) sensitiveKind {
	dot := strings.LastIndexByte(seg, '.')
	last := seg[len(seg)-1]
	if dot < 0 && last != '~' {
		return sensNone
	}
	if strings.HasPrefix(seg, "wp-config") || strings.HasPrefix(seg, "configuration.php") || strings.HasPrefix(seg, "config.php") || strings.HasPrefix(seg, "config.inc.php") || strings.HasPrefix(seg, "settings.php") || strings.HasPrefix(seg, "localsettings.php") {
		if seg != "wp-config.php" && seg != "configuration.php" && seg != "config.php" && seg != "config.inc.php" && seg != "settings.php" && seg != "localsettings.php" {
			return sensConfig // a copy of a PHP config: served as text
		}
	}
	if last == '~' && len(seg) > 1 {
		return sensBackup
	}
	if dot <= 0 {
		return sensNone
	}
	ext := seg[dot+1:]
	switch ext {
	case "pem", "key", "p12", "pfx", "keystore", "jks":
		return sensSecrets
	}
	if backupExts[ext] {
		return sensBackup
	}
	if archiveExts[ext] {
		stem := seg[:dot]
		stem = strings.TrimSuffix(stem, ".tar")
		stem = strings.TrimSuffix(stem, ".sql")
		if backupStems[stem] || strings.HasSuffix(seg, ".sql.gz") || strings.HasSuffix(seg, ".sql.zip") {
			return sensBackup
		}
	}
	return sensNone
}

// sensitive classifies a decoded, lower-cased path in one pass over its
// segments.
func sensitive(p string) sensitiveKind {
	rest := strings.TrimPrefix(p, "/")
	if strings.HasPrefix(rest, ".well-known/") {
		return sensNone
	}
	prev := ""
	for rest != "" {
		seg := rest
		file := true // the last segment is a file; the others (and a trailing "/") are directories
		if k := strings.IndexByte(rest, '/'); k >= 0 {
			seg, rest, file = rest[:k], rest[k+1:], false
		} else {
			rest = ""
		}
		if seg == "" || len(seg) > 64 {
			continue
		}
		// OS files asked for directly, actuator and log directories
		switch prev {
		case "etc":
			if seg == "passwd" || seg == "shadow" {
				return sensSystem
			}
		case "proc":
			if seg == "self" {
				return sensSystem
			}
		case "windows", "winnt":
			if seg == "win.ini" || seg == "system.ini" {
				return sensSystem
			}
		case "actuator":
			switch seg {
			case "env", "heapdump", "configprops", "mappings", "trace", "threaddump", "logfile":
				return sensInfo
			}
		case "storage":
			if seg == "logs" {
				return sensLogs
			}
		}
		if seg == "boot.ini" {
			return sensSystem
		}
		prev = seg
		if len(seg) <= 24 {
			if kind, ok := sensitiveByHash[hashString(seg)]; ok && kind != sensNone {
				return kind
			}
		}
		// .env.production, .env.bak
		if seg[0] == '.' && (strings.HasPrefix(seg, ".env.") || seg == ".env~") {
			return sensSecrets
		}
		if file {
			if k := sensitiveFile(seg); k != sensNone {
				return k
			}
		}
	}
	return sensNone
}

// ---------------------------------------------------------- frameworks

// framework names a product a probe looks for; frameworks the site never
// serves are probes. The markers are path prefixes or path fragments.
var frameworks = []struct {
	name    string
	markers []string
}{
	{"wordpress", []string{"/wp-login.php", "/wp-admin", "/wp-content/", "/wp-includes/", "/xmlrpc.php", "/wp-json/", "/wordpress/", "/wp/"}},
	{"joomla", []string{"/administrator/", "/administrator/index.php", "/components/com_", "/modules/mod_", "/index.php?option=com_"}},
	{"drupal", []string{"/user/login", "/sites/default/", "/core/install.php", "/core/changelog.txt", "/misc/drupal.js"}},
	{"phpmyadmin", []string{"/phpmyadmin", "/pma/", "/myadmin/", "/mysqladmin/", "/phpmyadmin2", "/dbadmin/", "/sqladmin/", "/mysql/admin"}},
	{"adminer", []string{"/adminer"}},
	{"tomcat", []string{"/manager/html", "/manager/status", "/host-manager/", "/manager/text"}},
	{"jboss-weblogic", []string{"/jmx-console", "/web-console", "/invoker/", "/console/login", "/wls-wsat/", "/_async/", "/bea_wls_"}},
	{"jenkins", []string{"/jenkins", "/script", "/computer/", "/asynchpeople/"}},
	{"solr", []string{"/solr/"}},
	{"spring-actuator", []string{"/actuator", "/jolokia"}},
	{"exchange-owa", []string{"/owa/", "/ecp/", "/autodiscover/", "/ews/", "/mapi/", "/rpc/rpcproxy.dll"}},
	{"vpn-gateways", []string{"/remote/login", "/remote/fgt_lang", "/dana-na/", "/vpn/", "/+cscoe+/", "/global-protect/", "/ssl-vpn/", "/sslvpn", "/cgi-bin/welcome"}},
	{"routers-iot", []string{"/boaform/", "/hnap1", "/gponform/", "/setup.cgi", "/tmunblock.cgi", "/cgi-bin/luci", "/shell?", "/goform/", "/login.cgi", "/cgi-bin/login", "/userrpm/", "/currentsetting.htm"}},
	{"cgi-bin", []string{"/cgi-bin/", "/cgi/", "/scripts/"}},
	{"file-managers", []string{"fckeditor", "ckeditor", "/kcfinder", "elfinder", "/filemanager", "/tinymce/", "/ckfinder", "/uploadify", "/timthumb", "/kindeditor"}},
	{"phpunit", []string{"/vendor/phpunit/", "/phpunit/"}},
	{"laravel", []string{"/_ignition/", "/telescope", "/horizon"}},
	{"thinkphp", []string{"/index.php?s=", "/thinkphp", "\\think\\"}},
	{"coldfusion", []string{"/cfide/"}},
	{"sharepoint", []string{"/_layouts/", "/_vti_bin/", "/_vti_pvt/"}},
	{"webdav-iis", []string{"/_vti_inf.html", "/iisadmpwd/", "/msadc/", "/iissamples/"}},
	{"citrix", []string{"/citrix/", "/vpns/", "/logon/logonpoint/"}},
	{"struts", []string{".action", "/struts/"}},
	{"geoserver-gitlab-etc", []string{"/geoserver/", "/users/sign_in", "/api/v4/", "/nacos/", "/druid/", "/zabbix/", "/grafana/", "/kibana/", "/_cat/", "/_cluster/"}},
	{"admin-panels", []string{"/admin.php", "/admin/login", "/webadmin", "/siteadmin", "/cpanel", "/whm", "/plesk", "/admin/config", "/manager/"}},
}

// frameworkOf returns the framework a decoded, lower-cased target (path,
// plus "?query" when present) belongs to, or "". Markers match whole path
// segments: "/script" is Jenkins' script console, not "/scripts"; generic
// ones ("/script", "/scripts/", "/wp/", "/cgi/", "/manager/") only at the
// start of the path.
func frameworkOf(t string) string {
	// One pass over t: a marker can only match where its first three
	// bytes occur; the table says which markers start with a trigram.
	var cand [8]int16
	nc := 0
	for i := 0; i+3 <= len(t) && nc < len(cand); i++ {
		for _, mi := range trigramIndex[trigram(t[i:])] {
			dup := false
			for _, c := range cand[:nc] {
				dup = dup || c == mi
			}
			if !dup && nc < len(cand) {
				cand[nc] = mi
				nc++
			}
		}
	}
	if nc == 0 {
		return ""
	}
	best := len(markerList)
	for _, mi := range cand[:nc] {
		if int(mi) < best && markerMatch(t, markerList[mi].m) {
			best = int(mi)
		}
	}
	if best == len(markerList) {
		return ""
	}
	return markerList[best].fw
}

// markerList flattens frameworks in priority order.
var markerList = func() []struct{ m, fw string } {
	var out []struct{ m, fw string }
	for _, f := range frameworks {
		for _, m := range f.markers {
			out = append(out, struct{ m, fw string }{m, f.name})
		}
	}
	return out
}()

const trigramBits = 12

func trigram(s string) uint32 {
	return (uint32(s[0])*961 + uint32(s[1])*31 + uint32(s[2])) & (1<<trigramBits - 1)
}

// trigramIndex maps a trigram hash to the markers starting with it.
var trigramIndex = func() [1 << trigramBits][]int16 {
	var idx [1 << trigramBits][]int16
	for i, m := range markerList {
		h := trigram(m.m)
		idx[h] = append(idx[h], int16(i))
	}
	return idx
}()

func markerMatch(t, m string) bool {
	anywhere := m[0] != '/' || !(m == "/script" || m == "/scripts/" || m == "/wp/" || m == "/cgi/" || m == "/manager/" || m == "/console/login" || m == "/vpn/")
	for off := 0; off <= len(t)-len(m); {
		i := strings.Index(t[off:], m)
		if i < 0 {
			return false
		}
		i += off
		if i > 0 && !anywhere {
			return false
		}
		end := i + len(m)
		last := m[len(m)-1]
		if end == len(t) || last == '/' || last == '_' || last == '=' || last == '?' || strings.IndexByte("/?.;&#", t[end]) >= 0 || m[0] != '/' {
			return true
		}
		off = i + 1
	}
	return false
}

// serverExts are server-side script extensions: a site that never answers
// one with 2xx does not run that language, so requests for it are probes.
var serverExts = map[string]bool{
	"php": true, "php3": true, "php4": true, "php5": true, "php7": true, "phtml": true, "phar": true, "inc": true,
	"asp": true, "aspx": true, "ashx": true, "asmx": true, "axd": true, "cer": true, "asa": true,
	"jsp": true, "jspx": true, "jsf": true, "do": true, "action": true, "cfm": true, "cfc": true, "cgi": true, "pl": true,
	"shtml": true, "nsf": true, "dll": true, "exe": false, "esp": true, "jhtml": true,
}

// webShellExts are the extensions a web server executes (a web shell is
// one of these, answered 2xx).
var webShellExts = map[string]bool{
	"php": true, "php3": true, "php4": true, "php5": true, "php7": true, "phtml": true, "phar": true, "pht": true,
	"asp": true, "aspx": true, "ashx": true, "asmx": true, "cer": true, "jsp": true, "jspx": true, "cfm": true,
}

// uploadDir reports whether a decoded, lower-cased path lies in a
// directory where sites keep uploaded or static files (no code).
func uploadDir(p string) bool {
	for _, d := range []string{"/upload", "/uploads/", "/files/", "/images/", "/image/", "/img/", "/media/", "/attachments/", "/attachment/",
		"/tmp/", "/temp/", "/cache/", "/static/", "/assets/", "/wp-content/uploads/", "/userfiles/", "/avatars/", "/avatar/", "/documents/",
		"/data/", "/backup/", "/storage/", "/public/", "/pictures/", "/photos/", "/download/", "/downloads/", "/fckeditor/", "/ckeditor/"} {
		if strings.Contains(p, d) {
			return true
		}
	}
	return false
}

// shellNames are file names (without extension) of well-known web shells
// and droppers.
var shellNames = map[string]bool{
	"shell": true, "cmd": true, "c99": true, "r57": true, "wso": true, "b374k": true, "alfa": true, "webshell": true, "backdoor": true,
	"indoxploit": true, "mini": true, "up": true, "upload": false, "x": true, "xx": true, "z": true, "1": true, "a": true, "sh": true,
	"bypass": true, "leaf": true, "marijuana": true, "priv8": true, "symlink": true, "adminer": false, "wp-conflg": true, "c100": true,
	"phpspy": true, "aspxspy": true, "jspspy": true, "cmdjsp": true, "chopper": true, "godzilla": true, "behinder": true, "antsword": true,
	"s": true, "t": true, "test1": true, "ok": true, "fox": true, "haxor": true, "hack": true, "hacked": true, "evil": true, "payload": true,
}

// shellName reports whether the last segment of p looks like a web shell:
// a known name, or a very short or random-looking one.
func shellName(p string) bool {
	seg := p[strings.LastIndexByte(p, '/')+1:]
	if dot := strings.IndexByte(seg, '.'); dot >= 0 {
		seg = seg[:dot]
	}
	if shellNames[seg] {
		return true
	}
	for _, k := range []string{"shell", "c99", "r57", "wso", "b374k", "backdoor", "spy", "bypass", "hack"} {
		if strings.Contains(seg, k) {
			return true
		}
	}
	return randomName(seg)
}

// randomName: 8–40 characters of hex or of mixed letters and digits with
// no vowel run, as droppers name their files.
func randomName(s string) bool {
	if len(s) < 8 || len(s) > 40 {
		return false
	}
	digits, letters, hex := 0, 0, 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			digits++
			hex++
		case c >= 'a' && c <= 'f':
			letters++
			hex++
		case c >= 'g' && c <= 'z':
			letters++
		default:
			return false
		}
	}
	return hex == len(s) && digits > 0 && letters > 0 || digits >= 3 && letters >= 3 && digits+letters == len(s) && len(s) >= 12
}

// commandParam reports whether a decoded, lower-cased query passes a
// command or code to run (cmd=, exec=, …).
func commandParam(q string) bool {
	for q != "" {
		p := q
		if k := strings.IndexByte(q, '&'); k >= 0 {
			p, q = q[:k], q[k+1:]
		} else {
			q = ""
		}
		name, _, _ := strings.Cut(p, "=")
		switch name {
		case "cmd", "exec", "command", "execute", "shell", "run", "c", "cm", "code", "eval", "e", "system", "ps", "passthru", "act", "action=cmd", "z0", "pass":
			return true
		}
	}
	return false
}

// ------------------------------------------------------------- logins

// loginPath reports whether a decoded, lower-cased path is a login or
// authentication endpoint.
func loginPath(p string) bool {
	for _, s := range []string{"login", "logon", "signin", "sign-in", "sign_in", "wp-login.php", "xmlrpc.php", "j_security_check",
		"/auth", "/oauth/token", "/session", "/authenticate", "/api/token", "/token", "/owa/auth", "/cgi-bin/luci", "/remote/logincheck"} {
		if strings.Contains(p, s) {
			if s == "/auth" && strings.Contains(p, "/author") {
				continue
			}
			return true
		}
	}
	return false
}

// adminPath reports whether a decoded, lower-cased path is an
// administration area.
func adminPath(p string) bool {
	for _, s := range []string{"/admin", "/administrator", "/wp-admin", "/manager/html", "/phpmyadmin", "/cpanel", "/webadmin", "/console", "/dashboard", "/backend"} {
		if strings.HasPrefix(p, s) || strings.Contains(p, s+"/") {
			return true
		}
	}
	return false
}

// -------------------------------------------------------- user agents

// uaKind is the broad class of a user agent.
type uaKind uint8

const (
	uaEmpty    uaKind = iota // absent or "-"
	uaBrowser                // a browser
	uaCrawler                // a self-declared crawler or bot
	uaLibrary                // an HTTP library or command-line client (benign API clients use these)
	uaTool                   // an attack or vulnerability-scanning tool
	uaResearch               // an Internet-wide research scanner (Censys, Shodan, …)
	uaOther
)

var uaKindNames = [...]string{"empty", "browser", "crawler", "library", "attack-tool", "research-scanner", "other"}

func (k uaKind) String() string { return uaKindNames[k] }

// uaInfo is what a user agent says about its client.
type uaInfo struct {
	kind    uaKind
	family  string // browser family, crawler, tool or library name
	os      string // for browsers
	claimed string // "google" or "bing" when it claims to be their crawler
}

// uaTools are attack and vulnerability-scanning tools, by the marker
// their default user agent carries.
var uaTools = []struct{ marker, name string }{
	{"sqlmap", "sqlmap"}, {"nikto", "Nikto"}, {"nmap scripting engine", "Nmap NSE"}, {"nmap", "Nmap"}, {"masscan", "masscan"},
	{"nuclei", "Nuclei"}, {"wpscan", "WPScan"}, {"acunetix", "Acunetix"}, {"netsparker", "Netsparker"},
	{"invicti", "Invicti"}, {"dirbuster", "DirBuster"}, {"dirb", "dirb"}, {"gobuster", "gobuster"}, {"fuzz faster u fool", "ffuf"},
	{"ffuf", "ffuf"}, {"wfuzz", "wfuzz"}, {"feroxbuster", "feroxbuster"}, {"hydra", "Hydra"}, {"w3af", "w3af"}, {"arachni", "Arachni"},
	{"skipfish", "skipfish"}, {"commix", "commix"}, {"havij", "Havij"}, {"fimap", "fimap"}, {"openvas", "OpenVAS"}, {"nessus", "Nessus"},
	{"jaeles", "Jaeles"}, {"whatweb", "WhatWeb"}, {"burp", "Burp"}, {"owasp zap", "OWASP ZAP"}, {"zaproxy", "OWASP ZAP"},
	{"appscan", "AppScan"}, {"webinspect", "WebInspect"}, {"xray", "xray"}, {"morfeus", "Morfeus"}, {"zmeu", "ZmEu"},
	{"l9explore", "LeakIX"}, {"l9tcpid", "LeakIX"}, {"struts-pwn", "struts-pwn"}, {"log4j", "log4j scanner"}, {"jndi", "JNDI probe"},
	{"metasploit", "Metasploit"}, {"brutus", "Brutus"}, {"grabber", "Grabber"}, {"vega/", "Vega"}, {"paros", "Paros"},
	{"webshag", "webshag"}, {"uniscan", "uniscan"}, {"joomscan", "JoomScan"}, {"droopescan", "droopescan"}, {"cmsmap", "CMSmap"},
	{"fuxi", "fuxi"}, {"tsunami", "Tsunami"}, {"httpx - open-source", "httpx"}, {"interactsh", "interactsh"}, {"hello, world", "Mozi botnet"},
	{"python-httpx/", "httpx"}, {"wapiti", "Wapiti"}, {"dalfox", "Dalfox"}, {"xsstrike", "XSStrike"}, {"nuclei", "Nuclei"},
	{"sf/2.", "skipfish"}, {"cmseek", "CMSeeK"}, {"wpscan", "WPScan"}, {"jorgee", "Jorgee"}, {"go-buster", "gobuster"},
}

var uaResearchers = []string{"zgrab", "censysinspect", "censys", "shodan", "expanse", "paloaltonetworks", "internet-measurement", "internetmeasurement",
	"netcraft", "securitytrails", "binaryedge", "onyphe", "leakix.net", "criminalip", "modat", "odin.io", "project sonar", "rapid7"}

var uaLibraries = []string{"curl/", "wget/", "python-requests", "python-urllib", "python/", "aiohttp", "go-http-client", "java/", "okhttp",
	"apache-httpclient", "libwww-perl", "lwp::", "php/", "guzzle", "axios", "node-fetch", "undici", "ruby", "postmanruntime", "powershell",
	"winhttp", "httpie", "restsharp", "dart:io", "reqwest", "faraday", "rest-client", "http.rb", "got (", "cfnetwork", "okhttp", "dalvik",
	"kube-probe", "elb-healthchecker", "googlehc", "prometheus", "uptimerobot", "pingdom", "statuscake", "nagios", "zabbix", "check_http",
	"datadog", "newrelic", "site24x7", "monit", "consul", "health"}

// classifyUA classifies a user agent string.
func classifyUA(ua string) uaInfo {
	if ua == "" || ua == "-" {
		return uaInfo{kind: uaEmpty}
	}
	l := lowerASCII(ua)
	for _, t := range uaTools {
		if strings.Contains(l, t.marker) {
			// "dirb" inside "dirbuster" is fine; "burp" must not match
			// "Burpee"-like words in real products: accept.
			return uaInfo{kind: uaTool, family: t.name}
		}
	}
	if strings.Contains(l, "() {") {
		return uaInfo{kind: uaTool, family: "Shellshock probe"}
	}
	for _, r := range uaResearchers {
		if strings.Contains(l, r) {
			return uaInfo{kind: uaResearch, family: r}
		}
	}
	switch {
	case strings.Contains(l, "googlebot") || strings.Contains(l, "google-inspectiontool") || strings.Contains(l, "adsbot-google") || strings.Contains(l, "mediapartners-google"):
		return uaInfo{kind: uaCrawler, family: "Googlebot", claimed: "google"}
	case strings.Contains(l, "bingbot") || strings.Contains(l, "msnbot") || strings.Contains(l, "bingpreview"):
		return uaInfo{kind: uaCrawler, family: "Bingbot", claimed: "bing"}
	}
	for _, b := range []string{"bot", "crawler", "spider", "slurp", "facebookexternalhit", "ia_archiver", "feedfetcher", "mediapartners", "yandex", "baidu", "+http", "feedly", "archive.org"} {
		if strings.Contains(l, b) {
			return uaInfo{kind: uaCrawler, family: crawlerName(ua)}
		}
	}
	for _, lib := range uaLibraries {
		if strings.HasPrefix(l, lib) || strings.Contains(l, lib) && lib != "python/" && lib != "java/" && lib != "php/" && lib != "ruby" {
			return uaInfo{kind: uaLibrary, family: strings.TrimRight(lib, "/:( ")}
		}
	}
	if strings.HasPrefix(l, "mozilla/") || strings.HasPrefix(l, "opera/") {
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
		case strings.Contains(l, "safari/"):
			fam = "Safari"
		case strings.Contains(l, "msie ") || strings.Contains(l, "trident/"):
			fam = "IE"
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
		if fam != "" {
			return uaInfo{kind: uaBrowser, family: fam, os: os}
		}
	}
	return uaInfo{kind: uaOther, family: clip(ua, 40)}
}

func crawlerName(ua string) string {
	// "Mozilla/5.0 (compatible; MJ12bot/v1.4.4; http://…)" → "MJ12bot"
	for _, part := range strings.FieldsFunc(ua, func(r rune) bool { return r == ';' || r == '(' || r == ')' || r == ' ' }) {
		pl := strings.ToLower(part)
		if strings.Contains(pl, "bot") || strings.Contains(pl, "crawler") || strings.Contains(pl, "spider") {
			if k := strings.IndexByte(part, '/'); k > 0 {
				return part[:k]
			}
			return part
		}
	}
	return clip(ua, 40)
}

// crawlerNets are the published address ranges of the search engines'
// crawlers (Google's googlebot.json and common-crawlers, Bing's
// bingbot.json), summarised to their covering prefixes.
var crawlerNets = map[string][]netip.Prefix{
	"google": prefixes("66.249.64.0/19", "66.102.0.0/20", "64.233.160.0/19", "72.14.192.0/18", "74.125.0.0/16", "209.85.128.0/17",
		"216.239.32.0/19", "34.100.182.96/28", "34.101.50.144/28", "35.247.243.240/28", "2001:4860::/32"),
	"bing": prefixes("157.54.0.0/15", "157.56.0.0/14", "157.60.0.0/16", "207.46.0.0/16", "40.77.0.0/16", "13.66.139.0/24", "13.66.144.0/24", "52.167.144.0/24",
		"65.52.0.0/14", "131.253.0.0/16", "207.68.128.0/18",
		"199.30.16.0/20", "20.15.133.160/27", "20.74.197.0/28", "20.79.107.240/28", "20.125.163.80/28", "51.105.67.0/28", "65.55.210.0/24", "2620:1ec::/36"),
}

func prefixes(ss ...string) []netip.Prefix {
	out := make([]netip.Prefix, len(ss))
	for i, s := range ss {
		out[i] = netip.MustParsePrefix(s)
	}
	return out
}

// verifiedCrawler reports whether ip lies in the claimed engine's ranges.
func verifiedCrawler(claimed string, ip netip.Addr) bool {
	for _, p := range crawlerNets[claimed] {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// uaCache memoises classifyUA for the (interned, repeating) user agent
// strings of one detector instance; it is bounded (reset when full).
type uaCache struct {
	m strCache[uaInfo]
}

const uaCacheMax = 8192

func (c *uaCache) get(ua string) uaInfo {
	if i, ok := c.m.get(ua); ok {
		return i
	}
	i := classifyUA(ua)
	c.m.put(ua, i)
	return i
}

// strCache memoises a function of strings that the parser interns (user
// agents, referrers): it is keyed by the string's data pointer and length,
// so a hit costs no hashing of the content, and it keeps the string to
// confirm the hit (a pointer reused for other bytes is a miss). Bounded:
// reset when full.
type strCache[V any] struct {
	m map[strKey]strVal[V]
}

type strKey struct {
	p uintptr
	n int
}

type strVal[V any] struct {
	s string
	v V
}

func keyOfString(s string) strKey {
	return strKey{uintptr(unsafe.Pointer(unsafe.StringData(s))), len(s)}
}

func (c *strCache[V]) get(s string) (V, bool) {
	e, ok := c.m[keyOfString(s)]
	if ok && e.s == s { // same pointer: memequal returns at once
		return e.v, true
	}
	var zero V
	return zero, false
}

func (c *strCache[V]) put(s string, v V) {
	if c.m == nil || len(c.m) >= uaCacheMax {
		c.m = make(map[strKey]strVal[V], 256)
	}
	c.m[keyOfString(s)] = strVal[V]{s, v}
}
