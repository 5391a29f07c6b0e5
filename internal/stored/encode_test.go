package stored

import (
	"bytes"
	"encoding/json"
	"math"
	"testing"
	"time"

	"github.com/pinfold/pinfold"
)

// marshalEndpoint is the stored document as encoding/json writes it: what AppendEndpoint must
// write byte for byte.
func marshalEndpoint(e *pinfold.Endpoint) ([]byte, error) {
	return json.Marshal(endpointDoc{
		ChannelType: e.ChannelType, Address: e.Address, Attributes: e.Attributes.Map(),
		Demographic: e.Demographic, EffectiveDate: e.EffectiveDate, EndpointStatus: e.EndpointStatus,
		Location: e.Location, Metrics: e.Metrics.Map(), OptOut: e.OptOut, RequestID: e.RequestID,
		UserID: e.User.UserID, UserAttributes: e.User.UserAttributes.Map(), CohortID: e.CohortID,
		CreatedAt: Nanos(e.CreatedAt),
	})
}

// checkEncoding fails t unless EncodeEndpoint and encoding/json agree on e, in bytes or in
// refusing it, and the document decodes back to e.
func checkEncoding(t *testing.T, e *pinfold.Endpoint) {
	t.Helper()
	want, wantErr := marshalEndpoint(e)
	got, err := EncodeEndpoint(e)
	if (err != nil) != (wantErr != nil) {
		t.Fatalf("EncodeEndpoint error %v, encoding/json error %v", err, wantErr)
	}
	if err != nil {
		return
	}
	// Invalid UTF-8 becomes U+FFFD either way, which encoding/json writes as the escape \ufffd
	// before Go 1.27 (as EncodeEndpoint does) and as the character itself from 1.27: the same
	// document, spelt two ways.
	spelt := func(b []byte) []byte { return bytes.ReplaceAll(b, []byte("\uFFFD"), []byte(`\ufffd`)) }
	if !bytes.Equal(got, want) && !bytes.Equal(spelt(got), spelt(want)) {
		t.Fatalf("EncodeEndpoint wrote\n%s\nencoding/json writes\n%s", got, want)
	}
	// After a buffer's own bytes, too.
	if prefixed, _ := AppendEndpoint([]byte("prefix"), e); !bytes.Equal(prefixed, append([]byte("prefix"), got...)) {
		t.Fatalf("AppendEndpoint after a prefix wrote %s", prefixed)
	}
	if !json.Valid(got) {
		t.Fatalf("not JSON: %s", got)
	}
	if _, err := DecodeEndpoint(e.AppID, e.ID, got); err != nil {
		t.Fatal(err)
	}
}

func TestEncodeEndpointIsJSONMarshal(t *testing.T) {
	lat, lon, zero, negZero := 47.6062, -122.3321, 0.0, math.Copysign(0, -1)
	tiny, huge := 1e-7, 1e21
	for _, e := range []*pinfold.Endpoint{
		{},
		{ID: "e1", AppID: "app", ChannelType: "EMAIL", Address: "a@example.com", EndpointStatus: "ACTIVE",
			OptOut: "NONE", EffectiveDate: "2026-11-28T10:00:00.000Z", RequestID: "r-1", CohortID: "42",
			CreatedAt:   time.Date(2026, 11, 28, 10, 0, 0, 123, time.UTC),
			Attributes:  pinfold.AttributesOf(map[string][]string{"plan": {"pro", "trial"}, "Interests": {"a"}, "empty": {}, "nil": nil}),
			Metrics:     pinfold.MetricsOf(map[string]float64{"visits": 3, "score": 0.1, "big": 123456789012, "tiny": 1e-9, "neg": -2.5e-7, "huge": 1.5e300}),
			Demographic: pinfold.Demographic{AppVersion: "1.0", Locale: "en_US", Make: "Apple", Model: "iPhone", ModelVersion: "15", Platform: "iOS", PlatformVersion: "17.1", Timezone: "America/Los_Angeles"},
			Location:    pinfold.Location{City: "Seattle", Country: "US", PostalCode: "98101", Region: "WA", Latitude: &lat, Longitude: &lon},
			User:        pinfold.User{UserID: "user-1", UserAttributes: pinfold.AttributesOf(map[string][]string{"FirstName": {"Ana"}, "LastName": {"Müller"}})},
		},
		{Location: pinfold.Location{Latitude: &zero, Longitude: &negZero}},
		{Location: pinfold.Location{Latitude: &tiny, Longitude: &huge}},
		{Address: "<script>&amp;</script>", ChannelType: "\"quoted\\\" \b\f\n\r\t\x00\x01\x1f\x7f",
			User: pinfold.User{UserID: "line\u2028para\u2029end", UserAttributes: pinfold.AttributesOf(map[string][]string{"bad\xffutf8": {"\xc3", "ok\xe2\x82"}})}},
		{Attributes: pinfold.AttributesOf(map[string][]string{}), Metrics: pinfold.MetricsOf(map[string]float64{})},
		{Metrics: pinfold.MetricsOf(map[string]float64{"nan": math.NaN()})},
		{Metrics: pinfold.MetricsOf(map[string]float64{"inf": math.Inf(-1)})},
	} {
		checkEncoding(t, e)
	}
}

