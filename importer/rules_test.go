package importer_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/pinpoint"
	"github.com/aws/aws-sdk-go-v2/service/pinpoint/types"
	"github.com/pinfold/pinfold/internal/testserver"
)

// TestImportFollowsEndpointRules checks that an import writes by UpdateEndpoint's rules: a row
// that would give a user a 16th endpoint or the app one attribute name too many is a row
// failure with its place, and a written endpoint makes the others with its address INACTIVE.
func TestImportFollowsEndpointRules(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t, testserver.Options{MaxAttributeNames: 3})
	app := newApp(t, s)
	if _, err := s.Pinpoint.UpdateEndpoint(ctx, &pinpoint.UpdateEndpointInput{ApplicationId: aws.String(app), EndpointId: aws.String("api-1"),
		EndpointRequest: &types.EndpointRequest{ChannelType: types.ChannelTypeSms, Address: aws.String("+4790000000"),
			User: &types.EndpointUser{UserId: aws.String("busy")}, Attributes: map[string][]string{"a": {"x"}}}}); err != nil {
		t.Fatal(err)
	}

	var b strings.Builder
	b.WriteString("Id,ChannelType,Address,User.UserId,Attributes.a,Attributes.b,Metrics.m,Attributes.c\n")
	for i := range 15 { // lines 2-16: with api-1, the 15th is one too many for "busy"
		fmt.Fprintf(&b, "r-%02d,EMAIL,r%d@example.com,busy,1,2,3,\n", i, i)
	}
	b.WriteString("c-1,EMAIL,c1@example.com,other,,,,new\n")              // line 17: a fourth name
	b.WriteString("s-1,SMS,+4790000000,,,,,\n")                           // line 18: api-1's address
	b.WriteString("s-2,SMS,+4790000001,,,,,\ns-3,SMS,+4790000001,,,,,\n") // lines 19-20: one address twice
	s.Put(t, "imports", "rules.csv", []byte(b.String()))
	j := importJob(t, s, app, types.ImportJobRequest{Format: types.FormatCsv, S3Url: aws.String("s3://imports/rules.csv"),
		RegisterEndpoints: aws.Bool(true), DefineSegment: aws.Bool(true)})
	wantCounts(t, j, counts{types.JobStatusCompleted, 1, 1, 0, 19, 2})
	if want := `s3://imports/rules.csv:16: User.UserId "busy" already has 15 endpoints; a user may have at most 15 endpoints`; j.Failures[0] != want {
		t.Fatalf("Failures[0] = %q, want %q", j.Failures[0], want)
	}
	if want := "s3://imports/rules.csv:17: Attributes.c would be custom attribute name 4 of the application; an application may have at most 3"; !strings.HasPrefix(j.Failures[1], want) {
		t.Fatalf("Failures[1] = %q, want prefix %q", j.Failures[1], want)
	}
	if seg := getSegment(t, s, app, *j.Definition.SegmentId); *seg.ImportDefinition.Size != 17 {
		t.Fatalf("segment size = %d, want the 17 rows that were written", *seg.ImportDefinition.Size)
	}
	for id, want := range map[string]string{"api-1": "INACTIVE", "s-1": "ACTIVE", "s-2": "INACTIVE", "s-3": "ACTIVE", "r-13": "ACTIVE"} {
		if got := *getEndpoint(t, s, app, id).EndpointStatus; got != want {
			t.Errorf("%s is %s, want %s", id, got, want)
		}
	}
	_, err := s.Pinpoint.GetEndpoint(ctx, &pinpoint.GetEndpointInput{ApplicationId: aws.String(app), EndpointId: aws.String("r-14")})
	var nf *types.NotFoundException
	if !errors.As(err, &nf) {
		t.Fatalf("the refused row was written: %v", err)
	}
}

