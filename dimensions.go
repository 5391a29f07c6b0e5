package pinfold

import (
	"fmt"
	"math"
	"slices"
	"strings"
)

// The criteria of DIMENSIONAL segments, member for member Pinpoint's SegmentDimensions and
// SegmentGroupList (PINPOINT.md §2.6 and Appendix). They are domain structs rather than an
// opaque JSON document because two layers must understand them: the root package validates
// them, and the store evaluates them to find a segment's members. A nil pointer, map or slice
// is a member that was not sent, and an empty string an enum that was not sent, so that a
// segment reads back exactly as it was written. The wire form lives in api/wire.go.

// Enum values of the segment shapes.
var (
	AttributeTypes      = []string{"INCLUSIVE", "EXCLUSIVE", "CONTAINS", "BEFORE", "AFTER", "ON", "BETWEEN"}
	DimensionTypes      = []string{"INCLUSIVE", "EXCLUSIVE"}
	Durations           = []string{"HR_24", "DAY_7", "DAY_14", "DAY_30"}
	RecencyTypes        = []string{"ACTIVE", "INACTIVE"}
	ComparisonOperators = []string{"GREATER_THAN", "LESS_THAN", "GREATER_THAN_OR_EQUAL", "LESS_THAN_OR_EQUAL", "EQUAL"}
	// GroupOperators are the values of SegmentGroupList.Include and SegmentGroup.Type and
	// SourceType.
	GroupOperators = []string{"ALL", "ANY", "NONE"}
)

// MaxSegmentDimensions is Pinpoint's quota of dimensions per segment. Each attribute, user
// attribute and metric counts one, as does each set dimension, GPSPoint and Recency.
const MaxSegmentDimensions = 100

// SegmentDimensions are criteria an endpoint matches when it matches every one given:
//   - Attributes and UserAttributes: per name, by AttributeDimension;
//   - Metrics: per name, the endpoint has the metric and it compares to Value with
//     ComparisonOperator (an endpoint without the metric does not match);
//   - Demographic: AppVersion, Make, Model and Platform compare with the endpoint's
//     Demographic of the same name, Channel with its ChannelType, and DeviceType with ""
//     (Pinfold's endpoints have no device type), each by SetDimension;
//   - Location.Country: the endpoint's Location.Country by SetDimension; Location.GPSPoint:
//     the endpoint has a Latitude and Longitude within RangeInKilometers (0 when absent) of
//     the Coordinates, measured along the earth's surface;
//   - Behavior.Recency: Pinfold records no events, so an endpoint's EffectiveDate (the time
//     of its last write unless the writer gave one) stands for its last activity: ACTIVE
//     matches an EffectiveDate within Duration before now, INACTIVE any other endpoint.
//
// Text compares exactly, case included.
type SegmentDimensions struct {
	Attributes     map[string]AttributeDimension
	Behavior       *SegmentBehaviors
	Demographic    *SegmentDemographics
	Location       *SegmentLocation
	Metrics        map[string]MetricDimension
	UserAttributes map[string]AttributeDimension
}

// AttributeDimension matches an endpoint's values of one attribute (or user attribute) by
// AttributeType: INCLUSIVE ("" too): one of them is one of Values; EXCLUSIVE: none of them
// is (an endpoint without the attribute matches); CONTAINS: one of them contains one of
// Values; BEFORE, AFTER: one of them is an ISO-8601 time before, after Values[0]; ON: one of
// them is on the same UTC day as Values[0]; BETWEEN: one of them is from Values[0] to
// Values[1], both included. A value that is not an ISO-8601 time matches no date type.
type AttributeDimension struct {
	AttributeType string
	Values        []string
}

// SegmentBehaviors holds the activity criteria.
type SegmentBehaviors struct {
	Recency *RecencyDimension
}

// RecencyDimension selects endpoints active (or not) within Duration before now.
type RecencyDimension struct {
	Duration    string // HR_24, DAY_7, DAY_14, DAY_30
	RecencyType string // ACTIVE, INACTIVE
}

