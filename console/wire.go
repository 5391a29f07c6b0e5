package console

import "time"

// The API's JSON shapes the console reads: only the members it shows. The API owns them
// (api/wire.go); these are their read side.

type application struct {
	ID           string `json:"Id"`
	Name         string `json:"Name"`
	Arn          string `json:"Arn"`
	CreationDate string `json:"CreationDate"`
}

type applications struct {
	Item      []application `json:"Item"`
	NextToken string        `json:"NextToken"`
}

type importDefinition struct {
	Format            string `json:"Format"`
	S3URL             string `json:"S3Url"`
	RoleARN           string `json:"RoleArn"`
	ExternalID        string `json:"ExternalId"`
	RegisterEndpoints bool   `json:"RegisterEndpoints"`
	DefineSegment     bool   `json:"DefineSegment"`
	SegmentID         string `json:"SegmentId"`
	SegmentName       string `json:"SegmentName"`
}

type exportDefinition struct {
	RoleARN        string `json:"RoleArn"`
	S3URLPrefix    string `json:"S3UrlPrefix"`
	SegmentID      string `json:"SegmentId"`
	SegmentVersion int    `json:"SegmentVersion"`
}

// job is an ImportJobResponse or an ExportJobResponse.
type job struct {
	ID              string   `json:"Id"`
	ApplicationID   string   `json:"ApplicationId"`
	Type            string   `json:"Type"`
	JobStatus       string   `json:"JobStatus"`
	CreationDate    string   `json:"CreationDate"`
	CompletionDate  string   `json:"CompletionDate"`
	TotalPieces     int      `json:"TotalPieces"`
	CompletedPieces int      `json:"CompletedPieces"`
	FailedPieces    int      `json:"FailedPieces"`
	TotalProcessed  int64    `json:"TotalProcessed"`
	TotalFailures   int64    `json:"TotalFailures"`
	Failures        []string `json:"Failures"`
}

type importJob struct {
	job
	Definition importDefinition `json:"Definition"`
}

type exportJob struct {
	job
	Definition exportDefinition `json:"Definition"`
}

type importJobs struct {
	Item []importJob `json:"Item"`
}

type exportJobs struct {
	Item []exportJob `json:"Item"`
}

// jobStates is Pinfold's GetImportJobStates response: every state a job entered, in order.
type jobStates struct {
	States []struct {
		Status string `json:"Status"`
		Time   string `json:"Time"`
	} `json:"States"`
}

type segment struct {
	ID               string `json:"Id"`
	Name             string `json:"Name"`
	SegmentType      string `json:"SegmentType"`
	Version          int    `json:"Version"`
	CreationDate     string `json:"CreationDate"`
	LastModifiedDate string `json:"LastModifiedDate"`
	ImportDefinition *struct {
		ChannelCounts map[string]int `json:"ChannelCounts"`
		Size          int            `json:"Size"`
		S3URL         string         `json:"S3Url"`
		Format        string         `json:"Format"`
	} `json:"ImportDefinition"`
}

type segments struct {
	Item []segment `json:"Item"`
}

// jobView is a job's progress as the jobs page and its JSON show it.
type jobView struct {
	ID         string `json:"id"`
	Status     string `json:"status"`
	Class      string `json:"class"`
	Terminal   bool   `json:"terminal"`
	Percent    int    `json:"percent"`
	Pieces     string `json:"pieces"`
	Processed  string `json:"processed"`
	Failures   string `json:"failures"`
	Rate       string `json:"rate"`
	Duration   string `json:"duration"`
	HasFailure bool   `json:"hasFailures"`
	Created    string `json:"created"`
}

// view computes what a job's progress looks like at now.
func (j *job) view(now time.Time) jobView {
	v := jobView{ID: j.ID, Status: j.JobStatus, Class: stateClass(j.JobStatus),
		Terminal:  j.JobStatus == "COMPLETED" || j.JobStatus == "FAILED",
		Processed: formatNumber(j.TotalProcessed), Failures: formatNumber(j.TotalFailures),
		HasFailure: j.TotalFailures > 0 || j.FailedPieces > 0, Created: formatDate(j.CreationDate)}
	done := j.CompletedPieces + j.FailedPieces
	switch {
	case j.JobStatus == "COMPLETED":
		v.Percent = 100
	case j.TotalPieces > 0:
		v.Percent = min(100, done*100/j.TotalPieces)
	}
	v.Pieces = formatNumber(int64(done)) + " of " + formatNumber(int64(j.TotalPieces)) + " pieces"
	if j.TotalPieces == 0 && !v.Terminal {
		v.Pieces = "planning…"
	}
	start, err := time.Parse(time.RFC3339Nano, j.CreationDate)
	if err != nil {
		return v
	}
	end := now
	if t, err := time.Parse(time.RFC3339Nano, j.CompletionDate); err == nil {
		end = t
	}
	d := max(end.Sub(start), 0)
	v.Duration = formatDuration(d)
	if d > 0 {
		v.Rate = formatRate(float64(j.TotalProcessed) / d.Seconds())
	} else {
		v.Rate = formatRate(0)
	}
	return v
}

// timelineEntry is one state of a job as its page and its JSON show it.
type timelineEntry struct {
	State   string `json:"state"`
	Class   string `json:"class"`
	Time    string `json:"time"` // ISO 8601; "" when not recorded
	When    string `json:"when"` // Time as people read it
	Note    string `json:"note"` // how long the job stayed in the state
	Current bool   `json:"current"`
}

// timeline turns a job's recorded states into its timeline at now: each state with how long
// the job stayed in it; the last one, while the job runs, marked as now.
//
// Jobs stored before Pinfold recorded states have only CREATED and, once ended, their end.
// Their gaps are told, not measured: a waiting state (CREATED, PENDING_JOB) followed straight
// by an end is one, since a job is claimed before it can end; and a job running then has not
// recorded the state it is in, which is shown last, without a time.
func (j *job) timeline(states jobStates, now time.Time) []timelineEntry {
	entries := make([]timelineEntry, 0, len(states.States)+1)
	var at []time.Time
	recorded := false
	for _, st := range states.States {
		t, _ := time.Parse(time.RFC3339Nano, st.Time)
		at = append(at, t)
		entries = append(entries, timelineEntry{State: st.Status, Class: stateClass(st.Status), Time: st.Time, When: formatTime(t)})
		recorded = recorded || st.Status == j.JobStatus
	}
	const gap = "until a state that was not recorded"
	for i := range entries {
		switch {
		case i+1 < len(entries) && waiting(entries[i].State) && terminal(entries[i+1].State):
			entries[i].Note = gap
		case i+1 < len(entries):
			entries[i].Note = "for " + formatDuration(max(at[i+1].Sub(at[i]), 0))
		case !recorded:
			entries[i].Note = gap
		case terminal(entries[i].State):
			entries[i].Note = "ended after " + formatDuration(max(at[i].Sub(at[0]), 0))
		default:
			entries[i].Note = "now, for " + formatDuration(max(now.Sub(at[i]), 0))
			entries[i].Current = true
		}
	}
	if !recorded {
		entries = append(entries, timelineEntry{State: j.JobStatus, Class: stateClass(j.JobStatus),
			Note: "now; when it began was not recorded", Current: !terminal(j.JobStatus)})
	}
	return entries
}

// waiting reports whether a job in state has not been claimed yet.
func waiting(state string) bool { return state == "CREATED" || state == "PENDING_JOB" }

// terminal reports whether a job in state has ended.
func terminal(state string) bool { return state == "COMPLETED" || state == "FAILED" }
