package pinfold

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash/fnv"
	"math"
	"slices"
	"time"
	"unicode/utf8"
)

// ChannelTypes are the values Pinpoint accepts for an endpoint's ChannelType.
var ChannelTypes = []string{
	"PUSH", "GCM", "APNS", "APNS_SANDBOX", "APNS_VOIP", "APNS_VOIP_SANDBOX",
	"ADM", "SMS", "VOICE", "EMAIL", "BAIDU", "CUSTOM", "IN_APP",
}

// Limits Pinpoint puts on an endpoint (PINPOINT.md §3.7).
const (
	MaxAttributeNameLen   = 50
	MaxAttributeValueLen  = 100
	MaxAttributeValues    = 50
	MaxEndpointBytes      = 15 * 1024
	MaxEndpointsPerUserID = 15
)

// Endpoint is a destination that messages can be sent to, as stored.
type Endpoint struct {
	ID             string
	AppID          string
	ChannelType    string
	Address        string
	Attributes     Attributes
	Demographic    Demographic
	EffectiveDate  string // ISO-8601, as given or as set at the write
	EndpointStatus string // ACTIVE or INACTIVE
	Location       Location
	Metrics        Metrics
	OptOut         string // ALL or NONE
	RequestID      string
	User           User
	CohortID       string // "0" to "99", derived from ID
	CreatedAt      time.Time
}

// Demographic describes the device of an endpoint.
type Demographic struct {
	AppVersion, Locale, Make, Model, ModelVersion, Platform, PlatformVersion, Timezone string
}

// Location is where an endpoint is. Latitude and Longitude are nil when unknown.
type Location struct {
	City, Country, PostalCode, Region string
	Latitude, Longitude               *float64
}

// User is the user an endpoint belongs to.
type User struct {
	UserID         string
	UserAttributes Attributes
}

// EndpointStore keeps endpoints. Every method returns ENOTFOUND when the app does not exist.
type EndpointStore interface {
	// FindEndpoint returns the endpoint, or ENOTFOUND.
	FindEndpoint(ctx context.Context, appID, endpointID string) (*Endpoint, error)
	// UpdateEndpoints runs fn in one write transaction of the app and commits what fn wrote
	// when fn returns nil; when fn returns an error, nothing is written and that error is
	// returned. Writes go through EndpointWriter so that every rule holds (see EndpointTx).
	UpdateEndpoints(ctx context.Context, appID string, fn func(tx EndpointTx) error) error
	// DeleteEndpoint removes an endpoint and returns it as it was, or ENOTFOUND. Segment
	// memberships of IMPORT segments stay: they name endpoint IDs, registered or not.
	DeleteEndpoint(ctx context.Context, appID, endpointID string) (*Endpoint, error)
	// FindEndpointsByUser returns the endpoints whose User.UserId is userID, by ID; ENOTFOUND
	// when there is none.
	FindEndpointsByUser(ctx context.Context, appID, userID string) ([]*Endpoint, error)
	// DeleteEndpointsByUser removes the endpoints whose User.UserId is userID and returns them
	// as they were, by ID; ENOTFOUND when there is none.
	DeleteEndpointsByUser(ctx context.Context, appID, userID string) ([]*Endpoint, error)
	// FindEndpointIDs returns one page of the IDs of the app's endpoints, in ID order, and the
	// token of the next page ("" at the end); EINVALID for a token it did not issue. Exports
	// page through an app with it, as through a segment with FindSegmentMembers.
	FindEndpointIDs(ctx context.Context, appID string, page Page) ([]string, string, error)
	// FindEndpointsByID returns the app's endpoints among ids, in ID order; an ID with no
	// endpoint is left out.
	FindEndpointsByID(ctx context.Context, appID string, ids []string) ([]*Endpoint, error)
}

