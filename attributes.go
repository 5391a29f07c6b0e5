package pinfold

import (
	"cmp"
	"encoding/json"
	"fmt"
	"maps"
	"slices"

	"github.com/pinfold/pinfold/internal/jsonw"
)

// Attribute is a custom attribute of an endpoint or of its user: a name and its values.
type Attribute struct {
	Name   string
	Values []string
}

// Attributes are custom attributes in ascending (byte) order of name, each name once: an
// endpoint's Attributes and its user's UserAttributes, and the same fields of an update.
// They are a slice rather than a map because an import makes one set per row: a slice is
// carved out of the decoder's arrays, where a map costs its own allocations, and it is
// written and merged in order without sorting (docs/performance.md). Make them with
// AttributesOf, or keep the order by hand; Validate reports a set out of order. In JSON they
// are an object of arrays of strings, as a map is.
type Attributes []Attribute

// AttributesOf returns m's entries as Attributes, in order of name; nil for an empty m. The
// values are m's, not copies.
func AttributesOf(m map[string][]string) Attributes {
	if len(m) == 0 {
		return nil
	}
	a := make(Attributes, 0, len(m))
	for _, name := range slices.Sorted(maps.Keys(m)) {
		a = append(a, Attribute{name, m[name]})
	}
	return a
}

// Map returns a's entries as a map; nil for none.
func (a Attributes) Map() map[string][]string {
	if len(a) == 0 {
		return nil
	}
	m := make(map[string][]string, len(a))
	for _, at := range a {
		m[at.Name] = at.Values
	}
	return m
}

// Get returns the values of name, and whether a has it.
func (a Attributes) Get(name string) ([]string, bool) {
	if i, ok := a.index(name); ok {
		return a[i].Values, true
	}
	return nil, false
}

func (a Attributes) index(name string) (int, bool) { return index(a, name, attributeName) }

func attributeName(at Attribute) string { return at.Name }
func metricName(m Metric) string        { return m.Name }

// index returns where name is in s, which is in order of nameOf, or where it would go.
func index[E any](s []E, name string, nameOf func(E) string) (int, bool) {
	if len(s) <= 8 { // a short scan beats the binary search's calls
		for i := range s {
			if c := cmp.Compare(nameOf(s[i]), name); c >= 0 {
				return i, c == 0
			}
		}
		return len(s), false
	}
	return slices.BinarySearchFunc(s, name, func(e E, name string) int { return cmp.Compare(nameOf(e), name) })
}

// setByName puts e in s, which is in order of nameOf: in place of the entry of its name, or
// where that name goes.
func setByName[E any](s []E, e E, nameOf func(E) string) []E {
	i, ok := index(s, nameOf(e), nameOf)
	if ok {
		s[i] = e
		return s
	}
	return slices.Insert(s, i, e)
}

// ordered reports the first name of s out of order (or repeated) by nameOf, if any.
func ordered[E any](s []E, nameOf func(E) string) (string, bool) {
	for i := 1; i < len(s); i++ {
		if nameOf(s[i-1]) >= nameOf(s[i]) {
			return nameOf(s[i]), false
		}
	}
	return "", true
}

// Set gives name the values, in order: it replaces the values of a name a has and adds a
// name it has not.
func (a *Attributes) Set(name string, values []string) {
	*a = setByName(*a, Attribute{name, values}, attributeName)
}

// ordered reports the first name out of order (or repeated) in a, if any.
func (a Attributes) ordered() (string, bool) { return ordered(a, attributeName) }

// MarshalJSON writes a as encoding/json writes the map of the same entries.
func (a Attributes) MarshalJSON() ([]byte, error) {
	if a == nil {
		return []byte("null"), nil
	}
	return a.AppendJSON(make([]byte, 0, 64)), nil
}

// AppendJSON appends a, in order, to b as a JSON object of arrays of strings, byte for byte
// what encoding/json writes for the map of the same entries; a nil list of values is null.
func (a Attributes) AppendJSON(b []byte) []byte {
	b = append(b, '{')
	for i, at := range a {
		if i > 0 {
			b = append(b, ',')
		}
		b = jsonw.AppendString(b, at.Name)
		b = append(b, ':')
		if at.Values == nil {
			b = append(b, "null"...)
			continue
		}
		b = append(b, '[')
		for j, v := range at.Values {
			if j > 0 {
				b = append(b, ',')
			}
			b = jsonw.AppendString(b, v)
		}
		b = append(b, ']')
	}
	return append(b, '}')
}

// UnmarshalJSON reads an object of arrays of strings, as into a map: of a repeated name the
// last values count.
func (a *Attributes) UnmarshalJSON(data []byte) error {
	var m map[string][]string
	if err := json.Unmarshal(data, &m); err != nil {
		return err
	}
	*a = AttributesOf(m)
	return nil
}

