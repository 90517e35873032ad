package archive

import (
	"net/netip"
	"time"

	"winnow/internal/event"
)

// The flow, audit and file partitions (kind=flow, kind=audit, kind=file):
// row schemas added in schema version 1 without changing the others (see
// docs/format/archive.md). They are read with the generic row reader.

// FlowRow is an event of the flow partitions (captures, Zeek conn.log).
type FlowRow struct {
	CoreRow
	DstIP       string    `parquet:"destination_ip,optional"`
	DstPort     int32     `parquet:"destination_port,optional"`
	Transport   string    `parquet:"network_transport,dict"`
	Proto       int32     `parquet:"network_iana_number"`
	End         time.Time `parquet:"event_end,timestamp(nanosecond)"`
	OrigPackets int64     `parquet:"source_packets"`
	RespPackets int64     `parquet:"destination_packets"`
	OrigBytes   int64     `parquet:"source_bytes"`
	RespBytes   int64     `parquet:"destination_bytes"`
	OrigFlags   int32     `parquet:"flow_source_tcp_flags"`
	RespFlags   int32     `parquet:"flow_destination_tcp_flags"`
	State       string    `parquet:"flow_state,optional,dict"`
	Service     string    `parquet:"network_protocol,optional,dict"`
	ICMPType    int32     `parquet:"icmp_type"`
	ICMPCode    int32     `parquet:"icmp_code"`
	Unreachable bool      `parquet:"flow_unreachable"`
	UnreachCode int32     `parquet:"flow_unreachable_code"`
	Reversed    bool      `parquet:"flow_reversed"`
	Partial     bool      `parquet:"flow_partial"`
	UID         string    `parquet:"flow_uid,optional"`
}

// AuditPathRow is one PATH record of an audit event.
type AuditPathRow struct {
	Name     string `parquet:"name"`
	NameType string `parquet:"nametype"`
	Mode     int32  `parquet:"mode"`
	OUID     string `parquet:"ouid"`
}

// AuditRow is an event of the audit partitions.
type AuditRow struct {
	CoreRow
	TargetUser string         `parquet:"user_target_name,optional"`
	Command    string         `parquet:"process_command_line,optional"`
	Unit       string         `parquet:"service_name,optional,dict"`
	Serial     int64          `parquet:"auditd_sequence"`
	Type       string         `parquet:"auditd_message_type,dict"`
	Records    []string       `parquet:"auditd_records,list"`
	Syscall    string         `parquet:"auditd_syscall,optional,dict"`
	Exit       string         `parquet:"auditd_exit,optional"`
	PPID       int32          `parquet:"process_parent_pid"`
	AUID       string         `parquet:"auditd_auid,optional,dict"`
	UID        string         `parquet:"auditd_uid,optional,dict"`
	EUID       string         `parquet:"auditd_euid,optional,dict"`
	SUID       string         `parquet:"auditd_suid,optional,dict"`
	FSUID      string         `parquet:"auditd_fsuid,optional,dict"`
	GID        string         `parquet:"auditd_gid,optional,dict"`
	EGID       string         `parquet:"auditd_egid,optional,dict"`
	Ses        string         `parquet:"auditd_session,optional"`
	TTY        string         `parquet:"auditd_tty,optional,dict"`
	Comm       string         `parquet:"auditd_comm,optional,dict"`
	Exe        string         `parquet:"process_executable,optional,dict"`
	Cwd        string         `parquet:"process_working_directory,optional"`
	Paths      []AuditPathRow `parquet:"auditd_paths,list"`
	Argv       []string       `parquet:"process_args,list"`
	Proctitle  string         `parquet:"process_title,optional"`
	Key        string         `parquet:"auditd_key,optional,dict"`
	Subj       string         `parquet:"auditd_subject,optional,dict"`
	Denied     bool           `parquet:"auditd_denied"`
	Granted    bool           `parquet:"auditd_granted"`
	Perms      string         `parquet:"auditd_permission,optional,dict"`
	SContext   string         `parquet:"auditd_source_context,optional,dict"`
	TContext   string         `parquet:"auditd_target_context,optional,dict"`
	TClass     string         `parquet:"auditd_class,optional,dict"`
	Name       string         `parquet:"file_path,optional"`
	Op         string         `parquet:"auditd_op,optional,dict"`
	Caps       string         `parquet:"auditd_capabilities,optional"`
}