// EndpointTx is what a store offers a batch of endpoint writes inside one write transaction:
// the reads EndpointWriter needs before it merges, and the bulk writes after. Reads see the
// transaction's own earlier writes. A store serializes the write transactions of one app
// (SQLite has a single writer; a PostgreSQL store locks the app's row first), so that the
// quotas EndpointWriter checks inside a transaction still hold when it commits, however many
// API requests and import pieces write at once.
type EndpointTx interface {
	// FindEndpoints returns the stored endpoints among ids, keyed by ID.
	FindEndpoints(ctx context.Context, appID string, ids []string) (map[string]*Endpoint, error)
	// FindUserEndpoints returns the endpoints of the given users as segment members, keyed by
	// user ID; a user without endpoints has no key.
	FindUserEndpoints(ctx context.Context, appID string, userIDs []string) (map[string][]Member, error)
	// FindAttributeNames returns the custom attribute names the app has used, in any order,
	// and how many distinct names it may have (the store's setting; DefaultMaxAttributeNames
	// unless configured).
	FindAttributeNames(ctx context.Context, appID string) ([]AttributeName, int, error)
	// AddAttributeNames records names as used by the app; names it knows are ignored. Names
	// stay known for as long as the app exists, whether or not an endpoint still has them.
	AddAttributeNames(ctx context.Context, appID string, names []AttributeName) error
	// PutEndpoints inserts or replaces the endpoints as given, through the store's bulk path.
	// First it sets EndpointStatus INACTIVE on every other endpoint of the same app whose
	// Address is the non-empty Address of one of them: Pinpoint's rule that writing an
	// endpoint deactivates the others with its address. That takes one statement per app in
	// the call, not one per endpoint, over an index on (app, address).
	PutEndpoints(ctx context.Context, endpoints []*Endpoint) error
}

// EndpointUpdate is a partial write of an endpoint, from UpdateEndpoint, a batch item or a
// row of an import file. A nil field is absent and keeps the stored value; a present entry of
// Attributes, Metrics or UserAttributes replaces that name's values (Pinpoint's
// UpdateEndpoint rule, DESIGN.md §3.5).
type EndpointUpdate struct {
	ID             string // "" when the row had none: see DerivedEndpointID
	ChannelType    *string
	Address        *string
	Attributes     Attributes
	Demographic    DemographicUpdate
	EffectiveDate  *string
	EndpointStatus *string
	Location       LocationUpdate
	Metrics        Metrics
	OptOut         *string
	RequestID      *string
	UserID         *string
	UserAttributes Attributes
}

// DemographicUpdate is the partial form of Demographic.
type DemographicUpdate struct {
	AppVersion, Locale, Make, Model, ModelVersion, Platform, PlatformVersion, Timezone *string
}

// LocationUpdate is the partial form of Location.
type LocationUpdate struct {
	City, Country, PostalCode, Region *string
	Latitude, Longitude               *float64
}

// IsUserOnly reports whether u names a user and nothing else: a row of a user-ID-only import
// file, which selects that user's existing endpoints instead of writing one.
func (u *EndpointUpdate) IsUserOnly() bool {
	if u.UserID == nil || *u.UserID == "" || u.ID != "" {
		return false
	}
	for i, v := range u.strings() {
		if v != nil && stringFieldNames[i] != "User.UserId" {
			return false
		}
	}
	return len(u.Attributes) == 0 && len(u.UserAttributes) == 0 && len(u.Metrics) == 0 &&
		u.Location.Latitude == nil && u.Location.Longitude == nil
}

// DerivedEndpointID returns the stable ID Pinfold gives a row without Id: the first 32 hex
// characters of SHA-256 over channel type and address, so importing the same file twice
// updates the same endpoints instead of duplicating them.
func DerivedEndpointID(channelType, address string) string {
	sum := sha256.Sum256([]byte(channelType + "\x00" + address))
	return hex.EncodeToString(sum[:16])
}

// CohortID returns the cohort ("0" to "99") of an endpoint ID: stable for an ID, spread
// evenly over IDs, as Pinpoint's are.
func CohortID(endpointID string) string {
	h := fnv.New32a()
	h.Write([]byte(endpointID))
	return fmt.Sprint(h.Sum32() % 100)
}

