package serve

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"winnow/internal/sink"
	"winnow/internal/source"
)

// metrics are the daemon's Prometheus metrics. Counters that the pipeline
// already keeps (per input, per detector, per sink) are read at scrape
// time by a Collector, so the hot path pays nothing for them; findings are
// counted as they are emitted.
type metrics struct {
	reg        *prometheus.Registry
	findings   *prometheus.CounterVec
	suppressed prometheus.Counter
	duplicates prometheus.Counter
	reloads    *prometheus.CounterVec
	ckptTime   prometheus.Gauge
	ckptDur    prometheus.Gauge
}

func newMetrics(d *Daemon) *metrics {
	m := &metrics{reg: prometheus.NewRegistry()}
	m.findings = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "winnow_findings_total",
		Help: "Finding reports emitted, by rule and severity band (updates of an open incident count too)."}, []string{"rule", "severity"})
	m.suppressed = prometheus.NewCounter(prometheus.CounterOpts{Name: "winnow_findings_suppressed_total",
		Help: "Findings dropped because their address or account is allowlisted."})
	m.duplicates = prometheus.NewCounter(prometheus.CounterOpts{Name: "winnow_findings_duplicate_total",
		Help: "Closed findings not reported again because the same finding was reported before (also across restarts)."})
	m.reloads = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "winnow_reloads_total",
		Help: "Configuration reloads (SIGHUP), by result."}, []string{"result"})
	m.ckptTime = prometheus.NewGauge(prometheus.GaugeOpts{Name: "winnow_checkpoint_timestamp_seconds",
		Help: "Wall-clock time of the last successful state checkpoint."})
	m.ckptDur = prometheus.NewGauge(prometheus.GaugeOpts{Name: "winnow_checkpoint_duration_seconds",
		Help: "How long the last checkpoint took."})
	m.reg.MustRegister(m.findings, m.suppressed, m.duplicates, m.reloads, m.ckptTime, m.ckptDur,
		&collector{d: d}, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// collector reads the pipeline's own counters at scrape time.
type collector struct{ d *Daemon }

var (
	descRecords   = prometheus.NewDesc("winnow_input_records_total", "Records read from an input.", []string{"input"}, nil)
	descEvents    = prometheus.NewDesc("winnow_input_events_total", "Events parsed from an input.", []string{"input"}, nil)
	descMalformed = prometheus.NewDesc("winnow_input_parse_errors_total", "Records of an input that are not in its format (skipped).", []string{"input"}, nil)
	descTrunc     = prometheus.NewDesc("winnow_input_truncated_total", "Records cut at the line limit.", []string{"input"}, nil)
	descDropped   = prometheus.NewDesc("winnow_input_dropped_total", "Records lost before delivery (UDP queue full).", []string{"input"}, nil)
	descFrames    = prometheus.NewDesc("winnow_input_malformed_frames_total", "Syslog frames that could not be split.", []string{"input"}, nil)
	descConns     = prometheus.NewDesc("winnow_input_connections", "Open connections of a listener.", []string{"input"}, nil)
	descRejected  = prometheus.NewDesc("winnow_input_connections_rejected_total", "Connections refused (limit) or closed idle.", []string{"input"}, nil)
	descFiles     = prometheus.NewDesc("winnow_input_files", "Files followed now.", []string{"input"}, nil)
	descRotations = prometheus.NewDesc("winnow_input_rotations_total", "Rotations and truncations handled.", []string{"input"}, nil)
	descLag       = prometheus.NewDesc("winnow_input_lag_seconds", "Wall-clock time minus the newest event time an input delivered.", []string{"input"}, nil)
	descWatermark = prometheus.NewDesc("winnow_input_watermark_seconds", "Newest event time an input delivered (Unix seconds).", []string{"input"}, nil)
	descUp        = prometheus.NewDesc("winnow_input_up", "1 while an input is being read, 0 once it failed or ended.", []string{"input"}, nil)
	descDetTime   = prometheus.NewDesc("winnow_detector_seconds_total", "Time spent in detectors, all shards.", nil, nil)
	descEntities  = prometheus.NewDesc("winnow_detector_state_entries", "Entity states a detector keeps.", []string{"detector"}, nil)
	descShed      = prometheus.NewDesc("winnow_detector_shed_total", "Entity states dropped because a cap was reached.", []string{"detector"}, nil)
	descDeferred  = prometheus.NewDesc("winnow_detector_deferred_total", "New entities not tracked under a flood of one-off keys.", []string{"detector"}, nil)
	descExpired   = prometheus.NewDesc("winnow_detector_expired_total", "Entity states that aged out.", []string{"detector"}, nil)
	descWritten   = prometheus.NewDesc("winnow_sink_written_total", "Findings delivered by a sink.", []string{"sink"}, nil)
	descSDropped  = prometheus.NewDesc("winnow_sink_dropped_total", "Findings a sink dropped (queue full, retries exhausted).", []string{"sink"}, nil)
	descSErrors   = prometheus.NewDesc("winnow_sink_errors_total", "Failed delivery attempts of a sink.", []string{"sink"}, nil)
	descQueue     = prometheus.NewDesc("winnow_sink_queue_depth", "Findings waiting in a sink's queue.", []string{"sink"}, nil)
	descWErrors   = prometheus.NewDesc("winnow_sink_write_errors_total", "Findings a sink failed to take (Write returned an error).", []string{"sink"}, nil)
	descOpen      = prometheus.NewDesc("winnow_incidents_open", "Incidents reported while open and not yet closed.", nil, nil)
)

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descRecords, descEvents, descMalformed, descTrunc, descDropped, descFrames,
		descConns, descRejected, descFiles, descRotations, descLag, descWatermark, descUp, descDetTime, descEntities,
		descShed, descDeferred, descExpired, descWritten, descSDropped, descSErrors, descQueue, descWErrors, descOpen} {
		ch <- d
	}
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	d := c.d
	counter := func(desc *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(desc, prometheus.CounterValue, v, labels...)
	}
	gauge := func(desc *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(desc, prometheus.GaugeValue, v, labels...)
	}
	now := time.Now()
	for i, st := range d.live.Inputs() {
		counter(descRecords, float64(st.Records), st.Name)
		counter(descEvents, float64(st.Events), st.Name)
		counter(descMalformed, float64(st.Malformed), st.Name)
		up := 1.0
		if st.Err != nil || st.Done {
			up = 0
		}
		gauge(descUp, up, st.Name)
		if !st.Watermark.IsZero() {
			gauge(descLag, now.Sub(st.Watermark).Seconds(), st.Name)
			gauge(descWatermark, float64(st.Watermark.UnixNano())/1e9, st.Name)
		}
		if s, ok := d.sources[i].(source.Stater); ok {
			ss := s.Stats()
			counter(descTrunc, float64(ss.Truncated), st.Name)
			counter(descDropped, float64(ss.Dropped), st.Name)
			counter(descFrames, float64(ss.Malformed), st.Name)
			counter(descRotations, float64(ss.Rotations), st.Name)
			counter(descRejected, float64(ss.Rejected), st.Name)
			gauge(descConns, float64(ss.Conns), st.Name)
			gauge(descFiles, float64(ss.Files), st.Name)
		}
	}
	counter(descDetTime, d.live.Busy().Seconds())
	for name, s := range d.live.Detectors() {
		gauge(descEntities, float64(s.Entities), name)
		counter(descShed, float64(s.Shed), name)
		counter(descDeferred, float64(s.Deferred), name)
		counter(descExpired, float64(s.Expired), name)
	}
	werrs := d.fan.WriteErrors()
	for i, s := range d.sinks {
		if i < len(werrs) {
			counter(descWErrors, float64(werrs[i]), s.Name())
		}
		st, ok := s.(sink.Stater)
		if !ok {
			continue
		}
		v := st.Stats()
		counter(descWritten, float64(v.Written), s.Name())
		counter(descSDropped, float64(v.Dropped), s.Name())
		counter(descSErrors, float64(v.Errors), s.Name())
		gauge(descQueue, float64(v.Queued), s.Name())
	}
	open, _ := d.incidents.OpenCount()
	gauge(descOpen, float64(open))
}