// FileRow is an event of the file partitions (Zeek files.log).
type FileRow struct {
	CoreRow
	DstIP    string `parquet:"destination_ip,optional"`
	MD5      string `parquet:"file_hash_md5,optional"`
	SHA1     string `parquet:"file_hash_sha1,optional"`
	SHA256   string `parquet:"file_hash_sha256,optional"`
	Name     string `parquet:"file_name,optional"`
	MimeType string `parquet:"file_mime_type,optional,dict"`
	Size     int64  `parquet:"file_size"`
	Source   string `parquet:"network_protocol,optional,dict"`
	FUID     string `parquet:"file_uid,optional"`
	ConnUID  string `parquet:"flow_uid,optional"`
}

func flowTime(r *FlowRow) time.Time   { return r.Timestamp }
func auditTime(r *AuditRow) time.Time { return r.Timestamp }
func fileTime(r *FileRow) time.Time   { return r.Timestamp }

func addrString(a netip.Addr) string {
	if a.IsValid() {
		return a.String()
	}
	return ""
}

func parseAddrOr(s string) netip.Addr {
	a, _ := netip.ParseAddr(s)
	return a
}

func flowRow(ev *event.Event, m rowMeta, r *FlowRow) {
	coreRow(ev, m, &r.CoreRow)
	f := ev.Flow
	if f == nil {
		f = &event.Flow{}
	}
	r.DstIP, r.DstPort = addrString(ev.DstIP), int32(ev.DstPort)
	r.Transport, r.Proto, r.End = f.Transport, int32(f.Proto), f.End
	r.OrigPackets, r.RespPackets, r.OrigBytes, r.RespBytes = f.OrigPackets, f.RespPackets, f.OrigBytes, f.RespBytes
	r.OrigFlags, r.RespFlags, r.State, r.Service = int32(f.OrigFlags), int32(f.RespFlags), f.State, f.Service
	r.ICMPType, r.ICMPCode, r.Unreachable, r.UnreachCode = int32(f.ICMPType), int32(f.ICMPCode), f.Unreachable, int32(f.UnreachCode)
	r.Reversed, r.Partial, r.UID = f.Reversed, f.Partial, f.UID
}

func flowEvent(r *FlowRow, loc *time.Location, ev *event.Event) {
	coreEvent(&r.CoreRow, loc, ev)
	ev.DstIP, ev.DstPort = parseAddrOr(r.DstIP), uint16(r.DstPort)
	ev.Flow = &event.Flow{Transport: r.Transport, Proto: uint8(r.Proto), End: r.End.In(loc),
		OrigPackets: r.OrigPackets, RespPackets: r.RespPackets, OrigBytes: r.OrigBytes, RespBytes: r.RespBytes,
		OrigFlags: uint8(r.OrigFlags), RespFlags: uint8(r.RespFlags), State: r.State, Service: r.Service,
		ICMPType: uint8(r.ICMPType), ICMPCode: uint8(r.ICMPCode), Unreachable: r.Unreachable, UnreachCode: uint8(r.UnreachCode),
		Reversed: r.Reversed, Partial: r.Partial, UID: r.UID}
}

