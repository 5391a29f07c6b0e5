package api

import (
	"fmt"
	"net/http"
	"strconv"

	"github.com/pinfold/pinfold"
)

// Pinpoint's JSON shapes (PINPOINT.md Appendix). Request members are pointers so that absent
// and empty differ; response members follow the model's names exactly.

type createApplicationRequest struct {
	Name *string           `json:"Name"`
	Tags map[string]string `json:"tags"`
}

type applicationResponse struct {
	Arn          string            `json:"Arn"`
	ID           string            `json:"Id"`
	Name         string            `json:"Name"`
	Tags         map[string]string `json:"tags"`
	CreationDate string            `json:"CreationDate"`
}

type applicationsResponse struct {
	Item      []applicationResponse `json:"Item"`
	NextToken string                `json:"NextToken,omitempty"`
}

func (s *Server) appARN(appID string) string {
	return fmt.Sprintf("arn:aws:mobiletargeting:%s:%s:apps/%s", s.Region, s.AccountID, appID)
}

func (s *Server) toApplicationResponse(a *pinfold.App) applicationResponse {
	tags := a.Tags
	if tags == nil {
		tags = map[string]string{}
	}
	return applicationResponse{Arn: s.appARN(a.ID), ID: a.ID, Name: a.Name, Tags: tags, CreationDate: pinfold.FormatISO8601(a.CreatedAt)}
}

type importJobRequest struct {
	DefineSegment     *bool   `json:"DefineSegment"`
	ExternalID        *string `json:"ExternalId"`
	Format            *string `json:"Format"`
	RegisterEndpoints *bool   `json:"RegisterEndpoints"`
	RoleARN           *string `json:"RoleArn"`
	S3URL             *string `json:"S3Url"`
	SegmentID         *string `json:"SegmentId"`
	SegmentName       *string `json:"SegmentName"`
}

type importJobResource struct {
	DefineSegment     bool   `json:"DefineSegment"`
	ExternalID        string `json:"ExternalId,omitempty"`
	Format            string `json:"Format"`
	RegisterEndpoints bool   `json:"RegisterEndpoints"`
	RoleARN           string `json:"RoleArn"`
	S3URL             string `json:"S3Url"`
	SegmentID         string `json:"SegmentId,omitempty"`
	SegmentName       string `json:"SegmentName,omitempty"`
}

type importJobResponse struct {
	ApplicationID   string            `json:"ApplicationId"`
	CompletedPieces int               `json:"CompletedPieces"`
	CompletionDate  string            `json:"CompletionDate,omitempty"`
	CreationDate    string            `json:"CreationDate"`
	Definition      importJobResource `json:"Definition"`
	FailedPieces    int               `json:"FailedPieces"`
	Failures        []string          `json:"Failures,omitempty"`
	ID              string            `json:"Id"`
	JobStatus       string            `json:"JobStatus"`
	TotalFailures   int64             `json:"TotalFailures"`
	TotalPieces     int               `json:"TotalPieces"`
	TotalProcessed  int64             `json:"TotalProcessed"`
	Type            string            `json:"Type"`
}

type importJobsResponse struct {
	Item      []importJobResponse `json:"Item"`
	NextToken string              `json:"NextToken,omitempty"`
}

func toImportJobResponse(j *pinfold.ImportJob) importJobResponse {
	d := j.Definition
	resp := importJobResponse{
		ApplicationID: j.AppID, CompletedPieces: j.CompletedPieces, CreationDate: pinfold.FormatISO8601(j.CreatedAt),
		Definition: importJobResource{
			DefineSegment: d.DefineSegment, ExternalID: d.ExternalID, Format: d.Format, RegisterEndpoints: d.RegisterEndpoints,
			RoleARN: d.RoleARN, S3URL: d.S3URL, SegmentID: d.SegmentID, SegmentName: d.SegmentName,
		},
		FailedPieces: j.FailedPieces, Failures: j.Failures, ID: j.ID, JobStatus: j.Status,
		TotalFailures: j.TotalFailures, TotalPieces: j.TotalPieces, TotalProcessed: j.TotalProcessed, Type: "IMPORT",
	}
	if !j.CompletedAt.IsZero() {
		resp.CompletionDate = pinfold.FormatISO8601(j.CompletedAt)
	}
	return resp
}

type segmentImportResource struct {
	ChannelCounts map[string]int `json:"ChannelCounts"`
	ExternalID    string         `json:"ExternalId"`
	Format        string         `json:"Format"`
	RoleARN       string         `json:"RoleArn"`
	S3URL         string         `json:"S3Url"`
	Size          int            `json:"Size"`
}

type segmentResponse struct {
	ApplicationID    string                 `json:"ApplicationId"`
	Arn              string                 `json:"Arn"`
	CreationDate     string                 `json:"CreationDate"`
	ID               string                 `json:"Id"`
	ImportDefinition *segmentImportResource `json:"ImportDefinition,omitempty"`
	LastModifiedDate string                 `json:"LastModifiedDate,omitempty"`
	Name             string                 `json:"Name,omitempty"`
	SegmentType      string                 `json:"SegmentType"`
	Tags             map[string]string      `json:"tags,omitempty"`
	Version          int                    `json:"Version"`
}

