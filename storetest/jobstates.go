package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/pinfold/pinfold"
)

// mustStates returns a job's states and checks that their times never decrease.
func mustStates(t *testing.T, s Store, app, job string) ([]string, []pinfold.JobStateChange) {
	t.Helper()
	states, err := s.FindImportJobStates(ctx, app, job)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for i, c := range states {
		names = append(names, c.Status)
		if i > 0 && c.At.Before(states[i-1].At) {
			t.Fatalf("%s entered %s at %v, before it entered %s at %v", job, c.Status, c.At, states[i-1].Status, states[i-1].At)
		}
	}
	return names, states
}

// testJobStates checks that every state change of a job is recorded in order, whichever
// method made it, that setting a job's status to the one it has records nothing, and that the
// states go with their app.
func testJobStates(t *testing.T, s Store) {
	mustCreateApp(t, s, "app")
	// The end is after the database's clock, so that the end's time can only be the job's own.
	end := t0
	if now := time.Now().UTC().Truncate(time.Millisecond); now.After(end) {
		end = now
	}
	end = end.Add(time.Hour)

	mustCreateJob(t, s, "app", "ok", pinfold.ImportDefinition{})
	mustPlan(t, s, "app", "ok", 1)
	if _, err := s.SetImportJobStatus(ctx, "ok", []string{pinfold.JobProcessing}, pinfold.JobProcessing); err != nil {
		t.Fatal(err)
	}
	commit(t, s, func(tx pinfold.PieceTx) (*pinfold.PieceOutcome, error) {
		return &pinfold.PieceOutcome{Processed: 1}, nil
	})
	if ended, err := s.FinishImportJob(ctx, "ok", end); !ended || err != nil {
		t.Fatalf("finish: %v %v", ended, err)
	}
	names, states := mustStates(t, s, "app", "ok")
	want := []string{pinfold.JobCreated, pinfold.JobPreparingForInitialization, pinfold.JobInitializing,
		pinfold.JobProcessing, pinfold.JobCompleting, pinfold.JobCompleted}
	if !slices.Equal(names, want) {
		t.Fatalf("states of a completed job = %v, want %v", names, want)
	}
	job := mustJob(t, s, "app", "ok")
	if !states[0].At.Equal(job.CreatedAt) || !states[len(states)-1].At.Equal(job.CompletedAt) || !job.CompletedAt.Equal(end) {
		t.Fatalf("first and last state at %v and %v, job created %v and completed %v (want %v)",
			states[0].At, states[len(states)-1].At, job.CreatedAt, job.CompletedAt, end)
	}

	mustCreateJob(t, s, "app", "failing", pinfold.ImportDefinition{})
	mustPlan(t, s, "app", "failing", 1)
	p, _, err := s.ClaimPiece(ctx, "n", t0, t0.Add(time.Minute))
	if err != nil || p == nil {
		t.Fatalf("claim: %+v %v", p, err)
	}
	if err := s.FailPiece(ctx, p, "n", "s3://b/k.csv: the object no longer exists"); err != nil {
		t.Fatal(err)
	}
	if ended, err := s.FinishImportJob(ctx, "failing", end); !ended || err != nil {
		t.Fatalf("finish: %v %v", ended, err)
	}
	names, _ = mustStates(t, s, "app", "failing")
	want = []string{pinfold.JobCreated, pinfold.JobPreparingForInitialization, pinfold.JobInitializing,
		pinfold.JobProcessing, pinfold.JobFailing, pinfold.JobFailed}
	if !slices.Equal(names, want) {
		t.Fatalf("states of a job with a failed piece = %v, want %v", names, want)
	}

	mustCreateJob(t, s, "app", "unplanned", pinfold.ImportDefinition{})
	if err := s.FailImportJob(ctx, "unplanned", "no objects found under s3://b/k.csv", end); err != nil {
		t.Fatal(err)
	}
	if names, _ := mustStates(t, s, "app", "unplanned"); !slices.Equal(names, []string{pinfold.JobCreated, pinfold.JobFailed}) {
		t.Fatalf("states of a job failed before planning = %v", names)
	}

	_, err = s.FindImportJobStates(ctx, "app", "nope")
	wantCode(t, err, pinfold.ENOTFOUND)
	_, err = s.FindImportJobStates(ctx, "nope", "ok")
	wantCode(t, err, pinfold.ENOTFOUND)

	// A job of the same ID in the app made again starts a timeline of its own.
	if _, err := s.DeleteApp(ctx, "app"); err != nil {
		t.Fatal(err)
	}
	mustCreateApp(t, s, "app")
	mustCreateJob(t, s, "app", "ok", pinfold.ImportDefinition{})
	if names, _ := mustStates(t, s, "app", "ok"); !slices.Equal(names, []string{pinfold.JobCreated}) {
		t.Fatalf("states after the app was deleted and the job made again = %v", names)
	}
}
