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