// Validate checks what can be checked of u on its own, with Pinpoint's limits: enums,
// lengths, counts, dates, UTF-8, and the size of the endpoint. Each problem is an EINVALID
// error whose message names the field.
func (u *EndpointUpdate) Validate() error { return u.validate(true, nil) }

// ValidateChecked is Validate for a caller that has checked part of u already, as the
// endpoint-file decoders have, and promises two things:
//
//   - Every string of u (fields, attribute and metric names, attribute values) is valid
//     UTF-8. The decoders cut every string out of a line they checked whole, which costs a
//     fraction of checking each string again; ValidateChecked does not.
//   - Unless entries is nil, every entry of u's Attributes, UserAttributes and Metrics went
//     through entries once, as the caller added it, in order, and they have not changed
//     since. ValidateChecked then takes the entries' problems and size from entries instead
//     of visiting them again. With a nil entries, it visits them.
//   - Attributes, UserAttributes and Metrics are each in order of name, each name once.
//
// Every other rule is checked as Validate checks it, in the same order, with the same
// messages. An update that breaks a promise may pass; a caller that is not sure calls
// Validate.
func (u *EndpointUpdate) ValidateChecked(entries *EntryCheck) error {
	return u.validate(false, entries)
}

// EntryCheck checks the entries of an update's Attributes, UserAttributes and Metrics one
// at a time, with Validate's rules, for ValidateChecked; their strings must be valid
// UTF-8. The zero value is ready to use.
type EntryCheck struct {
	size int   // of the entries, as Validate counts it
	err  error // the first problem of the first kind of entry that has one
	kind int   // of err
}

// Kinds of entries, and the fields they belong to.
const (
	entryAttribute = iota
	entryUserAttribute
	entryMetric
)

var entryFields = [...]string{"Attributes", "User.UserAttributes", "Metrics"}

// Attribute checks the entry name of Attributes, or of UserAttributes when user is set.
func (c *EntryCheck) Attribute(user bool, name string, values []string) {
	kind := entryAttribute
	if user {
		kind = entryUserAttribute
	}
	c.attribute(kind, name, values, false)
}

// Metric checks the entry name of Metrics.
func (c *EntryCheck) Metric(name string, v float64) { c.metric(name, v, false) }

// attribute checks an entry of Attributes or User.UserAttributes (kind), unless a problem
// of that kind or of an earlier one is known already.
func (c *EntryCheck) attribute(kind int, name string, values []string, checkUTF8 bool) {
	if c.err != nil && c.kind <= kind {
		return
	}
	field := entryFields[kind]
	if err := validateName(field, name, checkUTF8); err != nil {
		c.fail(kind, err)
		return
	}
	if len(values) > MaxAttributeValues {
		c.fail(kind, Errorf(EINVALID, "%s.%s has %d values; at most %d are allowed", field, name, len(values), MaxAttributeValues))
		return
	}
	size := len(name)
	for _, v := range values {
		if checkUTF8 && !utf8.ValidString(v) {
			c.fail(kind, Errorf(EINVALID, "%s.%s has a value that is not valid UTF-8", field, name))
			return
		}
		if len(v) > MaxAttributeValueLen { // never more characters than bytes
			if n := utf8.RuneCountInString(v); n > MaxAttributeValueLen {
				c.fail(kind, Errorf(EINVALID, "%s.%s has a value of %d characters; at most %d are allowed", field, name, n, MaxAttributeValueLen))
				return
			}
		}
		size += len(v) + 3
	}
	c.size += size
}

// metric checks an entry of Metrics, as attribute does.
func (c *EntryCheck) metric(name string, v float64, checkUTF8 bool) {
	if c.err != nil {
		return // a problem of this kind or of an earlier one
	}
	if err := validateName("Metrics", name, checkUTF8); err != nil {
		c.fail(entryMetric, err)
		return
	}
	if math.IsNaN(v) || math.IsInf(v, 0) {
		c.fail(entryMetric, Errorf(EINVALID, "Metrics.%s must be a finite number, got %v", name, v))
		return
	}
	c.size += len(name) + 8
}