// TestImportRulesAcrossLargeImports checks the endpoint rules between two imports whose pieces
// are large enough for the SQLite store's filters of stored IDs, users and addresses
// (sqlite/hashfilter.go): the second import merges its rows into the endpoints the first
// wrote, counts the first's endpoints of a user, and makes the first's endpoint with an
// address it writes again INACTIVE.
func TestImportRulesAcrossLargeImports(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t, testserver.Options{})
	app := newApp(t, s)
	const n = 1500
	var b strings.Builder
	b.WriteString("Id,ChannelType,Address,User.UserId,Attributes.plan\n")
	for i := range n {
		user := fmt.Sprintf("user-%d", i)
		if i < 14 {
			user = "busy"
		}
		fmt.Fprintf(&b, "e-%d,EMAIL,e%d@example.com,%s,basic\n", i, i, user)
	}
	s.Put(t, "imports", "first.csv", []byte(b.String()))
	j := importJob(t, s, app, types.ImportJobRequest{Format: types.FormatCsv, S3Url: aws.String("s3://imports/first.csv"), RegisterEndpoints: aws.Bool(true)})
	wantCounts(t, j, counts{types.JobStatusCompleted, 1, 1, 0, n, 0})

	// Lines 1 to n-1 name only a new plan for each endpoint but the last; busy gets a 15th and
	// a 16th endpoint (lines n and n+1); x-1 takes the last endpoint's address (line n+2).
	b.Reset()
	for i := range n - 1 {
		fmt.Fprintf(&b, `{"Id":"e-%d","Attributes":{"plan":["premium"]}}`+"\n", i)
	}
	b.WriteString(`{"Id":"b-1","ChannelType":"EMAIL","Address":"b1@example.com","User":{"UserId":"busy"}}` + "\n")
	b.WriteString(`{"Id":"b-2","ChannelType":"EMAIL","Address":"b2@example.com","User":{"UserId":"busy"}}` + "\n")
	fmt.Fprintf(&b, `{"Id":"x-1","ChannelType":"EMAIL","Address":"e%d@example.com"}`+"\n", n-1)
	s.Put(t, "imports", "second.json", []byte(b.String()))
	j = importJob(t, s, app, types.ImportJobRequest{Format: types.FormatJson, S3Url: aws.String("s3://imports/second.json"), RegisterEndpoints: aws.Bool(true)})
	wantCounts(t, j, counts{types.JobStatusCompleted, 1, 1, 0, n + 2, 1})
	if want := fmt.Sprintf(`s3://imports/second.json:%d: User.UserId "busy" already has 15 endpoints`, n+1); !strings.HasPrefix(j.Failures[0], want) {
		t.Fatalf("Failures[0] = %q, want prefix %q", j.Failures[0], want)
	}
	for _, i := range []int{0, 13, 14, n / 2, n - 2} {
		e := getEndpoint(t, s, app, fmt.Sprintf("e-%d", i))
		if *e.Address != fmt.Sprintf("e%d@example.com", i) || e.User == nil || e.User.UserId == nil || *e.EndpointStatus != "ACTIVE" ||
			len(e.Attributes["plan"]) != 1 || e.Attributes["plan"][0] != "premium" {
			t.Fatalf("e-%d after the second import: address %v, user %+v, status %v, attributes %v; want the first import's with plan premium",
				i, aws.ToString(e.Address), e.User, aws.ToString(e.EndpointStatus), e.Attributes)
		}
	}
	for id, want := range map[string]string{fmt.Sprintf("e-%d", n-1): "INACTIVE", "x-1": "ACTIVE", "b-1": "ACTIVE"} {
		if got := *getEndpoint(t, s, app, id).EndpointStatus; got != want {
			t.Errorf("%s is %s, want %s", id, got, want)
		}
	}
	_, err := s.Pinpoint.GetEndpoint(ctx, &pinpoint.GetEndpointInput{ApplicationId: aws.String(app), EndpointId: aws.String("b-2")})
	var nf *types.NotFoundException
	if !errors.As(err, &nf) {
		t.Fatalf("the refused row was written: %v", err)
	}
}
