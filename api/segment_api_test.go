package api_test

import (
	"encoding/json"
	"fmt"
	"reflect"
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

func createSegment(t *testing.T, c *pinpoint.Client, app string, req types.WriteSegmentRequest) *types.SegmentResponse {
	t.Helper()
	out, err := c.CreateSegment(ctx, &pinpoint.CreateSegmentInput{ApplicationId: aws.String(app), WriteSegmentRequest: &req})
	if err != nil {
		t.Fatalf("CreateSegment: %v", err)
	}
	return out.SegmentResponse
}

func updateSegment(t *testing.T, c *pinpoint.Client, app, id string, req types.WriteSegmentRequest) *types.SegmentResponse {
	t.Helper()
	out, err := c.UpdateSegment(ctx, &pinpoint.UpdateSegmentInput{ApplicationId: aws.String(app), SegmentId: aws.String(id), WriteSegmentRequest: &req})
	if err != nil {
		t.Fatalf("UpdateSegment: %v", err)
	}
	return out.SegmentResponse
}

// everyDimension uses every member of SegmentDimensions, so that a round trip shows each.
func everyDimension() *types.SegmentDimensions {
	return &types.SegmentDimensions{
		Attributes: map[string]types.AttributeDimension{
			"plan":   {AttributeType: types.AttributeTypeInclusive, Values: []string{"gold", "silver"}},
			"signup": {AttributeType: types.AttributeTypeBetween, Values: []string{"2026-01-01T00:00:00.000Z", "2026-06-30"}},
			"bare":   {Values: []string{}},
		},
		UserAttributes: map[string]types.AttributeDimension{"tier": {AttributeType: types.AttributeTypeExclusive, Values: []string{"banned"}}},
		Metrics:        map[string]types.MetricDimension{"visits": {ComparisonOperator: aws.String("GREATER_THAN_OR_EQUAL"), Value: aws.Float64(2.5)}},
		Behavior:       &types.SegmentBehaviors{Recency: &types.RecencyDimension{Duration: types.DurationDay30, RecencyType: types.RecencyTypeActive}},
		Demographic: &types.SegmentDemographics{
			AppVersion: &types.SetDimension{Values: []string{"1.0"}},
			Channel:    &types.SetDimension{DimensionType: types.DimensionTypeInclusive, Values: []string{"EMAIL", "SMS"}},
			DeviceType: &types.SetDimension{DimensionType: types.DimensionTypeExclusive, Values: []string{"TABLET"}},
			Make:       &types.SetDimension{Values: []string{"Apple"}},
			Model:      &types.SetDimension{Values: []string{"iPhone"}},
			Platform:   &types.SetDimension{DimensionType: types.DimensionTypeExclusive, Values: []string{"android"}},
		},
		Location: &types.SegmentLocation{
			Country:  &types.SetDimension{Values: []string{"NO", "SE"}},
			GPSPoint: &types.GPSPointDimension{Coordinates: &types.GPSCoordinates{Latitude: aws.Float64(59.91), Longitude: aws.Float64(10.75)}, RangeInKilometers: aws.Float64(50)},
		},
	}
}

// same reports whether two SDK values are equal, comparing them as JSON.
func same(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}

func TestSegmentLifecycle(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t, testserver.Options{})
	c := s.Pinpoint
	app := *createApp(t, c, "segments").Id
	base := createSegment(t, c, app, types.WriteSegmentRequest{Name: aws.String("base")})
	groups := &types.SegmentGroupList{Include: types.IncludeAny, Groups: []types.SegmentGroup{
		{Type: types.TypeAll, SourceType: types.SourceTypeAny, SourceSegments: []types.SegmentReference{{Id: base.Id, Version: aws.Int32(1)}},
			Dimensions: []types.SegmentDimensions{{Location: &types.SegmentLocation{Country: &types.SetDimension{Values: []string{"US"}}}}}},
		{Type: types.TypeNone, Dimensions: []types.SegmentDimensions{{Metrics: map[string]types.MetricDimension{"m": {ComparisonOperator: aws.String("EQUAL"), Value: aws.Float64(0)}}}}},
	}}
	before := time.Now().UTC().Truncate(time.Millisecond)
	seg := createSegment(t, c, app, types.WriteSegmentRequest{Name: aws.String("vips"), Dimensions: everyDimension(), SegmentGroups: groups,
		Tags: map[string]string{"team": "growth"}})
	created, err := time.Parse(pinfold.ISO8601, *seg.CreationDate)
	if err != nil || created.Before(before) || *seg.LastModifiedDate != *seg.CreationDate {
		t.Fatalf("dates %q %q", *seg.CreationDate, *seg.LastModifiedDate)
	}
	if seg.SegmentType != types.SegmentTypeDimensional || *seg.Version != 1 || *seg.Name != "vips" || *seg.ApplicationId != app ||
		len(*seg.Id) != 32 || *seg.Arn != "arn:aws:mobiletargeting:us-east-1:123456789012:apps/"+app+"/segments/"+*seg.Id ||
		seg.Tags["team"] != "growth" || seg.ImportDefinition != nil {
		t.Fatalf("CreateSegment = %+v", seg)
	}
	if !same(seg.Dimensions, everyDimension()) || !same(seg.SegmentGroups, groups) {
		d, _ := json.Marshal(seg.Dimensions)
		g, _ := json.Marshal(seg.SegmentGroups)
		t.Fatalf("not returned as sent:\n%s\n%s", d, g)
	}
	got, err := c.GetSegment(ctx, &pinpoint.GetSegmentInput{ApplicationId: aws.String(app), SegmentId: seg.Id})
	if err != nil || !reflect.DeepEqual(got.SegmentResponse, seg) {
		t.Fatalf("GetSegment = %+v, %v; want %+v", got, err, seg)
	}

	// Each update is a new version; what it does not send stays.
	v2 := updateSegment(t, c, app, *seg.Id, types.WriteSegmentRequest{Name: aws.String("vips v2")})
	if *v2.Version != 2 || *v2.Name != "vips v2" || !same(v2.Dimensions, everyDimension()) || !same(v2.SegmentGroups, groups) ||
		*v2.CreationDate != *seg.CreationDate || v2.Tags["team"] != "growth" {
		t.Fatalf("UpdateSegment (Name) = %+v", v2)
	}
	dims := &types.SegmentDimensions{Attributes: map[string]types.AttributeDimension{"plan": {Values: []string{"free"}}}}
	v3 := updateSegment(t, c, app, *seg.Id, types.WriteSegmentRequest{Dimensions: dims, Tags: map[string]string{}})
	if *v3.Version != 3 || *v3.Name != "vips v2" || !same(v3.Dimensions, dims) || !same(v3.SegmentGroups, groups) || len(v3.Tags) != 0 {
		t.Fatalf("UpdateSegment (Dimensions) = %+v", v3)
	}
	for v, want := range map[string]*types.SegmentResponse{"1": seg, "2": v2, "3": v3} {
		out, err := c.GetSegmentVersion(ctx, &pinpoint.GetSegmentVersionInput{ApplicationId: aws.String(app), SegmentId: seg.Id, Version: aws.String(v)})
		if err != nil || *out.SegmentResponse.Version != *want.Version || *out.SegmentResponse.Name != *want.Name || !same(out.SegmentResponse.Dimensions, want.Dimensions) {
			t.Fatalf("GetSegmentVersion %s = %+v, %v", v, out, err)
		}
	}
	_, err = c.GetSegmentVersion(ctx, &pinpoint.GetSegmentVersionInput{ApplicationId: aws.String(app), SegmentId: seg.Id, Version: aws.String("4")})
	wantAPIError[*types.NotFoundException](t, err, "Version 4 of segment")

	// Versions page by page, oldest first.
	var versions []int32
	var token *string
	for {
		out, err := c.GetSegmentVersions(ctx, &pinpoint.GetSegmentVersionsInput{ApplicationId: aws.String(app), SegmentId: seg.Id, PageSize: aws.String("2"), Token: token})
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range out.SegmentsResponse.Item {
			versions = append(versions, *v.Version)
		}
		if token = out.SegmentsResponse.NextToken; token == nil {
			break
		}
	}
	if !slices.Equal(versions, []int32{1, 2, 3}) {
		t.Fatalf("GetSegmentVersions = %v", versions)
	}

	// Segments page by page, each at its latest version.
	var ids []string
	for i := range 3 {
		ids = append(ids, *createSegment(t, c, app, types.WriteSegmentRequest{Name: aws.String(fmt.Sprint("more-", i))}).Id)
	}
	var listed []string
	token = nil
	pages := 0
	for {
		out, err := c.GetSegments(ctx, &pinpoint.GetSegmentsInput{ApplicationId: aws.String(app), PageSize: aws.String("2"), Token: token})
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, sg := range out.SegmentsResponse.Item {
			listed = append(listed, *sg.Id)
			if *sg.Id == *seg.Id && *sg.Version != 3 {
				t.Fatalf("GetSegments lists version %d, want the latest", *sg.Version)
			}
		}
		if token = out.SegmentsResponse.NextToken; token == nil {
			break
		}
	}
	if want := append([]string{*base.Id, *seg.Id}, ids...); pages != 3 || !slices.Equal(listed, want) {
		t.Fatalf("GetSegments = %v in %d pages, want %v in 3", listed, pages, want)
	}

	// Delete returns the segment; then it is gone, and its versions with it.
	deleted, err := c.DeleteSegment(ctx, &pinpoint.DeleteSegmentInput{ApplicationId: aws.String(app), SegmentId: seg.Id})
	if err != nil || *deleted.SegmentResponse.Id != *seg.Id || *deleted.SegmentResponse.Version != 3 {
		t.Fatalf("DeleteSegment = %+v, %v", deleted, err)
	}
	_, err = c.GetSegment(ctx, &pinpoint.GetSegmentInput{ApplicationId: aws.String(app), SegmentId: seg.Id})
	wantAPIError[*types.NotFoundException](t, err, "Segment")
	_, err = c.GetSegmentVersions(ctx, &pinpoint.GetSegmentVersionsInput{ApplicationId: aws.String(app), SegmentId: seg.Id})
	wantAPIError[*types.NotFoundException](t, err, "Segment")
	_, err = c.DeleteSegment(ctx, &pinpoint.DeleteSegmentInput{ApplicationId: aws.String(app), SegmentId: seg.Id})
	wantAPIError[*types.NotFoundException](t, err, "Segment")
	_, err = c.UpdateSegment(ctx, &pinpoint.UpdateSegmentInput{ApplicationId: aws.String(app), SegmentId: seg.Id, WriteSegmentRequest: &types.WriteSegmentRequest{}})
	wantAPIError[*types.NotFoundException](t, err, "Segment")
	_, err = c.CreateSegment(ctx, &pinpoint.CreateSegmentInput{ApplicationId: aws.String("0123456789abcdef0123456789abcdef"), WriteSegmentRequest: &types.WriteSegmentRequest{}})
	wantAPIError[*types.NotFoundException](t, err, "Application")

	// The modeled status codes on the wire.
	resp, body := signedRequest(t, s.URL, "POST", "/v1/apps/"+app+"/segments", `{"Name":"wire","tags":{"a":"b"}}`)
	if resp.StatusCode != 201 || !strings.Contains(string(body), `"SegmentType":"DIMENSIONAL"`) || !strings.Contains(string(body), `"tags":{"a":"b"}`) {
		t.Fatalf("CreateSegment: %d %s", resp.StatusCode, body)
	}
	var wire struct{ Id string }
	json.Unmarshal(body, &wire)
	for _, method := range []string{"PUT", "DELETE"} {
		if resp, body := signedRequest(t, s.URL, method, "/v1/apps/"+app+"/segments/"+wire.Id, map[string]string{"PUT": "{}"}[method]); resp.StatusCode != 200 {
			t.Fatalf("%s segment: %d %s", method, resp.StatusCode, body)
		}
	}
}