// fail records err, a problem of an entry of kind, which comes before any problem recorded:
// Validate reports the problems of Attributes first, then of User.UserAttributes, then of
// Metrics.
func (c *EntryCheck) fail(kind int, err error) { c.err, c.kind = err, kind }

// visit checks the entries of u, kind after kind and each kind in order, until the first
// problem. Entries out of order are a problem of their kind.
func (c *EntryCheck) visit(u *EndpointUpdate, checkUTF8 bool) {
	for kind, attrs := range [...]Attributes{u.Attributes, u.UserAttributes} {
		for _, at := range attrs {
			if c.attribute(kind, at.Name, at.Values, checkUTF8); c.err != nil {
				return
			}
		}
		if name, ok := attrs.ordered(); !ok {
			c.fail(kind, disorderError(entryFields[kind], name))
			return
		}
	}
	for _, m := range u.Metrics {
		if c.metric(m.Name, m.Value, checkUTF8); c.err != nil {
			return
		}
	}
	if name, ok := u.Metrics.ordered(); !ok {
		c.fail(entryMetric, disorderError("Metrics", name))
	}
}

// disorderError is the problem of a field whose names are out of order or repeated: only a
// caller that builds an update by hand can make one, as the decoders of requests and files
// report a repeated name and put the names in order.
func disorderError(field, name string) error {
	return Errorf(EINVALID, "%s.%s is repeated or out of order: the names of %s must be in ascending order, each once", field, name, field)
}

// validate is Validate, which checks UTF-8 only when checkUTF8 is set, and visits the
// entries only when entries is nil: the one place the rules are written.
func (u *EndpointUpdate) validate(checkUTF8 bool, entries *EntryCheck) error {
	if u.ChannelType != nil && !slices.Contains(ChannelTypes, *u.ChannelType) {
		return Errorf(EINVALID, "ChannelType must be one of %v, got %q", ChannelTypes, *u.ChannelType)
	}
	if u.OptOut != nil && *u.OptOut != "ALL" && *u.OptOut != "NONE" {
		return Errorf(EINVALID, "OptOut must be ALL or NONE, got %q", *u.OptOut)
	}
	if u.EndpointStatus != nil && *u.EndpointStatus != "ACTIVE" && *u.EndpointStatus != "INACTIVE" {
		return Errorf(EINVALID, "EndpointStatus must be ACTIVE or INACTIVE, got %q", *u.EndpointStatus)
	}
	if u.EffectiveDate != nil && !plainDate(*u.EffectiveDate) {
		if _, err := ParseISO8601(*u.EffectiveDate); err != nil {
			return Errorf(EINVALID, "EffectiveDate must be an ISO-8601 date, got %q", *u.EffectiveDate)
		}
	}
	// The size is counted on the way: every name and value (see MaxEndpointBytes).
	var visited EntryCheck
	if entries == nil {
		visited.visit(u, checkUTF8)
		entries = &visited
	}
	if entries.err != nil {
		return entries.err
	}
	n := len(u.ID) + entries.size
	// Written so that NaN fails too.
	if u.Location.Latitude != nil && !(*u.Location.Latitude >= -90 && *u.Location.Latitude <= 90) {
		return Errorf(EINVALID, "Location.Latitude must be between -90 and 90, got %v", *u.Location.Latitude)
	}
	if u.Location.Longitude != nil && !(*u.Location.Longitude >= -180 && *u.Location.Longitude <= 180) {
		return Errorf(EINVALID, "Location.Longitude must be between -180 and 180, got %v", *u.Location.Longitude)
	}
	for i, v := range u.strings() {
		if v == nil {
			continue
		}
		if checkUTF8 && !utf8.ValidString(*v) {
			return Errorf(EINVALID, "%s is not valid UTF-8", stringFieldNames[i])
		}
		if len(*v) > MaxEndpointBytes {
			return Errorf(EINVALID, "%s is longer than %d bytes", stringFieldNames[i], MaxEndpointBytes)
		}
		n += len(stringFieldNames[i]) + len(*v)
	}
	if n > MaxEndpointBytes {
		return Errorf(EINVALID, "endpoint is %d bytes; an endpoint may be at most %d bytes", n, MaxEndpointBytes)
	}
	return nil
}

