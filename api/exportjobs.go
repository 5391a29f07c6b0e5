package api

import (
	"net/http"
	"slices"
	"strings"

	"github.com/pinfold/pinfold"
	"github.com/pinfold/pinfold/s3"
)

// Pinpoint's export job shapes (PINPOINT.md §2.3 and Appendix), kept beside their handlers.

type exportJobRequest struct {
	RoleARN        *string `json:"RoleArn"`
	S3URLPrefix    *string `json:"S3UrlPrefix"`
	SegmentID      *string `json:"SegmentId"`
	SegmentVersion *int    `json:"SegmentVersion"`
}

type exportJobResource struct {
	RoleARN        string `json:"RoleArn"`
	S3URLPrefix    string `json:"S3UrlPrefix"`
	SegmentID      string `json:"SegmentId,omitempty"`
	SegmentVersion int    `json:"SegmentVersion,omitempty"`
}

type exportJobResponse struct {
	ApplicationID   string            `json:"ApplicationId"`
	CompletedPieces int               `json:"CompletedPieces"`
	CompletionDate  string            `json:"CompletionDate,omitempty"`
	CreationDate    string            `json:"CreationDate"`
	Definition      exportJobResource `json:"Definition"`
	FailedPieces    int               `json:"FailedPieces"`
	Failures        []string          `json:"Failures,omitempty"`
	ID              string            `json:"Id"`
	JobStatus       string            `json:"JobStatus"`
	TotalFailures   int64             `json:"TotalFailures"`
	TotalPieces     int               `json:"TotalPieces"`
	TotalProcessed  int64             `json:"TotalProcessed"`
	Type            string            `json:"Type"`
}

type exportJobsResponse struct {
	Item      []exportJobResponse `json:"Item"`
	NextToken string              `json:"NextToken,omitempty"`
}

func toExportJobResponse(j *pinfold.ExportJob) exportJobResponse {
	d := j.Definition
	resp := exportJobResponse{
		ApplicationID: j.AppID, CompletedPieces: j.CompletedPieces, CreationDate: pinfold.FormatISO8601(j.CreatedAt),
		Definition:   exportJobResource{RoleARN: d.RoleARN, S3URLPrefix: d.S3URLPrefix, SegmentID: d.SegmentID, SegmentVersion: d.SegmentVersion},
		FailedPieces: j.FailedPieces, Failures: j.Failures, ID: j.ID, JobStatus: j.Status,
		TotalFailures: j.TotalFailures, TotalPieces: j.TotalPieces, TotalProcessed: j.TotalProcessed, Type: pinfold.JobTypeExport,
	}
	if !j.CompletedAt.IsZero() {
		resp.CompletionDate = pinfold.FormatISO8601(j.CompletedAt)
	}
	return resp
}

// exportJobs returns the export job store, or ENOTFOUND when the server has none.
func (s *Server) exportJobs() (pinfold.ExportJobStore, error) {
	if s.ExportJobs == nil {
		return nil, pinfold.Errorf(pinfold.ENOTFOUND, "export jobs are not served here")
	}
	return s.ExportJobs, nil
}

func (s *Server) createExportJob(w http.ResponseWriter, r *http.Request, body []byte) error {
	ctx := r.Context()
	store, err := s.exportJobs()
	if err != nil {
		return err
	}
	app, err := s.Apps.FindAppByID(ctx, r.PathValue("app"))
	if err != nil {
		return err
	}
	var req exportJobRequest
	if err := decodeBody(body, "ExportJobRequest", &req); err != nil {
		return err
	}
	def, err := s.exportDefinition(&req)
	if err != nil {
		return err
	}
	if def.SegmentID != "" {
		// An unknown segment or version is a 404 now rather than a failed job later.
		if def.SegmentVersion > 0 {
			_, err = s.Segments.FindSegmentVersion(ctx, app.ID, def.SegmentID, def.SegmentVersion)
		} else {
			_, err = s.Segments.FindSegment(ctx, app.ID, def.SegmentID)
		}
		if err != nil {
			return err
		}
	}
	job := &pinfold.ExportJob{ID: s.NewID(), AppID: app.ID, Definition: *def, Status: pinfold.JobCreated, CreatedAt: s.Now()}
	if err := store.CreateExportJob(ctx, job); err != nil {
		return err
	}
	if s.Jobs != nil {
		s.Jobs.Notify()
	}
	writeJSON(w, http.StatusAccepted, toExportJobResponse(job))
	return nil
}

