package api_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/pinpoint"
	"github.com/aws/aws-sdk-go-v2/service/pinpoint/types"
	"github.com/pinfold/pinfold"
	"github.com/pinfold/pinfold/internal/testserver"
)

// genEndpoint is a generated endpoint as the test wrote it, for the reference filter.
type genEndpoint struct {
	id, channel                                string
	attrs, userAttrs                           map[string][]string
	metrics                                    map[string]float64
	platform, make, model, appVersion, country string
	lat, lon                                   *float64
	effective                                  time.Time
}

var cities = []struct{ lat, lon float64 }{{59.91, 10.75}, {59.33, 18.07}, {40.71, -74.01}, {52.52, 13.40}}

func pick[T any](r *rand.Rand, values ...T) T { return values[r.IntN(len(values))] }

// generate makes n endpoints with every field the dimensions look at, some fields absent.
func generate(n int, now time.Time) []*genEndpoint {
	r := rand.New(rand.NewPCG(1, 2))
	var eps []*genEndpoint
	for i := range n {
		e := &genEndpoint{id: fmt.Sprintf("m-%05d", i), channel: pick(r, "EMAIL", "SMS", "APNS", "GCM"),
			attrs: map[string][]string{}, userAttrs: map[string][]string{}, metrics: map[string]float64{},
			platform: pick(r, "ios", "android", "web", ""), make: pick(r, "Apple", "Samsung", "Google", ""),
			model: pick(r, "iPhone", "Pixel", "Galaxy"), appVersion: pick(r, "1.0", "1.1", "2.0", ""),
			country: pick(r, "US", "NO", "SE", "DE", ""),
			// Half a day off whole days, so that "now" moving during the test changes nothing.
			effective: now.Add(-time.Duration(r.IntN(60))*24*time.Hour - 12*time.Hour).Truncate(time.Millisecond)}
		for range r.IntN(3) {
			if v := pick(r, "free", "silver", "gold", "platinum"); !slices.Contains(e.attrs["plan"], v) {
				e.attrs["plan"] = append(e.attrs["plan"], v)
			}
		}
		switch r.IntN(7) {
		case 0:
		case 1:
			e.attrs["signup"] = []string{"unknown"}
		case 2: // on the edges of the date criteria below, and in other zones
			e.attrs["signup"] = []string{pick(r, "2025-06-01T00:00:00.000Z", "2025-10-15T12:00:00.000Z", "2025-02-01T00:00:00.000Z",
				"2025-04-30T23:59:59.999Z", "2025-03-10T23:30:00-05:00", "2025-03-10T01:30:00+03:00", "2025-03-10")}
		default:
			day := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, r.IntN(365)).Add(time.Duration(r.IntN(24)) * time.Hour)
			e.attrs["signup"] = []string{pinfold.FormatISO8601(day)}
		}
		if r.IntN(2) == 0 {
			e.attrs["tags"] = []string{pick(r, "red-apple", "blue-berry", "green-apple"), pick(r, "straw-berry", "kiwi")}
		}
		if v := pick(r, "vip", "regular", "banned", ""); v != "" {
			e.userAttrs["tier"] = []string{v}
		}
		if r.IntN(4) > 0 {
			e.metrics["visits"] = float64(r.IntN(21))
		}
		e.metrics["score"] = float64(r.IntN(10)) / 2
		if r.IntN(5) > 0 {
			c := pick(r, cities...)
			lat, lon := c.lat+r.Float64()*4-2, c.lon+r.Float64()*4-2
			e.lat, e.lon = &lat, &lon
		}
		eps = append(eps, e)
	}
	return eps
}

func (e *genEndpoint) batchItem() types.EndpointBatchItem {
	item := types.EndpointBatchItem{Id: aws.String(e.id), ChannelType: types.ChannelType(e.channel), Address: aws.String(e.id + "@example.com"),
		Attributes: e.attrs, Metrics: e.metrics, EffectiveDate: aws.String(pinfold.FormatISO8601(e.effective)),
		User:        &types.EndpointUser{UserId: aws.String("u-" + e.id[2:6]), UserAttributes: e.userAttrs},
		Demographic: &types.EndpointDemographic{Platform: aws.String(e.platform), Make: aws.String(e.make), Model: aws.String(e.model), AppVersion: aws.String(e.appVersion)},
		Location:    &types.EndpointLocation{Country: aws.String(e.country), Latitude: e.lat, Longitude: e.lon}}
	return item
}

