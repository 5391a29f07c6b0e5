package pinfold_test

import (
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/pinfold/pinfold"
)

// TestAttributesOrder checks what keeps Attributes and Metrics in order of name: the
// constructors, Set, and the merge of an update into a stored endpoint.
func TestAttributesOrder(t *testing.T) {
	a := pinfold.AttributesOf(map[string][]string{"b": {"2"}, "a": {"1"}, "Z": {"0"}, "é": {"3"}})
	if want := (pinfold.Attributes{{"Z", []string{"0"}}, {"a", []string{"1"}}, {"b", []string{"2"}}, {"é", []string{"3"}}}); !reflect.DeepEqual(a, want) {
		t.Fatalf("AttributesOf = %v, want %v", a, want)
	}
	if pinfold.AttributesOf(map[string][]string{}) != nil || pinfold.MetricsOf(nil) != nil {
		t.Error("an empty map is not nil Attributes or Metrics")
	}
	a.Set("aa", []string{"x"})
	a.Set("b", nil)
	a.Set("0", []string{"y"})
	if want := (pinfold.Attributes{{"0", []string{"y"}}, {"Z", []string{"0"}}, {"a", []string{"1"}}, {"aa", []string{"x"}}, {"b", nil}, {"é", []string{"3"}}}); !reflect.DeepEqual(a, want) {
		t.Fatalf("after Set: %v, want %v", a, want)
	}
	if v, ok := a.Get("aa"); !ok || v[0] != "x" {
		t.Errorf(`Get("aa") = %v, %v`, v, ok)
	}
	if _, ok := a.Get("A"); ok {
		t.Error(`Get("A") found a name a does not have`)
	}
	// Past the short scan: a binary search.
	var many pinfold.Attributes
	for _, name := range strings.Fields("k c x a q e m i g o s u w y b") {
		many.Set(name, []string{name})
	}
	for _, at := range many {
		if v, ok := many.Get(at.Name); !ok || v[0] != at.Name {
			t.Errorf("Get(%q) = %v, %v", at.Name, v, ok)
		}
	}
	if _, ok := many.Get("d"); ok {
		t.Error(`Get("d") found a name many does not have`)
	}
	ms := pinfold.MetricsOf(map[string]float64{"visits": 3, "score": 1})
	ms.Set("age", 40)
	ms.Set("score", 2)
	if want := (pinfold.Metrics{{"age", 40}, {"score", 2}, {"visits", 3}}); !reflect.DeepEqual(ms, want) {
		t.Fatalf("Metrics after Set: %v, want %v", ms, want)
	}

	t0 := time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)
	stored := &pinfold.Endpoint{ID: "e", Attributes: pinfold.AttributesOf(map[string][]string{"b": {"1"}, "d": {"2"}, "f": {"3"}}),
		Metrics: pinfold.MetricsOf(map[string]float64{"m": 1, "o": 2})}
	merged, err := pinfold.ApplyEndpointUpdate("app", stored, &pinfold.EndpointUpdate{ID: "e",
		Attributes: pinfold.AttributesOf(map[string][]string{"a": {"new"}, "d": {}, "e": {"x", "y"}, "g": {"last"}}),
		Metrics:    pinfold.MetricsOf(map[string]float64{"n": 5, "o": 6, "z": 7})}, t0)
	if err != nil {
		t.Fatal(err)
	}
	wantAttrs := pinfold.Attributes{{"a", []string{"new"}}, {"b", []string{"1"}}, {"e", []string{"x", "y"}}, {"f", []string{"3"}}, {"g", []string{"last"}}}
	wantMetrics := pinfold.Metrics{{"m", 1}, {"n", 5}, {"o", 6}, {"z", 7}}
	if !reflect.DeepEqual(merged.Attributes, wantAttrs) || !reflect.DeepEqual(merged.Metrics, wantMetrics) {
		t.Fatalf("merged %v %v, want %v %v", merged.Attributes, merged.Metrics, wantAttrs, wantMetrics)
	}
	// Appending to a merged name's values writes into no other's.
	e := merged.Attributes[2].Values
	_ = append(e, "appended")
	if merged.Attributes[4].Values[0] != "last" {
		t.Error("an append to one attribute's values overwrote the next one's")
	}
	if len(stored.Attributes) != 3 || len(stored.Metrics) != 2 {
		t.Errorf("the merge changed the stored endpoint: %v %v", stored.Attributes, stored.Metrics)
	}
	removed, err := pinfold.ApplyEndpointUpdate("app", stored, &pinfold.EndpointUpdate{ID: "e",
		Attributes: pinfold.AttributesOf(map[string][]string{"b": {}, "d": {}, "f": {}})}, t0)
	if err != nil || removed.Attributes != nil {
		t.Errorf("removing every attribute left %v (%v)", removed.Attributes, err)
	}
}

