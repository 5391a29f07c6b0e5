package stored

import (
	"math"
	"reflect"
	"testing"
	"time"

	"github.com/pinfold/pinfold"
)

// decodeEndpoints are endpoints whose documents decodeDoc must read itself.
func decodeEndpoints() []*pinfold.Endpoint {
	lat, lon, tiny, huge, negZero := 47.6062, -122.3321, 1e-7, 1e21, math.Copysign(0, -1)
	return []*pinfold.Endpoint{
		{},
		{ChannelType: "EMAIL", Address: "a@example.com", EndpointStatus: "ACTIVE", OptOut: "NONE",
			EffectiveDate: "2026-11-28T10:00:00.000Z", RequestID: "r-1", CohortID: "42",
			CreatedAt:   time.Date(2026, 11, 28, 10, 0, 0, 123, time.UTC),
			Attributes:  pinfold.AttributesOf(map[string][]string{"plan": {"pro", "trial"}, "Interests": {"a"}, "empty": {}, "nil": nil}),
			Metrics:     pinfold.MetricsOf(map[string]float64{"visits": 3, "score": 6.5, "tiny": tiny, "huge": huge, "neg": negZero}),
			Demographic: pinfold.Demographic{AppVersion: "1.2", Locale: "en_US", Make: "Apple", Model: "iPhone", ModelVersion: "15", Platform: "iOS", PlatformVersion: "18.1", Timezone: "America/Los_Angeles"},
			Location:    pinfold.Location{City: "Seattle, WA", Country: "US", PostalCode: "98101", Region: "WA", Latitude: &lat, Longitude: &lon},
			User:        pinfold.User{UserID: "user-1", UserAttributes: pinfold.AttributesOf(map[string][]string{"tier": {"gold"}})}},
		// What AppendEndpoint escapes: HTML characters, quotes, control characters, U+2028,
		// and text beyond ASCII.
		{ChannelType: "SMS", Address: "+1 <206> & \"555\"\\0100", CohortID: "7",
			Attributes: pinfold.AttributesOf(map[string][]string{"tab\there": {"line\nbreak", "\u2028\u2029", "\x00\x1f\x7f"}, "Größe": {"日本語", "emoji 🎉"}}),
			User:       pinfold.User{UserID: "ユーザー"}},
	}
}

// TestDecodeDoc checks that decodeDoc reads the documents the stores hold, AppendEndpoint's
// and the same rewritten by PostgreSQL's jsonb (spaces, members sorted by length), and
// gives what encoding/json gives.
func TestDecodeDoc(t *testing.T) {
	var docs []string
	for _, e := range decodeEndpoints() {
		doc, err := EncodeEndpoint(e)
		if err != nil {
			t.Fatal(err)
		}
		docs = append(docs, string(doc))
	}
	docs = append(docs,
		`{"a": "a@example.com", "c": "42", "d": {"Make": "", "Model": "", "Locale": "", "Platform": "", "Timezone": "", "AppVersion": "", "ModelVersion": "", "PlatformVersion": ""}, "l": {"City": "", "Region": "", "Country": "", "Latitude": 47.6062, "Longitude": -1.22e2, "PostalCode": ""}, "m": {"x": 1.0, "y": 0.5E-3}, "u": "", "at": {"k": ["v\u00e9", "w\/x"]}, "ct": "EMAIL", "ed": "2026-11-28T10:00:00.000Z", "es": "INACTIVE", "cr": 1764324000000000123}`,
		" {\n\t\"at\" : { } , \"m\":{},\"ua\":null,\"l\":null,\"d\":null,\"cr\":null,\"a\":null } \n",
		// PostgreSQL 15's text of a jsonb document after jsonb_set, as pgx reads it.
		`{"a": "a<b>@example.com", "c": "42", "d": {"Make": "", "Model": "", "Locale": "", "Platform": "", "Timezone": "", "AppVersion": "", "ModelVersion": "", "PlatformVersion": ""}, "l": {"City": "", "Region": "", "Country": "", "Latitude": 0.0000001, "Longitude": null, "PostalCode": ""}, "m": {"s": 1000000000000000000000, "t": -0.5, "u": 3}, "o": "NONE", "u": "ユーザー", "at": {"k": ["v`+"\u2028"+`", "x\ty", "é"]}, "cr": 1764324000000000123, "ct": "EMAIL", "ed": "2026", "es": "INACTIVE"}`,
	)
	for _, doc := range docs {
		var got pinfold.Endpoint
		got.ID, got.AppID = "e", "app"
		if !decodeDoc([]byte(doc), &got) {
			t.Errorf("decodeDoc gave up on %s", doc)
			continue
		}
		want, err := decodeEndpointJSON("app", "e", []byte(doc))
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(&got, want) {
			t.Errorf("decodeDoc read %s as\n%+v\nencoding/json as\n%+v", doc, got, *want)
		}
	}
}

