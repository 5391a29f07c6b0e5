package pinfold_test

import (
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pinfold/pinfold"
)

func sp(s string) *string { return &s }

func TestApplyEndpointUpdate(t *testing.T) {
	t0 := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	t1 := t0.Add(time.Hour)
	if _, err := pinfold.ApplyEndpointUpdate("app", nil, &pinfold.EndpointUpdate{ID: "e", OptOut: sp("ALL")}, t0); pinfold.ErrorCode(err) != pinfold.EINVALID ||
		pinfold.ErrorMessage(err) != pinfold.NewEndpointMissingFields {
		t.Fatalf("new endpoint without ChannelType and Address: %v", err)
	}
	created, err := pinfold.ApplyEndpointUpdate("app", nil, &pinfold.EndpointUpdate{ID: "e", ChannelType: sp("EMAIL"), Address: sp("a@example.com"),
		Attributes: pinfold.AttributesOf(map[string][]string{"color": {"red"}, "size": {"L"}}), Metrics: pinfold.MetricsOf(map[string]float64{"visits": 1}),
		UserID: sp("u1"), Demographic: pinfold.DemographicUpdate{Platform: sp("iOS")}}, t0)
	if err != nil {
		t.Fatal(err)
	}
	if created.CreatedAt != t0 || created.EffectiveDate != "2026-11-01T10:00:00.000Z" || created.EndpointStatus != "ACTIVE" ||
		created.OptOut != "NONE" || created.CohortID != pinfold.CohortID("e") || created.AppID != "app" {
		t.Fatalf("bookkeeping of a new endpoint: %+v", created)
	}
	updated, err := pinfold.ApplyEndpointUpdate("app", created, &pinfold.EndpointUpdate{ID: "e",
		Attributes: pinfold.AttributesOf(map[string][]string{"color": {"blue", "green"}}), Metrics: pinfold.MetricsOf(map[string]float64{"score": 2}),
		Location: pinfold.LocationUpdate{City: sp("Oslo")}, EffectiveDate: sp("2026-10-01T00:00:00Z")}, t1)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(updated.Attributes.Map()["color"], []string{"blue", "green"}) || !slices.Equal(updated.Attributes.Map()["size"], []string{"L"}) ||
		updated.Metrics.Map()["visits"] != 1 || updated.Metrics.Map()["score"] != 2 || updated.Address != "a@example.com" ||
		updated.User.UserID != "u1" || updated.Demographic.Platform != "iOS" || updated.Location.City != "Oslo" ||
		updated.CreatedAt != t0 || updated.EffectiveDate != "2026-10-01T00:00:00Z" {
		t.Fatalf("partial update: %+v", updated)
	}
	if !slices.Equal(created.Attributes.Map()["color"], []string{"red"}) || len(created.Metrics) != 1 {
		t.Fatalf("the update changed the endpoint it started from: %+v", created)
	}
}

// TestApplyEndpointUpdateNewTakesMaps checks a new endpoint's attributes: the update's own
// slices when every name has values, which a later update of the endpoint leaves alone, and a
// copy without the names that have none otherwise.
func TestApplyEndpointUpdateNewTakesAttributes(t *testing.T) {
	t0 := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	u := &pinfold.EndpointUpdate{ID: "e", ChannelType: sp("EMAIL"), Address: sp("a@example.com"),
		Attributes: pinfold.AttributesOf(map[string][]string{"color": {"red"}}), UserAttributes: pinfold.AttributesOf(map[string][]string{"plan": {"free"}}),
		Metrics: pinfold.MetricsOf(map[string]float64{"visits": 1})}
	created, err := pinfold.ApplyEndpointUpdate("app", nil, u, t0)
	if err != nil {
		t.Fatal(err)
	}
	if &created.Attributes[0] != &u.Attributes[0] {
		t.Error("a new endpoint copied attributes it could take")
	}
	if _, err := pinfold.ApplyEndpointUpdate("app", created, &pinfold.EndpointUpdate{ID: "e",
		Attributes: pinfold.AttributesOf(map[string][]string{"color": {"blue"}, "size": {"L"}}), UserAttributes: pinfold.AttributesOf(map[string][]string{"plan": {}}),
		Metrics: pinfold.MetricsOf(map[string]float64{"visits": 2})}, t0); err != nil {
		t.Fatal(err)
	}
	if len(u.Attributes) != 1 || !slices.Equal(u.Attributes.Map()["color"], []string{"red"}) || !slices.Equal(u.UserAttributes.Map()["plan"], []string{"free"}) ||
		len(u.Metrics) != 1 || u.Metrics.Map()["visits"] != 1 {
		t.Fatalf("updating the endpoint changed the update it was made from: %+v", u)
	}
	removing := &pinfold.EndpointUpdate{ID: "f", ChannelType: sp("EMAIL"), Address: sp("b@example.com"),
		Attributes: pinfold.AttributesOf(map[string][]string{"color": {"red"}, "gone": {}}), UserAttributes: pinfold.AttributesOf(map[string][]string{"gone": {}})}
	e, err := pinfold.ApplyEndpointUpdate("app", nil, removing, t0)
	if err != nil {
		t.Fatal(err)
	}
	if len(e.Attributes) != 1 || !slices.Equal(e.Attributes.Map()["color"], []string{"red"}) || e.User.UserAttributes != nil || e.Metrics != nil {
		t.Fatalf("new endpoint from an update with empty names: %+v", e)
	}
	if len(removing.Attributes) != 2 {
		t.Fatalf("the update lost a name: %+v", removing.Attributes)
	}
}

