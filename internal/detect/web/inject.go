package web

import (
	"fmt"
	"strings"
	"unsafe"
)

// Class is a family of injection.
type Class uint8

// Injection classes.
const (
	ClassNone      Class = iota
	ClassSQL             // SQL injection
	ClassXSS             // script injection (cross-site scripting)
	ClassTraversal       // path traversal, local file inclusion, null-byte truncation
	ClassInclusion       // remote file inclusion and PHP stream wrappers
	ClassCommand         // OS command injection
	ClassTemplate        // server-side template and expression-language injection (SSTI, OGNL, SpEL)
	ClassJNDI            // ${jndi:…} lookups (Log4Shell)
	ClassCode            // code injection (PHP, Python, Node)
	ClassCRLF            // header injection / response splitting
	ClassSSRF            // server-side request forgery targets (cloud metadata, gopher://)
	ClassXXE             // XML external entities
	ClassProbe           // a web vulnerability scanner's marker or callback domain
	ClassPadding         // an absurd run of one byte that pushes a payload past inspection limits
	classCount
)

var classNames = [...]string{"none", "sql", "xss", "traversal", "file-inclusion", "command", "template", "jndi", "code", "crlf", "ssrf", "xxe", "scanner-probe", "padding"}

func (c Class) String() string {
	if int(c) < len(classNames) {
		return classNames[c]
	}
	return "none"
}

// technique maps a class to its ATT&CK technique.
func (c Class) technique() string {
	switch c {
	case ClassCommand:
		return "T1059"
	case ClassProbe:
		return "T1595.002"
	}
	return "T1190"
}

// Field says where a value came from; referrers and user agents get a
// stricter rule set (they carry free text and other sites' URLs).
type Field uint8

// Fields.
const (
	FieldPath Field = iota
	FieldQuery
	FieldReferrer
	FieldUserAgent
)

var fieldNames = [...]string{"path", "query", "referrer", "user_agent"}

func (f Field) String() string { return fieldNames[f] }

// Match is one injection found in a value: its class, the rule that
// matched and the fragment that made it match (from the decoded,
// lower-cased value).
type Match struct {
	Class    Class
	Rule     string
	Fragment string
	Field    Field
}

// Inspector finds injections in decoded request values. Not safe for
// concurrent use (it keeps scratch buffers).
type Inspector struct {
	low  []byte // lower-cased value
	sq   []byte // low with SQL comments removed and blanks collapsed
	toks []tok
	seen [classCount]bool
}

// maxInspect bounds the bytes of one value that one Inspect call looks
// at; longer values are inspected in windows (InspectLong).
const maxInspect = 4096

// Long values (InspectLong): a parameter or header longer than maxInspect
// is inspected in windows of maxInspect overlapping by windowOverlap (a
// payload shorter than that is never cut by a window boundary), over its
// first maxValueInspect bytes and its last window. A run of paddingRun or
// more copies of one byte is itself a finding (ClassPadding): nothing
// benign pads a parameter that way, and it is how payloads are pushed past
// inspection limits.
const (
	windowOverlap   = 512
	maxValueInspect = 16 << 10
	paddingRun      = 1024
)

// InspectLong is Inspect for a value of any length: values up to
// maxInspect bytes are inspected whole; a query (f == FieldQuery) is split
// into its parameters, packed into windows of at most maxInspect bytes, so
// that every parameter is inspected however many precede it; a longer
// parameter or other value is inspected by windows (see maxValueInspect)
// and checked for padding.
func (in *Inspector) InspectLong(s string, f Field, out []Match) []Match {
	if len(s) <= maxInspect {
		return in.Inspect(s, f, out)
	}
	if f != FieldQuery {
		return in.inspectWindows(s, f, out)
	}
	start := 0 // the pending window is s[start:i-1] (parameters, without the last '&')
	for i := 0; i <= len(s); {
		end := len(s)
		if j := strings.IndexByte(s[i:], '&'); j >= 0 {
			end = i + j
		}
		switch {
		case end-i > maxInspect: // a long parameter: alone, by windows
			if i > start {
				out = in.Inspect(s[start:i-1], f, out)
			}
			out = in.inspectWindows(s[i:end], f, out)
			start = end + 1
		case end-start > maxInspect: // the window is full: inspect it, start a new one here
			out = in.Inspect(s[start:i-1], f, out)
			start = i
		}
		i = end + 1
	}
	if start < len(s) {
		out = in.Inspect(s[start:], f, out)
	}
	return out
}

// inspectWindows inspects a long value by overlapping windows and checks
// it for padding.
func (in *Inspector) inspectWindows(s string, f Field, out []Match) []Match {
	if c, n := longestRun(s); n >= paddingRun {
		out = append(out, Match{Class: ClassPadding, Rule: "padding",
			Fragment: printable(fmt.Sprintf("%d × %q in a %d-byte %s", n, c, len(s), f)), Field: f})
	}
	step := maxInspect - windowOverlap
	limit := min(len(s), maxValueInspect)
	for i := 0; i < limit; i += step {
		if i+maxInspect >= len(s) {
			return in.Inspect(s[i:], f, out)
		}
		out = in.Inspect(s[i:i+maxInspect], f, out)
	}
	return in.Inspect(s[len(s)-maxInspect:], f, out)
}

// longestRun returns the byte with the longest run of copies in s and the
// run's length.
func longestRun(s string) (byte, int) {
	var best byte
	bestN, n := 0, 0
	for i := 0; i < len(s); i++ {
		if i > 0 && s[i] == s[i-1] {
			n++
		} else {
			n = 1
		}
		if n > bestN {
			best, bestN = s[i], n
		}
	}
	return best, bestN
}

// char classes for the prefilter.
const (
	cQuote  = 1 << iota // ' " `
	cAngle              // < >
	cParen              // ( )
	cSemi               // ;
	cPipe               // |
	cDollar             // $
	cBrace              // { }
	cSpace              // blanks
	cCtl                // NUL, CR, LF
	cHash               // #
	cStar               // *
	cColon              // :
	cAmp                // &
	cBack               // \
	cDash               // -
	cAt                 // @
	cPct                // %
)

var charClass [256]uint32

func init() {
	set := func(cs string, c uint32) {
		for i := 0; i < len(cs); i++ {
			charClass[cs[i]] |= c
		}
	}
	set("'\"`", cQuote)
	set("<>", cAngle)
	set("()", cParen)
	set(";", cSemi)
	set("|", cPipe)
	set("$", cDollar)
	set("{}", cBrace)
	set(" \t\v\f", cSpace)
	set("\x00\r\n", cCtl)
	set("#", cHash)
	set("*", cStar)
	set(":", cColon)
	set("&", cAmp)
	set("\\", cBack)
	set("-", cDash)
	set("@", cAt)
	set("%", cPct)
}

