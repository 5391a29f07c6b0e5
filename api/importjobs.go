package api

import (
	"encoding/json"
	"net/http"
	"path"
	"regexp"
	"slices"
	"strings"

	"github.com/pinfold/pinfold"
	"github.com/pinfold/pinfold/s3"
)

// roleARN is the form of an IAM role ARN in any partition.
var roleARN = regexp.MustCompile(`^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}$`)

func (s *Server) createImportJob(w http.ResponseWriter, r *http.Request, body []byte) error {
	ctx := r.Context()
	app, err := s.Apps.FindAppByID(ctx, r.PathValue("app"))
	if err != nil {
		return err
	}
	var req importJobRequest
	if err := decodeBody(body, "ImportJobRequest", &req); err != nil {
		return err
	}
	def, err := s.importDefinition(&req)
	if err != nil {
		return err
	}
	if def.SegmentID != "" {
		seg, err := s.Segments.FindSegment(ctx, app.ID, def.SegmentID)
		if err != nil {
			return err
		}
		if seg.Type != pinfold.SegmentTypeImport {
			return pinfold.Errorf(pinfold.EINVALID, "SegmentId %q names a %s segment; an import can add only to an IMPORT segment", seg.ID, seg.Type)
		}
	} else if def.DefineSegment {
		def.SegmentID = s.NewID()
	}
	job := &pinfold.ImportJob{ID: s.NewID(), AppID: app.ID, Definition: *def, Status: pinfold.JobCreated, CreatedAt: s.Now()}
	if err := s.ImportJobs.CreateImportJob(ctx, job); err != nil {
		return err
	}
	if s.Jobs != nil {
		s.Jobs.Notify()
	}
	writeJSON(w, http.StatusCreated, toImportJobResponse(job))
	return nil
}

// importDefinition validates an ImportJobRequest and fills its defaults.
func (s *Server) importDefinition(req *importJobRequest) (*pinfold.ImportDefinition, error) {
	str := func(p *string) string {
		if p == nil {
			return ""
		}
		return *p
	}
	def := &pinfold.ImportDefinition{
		Format: str(req.Format), S3URL: str(req.S3URL), RoleARN: str(req.RoleARN), ExternalID: str(req.ExternalID),
		RegisterEndpoints: req.RegisterEndpoints != nil && *req.RegisterEndpoints,
		DefineSegment:     req.DefineSegment != nil && *req.DefineSegment,
		SegmentName:       str(req.SegmentName), SegmentID: str(req.SegmentID),
	}
	switch {
	case req.Format == nil:
		return nil, pinfold.Errorf(pinfold.EINVALID, "Format is required: CSV or JSON")
	case def.Format != pinfold.FormatCSV && def.Format != pinfold.FormatJSON:
		return nil, pinfold.Errorf(pinfold.EINVALID, "Format must be CSV or JSON, got %q", def.Format)
	case req.S3URL == nil:
		return nil, pinfold.Errorf(pinfold.EINVALID, "S3Url is required: s3://bucket/key-or-prefix")
	case req.RoleARN == nil:
		return nil, pinfold.Errorf(pinfold.EINVALID, "RoleArn is required: the ARN of an IAM role, arn:aws:iam::123456789012:role/NAME")
	case !roleARN.MatchString(def.RoleARN):
		return nil, pinfold.Errorf(pinfold.EINVALID, "RoleArn must be an IAM role ARN such as arn:aws:iam::123456789012:role/NAME, got %q", def.RoleARN)
	case len(def.SegmentName) > 64:
		return nil, pinfold.Errorf(pinfold.EINVALID, "SegmentName may be at most 64 characters")
	}
	bucket, key, err := s3.ParseURL(def.S3URL)
	if err != nil {
		return nil, pinfold.Errorf(pinfold.EINVALID, "S3Url: %s", pinfold.ErrorMessage(err))
	}
	if len(s.AllowedBuckets) > 0 && !slices.Contains(s.AllowedBuckets, bucket) {
		return nil, pinfold.Errorf(pinfold.EINVALID, "S3Url names bucket %q, which this server may not read; allowed: %s", bucket, strings.Join(s.AllowedBuckets, ", "))
	}
	if def.ExternalID == "" {
		def.ExternalID = s.AccountID
	}
	if def.DefineSegment && def.SegmentID == "" && def.SegmentName == "" {
		// As Pinpoint's console does: the file name without its extension.
		name := strings.TrimSuffix(path.Base(key), "/")
		for ext := path.Ext(name); ext != ""; ext = path.Ext(name) {
			name = strings.TrimSuffix(name, ext)
		}
		if key == "" || name == "" || name == "." || name == "/" {
			name = bucket
		}
		def.SegmentName = name
	}
	return def, nil
}

func (s *Server) getImportJob(w http.ResponseWriter, r *http.Request, _ []byte) error {
	job, err := s.ImportJobs.FindImportJob(r.Context(), r.PathValue("app"), r.PathValue("job"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toImportJobResponse(job))
	return nil
}

func (s *Server) getImportJobs(w http.ResponseWriter, r *http.Request, _ []byte) error {
	return s.listImportJobs(w, r, "")
}

func (s *Server) getSegmentImportJobs(w http.ResponseWriter, r *http.Request, _ []byte) error {
	return s.listImportJobs(w, r, r.PathValue("segment"))
}

func (s *Server) listImportJobs(w http.ResponseWriter, r *http.Request, segmentID string) error {
	page, err := pageParams(r)
	if err != nil {
		return err
	}
	jobs, next, err := s.ImportJobs.FindImportJobs(r.Context(), r.PathValue("app"), segmentID, page)
	if err != nil {
		return err
	}
	resp := importJobsResponse{Item: []importJobResponse{}, NextToken: next}
	for _, j := range jobs {
		resp.Item = append(resp.Item, toImportJobResponse(j))
	}
	writeJSON(w, http.StatusOK, resp)
	return nil
}

// getImportJobStates returns every state a job has entered, with its time (a Pinfold
// addition: Pinpoint reports only CreationDate and CompletionDate).
func (s *Server) getImportJobStates(w http.ResponseWriter, r *http.Request, _ []byte) error {
	states, err := s.ImportJobs.FindImportJobStates(r.Context(), r.PathValue("app"), r.PathValue("job"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toJobStatesResponse(states))
	return nil
}

// failureLine is one line of the full failure report.
type failureLine struct {
	Piece   int    `json:"Piece"`
	Line    int64  `json:"Line"`
	Message string `json:"Message"`
}

// getImportJobFailures streams every failure of a job as newline-delimited JSON, in file
// order (a Pinfold addition: Pinpoint reports only the first 100).
func (s *Server) getImportJobFailures(w http.ResponseWriter, r *http.Request, _ []byte) error {
	ctx := r.Context()
	appID, jobID := r.PathValue("app"), r.PathValue("job")
	page := pinfold.Page{Size: pinfold.MaxPageSize}
	failures, next, err := s.ImportJobs.FindImportFailures(ctx, appID, jobID, page)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.WriteHeader(http.StatusOK)
	enc := json.NewEncoder(w)
	for {
		for _, f := range failures {
			if err := enc.Encode(failureLine{f.Piece, f.Line, f.Message}); err != nil {
				return nil // the client went away
			}
		}
		if next == "" {
			return nil
		}
		page.Token = next
		if failures, next, err = s.ImportJobs.FindImportFailures(ctx, appID, jobID, page); err != nil {
			s.Logger.Error("stream failures", append(logAttrs(r), "error", err)...)
			return nil // the status is sent; the truncated body says the rest
		}
	}
}
