package api

import (
	"encoding/json"
	"errors"
	"testing"
)

// TestMemberPath checks that a type error names its member from the root, with map keys and
// array indexes, whichever Go built the test (encoding/json's Field has them from Go 1.27 only).
func TestMemberPath(t *testing.T) {
	t.Parallel()
	type inner struct {
		Value float64
		List  []string
	}
	type doc struct {
		Name    string
		Metrics map[string]float64
		Attrs   map[string][]string
		Nested  map[string]inner
		Item    []struct {
			ID    string `json:"Id"`
			Attrs map[string][]string
		}
	}
	for _, tc := range []struct{ body, want string }{
		{`{"Name":42}`, "Name"},
		{`{"Name":{"a":1}}`, "Name"},
		{`{"Metrics":{"visits":"three"}}`, "Metrics.visits"},
		{`{"Metrics":{"a":1,"b":2,"c":[1]}}`, "Metrics.c"},
		{`{"Attrs":{"a":"one"}}`, "Attrs.a"},
		{`{"Attrs":{"a":["x","y",3]}}`, "Attrs.a.2"},
		{`{"Attrs":{"a\"b.c":{"x":1}}}`, `Attrs.a"b.c`},
		{`{"Nested":{"k":{"Value":"x"}}}`, "Nested.k.Value"},
		{`{"Nested":{"k":{"List":["a"],"Value":1},"m":{"List":["a",{"b":[1]}]}}}`, "Nested.m.List.1"},
		{`{"Item":{"Id":"a"}}`, "Item"},
		{`{"Item":[{"Id":"a"},{"Id":7}]}`, "Item.1.Id"},
		{`{"Item":[{"Id":"a","Attrs":{"x":["1"]}},{"Attrs":{"y":[{"z":[]}]}}]}`, "Item.1.Attrs.y.0"},
		{` { "Item" : [ { } , { "Id" : [ ] } ] } `, "Item.1.Id"},
		{`{"Unknown":{"a":[1,{"b":2}]},"Metrics":{"m":true}}`, "Metrics.m"},
		{`{"Metrics":{"m":1e400}}`, "Metrics.m"},
	} {
		var v doc
		err := json.Unmarshal([]byte(tc.body), &v)
		var typeErr *json.UnmarshalTypeError
		if !errors.As(err, &typeErr) {
			t.Errorf("%s: %v, want a type error", tc.body, err)
			continue
		}
		if got := memberPath([]byte(tc.body), typeErr); got != tc.want {
			t.Errorf("%s: path %q (encoding/json's Field %q), want %q", tc.body, got, typeErr.Field, tc.want)
		}
	}
}

// TestJSONPathAtNoValue checks that an offset where no value ends finds nothing.
func TestJSONPathAtNoValue(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		body string
		off  int64
	}{
		{`{"a":1}`, 100},
		{`{"a":`, 5},
		{``, 0},
	} {
		if path, ok := jsonPathAt([]byte(tc.body), tc.off); ok {
			t.Errorf("%q at %d: %q, want none", tc.body, tc.off, path)
		}
	}
	if path, ok := jsonPathAt([]byte(`{"a":1}`), 1); !ok || path != "" {
		t.Errorf(`{"a":1} at 1: %q %v, want the root`, path, ok)
	}
}
