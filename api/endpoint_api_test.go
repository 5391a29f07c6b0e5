package api_test

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/pinpoint"
	"github.com/aws/aws-sdk-go-v2/service/pinpoint/types"
	"github.com/pinfold/pinfold"
	"github.com/pinfold/pinfold/internal/testserver"
)

func updateEndpoint(t *testing.T, c *pinpoint.Client, app, id string, req types.EndpointRequest) {
	t.Helper()
	if _, err := c.UpdateEndpoint(ctx, &pinpoint.UpdateEndpointInput{ApplicationId: aws.String(app), EndpointId: aws.String(id),
		EndpointRequest: &req}); err != nil {
		t.Fatalf("UpdateEndpoint %s: %v", id, err)
	}
}

func mustGetEndpoint(t *testing.T, c *pinpoint.Client, app, id string) *types.EndpointResponse {
	t.Helper()
	out, err := c.GetEndpoint(ctx, &pinpoint.GetEndpointInput{ApplicationId: aws.String(app), EndpointId: aws.String(id)})
	if err != nil {
		t.Fatalf("GetEndpoint %s: %v", id, err)
	}
	return out.EndpointResponse
}

func TestUpdateEndpointCreatesAndMerges(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t, testserver.Options{})
	c := s.Pinpoint
	app := *createApp(t, c, "endpoints").Id

	before := time.Now().UTC().Truncate(time.Millisecond)
	out, err := c.UpdateEndpoint(ctx, &pinpoint.UpdateEndpointInput{ApplicationId: aws.String(app), EndpointId: aws.String("ep 1/x"),
		EndpointRequest: &types.EndpointRequest{ChannelType: types.ChannelTypeEmail, Address: aws.String("ann@example.com"),
			Attributes: map[string][]string{"plan": {"gold"}, "color": {"red", "blue"}}, Metrics: map[string]float64{"visits": 3},
			Demographic: &types.EndpointDemographic{Platform: aws.String("iOS"), Make: aws.String("Apple")},
			Location:    &types.EndpointLocation{Country: aws.String("NO"), Latitude: aws.Float64(59.9), Longitude: aws.Float64(10.7)},
			User:        &types.EndpointUser{UserId: aws.String("ann"), UserAttributes: map[string][]string{"tier": {"vip"}}},
			RequestId:   aws.String("req-1")}})
	if err != nil {
		t.Fatal(err)
	}
	id, _ := awsmiddleware.GetRequestIDMetadata(out.ResultMetadata)
	if *out.MessageBody.Message != "Accepted" || id == "" || *out.MessageBody.RequestID != id {
		t.Fatalf("MessageBody = %+v, request ID %q", out.MessageBody, id)
	}
	e := mustGetEndpoint(t, c, app, "ep 1/x")
	created, err := time.Parse(pinfold.ISO8601, *e.CreationDate)
	if err != nil || created.Before(before) || *e.EffectiveDate != *e.CreationDate {
		t.Fatalf("CreationDate %q, EffectiveDate %q: want the time of the write", *e.CreationDate, *e.EffectiveDate)
	}
	if *e.Id != "ep 1/x" || *e.ApplicationId != app || *e.EndpointStatus != "ACTIVE" || *e.OptOut != "NONE" ||
		*e.CohortId != pinfold.CohortID("ep 1/x") || *e.RequestId != "req-1" || e.ChannelType != types.ChannelTypeEmail ||
		*e.Location.Latitude != 59.9 || *e.Demographic.Make != "Apple" || e.User.UserAttributes["tier"][0] != "vip" {
		t.Fatalf("endpoint = %+v", e)
	}

	// A second write changes what it names and keeps the rest; an attribute sent with no
	// values is removed.
	updateEndpoint(t, c, app, "ep 1/x", types.EndpointRequest{Attributes: map[string][]string{"plan": {"platinum", "diamond"}, "color": {}},
		Metrics: map[string]float64{"score": 1.5}, OptOut: aws.String("ALL"), EffectiveDate: aws.String("2026-01-02T03:04:05.678Z"),
		Location: &types.EndpointLocation{City: aws.String("Oslo")}})
	e = mustGetEndpoint(t, c, app, "ep 1/x")
	if !slices.Equal(e.Attributes["plan"], []string{"platinum", "diamond"}) || e.Attributes["color"] != nil ||
		e.Metrics["visits"] != 3 || e.Metrics["score"] != 1.5 || *e.OptOut != "ALL" || *e.Address != "ann@example.com" ||
		*e.Location.City != "Oslo" || *e.Location.Country != "NO" || *e.Demographic.Platform != "iOS" || *e.User.UserId != "ann" ||
		*e.CreationDate != created.Format(pinfold.ISO8601) || *e.EffectiveDate != "2026-01-02T03:04:05.678Z" {
		t.Fatalf("after a partial update: %+v", e)
	}

	// null is absent, inside the maps too.
	resp, body := signedRequest(t, s.URL, "PUT", "/v1/apps/"+app+"/endpoints/ep%201%2Fx", `{"Attributes":{"plan":null},"Metrics":{"score":null},"OptOut":null}`)
	if resp.StatusCode != 202 {
		t.Fatalf("UpdateEndpoint with nulls: %d %s", resp.StatusCode, body)
	}
	if e = mustGetEndpoint(t, c, app, "ep 1/x"); len(e.Attributes["plan"]) != 2 || e.Metrics["score"] != 1.5 || *e.OptOut != "ALL" {
		t.Fatalf("after an update of nulls: %+v", e)
	}

	// A write of nothing still is a write: EffectiveDate moves to its time.
	updateEndpoint(t, c, app, "ep 1/x", types.EndpointRequest{})
	if e = mustGetEndpoint(t, c, app, "ep 1/x"); *e.EffectiveDate == "2026-01-02T03:04:05.678Z" || *e.OptOut != "ALL" {
		t.Fatalf("after an empty update: %+v", e)
	}

	// A new endpoint needs ChannelType and Address.
	_, err = c.UpdateEndpoint(ctx, &pinpoint.UpdateEndpointInput{ApplicationId: aws.String(app), EndpointId: aws.String("new"),
		EndpointRequest: &types.EndpointRequest{OptOut: aws.String("ALL")}})
	wantAPIError[*types.BadRequestException](t, err, pinfold.NewEndpointMissingFields)
}