// TestDecodeDocGivesUp checks that what decodeDoc cannot read as encoding/json would is left
// to encoding/json, and that DecodeEndpoint's answer is encoding/json's.
func TestDecodeDocGivesUp(t *testing.T) {
	for _, doc := range []string{
		`{"CT":"EMAIL"}`,            // encoding/json matches names in any case
		`{"ct":"EMAIL","ct":"SMS"}`, // it keeps the last
		`{"at":{"k":["a"],"k":["b"]}}`,
		`{"x":1}`,                 // it ignores unknown members
		`{"a":"\ud83c\udf89"}`,    // a surrogate pair
		`{"a":"\ud83c"}`,          // half of one
		"{\"a\":\"\xff\"}",        // invalid UTF-8, which it replaces
		`{"at":{"k":["a",null]}}`, // null in a list is ""
		`{"m":{"k":1e999}}`,       // out of range: an error
		`{"cr":1.5}`,              // not an integer: an error
		`{"m":{"k":01}}`,          // not JSON
		`{"a":"x"} {}`,            // more than one value
		`null`,
		`{"a":"x"`,
		`{"d":{"make":"x"}}`,
		`{"l":{"Latitude":"1"}}`,
		`{"a":1}`,
	} {
		var e pinfold.Endpoint
		if decodeDoc([]byte(doc), &e) {
			t.Errorf("decodeDoc read %s", doc)
		}
		got, err := DecodeEndpoint("app", "e", []byte(doc))
		want, wantErr := decodeEndpointJSON("app", "e", []byte(doc))
		if (err != nil) != (wantErr != nil) || !reflect.DeepEqual(got, want) {
			t.Errorf("DecodeEndpoint(%s) = %+v, %v; encoding/json reads %+v, %v", doc, got, err, want, wantErr)
		}
	}
}

// FuzzDecodeDoc checks that whatever decodeDoc reads, encoding/json reads the same, and that
// DecodeEndpoint always answers as encoding/json does.
func FuzzDecodeDoc(f *testing.F) {
	for _, e := range decodeEndpoints() {
		doc, err := EncodeEndpoint(e)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(doc)
	}
	f.Add([]byte(`{"a": "x", "m": {"k": -0.5e+2}, "at": {"k": ["\u00e9\n"]}, "cr": -1}`))
	f.Fuzz(func(t *testing.T, doc []byte) {
		want, wantErr := decodeEndpointJSON("app", "e", doc)
		var e pinfold.Endpoint
		e.ID, e.AppID = "e", "app"
		if decodeDoc(doc, &e) {
			if wantErr != nil {
				t.Fatalf("decodeDoc read %q, which encoding/json refuses: %v", doc, wantErr)
			}
			if !reflect.DeepEqual(&e, want) {
				t.Fatalf("decodeDoc read %q as\n%+v\nencoding/json as\n%+v", doc, e, *want)
			}
		}
		got, err := DecodeEndpoint("app", "e", doc)
		if (err != nil) != (wantErr != nil) || !reflect.DeepEqual(got, want) {
			t.Fatalf("DecodeEndpoint(%q) = %+v, %v; encoding/json reads %+v, %v", doc, got, err, want, wantErr)
		}
	})
}

func BenchmarkDecodeEndpoint(b *testing.B) {
	doc, err := EncodeEndpoint(decodeEndpoints()[1])
	if err != nil {
		b.Fatal(err)
	}
	b.Run("decodeDoc", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := DecodeEndpoint("app", "e", doc); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding/json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := decodeEndpointJSON("app", "e", doc); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// TestDecodeDocPutsNamesInOrder checks that decodeDoc gives attributes and metrics in order
// of name from a document that has them in another, as PostgreSQL's jsonb keeps them
// (shorter names first), and leaves a repeated name to encoding/json, which keeps the last.
func TestDecodeDocPutsNamesInOrder(t *testing.T) {
	var e pinfold.Endpoint
	if !decodeDoc([]byte(`{"at":{"b":["1"],"aa":["2"],"ab":null},"m":{"z":1,"aa":2},"ua":{"y":[],"x":["3"]}}`), &e) {
		t.Fatal("decodeDoc gave up on a document in jsonb's order")
	}
	want := pinfold.Endpoint{Attributes: pinfold.Attributes{{Name: "aa", Values: []string{"2"}}, {Name: "ab"}, {Name: "b", Values: []string{"1"}}},
		Metrics: pinfold.Metrics{{Name: "aa", Value: 2}, {Name: "z", Value: 1}},
		User:    pinfold.User{UserAttributes: pinfold.Attributes{{Name: "x", Values: []string{"3"}}, {Name: "y", Values: []string{}}}}}
	if !reflect.DeepEqual(e, want) {
		t.Fatalf("decoded %+v, want %+v", e, want)
	}
	for _, doc := range []string{`{"at":{"b":["1"],"a":["2"],"b":["3"]}}`, `{"m":{"z":1,"a":2,"z":3}}`} {
		if decodeDoc([]byte(doc), &pinfold.Endpoint{}) {
			t.Errorf("decodeDoc read %s, with a repeated name", doc)
		}
		got, err := DecodeEndpoint("app", "e", []byte(doc))
		if err != nil || len(got.Attributes)+len(got.Metrics) != 2 {
			t.Errorf("DecodeEndpoint(%s) = %+v, %v", doc, got, err)
		}
	}
}
