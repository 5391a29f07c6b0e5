package postgres

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/pinfold/pinfold"
)

// A DIMENSIONAL segment's members are found by one query over the app's endpoints whose
// WHERE clause is compiled here from the segment's criteria, following the semantics the
// root package documents (pinfold.SegmentDimensions, pinfold.SegmentGroupList), exactly as
// the SQLite store's compiler does. Conditions read the stored endpoint document
// (internal/stored: "at" attributes, "ua" user attributes, "m" metrics, "d" demographic,
// "l" location, "ed" EffectiveDate) with PostgreSQL's jsonb operators, so no endpoint is
// loaded into memory to be matched.
//
// Every condition is true or false, never NULL (coalesce, EXISTS), because groups negate
// them (NONE) and NOT NULL is not true. Values go in as numbered parameters ($n), which the
// compiler hands out as it emits them; names are parameters too, never part of the SQL.
// Dates are read by pinfold_iso8601 (migration 0002), which returns NULL rather than failing
// on a value that is not a date.

// compiler turns a segment version's criteria into SQL over the endpoint row "e", looking
// base segments up in q.
type compiler struct {
	ctx      context.Context
	q        querier
	appID    string
	now      time.Time
	visiting map[string]bool // segments being compiled, against circles of base segments
	args     []any           // the query's arguments so far: $1 is args[0]
}

// arg adds a query argument and returns its placeholder.
func (c *compiler) arg(v any) string {
	c.args = append(c.args, v)
	return fmt.Sprintf("$%d", len(c.args))
}

const (
	sqlTrue  = "true"
	sqlFalse = "false"
)

func join(op string, terms []string) string {
	parts := make([]string, len(terms))
	for i, t := range terms {
		parts[i] = "(" + t + ")"
	}
	return strings.Join(parts, " "+op+" ")
}

// and is true for no terms, or false for none.
func and(terms ...string) string {
	if len(terms) == 0 {
		return sqlTrue
	}
	return join("AND", terms)
}

func or(terms ...string) string {
	if len(terms) == 0 {
		return sqlFalse
	}
	return join("OR", terms)
}

func not(term string) string { return "NOT (" + term + ")" }

// combine joins terms by a group operator (ALL, ANY or NONE; def when ""). No terms select
// everything, whatever the operator: an empty list filters nothing.
func combine(op, def string, terms []string) string {
	if len(terms) == 0 {
		return sqlTrue
	}
	if op == "" {
		op = def
	}
	switch op {
	case "ANY":
		return or(terms...)
	case "NONE":
		return not(or(terms...))
	}
	return and(terms...)
}

func (c *compiler) segment(s *pinfold.Segment) (string, error) {
	if c.visiting[s.ID] {
		return "", pinfold.Errorf(pinfold.EINVALID, "segment %q has itself as a base segment; change its SegmentGroups", s.ID)
	}
	c.visiting[s.ID] = true
	defer delete(c.visiting, s.ID)
	var parts []string
	if s.Dimensions != nil {
		parts = append(parts, c.dimensions(s.Dimensions))
	}
	if l := s.Groups; l != nil {
		var groups []string
		for _, g := range l.Groups {
			var sources []string
			for _, ref := range g.SourceSegments {
				src, err := c.source(ref)
				if err != nil {
					return "", err
				}
				sources = append(sources, src)
			}
			var filters []string
			for i := range g.Dimensions {
				filters = append(filters, c.dimensions(&g.Dimensions[i]))
			}
			groups = append(groups, and(combine(g.SourceType, "ANY", sources), combine(g.Type, "ALL", filters)))
		}
		parts = append(parts, combine(l.Include, "ALL", groups))
	}
	return and(parts...), nil
}