func TestEndpointInactiveRule(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t, testserver.Options{})
	c := s.Pinpoint
	app := *createApp(t, c, "inactive").Id
	other := *createApp(t, c, "other").Id
	sms := func(addr string) types.EndpointRequest {
		return types.EndpointRequest{ChannelType: types.ChannelTypeSms, Address: aws.String(addr)}
	}
	status := func(app string, ids ...string) string {
		var got []string
		for _, id := range ids {
			got = append(got, *mustGetEndpoint(t, c, app, id).EndpointStatus)
		}
		return strings.Join(got, " ")
	}
	updateEndpoint(t, c, app, "a", sms("+4790000001"))
	updateEndpoint(t, c, app, "b", sms("+4790000001"))
	updateEndpoint(t, c, app, "c", sms("+4790000002"))
	updateEndpoint(t, c, other, "z", sms("+4790000001"))
	if got := status(app, "a", "b", "c"); got != "INACTIVE ACTIVE ACTIVE" {
		t.Fatalf("after writing b: %s", got)
	}
	updateEndpoint(t, c, app, "a", types.EndpointRequest{Attributes: map[string][]string{"x": {"1"}}})
	if got := status(app, "a", "b", "c"); got != "ACTIVE INACTIVE ACTIVE" {
		t.Fatalf("after writing a again: %s", got)
	}
	// In a batch, of the items with one address the last is ACTIVE.
	batch(t, c, app, types.EndpointBatchItem{Id: aws.String("c"), Address: aws.String("+4790000001")},
		types.EndpointBatchItem{Id: aws.String("d"), ChannelType: types.ChannelTypeSms, Address: aws.String("+4790000001")},
		types.EndpointBatchItem{Id: aws.String("b")})
	if got := status(app, "a", "b", "c", "d"); got != "INACTIVE ACTIVE INACTIVE INACTIVE" {
		t.Fatalf("after the batch: %s", got)
	}
	if got := status(other, "z"); got != "ACTIVE" {
		t.Fatalf("another app's endpoint changed: %s", got)
	}
}