type segmentsResponse struct {
	Item      []segmentResponse `json:"Item"`
	NextToken string            `json:"NextToken,omitempty"`
}

func (s *Server) toSegmentResponse(seg *pinfold.Segment) segmentResponse {
	resp := segmentResponse{
		ApplicationID: seg.AppID, Arn: s.appARN(seg.AppID) + "/segments/" + seg.ID,
		CreationDate: pinfold.FormatISO8601(seg.CreatedAt), ID: seg.ID, Name: seg.Name,
		SegmentType: seg.Type, Tags: seg.Tags, Version: seg.Version,
		LastModifiedDate: pinfold.FormatISO8601(seg.UpdatedAt),
	}
	if imp := seg.Import; imp != nil {
		counts := imp.ChannelCounts
		if counts == nil {
			counts = map[string]int{}
		}
		resp.ImportDefinition = &segmentImportResource{ChannelCounts: counts, ExternalID: imp.ExternalID,
			Format: imp.Format, RoleARN: imp.RoleARN, S3URL: imp.S3URL, Size: imp.Size}
	}
	return resp
}

type endpointDemographic struct {
	AppVersion      string `json:"AppVersion,omitempty"`
	Locale          string `json:"Locale,omitempty"`
	Make            string `json:"Make,omitempty"`
	Model           string `json:"Model,omitempty"`
	ModelVersion    string `json:"ModelVersion,omitempty"`
	Platform        string `json:"Platform,omitempty"`
	PlatformVersion string `json:"PlatformVersion,omitempty"`
	Timezone        string `json:"Timezone,omitempty"`
}

type endpointLocation struct {
	City       string   `json:"City,omitempty"`
	Country    string   `json:"Country,omitempty"`
	Latitude   *float64 `json:"Latitude,omitempty"`
	Longitude  *float64 `json:"Longitude,omitempty"`
	PostalCode string   `json:"PostalCode,omitempty"`
	Region     string   `json:"Region,omitempty"`
}

type endpointUser struct {
	UserAttributes map[string][]string `json:"UserAttributes,omitempty"`
	UserID         string              `json:"UserId,omitempty"`
}

type endpointResponse struct {
	Address        string               `json:"Address,omitempty"`
	ApplicationID  string               `json:"ApplicationId"`
	Attributes     map[string][]string  `json:"Attributes,omitempty"`
	ChannelType    string               `json:"ChannelType,omitempty"`
	CohortID       string               `json:"CohortId"`
	CreationDate   string               `json:"CreationDate"`
	Demographic    *endpointDemographic `json:"Demographic,omitempty"`
	EffectiveDate  string               `json:"EffectiveDate,omitempty"`
	EndpointStatus string               `json:"EndpointStatus,omitempty"`
	ID             string               `json:"Id"`
	Location       *endpointLocation    `json:"Location,omitempty"`
	Metrics        map[string]float64   `json:"Metrics,omitempty"`
	OptOut         string               `json:"OptOut,omitempty"`
	RequestID      string               `json:"RequestId,omitempty"`
	User           *endpointUser        `json:"User,omitempty"`
}

func toEndpointResponse(e *pinfold.Endpoint) endpointResponse {
	resp := endpointResponse{
		Address: e.Address, ApplicationID: e.AppID, Attributes: e.Attributes, ChannelType: e.ChannelType,
		CohortID: e.CohortID, CreationDate: pinfold.FormatISO8601(e.CreatedAt), EffectiveDate: e.EffectiveDate,
		EndpointStatus: e.EndpointStatus, ID: e.ID, Metrics: e.Metrics, OptOut: e.OptOut, RequestID: e.RequestID,
	}
	if d := e.Demographic; d != (pinfold.Demographic{}) {
		resp.Demographic = &endpointDemographic{d.AppVersion, d.Locale, d.Make, d.Model, d.ModelVersion, d.Platform, d.PlatformVersion, d.Timezone}
	}
	if l := e.Location; l != (pinfold.Location{}) {
		resp.Location = &endpointLocation{l.City, l.Country, l.Latitude, l.Longitude, l.PostalCode, l.Region}
	}
	if e.User.UserID != "" || len(e.User.UserAttributes) > 0 {
		resp.User = &endpointUser{UserAttributes: e.User.UserAttributes, UserID: e.User.UserID}
	}
	return resp
}

// pageParams reads the page-size and token query parameters of a list operation.
func pageParams(r *http.Request) (pinfold.Page, error) {
	q := r.URL.Query()
	page := pinfold.Page{Token: q.Get("token")}
	if v := q.Get("page-size"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > pinfold.MaxPageSize {
			return page, pinfold.Errorf(pinfold.EINVALID, "page-size must be a whole number from 1 to %d, got %q", pinfold.MaxPageSize, v)
		}
		page.Size = n
	}
	return page, nil
}