func TestEndpointUpdateValidate(t *testing.T) {
	long := strings.Repeat("x", 101)
	for _, tc := range []struct {
		u   pinfold.EndpointUpdate
		msg string
	}{
		{pinfold.EndpointUpdate{ChannelType: sp("FAX")}, `ChannelType must be one of`},
		{pinfold.EndpointUpdate{OptOut: sp("SOME")}, `OptOut must be ALL or NONE, got "SOME"`},
		{pinfold.EndpointUpdate{EffectiveDate: sp("yesterday")}, `EffectiveDate must be an ISO-8601 date`},
		{pinfold.EndpointUpdate{Attributes: pinfold.AttributesOf(map[string][]string{strings.Repeat("n", 51): {"v"}})}, "at most 50 are allowed"},
		{pinfold.EndpointUpdate{Attributes: pinfold.AttributesOf(map[string][]string{"a": {long}})}, "Attributes.a has a value of 101 characters"},
		{pinfold.EndpointUpdate{UserAttributes: pinfold.AttributesOf(map[string][]string{"a": make([]string, 51)})}, "User.UserAttributes.a has 51 values"},
		{pinfold.EndpointUpdate{Location: pinfold.LocationUpdate{Latitude: new(float64(91))}}, "Location.Latitude must be between -90 and 90"},
		{pinfold.EndpointUpdate{Address: sp(strings.Repeat("a", 16*1024))}, "Address is longer than"},
	} {
		err := tc.u.Validate()
		if pinfold.ErrorCode(err) != pinfold.EINVALID || !strings.Contains(pinfold.ErrorMessage(err), tc.msg) {
			t.Errorf("Validate(%+v) = %v, want EINVALID containing %q", tc.u, err, tc.msg)
		}
	}
	if err := (&pinfold.EndpointUpdate{ChannelType: sp("SMS"), Address: sp("+12065550100"), EffectiveDate: sp("2026-11-28")}).Validate(); err != nil {
		t.Fatalf("a valid update: %v", err)
	}
}

