package endpointfile_test

import (
	"bytes"
	"encoding/json"
	"io"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/pinfold/pinfold"
	"github.com/pinfold/pinfold/endpointfile"
)

// TestEncodeDecode writes endpoints as an export does and reads them back as an import does:
// the decoder takes every member the encoder writes, and the endpoint that results is the
// one written, but for what an app sets itself (ApplicationId, CreationDate).
func TestEncodeDecode(t *testing.T) {
	t.Parallel()
	created := time.Date(2026, 1, 2, 3, 4, 5, 6e6, time.UTC)
	lat, lon := 47.6, -122.3
	full := &pinfold.Endpoint{ID: "ep-1 <&> é", AppID: "source-app", ChannelType: "APNS", Address: "token\"with\\quotes",
		Attributes:    pinfold.AttributesOf(map[string][]string{"Interests": {"Music", "Travel, far"}, "empty": {""}}),
		Demographic:   pinfold.Demographic{AppVersion: "1", Locale: "en_US", Make: "apple", Model: "iPhone", ModelVersion: "8", Platform: "ios", PlatformVersion: "17", Timezone: "Europe/Paris"},
		EffectiveDate: "2025-12-31T23:59:59.999Z", EndpointStatus: "INACTIVE",
		Location: pinfold.Location{City: "Seattle", Country: "US", PostalCode: "98121", Region: "WA", Latitude: &lat, Longitude: &lon},
		Metrics:  pinfold.MetricsOf(map[string]float64{"score": 6.5, "zero": 0, "big": 1e300}),
		OptOut:   "ALL", RequestID: "req-1",
		User:     pinfold.User{UserID: "u1", UserAttributes: pinfold.AttributesOf(map[string][]string{"tier": {"gold"}})},
		CohortID: pinfold.CohortID("ep-1 <&> é"), CreatedAt: created}
	bare := &pinfold.Endpoint{ID: "ep-2", AppID: "source-app", ChannelType: "SMS", Address: "+12065550100", EffectiveDate: "2026-01-01T00:00:00.000Z",
		EndpointStatus: "ACTIVE", OptOut: "NONE", CohortID: pinfold.CohortID("ep-2"), CreatedAt: created}
	var b bytes.Buffer
	enc := endpointfile.NewEncoder(&b)
	for _, e := range []*pinfold.Endpoint{full, bare} {
		if err := enc.Encode(e); err != nil {
			t.Fatal(err)
		}
	}
	if err := enc.Flush(); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d lines: %q", len(lines), b.String())
	}
	// A line is the JSON of EndpointResponse, as the API's GetEndpoint writes it.
	if want, _ := json.Marshal(endpointfile.NewEndpointResponse(full)); lines[0] != string(want) {
		t.Fatalf("line 1 = %s, want %s", lines[0], want)
	}
	if !strings.Contains(lines[1], `"ApplicationId":"source-app","ChannelType":"SMS","CohortId":"`) || strings.Contains(lines[1], "Demographic") {
		t.Fatalf("line 2 = %s", lines[1])
	}

	dec := endpointfile.NewJSONDecoder(strings.NewReader(b.String()), 1)
	now := created.Add(time.Hour)
	for i, want := range []*pinfold.Endpoint{full, bare} {
		row, err := dec.Next()
		if err != nil || row.Err != nil {
			t.Fatalf("row %d: %v %v", i+1, err, row.Err)
		}
		got, err := pinfold.ApplyEndpointUpdate("target-app", nil, row.Update, now)
		if err != nil {
			t.Fatal(err)
		}
		w := *want
		w.AppID, w.CreatedAt = "target-app", now
		if !reflect.DeepEqual(got, &w) {
			t.Fatalf("read back\n%+v\nwant\n%+v", got, &w)
		}
	}
	if _, err := dec.Next(); err != io.EOF {
		t.Fatalf("after the last row: %v", err)
	}
}