func TestSegmentValidation(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t, testserver.Options{})
	c := s.Pinpoint
	app := *createApp(t, c, "validation").Id
	dim := func(d types.SegmentDimensions) types.WriteSegmentRequest {
		return types.WriteSegmentRequest{Dimensions: &d}
	}
	group := func(g types.SegmentGroup) types.WriteSegmentRequest {
		return types.WriteSegmentRequest{SegmentGroups: &types.SegmentGroupList{Groups: []types.SegmentGroup{g}}}
	}
	other := createSegment(t, c, app, types.WriteSegmentRequest{Name: aws.String("other")})
	third := createSegment(t, c, app, types.WriteSegmentRequest{Name: aws.String("third")})
	many := map[string]types.AttributeDimension{}
	for i := range 101 {
		many[fmt.Sprint("a", i)] = types.AttributeDimension{Values: []string{"x"}}
	}
	for _, tc := range []struct {
		name string
		req  types.WriteSegmentRequest
		msg  string
	}{
		{"AttributeType", dim(types.SegmentDimensions{Attributes: map[string]types.AttributeDimension{"a": {AttributeType: "LIKE", Values: []string{"x"}}}}),
			`Dimensions.Attributes.a.AttributeType must be one of INCLUSIVE, EXCLUSIVE, CONTAINS, BEFORE, AFTER, ON, BETWEEN, got "LIKE"`},
		{"date value", dim(types.SegmentDimensions{UserAttributes: map[string]types.AttributeDimension{"d": {AttributeType: types.AttributeTypeBefore, Values: []string{"soon"}}}}),
			`Dimensions.UserAttributes.d.Values must be ISO-8601 dates for AttributeType BEFORE, got "soon"`},
		{"BETWEEN", dim(types.SegmentDimensions{Attributes: map[string]types.AttributeDimension{"d": {AttributeType: types.AttributeTypeBetween, Values: []string{"2026-01-01"}}}}),
			`Dimensions.Attributes.d.Values must hold 2 ISO-8601 date(s) for AttributeType BETWEEN, got 1 value(s)`},
		{"DimensionType", dim(types.SegmentDimensions{Demographic: &types.SegmentDemographics{Platform: &types.SetDimension{DimensionType: "MAYBE", Values: []string{"x"}}}}),
			`Dimensions.Demographic.Platform.DimensionType must be one of INCLUSIVE, EXCLUSIVE, got "MAYBE"`},
		{"Country", dim(types.SegmentDimensions{Location: &types.SegmentLocation{Country: &types.SetDimension{DimensionType: "ALL", Values: []string{"x"}}}}),
			`Dimensions.Location.Country.DimensionType must be one of`},
		{"Duration", dim(types.SegmentDimensions{Behavior: &types.SegmentBehaviors{Recency: &types.RecencyDimension{Duration: "DAY_1", RecencyType: types.RecencyTypeActive}}}),
			`Dimensions.Behavior.Recency.Duration must be one of HR_24, DAY_7, DAY_14, DAY_30, got "DAY_1"`},
		{"RecencyType", dim(types.SegmentDimensions{Behavior: &types.SegmentBehaviors{Recency: &types.RecencyDimension{Duration: types.DurationDay7, RecencyType: "SLEEPING"}}}),
			`Dimensions.Behavior.Recency.RecencyType must be one of ACTIVE, INACTIVE`},
		{"ComparisonOperator", dim(types.SegmentDimensions{Metrics: map[string]types.MetricDimension{"m": {ComparisonOperator: aws.String("ABOUT"), Value: aws.Float64(1)}}}),
			`Dimensions.Metrics.m.ComparisonOperator must be one of GREATER_THAN, LESS_THAN, GREATER_THAN_OR_EQUAL, LESS_THAN_OR_EQUAL, EQUAL, got "ABOUT"`},
		{"GPSPoint", dim(types.SegmentDimensions{Location: &types.SegmentLocation{GPSPoint: &types.GPSPointDimension{Coordinates: &types.GPSCoordinates{Latitude: aws.Float64(95), Longitude: aws.Float64(0)}}}}),
			`Dimensions.Location.GPSPoint.Coordinates must have a Latitude from -90 to 90`},
		{"Include", types.WriteSegmentRequest{SegmentGroups: &types.SegmentGroupList{Include: "SOME"}}, `SegmentGroups.Include must be one of ALL, ANY, NONE, got "SOME"`},
		{"Type", group(types.SegmentGroup{Type: "BOTH"}), `SegmentGroups.Groups[0].Type must be one of ALL, ANY, NONE, got "BOTH"`},
		{"SourceType", group(types.SegmentGroup{SourceType: "EVERY"}), `SegmentGroups.Groups[0].SourceType must be one of ALL, ANY, NONE, got "EVERY"`},
		{"group dimension", group(types.SegmentGroup{Dimensions: []types.SegmentDimensions{{}, {Attributes: map[string]types.AttributeDimension{"a": {AttributeType: "X", Values: []string{}}}}}}),
			`SegmentGroups.Groups[0].Dimensions[1].Attributes.a.AttributeType must be one of`},
		{"unknown source", group(types.SegmentGroup{SourceSegments: []types.SegmentReference{{Id: aws.String("nope")}}}),
			`SegmentGroups.Groups[0].SourceSegments[0]: segment "nope" does not exist in the application`},
		{"unknown version", group(types.SegmentGroup{SourceSegments: []types.SegmentReference{{Id: third.Id, Version: aws.Int32(9)}}}),
			`SegmentGroups.Groups[0].SourceSegments[0]: version 9 of segment`},
		{"source version", group(types.SegmentGroup{SourceSegments: []types.SegmentReference{{Id: third.Id, Version: aws.Int32(0)}}}),
			`SegmentGroups.Groups[0].SourceSegments[0].Version must be a whole number from 1, got 0`},
		{"too many", dim(types.SegmentDimensions{Attributes: many}), "the segment has 101 dimensions; a segment may have at most 100"},
		{"Name", types.WriteSegmentRequest{Name: aws.String(strings.Repeat("n", 65))}, "Name must be valid UTF-8 of at most 64 characters"},
		{"tags", types.WriteSegmentRequest{Tags: map[string]string{"": "x"}}, "keys must be 1 to 128 characters"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.CreateSegment(ctx, &pinpoint.CreateSegmentInput{ApplicationId: aws.String(app), WriteSegmentRequest: &tc.req})
			wantAPIError[*types.BadRequestException](t, err, tc.msg)
			_, err = c.UpdateSegment(ctx, &pinpoint.UpdateSegmentInput{ApplicationId: aws.String(app), SegmentId: other.Id, WriteSegmentRequest: &tc.req})
			wantAPIError[*types.BadRequestException](t, err, tc.msg)
		})
	}

	// Required members the SDK would not let out.
	for _, tc := range []struct{ body, msg string }{
		{`{"Dimensions":{"Attributes":{"a":{"AttributeType":"INCLUSIVE"}}}}`, "Dimensions.Attributes.a.Values is required"},
		{`{"Dimensions":{"Demographic":{"Make":{}}}}`, "Dimensions.Demographic.Make.Values is required"},
		{`{"Dimensions":{"Metrics":{"m":{"ComparisonOperator":"EQUAL"}}}}`, "Dimensions.Metrics.m.Value is required"},
		{`{"Dimensions":{"Metrics":{"m":{"Value":1}}}}`, "Dimensions.Metrics.m.ComparisonOperator is required"},
		{`{"Dimensions":{"Behavior":{"Recency":{"Duration":"DAY_7"}}}}`, "Dimensions.Behavior.Recency.RecencyType is required"},
		{`{"Dimensions":{"Location":{"GPSPoint":{"RangeInKilometers":5}}}}`, "Dimensions.Location.GPSPoint.Coordinates is required"},
		{`{"SegmentGroups":{"Groups":[{"SourceSegments":[{"Version":1}]}]}}`, "SegmentGroups.Groups[0].SourceSegments[0].Id is required"},
		{`{"Dimensions":{"Metrics":{"m":{"ComparisonOperator":"EQUAL","Value":"1"}}}}`, "Dimensions.Metrics.m.Value must be a number, got a JSON string"},
		{`{"SegmentGroups":{"Groups":[{"SourceSegments":[{"Id":"x","Version":1.5}]}]}}`, "must be an integer"},
	} {
		resp, body := signedRequest(t, s.URL, "POST", "/v1/apps/"+app+"/segments", tc.body)
		wantErrorResponse(t, resp, body, 400, "BadRequestException", tc.msg)
	}

	// Base segments: not itself, not in a circle, one IMPORT segment alone.
	self := group(types.SegmentGroup{SourceSegments: []types.SegmentReference{{Id: other.Id}}})
	_, err := c.UpdateSegment(ctx, &pinpoint.UpdateSegmentInput{ApplicationId: aws.String(app), SegmentId: other.Id, WriteSegmentRequest: &self})
	wantAPIError[*types.BadRequestException](t, err, "names the segment itself")
	child := createSegment(t, c, app, self)
	back := group(types.SegmentGroup{SourceSegments: []types.SegmentReference{{Id: child.Id}}})
	_, err = c.UpdateSegment(ctx, &pinpoint.UpdateSegmentInput{ApplicationId: aws.String(app), SegmentId: other.Id, WriteSegmentRequest: &back})
	wantAPIError[*types.BadRequestException](t, err, "base segments cannot go round in a circle")
}

