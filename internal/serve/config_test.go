package serve

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"winnow/internal/detect"
	"winnow/internal/detect/auth"
)

func registry() *detect.Registry {
	r := &detect.Registry{}
	auth.Register(r)
	return r
}

const minimal = `
inputs:
  - name: auth
    type: follow
    paths: [/var/log/auth.log]
sinks:
  - type: jsonl
    path: "-"
`

func TestConfigDefaults(t *testing.T) {
	c, err := ParseConfig("w.yaml", []byte(minimal), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Check(registry()); err != nil {
		t.Fatal(err)
	}
	if c.Listen.Metrics != "127.0.0.1:9464" {
		t.Errorf("metrics listens on %q by default", c.Listen.Metrics)
	}
	en, err := c.Enabled(registry())
	if err != nil || len(en) == 0 {
		t.Fatalf("enabled %d, %v", len(en), err)
	}
}

// Every mistake is an error naming the file and the line.
func TestConfigErrors(t *testing.T) {
	f := func(doc, want string) {
		t.Helper()
		c, err := ParseConfig("winnow.yaml", []byte(doc), nil)
		if err == nil {
			err = c.Check(registry())
		}
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("config:\n%s\nerror %v, want it to contain %q", doc, err, want)
		}
	}
	f(minimal+"bogus: 1\n", "winnow.yaml: line 9: field bogus not found")
	f(minimal+"engine:\n  heartbeat: soon\n", `winnow.yaml: line 10: "soon" is not a duration`)
	f(minimal+"engine:\n  workers: many\n", "winnow.yaml: line 10: cannot unmarshal !!str `many` into int")
	f(minimal+"engine:\n  timezone: Mars/Olympus\n", "winnow.yaml:10: engine.timezone")
	f(minimal+"detectors:\n  params:\n    auth.brute_force:\n      threshold: -3\n", "winnow.yaml:12: detectors.params.auth.brute_force.threshold")
	f(minimal+"detectors:\n  params:\n    auth.brute_force:\n      treshold: 3\n", `has no parameter "treshold"`)
	f(minimal+"detectors:\n  params:\n    auth.nope:\n      x: 3\n", `winnow.yaml:11: detectors.params.auth.nope: no detector "auth.nope"`)
	f(minimal+"detectors:\n  only: [web.]\n", `winnow.yaml:10: detectors.only.0: no detector or family "web."`)
	f(minimal+"allowlist:\n  cidrs: [10.0.0.0/33]\n", "winnow.yaml:10: allowlist.cidrs.0")
	f(strings.Replace(minimal, "follow", "tail", 1), `winnow.yaml:4: inputs.0.type: "tail": want follow, file, syslog or journald`)
	f(strings.Replace(minimal, "jsonl", "kafka", 1), `winnow.yaml:7: sinks.0.type: "kafka"`)
	f("inputs:\n  - name: s\n    type: syslog\n    network: tcp\n    address: nowhere\nsinks:\n  - {type: jsonl, path: x}\n", `winnow.yaml:5: inputs.0.address: "nowhere"`)
	f("sinks:\n  - {type: jsonl, path: x}\n", "inputs: at least one input")
	f(minimal+"sinks2: []\n", "field sinks2 not found")
	f("inputs: [\n", "winnow.yaml: ")
	f(minimal+"  - type: syslog\n    network: udp\n    address: 127.0.0.1:514\n    format: json\n", `winnow.yaml:12: sinks.1.format: "json"`)
	f(minimal+"  - type: jsonl\n    path: x\n    min_severity: severe\n", `line 11: "severe" is not a severity`)
}

func TestConfigEnv(t *testing.T) {
	c, err := ParseConfig("w.yaml", []byte(minimal), []string{"WINNOW_DATA_DIR=/tmp/x", "WINNOW_ENGINE_WORKERS=3",
		"WINNOW_ENGINE_HEARTBEAT=2s", "WINNOW_LISTEN_METRICS=", "PATH=/bin"})
	if err != nil {
		t.Fatal(err)
	}
	if c.DataDir != "/tmp/x" || c.Engine.Workers != 3 || time.Duration(c.Engine.Heartbeat) != 2*time.Second || c.Listen.Metrics != "" {
		t.Fatalf("env not applied: %+v", c)
	}
	for _, env := range [][]string{{"WINNOW_ENGINE_WORKERS=x"}, {"WINNOW_NOPE=1"}, {"WINNOW_INPUTS=x"}} {
		if _, err := ParseConfig("w.yaml", []byte(minimal), env); err == nil {
			t.Errorf("%v accepted", env)
		}
	}
}

// The sample configuration in deploy/ is valid.
func TestSampleConfig(t *testing.T) {
	path := filepath.Join("..", "..", "deploy", "winnow.yaml")
	if _, err := os.Stat(path); err != nil {
		t.Skip("no deploy/winnow.yaml")
	}
	c, err := LoadConfig(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Check(registry()); err != nil {
		t.Fatal(err)
	}
}

// An input's sensor is read from the config and checked.
func TestConfigSensor(t *testing.T) {
	doc := strings.Replace(minimal, "    paths: [/var/log/auth.log]\n", "    paths: [/var/log/auth.log]\n    sensor: {name: web1, vantage: host, domain: host}\n", 1)
	c, err := ParseConfig("w.yaml", []byte(doc), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Check(registry()); err != nil {
		t.Fatal(err)
	}
	if s := c.Inputs[0].Sensor; s != (SensorConfig{Name: "web1", Vantage: "host", Domain: "host"}) {
		t.Errorf("sensor %+v", s)
	}
	bad := strings.Replace(doc, "domain: host", "domain: sky", 1)
	c, err = ParseConfig("w.yaml", []byte(bad), nil)
	if err == nil {
		err = c.Check(registry())
	}
	if err == nil || !strings.Contains(err.Error(), "inputs.0.sensor.domain") {
		t.Errorf("bad domain: %v", err)
	}
}
