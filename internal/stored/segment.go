package stored

import (
	"encoding/json"
	"fmt"

	"github.com/pinfold/pinfold"
)

// SegmentDocs are the JSON documents a segment version is stored with beside its columns:
// the ImportDefinition of an IMPORT segment, the Dimensions and SegmentGroups of a
// DIMENSIONAL one. Each is the root package's struct as encoding/json writes it, so nil
// members stay nil and a segment reads back exactly as it was written. A nil document is one
// the version does not have: SQL NULL in both stores, which scan into and write from these
// fields directly.
type SegmentDocs struct {
	Import, Dimensions, Groups *string
}

// EncodeSegmentDocs returns the documents of s.
func EncodeSegmentDocs(s *pinfold.Segment) (SegmentDocs, error) {
	var d SegmentDocs
	for _, doc := range []struct {
		dst     **string
		present bool
		v       any
	}{{&d.Import, s.Import != nil, s.Import}, {&d.Dimensions, s.Dimensions != nil, s.Dimensions}, {&d.Groups, s.Groups != nil, s.Groups}} {
		if !doc.present {
			continue
		}
		data, err := json.Marshal(doc.v)
		if err != nil {
			return SegmentDocs{}, fmt.Errorf("segment %s version %d: %w", s.ID, s.Version, err)
		}
		text := string(data)
		*doc.dst = &text
	}
	return d, nil
}

// Decode sets the Import, Dimensions and Groups of s from the documents; s's ID and Version
// name it in errors.
func (d SegmentDocs) Decode(s *pinfold.Segment) error {
	for _, doc := range []struct {
		src *string
		dst any
	}{{d.Import, &s.Import}, {d.Dimensions, &s.Dimensions}, {d.Groups, &s.Groups}} {
		if doc.src == nil {
			continue
		}
		if err := json.Unmarshal([]byte(*doc.src), doc.dst); err != nil {
			return fmt.Errorf("segment %s version %d: %w", s.ID, s.Version, err)
		}
	}
	return nil
}