func TestUpdateImportSegment(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t, testserver.Options{})
	c := s.Pinpoint
	app := *createApp(t, c, "imported").Id
	s.Put(t, "imports", "e.csv", []byte("Id,ChannelType,Address\ni1,EMAIL,i1@example.com\ni2,SMS,+1002\n"))
	job := runImport(t, s, app, types.ImportJobRequest{Format: types.FormatCsv, S3Url: aws.String("s3://imports/e.csv"),
		RegisterEndpoints: aws.Bool(true), DefineSegment: aws.Bool(true), SegmentName: aws.String("file")})
	segID := job.Definition.SegmentId

	v2 := updateSegment(t, c, app, *segID, types.WriteSegmentRequest{Name: aws.String("renamed"), Tags: map[string]string{"src": "csv"}})
	if v2.SegmentType != types.SegmentTypeImport || *v2.Version != 2 || *v2.Name != "renamed" || v2.Tags["src"] != "csv" ||
		*v2.ImportDefinition.Size != 2 || *v2.ImportDefinition.S3Url != "s3://imports/e.csv" || v2.Dimensions != nil {
		t.Fatalf("UpdateSegment of an IMPORT segment = %+v %+v", v2, v2.ImportDefinition)
	}
	if ids := members(t, s, app, *segID, 2); !slices.Equal(ids, []string{"i1", "i2"}) {
		t.Fatalf("members of version 2 = %v", ids)
	}
	_, err := c.UpdateSegment(ctx, &pinpoint.UpdateSegmentInput{ApplicationId: aws.String(app), SegmentId: segID,
		WriteSegmentRequest: &types.WriteSegmentRequest{Dimensions: &types.SegmentDimensions{}}})
	wantAPIError[*types.BadRequestException](t, err, "is an IMPORT segment: its endpoints come from its import jobs, so UpdateSegment may change only its Name and tags")

	// An IMPORT segment is a group's only base.
	dimensional := createSegment(t, c, app, types.WriteSegmentRequest{Name: aws.String("d")})
	_, err = c.CreateSegment(ctx, &pinpoint.CreateSegmentInput{ApplicationId: aws.String(app), WriteSegmentRequest: &types.WriteSegmentRequest{
		SegmentGroups: &types.SegmentGroupList{Groups: []types.SegmentGroup{{SourceSegments: []types.SegmentReference{{Id: segID}, {Id: dimensional.Id}}}}}}})
	wantAPIError[*types.BadRequestException](t, err, "names an IMPORT segment among 2 segments; a group's base may be several DIMENSIONAL segments or exactly one IMPORT segment")
	on := createSegment(t, c, app, types.WriteSegmentRequest{SegmentGroups: &types.SegmentGroupList{Groups: []types.SegmentGroup{{SourceSegments: []types.SegmentReference{{Id: segID}}}}}})
	if ids := members(t, s, app, *on.Id, 0); !slices.Equal(ids, []string{"i1", "i2"}) {
		t.Fatalf("members of a segment on the IMPORT segment = %v", ids)
	}

	// Deleting it leaves its import jobs listable under its ID.
	if _, err := c.DeleteSegment(ctx, &pinpoint.DeleteSegmentInput{ApplicationId: aws.String(app), SegmentId: segID}); err != nil {
		t.Fatal(err)
	}
	jobs, err := c.GetSegmentImportJobs(ctx, &pinpoint.GetSegmentImportJobsInput{ApplicationId: aws.String(app), SegmentId: segID})
	if err != nil || len(jobs.ImportJobsResponse.Item) != 1 || *jobs.ImportJobsResponse.Item[0].Id != *job.Id {
		t.Fatalf("GetSegmentImportJobs after DeleteSegment = %+v, %v", jobs, err)
	}
	_, _, err = s.DB.FindSegmentMembers(ctx, app, *segID, 0, pinfold.Page{})
	if pinfold.ErrorCode(err) != pinfold.ENOTFOUND {
		t.Fatalf("members of a deleted segment: %v", err)
	}
}

