package sqlite

import (
	"context"
	"database/sql/driver"
	"slices"
	"strings"
	"time"

	"github.com/pinfold/pinfold"
	sqlitedriver "modernc.org/sqlite"
)

// A DIMENSIONAL segment's members are found by one query over the app's endpoints whose
// WHERE clause is compiled here from the segment's criteria, following the semantics the
// root package documents (pinfold.SegmentDimensions, pinfold.SegmentGroupList). Conditions
// read the stored endpoint document (internal/stored) with SQLite's JSON functions, so no
// endpoint is loaded into memory to be matched.
//
// Dates are read by pinfold_iso8601, a function of this package rather than SQLite's own
// date functions: those take what pinfold.ParseISO8601 refuses ("42" as a Julian day,
// "now", "12:30", "2025-02-30") and refuse what it takes (a one-digit hour, a decimal
// comma, a +24:00 zone), and round to the millisecond where Pinfold cuts.

func init() {
	// pinfold_iso8601(v) is v as pinfold.FormatISO8601 writes it (UTC, to the millisecond),
	// or NULL when pinfold.ParseISO8601 does not read it. Its results sort as text in time
	// order, so conditions compare them as text.
	sqlitedriver.MustRegisterDeterministicScalarFunction("pinfold_iso8601", 1, func(_ *sqlitedriver.FunctionContext, args []driver.Value) (driver.Value, error) {
		v, ok := args[0].(string)
		if !ok {
			return nil, nil
		}
		t, err := pinfold.ParseISO8601(v)
		if err != nil {
			return nil, nil
		}
		return pinfold.FormatISO8601(t), nil
	})
}

// expr is a piece of SQL over the endpoint row "e" with its arguments.
type expr struct {
	sql  string
	args []any
}

var (
	exprTrue  = expr{sql: "1"}
	exprFalse = expr{sql: "0"}
)

func join(op string, es []expr) expr {
	parts := make([]string, len(es))
	var args []any
	for i, e := range es {
		parts[i] = "(" + e.sql + ")"
		args = append(args, e.args...)
	}
	return expr{sql: strings.Join(parts, " "+op+" "), args: args}
}

// and is true for no terms, or false for none.
func and(es ...expr) expr {
	if len(es) == 0 {
		return exprTrue
	}
	return join("AND", es)
}

func or(es ...expr) expr {
	if len(es) == 0 {
		return exprFalse
	}
	return join("OR", es)
}

func not(e expr) expr { return expr{sql: "NOT (" + e.sql + ")", args: e.args} }

// combine joins terms by a group operator (ALL, ANY or NONE; def when ""). No terms select
// everything, whatever the operator: an empty list filters nothing.
func combine(op, def string, es []expr) expr {
	if len(es) == 0 {
		return exprTrue
	}
	if op == "" {
		op = def
	}
	switch op {
	case "ANY":
		return or(es...)
	case "NONE":
		return not(or(es...))
	}
	return and(es...)
}

// in returns "x IN (?, …)" for values; false for none.
func in(x string, values []string) expr {
	if len(values) == 0 {
		return exprFalse
	}
	args := make([]any, len(values))
	for i, v := range values {
		args[i] = v
	}
	return expr{sql: x + " IN (" + placeholders(len(values)) + ")", args: args}
}

// compiler turns a segment version's criteria into an expr, looking base segments up in q.
type compiler struct {
	ctx      context.Context
	q        queryer
	appID    string
	now      time.Time
	visiting map[string]bool // segments being compiled, against circles of base segments
}

