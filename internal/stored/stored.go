// Package stored holds what the SQLite and PostgreSQL stores write the same way: the JSON
// document an endpoint is kept as, the JSON documents of a segment version (SegmentDocs),
// and the opaque page tokens of list operations.
package stored

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/pinfold/pinfold"
)

// endpointDoc is the JSON an endpoint is stored as. Short keys keep rows small.
type endpointDoc struct {
	ChannelType    string              `json:"ct,omitempty"`
	Address        string              `json:"a,omitempty"`
	Attributes     map[string][]string `json:"at,omitempty"`
	Demographic    pinfold.Demographic `json:"d"`
	EffectiveDate  string              `json:"ed,omitempty"`
	EndpointStatus string              `json:"es,omitempty"`
	Location       pinfold.Location    `json:"l"`
	Metrics        map[string]float64  `json:"m,omitempty"`
	OptOut         string              `json:"o,omitempty"`
	RequestID      string              `json:"r,omitempty"`
	UserID         string              `json:"u,omitempty"`
	UserAttributes map[string][]string `json:"ua,omitempty"`
	CohortID       string              `json:"c"`
	CreatedAt      int64               `json:"cr"`
}

// EncodeEndpoint returns the stored document of e (without its app and ID, which are keys):
// what encoding/json writes for endpointDoc (see AppendEndpoint).
func EncodeEndpoint(e *pinfold.Endpoint) ([]byte, error) {
	return AppendEndpoint(make([]byte, 0, 1024), e)
}

// DecodeEndpoint turns a stored document back into the endpoint appID/id.
func DecodeEndpoint(appID, id string, data []byte) (*pinfold.Endpoint, error) {
	e := &pinfold.Endpoint{ID: id, AppID: appID}
	if decodeDoc(data, e) {
		return e, nil
	}
	return decodeEndpointJSON(appID, id, data)
}

// decodeEndpointJSON is DecodeEndpoint through encoding/json, for the documents decodeDoc
// leaves to it.
func decodeEndpointJSON(appID, id string, data []byte) (*pinfold.Endpoint, error) {
	var d endpointDoc
	if err := json.Unmarshal(data, &d); err != nil {
		return nil, fmt.Errorf("endpoint %s: %w", id, err)
	}
	return &pinfold.Endpoint{
		ID: id, AppID: appID, ChannelType: d.ChannelType, Address: d.Address,
		Attributes: pinfold.AttributesOf(d.Attributes), Demographic: d.Demographic, EffectiveDate: d.EffectiveDate,
		EndpointStatus: d.EndpointStatus, Location: d.Location, Metrics: pinfold.MetricsOf(d.Metrics),
		OptOut: d.OptOut, RequestID: d.RequestID,
		User:     pinfold.User{UserID: d.UserID, UserAttributes: pinfold.AttributesOf(d.UserAttributes)},
		CohortID: d.CohortID, CreatedAt: FromNanos(d.CreatedAt),
	}, nil
}

// Nanos is how the stores keep times: Unix nanoseconds, 0 for the zero time.
func Nanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// FromNanos is the inverse of Nanos, in UTC.
func FromNanos(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

// PageSize returns the number of items to return for a page request.
func PageSize(p pinfold.Page) int {
	switch {
	case p.Size <= 0:
		return pinfold.DefaultPageSize
	case p.Size > pinfold.MaxPageSize:
		return pinfold.MaxPageSize
	}
	return p.Size
}

// EncodeToken returns an opaque NextToken: a kind and a position, base64url-encoded.
func EncodeToken(kind string, pos ...string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(kind + ":" + strings.Join(pos, "\x00")))
}

// DecodeToken returns the position in a token of kind, nil for "", or EINVALID.
func DecodeToken(kind, token string) ([]string, error) {
	if token == "" {
		return nil, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(token)
	if err == nil && strings.HasPrefix(string(b), kind+":") {
		return strings.Split(strings.TrimPrefix(string(b), kind+":"), "\x00"), nil
	}
	return nil, badToken(token)
}

// DecodeSeqToken decodes a token whose position is one integer (0 for "").
func DecodeSeqToken(kind, token string) (int64, error) {
	pos, err := DecodeToken(kind, token)
	if err != nil || pos == nil {
		return 0, err
	}
	n, err := strconv.ParseInt(pos[0], 10, 64)
	if err != nil || len(pos) != 1 {
		return 0, badToken(token)
	}
	return n, nil
}

// DecodeFailureToken decodes the position (piece, line, seq) of a failures token; (-2, 0, 0)
// for "", before every failure.
func DecodeFailureToken(token string) (piece, line, seq int64, err error) {
	pos, err := DecodeToken("failures", token)
	if err != nil {
		return 0, 0, 0, err
	} else if pos == nil {
		return -2, 0, 0, nil
	}
	var errs [3]error
	if len(pos) == 3 {
		piece, errs[0] = strconv.ParseInt(pos[0], 10, 64)
		line, errs[1] = strconv.ParseInt(pos[1], 10, 64)
		seq, errs[2] = strconv.ParseInt(pos[2], 10, 64)
		if errs[0] == nil && errs[1] == nil && errs[2] == nil {
			return piece, line, seq, nil
		}
	}
	return 0, 0, 0, badToken(token)
}

func badToken(token string) error {
	return pinfold.Errorf(pinfold.EINVALID, "token %q is not a NextToken this list returned", token)
}

// Addressed is the endpoints of one app in a batch that have an address: the stores make the
// app's other endpoints with these addresses INACTIVE before they write the batch.
type Addressed struct {
	AppID     string
	Addresses []string
	IDs       []string // the batch's endpoints, which keep their status
}

// AddressedByApp groups the endpoints that have an address by app, in order of first
// appearance.
func AddressedByApp(endpoints []*pinfold.Endpoint) []*Addressed {
	var groups []*Addressed
	byApp := map[string]*Addressed{}
	for _, e := range endpoints {
		if e.Address == "" {
			continue
		}
		g := byApp[e.AppID]
		if g == nil {
			g = &Addressed{AppID: e.AppID}
			byApp[e.AppID] = g
			groups = append(groups, g)
		}
		g.Addresses, g.IDs = append(g.Addresses, e.Address), append(g.IDs, e.ID)
	}
	return groups
}
