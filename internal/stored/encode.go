package stored

import (
	"strconv"

	"github.com/pinfold/pinfold"
	"github.com/pinfold/pinfold/internal/jsonw"
)

// The stored document of an endpoint is written here by hand, byte for byte what
// encoding/json writes for endpointDoc up to Go 1.26 (TestEncodeEndpointIsJSONMarshal and
// FuzzEncodeEndpoint compare the two; from Go 1.27 encoding/json spells the U+FFFD that
// replaces invalid UTF-8 as the character instead of \ufffd, and the document here stays the
// same whichever Go built it): every imported endpoint is encoded once, and through
// encoding/json's reflection and its sorting of map keys that was a tenth of an import's CPU,
// beside SQLite's one writer on two cores (docs/performance.md). DecodeEndpoint reads them
// by hand too (decode.go).

// AppendEndpoint appends the stored document of e (without its app and ID, which are keys)
// to b: EncodeEndpoint for a caller that reuses its buffer.
func AppendEndpoint(b []byte, e *pinfold.Endpoint) ([]byte, error) {
	var err error
	b = append(b, '{')
	b = appendStringField(b, `"ct":`, e.ChannelType)
	b = appendStringField(b, `"a":`, e.Address)
	b = appendValuesField(b, `"at":`, e.Attributes)
	d, l := &e.Demographic, &e.Location
	for _, f := range [...]struct{ key, value string }{
		{`"d":{"AppVersion":`, d.AppVersion}, {`,"Locale":`, d.Locale}, {`,"Make":`, d.Make},
		{`,"Model":`, d.Model}, {`,"ModelVersion":`, d.ModelVersion}, {`,"Platform":`, d.Platform},
		{`,"PlatformVersion":`, d.PlatformVersion}, {`,"Timezone":`, d.Timezone},
	} {
		b = append(b, f.key...)
		b = jsonw.AppendString(b, f.value)
	}
	b = append(b, "},"...)
	b = appendStringField(b, `"ed":`, e.EffectiveDate)
	b = appendStringField(b, `"es":`, e.EndpointStatus)
	for _, f := range [...]struct{ key, value string }{
		{`"l":{"City":`, l.City}, {`,"Country":`, l.Country}, {`,"PostalCode":`, l.PostalCode}, {`,"Region":`, l.Region},
	} {
		b = append(b, f.key...)
		b = jsonw.AppendString(b, f.value)
	}
	b = append(b, `,"Latitude":`...)
	if b, err = appendFloatPointer(b, l.Latitude); err != nil {
		return nil, err
	}
	b = append(b, `,"Longitude":`...)
	if b, err = appendFloatPointer(b, l.Longitude); err != nil {
		return nil, err
	}
	b = append(b, "},"...)
	if len(e.Metrics) > 0 {
		b = append(b, `"m":`...)
		if b, err = e.Metrics.AppendJSON(b); err != nil {
			return nil, err
		}
		b = append(b, ',')
	}
	b = appendStringField(b, `"o":`, e.OptOut)
	b = appendStringField(b, `"r":`, e.RequestID)
	b = appendStringField(b, `"u":`, e.User.UserID)
	b = appendValuesField(b, `"ua":`, e.User.UserAttributes)
	b = append(b, `"c":`...)
	b = jsonw.AppendString(b, e.CohortID)
	b = append(b, `,"cr":`...)
	b = strconv.AppendInt(b, Nanos(e.CreatedAt), 10)
	return append(b, '}'), nil
}

// appendStringField appends key, s and a comma, or nothing for "" (omitempty).
func appendStringField(b []byte, key, s string) []byte {
	if s == "" {
		return b
	}
	b = append(b, key...)
	return append(jsonw.AppendString(b, s), ',')
}

// appendValuesField appends key, the attributes (which are in the order of their names) and
// a comma, or nothing for none (omitempty).
func appendValuesField(b []byte, key string, attrs pinfold.Attributes) []byte {
	if len(attrs) == 0 {
		return b
	}
	b = append(b, key...)
	return append(attrs.AppendJSON(b), ',')
}

func appendFloatPointer(b []byte, f *float64) ([]byte, error) {
	if f == nil {
		return append(b, "null"...), nil
	}
	return jsonw.AppendFloat(b, *f)
}