// exportDefinition validates an ExportJobRequest as CreateImportJob validates its request.
func (s *Server) exportDefinition(req *exportJobRequest) (*pinfold.ExportDefinition, error) {
	def := &pinfold.ExportDefinition{}
	if req.RoleARN != nil {
		def.RoleARN = *req.RoleARN
	}
	if req.S3URLPrefix != nil {
		def.S3URLPrefix = *req.S3URLPrefix
	}
	if req.SegmentID != nil {
		def.SegmentID = *req.SegmentID
	}
	if req.SegmentVersion != nil {
		def.SegmentVersion = *req.SegmentVersion
	}
	switch {
	case req.RoleARN == nil:
		return nil, pinfold.Errorf(pinfold.EINVALID, "RoleArn is required: the ARN of an IAM role, arn:aws:iam::123456789012:role/NAME")
	case !roleARN.MatchString(def.RoleARN):
		return nil, pinfold.Errorf(pinfold.EINVALID, "RoleArn must be an IAM role ARN such as arn:aws:iam::123456789012:role/NAME, got %q", def.RoleARN)
	case req.S3URLPrefix == nil:
		return nil, pinfold.Errorf(pinfold.EINVALID, "S3UrlPrefix is required: s3://bucket/folder/")
	case req.SegmentVersion != nil && def.SegmentID == "":
		return nil, pinfold.Errorf(pinfold.EINVALID, "SegmentVersion needs SegmentId: the version of which segment to export")
	case req.SegmentVersion != nil && def.SegmentVersion < 1:
		return nil, pinfold.Errorf(pinfold.EINVALID, "SegmentVersion must be 1 or more, got %d", def.SegmentVersion)
	}
	bucket, _, err := s3.ParseURL(def.S3URLPrefix)
	if err != nil {
		return nil, pinfold.Errorf(pinfold.EINVALID, "S3UrlPrefix: %s", pinfold.ErrorMessage(err))
	}
	if len(s.AllowedBuckets) > 0 && !slices.Contains(s.AllowedBuckets, bucket) {
		return nil, pinfold.Errorf(pinfold.EINVALID, "S3UrlPrefix names bucket %q, which this server may not write; allowed: %s", bucket, strings.Join(s.AllowedBuckets, ", "))
	}
	return def, nil
}

func (s *Server) getExportJob(w http.ResponseWriter, r *http.Request, _ []byte) error {
	store, err := s.exportJobs()
	if err != nil {
		return err
	}
	job, err := store.FindExportJob(r.Context(), r.PathValue("app"), r.PathValue("job"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toExportJobResponse(job))
	return nil
}

func (s *Server) getExportJobs(w http.ResponseWriter, r *http.Request, _ []byte) error {
	return s.listExportJobs(w, r, "")
}

func (s *Server) getSegmentExportJobs(w http.ResponseWriter, r *http.Request, _ []byte) error {
	return s.listExportJobs(w, r, r.PathValue("segment"))
}

func (s *Server) listExportJobs(w http.ResponseWriter, r *http.Request, segmentID string) error {
	store, err := s.exportJobs()
	if err != nil {
		return err
	}
	page, err := pageParams(r)
	if err != nil {
		return err
	}
	jobs, next, err := store.FindExportJobs(r.Context(), r.PathValue("app"), segmentID, page)
	if err != nil {
		return err
	}
	resp := exportJobsResponse{Item: []exportJobResponse{}, NextToken: next}
	for _, j := range jobs {
		resp.Item = append(resp.Item, toExportJobResponse(j))
	}
	writeJSON(w, http.StatusOK, resp)
	return nil
}