func FuzzEncodeEndpoint(f *testing.F) {
	f.Add("EMAIL", "a@example.com", "plan", "pro", "user-1", "Müller", 3.0, 47.6, int64(1))
	f.Add("<&>", "\u2028\x00\xff", "", "\"\\", "\t", "\xe2\x82", 1e-7, 1e21, int64(-1))
	f.Add("", "", "k", "", "", "", math.NaN(), 0.0, int64(0))
	f.Fuzz(func(t *testing.T, channel, address, name, value, user, city string, metric, latitude float64, created int64) {
		e := &pinfold.Endpoint{ID: "e", AppID: "app", ChannelType: channel, Address: address,
			Attributes: pinfold.AttributesOf(map[string][]string{name: {value, city}, city: nil}),
			Metrics:    pinfold.MetricsOf(map[string]float64{name: metric, value: latitude}),
			Location:   pinfold.Location{City: city, Latitude: &latitude},
			User:       pinfold.User{UserID: user, UserAttributes: pinfold.AttributesOf(map[string][]string{user: {value}})},
			CreatedAt:  time.Unix(0, created).UTC(),
		}
		checkEncoding(t, e)
	})
}

func BenchmarkEncodeEndpoint(b *testing.B) {
	lat, lon := 47.6062, -122.3321
	e := &pinfold.Endpoint{ID: "e1", AppID: "app", ChannelType: "GCM",
		Address:        "fK3l9Qm2R0yW7sX1vB4nZ8:APA91bH6tJ2kL9pQ4rS7uV0wX3yZ6aB9cD2eF5gH8iJ1kL4mN7oP0qR3sT6uV9wX2yZ5aB8cD1eF4gH7iJ0kL3mN6oP9qR2sT5uV8wX1yZ4aB7cD0eF3gH6iJ9kL2mN5oP8qR",
		EndpointStatus: "ACTIVE", OptOut: "NONE", EffectiveDate: "2026-11-28T10:00:00.000Z", CreatedAt: time.Now(),
		Attributes:  pinfold.AttributesOf(map[string][]string{"Interests": {"sports", "music"}, "Plan": {"pro"}, "Source": {"import"}, "Segment": {"b"}}),
		Metrics:     pinfold.MetricsOf(map[string]float64{"sessions": 12, "score": 0.75}),
		Demographic: pinfold.Demographic{AppVersion: "3.2.1", Locale: "en_US", Make: "Google", Model: "Pixel 8", Platform: "Android", PlatformVersion: "14", Timezone: "Europe/Berlin"},
		Location:    pinfold.Location{City: "Berlin", Country: "DE", PostalCode: "10115", Region: "BE", Latitude: &lat, Longitude: &lon},
		User:        pinfold.User{UserID: "user-123456", UserAttributes: pinfold.AttributesOf(map[string][]string{"FirstName": {"Ana"}, "LastName": {"Silva"}})},
	}
	b.Run("AppendEndpoint", func(b *testing.B) {
		b.ReportAllocs()
		var buf []byte
		for range b.N {
			buf, _ = AppendEndpoint(buf[:0], e)
		}
	})
	b.Run("encoding/json", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			marshalEndpoint(e)
		}
	})
}