func batch(t *testing.T, c *pinpoint.Client, app string, items ...types.EndpointBatchItem) {
	t.Helper()
	out, err := c.UpdateEndpointsBatch(ctx, &pinpoint.UpdateEndpointsBatchInput{ApplicationId: aws.String(app),
		EndpointBatchRequest: &types.EndpointBatchRequest{Item: items}})
	if err != nil {
		t.Fatalf("UpdateEndpointsBatch: %v", err)
	}
	if *out.MessageBody.Message != "Accepted" || *out.MessageBody.RequestID == "" {
		t.Fatalf("MessageBody = %+v", out.MessageBody)
	}
}

func TestUpdateEndpointsBatch(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t, testserver.Options{})
	c := s.Pinpoint
	app := *createApp(t, c, "batch").Id
	item := func(i int) types.EndpointBatchItem {
		return types.EndpointBatchItem{Id: aws.String(fmt.Sprintf("b-%03d", i)), ChannelType: types.ChannelTypeEmail,
			Address: aws.String(fmt.Sprintf("b%d@example.com", i)), User: &types.EndpointUser{UserId: aws.String(fmt.Sprintf("user-%d", i%10))}}
	}
	var items []types.EndpointBatchItem
	for i := range 100 {
		items = append(items, item(i))
	}
	batch(t, c, app, items...)
	if e := mustGetEndpoint(t, c, app, "b-099"); *e.Address != "b99@example.com" || *e.User.UserId != "user-9" {
		t.Fatalf("b-099 = %+v", e)
	}

	_, err := c.UpdateEndpointsBatch(ctx, &pinpoint.UpdateEndpointsBatchInput{ApplicationId: aws.String(app),
		EndpointBatchRequest: &types.EndpointBatchRequest{Item: append(items, item(100))}})
	wantAPIError[*types.BadRequestException](t, err, "Item has 101 endpoints; a batch may have at most 100")

	// One bad item fails the batch, names the item, and writes nothing.
	_, err = c.UpdateEndpointsBatch(ctx, &pinpoint.UpdateEndpointsBatchInput{ApplicationId: aws.String(app),
		EndpointBatchRequest: &types.EndpointBatchRequest{Item: []types.EndpointBatchItem{item(200),
			{Id: aws.String("b-201"), ChannelType: "FAX", Address: aws.String("x")}}}})
	wantAPIError[*types.BadRequestException](t, err, `Item[1] (Id "b-201"): ChannelType must be one of`)
	_, err = c.GetEndpoint(ctx, &pinpoint.GetEndpointInput{ApplicationId: aws.String(app), EndpointId: aws.String("b-200")})
	wantAPIError[*types.NotFoundException](t, err, "b-200")

	_, err = c.UpdateEndpointsBatch(ctx, &pinpoint.UpdateEndpointsBatchInput{ApplicationId: aws.String(app),
		EndpointBatchRequest: &types.EndpointBatchRequest{Item: []types.EndpointBatchItem{item(300), {ChannelType: types.ChannelTypeSms, Address: aws.String("+1")}}}})
	wantAPIError[*types.BadRequestException](t, err, "Item[1].Id is required")

	// What the SDK cannot send: no Item, an empty batch (a no-op), a body of the wrong type.
	resp, body := signedRequest(t, s.URL, "PUT", "/v1/apps/"+app+"/endpoints", `{}`)
	wantErrorResponse(t, resp, body, 400, "BadRequestException", "Item is required")
	resp, body = signedRequest(t, s.URL, "PUT", "/v1/apps/"+app+"/endpoints", `{"Item":[]}`)
	if resp.StatusCode != 202 || !strings.Contains(string(body), `"Message":"Accepted"`) {
		t.Fatalf("empty batch: %d %s", resp.StatusCode, body)
	}
	resp, body = signedRequest(t, s.URL, "PUT", "/v1/apps/"+app+"/endpoints", `{"Item":[{"Id":"m","Metrics":{"visits":"three"}}]}`)
	wantErrorResponse(t, resp, body, 400, "BadRequestException", "Item.0.Metrics.visits must be a number, got a JSON string")

	_, err = c.UpdateEndpointsBatch(ctx, &pinpoint.UpdateEndpointsBatchInput{ApplicationId: aws.String("0123456789abcdef0123456789abcdef"),
		EndpointBatchRequest: &types.EndpointBatchRequest{Item: items[:1]}})
	wantAPIError[*types.NotFoundException](t, err, "Application")
}