func auditRow(ev *event.Event, m rowMeta, r *AuditRow) {
	coreRow(ev, m, &r.CoreRow)
	r.TargetUser, r.Command, r.Unit = ev.TargetUser, ev.Command, ev.Unit
	a := ev.Audit
	if a == nil {
		a = &event.Audit{}
	}
	r.Serial, r.Type, r.Records, r.Syscall, r.Exit, r.PPID = int64(a.Serial), a.Type, a.Records, a.Syscall, a.Exit, a.PPID
	r.AUID, r.UID, r.EUID, r.SUID, r.FSUID, r.GID, r.EGID, r.Ses, r.TTY = a.AUID, a.UID, a.EUID, a.SUID, a.FSUID, a.GID, a.EGID, a.Ses, a.TTY
	r.Comm, r.Exe, r.Cwd, r.Argv, r.Proctitle, r.Key, r.Subj = a.Comm, a.Exe, a.Cwd, a.Argv, a.Proctitle, a.Key, a.Subj
	r.Denied, r.Granted, r.Perms, r.SContext, r.TContext, r.TClass, r.Name = a.Denied, a.Granted, a.Perms, a.SContext, a.TContext, a.TClass, a.Name
	r.Op, r.Caps = a.Op, a.Caps
	r.Paths = r.Paths[:0]
	for _, p := range a.Paths {
		r.Paths = append(r.Paths, AuditPathRow{Name: p.Name, NameType: p.NameType, Mode: int32(p.Mode), OUID: p.OUID})
	}
}

func auditEvent(r *AuditRow, loc *time.Location, ev *event.Event) {
	coreEvent(&r.CoreRow, loc, ev)
	ev.TargetUser, ev.Command, ev.Unit = r.TargetUser, r.Command, r.Unit
	a := &event.Audit{Serial: uint64(r.Serial), Type: r.Type, Records: r.Records, Syscall: r.Syscall, Exit: r.Exit, PPID: r.PPID,
		AUID: r.AUID, UID: r.UID, EUID: r.EUID, SUID: r.SUID, FSUID: r.FSUID, GID: r.GID, EGID: r.EGID, Ses: r.Ses, TTY: r.TTY,
		Comm: r.Comm, Exe: r.Exe, Cwd: r.Cwd, Argv: r.Argv, Proctitle: r.Proctitle, Key: r.Key, Subj: r.Subj,
		Denied: r.Denied, Granted: r.Granted, Perms: r.Perms, SContext: r.SContext, TContext: r.TContext, TClass: r.TClass, Name: r.Name,
		Op: r.Op, Caps: r.Caps}
	for _, p := range r.Paths {
		a.Paths = append(a.Paths, event.AuditPath{Name: p.Name, NameType: p.NameType, Mode: uint32(p.Mode), OUID: p.OUID})
	}
	ev.Audit = a
}

func fileRow(ev *event.Event, m rowMeta, r *FileRow) {
	coreRow(ev, m, &r.CoreRow)
	f := ev.File
	if f == nil {
		f = &event.File{Size: -1}
	}
	r.DstIP = addrString(ev.DstIP)
	r.MD5, r.SHA1, r.SHA256, r.Name, r.MimeType, r.Size = f.MD5, f.SHA1, f.SHA256, f.Name, f.MimeType, f.Size
	r.Source, r.FUID, r.ConnUID = f.Source, f.FUID, f.ConnUID
}

func fileEvent(r *FileRow, loc *time.Location, ev *event.Event) {
	coreEvent(&r.CoreRow, loc, ev)
	ev.DstIP = parseAddrOr(r.DstIP)
	ev.File = &event.File{MD5: r.MD5, SHA1: r.SHA1, SHA256: r.SHA256, Name: r.Name, MimeType: r.MimeType, Size: r.Size,
		Source: r.Source, FUID: r.FUID, ConnUID: r.ConnUID}
}

// sensorOf rebuilds an event's sensor from its columns (nil without one).
func sensorOf(r *CoreRow) *event.Sensor {
	if r.SensorName == "" && r.SensorVantage == "" && r.SensorDomain == "" {
		return nil
	}
	return &event.Sensor{Name: r.SensorName, Vantage: r.SensorVantage, Domain: r.SensorDomain}
}
