package forest

import (
	"fmt"
	"strconv"
	"strings"

	"winnow/internal/detect/vfdt"
	"winnow/internal/learn/forest"
	"winnow/internal/learn/vector"
	"winnow/internal/modelfile"
)

// Load reads a compiled behaviour model from a model container file and
// checks that it can be applied here: a known model type and version,
// trained on entity behaviour vectors of this winnow's feature version.
// site is this installation's site name ("" = do not compare); a model
// from another site is applied with a warning (returned), or refused when
// strict.
func Load(path, site string, strict bool) (*Compiled, []string, error) {
	h, payload, err := modelfile.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	spec, err := vector.ParseSchema(h.Schema)
	if err != nil {
		if strings.HasPrefix(h.Schema, "csv/") {
			return nil, nil, fmt.Errorf("cannot apply model %s: it was trained on CSV columns (%s), not on event behaviour; evaluate CSV models with 'winnow learn forest --test'", path, h.Schema)
		}
		return nil, nil, fmt.Errorf("cannot apply model %s: %w: %v", path, modelfile.ErrVersion, err)
	}
	c := &Compiled{Spec: spec, Source: path}
	var warn []string
	switch h.Type {
	case forest.ModelType:
		warn, err = h.Check(modelfile.Expect{Type: forest.ModelType, TypeVersion: forest.PayloadVersion, Site: site, StrictSite: strict})
		if err != nil {
			return nil, nil, fmt.Errorf("cannot apply model %s: %w", path, err)
		}
		f, err := forest.Decode(payload)
		if err != nil {
			return nil, nil, fmt.Errorf("cannot apply model %s: %w", path, err)
		}
		if len(f.Attrs) != vector.NumFeatures || len(f.Classes) != 2 {
			return nil, nil, fmt.Errorf("cannot apply model %s: %w: %d features and %d classes, want %d and 2", path, modelfile.ErrFormat, len(f.Attrs), len(f.Classes), vector.NumFeatures)
		}
		c.Model, c.Threshold = ForestModel{F: f}, f.Threshold
		c.Algo = "random forest"
		if len(f.Trees) == 1 {
			c.Algo = "CART tree"
		}
	case vfdt.ModelType:
		warn, err = h.Check(modelfile.Expect{Type: vfdt.ModelType, TypeVersion: vfdt.PayloadVersion, Site: site, StrictSite: strict})
		if err != nil {
			return nil, nil, fmt.Errorf("cannot apply model %s: %w", path, err)
		}
		t, err := vfdt.Decode(payload)
		if err != nil {
			return nil, nil, fmt.Errorf("cannot apply model %s: %w", path, err)
		}
		if len(t.Attrs()) != vector.NumFeatures {
			return nil, nil, fmt.Errorf("cannot apply model %s: %w: %d features, want %d", path, modelfile.ErrFormat, len(t.Attrs()), vector.NumFeatures)
		}
		c.Model, c.Threshold, c.Algo, c.Family = VFDTModel{T: t}, 0.5, "Hoeffding tree", "vfdt"
		if th, err := strconv.ParseFloat(h.Meta["threshold"], 64); err == nil && th >= 0 && th <= 1 {
			c.Threshold = th
		}
	default:
		return nil, nil, fmt.Errorf("cannot apply model %s: %w: a %q model is not a behaviour model", path, modelfile.ErrType, h.Type)
	}
	return c, warn, nil
}
