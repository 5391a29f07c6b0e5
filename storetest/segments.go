package storetest

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/pinfold/pinfold"
)

func ip(v int) *int { return &v }

func mustCreateSegment(t *testing.T, s Store, app, id string, u *pinfold.SegmentUpdate, now time.Time) *pinfold.Segment {
	t.Helper()
	seg, err := pinfold.NewSegment(app, id, u, now)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CreateSegment(ctx, seg); err != nil {
		t.Fatalf("CreateSegment(%s): %v", id, err)
	}
	return seg
}

func mustSegment(t *testing.T, s Store, app, id string, version int) *pinfold.Segment {
	t.Helper()
	seg, err := s.FindSegmentVersion(ctx, app, id, version)
	if version == 0 {
		seg, err = s.FindSegment(ctx, app, id)
	}
	if err != nil {
		t.Fatalf("find segment %s version %d: %v", id, version, err)
	}
	return seg
}

// allMembers pages through a segment version's members.
func allMembers(t *testing.T, s Store, app, id string, version, pageSize int) []string {
	t.Helper()
	var ids []string
	page := pinfold.Page{Size: pageSize}
	for {
		got, next, err := s.FindSegmentMembers(ctx, app, id, version, page)
		if err != nil {
			t.Fatalf("members of %s version %d: %v", id, version, err)
		}
		ids = append(ids, got...)
		if page.Token = next; next == "" {
			return ids
		}
	}
}

func groups(include string, gs ...pinfold.SegmentGroup) *pinfold.SegmentGroupList {
	return &pinfold.SegmentGroupList{Include: include, Groups: gs}
}

func sources(ids ...string) []pinfold.SegmentReference {
	var refs []pinfold.SegmentReference
	for _, id := range ids {
		refs = append(refs, pinfold.SegmentReference{ID: id})
	}
	return refs
}

