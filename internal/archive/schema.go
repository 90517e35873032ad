package archive

import (
	"bytes"
	"net/netip"
	"time"

	"winnow/internal/event"
)

// SchemaVersion is written into every file's key/value metadata
// ("winnow.schema"). Readers accept files of this version; a new version
// adds columns only (old files read with the new columns empty).
const SchemaVersion = "1"

// EventRow is one archived event: the columns of the kind=auth, syslog,
// service, http and dns partitions (docs/format/archive.md). Column names
// follow Elastic Common Schema where one exists (dots become underscores).
// Optional columns are null when the event has no such field.
type EventRow struct {
	Timestamp time.Time `parquet:"timestamp,timestamp(nanosecond)"`
	Kind      string    `parquet:"event_kind,dict"`
	Action    string    `parquet:"event_action,dict"`
	Outcome   string    `parquet:"event_outcome,dict"`

	Host    string `parquet:"host_name,optional,dict"`
	Program string `parquet:"process_name,optional,dict"`
	PID     int32  `parquet:"process_pid,optional"`

	SrcIP   string `parquet:"source_ip,optional"`
	SrcPort int32  `parquet:"source_port,optional"`

	User        string `parquet:"user_name,optional"`
	TargetUser  string `parquet:"user_target_name,optional"`
	Method      string `parquet:"auth_method,optional,dict"`
	Command     string `parquet:"process_command_line,optional"`
	Unit        string `parquet:"service_name,optional,dict"`
	Count       int32  `parquet:"event_count"`
	InvalidUser bool   `parquet:"user_invalid"`
	Preauth     bool   `parquet:"ssh_preauth"`

	HTTPSite      string `parquet:"url_domain,optional,dict"`
	HTTPMethod    string `parquet:"http_request_method,optional,dict"`
	HTTPPath      string `parquet:"url_path,optional"`
	HTTPQuery     string `parquet:"url_query,optional"`
	HTTPStatus    int32  `parquet:"http_response_status_code,optional"`
	HTTPBytes     int64  `parquet:"http_response_body_bytes,optional"`
	HTTPReferrer  string `parquet:"http_request_referrer,optional"`
	HTTPUserAgent string `parquet:"user_agent_original,optional,dict"`
	HTTPProtocol  string `parquet:"http_version,optional,dict"`
	HTTPPathDec   string `parquet:"url_path_decoded,optional"`
	HTTPQueryDec  string `parquet:"url_query_decoded,optional"`
	HTTPExt       string `parquet:"url_extension,optional,dict"`
	HTTPInvalid   bool   `parquet:"http_request_invalid,optional"`

	DNSName       string      `parquet:"dns_question_name,optional"`
	DNSRegistered string      `parquet:"dns_question_registered_domain,optional,dict"`
	DNSQType      string      `parquet:"dns_question_type,optional,dict"`
	DNSRCode      string      `parquet:"dns_response_code,optional,dict"`
	DNSID         int32       `parquet:"dns_id,optional"`
	DNSQTypeCode  int32       `parquet:"dns_question_type_code,optional"`
	DNSServerIP   string      `parquet:"destination_ip,optional"`
	DNSServerPort int32       `parquet:"destination_port,optional"`
	DNSTransport  string      `parquet:"network_transport,optional,dict"`
	DNSQuerySize  int32       `parquet:"dns_query_bytes,optional"`
	DNSRespSize   int32       `parquet:"dns_response_bytes,optional"`
	DNSSizeEst    bool        `parquet:"dns_size_estimated,optional"`
	DNSAnswered   bool        `parquet:"dns_answered,optional"`
	DNSRTT        int64       `parquet:"dns_rtt_ns,optional"`
	DNSTruncated  bool        `parquet:"dns_truncated,optional"`
	DNSEDNS       bool        `parquet:"dns_edns,optional"`
	DNSEDNSSize   int32       `parquet:"dns_edns_size,optional"`
	DNSAnswers    []AnswerRow `parquet:"dns_answers,list"`
	DNSAnswerN    int32       `parquet:"dns_answer_count,optional"`
	DNSOrphan     string      `parquet:"dns_orphan,optional,dict"`

	File string `parquet:"log_file_path,dict"`
	Line int64  `parquet:"log_offset"`
	// Message is the whole original record; MsgOffset is where the
	// program's message starts in it (-1: no message part).
	Message   string `parquet:"event_original"`
	MsgOffset int32  `parquet:"message_offset"`
	// MsgText is the message when it is not a suffix of the record
	// ("message repeated N times: [ … ]" holds the repeated message).
	MsgText string `parquet:"message,optional"`
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

// toRow converts an event. Strings are shared, the raw line is copied.
func toRow(ev *event.Event, r *EventRow) {
	*r = EventRow{
		Timestamp: ev.Time, Kind: ev.Kind.String(), Action: ev.Action.String(), Outcome: ev.Outcome.String(),
		Host: ev.Host, Program: ev.Program, PID: ev.PID, SrcPort: int32(ev.SrcPort),
		User: ev.User, TargetUser: ev.TargetUser, Method: ev.Method, Command: ev.Command, Unit: ev.Unit,
		Count: ev.Count, InvalidUser: ev.InvalidUser, Preauth: ev.Preauth,
		File: ev.Ref.File, Line: ev.Ref.Line, Message: string(ev.Raw), MsgOffset: -1,
	}
	if ev.SrcIP.IsValid() {
		r.SrcIP = ev.SrcIP.String()
	}
	if len(ev.Msg) > 0 && bytes.HasSuffix(ev.Raw, ev.Msg) {
		r.MsgOffset = int32(len(ev.Raw) - len(ev.Msg))
	} else if len(ev.Msg) > 0 {
		r.MsgText = string(ev.Msg)
	} else if len(ev.Raw) > 0 {
		r.MsgOffset = int32(len(ev.Raw))
	}
	if h := ev.HTTP; h != nil {
		r.HTTPSite, r.HTTPMethod, r.HTTPPath, r.HTTPQuery = h.Site, h.Method, h.Path, h.Query
		r.HTTPStatus, r.HTTPBytes, r.HTTPReferrer, r.HTTPUserAgent = int32(h.Status), h.Bytes, h.Referrer, h.UserAgent
		r.HTTPProtocol, r.HTTPPathDec, r.HTTPQueryDec, r.HTTPExt, r.HTTPInvalid = h.Protocol, h.PathDecoded, h.QueryDecoded, h.Ext, h.Invalid
	}
	if d := ev.DNS; d != nil {
		r.DNSName, r.DNSRegistered, r.DNSQType, r.DNSRCode = d.Name, d.Registered, d.QType, d.RCode
		r.DNSID, r.DNSQTypeCode, r.DNSServerPort, r.DNSTransport = int32(d.ID), int32(d.QTypeCode), int32(d.ServerPort), d.Transport
		if d.ServerIP.IsValid() {
			r.DNSServerIP = d.ServerIP.String()
		}
		r.DNSQuerySize, r.DNSRespSize, r.DNSSizeEst, r.DNSAnswered = d.QuerySize, d.RespSize, d.SizeEstimated, d.Answered
		r.DNSRTT, r.DNSTruncated, r.DNSEDNS, r.DNSEDNSSize = int64(d.RTT), d.Truncated, d.EDNS, int32(d.EDNSSize)
		r.DNSAnswerN, r.DNSOrphan = int32(d.AnswerCount), d.Orphan.String()
		for _, a := range d.Answers {
			r.DNSAnswers = append(r.DNSAnswers, AnswerRow{Type: a.Type, TTL: int32(a.TTL), Data: a.Data, Size: int32(a.Size)})
		}
	}
}

// toEvent converts a row back; times are given the location loc (the
// zone the original run used, so hour-of-day logic replays identically).
func toEvent(r *EventRow, loc *time.Location, ev *event.Event) {
	kind, _ := event.ParseKind(r.Kind)
	act, _ := event.ParseAction(r.Action)
	*ev = event.Event{
		Time: r.Timestamp.In(loc), Kind: kind, Action: act, Outcome: event.ParseOutcome(r.Outcome),
		Host: r.Host, Program: r.Program, PID: r.PID, SrcPort: uint16(r.SrcPort),
		User: r.User, TargetUser: r.TargetUser, Method: r.Method, Command: r.Command, Unit: r.Unit,
		Count: r.Count, InvalidUser: r.InvalidUser, Preauth: r.Preauth,
		Ref: event.Ref{File: r.File, Line: r.Line}, Raw: []byte(r.Message),
	}
	if r.SrcIP != "" {
		ev.SrcIP, _ = netip.ParseAddr(r.SrcIP)
	}
	if r.MsgText != "" {
		ev.Msg = []byte(r.MsgText)
	} else if r.MsgOffset >= 0 && int(r.MsgOffset) <= len(ev.Raw) {
		ev.Msg = ev.Raw[r.MsgOffset:len(ev.Raw):len(ev.Raw)]
	}
	if kind == event.KindHTTP {
		ev.HTTP = &event.HTTP{Site: r.HTTPSite, Method: r.HTTPMethod, Path: r.HTTPPath, Query: r.HTTPQuery,
			Status: int(r.HTTPStatus), Bytes: r.HTTPBytes, Referrer: r.HTTPReferrer, UserAgent: r.HTTPUserAgent,
			Protocol: r.HTTPProtocol, PathDecoded: r.HTTPPathDec, QueryDecoded: r.HTTPQueryDec, Ext: r.HTTPExt, Invalid: r.HTTPInvalid}
	}
	if kind == event.KindDNS {
		d := &event.DNS{Name: r.DNSName, Registered: r.DNSRegistered, QType: r.DNSQType, RCode: r.DNSRCode,
			ID: uint16(r.DNSID), QTypeCode: uint16(r.DNSQTypeCode), ServerPort: uint16(r.DNSServerPort), Transport: r.DNSTransport,
			QuerySize: r.DNSQuerySize, RespSize: r.DNSRespSize, SizeEstimated: r.DNSSizeEst, Answered: r.DNSAnswered,
			RTT: time.Duration(r.DNSRTT), Truncated: r.DNSTruncated, EDNS: r.DNSEDNS, EDNSSize: uint16(r.DNSEDNSSize),
			AnswerCount: uint16(r.DNSAnswerN), Orphan: parseOrphan(r.DNSOrphan)}
		if r.DNSServerIP != "" {
			d.ServerIP, _ = netip.ParseAddr(r.DNSServerIP)
		}
		for _, a := range r.DNSAnswers {
			d.Answers = append(d.Answers, event.Answer{Type: a.Type, TTL: uint32(a.TTL), Data: a.Data, Size: uint16(a.Size)})
		}
		ev.DNS = d
	}
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