// Inspect appends to out one match per injection class found in s (a
// decoded value from field f) and returns it.
func (in *Inspector) Inspect(s string, f Field, out []Match) []Match {
	if len(s) > maxInspect {
		s = s[:maxInspect]
	}
	var mask uint32
	dots := false
	for i := 0; i < len(s); i++ {
		mask |= charClass[s[i]]
		if s[i] == '.' && i+1 < len(s) && s[i+1] == '.' {
			dots = true
		}
	}
	if mask&^(cDash|cAmp|cPct|cColon|cAt) == 0 && !dots && mask&cColon == 0 {
		return out
	}
	in.seen = [classCount]bool{}
	in.low = lower(in.low[:0], s)
	low := string0(in.low)
	n0 := len(out)
	add := func(c Class, rule, frag string) {
		if in.seen[c] {
			return
		}
		in.seen[c] = true
		out = append(out, Match{Class: c, Rule: rule, Fragment: printable(clip(frag, 80)), Field: f})
	}
	strict := f == FieldReferrer || f == FieldUserAgent

	if mask&cDollar != 0 && mask&cBrace != 0 {
		if frag, ok := jndi(low); ok {
			add(ClassJNDI, "jndi-lookup", frag)
		}
	}
	if mask&(cBrace|cDollar|cHash|cAngle|cPct|cParen|cAt) != 0 {
		if rule, frag, ok := template(low); ok {
			add(ClassTemplate, rule, frag)
		}
	}
	if mask&cParen != 0 && mask&cBrace != 0 {
		if i := strings.Index(low, "() {"); i >= 0 && strings.Contains(low[i:], "};") {
			add(ClassCommand, "shellshock", low[i:])
		}
	}
	if mask&(cParen|cAngle|cSemi|cDollar) != 0 {
		if rule, frag, ok := code(low); ok {
			add(ClassCode, rule, frag)
		}
	}
	if mask&(cSemi|cPipe|cAmp|cQuote|cDollar|cCtl) != 0 {
		if rule, frag, ok := command(low, strict); ok {
			add(ClassCommand, rule, frag)
		}
	}
	if f == FieldQuery && mask&cSpace != 0 && !in.seen[ClassCommand] {
		if frag, ok := valueCommand(low); ok {
			add(ClassCommand, "command-value", frag)
		}
	}
	if mask&(cQuote|cParen|cSpace|cSemi|cHash|cStar|cDash|cAt) != 0 {
		// SQL is judged per parameter value: where a value starts
		// matters (a value that is a whole statement is not a break-out).
		rest := in.low
		for len(rest) > 0 && !in.seen[ClassSQL] {
			val := rest
			rest = nil
			if f == FieldQuery {
				if k := indexByte(val, '&'); k >= 0 {
					val, rest = val[:k], val[k+1:]
				}
				if k := indexByte(val, '='); k >= 0 {
					val = val[k+1:]
				}
			}
			if len(val) < 3 {
				continue
			}
			in.squeeze(val)
			if rule, frag, ok := in.sql(strict); ok {
				add(ClassSQL, rule, frag)
			}
		}
	}
	if mask&(cAngle|cColon|cParen|cPct|cAmp) != 0 {
		if rule, frag, ok := xss(low, strict); ok {
			add(ClassXSS, rule, frag)
		}
	}
	if dots || mask&(cCtl|cColon|cBack) != 0 || (!strict && f == FieldQuery) {
		if rule, frag, ok := traversal(low, f); ok {
			add(ClassTraversal, rule, frag)
		}
	}
	if !strict && (mask&cColon != 0 || strings.Contains(low, "//")) {
		if rule, frag, ok := inclusion(low, f); ok {
			add(ClassInclusion, rule, frag)
		}
	}
	if mask&cCtl != 0 {
		if frag, ok := crlf(low); ok {
			add(ClassCRLF, "header-injection", frag)
		}
	}
	if !strict && (mask&cColon != 0 || strings.Contains(low, "169.254")) {
		if rule, frag, ok := ssrf(low); ok {
			add(ClassSSRF, rule, frag)
		}
	}
	if mask&cAngle != 0 {
		if i := strings.Index(low, "<!entity"); i >= 0 {
			add(ClassXXE, "xml-entity", low[i:])
		} else if i := strings.Index(low, "<!doctype"); i >= 0 && (strings.Contains(low[i:], " system ") || strings.Contains(low[i:], " public ")) {
			add(ClassXXE, "external-doctype", low[i:])
		}
	}
	if len(out) > n0 || !strict {
		if frag, ok := probe(low); ok {
			add(ClassProbe, "scanner-marker", frag)
		}
	}
	return out
}