// testSegmentWrites checks CreateSegment, UpdateSegment and DeleteSegment: versions and tags
// as stored, the checks of base segments, IMPORT segments' limits, and what a delete leaves.
func testSegmentWrites(t *testing.T, s Store) {
	mustCreateApp(t, s, "app")
	km := 25.0
	dims := &pinfold.SegmentDimensions{
		Attributes:  map[string]pinfold.AttributeDimension{"plan": {Values: []string{"gold"}}, "since": {AttributeType: "BETWEEN", Values: []string{"2025-01-01", "2025-12-31T23:59:59Z"}}},
		Metrics:     map[string]pinfold.MetricDimension{"visits": {ComparisonOperator: "GREATER_THAN", Value: 2.5}},
		Location:    &pinfold.SegmentLocation{GPSPoint: &pinfold.GPSPointDimension{Coordinates: pinfold.GPSCoordinates{Latitude: 59.9, Longitude: 10.7}, RangeInKilometers: &km}},
		Demographic: &pinfold.SegmentDemographics{Platform: &pinfold.SetDimension{DimensionType: "EXCLUSIVE", Values: []string{}}},
		Behavior:    &pinfold.SegmentBehaviors{Recency: &pinfold.RecencyDimension{Duration: "DAY_7", RecencyType: "ACTIVE"}},
	}
	gold := mustCreateSegment(t, s, "app", "gold", &pinfold.SegmentUpdate{Name: sp("gold"), Dimensions: dims, Tags: map[string]string{"team": "growth"}}, t0)
	if got := mustSegment(t, s, "app", "gold", 0); !reflect.DeepEqual(got, gold) {
		t.Fatalf("stored segment\n%+v\nwant\n%+v", got, gold)
	}
	seg, _ := pinfold.NewSegment("nope", "x", &pinfold.SegmentUpdate{}, t0)
	wantCode(t, s.CreateSegment(ctx, seg), pinfold.ENOTFOUND)

	// A version keeps what the update does not send; tags belong to the segment.
	v2, err := s.UpdateSegment(ctx, "app", "gold", &pinfold.SegmentUpdate{Name: sp("gold v2")}, t0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	want := *gold
	want.Version, want.Name, want.UpdatedAt = 2, "gold v2", t0.Add(time.Hour)
	if !reflect.DeepEqual(v2, &want) || !reflect.DeepEqual(mustSegment(t, s, "app", "gold", 0), &want) {
		t.Fatalf("version 2 = %+v\nwant %+v", v2, &want)
	}
	groupsOnly := groups("ANY", pinfold.SegmentGroup{Type: "NONE", Dimensions: []pinfold.SegmentDimensions{{Location: &pinfold.SegmentLocation{Country: &pinfold.SetDimension{Values: []string{"NO"}}}}}})
	v3, err := s.UpdateSegment(ctx, "app", "gold", &pinfold.SegmentUpdate{Groups: groupsOnly, Tags: map[string]string{}}, t0.Add(2*time.Hour))
	if err != nil || v3.Version != 3 || !reflect.DeepEqual(v3.Groups, groupsOnly) || v3.Dimensions == nil || len(v3.Tags) != 0 {
		t.Fatalf("version 3 = %+v, %v", v3, err)
	}
	if got := mustSegment(t, s, "app", "gold", 0); !reflect.DeepEqual(got, v3) {
		t.Fatalf("stored version 3\n%+v\nwant\n%+v", got, v3)
	}
	if v1 := mustSegment(t, s, "app", "gold", 1); v1.Name != "gold" || v1.Groups != nil || !reflect.DeepEqual(v1.Dimensions, dims) ||
		!v1.UpdatedAt.Equal(t0) || len(v1.Tags) != 0 || v1.Tags == nil {
		t.Fatalf("version 1 after the updates = %+v", v1)
	}
	versions, next, err := s.FindSegmentVersions(ctx, "app", "gold", pinfold.Page{Size: 2})
	if err != nil || len(versions) != 2 || versions[1].Version != 2 || next == "" {
		t.Fatalf("versions page 1 = %+v %q %v", versions, next, err)
	}
	_, err = s.UpdateSegment(ctx, "app", "nope", &pinfold.SegmentUpdate{Name: sp("x")}, t0)
	wantCode(t, err, pinfold.ENOTFOUND)
	_, err = s.UpdateSegment(ctx, "nope", "gold", &pinfold.SegmentUpdate{Name: sp("x")}, t0)
	wantCode(t, err, pinfold.ENOTFOUND)

	// Base segments must exist, may not go round in a circle, and an IMPORT one stands alone.
	mustCreateSegment(t, s, "app", "base", &pinfold.SegmentUpdate{Name: sp("base")}, t0)
	mustCreateSegment(t, s, "app", "derived", &pinfold.SegmentUpdate{Groups: groups("", pinfold.SegmentGroup{SourceSegments: sources("base")})}, t0)
	runImport(t, s, "j", "imp", "imported", []pinfold.Member{member("a", "EMAIL"), member("b", "SMS")}, t0)
	for _, tc := range []struct {
		name string
		id   string
		u    *pinfold.SegmentUpdate
	}{
		{"missing base", "new", &pinfold.SegmentUpdate{Groups: groups("", pinfold.SegmentGroup{SourceSegments: sources("missing")})}},
		{"missing version", "new", &pinfold.SegmentUpdate{Groups: groups("", pinfold.SegmentGroup{SourceSegments: []pinfold.SegmentReference{{ID: "base", Version: ip(2)}}})}},
		{"import among others", "new", &pinfold.SegmentUpdate{Groups: groups("", pinfold.SegmentGroup{SourceSegments: sources("imp", "base")})}},
		{"itself", "base", &pinfold.SegmentUpdate{Groups: groups("", pinfold.SegmentGroup{SourceSegments: sources("base")})}},
		{"circle", "base", &pinfold.SegmentUpdate{Groups: groups("", pinfold.SegmentGroup{SourceSegments: sources("derived")})}},
		{"dimensions of an import", "imp", &pinfold.SegmentUpdate{Dimensions: &pinfold.SegmentDimensions{}}},
	} {
		var err error
		if tc.id == "new" {
			seg, _ := pinfold.NewSegment("app", tc.id, tc.u, t0)
			err = s.CreateSegment(ctx, seg)
		} else {
			_, err = s.UpdateSegment(ctx, "app", tc.id, tc.u, t0)
		}
		if pinfold.ErrorCode(err) != pinfold.EINVALID {
			t.Fatalf("%s: %v, want EINVALID", tc.name, err)
		}
	}
	if _, err := s.FindSegment(ctx, "app", "new"); pinfold.ErrorCode(err) != pinfold.ENOTFOUND {
		t.Fatalf("a rejected segment was stored: %v", err)
	}
	if b := mustSegment(t, s, "app", "base", 0); b.Version != 1 {
		t.Fatalf("a rejected update was stored: %+v", b)
	}
	// An IMPORT segment may be renamed and retagged; its members carry over.
	imp, err := s.UpdateSegment(ctx, "app", "imp", &pinfold.SegmentUpdate{Name: sp("renamed"), Tags: map[string]string{"k": "v"}}, t0.Add(time.Hour))
	if err != nil || imp.Version != 2 || imp.Type != pinfold.SegmentTypeImport || imp.Import == nil || imp.Import.Size != 2 {
		t.Fatalf("renamed IMPORT segment = %+v, %v", imp, err)
	}
	if got := mustSegment(t, s, "app", "imp", 0); !reflect.DeepEqual(got, imp) {
		t.Fatalf("stored IMPORT version 2\n%+v\nwant\n%+v", got, imp)
	}
	if ids := allMembers(t, s, "app", "imp", 2, 0); !slices.Equal(ids, []string{"a", "b"}) {
		t.Fatalf("members of the renamed IMPORT segment: %v", ids)
	}

	// Renames of an IMPORT segment and imports into it at once each write a version of
	// their own, and the imports' members add up.
	var renames sync.WaitGroup
	defer renames.Wait() // also when the test stops early
	renames.Go(func() {
		for i := range 20 {
			if _, err := s.UpdateSegment(ctx, "app", "imp", &pinfold.SegmentUpdate{Name: sp(fmt.Sprint("imp ", i))}, t0); err != nil {
				t.Error(err)
			}
		}
	})
	for i := range 3 {
		runImport(t, s, fmt.Sprint("race-", i), "imp", "", []pinfold.Member{member(fmt.Sprint("r", i), "PUSH")}, t0)
	}
	renames.Wait()
	if versions, _, err := s.FindSegmentVersions(ctx, "app", "imp", pinfold.Page{Size: 100}); err != nil || len(versions) != 25 ||
		versions[24].Version != 25 || versions[24].Import.Size != 5 || versions[24].Import.ChannelCounts["PUSH"] != 3 {
		t.Fatalf("after renames and imports at once: %d versions, %v", len(versions), err)
	}

	// Writers of one segment at once each get a version of their own.
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			if _, err := s.UpdateSegment(ctx, "app", "base", &pinfold.SegmentUpdate{Name: sp(fmt.Sprint("base ", i))}, t0); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if versions, _, err := s.FindSegmentVersions(ctx, "app", "base", pinfold.Page{}); err != nil || len(versions) != 9 || versions[8].Version != 9 {
		t.Fatalf("after 8 concurrent updates: %d versions, %v", len(versions), err)
	}

	// A delete returns the latest version and takes every version and member with it; the
	// import jobs that wrote the segment stay.
	latest := mustSegment(t, s, "app", "gold", 0)
	deleted, err := s.DeleteSegment(ctx, "app", "gold")
	if err != nil || !reflect.DeepEqual(deleted, latest) {
		t.Fatalf("DeleteSegment = %+v, %v", deleted, err)
	}
	for _, err := range []error{
		func() error { _, err := s.FindSegment(ctx, "app", "gold"); return err }(),
		func() error { _, err := s.FindSegmentVersion(ctx, "app", "gold", 1); return err }(),
		func() error { _, _, err := s.FindSegmentVersions(ctx, "app", "gold", pinfold.Page{}); return err }(),
		func() error { _, _, err := s.FindSegmentMembers(ctx, "app", "gold", 0, pinfold.Page{}); return err }(),
		func() error { _, err := s.DeleteSegment(ctx, "app", "gold"); return err }(),
		func() error { _, err := s.DeleteSegment(ctx, "nope", "base"); return err }(),
	} {
		wantCode(t, err, pinfold.ENOTFOUND)
	}
	if _, err := s.DeleteSegment(ctx, "app", "imp"); err != nil {
		t.Fatal(err)
	}
	if jobs, _, err := s.FindImportJobs(ctx, "app", "imp", pinfold.Page{}); err != nil || len(jobs) != 4 || jobs[3].ID != "j" {
		t.Fatalf("jobs of the deleted segment = %+v, %v", jobs, err)
	}
	runImport(t, s, "j2", "imp", "again", []pinfold.Member{member("c", "EMAIL")}, t0)
	if seg := mustSegment(t, s, "app", "imp", 0); seg.Version != 1 || seg.Import.Size != 1 || len(allMembers(t, s, "app", "imp", 0, 0)) != 1 {
		t.Fatalf("a segment imported again after its delete: %+v %+v", seg, seg.Import)
	}
	segs, _, err := s.FindSegments(ctx, "app", pinfold.Page{})
	if err != nil || len(segs) != 3 || segs[0].ID != "base" || segs[1].ID != "derived" || segs[2].ID != "imp" {
		t.Fatalf("segments after the deletes = %+v, %v", segs, err)
	}
}

// genEndpoint returns the update that writes generated endpoint i: every field a dimension
// looks at, some of them absent, and attribute values that are dates in every form
// pinfold.ParseISO8601 reads, and text that only looks like one.
func genEndpoint(r *rand.Rand, i int, now time.Time) *pinfold.EndpointUpdate {
	pick := func(values ...string) string { return values[r.IntN(len(values))] }
	u := &pinfold.EndpointUpdate{ID: fmt.Sprintf("m-%04d", i), ChannelType: sp(pick("EMAIL", "SMS", "APNS", "GCM")),
		Address: sp(fmt.Sprintf("m%d@example.com", i)), UserID: sp(fmt.Sprintf("u-%d", i/10)),
		Demographic: pinfold.DemographicUpdate{Platform: sp(pick("ios", "android", "web", "")), Make: sp(pick("Apple", "Samsung", "Google", "")),
			Model: sp(pick("iPhone", "Pixel", "Galaxy")), AppVersion: sp(pick("1.0", "1.1", "2.0", ""))},
		Location: pinfold.LocationUpdate{Country: sp(pick("US", "NO", "SE", "DE", ""))}}
	attrs, userAttrs, metrics := map[string][]string{}, map[string][]string{}, map[string]float64{}
	for range r.IntN(3) {
		if v := pick("free", "silver", "gold", "platinum"); !slices.Contains(attrs["plan"], v) {
			attrs["plan"] = append(attrs["plan"], v)
		}
	}
	switch r.IntN(4) {
	case 0:
	case 1: // not dates, or not in a form ParseISO8601 reads, or on the edges of the criteria below
		attrs["signup"] = []string{pick("unknown", "", "42", "now", "12:30", "2025-02-30", "2025-13-01", "2025-03-10 12:00:00",
			"2025-03-10T12:00", " 2025-03-10", "2025-3-10", "2025-03-10T12:00:00+0200", "2025-03-10T24:00:00Z",
			"2025-06-01T00:00:00.000Z", "2025-10-15T12:00:00.000Z", "2025-02-01T00:00:00.000Z", "2025-04-30T23:59:59.999Z", "2025-06-01T00:00:00.0004Z")}
	case 2: // other forms and zones that are dates
		attrs["signup"] = []string{pick("2025-03-10", "2025-03-10T23:30:00-05:00", "2025-03-10T01:30:00+03:00", "2025-03-10T1:00:00Z",
			"2025-03-10T7:15Z", "2025-03-10T12:00:00,5Z", "2025-03-09T12:00:00-24:00", "2025-03-11T00:30:00+24:60", "2025-03-10T12:00:00.123456789",
			"2024-02-29", "2025-01-31T23:59:59.999999Z"), pick("x", "2025-11-01")}
	default:
		day := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, r.IntN(365)).Add(time.Duration(r.IntN(24)) * time.Hour)
		attrs["signup"] = []string{pinfold.FormatISO8601(day)}
	}
	if r.IntN(2) == 0 {
		attrs["tags"] = []string{pick("red-apple", "blue-berry", "green-apple"), pick("straw-berry", "kiwi", "Kiwi")}
	}
	if r.IntN(5) == 0 {
		attrs["it's a.$name"] = []string{pick("x", "y")}
	}
	if v := pick("vip", "regular", "banned", ""); v != "" {
		userAttrs["tier"] = []string{v}
	}
	if r.IntN(4) > 0 {
		metrics["visits"] = float64(r.IntN(21))
	}
	metrics["score"] = float64(r.IntN(10)) / 2
	u.Attributes, u.UserAttributes, u.Metrics = pinfold.AttributesOf(attrs), pinfold.AttributesOf(userAttrs), pinfold.MetricsOf(metrics)
	cities := [][2]float64{{59.91, 10.75}, {59.33, 18.07}, {40.71, -74.01}, {52.52, 13.40}}
	switch r.IntN(6) {
	case 0:
	case 1:
		lat := 59.91
		u.Location.Latitude = &lat // no longitude: matches no GPSPoint
	default:
		c := cities[r.IntN(len(cities))]
		lat, lon := c[0]+r.Float64()*4-2, c[1]+r.Float64()*4-2
		u.Location.Latitude, u.Location.Longitude = &lat, &lon
	}
	// Half a day off whole days, so that the stores' clocks running on changes nothing; in
	// other zones and with a one-digit hour too.
	effective := now.Add(-time.Duration(r.IntN(40))*24*time.Hour - 12*time.Hour)
	switch utc := effective.UTC(); {
	case r.IntN(4) == 0:
		u.EffectiveDate = sp(effective.In(time.FixedZone("", -5*3600)).Format("2006-01-02T15:04:05.000-07:00"))
	case utc.Hour() < 10 && r.IntN(2) == 0:
		u.EffectiveDate = sp(fmt.Sprintf("%sT%d:%02d:%02dZ", utc.Format(time.DateOnly), utc.Hour(), utc.Minute(), utc.Second()))
	default:
		u.EffectiveDate = sp(pinfold.FormatISO8601(effective))
	}
	return u
}