// Metric is a custom metric of an endpoint: a name and its number.
type Metric struct {
	Name  string
	Value float64
}

// Metrics are an endpoint's custom metrics in ascending (byte) order of name, each name once,
// as Attributes are: make them with MetricsOf or keep the order by hand. In JSON they are an
// object of numbers, as a map is.
type Metrics []Metric

// MetricsOf returns m's entries as Metrics, in order of name; nil for an empty m.
func MetricsOf(m map[string]float64) Metrics {
	if len(m) == 0 {
		return nil
	}
	ms := make(Metrics, 0, len(m))
	for _, name := range slices.Sorted(maps.Keys(m)) {
		ms = append(ms, Metric{name, m[name]})
	}
	return ms
}

// Map returns ms's entries as a map; nil for none.
func (ms Metrics) Map() map[string]float64 {
	if len(ms) == 0 {
		return nil
	}
	m := make(map[string]float64, len(ms))
	for _, mt := range ms {
		m[mt.Name] = mt.Value
	}
	return m
}

// Get returns the value of name, and whether ms has it.
func (ms Metrics) Get(name string) (float64, bool) {
	if i, ok := ms.index(name); ok {
		return ms[i].Value, true
	}
	return 0, false
}

func (ms Metrics) index(name string) (int, bool) { return index(ms, name, metricName) }

// Set gives name the value: it replaces the value of a name ms has and adds a name it has
// not, in order.
func (ms *Metrics) Set(name string, v float64) {
	*ms = setByName(*ms, Metric{name, v}, metricName)
}

// ordered reports the first name out of order (or repeated) in ms, if any.
func (ms Metrics) ordered() (string, bool) { return ordered(ms, metricName) }

// MarshalJSON writes ms as encoding/json writes the map of the same entries; a value that is
// not finite is an error, as there.
func (ms Metrics) MarshalJSON() ([]byte, error) {
	if ms == nil {
		return []byte("null"), nil
	}
	return ms.AppendJSON(make([]byte, 0, 32))
}

// AppendJSON appends ms, in order, to b as a JSON object of numbers, byte for byte what
// encoding/json writes for the map of the same entries; a value that is not finite is an
// error.
func (ms Metrics) AppendJSON(b []byte) ([]byte, error) {
	b = append(b, '{')
	for i, m := range ms {
		if i > 0 {
			b = append(b, ',')
		}
		b = jsonw.AppendString(b, m.Name)
		b = append(b, ':')
		var err error
		if b, err = jsonw.AppendFloat(b, m.Value); err != nil {
			return nil, fmt.Errorf("Metrics.%s: %w", m.Name, err)
		}
	}
	return append(b, '}'), nil
}

// UnmarshalJSON reads an object of numbers, as into a map.
func (ms *Metrics) UnmarshalJSON(data []byte) error {
	var m map[string]float64
	if err := json.Unmarshal(data, &m); err != nil {
		return err
	}
	*ms = MetricsOf(m)
	return nil
}

// mergeAttributes returns dst with src's entries put in: a name of src with values gets
// them (copied, all into one array), and a name of src without values is removed. Neither
// dst nor src changes. Each name's copied values are a slice of that array whose capacity
// ends with them, so that an append to one never writes into the next.
func mergeAttributes(dst, src Attributes) Attributes {
	if len(src) == 0 {
		return dst
	}
	n := 0
	for _, at := range src {
		n += len(at.Values)
	}
	all := make([]string, 0, n)
	out := make(Attributes, 0, len(dst)+len(src))
	i := 0
	for _, at := range src {
		for i < len(dst) && dst[i].Name < at.Name {
			out = append(out, dst[i])
			i++
		}
		if i < len(dst) && dst[i].Name == at.Name {
			i++
		}
		if len(at.Values) > 0 {
			start := len(all)
			all = append(all, at.Values...)
			out = append(out, Attribute{at.Name, all[start:len(all):len(all)]})
		}
	}
	out = append(out, dst[i:]...)
	if len(out) == 0 {
		return nil
	}
	return out
}

// mergeMetrics returns dst with src's values put in; neither changes.
func mergeMetrics(dst, src Metrics) Metrics {
	if len(src) == 0 {
		return dst
	}
	out := make(Metrics, 0, len(dst)+len(src))
	i := 0
	for _, m := range src {
		for i < len(dst) && dst[i].Name < m.Name {
			out = append(out, dst[i])
			i++
		}
		if i < len(dst) && dst[i].Name == m.Name {
			i++
		}
		out = append(out, m)
	}
	return append(out, dst[i:]...)
}