// TestEndpointUpdateValidateChecked checks that Validate rejects every string that is not
// UTF-8, and that ValidateChecked, which skips those checks and may take the maps' entries
// from an EntryCheck, applies every other rule exactly as Validate does.
func TestEndpointUpdateValidateChecked(t *testing.T) {
	bad := "a\xffb"
	for _, tc := range []struct {
		u   pinfold.EndpointUpdate
		msg string
	}{
		{pinfold.EndpointUpdate{Address: sp(bad)}, "Address is not valid UTF-8"},
		{pinfold.EndpointUpdate{Location: pinfold.LocationUpdate{Region: sp(bad)}}, "Location.Region is not valid UTF-8"},
		{pinfold.EndpointUpdate{Attributes: pinfold.AttributesOf(map[string][]string{bad: {"v"}})}, "Attributes has a name that is not valid UTF-8"},
		{pinfold.EndpointUpdate{Attributes: pinfold.AttributesOf(map[string][]string{"a": {"v", bad}})}, "Attributes.a has a value that is not valid UTF-8"},
		{pinfold.EndpointUpdate{UserAttributes: pinfold.AttributesOf(map[string][]string{"a": {bad}})}, "User.UserAttributes.a has a value that is not valid UTF-8"},
		{pinfold.EndpointUpdate{Metrics: pinfold.MetricsOf(map[string]float64{bad: 1})}, "Metrics has a name that is not valid UTF-8"},
	} {
		if err := tc.u.Validate(); pinfold.ErrorCode(err) != pinfold.EINVALID || pinfold.ErrorMessage(err) != tc.msg {
			t.Errorf("Validate(%+v) = %v, want EINVALID %q", tc.u, err, tc.msg)
		}
	}
	for _, u := range []pinfold.EndpointUpdate{
		{ChannelType: sp("SMS"), Address: sp("+12065550100"), EffectiveDate: sp("2026-11-28")},
		{ChannelType: sp("FAX")},
		{OptOut: sp("SOME")},
		{EndpointStatus: sp("GONE")},
		{EffectiveDate: sp("yesterday")},
		{Attributes: pinfold.AttributesOf(map[string][]string{"": {"v"}})},
		{Attributes: pinfold.AttributesOf(map[string][]string{strings.Repeat("é", 51): {"v"}})},
		{Attributes: pinfold.AttributesOf(map[string][]string{strings.Repeat("é", 50): {strings.Repeat("é", 100)}})},
		{Attributes: pinfold.AttributesOf(map[string][]string{"a": {strings.Repeat("é", 101)}})},
		{UserAttributes: pinfold.AttributesOf(map[string][]string{"a": make([]string, 51)})},
		{Metrics: pinfold.MetricsOf(map[string]float64{"m": math.NaN()})},
		{Metrics: pinfold.MetricsOf(map[string]float64{"": 1})},
		{Location: pinfold.LocationUpdate{Longitude: new(float64(181))}},
		{Demographic: pinfold.DemographicUpdate{Model: sp(strings.Repeat("m", 16*1024))}},
		{ID: strings.Repeat("i", 8*1024), Address: sp(strings.Repeat("a", 8*1024))},
		{Attributes: pinfold.AttributesOf(map[string][]string{"a": {strings.Repeat("v", 100)}}), UserAttributes: pinfold.AttributesOf(map[string][]string{"b": make([]string, 50)}),
			Metrics: pinfold.MetricsOf(map[string]float64{strings.Repeat("m", 50): 1}), Address: sp(strings.Repeat("a", 15*1024-320))}, // 15360 bytes: at the limit
		{Attributes: pinfold.AttributesOf(map[string][]string{"a": {strings.Repeat("v", 100)}}), UserAttributes: pinfold.AttributesOf(map[string][]string{"b": make([]string, 50)}),
			Metrics: pinfold.MetricsOf(map[string]float64{strings.Repeat("m", 50): 1}), Address: sp(strings.Repeat("a", 15*1024-319))}, // one byte over
		{Attributes: pinfold.AttributesOf(map[string][]string{"a": {"v"}}), UserAttributes: pinfold.AttributesOf(map[string][]string{"": {"v"}}), Metrics: pinfold.MetricsOf(map[string]float64{"m": math.Inf(1)})},
		{UserAttributes: pinfold.AttributesOf(map[string][]string{"b": {strings.Repeat("v", 101)}}), Metrics: pinfold.MetricsOf(map[string]float64{"m": math.Inf(1)})},
		{ChannelType: sp("FAX"), Attributes: pinfold.AttributesOf(map[string][]string{"": {"v"}})},
		{Attributes: pinfold.AttributesOf(map[string][]string{"a": {"v"}}), Location: pinfold.LocationUpdate{Latitude: new(float64(-91))}},
	} {
		want := u.Validate()
		var entries pinfold.EntryCheck
		for _, at := range u.Attributes {
			entries.Attribute(false, at.Name, at.Values)
		}
		for _, at := range u.UserAttributes {
			entries.Attribute(true, at.Name, at.Values)
		}
		for _, m := range u.Metrics {
			entries.Metric(m.Name, m.Value)
		}
		for _, got := range []error{u.ValidateChecked(nil), u.ValidateChecked(&entries)} {
			if pinfold.ErrorMessage(got) != pinfold.ErrorMessage(want) || pinfold.ErrorCode(got) != pinfold.ErrorCode(want) {
				t.Errorf("%+v: ValidateChecked = %v, Validate = %v", u, got, want)
			}
		}
	}
}

func TestDerivedIDsAndCohorts(t *testing.T) {
	a, b := pinfold.DerivedEndpointID("EMAIL", "a@example.com"), pinfold.DerivedEndpointID("EMAIL", "a@example.com")
	if a != b || len(a) != 32 || a == pinfold.DerivedEndpointID("SMS", "a@example.com") {
		t.Fatalf("derived IDs %q %q", a, b)
	}
	counts := map[string]int{}
	for i := range 10000 {
		counts[pinfold.CohortID(pinfold.DerivedEndpointID("EMAIL", strings.Repeat("x", i%7)+string(rune(i))))]++
	}
	if len(counts) != 100 {
		t.Fatalf("%d cohorts used, want all 100", len(counts))
	}
	for c, n := range counts {
		if n < 50 || n > 160 {
			t.Fatalf("cohort %s has %d of 10000 endpoints, want about 100", c, n)
		}
	}
}

func TestIsUserOnly(t *testing.T) {
	if !(&pinfold.EndpointUpdate{UserID: sp("u")}).IsUserOnly() {
		t.Fatal("a row of only User.UserId is user-only")
	}
	if (&pinfold.EndpointUpdate{UserID: sp("u"), Address: sp("a")}).IsUserOnly() || (&pinfold.EndpointUpdate{ID: "e", UserID: sp("u")}).IsUserOnly() {
		t.Fatal("a row with more than User.UserId is not user-only")
	}
}
