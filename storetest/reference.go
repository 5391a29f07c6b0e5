package storetest

import (
	"math"
	"slices"
	"strings"
	"time"

	"github.com/pinfold/pinfold"
)

// reference is the plain Go filter a store's FindSegmentMembers must agree with: the
// semantics documented on pinfold.SegmentDimensions and pinfold.SegmentGroupList, written
// out over the domain types one endpoint at a time. Times compare to the millisecond, the
// precision Pinfold writes them in.
type reference struct {
	now      time.Time
	segments map[string][]*pinfold.Segment // DIMENSIONAL segments by ID, version 1 first; deleted ones are absent
	imported map[string]map[string]bool    // IMPORT segments' member IDs (of their latest version), by ID
}

// members returns the IDs of the endpoints in version (0: the latest) of the DIMENSIONAL
// segment id, in the order of endpoints.
func (r *reference) members(endpoints []*pinfold.Endpoint, id string, version int) []string {
	versions := r.segments[id]
	if version == 0 {
		version = len(versions)
	}
	var ids []string
	for _, e := range endpoints {
		if r.segment(e, versions[version-1]) {
			ids = append(ids, e.ID)
		}
	}
	return ids
}

func (r *reference) segment(e *pinfold.Endpoint, s *pinfold.Segment) bool {
	if s.Dimensions != nil && !r.dimensions(e, s.Dimensions) {
		return false
	}
	if l := s.Groups; l != nil {
		var groups []bool
		for _, g := range l.Groups {
			var sources, filters []bool
			for _, ref := range g.SourceSegments {
				sources = append(sources, r.source(e, ref))
			}
			for i := range g.Dimensions {
				filters = append(filters, r.dimensions(e, &g.Dimensions[i]))
			}
			groups = append(groups, combine(g.SourceType, "ANY", sources) && combine(g.Type, "ALL", filters))
		}
		return combine(l.Include, "ALL", groups)
	}
	return true
}

// source reports whether e is in a base segment; one that does not exist has no members.
func (r *reference) source(e *pinfold.Endpoint, ref pinfold.SegmentReference) bool {
	if members, ok := r.imported[ref.ID]; ok {
		return members[e.ID]
	}
	versions := r.segments[ref.ID]
	v := len(versions)
	if ref.Version != nil {
		v = *ref.Version
	}
	if v < 1 || v > len(versions) {
		return false
	}
	return r.segment(e, versions[v-1])
}

func combine(op, def string, terms []bool) bool {
	if len(terms) == 0 {
		return true
	}
	if op == "" {
		op = def
	}
	switch op {
	case "ANY":
		return slices.Contains(terms, true)
	case "NONE":
		return !slices.Contains(terms, true)
	}
	return !slices.Contains(terms, false)
}

func (r *reference) dimensions(e *pinfold.Endpoint, d *pinfold.SegmentDimensions) bool {
	for name, a := range d.Attributes {
		if values, _ := e.Attributes.Get(name); !matchAttribute(values, a) {
			return false
		}
	}
	for name, a := range d.UserAttributes {
		if values, _ := e.User.UserAttributes.Get(name); !matchAttribute(values, a) {
			return false
		}
	}
	for name, m := range d.Metrics {
		v, ok := e.Metrics.Get(name)
		if !ok || !compare(v, m.ComparisonOperator, m.Value) {
			return false
		}
	}
	if dem := d.Demographic; dem != nil {
		for _, s := range []struct {
			set   *pinfold.SetDimension
			value string
		}{{dem.AppVersion, e.Demographic.AppVersion}, {dem.Channel, e.ChannelType}, {dem.DeviceType, ""},
			{dem.Make, e.Demographic.Make}, {dem.Model, e.Demographic.Model}, {dem.Platform, e.Demographic.Platform}} {
			if s.set != nil && !matchSet(s.value, s.set) {
				return false
			}
		}
	}
	if l := d.Location; l != nil {
		if l.Country != nil && !matchSet(e.Location.Country, l.Country) {
			return false
		}
		if g := l.GPSPoint; g != nil {
			km := 0.0
			if g.RangeInKilometers != nil {
				km = *g.RangeInKilometers
			}
			if e.Location.Latitude == nil || e.Location.Longitude == nil ||
				distance(g.Coordinates.Latitude, g.Coordinates.Longitude, *e.Location.Latitude, *e.Location.Longitude) > km {
				return false
			}
		}
	}
	if b := d.Behavior; b != nil && b.Recency != nil {
		days := map[string]int{"HR_24": 1, "DAY_7": 7, "DAY_14": 14, "DAY_30": 30}[b.Recency.Duration]
		since := r.now.AddDate(0, 0, -days).UTC().Truncate(time.Millisecond)
		t, ok := isoTime(e.EffectiveDate)
		if active := ok && !t.Before(since); active != (b.Recency.RecencyType == "ACTIVE") {
			return false
		}
	}
	return true
}

// isoTime reads s as pinfold.ParseISO8601 does, in UTC and to the millisecond.
func isoTime(s string) (time.Time, bool) {
	t, err := pinfold.ParseISO8601(s)
	return t.UTC().Truncate(time.Millisecond), err == nil
}

func matchAttribute(values []string, a pinfold.AttributeDimension) bool {
	any := func(pred func(string) bool) bool { return slices.ContainsFunc(values, pred) }
	switch a.AttributeType {
	case "EXCLUSIVE":
		return !any(func(v string) bool { return slices.Contains(a.Values, v) })
	case "CONTAINS":
		return any(func(v string) bool {
			return slices.ContainsFunc(a.Values, func(want string) bool { return strings.Contains(v, want) })
		})
	case "BEFORE", "AFTER", "ON", "BETWEEN":
		t0, _ := isoTime(a.Values[0])
		return any(func(v string) bool {
			t, ok := isoTime(v)
			switch {
			case !ok:
				return false
			case a.AttributeType == "BEFORE":
				return t.Before(t0)
			case a.AttributeType == "AFTER":
				return t.After(t0)
			case a.AttributeType == "ON":
				return t.Format(time.DateOnly) == t0.Format(time.DateOnly)
			}
			t1, _ := isoTime(a.Values[1])
			return !t.Before(t0) && !t.After(t1)
		})
	}
	return any(func(v string) bool { return slices.Contains(a.Values, v) })
}

func matchSet(v string, s *pinfold.SetDimension) bool {
	return slices.Contains(s.Values, v) != (s.DimensionType == "EXCLUSIVE")
}

func compare(v float64, op string, to float64) bool {
	switch op {
	case "GREATER_THAN":
		return v > to
	case "LESS_THAN":
		return v < to
	case "GREATER_THAN_OR_EQUAL":
		return v >= to
	case "LESS_THAN_OR_EQUAL":
		return v <= to
	}
	return v == to
}

// distance is the haversine distance in kilometres on a sphere of the earth's mean radius.
func distance(lat1, lon1, lat2, lon2 float64) float64 {
	rad := func(d float64) float64 { return d * math.Pi / 180 }
	h := math.Pow(math.Sin(rad(lat2-lat1)/2), 2) + math.Cos(rad(lat1))*math.Cos(rad(lat2))*math.Pow(math.Sin(rad(lon2-lon1)/2), 2)
	return 2 * 6371.0088 * math.Asin(math.Min(1, math.Sqrt(h)))
}