func validateName(field, name string, checkUTF8 bool) error {
	if name == "" {
		return Errorf(EINVALID, "%s has an empty name", field)
	}
	if checkUTF8 && !utf8.ValidString(name) {
		return Errorf(EINVALID, "%s has a name that is not valid UTF-8", field)
	}
	if len(name) > MaxAttributeNameLen { // never more characters than bytes
		if n := utf8.RuneCountInString(name); n > MaxAttributeNameLen {
			return Errorf(EINVALID, "%s name %q is %d characters; at most %d are allowed", field, name, n, MaxAttributeNameLen)
		}
	}
	return nil
}

// stringFieldNames are the names of an update's string fields, in the order of strings.
var stringFieldNames = [...]string{
	"ChannelType", "Address", "EffectiveDate", "EndpointStatus", "OptOut", "RequestId", "User.UserId",
	"Demographic.AppVersion", "Demographic.Locale", "Demographic.Make", "Demographic.Model",
	"Demographic.ModelVersion", "Demographic.Platform", "Demographic.PlatformVersion", "Demographic.Timezone",
	"Location.City", "Location.Country", "Location.PostalCode", "Location.Region",
}

// strings returns the update's string fields, named by stringFieldNames, as an array so
// that Validate, which every imported row goes through, allocates nothing for it.
func (u *EndpointUpdate) strings() [len(stringFieldNames)]*string {
	d, l := &u.Demographic, &u.Location
	return [...]*string{
		u.ChannelType, u.Address, u.EffectiveDate, u.EndpointStatus, u.OptOut, u.RequestID, u.UserID,
		d.AppVersion, d.Locale, d.Make, d.Model, d.ModelVersion, d.Platform, d.PlatformVersion, d.Timezone,
		l.City, l.Country, l.PostalCode, l.Region,
	}
}

// size approximates the stored size of the endpoint in bytes, as Validate counts an update's
// (names of the string fields are counted as a constant).
func (e *Endpoint) size() int {
	d, l := &e.Demographic, &e.Location
	n := len(e.ID) + 200 + len(e.ChannelType) + len(e.Address) + len(e.EffectiveDate) + len(e.EndpointStatus) +
		len(e.OptOut) + len(e.RequestID) + len(e.User.UserID) +
		len(d.AppVersion) + len(d.Locale) + len(d.Make) + len(d.Model) + len(d.ModelVersion) + len(d.Platform) +
		len(d.PlatformVersion) + len(d.Timezone) + len(l.City) + len(l.Country) + len(l.PostalCode) + len(l.Region)
	for _, attrs := range [...]Attributes{e.Attributes, e.User.UserAttributes} {
		for _, at := range attrs {
			n += len(at.Name)
			for _, v := range at.Values {
				n += len(v) + 3
			}
		}
	}
	for _, m := range e.Metrics {
		n += len(m.Name) + 8
	}
	if l.Latitude != nil {
		n += 16
	}
	if l.Longitude != nil {
		n += 16
	}
	return n
}

// NewEndpointMissingFields is the message of a row that would create an endpoint without the
// two fields a new endpoint needs.
const NewEndpointMissingFields = "a new endpoint needs ChannelType and Address"