func (c *compiler) segment(s *pinfold.Segment) (expr, error) {
	if c.visiting[s.ID] {
		return expr{}, pinfold.Errorf(pinfold.EINVALID, "segment %q has itself as a base segment; change its SegmentGroups", s.ID)
	}
	c.visiting[s.ID] = true
	defer delete(c.visiting, s.ID)
	var parts []expr
	if s.Dimensions != nil {
		parts = append(parts, c.dimensions(s.Dimensions))
	}
	if l := s.Groups; l != nil {
		var groups []expr
		for _, g := range l.Groups {
			var sources []expr
			for _, ref := range g.SourceSegments {
				src, err := c.source(ref)
				if err != nil {
					return expr{}, err
				}
				sources = append(sources, src)
			}
			var filters []expr
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
func (c *compiler) source(ref pinfold.SegmentReference) (expr, error) {
	version := 0
	if ref.Version != nil {
		version = *ref.Version
	}
	src, err := findVersion(c.ctx, c.q, c.appID, ref.ID, version)
	if pinfold.ErrorCode(err) == pinfold.ENOTFOUND {
		return exprFalse, nil
	} else if err != nil {
		return expr{}, err
	}
	if src.Type == pinfold.SegmentTypeImport {
		return expr{sql: `e.id IN (SELECT endpoint_id FROM segment_members WHERE app_id = ? AND segment_id = ? AND version <= ?)`,
			args: []any{c.appID, src.ID, src.Version}}, nil
	}
	return c.segment(src)
}

// dimensions is true for an endpoint that matches every dimension of d.
func (c *compiler) dimensions(d *pinfold.SegmentDimensions) expr {
	var parts []expr
	for _, name := range sortedNames(d.Attributes) {
		parts = append(parts, attribute("$.at", name, d.Attributes[name]))
	}
	for _, name := range sortedNames(d.UserAttributes) {
		parts = append(parts, attribute("$.ua", name, d.UserAttributes[name]))
	}
	for _, name := range sortedNames(d.Metrics) {
		parts = append(parts, metric(name, d.Metrics[name]))
	}
	if d.Demographic != nil {
		for _, s := range d.Demographic.Sets() {
			parts = append(parts, set(demographicColumns[s.Name], s.Set))
		}
	}
	if l := d.Location; l != nil {
		if l.Country != nil {
			parts = append(parts, set(`coalesce(json_extract(e.data, '$.l.Country'), '')`, l.Country))
		}
		if l.GPSPoint != nil {
			parts = append(parts, gpsPoint(l.GPSPoint))
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
	"AppVersion": `coalesce(json_extract(e.data, '$.d.AppVersion'), '')`,
	"Channel":    `e.channel_type`,
	"DeviceType": `''`,
	"Make":       `coalesce(json_extract(e.data, '$.d.Make'), '')`,
	"Model":      `coalesce(json_extract(e.data, '$.d.Model'), '')`,
	"Platform":   `coalesce(json_extract(e.data, '$.d.Platform'), '')`,
}

func set(column string, s *pinfold.SetDimension) expr {
	if s.DimensionType == "EXCLUSIVE" {
		return not(in(column, s.Values))
	}
	return in(column, s.Values)
}

// attribute matches the values of one attribute (path "$.at") or user attribute ("$.ua").
// Names are compared as keys, never put into a JSON path, so any name is safe.
func attribute(path, name string, a pinfold.AttributeDimension) expr {
	var cond expr
	switch a.AttributeType {
	case "CONTAINS":
		var terms []expr
		for _, v := range a.Values {
			terms = append(terms, expr{sql: "instr(v.value, ?) > 0", args: []any{v}})
		}
		cond = or(terms...)
	case "BEFORE":
		cond = expr{sql: "pinfold_iso8601(v.value) < ?", args: []any{isoArg(a.Values[0])}}
	case "AFTER":
		cond = expr{sql: "pinfold_iso8601(v.value) > ?", args: []any{isoArg(a.Values[0])}}
	case "ON":
		cond = expr{sql: "substr(pinfold_iso8601(v.value), 1, 10) = substr(?, 1, 10)", args: []any{isoArg(a.Values[0])}}
	case "BETWEEN":
		cond = expr{sql: "pinfold_iso8601(v.value) BETWEEN ? AND ?", args: []any{isoArg(a.Values[0]), isoArg(a.Values[1])}}
	default: // INCLUSIVE, EXCLUSIVE
		cond = in("v.value", a.Values)
	}
	exists := expr{sql: `EXISTS (SELECT 1 FROM json_each(e.data, '` + path + `') a, json_each(a.value) v WHERE a.key = ? AND (` + cond.sql + `))`,
		args: append([]any{name}, cond.args...)}
	if a.AttributeType == "EXCLUSIVE" {
		return not(exists)
	}
	return exists
}

// isoArg writes a validated ISO-8601 date as pinfold_iso8601 writes the values it compares
// with: UTC with milliseconds.
func isoArg(v string) string {
	t, err := pinfold.ParseISO8601(v)
	if err != nil {
		return v // validated when written; an unreadable date matches nothing
	}
	return pinfold.FormatISO8601(t)
}

var comparisons = map[string]string{
	"GREATER_THAN": ">", "LESS_THAN": "<", "GREATER_THAN_OR_EQUAL": ">=", "LESS_THAN_OR_EQUAL": "<=", "EQUAL": "=",
}

func metric(name string, m pinfold.MetricDimension) expr {
	op, ok := comparisons[m.ComparisonOperator]
	if !ok {
		return exprFalse
	}
	return expr{sql: `EXISTS (SELECT 1 FROM json_each(e.data, '$.m') m WHERE m.key = ? AND m.value ` + op + ` ?)`, args: []any{name, m.Value}}
}

// gpsPoint is true for an endpoint within range of the point: the haversine distance on a
// sphere of the earth's mean radius.
func gpsPoint(g *pinfold.GPSPointDimension) expr {
	km := 0.0
	if g.RangeInKilometers != nil {
		km = *g.RangeInKilometers
	}
	const lat, lon = `json_extract(e.data, '$.l.Latitude')`, `json_extract(e.data, '$.l.Longitude')`
	return expr{sql: lat + ` IS NOT NULL AND ` + lon + ` IS NOT NULL AND 2 * 6371.0088 * asin(min(1, sqrt(
		pow(sin(radians(` + lat + ` - ?) / 2), 2) + cos(radians(?)) * cos(radians(` + lat + `)) * pow(sin(radians(` + lon + ` - ?) / 2), 2)))) <= ?`,
		args: []any{g.Coordinates.Latitude, g.Coordinates.Latitude, g.Coordinates.Longitude, km}}
}

var durations = map[string]time.Duration{"HR_24": 24 * time.Hour, "DAY_7": 7 * 24 * time.Hour, "DAY_14": 14 * 24 * time.Hour, "DAY_30": 30 * 24 * time.Hour}

// recency uses the endpoint's EffectiveDate as its last activity.
func (c *compiler) recency(r *pinfold.RecencyDimension) expr {
	since := pinfold.FormatISO8601(c.now.Add(-durations[r.Duration]))
	active := expr{sql: `coalesce(pinfold_iso8601(json_extract(e.data, '$.ed')) >= ?, 0)`, args: []any{since}}
	if r.RecencyType == "INACTIVE" {
		return not(active)
	}
	return active
}

func sortedNames[V any](m map[string]V) []string {
	names := make([]string, 0, len(m))
	for name := range m {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}