func TestEndpointValidation(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t, testserver.Options{})
	c := s.Pinpoint
	app := *createApp(t, c, "validation").Id
	base := func() types.EndpointRequest {
		return types.EndpointRequest{ChannelType: types.ChannelTypeEmail, Address: aws.String("v@example.com")}
	}
	values := func(n, size int) []string {
		v := make([]string, n)
		for i := range v {
			v[i] = strings.Repeat("v", size)
		}
		return v
	}
	for _, tc := range []struct {
		name string
		edit func(r *types.EndpointRequest)
		msg  string
	}{
		{"ChannelType", func(r *types.EndpointRequest) { r.ChannelType = "FAX" }, `ChannelType must be one of`},
		{"OptOut", func(r *types.EndpointRequest) { r.OptOut = aws.String("SOME") }, `OptOut must be ALL or NONE, got "SOME"`},
		{"EndpointStatus", func(r *types.EndpointRequest) { r.EndpointStatus = aws.String("ON") }, `EndpointStatus must be ACTIVE or INACTIVE`},
		{"EffectiveDate", func(r *types.EndpointRequest) { r.EffectiveDate = aws.String("yesterday") }, `EffectiveDate must be an ISO-8601 date, got "yesterday"`},
		{"attribute name", func(r *types.EndpointRequest) { r.Attributes = map[string][]string{strings.Repeat("n", 51): {"v"}} }, "Attributes name"},
		{"attribute value", func(r *types.EndpointRequest) { r.Attributes = map[string][]string{"a": values(1, 101)} }, "Attributes.a has a value of 101 characters"},
		{"values", func(r *types.EndpointRequest) {
			r.User = &types.EndpointUser{UserAttributes: map[string][]string{"u": values(51, 1)}}
		}, "User.UserAttributes.u has 51 values; at most 50"},
		{"metric name", func(r *types.EndpointRequest) { r.Metrics = map[string]float64{strings.Repeat("m", 51): 1} }, "Metrics name"},
		{"latitude", func(r *types.EndpointRequest) { r.Location = &types.EndpointLocation{Latitude: aws.Float64(91)} }, "Location.Latitude must be between -90 and 90"},
		{"longitude", func(r *types.EndpointRequest) { r.Location = &types.EndpointLocation{Longitude: aws.Float64(-181)} }, "Location.Longitude must be between -180 and 180"},
		{"size", func(r *types.EndpointRequest) {
			r.Attributes = map[string][]string{"a": values(50, 100), "b": values(50, 100), "c": values(50, 100), "d": values(50, 100)}
		}, "an endpoint may be at most 15360 bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := base()
			tc.edit(&req)
			_, err := c.UpdateEndpoint(ctx, &pinpoint.UpdateEndpointInput{ApplicationId: aws.String(app), EndpointId: aws.String("v"), EndpointRequest: &req})
			wantAPIError[*types.BadRequestException](t, err, tc.msg)
		})
	}

	// An endpoint that grows past 15 KB through partial updates is refused too.
	updateEndpoint(t, c, app, "grow", types.EndpointRequest{ChannelType: types.ChannelTypeEmail, Address: aws.String("g@example.com"),
		Attributes: map[string][]string{"a": values(50, 100), "b": values(50, 100)}})
	_, err := c.UpdateEndpoint(ctx, &pinpoint.UpdateEndpointInput{ApplicationId: aws.String(app), EndpointId: aws.String("grow"),
		EndpointRequest: &types.EndpointRequest{Attributes: map[string][]string{"c": values(50, 100), "d": values(10, 100)}}})
	wantAPIError[*types.BadRequestException](t, err, `endpoint "grow" would be`)

	// Numbers and dates of the wrong JSON type, which the SDK cannot send.
	for _, tc := range []struct{ body, msg string }{
		{`{"Location":{"Latitude":"north"}}`, "Location.Latitude must be a number, got a JSON string"},
		{`{"Metrics":{"visits":[1]}}`, "Metrics.visits must be a number, got a JSON array"},
		{`{"EffectiveDate":20260101}`, "EffectiveDate must be a string, got a JSON number"},
		{`{"Attributes":{"a":"one"}}`, "Attributes.a must be an array, got a JSON string"},
	} {
		resp, body := signedRequest(t, s.URL, "PUT", "/v1/apps/"+app+"/endpoints/v", tc.body)
		wantErrorResponse(t, resp, body, 400, "BadRequestException", tc.msg)
	}
	_, err = c.UpdateEndpoint(ctx, &pinpoint.UpdateEndpointInput{ApplicationId: aws.String("0123456789abcdef0123456789abcdef"),
		EndpointId: aws.String("v"), EndpointRequest: &types.EndpointRequest{}})
	wantAPIError[*types.NotFoundException](t, err, "Application")
}

