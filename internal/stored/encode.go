package stored

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"unicode/utf8"

	"github.com/pinfold/pinfold"
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
		b = appendString(b, f.value)
	}
	b = append(b, "},"...)
	b = appendStringField(b, `"ed":`, e.EffectiveDate)
	b = appendStringField(b, `"es":`, e.EndpointStatus)
	for _, f := range [...]struct{ key, value string }{
		{`"l":{"City":`, l.City}, {`,"Country":`, l.Country}, {`,"PostalCode":`, l.PostalCode}, {`,"Region":`, l.Region},
	} {
		b = append(b, f.key...)
		b = appendString(b, f.value)
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
		b = append(b, `"m":{`...)
		var names [16]string
		for i, name := range sortedKeys(e.Metrics, names[:0]) {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, name)
			b = append(b, ':')
			if b, err = appendFloat(b, e.Metrics[name]); err != nil {
				return nil, err
			}
		}
		b = append(b, "},"...)
	}
	b = appendStringField(b, `"o":`, e.OptOut)
	b = appendStringField(b, `"r":`, e.RequestID)
	b = appendStringField(b, `"u":`, e.User.UserID)
	b = appendValuesField(b, `"ua":`, e.User.UserAttributes)
	b = append(b, `"c":`...)
	b = appendString(b, e.CohortID)
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
	return append(appendString(b, s), ',')
}

// appendValuesField appends key, the attributes in the order of their names and a comma, or
// nothing for none (omitempty). A nil list of values is null, as encoding/json has it.
func appendValuesField(b []byte, key string, attrs map[string][]string) []byte {
	if len(attrs) == 0 {
		return b
	}
	b = append(b, key...)
	b = append(b, '{')
	var names [16]string
	for i, name := range sortedKeys(attrs, names[:0]) {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, name)
		b = append(b, ':')
		values := attrs[name]
		if values == nil {
			b = append(b, "null"...)
			continue
		}
		b = append(b, '[')
		for j, v := range values {
			if j > 0 {
				b = append(b, ',')
			}
			b = appendString(b, v)
		}
		b = append(b, ']')
	}
	return append(b, "},"...)
}

// sortedKeys appends the keys of m to keys, sorted: the order encoding/json writes them in.
func sortedKeys[V any](m map[string]V, keys []string) []string {
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func appendFloatPointer(b []byte, f *float64) ([]byte, error) {
	if f == nil {
		return append(b, "null"...), nil
	}
	return appendFloat(b, *f)
}

// appendFloat writes f as encoding/json does: the shortest decimal that reads back as f, in
// exponent form below 1e-6 and from 1e21 up, with the exponent's leading zero dropped. JSON
// has no NaN or infinity.
func appendFloat(b []byte, f float64) ([]byte, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return nil, fmt.Errorf("json: unsupported value: %s", strconv.FormatFloat(f, 'g', -1, 64))
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b, nil
}

const hexDigits = "0123456789abcdef"

// appendString writes s as a JSON string as encoding/json does: <, > and & escaped for HTML,
// invalid UTF-8 as \ufffd, and U+2028 and U+2029 escaped for JavaScript.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