// runImport runs an import job to its end.
func runImport(t *testing.T, s *testserver.Server, app string, req types.ImportJobRequest) *types.ImportJobResponse {
	t.Helper()
	req.RoleArn = aws.String("arn:aws:iam::123456789012:role/import")
	out, err := s.Pinpoint.CreateImportJob(ctx, &pinpoint.CreateImportJobInput{ApplicationId: aws.String(app), ImportJobRequest: &req})
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		got, err := s.Pinpoint.GetImportJob(ctx, &pinpoint.GetImportJobInput{ApplicationId: aws.String(app), JobId: out.ImportJobResponse.Id})
		if err != nil {
			t.Fatal(err)
		}
		if j := got.ImportJobResponse; j.JobStatus == types.JobStatusCompleted {
			return j
		} else if j.JobStatus == types.JobStatusFailed {
			t.Fatalf("import failed: %q", j.Failures)
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("import did not end")
	return nil
}

// members lists a segment version's endpoints (0: the latest) through the Pinfold route,
// page by page.
func members(t *testing.T, s *testserver.Server, app, seg string, version int) []string {
	t.Helper()
	var ids []string
	token := ""
	for {
		path := fmt.Sprintf("/v1/apps/%s/segments/%s/endpoints?page-size=400", app, seg)
		if version > 0 {
			path += fmt.Sprint("&version=", version)
		}
		if token != "" {
			path += "&token=" + token
		}
		resp, body := signedRequest(t, s.URL, "GET", path, "")
		var page struct {
			Item      []string
			NextToken string
		}
		if resp.StatusCode != 200 || json.Unmarshal(body, &page) != nil || page.Item == nil {
			t.Fatalf("GetSegmentEndpoints: %d %s", resp.StatusCode, body)
		}
		ids = append(ids, page.Item...)
		if token = page.NextToken; token == "" {
			return ids
		}
	}
}