// SegmentDemographics holds the device criteria.
type SegmentDemographics struct {
	AppVersion, Channel, DeviceType, Make, Model, Platform *SetDimension
}

// SetDimension matches one value of an endpoint by DimensionType: INCLUSIVE ("" too): it is
// one of Values; EXCLUSIVE: it is none of them.
type SetDimension struct {
	DimensionType string
	Values        []string
}

// SegmentLocation holds the location criteria.
type SegmentLocation struct {
	Country  *SetDimension
	GPSPoint *GPSPointDimension
}

// GPSPointDimension selects endpoints near a point.
type GPSPointDimension struct {
	Coordinates       GPSCoordinates
	RangeInKilometers *float64
}

// GPSCoordinates is a point on the earth, in degrees.
type GPSCoordinates struct {
	Latitude, Longitude float64
}

// MetricDimension compares an endpoint's metric with Value.
type MetricDimension struct {
	ComparisonOperator string
	Value              float64
}

// SegmentGroupList combines groups of criteria. A segment's members are the endpoints that
// match its Dimensions and its groups, combined by Include: ALL ("" too) — every group,
// ANY — at least one, NONE — none. An empty list of groups selects every endpoint.
type SegmentGroupList struct {
	Groups  []SegmentGroup
	Include string
}

// SegmentGroup is a base of endpoints filtered by criteria. The base is the endpoints of its
// SourceSegments combined by SourceType — ANY ("" too): in at least one, ALL: in every one,
// NONE: in none of them — or every endpoint of the app when there are no SourceSegments.
// The base is then filtered by Dimensions combined by Type — ALL ("" too): matches every
// one, ANY: at least one, NONE: none; no Dimensions filter nothing. The base may be several
// DIMENSIONAL segments or exactly one IMPORT segment; endpoint IDs of an IMPORT segment that
// are not registered endpoints have nothing to match and are left out.
type SegmentGroup struct {
	Dimensions     []SegmentDimensions
	SourceSegments []SegmentReference
	SourceType     string
	Type           string
}

// SegmentReference names a base segment: a version of it, or its latest (Version nil).
type SegmentReference struct {
	ID      string
	Version *int
}

func oneOf(path, v string, allowed []string) error {
	if v != "" && !slices.Contains(allowed, v) {
		return Errorf(EINVALID, "%s must be one of %s, got %q", path, strings.Join(allowed, ", "), v)
	}
	return nil
}

func required(path, v string, allowed []string) error {
	if v == "" {
		return Errorf(EINVALID, "%s is required: one of %s", path, strings.Join(allowed, ", "))
	}
	return oneOf(path, v, allowed)
}

func (d *SegmentDimensions) validate(path string) error {
	for _, kind := range []struct {
		field string
		attrs map[string]AttributeDimension
	}{{"Attributes", d.Attributes}, {"UserAttributes", d.UserAttributes}} {
		for _, name := range sortedKeys(kind.attrs) {
			if err := kind.attrs[name].validate(path+"."+kind.field, name); err != nil {
				return err
			}
		}
	}
	for _, name := range sortedKeys(d.Metrics) {
		m := d.Metrics[name]
		if err := validateName(path+".Metrics", name, true); err != nil {
			return err
		}
		if err := required(path+".Metrics."+name+".ComparisonOperator", m.ComparisonOperator, ComparisonOperators); err != nil {
			return err
		}
		if math.IsNaN(m.Value) || math.IsInf(m.Value, 0) {
			return Errorf(EINVALID, "%s.Metrics.%s.Value must be a finite number", path, name)
		}
	}
	if b := d.Behavior; b != nil && b.Recency != nil {
		if err := required(path+".Behavior.Recency.Duration", b.Recency.Duration, Durations); err != nil {
			return err
		}
		if err := required(path+".Behavior.Recency.RecencyType", b.Recency.RecencyType, RecencyTypes); err != nil {
			return err
		}
	}
	if dem := d.Demographic; dem != nil {
		for _, s := range dem.Sets() {
			if err := s.Set.validate(path + ".Demographic." + s.Name); err != nil {
				return err
			}
		}
	}
	if l := d.Location; l != nil {
		if err := l.Country.validate(path + ".Location.Country"); err != nil {
			return err
		}
		if g := l.GPSPoint; g != nil {
			p := path + ".Location.GPSPoint"
			if c := g.Coordinates; !(c.Latitude >= -90 && c.Latitude <= 90) || !(c.Longitude >= -180 && c.Longitude <= 180) {
				return Errorf(EINVALID, "%s.Coordinates must have a Latitude from -90 to 90 and a Longitude from -180 to 180, got %v, %v", p, c.Latitude, c.Longitude)
			}
			if r := g.RangeInKilometers; r != nil && !(*r >= 0 && *r <= 40075) {
				return Errorf(EINVALID, "%s.RangeInKilometers must be from 0 to 40075, got %v", p, *r)
			}
		}
	}
	return nil
}

