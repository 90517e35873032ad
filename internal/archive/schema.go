package archive

import (
	"bytes"
	"net/netip"
	"time"
	"unsafe"

	"winnow/internal/event"
)

// SchemaVersion is written into every file's key/value metadata
// ("winnow.schema"). Readers accept files of this version and older; a
// new version adds columns only (old files read with the new columns
// empty). Version 2 added log_file_id and event_sequence (the event id)
// and day partitions (kind=/date=/ without hour=).
const SchemaVersion = "2"

// CoreRow holds the columns every event partition has. Column names
// follow Elastic Common Schema where one exists (dots become
// underscores); optional columns are null when the event has no such
// field. Each kind family adds its own columns: AuthRow (kinds auth,
// syslog, service), HTTPRow (http), DNSRow (dns).
type CoreRow struct {
	Timestamp time.Time `parquet:"timestamp,timestamp(nanosecond)"`
	Kind      string    `parquet:"event_kind,dict"`
	Action    string    `parquet:"event_action,dict"`
	Outcome   string    `parquet:"event_outcome,dict"`
	Host      string    `parquet:"host_name,optional,dict"`
	Program   string    `parquet:"process_name,optional,dict"`
	PID       int32     `parquet:"process_pid,optional"`
	SrcIP     string    `parquet:"source_ip,optional"`
	SrcPort   int32     `parquet:"source_port,optional"`
	SrcHost   string    `parquet:"source_domain,optional"` // the source's host name when the log gave no address
	User      string    `parquet:"user_name,optional"`
	Count     int32     `parquet:"event_count"`
	File      string    `parquet:"log_file_path,dict"`
	Line      int64     `parquet:"log_offset"`
	// FileID is the input's content fingerprint (InputRecord.Fingerprint)
	// and Seq the event's index among the events of its line (repeats):
	// (FileID, Line, Seq) is the event's stable id. Null/0 in schema 1.
	FileID string `parquet:"log_file_id,optional,dict"`
	Seq    int32  `parquet:"event_sequence"`
	// Message is the whole original record; MsgOffset is where the
	// program's message starts in it (-1: see MsgText).
	Message   string `parquet:"event_original"`
	MsgOffset int32  `parquet:"message_offset"`
	// MsgText is the message when it is not a suffix of the record
	// ("message repeated N times: [ … ]" holds the repeated message).
	MsgText string `parquet:"message,optional"`
	// The sensor that saw the event (--sensor; ECS observer.*).
	SensorName    string `parquet:"observer_name,optional,dict"`
	SensorVantage string `parquet:"observer_vantage,optional,dict"`
	SensorDomain  string `parquet:"observer_domain,optional,dict"`
}

// AuthRow is an event of the auth, syslog and service partitions.
type AuthRow struct {
	CoreRow
	TargetUser  string `parquet:"user_target_name,optional"`
	Method      string `parquet:"auth_method,optional,dict"`
	Command     string `parquet:"process_command_line,optional"`
	Unit        string `parquet:"service_name,optional,dict"`
	InvalidUser bool   `parquet:"user_invalid"`
	Preauth     bool   `parquet:"ssh_preauth"`
}

// HTTPRow is an event of the http partitions.
type HTTPRow struct {
	CoreRow
	Site      string `parquet:"url_domain,optional,dict"`
	Method    string `parquet:"http_request_method,optional,dict"`
	Path      string `parquet:"url_path,optional"`
	Query     string `parquet:"url_query,optional"`
	Status    int32  `parquet:"http_response_status_code,optional"`
	Bytes     int64  `parquet:"http_response_body_bytes"`
	Referrer  string `parquet:"http_request_referrer,optional"`
	UserAgent string `parquet:"user_agent_original,optional,dict"`
	Protocol  string `parquet:"http_version,optional,dict"`
	PathDec   string `parquet:"url_path_decoded,optional"`
	QueryDec  string `parquet:"url_query_decoded,optional"`
	Ext       string `parquet:"url_extension,optional,dict"`
	Invalid   bool   `parquet:"http_request_invalid"`
}

// DNSRow is an event of the dns partitions.
type DNSRow struct {
	CoreRow
	Name       string      `parquet:"dns_question_name,optional"`
	Registered string      `parquet:"dns_question_registered_domain,optional,dict"`
	QType      string      `parquet:"dns_question_type,optional,dict"`
	RCode      string      `parquet:"dns_response_code,optional,dict"`
	ID         int32       `parquet:"dns_id"`
	QTypeCode  int32       `parquet:"dns_question_type_code"`
	ServerIP   string      `parquet:"destination_ip,optional"`
	ServerPort int32       `parquet:"destination_port,optional"`
	Transport  string      `parquet:"network_transport,optional,dict"`
	QuerySize  int32       `parquet:"dns_query_bytes"`
	RespSize   int32       `parquet:"dns_response_bytes"`
	SizeEst    bool        `parquet:"dns_size_estimated"`
	Answered   bool        `parquet:"dns_answered"`
	RTT        int64       `parquet:"dns_rtt_ns"`
	Truncated  bool        `parquet:"dns_truncated"`
	EDNS       bool        `parquet:"dns_edns"`
	EDNSSize   int32       `parquet:"dns_edns_size"`
	Answers    []AnswerRow `parquet:"dns_answers,list"`
	AnswerN    int32       `parquet:"dns_answer_count"`
	Orphan     string      `parquet:"dns_orphan,optional,dict"`
}