// reference is the plain Go filter the store's SQL must agree with. It follows the semantics
// documented on pinfold.SegmentDimensions and pinfold.SegmentGroupList, over the SDK's types.
type reference struct {
	now      time.Time
	versions map[string][]types.WriteSegmentRequest // DIMENSIONAL segments, by ID, version 1 first
	imported map[string]map[string]bool             // IMPORT segments' member IDs
}

func (ref *reference) segment(e *genEndpoint, req types.WriteSegmentRequest) bool {
	if req.Dimensions != nil && !ref.dimensions(e, req.Dimensions) {
		return false
	}
	if l := req.SegmentGroups; l != nil {
		var groups []bool
		for _, g := range l.Groups {
			var sources, filters []bool
			for _, s := range g.SourceSegments {
				sources = append(sources, ref.source(e, s))
			}
			for i := range g.Dimensions {
				filters = append(filters, ref.dimensions(e, &g.Dimensions[i]))
			}
			groups = append(groups, combine(string(g.SourceType), "ANY", sources) && combine(string(g.Type), "ALL", filters))
		}
		return combine(string(l.Include), "ALL", groups)
	}
	return true
}

func (ref *reference) source(e *genEndpoint, s types.SegmentReference) bool {
	if members, ok := ref.imported[*s.Id]; ok {
		return members[e.id]
	}
	versions := ref.versions[*s.Id]
	v := len(versions)
	if s.Version != nil {
		v = int(*s.Version)
	}
	return ref.segment(e, versions[v-1])
}

func combine(op, def string, terms []bool) bool {
	if len(terms) == 0 {
		return true
	}
	if op == "" {
		op = def
	}
	switch op {
	case "ANY":
		return slices.Contains(terms, true)
	case "NONE":
		return !slices.Contains(terms, true)
	}
	return !slices.Contains(terms, false)
}

func (ref *reference) dimensions(e *genEndpoint, d *types.SegmentDimensions) bool {
	for name, a := range d.Attributes {
		if !matchAttribute(e.attrs[name], a) {
			return false
		}
	}
	for name, a := range d.UserAttributes {
		if !matchAttribute(e.userAttrs[name], a) {
			return false
		}
	}
	for name, m := range d.Metrics {
		v, ok := e.metrics[name]
		if !ok || !compare(v, *m.ComparisonOperator, *m.Value) {
			return false
		}
	}
	if dem := d.Demographic; dem != nil {
		for _, s := range []struct {
			set   *types.SetDimension
			value string
		}{{dem.AppVersion, e.appVersion}, {dem.Channel, e.channel}, {dem.DeviceType, ""}, {dem.Make, e.make}, {dem.Model, e.model}, {dem.Platform, e.platform}} {
			if s.set != nil && !matchSet(s.value, s.set) {
				return false
			}
		}
	}
	if l := d.Location; l != nil {
		if l.Country != nil && !matchSet(e.country, l.Country) {
			return false
		}
		if g := l.GPSPoint; g != nil {
			if e.lat == nil || e.lon == nil || distance(*g.Coordinates.Latitude, *g.Coordinates.Longitude, *e.lat, *e.lon) > aws.ToFloat64(g.RangeInKilometers) {
				return false
			}
		}
	}
	if b := d.Behavior; b != nil && b.Recency != nil {
		days := map[types.Duration]int{types.DurationHr24: 1, types.DurationDay7: 7, types.DurationDay14: 14, types.DurationDay30: 30}[b.Recency.Duration]
		active := !e.effective.Before(ref.now.AddDate(0, 0, -days))
		if active != (b.Recency.RecencyType == types.RecencyTypeActive) {
			return false
		}
	}
	return true
}