func TestEndpointsPerUserLimit(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t, testserver.Options{})
	c := s.Pinpoint
	app := *createApp(t, c, "users").Id
	var items []types.EndpointBatchItem
	for i := range pinfold.MaxEndpointsPerUserID {
		items = append(items, types.EndpointBatchItem{Id: aws.String(fmt.Sprintf("u-%02d", i)), ChannelType: types.ChannelTypeEmail,
			Address: aws.String(fmt.Sprintf("u%d@example.com", i)), User: &types.EndpointUser{UserId: aws.String("busy")}})
	}
	batch(t, c, app, items...)
	_, err := c.UpdateEndpoint(ctx, &pinpoint.UpdateEndpointInput{ApplicationId: aws.String(app), EndpointId: aws.String("u-15"),
		EndpointRequest: &types.EndpointRequest{ChannelType: types.ChannelTypeSms, Address: aws.String("+1555"), User: &types.EndpointUser{UserId: aws.String("busy")}}})
	wantAPIError[*types.BadRequestException](t, err, `User.UserId "busy" already has 15 endpoints; a user may have at most 15`)
	// Rewriting one of the fifteen is fine, and so is moving one to another user and back.
	updateEndpoint(t, c, app, "u-03", types.EndpointRequest{User: &types.EndpointUser{UserId: aws.String("busy")}, OptOut: aws.String("ALL")})
	batch(t, c, app, types.EndpointBatchItem{Id: aws.String("u-00"), User: &types.EndpointUser{UserId: aws.String("other")}},
		types.EndpointBatchItem{Id: aws.String("u-15"), ChannelType: types.ChannelTypeSms, Address: aws.String("+1555"), User: &types.EndpointUser{UserId: aws.String("busy")}})
	out, err := c.GetUserEndpoints(ctx, &pinpoint.GetUserEndpointsInput{ApplicationId: aws.String(app), UserId: aws.String("busy")})
	if err != nil || len(out.EndpointsResponse.Item) != 15 || *out.EndpointsResponse.Item[0].Id != "u-01" {
		t.Fatalf("GetUserEndpoints = %+v, %v", out, err)
	}
}