// source is the membership of a base segment: an IMPORT segment's member IDs, a DIMENSIONAL
// segment's own criteria. A base segment that no longer exists has no members.
func (c *compiler) source(ref pinfold.SegmentReference) (string, error) {
	version := 0
	if ref.Version != nil {
		version = *ref.Version
	}
	src, err := findVersion(c.ctx, c.q, c.appID, ref.ID, version)
	if pinfold.ErrorCode(err) == pinfold.ENOTFOUND {
		return sqlFalse, nil
	} else if err != nil {
		return "", err
	}
	if src.Type == pinfold.SegmentTypeImport {
		return `EXISTS (SELECT 1 FROM segment_members sm WHERE sm.app_id = ` + c.arg(c.appID) + ` AND sm.segment_id = ` + c.arg(src.ID) +
			` AND sm.version <= ` + c.arg(src.Version) + `::integer AND sm.endpoint_id = e.id)`, nil
	}
	return c.segment(src)
}

// dimensions is true for an endpoint that matches every dimension of d.
func (c *compiler) dimensions(d *pinfold.SegmentDimensions) string {
	var parts []string
	for _, name := range slices.Sorted(maps.Keys(d.Attributes)) {
		parts = append(parts, c.attribute("at", name, d.Attributes[name]))
	}
	for _, name := range slices.Sorted(maps.Keys(d.UserAttributes)) {
		parts = append(parts, c.attribute("ua", name, d.UserAttributes[name]))
	}
	for _, name := range slices.Sorted(maps.Keys(d.Metrics)) {
		parts = append(parts, c.metric(name, d.Metrics[name]))
	}
	if d.Demographic != nil {
		for _, s := range d.Demographic.Sets() {
			parts = append(parts, c.set(demographicColumns[s.Name], s.Set))
		}
	}
	if l := d.Location; l != nil {
		if l.Country != nil {
			parts = append(parts, c.set(`coalesce(e.data->'l'->>'Country', '')`, l.Country))
		}
		if l.GPSPoint != nil {
			parts = append(parts, c.gpsPoint(l.GPSPoint))
		}
	}
	if b := d.Behavior; b != nil && b.Recency != nil {
		parts = append(parts, c.recency(b.Recency))
	}
	return and(parts...)
}

// demographicColumns are what each SegmentDemographics member compares with. Pinfold's
// endpoints have no device type, so DeviceType compares with "".
var demographicColumns = map[string]string{
	"AppVersion": `coalesce(e.data->'d'->>'AppVersion', '')`,
	"Channel":    `e.channel_type`,
	"DeviceType": `''`,
	"Make":       `coalesce(e.data->'d'->>'Make', '')`,
	"Model":      `coalesce(e.data->'d'->>'Model', '')`,
	"Platform":   `coalesce(e.data->'d'->>'Platform', '')`,
}

// set matches column, which is never NULL, by s.
func (c *compiler) set(column string, s *pinfold.SetDimension) string {
	in := column + ` = ANY(` + c.arg(nonNilStrings(s.Values)) + `::text[])`
	if s.DimensionType == "EXCLUSIVE" {
		return not(in)
	}
	return in
}

// attribute matches the values of one attribute (document key "at") or user attribute
// ("ua"): an array of strings, or nothing when the endpoint does not have it.
func (c *compiler) attribute(doc, name string, a pinfold.AttributeDimension) string {
	values := `e.data->'` + doc + `'->` + c.arg(name) + `::text`
	elements := `jsonb_array_elements_text(CASE WHEN jsonb_typeof(` + values + `) = 'array' THEN ` + values + ` END) v(value)`
	// at is the value read as a time, NULL when it is not one.
	dates := elements + `, pinfold_iso8601(v.value) t(at)`
	switch a.AttributeType {
	case "CONTAINS":
		return `EXISTS (SELECT 1 FROM ` + elements + `, unnest(` + c.arg(nonNilStrings(a.Values)) + `::text[]) w(value)
			WHERE strpos(v.value, w.value) > 0)`
	case "BEFORE", "AFTER", "BETWEEN":
		t0, ok := isoArg(a.Values, 0)
		if !ok {
			return sqlFalse // validated when written: a date that does not read matches nothing
		}
		var cond string
		switch a.AttributeType {
		case "BEFORE":
			cond = `t.at < ` + c.arg(t0) + `::timestamptz`
		case "AFTER":
			cond = `t.at > ` + c.arg(t0) + `::timestamptz`
		case "BETWEEN":
			t1, ok := isoArg(a.Values, 1)
			if !ok {
				return sqlFalse
			}
			cond = `t.at BETWEEN ` + c.arg(t0) + `::timestamptz AND ` + c.arg(t1) + `::timestamptz`
		}
		return `EXISTS (SELECT 1 FROM ` + dates + ` WHERE ` + cond + `)`
	case "ON":
		t0, ok := isoArg(a.Values, 0)
		if !ok {
			return sqlFalse
		}
		day := time.Date(t0.Year(), t0.Month(), t0.Day(), 0, 0, 0, 0, time.UTC)
		return `EXISTS (SELECT 1 FROM ` + dates + ` WHERE t.at >= ` + c.arg(day) + `::timestamptz AND t.at < ` + c.arg(day.AddDate(0, 0, 1)) + `::timestamptz)`
	}
	// INCLUSIVE, EXCLUSIVE: ?| is true when one of the array's strings is one of the values.
	in := `coalesce(` + values + ` ?| ` + c.arg(nonNilStrings(a.Values)) + `::text[], false)`
	if a.AttributeType == "EXCLUSIVE" {
		return not(in)
	}
	return in
}