// TestAttributesJSON checks that Attributes and Metrics are written as encoding/json writes
// the maps of the same entries, and read back.
func TestAttributesJSON(t *testing.T) {
	attrs := map[string][]string{"plan": {"gold", "<b>&co</b>"}, "nil": nil, "empty": {}, "\u2028é\x00": {"\"q\"\\"}}
	metrics := map[string]float64{"tiny": 1e-7, "big": 1e21, "neg": -0.5, "int": 3}
	for _, tc := range []struct {
		name      string
		got, want any
	}{
		{"Attributes", pinfold.AttributesOf(attrs), attrs},
		{"Metrics", pinfold.MetricsOf(metrics), metrics},
		{"nil Attributes", pinfold.Attributes(nil), map[string][]string(nil)},
		{"in a struct", struct {
			A pinfold.Attributes `json:"a,omitempty"`
			M pinfold.Metrics    `json:"m,omitempty"`
			E pinfold.Attributes `json:"e,omitempty"`
		}{pinfold.AttributesOf(attrs), pinfold.MetricsOf(metrics), nil}, struct {
			A map[string][]string `json:"a,omitempty"`
			M map[string]float64  `json:"m,omitempty"`
			E map[string][]string `json:"e,omitempty"`
		}{attrs, metrics, nil}},
	} {
		got, err := json.Marshal(tc.got)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := json.Marshal(tc.want)
		if string(got) != string(want) {
			t.Errorf("%s: %s, want %s", tc.name, got, want)
		}
	}
	if _, err := json.Marshal(pinfold.Metrics{{"nan", math.NaN()}}); err == nil || !strings.Contains(err.Error(), "Metrics.nan") {
		t.Errorf("a NaN metric marshals (%v)", err)
	}
	var back struct {
		A pinfold.Attributes
		M pinfold.Metrics
	}
	if err := json.Unmarshal([]byte(`{"A":{"z":["1"],"a":["2"],"z":["3"]},"M":{"y":1,"x":2}}`), &back); err != nil {
		t.Fatal(err)
	}
	if want := (pinfold.Attributes{{"a", []string{"2"}}, {"z", []string{"3"}}}); !reflect.DeepEqual(back.A, want) {
		t.Errorf("Attributes read back %v, want %v", back.A, want)
	}
	if want := (pinfold.Metrics{{"x", 2}, {"y", 1}}); !reflect.DeepEqual(back.M, want) {
		t.Errorf("Metrics read back %v, want %v", back.M, want)
	}
}

// TestValidateOrder checks that an update whose names are out of order, or repeated, is
// EINVALID, naming the field and the name: only an update built by hand can be so.
func TestValidateOrder(t *testing.T) {
	for _, tc := range []struct {
		u   pinfold.EndpointUpdate
		msg string
	}{
		{pinfold.EndpointUpdate{Attributes: pinfold.Attributes{{"b", []string{"1"}}, {"a", []string{"2"}}}},
			"Attributes.a is repeated or out of order"},
		{pinfold.EndpointUpdate{UserAttributes: pinfold.Attributes{{"a", []string{"1"}}, {"a", []string{"2"}}}},
			"User.UserAttributes.a is repeated or out of order"},
		{pinfold.EndpointUpdate{Metrics: pinfold.Metrics{{"m", 1}, {"l", 2}}}, "Metrics.l is repeated or out of order"},
		// A problem of an entry comes first, as every problem of an earlier field does.
		{pinfold.EndpointUpdate{Attributes: pinfold.Attributes{{"b", []string{"1"}}, {"", []string{"2"}}}, Metrics: pinfold.Metrics{{"m", 1}, {"l", 2}}},
			"Attributes has an empty name"},
	} {
		err := tc.u.Validate()
		if pinfold.ErrorCode(err) != pinfold.EINVALID || !strings.HasPrefix(pinfold.ErrorMessage(err), tc.msg) {
			t.Errorf("%+v: Validate = %v, want %q", tc.u, err, tc.msg)
		}
	}
}
