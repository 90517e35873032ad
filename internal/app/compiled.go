package app

import (
	"fmt"
	"io"
	"os"

	"winnow/internal/detect"
	"winnow/internal/detect/assoc"
	dforest "winnow/internal/detect/forest"
	"winnow/internal/detect/geo"
	"winnow/internal/enrich/geoip"
	"winnow/internal/event"
	"winnow/internal/learn/rules"
	"winnow/internal/modelfile"
)

// This file: analyze --model for compiled behaviour models (model
// containers written by 'winnow learn forest|tree|vfdt'), beside the
// Bayesian filters of learn.go.

// isCompiledModel reports whether path holds a model container.
func isCompiledModel(path string) (bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return false, fmt.Errorf("cannot open model: %w", err)
	}
	defer f.Close()
	var head [4]byte
	n, _ := io.ReadFull(f, head[:])
	return modelfile.IsContainer(head[:n]), nil
}

// registerCompiled loads a compiled model and registers its detector,
// printing warnings (a model from another site) on stderr.
func registerCompiled(reg *detect.Registry, path, site string, stderr io.Writer) error {
	h, _, err := modelfile.ReadFile(path)
	if err != nil {
		return err
	}
	if h.Type == rules.ModelType {
		m, warn, err := assoc.Load(path, site)
		if err != nil {
			return err
		}
		for _, w := range warn {
			fmt.Fprintf(stderr, "winnow: warning: %s: %s\n", path, w)
		}
		s := assoc.Spec(m, path)
		if _, dup := reg.Get(s.Name); dup {
			return fmt.Errorf("--model %s: a %s rules model was already given", path, m.Kind)
		}
		return reg.Register(s)
	}
	c, warn, err := dforest.Load(path, site, false)
	if err != nil {
		return err
	}
	for _, w := range warn {
		if stderr != nil {
			fmt.Fprintf(stderr, "winnow: warning: %s: %s\n", path, w)
		}
	}
	s := dforest.Spec(c)
	if _, dup := reg.Get(s.Name); dup {
		return fmt.Errorf("--model %s: a %s model was already given; give one compiled model per entity key", path, s.Name)
	}
	return reg.Register(s)
}

// registerGeo opens GeoIP databases and registers the geo.* detectors
// (nil, nil without databases).
func registerGeo(reg *detect.Registry, paths []string) (*geoip.DB, error) {
	if len(paths) == 0 {
		return nil, nil
	}
	db, err := geoip.Open(paths...)
	if err != nil {
		return nil, err
	}
	geo.Register(reg, db)
	return db, nil
}

// enrichGeo adds the ECS geo and AS fields of a finding's source address
// (source.geo.country_iso_code, source.as.number, ...) to its evidence.
func enrichGeo(db *geoip.DB, a *event.Alert) {
	if db == nil || !a.SourceIP.IsValid() {
		return
	}
	info, ok := db.Lookup(a.SourceIP)
	if !ok {
		return
	}
	if a.Evidence == nil {
		a.Evidence = map[string]any{}
	}
	for k, v := range info.Fields("source") {
		if _, set := a.Evidence[k]; !set {
			a.Evidence[k] = v
		}
	}
}

// ModelRegistry returns a NewRegistry for the daemon (serve): every
// registry it makes holds the detectors of NewRegistry plus the models'
// (Bayesian filters, compiled behaviour models, rules) and, with GeoIP
// databases, the geo.* detectors. Models are loaded and checked once,
// here; close releases the databases.
func ModelRegistry(models, geoDBs []string, site string, stderr io.Writer) (newRegistry func() *detect.Registry, close func(), err error) {
	probe := NewRegistry()
	if err := registerModels(probe, models, site, stderr); err != nil {
		return nil, nil, err
	}
	db, err := registerGeo(probe, geoDBs)
	if err != nil {
		return nil, nil, err
	}
	fresh := map[string]bool{}
	for _, s := range NewRegistry().Specs() {
		fresh[s.Name] = true
	}
	var extra []detect.Spec
	for _, s := range probe.Specs() {
		if !fresh[s.Name] {
			extra = append(extra, *s)
		}
	}
	newRegistry = func() *detect.Registry {
		r := NewRegistry()
		for _, s := range extra {
			r.MustRegister(s)
		}
		return r
	}
	close = func() {
		if db != nil {
			db.Close()
		}
	}
	return newRegistry, close, nil
}