func TestAttributeNameQuota(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t, testserver.Options{})
	c := s.Pinpoint
	app := *createApp(t, c, "quota").Id
	attrs := map[string][]string{}
	for i := range 200 {
		attrs[fmt.Sprintf("a%03d", i)] = []string{"x"}
	}
	metrics := map[string]float64{}
	for i := range 40 {
		metrics[fmt.Sprintf("m%02d", i)] = 1
	}
	user := map[string][]string{}
	for i := range 10 {
		user[fmt.Sprintf("a%03d", i)] = []string{"y"} // the same names as user attributes are other names
	}
	updateEndpoint(t, c, app, "q1", types.EndpointRequest{ChannelType: types.ChannelTypeEmail, Address: aws.String("q1@example.com"),
		Attributes: attrs, Metrics: metrics, User: &types.EndpointUser{UserAttributes: user}})
	_, err := c.UpdateEndpoint(ctx, &pinpoint.UpdateEndpointInput{ApplicationId: aws.String(app), EndpointId: aws.String("q2"),
		EndpointRequest: &types.EndpointRequest{ChannelType: types.ChannelTypeEmail, Address: aws.String("q2@example.com"),
			Metrics: map[string]float64{"m00": 2, "zz": 1}}})
	wantAPIError[*types.BadRequestException](t, err, "Metrics.zz would be custom attribute name 251 of the application; an application may have at most 250")
	// Names the app has are free, on any endpoint; names stay known when no endpoint has them.
	updateEndpoint(t, c, app, "q2", types.EndpointRequest{ChannelType: types.ChannelTypeEmail, Address: aws.String("q2@example.com"),
		Attributes: map[string][]string{"a199": {"z"}, "a001": {"z"}}, Metrics: map[string]float64{"m39": 5}})
	if _, err := c.DeleteEndpoint(ctx, &pinpoint.DeleteEndpointInput{ApplicationId: aws.String(app), EndpointId: aws.String("q1")}); err != nil {
		t.Fatal(err)
	}
	_, err = c.UpdateEndpoint(ctx, &pinpoint.UpdateEndpointInput{ApplicationId: aws.String(app), EndpointId: aws.String("q2"),
		EndpointRequest: &types.EndpointRequest{User: &types.EndpointUser{UserAttributes: map[string][]string{"fresh": {"1"}}}}})
	wantAPIError[*types.BadRequestException](t, err, "User.UserAttributes.fresh would be custom attribute name 251")
}

// TestAttributeNameQuotaUnderConcurrency has many writers each bring a new name at once: the
// quota is checked in the store's transaction, so exactly the quota's worth succeed.
func TestAttributeNameQuotaUnderConcurrency(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t, testserver.Options{MaxAttributeNames: 7})
	c := s.Pinpoint
	app := *createApp(t, c, "race").Id
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok, rejected := 0, 0
	for i := range 20 {
		wg.Go(func() {
			_, err := c.UpdateEndpoint(ctx, &pinpoint.UpdateEndpointInput{ApplicationId: aws.String(app), EndpointId: aws.String(fmt.Sprintf("r%d", i)),
				EndpointRequest: &types.EndpointRequest{ChannelType: types.ChannelTypeEmail, Address: aws.String(fmt.Sprintf("r%d@example.com", i)),
					Attributes: map[string][]string{fmt.Sprintf("name%d", i): {"v"}}}})
			mu.Lock()
			defer mu.Unlock()
			if err == nil {
				ok++
			} else if strings.Contains(err.Error(), "an application may have at most 7") {
				rejected++
			} else {
				t.Errorf("UpdateEndpoint r%d: %v", i, err)
			}
		})
	}
	wg.Wait()
	if ok != 7 || rejected != 13 {
		t.Fatalf("%d writes succeeded and %d were refused; want 7 and 13", ok, rejected)
	}
}