// isoArg reads values[i], a validated ISO-8601 date, in UTC and to the millisecond as the
// stored values are compared (pinfold_iso8601).
func isoArg(values []string, i int) (time.Time, bool) {
	if i >= len(values) {
		return time.Time{}, false
	}
	t, err := pinfold.ParseISO8601(values[i])
	if err != nil {
		return time.Time{}, false
	}
	return t.UTC().Truncate(time.Millisecond), true
}

var comparisons = map[string]string{
	"GREATER_THAN": ">", "LESS_THAN": "<", "GREATER_THAN_OR_EQUAL": ">=", "LESS_THAN_OR_EQUAL": "<=", "EQUAL": "=",
}

// number is the jsonb value at path as float8, NULL when it is absent or not a number.
func number(path string) string {
	return `(CASE WHEN jsonb_typeof(` + path + `) = 'number' THEN (` + path + `)::float8 END)`
}

func (c *compiler) metric(name string, m pinfold.MetricDimension) string {
	op, ok := comparisons[m.ComparisonOperator]
	if !ok {
		return sqlFalse
	}
	return `coalesce(` + number(`e.data->'m'->`+c.arg(name)+`::text`) + ` ` + op + ` ` + c.arg(m.Value) + `::float8, false)`
}

// gpsPoint is true for an endpoint within range of the point: the haversine distance on a
// sphere of the earth's mean radius.
func (c *compiler) gpsPoint(g *pinfold.GPSPointDimension) string {
	km := 0.0
	if g.RangeInKilometers != nil {
		km = *g.RangeInKilometers
	}
	lat, lon := number(`e.data->'l'->'Latitude'`), number(`e.data->'l'->'Longitude'`)
	plat, plon := c.arg(g.Coordinates.Latitude)+`::float8`, c.arg(g.Coordinates.Longitude)+`::float8`
	return `coalesce(2 * 6371.0088 * asin(least(1, sqrt(
		power(sin(radians(` + lat + ` - ` + plat + `) / 2), 2) + cos(radians(` + plat + `)) * cos(radians(` + lat + `)) * power(sin(radians(` + lon + ` - ` + plon + `) / 2), 2)
		))) <= ` + c.arg(km) + `::float8, false)`
}

var durations = map[string]time.Duration{"HR_24": 24 * time.Hour, "DAY_7": 7 * 24 * time.Hour, "DAY_14": 14 * 24 * time.Hour, "DAY_30": 30 * 24 * time.Hour}

// recency uses the endpoint's EffectiveDate as its last activity.
func (c *compiler) recency(r *pinfold.RecencyDimension) string {
	since := c.now.Add(-durations[r.Duration]).UTC().Truncate(time.Millisecond)
	active := `coalesce(pinfold_iso8601(e.data->>'ed') >= ` + c.arg(since) + `::timestamptz, false)`
	if r.RecencyType == "INACTIVE" {
		return not(active)
	}
	return active
}

// nonNilStrings returns values, or an empty slice for nil, which pgx would send as NULL.
func nonNilStrings(values []string) []string {
	if values == nil {
		return []string{}
	}
	return values
}