// AnswerRow is one DNS answer record.
type AnswerRow struct {
	Type string `parquet:"type"`
	TTL  int32  `parquet:"ttl"`
	Data string `parquet:"data"`
	Size int32  `parquet:"size"`
}

// FindingRow is one archived finding (kind=finding partitions): the JSON
// contract's fields, with the nested evidence, samples and related
// entities as JSON text.
type FindingRow struct {
	Timestamp   time.Time `parquet:"timestamp,timestamp(nanosecond)"`
	Start       time.Time `parquet:"event_start,timestamp(nanosecond)"`
	Run         string    `parquet:"winnow_run,dict"`
	Rule        string    `parquet:"rule_name,dict"`
	Description string    `parquet:"rule_description"`
	EntityType  string    `parquet:"winnow_entity_type,dict"`
	EntityValue string    `parquet:"winnow_entity_value"`
	Severity    int32     `parquet:"event_severity"`
	Score       float64   `parquet:"winnow_score"`
	SourceIP    string    `parquet:"source_ip,optional"`
	User        string    `parquet:"user_name,optional"`
	Techniques  []string  `parquet:"threat_technique_id,list"`
	Evidence    string    `parquet:"winnow_evidence_json"`
	Samples     string    `parquet:"winnow_samples_json"`
	Related     string    `parquet:"winnow_related_json"`
}

// family is the row schema of a partition kind.
func family(kind string) string {
	switch kind {
	case "http", "dns", "flow", "audit", "file":
		return kind
	}
	return "auth"
}

// rowMeta is what the writer adds to an event's row: its input's
// fingerprint and its index among the events of its line.
type rowMeta struct {
	fileID string
	seq    int32
}

// coreRow fills the common columns. Strings are shared, and so is the
// raw line: an event's Raw aliases an input chunk that is never
// rewritten (the pipeline's contract), so the row may point into it
// until it is encoded instead of copying every line.
func coreRow(ev *event.Event, m rowMeta, r *CoreRow) {
	*r = CoreRow{
		Timestamp: ev.Time, Kind: ev.Kind.String(), Action: ev.Action.String(), Outcome: ev.Outcome.String(),
		Host: ev.Host, Program: ev.Program, PID: ev.PID, SrcPort: int32(ev.SrcPort), SrcHost: ev.SrcHost, User: ev.User, Count: ev.Count,
		File: ev.Ref.File, Line: ev.Ref.Line, FileID: m.fileID, Seq: m.seq, Message: unsafe.String(unsafe.SliceData(ev.Raw), len(ev.Raw)),
		MsgOffset: -1,
	}
	if ev.SrcIP.IsValid() {
		r.SrcIP = ev.SrcIP.String()
	}
	if sn := ev.Sensor; sn != nil {
		r.SensorName, r.SensorVantage, r.SensorDomain = sn.Name, sn.Vantage, sn.Domain
	}
	if len(ev.Msg) > 0 && bytes.HasSuffix(ev.Raw, ev.Msg) {
		r.MsgOffset = int32(len(ev.Raw) - len(ev.Msg))
	} else if len(ev.Msg) > 0 {
		r.MsgText = string(ev.Msg)
	} else if len(ev.Raw) > 0 {
		r.MsgOffset = int32(len(ev.Raw))
	}
}

func authRow(ev *event.Event, m rowMeta, r *AuthRow) {
	coreRow(ev, m, &r.CoreRow)
	r.TargetUser, r.Method, r.Command, r.Unit, r.InvalidUser, r.Preauth =
		ev.TargetUser, ev.Method, ev.Command, ev.Unit, ev.InvalidUser, ev.Preauth
}

func httpRow(ev *event.Event, m rowMeta, r *HTTPRow) {
	coreRow(ev, m, &r.CoreRow)
	h := ev.HTTP
	if h == nil {
		h = &event.HTTP{Bytes: -1}
	}
	r.Site, r.Method, r.Path, r.Query = h.Site, h.Method, h.Path, h.Query
	r.Status, r.Bytes, r.Referrer, r.UserAgent = int32(h.Status), h.Bytes, h.Referrer, h.UserAgent
	r.Protocol, r.PathDec, r.QueryDec, r.Ext, r.Invalid = h.Protocol, h.PathDecoded, h.QueryDecoded, h.Ext, h.Invalid
}