func matchAttribute(values []string, a types.AttributeDimension) bool {
	date := func(s string) (time.Time, bool) {
		t, err := pinfold.ParseISO8601(s)
		return t.UTC(), err == nil
	}
	any := func(pred func(string) bool) bool { return slices.ContainsFunc(values, pred) }
	switch a.AttributeType {
	case types.AttributeTypeExclusive:
		return !any(func(v string) bool { return slices.Contains(a.Values, v) })
	case types.AttributeTypeContains:
		return any(func(v string) bool {
			return slices.ContainsFunc(a.Values, func(want string) bool { return strings.Contains(v, want) })
		})
	case types.AttributeTypeBefore, types.AttributeTypeAfter, types.AttributeTypeOn, types.AttributeTypeBetween:
		t0, _ := date(a.Values[0])
		return any(func(v string) bool {
			t, ok := date(v)
			switch {
			case !ok:
				return false
			case a.AttributeType == types.AttributeTypeBefore:
				return t.Before(t0)
			case a.AttributeType == types.AttributeTypeAfter:
				return t.After(t0)
			case a.AttributeType == types.AttributeTypeOn:
				return t.Format(time.DateOnly) == t0.Format(time.DateOnly)
			}
			t1, _ := date(a.Values[1])
			return !t.Before(t0) && !t.After(t1)
		})
	}
	return any(func(v string) bool { return slices.Contains(a.Values, v) })
}

func matchSet(v string, s *types.SetDimension) bool {
	return slices.Contains(s.Values, v) != (s.DimensionType == types.DimensionTypeExclusive)
}

func compare(v float64, op string, to float64) bool {
	switch op {
	case "GREATER_THAN":
		return v > to
	case "LESS_THAN":
		return v < to
	case "GREATER_THAN_OR_EQUAL":
		return v >= to
	case "LESS_THAN_OR_EQUAL":
		return v <= to
	}
	return v == to
}

// distance is the haversine distance in kilometres.
func distance(lat1, lon1, lat2, lon2 float64) float64 {
	rad := func(d float64) float64 { return d * math.Pi / 180 }
	h := math.Pow(math.Sin(rad(lat2-lat1)/2), 2) + math.Cos(rad(lat1))*math.Cos(rad(lat2))*math.Pow(math.Sin(rad(lon2-lon1)/2), 2)
	return 2 * 6371.0088 * math.Asin(math.Min(1, math.Sqrt(h)))
}