func TestDeleteEndpointAndUserEndpoints(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t, testserver.Options{})
	c := s.Pinpoint
	app := *createApp(t, c, "delete").Id
	user := "user with space/slash"
	batch(t, c, app,
		types.EndpointBatchItem{Id: aws.String("d2"), ChannelType: types.ChannelTypeSms, Address: aws.String("+1002"), User: &types.EndpointUser{UserId: aws.String(user)}},
		types.EndpointBatchItem{Id: aws.String("d1"), ChannelType: types.ChannelTypeEmail, Address: aws.String("d1@example.com"), User: &types.EndpointUser{UserId: aws.String(user)}},
		types.EndpointBatchItem{Id: aws.String("d3"), ChannelType: types.ChannelTypeEmail, Address: aws.String("d3@example.com"), User: &types.EndpointUser{UserId: aws.String("someone")}},
		types.EndpointBatchItem{Id: aws.String("d4"), ChannelType: types.ChannelTypeEmail, Address: aws.String("d4@example.com")})

	got, err := c.GetUserEndpoints(ctx, &pinpoint.GetUserEndpointsInput{ApplicationId: aws.String(app), UserId: aws.String(user)})
	if err != nil {
		t.Fatal(err)
	}
	if items := got.EndpointsResponse.Item; len(items) != 2 || *items[0].Id != "d1" || *items[1].Id != "d2" || *items[1].Address != "+1002" || *items[0].ApplicationId != app {
		t.Fatalf("GetUserEndpoints = %+v", items)
	}
	_, err = c.GetUserEndpoints(ctx, &pinpoint.GetUserEndpointsInput{ApplicationId: aws.String(app), UserId: aws.String("nobody")})
	wantAPIError[*types.NotFoundException](t, err, `User "nobody" has no endpoints`)

	deleted, err := c.DeleteUserEndpoints(ctx, &pinpoint.DeleteUserEndpointsInput{ApplicationId: aws.String(app), UserId: aws.String(user)})
	if err != nil {
		t.Fatal(err)
	}
	if items := deleted.EndpointsResponse.Item; len(items) != 2 || *items[0].Id != "d1" || *items[1].Id != "d2" || *items[0].User.UserId != user {
		t.Fatalf("DeleteUserEndpoints = %+v", items)
	}
	_, err = c.GetUserEndpoints(ctx, &pinpoint.GetUserEndpointsInput{ApplicationId: aws.String(app), UserId: aws.String(user)})
	wantAPIError[*types.NotFoundException](t, err, "has no endpoints")
	_, err = c.DeleteUserEndpoints(ctx, &pinpoint.DeleteUserEndpointsInput{ApplicationId: aws.String(app), UserId: aws.String(user)})
	wantAPIError[*types.NotFoundException](t, err, "has no endpoints")
	mustGetEndpoint(t, c, app, "d3")

	e, err := c.DeleteEndpoint(ctx, &pinpoint.DeleteEndpointInput{ApplicationId: aws.String(app), EndpointId: aws.String("d4")})
	if err != nil || *e.EndpointResponse.Id != "d4" || *e.EndpointResponse.Address != "d4@example.com" || *e.EndpointResponse.EndpointStatus != "ACTIVE" {
		t.Fatalf("DeleteEndpoint = %+v, %v", e, err)
	}
	_, err = c.GetEndpoint(ctx, &pinpoint.GetEndpointInput{ApplicationId: aws.String(app), EndpointId: aws.String("d4")})
	wantAPIError[*types.NotFoundException](t, err, `Endpoint "d4" not found`)
	_, err = c.DeleteEndpoint(ctx, &pinpoint.DeleteEndpointInput{ApplicationId: aws.String(app), EndpointId: aws.String("d4")})
	wantAPIError[*types.NotFoundException](t, err, `Endpoint "d4" not found`)

	// The modeled status codes, seen on the wire.
	resp, body := signedRequest(t, s.URL, "DELETE", "/v1/apps/"+app+"/endpoints/d3", "")
	if resp.StatusCode != 202 || !strings.Contains(string(body), `"Id":"d3"`) {
		t.Fatalf("DeleteEndpoint: %d %s", resp.StatusCode, body)
	}
	resp, body = signedRequest(t, s.URL, "PUT", "/v1/apps/"+app+"/endpoints/d5", `{"ChannelType":"SMS","Address":"+1005","User":{"UserId":"u5"}}`)
	if resp.StatusCode != 202 || !strings.Contains(string(body), `"Message":"Accepted","RequestID":"`+resp.Header.Get("x-amzn-RequestId")+`"`) {
		t.Fatalf("UpdateEndpoint: %d %s", resp.StatusCode, body)
	}
	resp, body = signedRequest(t, s.URL, "GET", "/v1/apps/"+app+"/users/u5", "")
	if resp.StatusCode != 200 || !strings.Contains(string(body), `{"Item":[{`) {
		t.Fatalf("GetUserEndpoints: %d %s", resp.StatusCode, body)
	}
	resp, body = signedRequest(t, s.URL, "DELETE", "/v1/apps/"+app+"/users/u5", "")
	if resp.StatusCode != 202 || !strings.Contains(string(body), `{"Item":[{`) {
		t.Fatalf("DeleteUserEndpoints: %d %s", resp.StatusCode, body)
	}
	for _, op := range []func() error{
		func() error {
			_, err := c.GetUserEndpoints(ctx, &pinpoint.GetUserEndpointsInput{ApplicationId: aws.String("0123456789abcdef0123456789abcdef"), UserId: aws.String("u")})
			return err
		},
		func() error {
			_, err := c.DeleteEndpoint(ctx, &pinpoint.DeleteEndpointInput{ApplicationId: aws.String("0123456789abcdef0123456789abcdef"), EndpointId: aws.String("e")})
			return err
		},
	} {
		wantAPIError[*types.NotFoundException](t, op(), "Application")
	}
}

