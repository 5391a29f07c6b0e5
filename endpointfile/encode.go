package endpointfile

import (
	"bufio"
	"encoding/json"
	"io"

	"github.com/pinfold/pinfold"
)

// EndpointResponse is Pinpoint's EndpointResponse shape (PINPOINT.md §2.4): the body of
// GetEndpoint and one line of an export file. The API and the exporter share it, so that an
// export holds exactly what GetEndpoint returns.
type EndpointResponse struct {
	Address        string               `json:"Address,omitempty"`
	ApplicationID  string               `json:"ApplicationId"`
	Attributes     pinfold.Attributes   `json:"Attributes,omitempty"`
	ChannelType    string               `json:"ChannelType,omitempty"`
	CohortID       string               `json:"CohortId"`
	CreationDate   string               `json:"CreationDate"`
	Demographic    *EndpointDemographic `json:"Demographic,omitempty"`
	EffectiveDate  string               `json:"EffectiveDate,omitempty"`
	EndpointStatus string               `json:"EndpointStatus,omitempty"`
	ID             string               `json:"Id"`
	Location       *EndpointLocation    `json:"Location,omitempty"`
	Metrics        pinfold.Metrics      `json:"Metrics,omitempty"`
	OptOut         string               `json:"OptOut,omitempty"`
	RequestID      string               `json:"RequestId,omitempty"`
	User           *EndpointUser        `json:"User,omitempty"`
}

// EndpointDemographic is Pinpoint's EndpointDemographic shape.
type EndpointDemographic struct {
	AppVersion      string `json:"AppVersion,omitempty"`
	Locale          string `json:"Locale,omitempty"`
	Make            string `json:"Make,omitempty"`
	Model           string `json:"Model,omitempty"`
	ModelVersion    string `json:"ModelVersion,omitempty"`
	Platform        string `json:"Platform,omitempty"`
	PlatformVersion string `json:"PlatformVersion,omitempty"`
	Timezone        string `json:"Timezone,omitempty"`
}

// EndpointLocation is Pinpoint's EndpointLocation shape.
type EndpointLocation struct {
	City       string   `json:"City,omitempty"`
	Country    string   `json:"Country,omitempty"`
	Latitude   *float64 `json:"Latitude,omitempty"`
	Longitude  *float64 `json:"Longitude,omitempty"`
	PostalCode string   `json:"PostalCode,omitempty"`
	Region     string   `json:"Region,omitempty"`
}

// EndpointUser is Pinpoint's EndpointUser shape.
type EndpointUser struct {
	UserAttributes pinfold.Attributes `json:"UserAttributes,omitempty"`
	UserID         string             `json:"UserId,omitempty"`
}

// NewEndpointResponse returns e in Pinpoint's EndpointResponse shape. Empty strings,
// attributes, metrics and nested objects are left out, as a client cannot tell them from
// absent ones.
func NewEndpointResponse(e *pinfold.Endpoint) EndpointResponse {
	resp := EndpointResponse{
		Address: e.Address, ApplicationID: e.AppID, Attributes: e.Attributes, ChannelType: e.ChannelType,
		CohortID: e.CohortID, CreationDate: pinfold.FormatISO8601(e.CreatedAt), EffectiveDate: e.EffectiveDate,
		EndpointStatus: e.EndpointStatus, ID: e.ID, Metrics: e.Metrics, OptOut: e.OptOut, RequestID: e.RequestID,
	}
	if d := e.Demographic; d != (pinfold.Demographic{}) {
		resp.Demographic = &EndpointDemographic{d.AppVersion, d.Locale, d.Make, d.Model, d.ModelVersion, d.Platform, d.PlatformVersion, d.Timezone}
	}
	if l := e.Location; l != (pinfold.Location{}) {
		resp.Location = &EndpointLocation{l.City, l.Country, l.Latitude, l.Longitude, l.PostalCode, l.Region}
	}
	if e.User.UserID != "" || len(e.User.UserAttributes) > 0 {
		resp.User = &EndpointUser{UserAttributes: e.User.UserAttributes, UserID: e.User.UserID}
	}
	return resp
}

// Encoder writes endpoints as newline-delimited JSON, one EndpointResponse per line: the
// format of Pinpoint's export files, which NewJSONDecoder reads back (the read-only members
// ApplicationId, CohortId and CreationDate are ignored there).
type Encoder struct {
	w   *bufio.Writer
	enc *json.Encoder
}

// NewEncoder returns an Encoder writing to w. Call Flush when done.
func NewEncoder(w io.Writer) *Encoder {
	bw := bufio.NewWriterSize(w, readBufferSize)
	return &Encoder{w: bw, enc: json.NewEncoder(bw)}
}

// Encode writes e as one line.
func (e *Encoder) Encode(endpoint *pinfold.Endpoint) error {
	return e.enc.Encode(NewEndpointResponse(endpoint))
}

// Flush writes what is buffered to the underlying writer.
func (e *Encoder) Flush() error { return e.w.Flush() }