// TestSegmentMembership checks DIMENSIONAL segments on a few thousand generated endpoints
// against the reference filter: every kind of dimension, groups over IMPORT and DIMENSIONAL
// base segments, pinned base versions, and paging.
func TestSegmentMembership(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t, testserver.Options{})
	c := s.Pinpoint
	app := *createApp(t, c, "membership").Id
	now := time.Now().UTC()
	eps := generate(3000, now)
	for i := 0; i < len(eps); i += 100 {
		var items []types.EndpointBatchItem
		for _, e := range eps[i : i+100] {
			items = append(items, e.batchItem())
		}
		batch(t, c, app, items...)
	}

	// An IMPORT segment of every third endpoint and some IDs that are not endpoints.
	var csv strings.Builder
	csv.WriteString("Id,ChannelType,Address\n")
	imported := map[string]bool{}
	for i, e := range eps {
		if i%3 == 0 {
			fmt.Fprintf(&csv, "%s,%s,%s@example.com\n", e.id, e.channel, e.id)
			imported[e.id] = true
		}
	}
	for i := range 20 {
		fmt.Fprintf(&csv, "x-%02d,EMAIL,x%d@example.com\n", i, i)
	}
	s.Put(t, "imports", "third.csv", []byte(csv.String()))
	job := runImport(t, s, app, types.ImportJobRequest{Format: types.FormatCsv, S3Url: aws.String("s3://imports/third.csv"),
		DefineSegment: aws.Bool(true), SegmentName: aws.String("every third")})
	importID := *job.Definition.SegmentId
	if ids := members(t, s, app, importID, 0); len(ids) != len(imported)+20 || ids[len(ids)-1] != "x-19" {
		t.Fatalf("IMPORT segment has %d members (last %q), want %d, registered or not", len(ids), ids[len(ids)-1], len(imported)+20)
	}

	ref := &reference{now: now, versions: map[string][]types.WriteSegmentRequest{}, imported: map[string]map[string]bool{importID: imported}}
	attr := func(typ types.AttributeType, values ...string) types.AttributeDimension {
		return types.AttributeDimension{AttributeType: typ, Values: values}
	}
	metric := func(op string, v float64) map[string]types.MetricDimension {
		return map[string]types.MetricDimension{"score": {ComparisonOperator: aws.String(op), Value: aws.Float64(v)}}
	}
	set := func(typ types.DimensionType, values ...string) *types.SetDimension {
		return &types.SetDimension{DimensionType: typ, Values: values}
	}
	type segment struct {
		name string
		req  types.WriteSegmentRequest
		id   string
	}
	segments := []*segment{
		{name: "plan inclusive", req: types.WriteSegmentRequest{Dimensions: &types.SegmentDimensions{Attributes: map[string]types.AttributeDimension{"plan": attr("", "gold", "platinum")}}}},
		{name: "plan exclusive", req: types.WriteSegmentRequest{Dimensions: &types.SegmentDimensions{Attributes: map[string]types.AttributeDimension{"plan": attr(types.AttributeTypeExclusive, "free")}}}},
		{name: "tags contains", req: types.WriteSegmentRequest{Dimensions: &types.SegmentDimensions{Attributes: map[string]types.AttributeDimension{"tags": attr(types.AttributeTypeContains, "berry", "kiw")}}}},
		{name: "signup before", req: types.WriteSegmentRequest{Dimensions: &types.SegmentDimensions{Attributes: map[string]types.AttributeDimension{"signup": attr(types.AttributeTypeBefore, "2025-06-01")}}}},
		{name: "signup after", req: types.WriteSegmentRequest{Dimensions: &types.SegmentDimensions{Attributes: map[string]types.AttributeDimension{"signup": attr(types.AttributeTypeAfter, "2025-10-15T12:00:00Z")}}}},
		{name: "signup on", req: types.WriteSegmentRequest{Dimensions: &types.SegmentDimensions{Attributes: map[string]types.AttributeDimension{"signup": attr(types.AttributeTypeOn, "2025-03-10T08:00:00+02:00")}}}},
		{name: "signup between", req: types.WriteSegmentRequest{Dimensions: &types.SegmentDimensions{Attributes: map[string]types.AttributeDimension{"signup": attr(types.AttributeTypeBetween, "2025-02-01", "2025-04-30T23:59:59.999Z")}}}},
		{name: "vip and visits", req: types.WriteSegmentRequest{Dimensions: &types.SegmentDimensions{
			UserAttributes: map[string]types.AttributeDimension{"tier": attr(types.AttributeTypeInclusive, "vip")},
			Metrics:        map[string]types.MetricDimension{"visits": {ComparisonOperator: aws.String("GREATER_THAN"), Value: aws.Float64(10)}}}}},
		{name: "not banned", req: types.WriteSegmentRequest{Dimensions: &types.SegmentDimensions{UserAttributes: map[string]types.AttributeDimension{"tier": attr(types.AttributeTypeExclusive, "banned")}}}},
		{name: "demographic", req: types.WriteSegmentRequest{Dimensions: &types.SegmentDimensions{Demographic: &types.SegmentDemographics{
			Platform: set(types.DimensionTypeExclusive, "android"), Channel: set("", "EMAIL", "APNS"), Make: set(types.DimensionTypeInclusive, "Apple", "Google"),
			AppVersion: set(types.DimensionTypeExclusive, "1.0"), Model: set("", "iPhone", "Pixel"), DeviceType: set(types.DimensionTypeExclusive, "TABLET")}}}},
		{name: "device type", req: types.WriteSegmentRequest{Dimensions: &types.SegmentDimensions{Demographic: &types.SegmentDemographics{DeviceType: set("", "PHONE")}}}},
		{name: "country", req: types.WriteSegmentRequest{Dimensions: &types.SegmentDimensions{Location: &types.SegmentLocation{Country: set("", "NO", "SE")}}}},
		{name: "no country", req: types.WriteSegmentRequest{Dimensions: &types.SegmentDimensions{Location: &types.SegmentLocation{Country: set(types.DimensionTypeExclusive, "US", "NO", "SE", "DE")}}}},
		{name: "near Oslo", req: types.WriteSegmentRequest{Dimensions: &types.SegmentDimensions{Location: &types.SegmentLocation{GPSPoint: &types.GPSPointDimension{
			Coordinates: &types.GPSCoordinates{Latitude: aws.Float64(59.91), Longitude: aws.Float64(10.75)}, RangeInKilometers: aws.Float64(120)}}}}},
		{name: "score <=", req: types.WriteSegmentRequest{Dimensions: &types.SegmentDimensions{Metrics: metric("LESS_THAN_OR_EQUAL", 2.5)}}},
		{name: "score =", req: types.WriteSegmentRequest{Dimensions: &types.SegmentDimensions{Metrics: metric("EQUAL", 1.5)}}},
		{name: "score <", req: types.WriteSegmentRequest{Dimensions: &types.SegmentDimensions{Metrics: metric("LESS_THAN", 1)}}},
		{name: "score >=", req: types.WriteSegmentRequest{Dimensions: &types.SegmentDimensions{Metrics: metric("GREATER_THAN_OR_EQUAL", 4)}}},
		{name: "active 7 days", req: types.WriteSegmentRequest{Dimensions: &types.SegmentDimensions{Behavior: &types.SegmentBehaviors{Recency: &types.RecencyDimension{Duration: types.DurationDay7, RecencyType: types.RecencyTypeActive}}}}},
		{name: "inactive 30 days", req: types.WriteSegmentRequest{Dimensions: &types.SegmentDimensions{Behavior: &types.SegmentBehaviors{Recency: &types.RecencyDimension{Duration: types.DurationDay30, RecencyType: types.RecencyTypeInactive}}}}},
		{name: "everyone", req: types.WriteSegmentRequest{Name: aws.String("everyone")}},
	}
	create := func(sg *segment) {
		if sg.req.Name == nil {
			sg.req.Name = aws.String(sg.name)
		}
		sg.id = *createSegment(t, c, app, sg.req).Id
		ref.versions[sg.id] = append(ref.versions[sg.id], sg.req)
	}
	for _, sg := range segments {
		create(sg)
	}
	gold, vip, country := segments[0].id, segments[7].id, segments[11].id
	grouped := []*segment{
		{name: "import base filtered", req: types.WriteSegmentRequest{SegmentGroups: &types.SegmentGroupList{Groups: []types.SegmentGroup{{
			SourceSegments: []types.SegmentReference{{Id: aws.String(importID)}},
			Dimensions:     []types.SegmentDimensions{{Location: &types.SegmentLocation{Country: set("", "US")}}, {Metrics: metric("GREATER_THAN", 2)}}}}}}},
		{name: "import base any", req: types.WriteSegmentRequest{SegmentGroups: &types.SegmentGroupList{Groups: []types.SegmentGroup{{
			SourceSegments: []types.SegmentReference{{Id: aws.String(importID), Version: aws.Int32(1)}}, Type: types.TypeAny,
			Dimensions: []types.SegmentDimensions{{Location: &types.SegmentLocation{Country: set("", "US")}}, {Metrics: metric("GREATER_THAN", 2)}}}}}}},
		{name: "two groups any", req: types.WriteSegmentRequest{SegmentGroups: &types.SegmentGroupList{Include: types.IncludeAny, Groups: []types.SegmentGroup{
			{SourceSegments: []types.SegmentReference{{Id: aws.String(gold)}}},
			{Type: types.TypeNone, Dimensions: []types.SegmentDimensions{{Demographic: &types.SegmentDemographics{Platform: set("", "ios")}}, {Metrics: metric("LESS_THAN", 3)}}}}}}},
		{name: "sources all, none", req: types.WriteSegmentRequest{SegmentGroups: &types.SegmentGroupList{Include: types.IncludeNone, Groups: []types.SegmentGroup{
			{SourceType: types.SourceTypeAll, SourceSegments: []types.SegmentReference{{Id: aws.String(gold)}, {Id: aws.String(vip)}}},
			{SourceType: types.SourceTypeNone, SourceSegments: []types.SegmentReference{{Id: aws.String(country)}}}}}}},
		{name: "dimensions and groups", req: types.WriteSegmentRequest{
			Dimensions: &types.SegmentDimensions{Attributes: map[string]types.AttributeDimension{"tags": attr(types.AttributeTypeContains, "apple")}},
			SegmentGroups: &types.SegmentGroupList{Include: types.IncludeAll, Groups: []types.SegmentGroup{
				{SourceType: types.SourceTypeAny, SourceSegments: []types.SegmentReference{{Id: aws.String(gold)}, {Id: aws.String(country)}}}}}}},
	}
	for _, sg := range grouped {
		create(sg)
	}

	// A base segment pinned to version 1 keeps version 1's members after the base changes;
	// one that follows the latest changes with it.
	pinned := &segment{name: "pinned", req: types.WriteSegmentRequest{SegmentGroups: &types.SegmentGroupList{Groups: []types.SegmentGroup{
		{SourceSegments: []types.SegmentReference{{Id: aws.String(gold), Version: aws.Int32(1)}}}}}}}
	following := &segment{name: "following", req: types.WriteSegmentRequest{SegmentGroups: &types.SegmentGroupList{Groups: []types.SegmentGroup{
		{SourceSegments: []types.SegmentReference{{Id: aws.String(gold)}}}}}}}
	create(pinned)
	create(following)
	silver := types.WriteSegmentRequest{Dimensions: &types.SegmentDimensions{Attributes: map[string]types.AttributeDimension{"plan": attr("", "silver")}}}
	updateSegment(t, c, app, gold, silver)
	ref.versions[gold] = append(ref.versions[gold], types.WriteSegmentRequest{Name: segments[0].req.Name, Dimensions: silver.Dimensions})

	for _, sg := range slices.Concat(segments, grouped, []*segment{pinned, following}) {
		var want []string
		for _, e := range eps {
			if ref.segment(e, ref.versions[sg.id][len(ref.versions[sg.id])-1]) {
				want = append(want, e.id)
			}
		}
		got := members(t, s, app, sg.id, 0)
		if !slices.Equal(got, want) {
			t.Errorf("segment %q: %d members, reference %d; first difference: %s", sg.name, len(got), len(want), firstDiff(got, want))
		}
		// Pinfold's endpoints have no device type: an INCLUSIVE DeviceType matches nothing.
		if len(want) == 0 && sg.name != "device type" || len(want) == len(eps) && sg.name != "everyone" {
			t.Errorf("segment %q selects %d of %d endpoints; pick criteria that tell endpoints apart", sg.name, len(want), len(eps))
		}
	}

	// An older version is evaluated with its own criteria, through the store's method that
	// export jobs use.
	var want []string
	for _, e := range eps {
		if ref.segment(e, ref.versions[gold][0]) {
			want = append(want, e.id)
		}
	}
	var got []string
	page := pinfold.Page{Size: 1000}
	for {
		ids, next, err := s.DB.FindSegmentMembers(ctx, app, gold, 1, page)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, ids...)
		if page.Token = next; next == "" {
			break
		}
	}
	if !slices.Equal(got, want) {
		t.Fatalf("version 1: %d members, reference %d; %s", len(got), len(want), firstDiff(got, want))
	}

	// Deleting a base segment leaves the segments built on it with no members from it.
	if _, err := c.DeleteSegment(ctx, &pinpoint.DeleteSegmentInput{ApplicationId: aws.String(app), SegmentId: aws.String(gold)}); err != nil {
		t.Fatal(err)
	}
	if ids := members(t, s, app, following.id, 0); len(ids) != 0 {
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