// testSegmentMembers checks the members of DIMENSIONAL segments over a few hundred generated
// endpoints against the reference filter: every kind of dimension, groups over IMPORT and
// DIMENSIONAL base segments, pinned base versions, deleted bases, and paging.
func testSegmentMembers(t *testing.T, s Store) {
	mustCreateApp(t, s, "app")
	now := time.Now().UTC()
	r := rand.New(rand.NewPCG(1, 2))
	var endpoints []*pinfold.Endpoint
	for i := 0; i < 400; i += 100 {
		var batch []*pinfold.EndpointUpdate
		for j := i; j < i+100; j++ {
			u := genEndpoint(r, j, now)
			e, err := pinfold.ApplyEndpointUpdate("app", nil, u, now)
			if err != nil {
				t.Fatal(err)
			}
			batch, endpoints = append(batch, u), append(endpoints, e)
		}
		MustWriteEndpoints(t, s, "app", now, batch...)
	}
	// An IMPORT segment of every third endpoint and IDs that are not endpoints.
	imported := map[string]bool{}
	var members []pinfold.Member
	for i, e := range endpoints {
		if i%3 == 0 {
			imported[e.ID] = true
			members = append(members, member(e.ID, e.ChannelType))
		}
	}
	for i := range 5 {
		members = append(members, member(fmt.Sprintf("x-%d", i), "EMAIL"))
	}
	runImport(t, s, "j", "third", "every third", members, now)
	ref := &reference{now: now, segments: map[string][]*pinfold.Segment{}, imported: map[string]map[string]bool{"third": imported}}

	attr := func(name, typ string, values ...string) *pinfold.SegmentDimensions {
		values = append([]string{}, values...) // present, though maybe empty
		return &pinfold.SegmentDimensions{Attributes: map[string]pinfold.AttributeDimension{name: {AttributeType: typ, Values: values}}}
	}
	metric := func(name, op string, v float64) *pinfold.SegmentDimensions {
		return &pinfold.SegmentDimensions{Metrics: map[string]pinfold.MetricDimension{name: {ComparisonOperator: op, Value: v}}}
	}
	set := func(typ string, values ...string) *pinfold.SetDimension {
		return &pinfold.SetDimension{DimensionType: typ, Values: values}
	}
	recency := func(d, typ string) *pinfold.SegmentDimensions {
		return &pinfold.SegmentDimensions{Behavior: &pinfold.SegmentBehaviors{Recency: &pinfold.RecencyDimension{Duration: d, RecencyType: typ}}}
	}
	km := func(v float64) *float64 { return &v }
	type segment struct {
		id string
		u  pinfold.SegmentUpdate
		// some selects some endpoints, not none or all; false for the few that may not
		some bool
	}
	segments := []segment{
		{"plan inclusive", pinfold.SegmentUpdate{Dimensions: attr("plan", "", "gold", "platinum")}, true},
		{"plan none", pinfold.SegmentUpdate{Dimensions: attr("plan", "INCLUSIVE")}, false},
		{"plan exclusive", pinfold.SegmentUpdate{Dimensions: attr("plan", "EXCLUSIVE", "free")}, true},
		{"plan exclusive none", pinfold.SegmentUpdate{Dimensions: attr("plan", "EXCLUSIVE")}, false},
		{"tags contains", pinfold.SegmentUpdate{Dimensions: attr("tags", "CONTAINS", "berry", "kiw")}, true},
		{"tags contains empty", pinfold.SegmentUpdate{Dimensions: attr("tags", "CONTAINS", "")}, true},
		{"signup before", pinfold.SegmentUpdate{Dimensions: attr("signup", "BEFORE", "2025-06-01")}, true},
		{"signup after", pinfold.SegmentUpdate{Dimensions: attr("signup", "AFTER", "2025-10-15T12:00:00Z")}, true},
		{"signup on", pinfold.SegmentUpdate{Dimensions: attr("signup", "ON", "2025-03-10T08:00:00+02:00")}, true},
		{"signup between", pinfold.SegmentUpdate{Dimensions: attr("signup", "BETWEEN", "2025-02-01", "2025-04-30T23:59:59.999Z")}, true},
		{"odd name", pinfold.SegmentUpdate{Dimensions: attr("it's a.$name", "", "x")}, true},
		{"vip and visits", pinfold.SegmentUpdate{Dimensions: &pinfold.SegmentDimensions{
			UserAttributes: map[string]pinfold.AttributeDimension{"tier": {AttributeType: "INCLUSIVE", Values: []string{"vip"}}},
			Metrics:        map[string]pinfold.MetricDimension{"visits": {ComparisonOperator: "GREATER_THAN", Value: 10}}}}, true},
		{"not banned", pinfold.SegmentUpdate{Dimensions: &pinfold.SegmentDimensions{UserAttributes: map[string]pinfold.AttributeDimension{"tier": {AttributeType: "EXCLUSIVE", Values: []string{"banned"}}}}}, true},
		{"demographic", pinfold.SegmentUpdate{Dimensions: &pinfold.SegmentDimensions{Demographic: &pinfold.SegmentDemographics{
			Platform: set("EXCLUSIVE", "android"), Channel: set("", "EMAIL", "APNS"), Make: set("INCLUSIVE", "Apple", "Google", ""),
			AppVersion: set("EXCLUSIVE", "1.0"), Model: set("", "iPhone", "Pixel"), DeviceType: set("EXCLUSIVE", "TABLET")}}}, true},
		{"device type", pinfold.SegmentUpdate{Dimensions: &pinfold.SegmentDimensions{Demographic: &pinfold.SegmentDemographics{DeviceType: set("", "PHONE")}}}, false},
		{"country", pinfold.SegmentUpdate{Dimensions: &pinfold.SegmentDimensions{Location: &pinfold.SegmentLocation{Country: set("", "NO", "SE")}}}, true},
		{"no country", pinfold.SegmentUpdate{Dimensions: &pinfold.SegmentDimensions{Location: &pinfold.SegmentLocation{Country: set("EXCLUSIVE", "US", "NO", "SE", "DE")}}}, true},
		{"near Oslo", pinfold.SegmentUpdate{Dimensions: &pinfold.SegmentDimensions{Location: &pinfold.SegmentLocation{GPSPoint: &pinfold.GPSPointDimension{
			Coordinates: pinfold.GPSCoordinates{Latitude: 59.91, Longitude: 10.75}, RangeInKilometers: km(120)}}}}, true},
		{"at a point", pinfold.SegmentUpdate{Dimensions: &pinfold.SegmentDimensions{Location: &pinfold.SegmentLocation{GPSPoint: &pinfold.GPSPointDimension{
			Coordinates: pinfold.GPSCoordinates{Latitude: 59.91, Longitude: 10.75}}}}}, false},
		{"score <=", pinfold.SegmentUpdate{Dimensions: metric("score", "LESS_THAN_OR_EQUAL", 2.5)}, true},
		{"score =", pinfold.SegmentUpdate{Dimensions: metric("score", "EQUAL", 1.5)}, true},
		{"score <", pinfold.SegmentUpdate{Dimensions: metric("score", "LESS_THAN", 1)}, true},
		{"score >=", pinfold.SegmentUpdate{Dimensions: metric("score", "GREATER_THAN_OR_EQUAL", 4)}, true},
		{"visits >", pinfold.SegmentUpdate{Dimensions: metric("visits", "GREATER_THAN", -1)}, true},
		{"active 7 days", pinfold.SegmentUpdate{Dimensions: recency("DAY_7", "ACTIVE")}, true},
		{"active 24 hours", pinfold.SegmentUpdate{Dimensions: recency("HR_24", "ACTIVE")}, true},
		{"inactive 30 days", pinfold.SegmentUpdate{Dimensions: recency("DAY_30", "INACTIVE")}, true},
		{"everyone", pinfold.SegmentUpdate{}, false},
		{"empty dimensions", pinfold.SegmentUpdate{Dimensions: &pinfold.SegmentDimensions{}, Groups: &pinfold.SegmentGroupList{Include: "NONE"}}, false},
		{"import base filtered", pinfold.SegmentUpdate{Groups: groups("", pinfold.SegmentGroup{SourceSegments: sources("third"),
			Dimensions: []pinfold.SegmentDimensions{*attr("plan", "", "gold"), *metric("score", "GREATER_THAN", 2)}})}, true},
		{"import base any, pinned", pinfold.SegmentUpdate{Groups: groups("", pinfold.SegmentGroup{Type: "ANY",
			SourceSegments: []pinfold.SegmentReference{{ID: "third", Version: ip(1)}},
			Dimensions:     []pinfold.SegmentDimensions{*attr("plan", "", "gold"), *metric("score", "GREATER_THAN", 2)}})}, true},
		{"two groups any", pinfold.SegmentUpdate{Groups: groups("ANY",
			pinfold.SegmentGroup{SourceSegments: sources("plan inclusive")},
			pinfold.SegmentGroup{Type: "NONE", Dimensions: []pinfold.SegmentDimensions{
				{Demographic: &pinfold.SegmentDemographics{Platform: set("", "ios")}}, *metric("score", "LESS_THAN", 3)}})}, true},
		{"sources all, none", pinfold.SegmentUpdate{Groups: groups("NONE",
			pinfold.SegmentGroup{SourceType: "ALL", SourceSegments: sources("plan inclusive", "vip and visits")},
			pinfold.SegmentGroup{SourceType: "NONE", SourceSegments: sources("country")})}, true},
		{"dimensions and groups", pinfold.SegmentUpdate{Dimensions: attr("tags", "CONTAINS", "apple"),
			Groups: groups("ALL", pinfold.SegmentGroup{SourceType: "ANY", SourceSegments: sources("plan inclusive", "country")})}, true},
		{"two levels", pinfold.SegmentUpdate{Groups: groups("", pinfold.SegmentGroup{SourceSegments: sources("two groups any"),
			Dimensions: []pinfold.SegmentDimensions{*recency("DAY_14", "ACTIVE")}})}, true},
		{"pinned", pinfold.SegmentUpdate{Groups: groups("", pinfold.SegmentGroup{SourceSegments: []pinfold.SegmentReference{{ID: "plan inclusive", Version: ip(1)}}})}, true},
		{"following", pinfold.SegmentUpdate{Groups: groups("", pinfold.SegmentGroup{SourceSegments: sources("plan inclusive")})}, true},
	}
	for _, sg := range segments {
		seg := mustCreateSegment(t, s, "app", sg.id, &sg.u, now)
		ref.segments[sg.id] = append(ref.segments[sg.id], seg)
	}
	check := func(when string) {
		t.Helper()
		for _, sg := range segments {
			if _, ok := ref.segments[sg.id]; !ok {
				continue
			}
			want := ref.members(endpoints, sg.id, 0)
			if got := allMembers(t, s, "app", sg.id, 0, 37); !slices.Equal(got, want) {
				t.Errorf("%s: segment %q: %d members, reference %d; %s", when, sg.id, len(got), len(want), firstDiff(got, want))
			}
			if when == "as created" && sg.some && (len(want) == 0 || len(want) == len(endpoints)) {
				t.Errorf("segment %q selects %d of %d endpoints; pick criteria that tell endpoints apart", sg.id, len(want), len(endpoints))
			}
		}
	}
	check("as created")

	// A base pinned to version 1 keeps version 1's members after the base changes; one that
	// follows the latest changes with it. Version 1 is still evaluated with its own criteria.
	silver, err := s.UpdateSegment(ctx, "app", "plan inclusive", &pinfold.SegmentUpdate{Dimensions: attr("plan", "", "silver")}, now)
	if err != nil {
		t.Fatal(err)
	}
	ref.segments["plan inclusive"] = append(ref.segments["plan inclusive"], silver)
	check("after the base changed")
	if got, want := allMembers(t, s, "app", "plan inclusive", 1, 0), ref.members(endpoints, "plan inclusive", 1); !slices.Equal(got, want) {
		t.Errorf("version 1: %d members, reference %d; %s", len(got), len(want), firstDiff(got, want))
	}
	_, _, err = s.FindSegmentMembers(ctx, "app", "plan inclusive", 3, pinfold.Page{})
	wantCode(t, err, pinfold.ENOTFOUND)
	_, _, err = s.FindSegmentMembers(ctx, "app", "plan inclusive", 0, pinfold.Page{Token: "garbage"})
	wantCode(t, err, pinfold.EINVALID)

	// A deleted base segment has no members.
	for _, id := range []string{"plan inclusive", "third"} {
		if _, err := s.DeleteSegment(ctx, "app", id); err != nil {
			t.Fatal(err)
		}
		delete(ref.segments, id)
	}
	ref.imported["third"] = map[string]bool{}
	check("after the bases were deleted")
	if ids := allMembers(t, s, "app", "following", 0, 0); len(ids) != 0 {
		t.Fatalf("a segment on a deleted base has %d members", len(ids))
	}
}

func firstDiff(got, want []string) string {
	for i := range max(len(got), len(want)) {
		switch {
		case i >= len(got):
			return "missing " + want[i]
		case i >= len(want):
			return "extra " + got[i]
		case got[i] != want[i]:
			return fmt.Sprintf("got %s where the reference has %s", got[i], want[i])
		}
	}
	return "none"
}
