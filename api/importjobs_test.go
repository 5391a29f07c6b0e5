package api_test

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/pinpoint/types"
	"github.com/pinfold/pinfold/internal/testserver"
)

// TestGetImportJobStates reads a finished job's timeline through Pinfold's route: every state
// in order, starting at the job's CreationDate and ending no earlier than its CompletionDate.
func TestGetImportJobStates(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t, testserver.Options{})
	app := *createApp(t, s.Pinpoint, "timeline").Id
	s.Put(t, "imports", "t.csv", []byte("Id,ChannelType,Address\nt1,EMAIL,t1@example.com\n"))
	job := runImport(t, s, app, types.ImportJobRequest{Format: types.FormatCsv, S3Url: aws.String("s3://imports/t.csv"), RegisterEndpoints: aws.Bool(true)})

	resp, body := signedRequest(t, s.URL, "GET", "/v1/apps/"+app+"/jobs/import/"+*job.Id+"/states", "")
	var got struct {
		States []struct{ Status, Time string }
	}
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" || json.Unmarshal(body, &got) != nil {
		t.Fatalf("GetImportJobStates: %d %s %s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	var statuses []string
	for i, st := range got.States {
		statuses = append(statuses, st.Status)
		if i > 0 && st.Time < got.States[i-1].Time {
			t.Fatalf("%s at %s, before %s at %s", st.Status, st.Time, got.States[i-1].Status, got.States[i-1].Time)
		}
	}
	want := []string{"CREATED", "PREPARING_FOR_INITIALIZATION", "INITIALIZING", "PROCESSING", "COMPLETING", "COMPLETED"}
	if !slices.Equal(statuses, want) {
		t.Fatalf("states = %v, want %v", statuses, want)
	}
	// The end takes the job's completion time unless a state before it was recorded later
	// (the importer takes that time before it completes the job).
	if first, last := got.States[0].Time, got.States[len(got.States)-1].Time; first != *job.CreationDate || last < *job.CompletionDate {
		t.Fatalf("states from %s to %s; the job was created %s and completed %s", first, last, *job.CreationDate, *job.CompletionDate)
	}

	resp, body = signedRequest(t, s.URL, "GET", "/v1/apps/"+app+"/jobs/import/0123456789abcdef0123456789abcdef/states", "")
	wantErrorResponse(t, resp, body, 404, "NotFoundException", "not found")
}