// string0 views the scratch buffer b as a string without copying. The view
// is only used while b is not modified (within one Inspect call); anything
// kept beyond the call (a Match's fragment) is cloned in add.
func string0(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// printable copies a fragment for a finding, with control bytes escaped
// (\x00, \r, \n) so that it can be shown and logged.
func printable(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c == 0x7f {
			fmt.Fprintf(&b, "\\x%02x", c)
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

func indexByte(b []byte, c byte) int {
	for i, x := range b {
		if x == c {
			return i
		}
	}
	return -1
}

func lower(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		dst = append(dst, c)
	}
	return dst
}

// ---------------------------------------------------------------- JNDI

// jndi finds a ${jndi:proto:…} lookup, also when obfuscated with nested
// lookups (${${lower:j}ndi:…}, ${${::-j}${::-n}di:…}, ${${env:X:-j}ndi…}).
func jndi(low string) (string, bool) {
	for i := 0; i < len(low); i++ {
		if low[i] != '$' || i+1 >= len(low) || low[i+1] != '{' {
			continue
		}
		end := min(len(low), i+400)
		flat := flattenLookup(low[i:end])
		if strings.HasPrefix(flat, "${jndi:") {
			rest := flat[7:]
			for _, p := range []string{"ldap", "ldaps", "rmi", "dns", "iiop", "corba", "nds", "nis", "http"} {
				if strings.HasPrefix(rest, p) {
					return low[i:min(end, i+80)], true
				}
			}
		}
	}
	return "", false
}

// flattenLookup evaluates the string-only lookups Log4j supports inside a
// ${…} expression (lower:, upper:, defaults ":-", date:'x'), so that the
// obfuscated forms read as "${jndi:…". It keeps the outer "${".
func flattenLookup(s string) string {
	var b strings.Builder
	b.WriteString("${")
	i := 2
	for i < len(s) && b.Len() < 64 {
		if s[i] == '$' && i+1 < len(s) && s[i+1] == '{' {
			depth, j := 0, i
			for ; j < len(s); j++ {
				if s[j] == '{' {
					depth++
				} else if s[j] == '}' {
					depth--
					if depth == 0 {
						break
					}
				}
			}
			if j >= len(s) {
				break
			}
			b.WriteString(resolveLookup(s[i+2 : j]))
			i = j + 1
			continue
		}
		if s[i] == '}' {
			break
		}
		b.WriteByte(s[i])
		i++
	}
	return b.String()
}

func resolveLookup(inner string) string {
	inner = strings.TrimSpace(inner)
	if strings.Contains(inner, "${") {
		inner = flattenLookup("${" + inner)[2:]
	}
	switch {
	case strings.HasPrefix(inner, "lower:"), strings.HasPrefix(inner, "upper:"):
		return inner[6:]
	case strings.HasPrefix(inner, "date:"):
		return strings.Trim(inner[5:], "'")
	}
	if k := strings.Index(inner, ":-"); k >= 0 {
		return inner[k+2:]
	}
	return inner
}

// ------------------------------------------------------------ template

var templateMarkers = []struct{ s, rule string }{
	{"#_memberaccess", "ognl"}, {"@ognl.ognlcontext", "ognl"}, {"#context[", "ognl"}, {"(#", "ognl-expression"},
	{"@java.lang.runtime@", "ognl"}, {".getruntime()", "java-runtime"}, {"java.lang.processbuilder", "java-runtime"},
	{"class.module.classloader", "spring4shell"}, {"class.classloader", "classloader"},
	{"__class__", "python-dunder"}, {"__globals__", "python-dunder"}, {"__mro__", "python-dunder"},
	{"__subclasses__", "python-dunder"}, {"__builtins__", "python-dunder"}, {"__init__.__", "python-dunder"},
	{"freemarker.template.utility.execute", "freemarker"}, {"<#assign", "freemarker"},
	{"#set(", "velocity"}, {"#foreach(", "velocity"}, {"$class.inspect", "velocity"},
	{"t(java.lang", "spel"}, {"new java.lang", "spel"},
}

// template finds server-side template and expression-language payloads:
// {{7*7}}, ${7*7}, #{7*7}, *{…}, <%= %>, {% %}, OGNL and SpEL gadgets.
func template(low string) (string, string, bool) {
	for _, m := range templateMarkers {
		if i := strings.Index(low, m.s); i >= 0 {
			if m.s == "(#" && !ognlContext(low[i:]) {
				continue
			}
			return m.rule, low[i:], true
		}
	}
	for _, open := range []string{"{{", "${", "#{", "*{", "%{", "{%", "<%=", "@{"} {
		i := strings.Index(low, open)
		if i < 0 {
			continue
		}
		body := low[i+len(open):]
		close := "}"
		switch open {
		case "{{":
			close = "}}"
		case "{%":
			close = "%}"
		case "<%=":
			close = "%>"
		}
		j := strings.Index(body, close)
		if j < 0 || j > 200 {
			continue
		}
		expr := strings.TrimSpace(body[:j])
		if open == "${" && strings.HasPrefix(expr, "jndi") {
			continue // reported as JNDI
		}
		if templateExpr(expr, open) {
			return "template-expression", low[i : i+len(open)+j+len(close)], true
		}
	}
	return "", "", false
}

// ognlContext: "(#" followed by an OGNL variable assignment or call.
func ognlContext(s string) bool {
	s = s[2:]
	for _, p := range []string{"_memberaccess", "context", "dm=", "cmd=", "iswin=", "os=", "ros=", "p=", "req=", "res=", "container", "ognlutil"} {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

// templateExpr reports whether the body of a template delimiter is code:
// arithmetic on numbers, or a known object/gadget.
func templateExpr(e, open string) bool {
	if e == "" {
		return false
	}
	// 7*7, 7*'7', 1337*1337, 191*7
	if k := strings.IndexAny(e, "*+"); k > 0 && k < len(e)-1 {
		l, r := strings.TrimSpace(e[:k]), strings.Trim(strings.TrimSpace(e[k+1:]), "'\"")
		if isNumber(l) && isNumber(r) {
			return true
		}
	}
	for _, w := range []string{"config", "self.", "self}", "request.", "request[", "cycler", "lipsum", "joiner", "namespace",
		"range(", "|attr", ".__", "getclass", "runtime", "exec(", "popen", "system(", "import ", "os.", "env.", "applicationscope",
		"facescontext", "pagecontext", "header[", "param.", "t(", "new ", "@java", "#this", "#root", "script:", "dump(", "settings.", "include "} {
		if strings.Contains(e, w) {
			return true
		}
	}
	if open == "{%" {
		for _, w := range []string{"for ", "if ", "set ", "import", "include", "debug", "load "} {
			if strings.HasPrefix(e, w) {
				return true
			}
		}
	}
	return false
}

func isNumber(s string) bool {
	if s == "" || len(s) > 12 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// ---------------------------------------------------------------- code

var codeMarkers = []struct{ s, rule string }{
	{"<!--#exec", "ssi"}, {"<!--#include", "ssi"}, {"<!--#echo", "ssi"}, {"<!--#config", "ssi"},
	{"<?php", "php-tag"}, {"<?=", "php-tag"}, {"phpinfo()", "php-function"}, {"base64_decode(", "php-function"},
	{"shell_exec(", "php-function"}, {"passthru(", "php-function"}, {"proc_open(", "php-function"}, {"pcntl_exec(", "php-function"},
	{"popen(", "php-function"}, {"assert(", "php-function"}, {"create_function(", "php-function"}, {"call_user_func", "php-function"},
	{"file_put_contents(", "php-function"}, {"fwrite(", "php-function"}, {"gzinflate(", "php-function"}, {"str_rot13(", "php-function"},
	{"print(md5(", "php-probe"}, {"die(md5(", "php-probe"}, {"echo(md5(", "php-probe"}, {"print md5(", "php-probe"}, {"${@", "php-interpolation"},
	{"system(", "exec-function"}, {"exec(", "exec-function"}, {"eval(", "eval"}, {"response.write(", "asp-probe"},
	{"__import__(", "python"}, {"os.system(", "python"}, {"os.popen(", "python"}, {"subprocess.", "python"},
	{"require('child_process')", "node"}, {"require(\"child_process\")", "node"}, {"process.mainmodule", "node"},
	{"child_process", "node"},
}

// code finds code injection (PHP, Python, Node, ASP probes).
func code(low string) (string, string, bool) {
	for _, m := range codeMarkers {
		i := strings.Index(low, m.s)
		if i < 0 {
			continue
		}
		// "exec(" and "system(" and "eval(" must be calls, not words
		// inside other identifiers ("filesystem(", "execute("), and
		// calls with an argument ("c's assert() feature" is prose).
		if strings.HasSuffix(m.s, "(") {
			if i > 0 && isWord(low[i-1]) && (m.s == "system(" || m.s == "exec(" || m.s == "eval(" || m.s == "assert(" || m.s == "popen(") {
				continue
			}
			if j := i + len(m.s); j < len(low) && low[j] == ')' || j >= len(low) {
				continue
			}
		}
		return m.rule, low[i:], true
	}
	return "", "", false
}

func isWord(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c >= 'A' && c <= 'Z'
}

// ------------------------------------------------------------- command

// commands are the programs injected commands run first.
var commands = map[string]bool{
	"id": true, "whoami": true, "uname": true, "cat": true, "ls": true, "dir": true, "ping": true, "nslookup": true,
	"sleep": true, "wget": true, "curl": true, "nc": true, "ncat": true, "netcat": true, "bash": true, "sh": true,
	"zsh": true, "ksh": true, "python": true, "python3": true, "perl": true, "php": true, "ruby": true, "echo": true,
	"type": true, "ipconfig": true, "ifconfig": true, "powershell": true, "cmd": true, "busybox": true, "chmod": true,
	"rm": true, "tftp": true, "telnet": true, "hostname": true, "pwd": true, "env": true, "expr": true, "timeout": true,
	"systeminfo": true, "tasklist": true, "netstat": true, "ps": true, "certutil": true, "bitsadmin": true, "mshta": true,
	"rundll32": true, "regsvr32": true, "wmic": true, "nohup": true, "dig": true, "host": true, "uname -a": true,
	"net": true, "set": true, "ver": true, "head": true, "tail": true, "more": true, "find": true, "awk": true, "sed": true,
	"xterm": true, "mkfifo": true, "base64": true, "chown": true, "kill": true, "reboot": true, "shutdown": true,
}

// valueCommand finds a parameter value that is itself a command with
// shell arguments ("cat /etc/passwd", "ping -n 30 127.0.0.1").
func valueCommand(low string) (string, bool) {
	for len(low) > 0 {
		val := low
		if k := strings.IndexByte(low, '&'); k >= 0 {
			val, low = low[:k], low[k+1:]
		} else {
			low = ""
		}
		if k := strings.IndexByte(val, '='); k >= 0 {
			val = val[k+1:]
		}
		w := 0
		for w < len(val) && isWord(val[w]) {
			w++
		}
		word := strings.TrimSuffix(val[:w], ".exe")
		if w == 0 || w >= len(val) || !commands[word] || val[w] != ' ' && val[w] != '+' {
			continue
		}
		arg := strings.TrimLeft(val[w:], " +")
		if strings.HasPrefix(arg, "-") && len(arg) > 1 && isWord(arg[1]) || strings.HasPrefix(arg, "/etc/") || strings.HasPrefix(arg, "/bin/") ||
			strings.HasPrefix(arg, "/usr/bin/") || strings.HasPrefix(arg, "/tmp/") || strings.HasPrefix(arg, "c:") {
			return val, true
		}
	}
	return "", false
}

// commandStrong are fragments that are command injection wherever they are.
var commandStrong = []string{
	"/bin/sh", "/bin/bash", "/bin/busybox", "/usr/bin/id", "/bin/cat ", "/usr/bin/wget", "/usr/bin/curl", "cmd.exe",
	"cmd /c", "powershell -e", "powershell.exe", "/dev/tcp/", "${ifs}", "$ifs$", "nc -e ", "bash -i", "bash -c",
	"sh -c ", "|sh", "| sh", "|bash", "| bash", "tftp -i", "certutil -urlcache",
}

// command finds OS command injection: a shell separator (; | || && `
// $( newline) followed by a command, or a strong fragment.
func command(low string, strict bool) (string, string, bool) {
	for _, s := range commandStrong {
		if i := strings.Index(low, s); i >= 0 {
			return "shell-fragment", low[i:], true
		}
	}
	for i := 0; i < len(low); i++ {
		c := low[i]
		var j int
		switch c {
		case ';', '|', '\n':
			if c == ';' && entityEnd(low, i) {
				continue // "&quot;" is not a separator
			}
			j = i + 1
			if c == '|' && j < len(low) && low[j] == '|' {
				j++
			}
		case '&':
			if i+1 < len(low) && low[i+1] == '&' {
				j = i + 2
			} else if i+1 < len(low) && low[i+1] == ' ' && !strict {
				j = i + 1
			} else {
				continue
			}
		case '`':
			j = i + 1
		case '$':
			if i+1 < len(low) && low[i+1] == '(' {
				j = i + 2
			} else {
				continue
			}
		default:
			continue
		}
		if strict && c != '`' && c != '$' {
			continue // in referrers and user agents only `…` and $(…)
		}
		if (c == '`' || c == '$') && i > 0 && strings.IndexByte("=;|&'\"(\n", low[i-1]) < 0 {
			continue // prose quotes commands in `…` after a blank: "run `uname -a`"
		}
		k := j
		for k < len(low) && (low[k] == ' ' || low[k] == '+' || low[k] == '\'' || low[k] == '"' || low[k] == '\t') {
			k++
		}
		if strings.HasPrefix(low[k:], "/bin/") || strings.HasPrefix(low[k:], "/usr/") || strings.HasPrefix(low[k:], "/sbin/") {
			return "shell-path", low[i:min(len(low), i+60)], true
		}
		w := k
		for w < len(low) && (isWord(low[w]) || low[w] == '.' && w > k) {
			w++
		}
		if w == k || w-k > 12 {
			continue
		}
		word := strings.TrimSuffix(low[k:w], ".exe")
		// a path to a program: /bin/x, /usr/bin/x, c:\…
		if w < len(low) && (low[w] == '/' || low[w] == '\\') && (word == "" || word == "usr" || word == "bin" || word == "c") {
			return "shell-path", low[i:min(len(low), i+60)], true
		}
		if !commands[word] {
			if low[k] == '/' && (strings.HasPrefix(low[k:], "/bin/") || strings.HasPrefix(low[k:], "/usr/") || strings.HasPrefix(low[k:], "/sbin/")) {
				return "shell-path", low[i:min(len(low), i+60)], true
			}
			continue
		}
		// the command must end there: end, blank, separator, redirect.
		if w < len(low) {
			switch low[w] {
			case ' ', '\t', ';', '|', '&', '<', '>', '`', ')', '\'', '"', '\n', '+', '$', '#':
			default:
				continue
			}
		}
		// An English "; set" or "| more" in free text: require the
		// command to take an argument that looks like one, or to end
		// the value, for the weak words.
		if weakCommand(word) && !commandArgs(low[w:]) {
			continue
		}
		return "shell-separator", low[i:min(len(low), i+60)], true
	}
	return "", "", false
}

// entityEnd reports whether the ';' at i ends an HTML entity (&quot;, &#39;).
func entityEnd(s string, i int) bool {
	for j := i - 1; j >= 0 && i-j <= 8; j-- {
		c := s[j]
		if c == '&' {
			return j < i-1
		}
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '#') {
			return false
		}
	}
	return false
}

func weakCommand(w string) bool {
	switch w {
	case "type", "set", "more", "find", "host", "head", "tail", "net", "ver", "dir", "echo", "kill", "sleep", "timeout", "ping", "cat", "env", "id", "ls", "ps", "pwd":
		return true
	}
	return false
}

// commandArgs: what follows a weak command word looks like a shell
// argument (a flag, a path, a number, a separator or nothing).
func commandArgs(s string) bool {
	s = strings.TrimLeft(s, " \t")
	if s == "" {
		return true
	}
	switch s[0] {
	case '-', '/', '\\', ';', '|', '&', '`', '>', '<', '$', '\'', '"', '#', '\n', ')':
		return true
	}
	if s[0] >= '0' && s[0] <= '9' {
		return true
	}
	return strings.HasPrefix(s, "c:") || strings.HasPrefix(s, "user") || strings.HasPrefix(s, "%")
}

// ----------------------------------------------------------------- SQL

// squeeze fills in.sq from low (one value): SQL comments (/*…*/) become a
// blank, runs of blanks become one, and then tokenises it.
func (in *Inspector) squeeze(low []byte) {
	b := in.sq[:0]
	blank := false
	for i := 0; i < len(low); i++ {
		c := low[i]
		if c == '/' && i+1 < len(low) && low[i+1] == '*' {
			end := strings.Index(string0(low[i+2:]), "*/")
			if end < 0 { // an unterminated comment cuts the rest, like --
				b = append(b, " -- "...)
				break
			}
			i += end + 3
			c = ' '
		}
		if c == 0xC2 && i+1 < len(low) && low[i+1] == 0xA0 { // no-break space
			c = ' '
			i++
		}
		switch c {
		case ' ', '\t', '\n', '\r', '\v', '\f', 0:
			if !blank {
				b = append(b, ' ')
			}
			blank = true
			continue
		}
		blank = false
		b = append(b, c)
	}
	in.sq = b
	in.toks = tokenize(in.toks[:0], string0(b))
}

type tokKind uint8

const (
	tWord    tokKind = iota // identifier or keyword
	tNum                    // number (also 0x… hex)
	tQuote                  // ' or " or `
	tOp                     // = < > ! | & + - * / % ^ ~
	tOpen                   // (
	tClose                  // )
	tComma                  // ,
	tSemi                   // ;
	tComment                // -- or #
	tOther
)

type tok struct {
	kind     tokKind
	s        string
	pos, end int
}

// tokenize splits a squeezed SQL-ish string.
func tokenize(out []tok, s string) []tok {
	for i := 0; i < len(s) && len(out) < 512; {
		c := s[i]
		start := i
		switch {
		case c == ' ':
			i++
			continue
		case c >= '0' && c <= '9':
			for i < len(s) && (isWord(s[i]) || s[i] == '.') {
				i++
			}
			out = append(out, tok{tNum, s[start:i], start, i})
		case isWord(c) || c == '@' || c == '$':
			for i < len(s) && (isWord(s[i]) || s[i] == '@' || s[i] == '$' || s[i] == '.') {
				i++
			}
			out = append(out, tok{tWord, s[start:i], start, i})
		case c == '\'' || c == '"' || c == '`':
			i++
			out = append(out, tok{tQuote, s[start:i], start, i})
		case c == '-' && i+1 < len(s) && s[i+1] == '-':
			i += 2
			out = append(out, tok{tComment, "--", start, i})
		case c == '#':
			i++
			out = append(out, tok{tComment, "#", start, i})
		case c == '(':
			i++
			out = append(out, tok{tOpen, "(", start, i})
		case c == ')':
			i++
			out = append(out, tok{tClose, ")", start, i})
		case c == ',':
			i++
			out = append(out, tok{tComma, ",", start, i})
		case c == ';':
			i++
			out = append(out, tok{tSemi, ";", start, i})
		case strings.IndexByte("=<>!|&+-*/%^~", c) >= 0:
			for i < len(s) && strings.IndexByte("=<>!|&", s[i]) >= 0 && i-start < 3 {
				i++
			}
			if i == start {
				i++
			}
			out = append(out, tok{tOp, s[start:i], start, i})
		default:
			i++
			out = append(out, tok{tOther, s[start:i], start, i})
		}
	}
	return out
}

// sqlStrongFuncs are functions and objects that only SQL injection sends
// in a URL.
var sqlStrongFuncs = map[string]bool{
	"sleep": true, "benchmark": true, "pg_sleep": true, "extractvalue": true, "updatexml": true, "load_file": true,
	"utl_inaddr.get_host_address": true, "utl_http.request": true, "dbms_pipe.receive_message": true, "dbms_lock.sleep": true,
	"generate_series": true, "randomblob": true, "make_set": true, "group_concat": true, "regexp_substring": true,
	"xp_cmdshell": true, "sp_executesql": true, "sysdate": true, "crypt_key": true, "sqlite_version": true, "json_keys": true,
	"exp": false, "gtid_subset": true, "geometrycollection": true, "multipoint": true, "polygon": true, "linestring": true,
	"procedure": false, "dbms_xmlgen.getxml": true, "ctxsys.drithsx.sn": true, "xmltype": true, "receive_message": true,
}

// sqlTimeFuncs are the blind-injection delays and out-of-band functions
// that no report query needs.
var sqlTimeFuncs = map[string]bool{
	"sleep": true, "benchmark": true, "pg_sleep": true, "dbms_lock.sleep": true, "dbms_pipe.receive_message": true,
	"xp_cmdshell": true, "utl_inaddr.get_host_address": true, "utl_http.request": true, "load_file": true, "extractvalue": true, "updatexml": true,
}

// sqlCondFuncs take a condition as their first argument.
var sqlCondFuncs = map[string]bool{"elt": true, "iif": true, "if": true, "make_set": true, "nullif": true, "decode": true, "choose": true}

// sqlObjects are catalog names and variables.
var sqlObjects = []string{
	"information_schema", "sys.all_tables", "sysobjects", "syscolumns", "msysaccessobjects", "msysobjects", "rdb$", "pg_catalog",
	"sqlite_master", "@@version", "@@datadir", "@@hostname", "mysql.user", "sys.user$", "all_tab_columns", "pg_shadow", "sysibm.",
	"waitfor delay", "waitfor time", "into outfile", "into dumpfile", "load data infile", "exec master.", "master..", "xp_dirtree",
	"dbms_", "utl_inaddr", "utl_http", "char(113)+", "0x3a", "concat(0x", "concat_ws(0x", "chr(124)||",
}

// sqlKeywordAfterBreak are tokens that, right after a quote or a closing
// parenthesis (or a number that ends a value), start injected SQL.
var sqlKeywordAfterBreak = map[string]bool{
	"or": true, "and": true, "xor": true, "union": true, "select": true, "having": true, "where": true, "order": true,
	"group": true, "procedure": true, "into": true, "waitfor": true, "rlike": true, "regexp": true, "like": true,
	"limit": true, "as": true, "div": true, "is": true, "not": true, "between": true, "exec": true, "execute": true,
}

// sqlStacked are statements that follow a ';' in stacked queries.
var sqlStacked = map[string]string{
	"drop": "table", "insert": "into", "delete": "from", "create": "", "alter": "table", "exec": "", "execute": "",
	"declare": "", "shutdown": "", "truncate": "", "waitfor": "", "select": "", "update": "set", "grant": "", "set": "@",
}

var sqlCompare = map[string]bool{
	"=": true, "<": true, ">": true, "<>": true, "!=": true, "<=": true, ">=": true, "<=>": true, "==": true,
	"like": true, "rlike": true, "regexp": true, "between": true, "is": true, "in": true, "sounds": true, "div": true,
}

// sql finds SQL injection in in.toks (the squeezed, tokenised value).
func (in *Inspector) sql(strict bool) (string, string, bool) {
	ts := in.toks
	sq := string0(in.sq)
	frag := func(i, j int) string {
		a := ts[i].pos
		b := len(sq)
		if j < len(ts) {
			b = ts[j].end
		}
		if b-a > 80 {
			b = a + 80
		}
		return sq[a:b]
	}
	// A value that is a whole statement ("select … from …") is SQL text,
	// not a break-out: only the functions that only attacks use count.
	if len(ts) > 0 && ts[0].kind == tWord || len(ts) > 1 && ts[0].kind == tOpen && ts[1].kind == tWord {
		w := ts[0].s
		if ts[0].kind == tOpen {
			w = ts[1].s
		}
		switch w {
		case "select", "insert", "update", "delete", "with", "create", "alter", "drop", "declare", "merge", "replace", "from", "where":
			return in.sqlInStatement(frag)
		}
	}
	for _, o := range sqlObjects {
		if i := strings.Index(sq, o); i >= 0 {
			// "dbms_" and "0x3a" need company: a paren or a select.
			if (o == "dbms_" || o == "0x3a") && !strings.Contains(sq, "select") && !strings.Contains(sq[i:], "(") {
				continue
			}
			return "sql-catalog", sq[i:min(len(sq), i+60)], true
		}
	}
	for i := 0; i < len(ts); i++ {
		t := ts[i]
		next := func(k int) tok {
			if i+k < len(ts) {
				return ts[i+k]
			}
			return tok{kind: tOther}
		}
		switch t.kind {
		case tWord:
			w := t.s
			switch {
			case w == "union":
				k := 1
				if n := next(k); n.kind == tWord && (n.s == "all" || n.s == "distinct") {
					k++
				}
				for next(k).kind == tOpen {
					k++
				}
				if n := next(k); n.kind == tWord && n.s == "select" {
					return "sql-union", frag(i, i+k), true
				}
			case (sqlStrongFuncs[w] || sqlTimeFuncs[lastPart(w)]) && next(1).kind == tOpen:
				return "sql-function", frag(i, i+3), true
			case sqlCondFuncs[w] && next(1).kind == tOpen:
				// elt(3172=7243,…), iif(1=1,…), if(5=5,…): a condition
				// on literals as the first argument
				if j, ok := tautology(ts, i+2); ok {
					return "sql-function", frag(i, j), true
				}
			case w == "case" && next(1).s == "when":
				if j, ok := tautology(ts, i+2); ok {
					return "sql-case", frag(i, j), true
				}
				if next(2).kind == tOpen {
					if j, ok := tautology(ts, i+3); ok {
						return "sql-case", frag(i, j), true
					}
				}
			case (w == "or" || w == "and" || w == "xor" || w == "having" || w == "where" || w == "when") && !strict:
				if j, ok := tautology(ts, i+1); ok {
					// a boolean condition on literals right after an
					// operator keyword: "or 1=1", "and 5215=5215",
					// "' or 'x'='x", "or 8421=(select …"
					if w != "where" && w != "when" || i > 0 && (ts[i-1].kind == tQuote || ts[i-1].kind == tClose) {
						return "sql-boolean", frag(i, j), true
					}
				}
			case (w == "or" || w == "and") && !strict && (next(1).kind == tNum || next(1).s == "true" || next(1).s == "false") && next(2).kind == tComment:
				return "sql-boolean", frag(i, i+3), true
			case w == "select" && i > 0 && (ts[i-1].kind == tOpen) && hasWordAfter(ts, i, "from", 12):
				return "sql-subquery", frag(i-1, i+4), true
			case (w == "case") && next(1).kind == tWord && next(1).s == "when" && hasWordAfter(ts, i, "then", 12):
				if sqlContext(ts, i) {
					return "sql-case", frag(i, i+6), true
				}
			case (w == "char" || w == "chr" || w == "nchar") && next(1).kind == tOpen && next(2).kind == tNum && next(3).kind == tClose:
				if n := next(4); n.kind == tOp && (n.s == "||" || n.s == "+") || n.kind == tComma || n.kind == tClose {
					return "sql-char-concat", frag(i, i+5), true
				}
			case (w == "cast" || w == "convert") && next(1).kind == tOpen && (hasWordAfter(ts, i, "as", 8) || next(2).s == "int"):
				if sqlContext(ts, i) || strings.Contains(sq, "select") || strings.Contains(sq, "0x") {
					return "sql-cast", frag(i, i+6), true
				}
			}
		case tQuote, tClose, tNum:
			// a break out of a literal or a parenthesised expression
			if t.kind == tNum && i != 0 && ts[i-1].kind != tOp {
				// a number is a break-out only when it is the whole
				// value so far ("1 and 1=1", "-1 union …")
				if !(i == 1 && ts[0].kind == tOp && ts[0].s == "-") {
					continue
				}
			}
			if t.kind == tQuote && strict {
				// free text in a referrer or a user agent quotes words
				// ("the 'and' operator"): require a comment or a
				// function after the quote.
				if n := next(1); !(n.kind == tComment || n.kind == tSemi) {
					continue
				}
			}
			k := 1
			for next(k).kind == tClose {
				k++
			}
			n := next(k)
			switch {
			case n.kind == tWord && sqlKeywordAfterBreak[n.s]:
				if j, ok := afterBreak(ts, i+k); ok {
					return "sql-breakout", frag(i, j), true
				}
			case n.kind == tSemi && t.kind != tNum:
				if m := next(k + 1); m.kind == tWord {
					if want, ok := sqlStacked[m.s]; ok && (want == "" || hasWordAfter(ts, i+k+1, want, 6) || strings.HasPrefix(next(k+2).s, want)) {
						return "sql-stacked", frag(i, i+k+3), true
					}
				}
			case n.kind == tComment && t.kind != tNum:
				// admin'-- , 1')# : a comment that cuts the rest
				if m := next(k + 1); m.kind == tOther || m.kind == tWord && i+k+1 == len(ts)-1 || i+k == len(ts)-1 {
					return "sql-comment", frag(i, i+k+1), true
				}
			case n.kind == tOp && (n.s == "||" || n.s == "+") && t.kind == tQuote:
				// '||(select …)||' , '+(select …)+'
				if m := next(k + 1); m.kind == tOpen && next(k+2).s == "select" || m.kind == tWord && sqlStrongFuncs[m.s] {
					return "sql-concat", frag(i, i+k+3), true
				}
			}
		case tSemi:
			if n := next(1); n.kind == tWord {
				if want, ok := sqlStacked[n.s]; ok && want != "" && (hasWordAfter(ts, i+1, want, 6) || strings.HasPrefix(next(2).s, want)) {
					return "sql-stacked", frag(i, i+4), true
				}
			}
		}
	}
	return "", "", false
}

// sqlInStatement judges a value that is a whole SQL statement: only what
// an injected statement has and a report query does not counts: a delay or
// out-of-band function, a system catalog, a tautology cut by a comment, a
// union that selects literals or the server version.
func (in *Inspector) sqlInStatement(frag func(i, j int) string) (string, string, bool) {
	ts := in.toks
	sq := string0(in.sq)
	for i, t := range ts {
		if t.kind == tWord && (sqlTimeFuncs[lastPart(t.s)] || sqlStrongFuncs[t.s]) && i+1 < len(ts) && ts[i+1].kind == tOpen {
			return "sql-function", frag(i, i+3), true
		}
		if t.kind == tWord && t.s == "case" && i+2 < len(ts) && ts[i+1].s == "when" {
			k := i + 2
			if ts[k].kind == tOpen {
				k++
			}
			if j, ok := tautology(ts, k); ok && literalCmp(ts, k) {
				return "sql-case", frag(i, j), true
			}
		}
	}
	for _, o := range []string{"information_schema", "@@version", "mysql.user", "mysql.db", "sys.all_tables", "sysobjects", "v$version", "pg_catalog",
		"sqlite_master", "rdb$", "sysibm.", "master..", "domain.domains", "dual"} {
		if i := strings.Index(sq, o); i >= 0 && (o != "dual" || strings.Contains(sq, "from dual") && strings.Contains(sq, "case when")) {
			return "sql-catalog", sq[i:min(len(sq), i+60)], true
		}
	}
	for i := 0; i+1 < len(ts); i++ {
		t := ts[i]
		if t.kind != tWord {
			continue
		}
		switch t.s {
		case "or", "and":
			if j, ok := tautology(ts, i+1); ok && j < len(ts) && ts[j].kind == tComment {
				return "sql-boolean", frag(i, j), true
			}
		case "union":
			k := i + 1
			if ts[k].kind == tWord && (ts[k].s == "all" || ts[k].s == "distinct") {
				k++
			}
			if k+1 < len(ts) && ts[k].s == "select" {
				if n := ts[k+1]; n.kind == tNum || n.s == "null" || n.s == "version" || strings.HasPrefix(n.s, "@@") || n.kind == tQuote {
					return "sql-union", frag(i, k+2), true
				}
			}
		}
	}
	return "", "", false
}

// literalCmp: the condition at ts[k] compares two numbers or two quoted
// literals (1272=5883), not a column with a value.
func literalCmp(ts []tok, k int) bool {
	return k+2 < len(ts) && (ts[k].kind == tNum || ts[k].kind == tQuote) && (ts[k+2].kind == tNum || ts[k+2].kind == tQuote)
}

// lastPart is the name after the last dot ("user_lock.sleep" → "sleep").
func lastPart(w string) string {
	if k := strings.LastIndexByte(w, '.'); k >= 0 {
		return w[k+1:]
	}
	return w
}

// afterBreak checks what follows a break-out keyword at ts[i] and returns
// the end of the fragment: a boolean condition, union select, order by N,
// a strong function, a comment, a subquery.
func afterBreak(ts []tok, i int) (int, bool) {
	w := ts[i].s
	at := func(k int) tok {
		if i+k < len(ts) {
			return ts[i+k]
		}
		return tok{kind: tOther}
	}
	switch w {
	case "or", "and", "xor", "having", "where", "is", "not":
		if j, ok := tautology(ts, i+1); ok {
			return j, true
		}
		n := at(1)
		if n.kind == tWord && (sqlStrongFuncs[n.s] || n.s == "exists" || n.s == "if" || n.s == "ascii" || n.s == "substring" || n.s == "ord" || n.s == "mid") {
			return i + 2, true
		}
		if n.kind == tOpen && at(2).s == "select" {
			return i + 3, true
		}
		if n.kind == tOpen {
			// "or (8459=8459)*4906", ") or ('x'='x"
			if j, ok := tautology(ts, i+2); ok {
				return j, true
			}
		}
		if n.kind == tWord && sqlCondFuncs[n.s] && at(2).kind == tOpen {
			if j, ok := tautology(ts, i+3); ok {
				return j, true
			}
		}
		if n.kind == tWord && (n.s == "true" || n.s == "false" || n.s == "null") && (at(2).kind == tComment || i+2 == len(ts)) {
			return i + 2, true
		}
		if n.kind == tNum && (at(2).kind == tComment || i+2 == len(ts)) {
			return i + 2, true
		}
	case "union":
		k := 1
		if n := at(k); n.kind == tWord && (n.s == "all" || n.s == "distinct") {
			k++
		}
		if at(k).s == "select" || at(k).kind == tOpen && at(k+1).s == "select" {
			return i + k + 1, true
		}
	case "select":
		if hasWordAfter(ts, i, "from", 10) || at(1).kind == tNum || at(1).s == "null" || at(1).s == "*" || at(1).kind == tOpen {
			return i + 2, true
		}
	case "order", "group":
		if at(1).s == "by" && (at(2).kind == tNum || at(3).kind == tComment) {
			return i + 3, true
		}
	case "procedure":
		if at(1).s == "analyse" {
			return i + 2, true
		}
	case "into":
		if at(1).s == "outfile" || at(1).s == "dumpfile" {
			return i + 2, true
		}
	case "waitfor":
		if at(1).s == "delay" || at(1).s == "time" {
			return i + 3, true
		}
	case "rlike", "regexp", "like":
		if at(1).kind == tOpen && at(2).s == "select" || at(1).kind == tQuote {
			return i + 3, true
		}
	case "limit":
		if at(1).kind == tNum && (at(2).kind == tComma || at(2).kind == tComment) {
			return i + 3, true
		}
	case "exec", "execute":
		if at(1).kind == tOpen || at(1).kind == tWord && (strings.HasPrefix(at(1).s, "master") || strings.HasPrefix(at(1).s, "xp_") || strings.HasPrefix(at(1).s, "sp_")) {
			return i + 2, true
		}
	case "as":
		// ")) as tfjh where 1134=1134"
		if at(1).kind == tWord && at(2).s == "where" {
			if j, ok := tautology(ts, i+3); ok {
				return j, true
			}
		}
	case "between", "div":
		if at(1).kind == tNum {
			return i + 2, true
		}
	}
	return 0, false
}

// tautology matches "LIT OP LIT" (or "LIT OP (select …") starting at
// ts[i], where LIT is a number, a quoted word, an empty string or null; it
// returns the index after the match.
func tautology(ts []tok, i int) (int, bool) {
	j, ok := literal(ts, i)
	if !ok || j >= len(ts) {
		return 0, false
	}
	op := ts[j]
	if !(op.kind == tOp && sqlCompare[op.s] || op.kind == tWord && sqlCompare[op.s]) {
		return 0, false
	}
	j++
	if j < len(ts) && ts[j].kind == tWord && ts[j].s == "not" {
		j++
	}
	if j < len(ts) && ts[j].kind == tOpen {
		if j+1 < len(ts) && (ts[j+1].s == "select" || sqlStrongFuncs[ts[j+1].s]) {
			return j + 2, true
		}
		return 0, false
	}
	if k, ok := literal(ts, j); ok {
		return k, true
	}
	// 1=like('abc', …)
	if j+1 < len(ts) && ts[j].kind == tWord && (ts[j].s == "like" || sqlStrongFuncs[ts[j].s]) && ts[j+1].kind == tOpen {
		return j + 2, true
	}
	return 0, false
}

// literal matches a number, 'word', "", or null at ts[i].
func literal(ts []tok, i int) (int, bool) {
	if i >= len(ts) {
		return 0, false
	}
	t := ts[i]
	switch t.kind {
	case tNum:
		return i + 1, true
	case tWord:
		if t.s == "null" || t.s == "true" || t.s == "false" {
			return i + 1, true
		}
	case tQuote:
		if i+1 < len(ts) && ts[i+1].kind == tQuote {
			return i + 2, true
		}
		if i+2 < len(ts) && (ts[i+1].kind == tWord || ts[i+1].kind == tNum) && ts[i+2].kind == tQuote {
			return i + 3, true
		}
		// "'1" at the end of a value (the server adds the closing quote)
		if i+2 == len(ts) && (ts[i+1].kind == tWord || ts[i+1].kind == tNum) {
			return i + 2, true
		}
		if i+1 == len(ts) { // "' or ''='": the server closes the quote
			return i + 1, true
		}
	case tOp:
		if t.s == "-" && i+1 < len(ts) && ts[i+1].kind == tNum {
			return i + 2, true
		}
	}
	return 0, false
}

// sqlContext: there is a quote, a closing parenthesis or a SQL comment
// somewhere before ts[i], or a comment after it.
func sqlContext(ts []tok, i int) bool {
	for k := 0; k < len(ts); k++ {
		switch ts[k].kind {
		case tQuote, tComment:
			return true
		case tClose:
			if k < i {
				return true
			}
		}
	}
	return false
}

func hasWordAfter(ts []tok, i int, w string, within int) bool {
	for k := i + 1; k < len(ts) && k <= i+within; k++ {
		if ts[k].kind == tWord && ts[k].s == w {
			return true
		}
	}
	return false
}

// ----------------------------------------------------------------- XSS

var xssTags = []string{"script", "iframe", "frame", "frameset", "object", "embed", "applet", "svg", "math", "base", "meta",
	"link", "style", "isindex", "import", "template", "marquee", "bgsound", "xss", "xml", "form", "video", "audio", "img", "image", "body", "input"}

// xss finds script injection: dangerous tags, event handlers in tags,
// script URLs and script sinks.
func xss(low string, strict bool) (string, string, bool) {
	s := low
	if strings.Contains(s, "&#") || strings.Contains(s, "&lt") || strings.Contains(s, "+adw-") {
		s = unentity(s)
	}
	for i := 0; i < len(s); i++ {
		if s[i] != '<' {
			continue
		}
		j := i + 1
		for j < len(s) && (s[j] == '/' || s[j] == ' ') {
			j++
		}
		k := j
		for k < len(s) && (s[k] >= 'a' && s[k] <= 'z' || s[k] >= '0' && s[k] <= '9' || s[k] == ':') {
			k++
		}
		if k == j || s[j] < 'a' || s[j] > 'z' {
			continue
		}
		name := s[j:k]
		if c := strings.IndexByte(name, ':'); c >= 0 { // <svg:script>
			name = name[c+1:]
		}
		for _, t := range xssTags {
			if name == t && (k == len(s) || !isWord(s[k])) {
				if t == "img" || t == "image" || t == "body" || t == "input" || t == "form" || t == "video" || t == "audio" || t == "style" || t == "link" || t == "base" || t == "meta" {
					// common tags need a handler or a script URL
					break
				}
				return "script-tag", s[i:min(len(s), i+60)], true
			}
		}
		// an event handler inside the tag: <x onerror=…>, <x/onload=…>
		end := strings.IndexByte(s[k:], '>')
		tagEnd := len(s)
		if end >= 0 {
			tagEnd = k + end
		}
		if h, ok := handler(s[k:tagEnd]); ok {
			return "event-handler", s[i:min(len(s), k+h+30)], true
		}
		if strings.Contains(s[k:tagEnd], "javascript:") || strings.Contains(s[k:tagEnd], "vbscript:") || strings.Contains(s[k:tagEnd], "data:text/html") {
			return "script-url", s[i:min(len(s), i+60)], true
		}
		if strings.Contains(s[k:tagEnd], "expression(") {
			return "css-expression", s[i:min(len(s), i+60)], true
		}
	}
	compact := s
	if strings.ContainsAny(s, " \t\n\r") {
		compact = strings.Map(func(r rune) rune {
			if r == ' ' || r == '\t' || r == '\n' || r == '\r' {
				return -1
			}
			return r
		}, s)
	}
	for _, u := range []string{"javascript:", "vbscript:", "livescript:"} {
		if i := strings.Index(compact, u); i >= 0 {
			// a script URL as a value (=javascript:…) or at the start
			if i == 0 || strings.IndexByte("=\"'(&:/ ", compact[i-1]) >= 0 {
				return "script-url", compact[i:min(len(compact), i+60)], true
			}
		}
	}
	if strict {
		return "", "", false
	}
	for _, sink := range []string{"document.cookie", "document.domain", "document.write(", "document.location", "window.location", "fromcharcode(",
		"alert(", "prompt(", "confirm(", "settimeout(", "setinterval(", "srcdoc=", "formaction=", "xlink:href", "-moz-binding", "onerror=", "onload=", "onmouseover=", "onfocus=", "ontoggle=", "onanimationstart="} {
		if i := strings.Index(compact, sink); i >= 0 {
			if i > 0 && isWord(compact[i-1]) && sink[len(sink)-1] == '(' {
				continue // "redalert(" is not alert(
			}
			if sink[len(sink)-1] == '(' && !scriptish(compact) {
				continue // "confirm(order)" in free text needs script around it
			}
			return "script-sink", compact[i:min(len(compact), i+50)], true
		}
	}
	return "", "", false
}

// scriptish: the value has script syntax around a sink call.
func scriptish(s string) bool {
	return strings.ContainsAny(s, "<>;\"'`") || strings.Contains(s, "()") || strings.Contains(s, "(1)") || strings.Contains(s, "(/")
}

// handler finds " on<event>=" inside a tag's attributes.
func handler(attrs string) (int, bool) {
	for i := 0; i+3 < len(attrs); i++ {
		if attrs[i] != 'o' || attrs[i+1] != 'n' {
			continue
		}
		if i > 0 && strings.IndexByte(" /\"'\t\n\r;", attrs[i-1]) < 0 {
			continue
		}
		j := i + 2
		for j < len(attrs) && attrs[j] >= 'a' && attrs[j] <= 'z' {
			j++
		}
		if j-i-2 < 3 {
			continue
		}
		for j < len(attrs) && (attrs[j] == ' ' || attrs[j] == '\t') {
			j++
		}
		if j < len(attrs) && attrs[j] == '=' {
			return i, true
		}
	}
	return 0, false
}

// unentity folds the HTML entities used to hide tags (&lt; &#60; &#x3c;
// and UTF-7 +ADw-/+AD4-) to characters.
func unentity(s string) string {
	r := strings.NewReplacer("&lt;", "<", "&gt;", ">", "&quot;", "\"", "&#39;", "'", "&#x27;", "'", "+adw-", "<", "+ad4-", ">",
		"&lt", "<", "&gt", ">")
	s = r.Replace(s)
	if !strings.Contains(s, "&#") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '&' && i+2 < len(s) && s[i+1] == '#' {
			j := i + 2
			hex := j < len(s) && s[j] == 'x'
			if hex {
				j++
			}
			base := 10
			if hex {
				base = 16
			}
			v, k := 0, j
		digits:
			for ; k < len(s) && k < j+7; k++ {
				c := s[k]
				switch {
				case c >= '0' && c <= '9':
					v = v*base + int(c-'0')
				case hex && c >= 'a' && c <= 'f':
					v = v*16 + int(c-'a'+10)
				default:
					break digits
				}
			}
			if k > j && v > 0 && v < 128 {
				b.WriteByte(byte(v))
				if k < len(s) && s[k] == ';' {
					k++
				}
				i = k - 1
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// ----------------------------------------------- traversal / inclusion

var sensitiveTargets = []string{
	"etc/passwd", "etc/shadow", "etc/hosts", "etc/group", "etc/issue", "proc/self/", "proc/version", "windows/win.ini", "win.ini",
	"boot.ini", "windows/system32", "winnt/system32", "system32/", "web-inf/web.xml", "web.config", ".htpasswd", ".htaccess",
	"wp-config.php", ".ssh/", "id_rsa", "/var/log/", "etc/nginx/", "etc/apache2/", "etc/httpd/", ".bash_history", ".env",
}

// traversal finds path traversal and local file inclusion: repeated "../"
// (in any of its encodings, after decoding), one "../" towards a sensitive
// file, an absolute sensitive path in a parameter, a null byte.
func traversal(low string, f Field) (string, string, bool) {
	n, first := 0, -1
	for i := 0; i+2 < len(low); i++ {
		if low[i] == '.' && low[i+1] == '.' && (low[i+2] == '/' || low[i+2] == '\\' || low[i+2] == ';' && i+3 < len(low) && low[i+3] == '/') {
			if first < 0 {
				first = i
			}
			n++
			i += 2
		}
	}
	if first < 0 {
		for _, v := range []string{"..0x5c", "..0x2f", "0x2e0x2e", "....//", "..../", "..%5c", "..%2f", "..%c0%af", "..%25"} {
			if i := strings.Index(low, v); i >= 0 {
				return "traversal-encoded", low[i:min(len(low), i+60)], true
			}
		}
	}
	if n >= 2 {
		return "traversal", low[first:min(len(low), first+60)], true
	}
	if n == 1 {
		for _, t := range sensitiveTargets {
			if strings.Contains(low[first:], t) {
				return "traversal", low[first:min(len(low), first+60)], true
			}
		}
	}
	if i := strings.IndexByte(low, 0); i >= 0 && f != FieldUserAgent {
		from := max(0, i-40)
		return "null-byte", low[from:min(len(low), i+10)], true
	}
	if f == FieldQuery {
		// an absolute path to a system file as a parameter value
		for _, t := range []string{"/etc/passwd", "/etc/shadow", "/proc/self/environ", "c:/windows/", "c:\\windows\\", "c:/boot.ini", "c:\\boot.ini",
			"/windows/win.ini", "c:/inetpub", "c:\\inetpub", "d:/inetpub", "web-inf/web.xml", "file:/"} {
			if i := strings.Index(low, t); i >= 0 && (i == 0 || low[i-1] == '=' || low[i-1] == '/' && t[0] != '/') {
				return "file-path", low[max(0, i-10):min(len(low), i+40)], true
			}
		}
	}
	return "", "", false
}

// inclusion finds remote file inclusion and PHP stream wrappers in a
// query: php://, data:…;base64, expect://, zip://, phar://; or a URL as a
// parameter value that ends with '?' (the classic trick to cut the
// server's suffix) or a null byte, or is passed to an include-like
// parameter.
func inclusion(low string, f Field) (string, string, bool) {
	for _, w := range []string{"php://filter", "php://input", "php://fd", "expect://", "zip://", "phar://", "glob://", "data://", "data:;base64", "data:text/plain", "file:///"} {
		if i := strings.Index(low, w); i >= 0 {
			return "stream-wrapper", low[i:min(len(low), i+60)], true
		}
	}
	if f != FieldQuery {
		return "", "", false
	}
	for len(low) > 0 {
		param := low
		if k := strings.IndexByte(low, '&'); k >= 0 {
			param, low = low[:k], low[k+1:]
		} else {
			low = ""
		}
		name, val, ok := strings.Cut(param, "=")
		if !ok {
			name, val = "", param
		}
		u := strings.TrimLeft(val, " ")
		isURL := strings.HasPrefix(u, "http://") || strings.HasPrefix(u, "https://") || strings.HasPrefix(u, "ftp://") || strings.HasPrefix(u, "//") && len(u) > 3 && u[2] != '/' || strings.HasPrefix(u, "///")
		if !isURL {
			continue
		}
		if strings.HasSuffix(u, "?") || strings.HasSuffix(u, "\x00") || strings.HasSuffix(u, "%00") {
			return "remote-include", param, true
		}
		switch name {
		case "include", "inc", "file", "page", "template", "tpl", "path", "dir", "doc", "document", "folder", "root", "pg",
			"style", "lang", "language", "module", "mod", "load", "read", "content", "layout", "conf", "config", "cat", "view", "show", "site":
			if strings.HasSuffix(u, ".txt") || strings.HasSuffix(u, ".php") || strings.Contains(u, ".txt?") || strings.Contains(u, "shell") {
				return "remote-include", param, true
			}
		}
	}
	return "", "", false
}

// crlf finds a line break followed by a header: response splitting.
func crlf(low string) (string, bool) {
	for i := 0; i < len(low); i++ {
		if low[i] != '\n' && low[i] != '\r' {
			continue
		}
		j := i
		for j < len(low) && (low[j] == '\r' || low[j] == '\n' || low[j] == ' ') {
			j++
		}
		for _, h := range []string{"set-cookie:", "location:", "content-type:", "content-length:", "x-xss-protection:", "refresh:", "access-control-"} {
			if strings.HasPrefix(low[j:], h) {
				return low[max(0, i-10):min(len(low), j+40)], true
			}
		}
	}
	return "", false
}

// ssrf finds requests aimed at cloud metadata and internal-only schemes.
func ssrf(low string) (string, string, bool) {
	for _, w := range []string{"169.254.169.254", "metadata.google.internal", "100.100.100.200", "metadata.azure.com", "169.254.170.2"} {
		if i := strings.Index(low, w); i >= 0 {
			return "cloud-metadata", low[max(0, i-10):min(len(low), i+50)], true
		}
	}
	for _, w := range []string{"gopher://", "dict://", "ldap://", "tftp://", "jar:http"} {
		if i := strings.Index(low, w); i >= 0 {
			return "internal-scheme", low[i:min(len(low), i+50)], true
		}
	}
	return "", "", false
}

// scannerMarkers are strings that web vulnerability scanners put in their
// payloads (to recognise the reflection) or their out-of-band callback
// domains.
var scannerMarkers = []string{
	"acunetix", "wvs_", "netsparker", "bxss.me", "burpcollab", "oastify.com", "interact.sh", "interactsh", "oast.pro", "oast.fun",
	"oast.live", "oast.site", "oast.online", "dnslog.cn", "ceye.io", "r87.com", "xss.ht", "xss.report", "nessus", "nikto",
	"sqlmap", "appscan", "arachni", "w3af", "zap_", "owasp_zap", "nuclei", "invicti", "qualys", "rapid7", "canarytokens",
	"0w45pz4p", "zappx", "vulnweb.com", "wapiti", "dalfox", "xsstrike", "xsshunter", "pingb.in", "requestbin", "burpcollaborator",
}

func probe(low string) (string, bool) {
	for _, m := range scannerMarkers {
		if i := strings.Index(low, m); i >= 0 {
			return low[max(0, i-20):min(len(low), i+40)], true
		}
	}
	return "", false
}