// ApplyEndpointUpdate merges u into existing (nil for a new endpoint) and returns the result;
// existing is not changed. It is the one merge rule of Pinfold, used by the API and the
// importer alike: absent fields keep their values, a present attribute, metric or user
// attribute replaces that name's values (an attribute or user attribute present with no
// values is removed from the endpoint), and bookkeeping fields are filled as Pinpoint does
// (CreationDate on first write, EffectiveDate defaulting to the write's time, EndpointStatus
// ACTIVE, OptOut NONE, CohortId from the ID). A new endpoint without ChannelType and Address
// is EINVALID. A new endpoint may share u's Attributes, Metrics and UserAttributes and their
// values: u must not change afterwards. Those of u must be in order (see Attributes).
// Neither existing nor its slices change: an endpoint's slices are never changed in place,
// so a merged endpoint shares those of existing that it does not replace.
func ApplyEndpointUpdate(appID string, existing *Endpoint, u *EndpointUpdate, now time.Time) (*Endpoint, error) {
	var e Endpoint
	if existing != nil {
		e = *existing
	} else {
		if u.ChannelType == nil || *u.ChannelType == "" || u.Address == nil || *u.Address == "" {
			return nil, Errorf(EINVALID, NewEndpointMissingFields)
		}
		e = Endpoint{ID: u.ID, AppID: appID, CreatedAt: now, CohortID: CohortID(u.ID), OptOut: "NONE"}
	}
	set := func(dst *string, src *string) {
		if src != nil {
			*dst = *src
		}
	}
	set(&e.ChannelType, u.ChannelType)
	set(&e.Address, u.Address)
	set(&e.OptOut, u.OptOut)
	set(&e.RequestID, u.RequestID)
	set(&e.User.UserID, u.UserID)
	d, ud := &e.Demographic, &u.Demographic
	set(&d.AppVersion, ud.AppVersion)
	set(&d.Locale, ud.Locale)
	set(&d.Make, ud.Make)
	set(&d.Model, ud.Model)
	set(&d.ModelVersion, ud.ModelVersion)
	set(&d.Platform, ud.Platform)
	set(&d.PlatformVersion, ud.PlatformVersion)
	set(&d.Timezone, ud.Timezone)
	l, ul := &e.Location, &u.Location
	set(&l.City, ul.City)
	set(&l.Country, ul.Country)
	set(&l.PostalCode, ul.PostalCode)
	set(&l.Region, ul.Region)
	if ul.Latitude != nil {
		l.Latitude = ptr(*ul.Latitude)
	}
	if ul.Longitude != nil {
		l.Longitude = ptr(*ul.Longitude)
	}
	if existing == nil {
		e.Attributes = takeValues(u.Attributes)
		e.User.UserAttributes = takeValues(u.UserAttributes)
		if len(u.Metrics) > 0 {
			e.Metrics = u.Metrics
		}
	} else {
		e.Attributes = mergeAttributes(e.Attributes, u.Attributes)
		e.User.UserAttributes = mergeAttributes(e.User.UserAttributes, u.UserAttributes)
		e.Metrics = mergeMetrics(e.Metrics, u.Metrics)
	}
	if u.EffectiveDate != nil {
		e.EffectiveDate = *u.EffectiveDate
	} else {
		e.EffectiveDate = FormatISO8601(now)
	}
	e.EndpointStatus = "ACTIVE"
	set(&e.EndpointStatus, u.EndpointStatus)
	if e.OptOut == "" {
		e.OptOut = "NONE"
	}
	return &e, nil
}

// takeValues returns a new endpoint's attributes (or user attributes) for an update's src:
// src itself when every name in it has values, as it is then exactly what the merge would
// make. The endpoint and the update then share it, which is safe because an update is not
// changed once applied (callers' rule) and an endpoint's slices are never changed in place:
// a later merge makes new ones. An import's new endpoints thus cost no second copy of their
// attributes (docs/performance.md).
func takeValues(src Attributes) Attributes {
	for _, at := range src {
		if len(at.Values) == 0 {
			return mergeAttributes(nil, src)
		}
	}
	if len(src) == 0 {
		return nil
	}
	return src
}

func ptr[T any](v T) *T { return &v }

// ISO8601 is the layout of every date Pinfold writes: UTC with milliseconds, as AWS does.
const ISO8601 = "2006-01-02T15:04:05.000Z"

// FormatISO8601 formats t as Pinpoint does: "2018-05-24T21:26:33.995Z".
func FormatISO8601(t time.Time) string { return t.UTC().Format(ISO8601) }

// ParseISO8601 accepts the ISO-8601 forms clients send: a date, or a date and time with or
// without fractional seconds and with a Z or numeric zone.
func ParseISO8601(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02T15:04Z07:00", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("not an ISO-8601 date: %q", s)
}