func (a AttributeDimension) validate(path, name string) error {
	if err := validateName(path, name, true); err != nil {
		return err
	}
	p := path + "." + name
	if err := oneOf(p+".AttributeType", a.AttributeType, AttributeTypes); err != nil {
		return err
	}
	if a.Values == nil {
		return Errorf(EINVALID, "%s.Values is required: the values to compare with", p)
	}
	dates := map[string]int{"BEFORE": 1, "AFTER": 1, "ON": 1, "BETWEEN": 2}[a.AttributeType]
	if dates == 0 {
		return nil
	}
	if len(a.Values) != dates {
		return Errorf(EINVALID, "%s.Values must hold %d ISO-8601 date(s) for AttributeType %s, got %d value(s)", p, dates, a.AttributeType, len(a.Values))
	}
	for _, v := range a.Values {
		if _, err := ParseISO8601(v); err != nil {
			return Errorf(EINVALID, "%s.Values must be ISO-8601 dates for AttributeType %s, got %q", p, a.AttributeType, v)
		}
	}
	return nil
}

func (s *SetDimension) validate(path string) error {
	if s == nil {
		return nil
	}
	if err := oneOf(path+".DimensionType", s.DimensionType, DimensionTypes); err != nil {
		return err
	}
	if s.Values == nil {
		return Errorf(EINVALID, "%s.Values is required: the values to compare with", path)
	}
	return nil
}

// NamedSet is one set dimension of SegmentDemographics with its member name.
type NamedSet struct {
	Name string
	Set  *SetDimension
}

// Sets returns the demographic set dimensions that are present, in member order.
func (d *SegmentDemographics) Sets() []NamedSet {
	var sets []NamedSet
	for _, s := range d.all() {
		if s.Set != nil {
			sets = append(sets, s)
		}
	}
	return sets
}

func (d *SegmentDemographics) all() []NamedSet {
	return []NamedSet{
		{"AppVersion", d.AppVersion}, {"Channel", d.Channel}, {"DeviceType", d.DeviceType},
		{"Make", d.Make}, {"Model", d.Model}, {"Platform", d.Platform},
	}
}

// count returns how many dimensions d has, as Pinpoint counts them.
func (d *SegmentDimensions) count() int {
	n := len(d.Attributes) + len(d.UserAttributes) + len(d.Metrics)
	if d.Behavior != nil && d.Behavior.Recency != nil {
		n++
	}
	if d.Demographic != nil {
		n += len(d.Demographic.Sets())
	}
	if l := d.Location; l != nil {
		if l.Country != nil {
			n++
		}
		if l.GPSPoint != nil {
			n++
		}
	}
	return n
}