func TestDeleteAppRemovesEndpointsAndSegments(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t, testserver.Options{MaxAttributeNames: 1})
	c := s.Pinpoint
	app := *createApp(t, c, "gone").Id
	updateEndpoint(t, c, app, "e", types.EndpointRequest{ChannelType: types.ChannelTypeEmail, Address: aws.String("e@example.com"),
		Attributes: map[string][]string{"a": {"1"}}, User: &types.EndpointUser{UserId: aws.String("u")}})
	seg, err := c.CreateSegment(ctx, &pinpoint.CreateSegmentInput{ApplicationId: aws.String(app),
		WriteSegmentRequest: &types.WriteSegmentRequest{Name: aws.String("all")}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeleteApp(ctx, &pinpoint.DeleteAppInput{ApplicationId: aws.String(app)}); err != nil {
		t.Fatal(err)
	}
	// The same ID made again is a new, empty app: nothing of the old one is left behind.
	if err := s.DB.CreateApp(ctx, &pinfold.App{ID: app, Name: "again", CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	for _, err := range []error{
		func() error { _, err := s.DB.FindEndpoint(ctx, app, "e"); return err }(),
		func() error { _, err := s.DB.FindSegment(ctx, app, *seg.SegmentResponse.Id); return err }(),
		func() error { _, err := s.DB.FindEndpointsByUser(ctx, app, "u"); return err }(),
	} {
		if pinfold.ErrorCode(err) != pinfold.ENOTFOUND || strings.Contains(pinfold.ErrorMessage(err), "Application") {
			t.Fatalf("after DeleteApp: %v, want ENOTFOUND of the endpoint, segment or user", err)
		}
	}
	// Its one allowed attribute name is free again.
	updateEndpoint(t, c, app, "e", types.EndpointRequest{ChannelType: types.ChannelTypeEmail, Address: aws.String("e@example.com"),
		Attributes: map[string][]string{"b": {"1"}}})
}