func dnsRow(ev *event.Event, m rowMeta, r *DNSRow) {
	coreRow(ev, m, &r.CoreRow)
	d := ev.DNS
	if d == nil {
		d = &event.DNS{}
	}
	r.Name, r.Registered, r.QType, r.RCode = d.Name, d.Registered, d.QType, d.RCode
	r.ID, r.QTypeCode, r.ServerPort, r.Transport = int32(d.ID), int32(d.QTypeCode), int32(d.ServerPort), d.Transport
	if d.ServerIP.IsValid() {
		r.ServerIP = d.ServerIP.String()
	}
	r.QuerySize, r.RespSize, r.SizeEst, r.Answered = d.QuerySize, d.RespSize, d.SizeEstimated, d.Answered
	r.RTT, r.Truncated, r.EDNS, r.EDNSSize = int64(d.RTT), d.Truncated, d.EDNS, int32(d.EDNSSize)
	r.AnswerN, r.Orphan = int32(d.AnswerCount), d.Orphan.String()
	for _, a := range d.Answers {
		r.Answers = append(r.Answers, AnswerRow{Type: a.Type, TTL: int32(a.TTL), Data: a.Data, Size: int32(a.Size)})
	}
}

// coreEvent converts the common columns back; times are given the
// location loc (the zone the original run used, so hour-of-day logic
// replays identically).
func coreEvent(r *CoreRow, loc *time.Location, ev *event.Event) {
	kind, _ := event.ParseKind(r.Kind)
	act, _ := event.ParseAction(r.Action)
	*ev = event.Event{
		Time: r.Timestamp.In(loc), Kind: kind, Action: act, Outcome: event.ParseOutcome(r.Outcome),
		Host: r.Host, Program: r.Program, PID: r.PID, SrcPort: uint16(r.SrcPort), SrcHost: r.SrcHost, User: r.User, Count: r.Count,
		Ref: event.Ref{File: r.File, Line: r.Line}, Raw: []byte(r.Message),
	}
	if r.SrcIP != "" {
		ev.SrcIP, _ = netip.ParseAddr(r.SrcIP)
	}
	ev.Sensor = sensorOf(r)
	if r.MsgText != "" {
		ev.Msg = []byte(r.MsgText)
	} else if r.MsgOffset >= 0 && int(r.MsgOffset) <= len(ev.Raw) {
		ev.Msg = ev.Raw[r.MsgOffset:len(ev.Raw):len(ev.Raw)]
	}
}

func authEvent(r *AuthRow, loc *time.Location, ev *event.Event) {
	coreEvent(&r.CoreRow, loc, ev)
	ev.TargetUser, ev.Method, ev.Command, ev.Unit, ev.InvalidUser, ev.Preauth =
		r.TargetUser, r.Method, r.Command, r.Unit, r.InvalidUser, r.Preauth
}

func httpEvent(r *HTTPRow, loc *time.Location, ev *event.Event) {
	coreEvent(&r.CoreRow, loc, ev)
	ev.HTTP = &event.HTTP{Site: r.Site, Method: r.Method, Path: r.Path, Query: r.Query,
		Status: int(r.Status), Bytes: r.Bytes, Referrer: r.Referrer, UserAgent: r.UserAgent,
		Protocol: r.Protocol, PathDecoded: r.PathDec, QueryDecoded: r.QueryDec, Ext: r.Ext, Invalid: r.Invalid}
}

func dnsEvent(r *DNSRow, loc *time.Location, ev *event.Event) {
	coreEvent(&r.CoreRow, loc, ev)
	d := &event.DNS{Name: r.Name, Registered: r.Registered, QType: r.QType, RCode: r.RCode,
		ID: uint16(r.ID), QTypeCode: uint16(r.QTypeCode), ServerPort: uint16(r.ServerPort), Transport: r.Transport,
		QuerySize: r.QuerySize, RespSize: r.RespSize, SizeEstimated: r.SizeEst, Answered: r.Answered,
		RTT: time.Duration(r.RTT), Truncated: r.Truncated, EDNS: r.EDNS, EDNSSize: uint16(r.EDNSSize),
		AnswerCount: uint16(r.AnswerN), Orphan: parseOrphan(r.Orphan)}
	if r.ServerIP != "" {
		d.ServerIP, _ = netip.ParseAddr(r.ServerIP)
	}
	for _, a := range r.Answers {
		d.Answers = append(d.Answers, event.Answer{Type: a.Type, TTL: uint32(a.TTL), Data: a.Data, Size: uint16(a.Size)})
	}
	ev.DNS = d
}

func parseOrphan(s string) event.Orphan {
	switch s {
	case "unanswered":
		return event.OrphanUnanswered
	case "unused":
		return event.OrphanUnused
	}
	return event.OrphanNone
}
