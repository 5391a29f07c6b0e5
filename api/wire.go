package api

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/pinfold/pinfold"
	"github.com/pinfold/pinfold/endpointfile"
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

// jobStatesResponse is a job's timeline, Pinfold's own (GetImportJobStates): every state the
// job entered, first to current, with the time it entered it.
type jobStatesResponse struct {
	States []jobStateResponse `json:"States"`
}

type jobStateResponse struct {
	Status string `json:"Status"`
	Time   string `json:"Time"`
}

func toJobStatesResponse(states []pinfold.JobStateChange) jobStatesResponse {
	resp := jobStatesResponse{States: []jobStateResponse{}}
	for _, c := range states {
		resp.States = append(resp.States, jobStateResponse{Status: c.Status, Time: pinfold.FormatISO8601(c.At)})
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
	Dimensions       *segmentDimensions     `json:"Dimensions,omitempty"`
	SegmentGroups    *segmentGroupList      `json:"SegmentGroups,omitempty"`
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
		Dimensions:       toWireDimensions(seg.Dimensions), SegmentGroups: toWireGroups(seg.Groups),
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

// endpointResponse is EndpointResponse. Export files hold the same shape, so it lives with
// their encoder in endpointfile.
type endpointResponse = endpointfile.EndpointResponse

func toEndpointResponse(e *pinfold.Endpoint) endpointResponse {
	return endpointfile.NewEndpointResponse(e)
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

// endpointRequest is EndpointRequest, the body of UpdateEndpoint. Every member is optional;
// null is absent (PINPOINT.md §1.4), also inside the maps.
type endpointRequest struct {
	Address        *string                     `json:"Address"`
	Attributes     map[string][]string         `json:"Attributes"`
	ChannelType    *string                     `json:"ChannelType"`
	Demographic    *endpointDemographicRequest `json:"Demographic"`
	EffectiveDate  *string                     `json:"EffectiveDate"`
	EndpointStatus *string                     `json:"EndpointStatus"`
	Location       *endpointLocationRequest    `json:"Location"`
	Metrics        map[string]*float64         `json:"Metrics"`
	OptOut         *string                     `json:"OptOut"`
	RequestID      *string                     `json:"RequestId"`
	User           *endpointUserRequest        `json:"User"`
}

// endpointBatchItem is EndpointBatchItem: an EndpointRequest with the endpoint's Id.
type endpointBatchItem struct {
	endpointRequest
	ID *string `json:"Id"`
}

// endpointBatchRequest is EndpointBatchRequest, the body of UpdateEndpointsBatch.
type endpointBatchRequest struct {
	Item []endpointBatchItem `json:"Item"`
}

type endpointDemographicRequest struct {
	AppVersion      *string `json:"AppVersion"`
	Locale          *string `json:"Locale"`
	Make            *string `json:"Make"`
	Model           *string `json:"Model"`
	ModelVersion    *string `json:"ModelVersion"`
	Platform        *string `json:"Platform"`
	PlatformVersion *string `json:"PlatformVersion"`
	Timezone        *string `json:"Timezone"`
}

type endpointLocationRequest struct {
	City       *string  `json:"City"`
	Country    *string  `json:"Country"`
	Latitude   *float64 `json:"Latitude"`
	Longitude  *float64 `json:"Longitude"`
	PostalCode *string  `json:"PostalCode"`
	Region     *string  `json:"Region"`
}

type endpointUserRequest struct {
	UserAttributes map[string][]string `json:"UserAttributes"`
	UserID         *string             `json:"UserId"`
}

// toEndpointUpdate turns an EndpointRequest into the partial write of endpoint id.
func toEndpointUpdate(id string, r *endpointRequest) *pinfold.EndpointUpdate {
	u := &pinfold.EndpointUpdate{ID: id, Address: r.Address, Attributes: presentValues(r.Attributes),
		ChannelType: r.ChannelType, EffectiveDate: r.EffectiveDate, EndpointStatus: r.EndpointStatus,
		OptOut: r.OptOut, RequestID: r.RequestID}
	for name, v := range r.Metrics {
		if v != nil {
			u.Metrics = append(u.Metrics, pinfold.Metric{Name: name, Value: *v})
		}
	}
	slices.SortFunc(u.Metrics, func(a, b pinfold.Metric) int { return strings.Compare(a.Name, b.Name) })
	if d := r.Demographic; d != nil {
		u.Demographic = pinfold.DemographicUpdate{AppVersion: d.AppVersion, Locale: d.Locale, Make: d.Make, Model: d.Model,
			ModelVersion: d.ModelVersion, Platform: d.Platform, PlatformVersion: d.PlatformVersion, Timezone: d.Timezone}
	}
	if l := r.Location; l != nil {
		u.Location = pinfold.LocationUpdate{City: l.City, Country: l.Country, PostalCode: l.PostalCode, Region: l.Region,
			Latitude: l.Latitude, Longitude: l.Longitude}
	}
	if usr := r.User; usr != nil {
		u.UserID, u.UserAttributes = usr.UserID, presentValues(usr.UserAttributes)
	}
	return u
}

// presentValues drops the attributes whose value was null and puts the others in order of
// name. An empty array stays: it removes the attribute.
func presentValues(attrs map[string][]string) pinfold.Attributes {
	var present pinfold.Attributes
	for name, values := range attrs {
		if values != nil {
			present = append(present, pinfold.Attribute{Name: name, Values: values})
		}
	}
	slices.SortFunc(present, func(a, b pinfold.Attribute) int { return strings.Compare(a.Name, b.Name) })
	return present
}

type endpointsResponse struct {
	Item []endpointResponse `json:"Item"`
}

func toEndpointsResponse(endpoints []*pinfold.Endpoint) endpointsResponse {
	resp := endpointsResponse{Item: make([]endpointResponse, len(endpoints))}
	for i, e := range endpoints {
		resp.Item[i] = toEndpointResponse(e)
	}
	return resp
}

// writeSegmentRequest is WriteSegmentRequest, the body of CreateSegment and UpdateSegment.
type writeSegmentRequest struct {
	Dimensions    *segmentDimensions `json:"Dimensions"`
	Name          *string            `json:"Name"`
	SegmentGroups *segmentGroupList  `json:"SegmentGroups"`
	Tags          map[string]string  `json:"tags"`
}

// The segment criteria shapes serve requests and responses alike. Members that were not
// sent are not returned (nil pointers and maps, empty enums), and empty maps and lists that
// were sent are returned empty, so a segment reads back as it was written.

type segmentDimensions struct {
	Attributes     map[string]attributeDimension `json:"Attributes,omitzero"`
	Behavior       *segmentBehaviors             `json:"Behavior,omitempty"`
	Demographic    *segmentDemographics          `json:"Demographic,omitempty"`
	Location       *segmentLocation              `json:"Location,omitempty"`
	Metrics        map[string]metricDimension    `json:"Metrics,omitzero"`
	UserAttributes map[string]attributeDimension `json:"UserAttributes,omitzero"`
}

type attributeDimension struct {
	AttributeType string   `json:"AttributeType,omitempty"`
	Values        []string `json:"Values"`
}

type segmentBehaviors struct {
	Recency *recencyDimension `json:"Recency,omitempty"`
}

type recencyDimension struct {
	Duration    string `json:"Duration"`
	RecencyType string `json:"RecencyType"`
}

type segmentDemographics struct {
	AppVersion *setDimension `json:"AppVersion,omitempty"`
	Channel    *setDimension `json:"Channel,omitempty"`
	DeviceType *setDimension `json:"DeviceType,omitempty"`
	Make       *setDimension `json:"Make,omitempty"`
	Model      *setDimension `json:"Model,omitempty"`
	Platform   *setDimension `json:"Platform,omitempty"`
}

type setDimension struct {
	DimensionType string   `json:"DimensionType,omitempty"`
	Values        []string `json:"Values"`
}

type segmentLocation struct {
	Country  *setDimension      `json:"Country,omitempty"`
	GPSPoint *gpsPointDimension `json:"GPSPoint,omitempty"`
}

type gpsPointDimension struct {
	Coordinates       *gpsCoordinates `json:"Coordinates"`
	RangeInKilometers *float64        `json:"RangeInKilometers,omitempty"`
}

type gpsCoordinates struct {
	Latitude  *float64 `json:"Latitude"`
	Longitude *float64 `json:"Longitude"`
}

type metricDimension struct {
	ComparisonOperator string   `json:"ComparisonOperator"`
	Value              *float64 `json:"Value"`
}

type segmentGroupList struct {
	Groups  []segmentGroup `json:"Groups,omitzero"`
	Include string         `json:"Include,omitempty"`
}

type segmentGroup struct {
	Dimensions     []segmentDimensions `json:"Dimensions,omitzero"`
	SourceSegments []segmentReference  `json:"SourceSegments,omitzero"`
	SourceType     string              `json:"SourceType,omitempty"`
	Type           string              `json:"Type,omitempty"`
}

type segmentReference struct {
	ID      string `json:"Id"`
	Version *int   `json:"Version,omitempty"`
}

// toSegmentUpdate turns a WriteSegmentRequest into a segment write. The required numbers the
// domain types cannot mark as absent (Value, Coordinates) are checked here; everything else
// is checked by pinfold.SegmentUpdate.Validate.
func toSegmentUpdate(r *writeSegmentRequest) (*pinfold.SegmentUpdate, error) {
	u := &pinfold.SegmentUpdate{Name: r.Name, Tags: r.Tags}
	var err error
	if r.Dimensions != nil {
		if u.Dimensions, err = fromWireDimensions("Dimensions", r.Dimensions); err != nil {
			return nil, err
		}
	}
	if l := r.SegmentGroups; l != nil {
		u.Groups = &pinfold.SegmentGroupList{Include: l.Include}
		if l.Groups != nil {
			u.Groups.Groups = make([]pinfold.SegmentGroup, len(l.Groups))
		}
		for i, g := range l.Groups {
			dst := &u.Groups.Groups[i]
			dst.SourceType, dst.Type = g.SourceType, g.Type
			if g.SourceSegments != nil {
				dst.SourceSegments = make([]pinfold.SegmentReference, len(g.SourceSegments))
			}
			for j, ref := range g.SourceSegments {
				dst.SourceSegments[j] = pinfold.SegmentReference{ID: ref.ID, Version: ref.Version}
			}
			if g.Dimensions != nil {
				dst.Dimensions = make([]pinfold.SegmentDimensions, len(g.Dimensions))
			}
			for j := range g.Dimensions {
				d, err := fromWireDimensions(fmt.Sprintf("SegmentGroups.Groups[%d].Dimensions[%d]", i, j), &g.Dimensions[j])
				if err != nil {
					return nil, err
				}
				dst.Dimensions[j] = *d
			}
		}
	}
	return u, nil
}

func fromWireDimensions(path string, w *segmentDimensions) (*pinfold.SegmentDimensions, error) {
	d := &pinfold.SegmentDimensions{Attributes: fromWireAttributes(w.Attributes), UserAttributes: fromWireAttributes(w.UserAttributes)}
	if w.Metrics != nil {
		d.Metrics = make(map[string]pinfold.MetricDimension, len(w.Metrics))
	}
	for name, m := range w.Metrics {
		if m.Value == nil {
			return nil, pinfold.Errorf(pinfold.EINVALID, "%s.Metrics.%s.Value is required: the number to compare the metric with", path, name)
		}
		d.Metrics[name] = pinfold.MetricDimension{ComparisonOperator: m.ComparisonOperator, Value: *m.Value}
	}
	if b := w.Behavior; b != nil {
		d.Behavior = &pinfold.SegmentBehaviors{}
		if r := b.Recency; r != nil {
			d.Behavior.Recency = &pinfold.RecencyDimension{Duration: r.Duration, RecencyType: r.RecencyType}
		}
	}
	if dem := w.Demographic; dem != nil {
		d.Demographic = &pinfold.SegmentDemographics{AppVersion: fromWireSet(dem.AppVersion), Channel: fromWireSet(dem.Channel),
			DeviceType: fromWireSet(dem.DeviceType), Make: fromWireSet(dem.Make), Model: fromWireSet(dem.Model), Platform: fromWireSet(dem.Platform)}
	}
	if l := w.Location; l != nil {
		d.Location = &pinfold.SegmentLocation{Country: fromWireSet(l.Country)}
		if g := l.GPSPoint; g != nil {
			c := g.Coordinates
			if c == nil || c.Latitude == nil || c.Longitude == nil {
				return nil, pinfold.Errorf(pinfold.EINVALID, "%s.Location.GPSPoint.Coordinates is required, with its Latitude and Longitude", path)
			}
			d.Location.GPSPoint = &pinfold.GPSPointDimension{Coordinates: pinfold.GPSCoordinates{Latitude: *c.Latitude, Longitude: *c.Longitude},
				RangeInKilometers: g.RangeInKilometers}
		}
	}
	return d, nil
}

func fromWireAttributes(w map[string]attributeDimension) map[string]pinfold.AttributeDimension {
	if w == nil {
		return nil
	}
	d := make(map[string]pinfold.AttributeDimension, len(w))
	for name, a := range w {
		d[name] = pinfold.AttributeDimension{AttributeType: a.AttributeType, Values: a.Values}
	}
	return d
}

func fromWireSet(w *setDimension) *pinfold.SetDimension {
	if w == nil {
		return nil
	}
	return &pinfold.SetDimension{DimensionType: w.DimensionType, Values: w.Values}
}

func toWireDimensions(d *pinfold.SegmentDimensions) *segmentDimensions {
	if d == nil {
		return nil
	}
	w := &segmentDimensions{Attributes: toWireAttributes(d.Attributes), UserAttributes: toWireAttributes(d.UserAttributes)}
	if d.Metrics != nil {
		w.Metrics = make(map[string]metricDimension, len(d.Metrics))
	}
	for name, m := range d.Metrics {
		w.Metrics[name] = metricDimension{ComparisonOperator: m.ComparisonOperator, Value: &m.Value}
	}
	if b := d.Behavior; b != nil {
		w.Behavior = &segmentBehaviors{}
		if r := b.Recency; r != nil {
			w.Behavior.Recency = &recencyDimension{Duration: r.Duration, RecencyType: r.RecencyType}
		}
	}
	if dem := d.Demographic; dem != nil {
		w.Demographic = &segmentDemographics{AppVersion: toWireSet(dem.AppVersion), Channel: toWireSet(dem.Channel),
			DeviceType: toWireSet(dem.DeviceType), Make: toWireSet(dem.Make), Model: toWireSet(dem.Model), Platform: toWireSet(dem.Platform)}
	}
	if l := d.Location; l != nil {
		w.Location = &segmentLocation{Country: toWireSet(l.Country)}
		if g := l.GPSPoint; g != nil {
			w.Location.GPSPoint = &gpsPointDimension{Coordinates: &gpsCoordinates{Latitude: &g.Coordinates.Latitude, Longitude: &g.Coordinates.Longitude},
				RangeInKilometers: g.RangeInKilometers}
		}
	}
	return w
}

func toWireAttributes(d map[string]pinfold.AttributeDimension) map[string]attributeDimension {
	if d == nil {
		return nil
	}
	w := make(map[string]attributeDimension, len(d))
	for name, a := range d {
		w[name] = attributeDimension{AttributeType: a.AttributeType, Values: a.Values}
	}
	return w
}

func toWireSet(d *pinfold.SetDimension) *setDimension {
	if d == nil {
		return nil
	}
	return &setDimension{DimensionType: d.DimensionType, Values: d.Values}
}

func toWireGroups(l *pinfold.SegmentGroupList) *segmentGroupList {
	if l == nil {
		return nil
	}
	w := &segmentGroupList{Include: l.Include}
	if l.Groups != nil {
		w.Groups = make([]segmentGroup, len(l.Groups))
	}
	for i, g := range l.Groups {
		dst := &w.Groups[i]
		dst.SourceType, dst.Type = g.SourceType, g.Type
		if g.SourceSegments != nil {
			dst.SourceSegments = make([]segmentReference, len(g.SourceSegments))
		}
		for j, ref := range g.SourceSegments {
			dst.SourceSegments[j] = segmentReference{ID: ref.ID, Version: ref.Version}
		}
		if g.Dimensions != nil {
			dst.Dimensions = make([]segmentDimensions, len(g.Dimensions))
		}
		for j := range g.Dimensions {
			dst.Dimensions[j] = *toWireDimensions(&g.Dimensions[j])
		}
	}
	return w
}

// segmentEndpointsResponse is the body of GetSegmentEndpoints (a Pinfold addition): one page
// of the IDs of a segment version's endpoints.
type segmentEndpointsResponse struct {
	Item      []string `json:"Item"`
	NextToken string   `json:"NextToken,omitempty"`
}

// createAccessKeyRequest is the body of Pinfold's CreateAccessKey (POST /v1/pinfold/keys).
type createAccessKeyRequest struct {
	AppIDs   []string `json:"AppIds"`
	ReadOnly *bool    `json:"ReadOnly"`
}

// accessKeyResponse is an access key as Pinfold's key routes return it. SecretAccessKey is
// set only in the answer to CreateAccessKey.
type accessKeyResponse struct {
	AccessKeyID     string   `json:"AccessKeyId"`
	SecretAccessKey string   `json:"SecretAccessKey,omitempty"`
	AppIDs          []string `json:"AppIds"`
	ReadOnly        bool     `json:"ReadOnly"`
	CreationDate    string   `json:"CreationDate"`
	RevokedDate     string   `json:"RevokedDate,omitempty"`
}

type accessKeysResponse struct {
	Item      []accessKeyResponse `json:"Item"`
	NextToken string              `json:"NextToken,omitempty"`
}

// toAccessKeyResponse returns k without its secret; an empty AppIds means every app.
func toAccessKeyResponse(k *pinfold.AccessKey) accessKeyResponse {
	resp := accessKeyResponse{AccessKeyID: k.ID, AppIDs: k.AppIDs, ReadOnly: k.ReadOnly, CreationDate: pinfold.FormatISO8601(k.CreatedAt)}
	if resp.AppIDs == nil {
		resp.AppIDs = []string{}
	}
	if k.Revoked() {
		resp.RevokedDate = pinfold.FormatISO8601(k.RevokedAt)
	}
	return resp
}
