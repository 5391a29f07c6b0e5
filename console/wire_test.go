package console

import (
	"reflect"
	"testing"
	"time"
)

// TestTimeline checks the job page's timeline: how long a job stayed in each state, the
// current state marked while it runs, and the gaps of jobs stored before states were recorded.
func TestTimeline(t *testing.T) {
	t0 := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	states := func(s ...any) jobStates {
		var js jobStates
		for i := 0; i < len(s); i += 2 {
			js.States = append(js.States, struct {
				Status string `json:"Status"`
				Time   string `json:"Time"`
			}{s[i].(string), t0.Add(s[i+1].(time.Duration)).Format("2006-01-02T15:04:05.000Z")})
		}
		return js
	}
	type entry struct {
		State, Note string
		Current     bool
	}
	for _, tc := range []struct {
		name   string
		status string
		states jobStates
		want   []entry
	}{
		{"running", "PROCESSING", states("CREATED", time.Duration(0), "PREPARING_FOR_INITIALIZATION", 1500*time.Millisecond,
			"INITIALIZING", 2*time.Second, "PROCESSING", 3*time.Second), []entry{
			{"CREATED", "for 1.5s", false}, {"PREPARING_FOR_INITIALIZATION", "for 500ms", false},
			{"INITIALIZING", "for 1.0s", false}, {"PROCESSING", "now, for 7.0s", true}}},
		{"waiting", "CREATED", states("CREATED", time.Duration(0)), []entry{{"CREATED", "now, for 10.0s", true}}},
		{"ended", "FAILED", states("CREATED", time.Duration(0), "PREPARING_FOR_INITIALIZATION", time.Second, "FAILED", 4*time.Second), []entry{
			{"CREATED", "for 1.0s", false}, {"PREPARING_FOR_INITIALIZATION", "for 3.0s", false}, {"FAILED", "ended after 4.0s", false}}},
		// The job ended between the page's two API calls: the states tell.
		{"ended since", "COMPLETING", states("CREATED", time.Duration(0), "COMPLETING", time.Second, "COMPLETED", 2*time.Second), []entry{
			{"CREATED", "for 1.0s", false}, {"COMPLETING", "for 1.0s", false}, {"COMPLETED", "ended after 2.0s", false}}},
		{"ended before states were recorded", "COMPLETED", states("CREATED", time.Duration(0), "COMPLETED", time.Hour), []entry{
			{"CREATED", "until a state that was not recorded", false}, {"COMPLETED", "ended after 1h00m", false}}},
		{"running since before states were recorded", "PROCESSING", states("CREATED", time.Duration(0)), []entry{
			{"CREATED", "until a state that was not recorded", false}, {"PROCESSING", "now; when it began was not recorded", true}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			j := &job{JobStatus: tc.status}
			var got []entry
			for _, e := range j.timeline(tc.states, t0.Add(10*time.Second)) {
				got = append(got, entry{e.State, e.Note, e.Current})
				if e.Class != stateClass(e.State) {
					t.Errorf("%s has class %q", e.State, e.Class)
				}
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("timeline = %v, want %v", got, tc.want)
			}
		})
	}
}
