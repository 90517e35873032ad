package forest

import (
	"fmt"
	"hash/crc32"
	"strings"

	"winnow/internal/modelfile"
)

// ModelType is the container type of forest and CART models.
const ModelType = "forest"

// SchemaOf names a feature layout for the container: the attributes'
// names and kinds, hashed. A model is applied only to vectors of the
// same schema.
func SchemaOf(prefix string, attrs []Attr) string {
	var sb strings.Builder
	for _, a := range attrs {
		sb.WriteString(a.Name)
		if a.Nominal {
			sb.WriteString(":n")
		}
		sb.WriteByte(',')
	}
	return fmt.Sprintf("%s/%d/%08x", prefix, len(attrs), crc32.ChecksumIEEE([]byte(sb.String())))
}

// Save writes the forest in a model container; h's Type and TypeVersion
// are set here.
func (f *Forest) Save(path string, h modelfile.Header) error {
	h.Type, h.TypeVersion = ModelType, PayloadVersion
	return modelfile.WriteFile(path, h, f.Encode())
}

// Load reads a forest model file and checks it against e (Type and
// TypeVersion are filled in). Warnings (a model from another site) are
// returned for the caller to print.
func Load(path string, e modelfile.Expect) (*Forest, modelfile.Header, []string, error) {
	h, p, err := modelfile.ReadFile(path)
	if err != nil {
		return nil, h, nil, err
	}
	e.Type, e.TypeVersion = ModelType, PayloadVersion
	warn, err := h.Check(e)
	if err != nil {
		return nil, h, nil, fmt.Errorf("cannot load model %s: %w", path, err)
	}
	f, err := Decode(p)
	if err != nil {
		return nil, h, nil, fmt.Errorf("cannot load model %s: %w", path, err)
	}
	return f, h, warn, nil
}