func (g *SegmentGroupList) validate() error {
	if err := oneOf("SegmentGroups.Include", g.Include, GroupOperators); err != nil {
		return err
	}
	for i, group := range g.Groups {
		path := fmt.Sprintf("SegmentGroups.Groups[%d]", i)
		if err := oneOf(path+".Type", group.Type, GroupOperators); err != nil {
			return err
		}
		if err := oneOf(path+".SourceType", group.SourceType, GroupOperators); err != nil {
			return err
		}
		for j, ref := range group.SourceSegments {
			p := fmt.Sprintf("%s.SourceSegments[%d]", path, j)
			if ref.ID == "" {
				return Errorf(EINVALID, "%s.Id is required: the ID of a segment of the application", p)
			}
			if ref.Version != nil && *ref.Version < 1 {
				return Errorf(EINVALID, "%s.Version must be a whole number from 1, got %d", p, *ref.Version)
			}
		}
		for j := range group.Dimensions {
			if err := group.Dimensions[j].validate(fmt.Sprintf("%s.Dimensions[%d]", path, j)); err != nil {
				return err
			}
		}
	}
	return nil
}

// SegmentFinder looks up a segment version of one app for CheckSegmentSources: version 0 is
// the latest; a segment or version that does not exist is ENOTFOUND.
type SegmentFinder func(segmentID string, version int) (*Segment, error)

// CheckSegmentSources checks the base segments that seg's groups name, as a store does
// inside the transaction that writes seg: each must exist in the app (EINVALID naming the
// SourceSegments entry otherwise), a group's base may be several DIMENSIONAL segments or
// exactly one IMPORT segment, and no chain of base segments may lead back to seg.
func CheckSegmentSources(seg *Segment, find SegmentFinder) error {
	if seg.Groups == nil {
		return nil
	}
	for i, g := range seg.Groups.Groups {
		imports := 0
		for j, ref := range g.SourceSegments {
			path := fmt.Sprintf("SegmentGroups.Groups[%d].SourceSegments[%d]", i, j)
			if ref.ID == seg.ID {
				return Errorf(EINVALID, "%s names the segment itself; a segment cannot be its own base segment", path)
			}
			src, err := find(ref.ID, refVersion(ref))
			if ErrorCode(err) == ENOTFOUND {
				if ref.Version != nil {
					return Errorf(EINVALID, "%s: version %d of segment %q does not exist in the application", path, *ref.Version, ref.ID)
				}
				return Errorf(EINVALID, "%s: segment %q does not exist in the application", path, ref.ID)
			} else if err != nil {
				return err
			}
			if src.Type == SegmentTypeImport {
				imports++
			}
			if via, err := leadsTo(src, seg.ID, find, map[string]bool{}); err != nil {
				return err
			} else if via != "" {
				return Errorf(EINVALID, "%s: segment %q has segment %q as a base segment through %q; base segments cannot go round in a circle", path, ref.ID, seg.ID, via)
			}
		}
		if imports > 0 && len(g.SourceSegments) > 1 {
			return Errorf(EINVALID, "SegmentGroups.Groups[%d].SourceSegments names an IMPORT segment among %d segments; a group's base may be "+
				"several DIMENSIONAL segments or exactly one IMPORT segment", i, len(g.SourceSegments))
		}
	}
	return nil
}

func refVersion(ref SegmentReference) int {
	if ref.Version == nil {
		return 0
	}
	return *ref.Version
}

// leadsTo returns the ID of the base segment of s through which target is reached, or "".
func leadsTo(s *Segment, target string, find SegmentFinder, seen map[string]bool) (string, error) {
	if s.Groups == nil || seen[s.ID] {
		return "", nil
	}
	seen[s.ID] = true
	for _, g := range s.Groups.Groups {
		for _, ref := range g.SourceSegments {
			if ref.ID == target {
				return s.ID, nil
			}
			src, err := find(ref.ID, refVersion(ref))
			if ErrorCode(err) == ENOTFOUND {
				continue
			} else if err != nil {
				return "", err
			}
			if via, err := leadsTo(src, target, find, seen); err != nil || via != "" {
				return via, err
			}
		}
	}
	return "", nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
