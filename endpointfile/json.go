package endpointfile

import (
	"io"
	"math/bits"
	"slices"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/pinfold/pinfold"
)

// memberKind says what a JSON member holds.
type memberKind uint8

const (
	mString         memberKind = iota // a string field of the update, by index
	mFloat                            // Latitude or Longitude
	mID                               // Id
	mAttributes                       // Attributes
	mUserAttributes                   // User.UserAttributes
	mMetrics                          // Metrics
	mObject                           // Demographic, Location or User
	mIgnored                          // a read-only member of Pinpoint's export files
)

// member is a known member of one of the objects of a line.
type member struct {
	kind  memberKind
	field int      // index of the string or float field
	id    int      // bit in jsonParser.seen, to find repeated members
	path  string   // dotted path, for messages
	obj   *jsonObj // the members of a nested object, for mObject
}

// jsonObj is the members of one object of EndpointRequest's shape.
type jsonObj struct {
	members map[string]member
	byLen   [][]namedMember    // members by the length of their name, for find
	byFirst [256][]namedMember // members by the first byte of their name, for match
	names   string             // the member names, for messages
}

type namedMember struct {
	name string
	m    member
}

// find returns the member named key, or nil. Comparing the few names of key's length is
// quicker than hashing key for a map.
func (o *jsonObj) find(key string) *member {
	if len(key) < len(o.byLen) {
		for i := range o.byLen[len(key)] {
			if nm := &o.byLen[len(key)][i]; nm.name == key {
				return &nm.m
			}
		}
	}
	return nil
}

// match returns the member whose name, in double quotes, starts s[i:], or nil. The name of
// a member is plain ASCII, so a key that is written without escapes is read this way,
// without cutting it out of the line and looking it up (find); any other key, e.g. one with
// an escape, is left to the caller.
func (o *jsonObj) match(s string, i int) *namedMember {
	if i+1 >= len(s) {
		return nil
	}
	for k := range o.byFirst[s[i+1]] {
		nm := &o.byFirst[s[i+1]][k]
		if end := i + 1 + len(nm.name); end < len(s) && s[end] == '"' && s[i+1:end] == nm.name {
			return nm
		}
	}
	return nil
}

// Member ids after the string and float fields.
const (
	idID = numStringFields + numFloatFields + iota
	idAttributes
	idMetrics
	idUserAttributes
	idDemographic
	idLocation
	idUser
	idApplicationID
	idCohortID
	idCreationDate
)

// topObj is the shape of a line: EndpointRequest plus Id and the read-only members of exports.
var topObj = func() *jsonObj {
	top, demographic, location, user := newObj(), newObj(), newObj(), newObj()
	objs := map[string]*jsonObj{"": top, "Demographic": demographic, "Location": location, "User": user}
	add := func(path string, m member) {
		parent, key := "", path
		if i := strings.LastIndexByte(path, '.'); i >= 0 {
			parent, key = path[:i], path[i+1:]
		}
		m.path = path
		objs[parent].members[key] = m
	}
	for f, name := range stringFieldNames {
		add(name, member{kind: mString, field: f, id: f})
	}
	for f, name := range floatFieldNames {
		add(name, member{kind: mFloat, field: f, id: numStringFields + f})
	}
	add("Id", member{kind: mID, id: idID})
	add("Attributes", member{kind: mAttributes, id: idAttributes})
	add("Metrics", member{kind: mMetrics, id: idMetrics})
	add("User.UserAttributes", member{kind: mUserAttributes, id: idUserAttributes})
	add("Demographic", member{kind: mObject, id: idDemographic, obj: demographic})
	add("Location", member{kind: mObject, id: idLocation, obj: location})
	add("User", member{kind: mObject, id: idUser, obj: user})
	add("ApplicationId", member{kind: mIgnored, id: idApplicationID})
	add("CohortId", member{kind: mIgnored, id: idCohortID})
	add("CreationDate", member{kind: mIgnored, id: idCreationDate})
	for _, o := range objs {
		names := make([]string, 0, len(o.members))
		for n := range o.members {
			names = append(names, n)
		}
		slices.Sort(names)
		o.names = strings.Join(names, ", ")
		for _, n := range names {
			for len(o.byLen) <= len(n) {
				o.byLen = append(o.byLen, nil)
			}
			o.byLen[len(n)] = append(o.byLen[len(n)], namedMember{n, o.members[n]})
			o.byFirst[n[0]] = append(o.byFirst[n[0]], namedMember{n, o.members[n]})
		}
	}
	return top
}()

// nestedNames are the dotted names of the members of nested objects.
var nestedNames = func() []string {
	var names []string
	for _, name := range append(stringFieldNames[:], append(floatFieldNames[:], "User.UserAttributes")...) {
		if strings.Contains(name, ".") {
			names = append(names, name)
		}
	}
	return names
}()

func newObj() *jsonObj { return &jsonObj{members: map[string]member{}} }

// NewJSONDecoder returns a decoder of newline-delimited JSON endpoint rows, r's first line
// being line firstLine of the file. A byte order mark is stripped when firstLine is 1.
func NewJSONDecoder(r io.Reader, firstLine int64) Decoder {
	return &jsonDecoder{lines: newLineReader(r, firstLine, firstLine == 1)}
}

// jsonDecoder decodes one JSON object per line.
type jsonDecoder struct {
	lines *lineReader
	p     jsonParser
	rows  rowSlab
}

// Next implements Decoder.
func (d *jsonDecoder) Next() (Row, error) {
	for {
		line, num, size, err := d.lines.read()
		if err != nil {
			return Row{}, err
		}
		if size == 0 && isBlankJSON(line) {
			continue
		}
		if err := lineError(line, size); err != nil {
			return Row{Line: num, Err: err}, nil
		}
		a := d.rows.next()
		if err := d.p.parse(line, a); err != nil {
			return Row{Line: num, Err: err}, nil
		}
		return a.finish(num), nil
	}
}

// isBlankJSON reports whether line holds only JSON whitespace.
func isBlankJSON(line string) bool {
	for _, c := range []byte(line) {
		if c != ' ' && c != '\t' && c != '\r' {
			return false
		}
	}
	return true
}

// jsonParser parses one line into a rowAlloc. Strings without escapes are substrings of the
// line, so a row costs few allocations.
type jsonParser struct {
	s     string
	i     int
	a     *rowAlloc
	seen  uint64              // members read so far, by member id
	buf   []byte              // unescaping
	slab  []string            // backing array of attribute values, see strings
	nulls map[string]struct{} // keys of the current attribute or metric map whose value was null

	attrs         pinfold.Attributes // the map being read, see attributes
	attrSlab      pinfold.Attributes // backing array of attributes, see attributes
	metricScratch pinfold.Metrics    // the map being read, see metrics
	metricSlab    pinfold.Metrics    // backing array of metrics, see metrics
}

// parse parses line s, which is not blank, into a.
func (p *jsonParser) parse(s string, a *rowAlloc) error {
	p.s, p.i, p.a, p.seen = s, 0, a, 0
	p.ws()
	if c := p.peek(); c != '{' {
		if kind := p.kind(); kind != "" {
			return invalidf("line is %s, not a JSON object; each line must be one JSON object", kind)
		}
		return p.syntax("expected a JSON object")
	}
	if err := p.object(topObj, ""); err != nil {
		return err
	}
	p.ws()
	if p.i < len(p.s) {
		return p.syntax("more data after the JSON object; each line must be exactly one JSON object")
	}
	return nil
}

// peek returns the byte at the current offset, or 0 at the end of the line.
func (p *jsonParser) peek() byte {
	if p.i < len(p.s) {
		return p.s[p.i]
	}
	return 0
}

// ws skips JSON whitespace. It is called before and after every token, and lines seldom
// have any: the common case, a byte above ' ', is inlined.
func (p *jsonParser) ws() {
	if p.i < len(p.s) && p.s[p.i] > ' ' {
		return
	}
	p.skipWS()
}

// skipWS skips JSON whitespace, for ws.
func (p *jsonParser) skipWS() {
	for p.i < len(p.s) {
		switch p.s[p.i] {
		case ' ', '\t', '\r', '\n':
			p.i++
		default:
			return
		}
	}
}

// syntax returns the error of invalid JSON at the current offset.
func (p *jsonParser) syntax(what string) error {
	if p.i >= len(p.s) {
		return invalidf("invalid JSON: the line ends early (%s)", what)
	}
	r, _ := utf8.DecodeRuneInString(p.s[p.i:])
	return invalidf("invalid JSON at offset %d: %s, found %q", p.i, what, r)
}

// kind describes the JSON value at the current offset ("a string", "true"…), or returns ""
// when no valid value starts there.
func (p *jsonParser) kind() string {
	switch c := p.peek(); {
	case c == '"':
		return "a string"
	case c == '{':
		return "an object"
	case c == '[':
		return "an array"
	case c == '-' || '0' <= c && c <= '9':
		return "a number"
	case strings.HasPrefix(p.s[p.i:], "true"):
		return "true"
	case strings.HasPrefix(p.s[p.i:], "false"):
		return "false"
	case strings.HasPrefix(p.s[p.i:], "null"):
		return "null"
	}
	return ""
}

// null consumes a null and reports whether there was one.
func (p *jsonParser) null() bool {
	if strings.HasPrefix(p.s[p.i:], "null") {
		p.i += 4
		return true
	}
	return false
}

// typeError returns the error of a value of the wrong type at path.
func (p *jsonParser) typeError(path, want string) error {
	got := p.kind()
	if got == "" {
		return p.syntax("expected a value")
	}
	hint := ""
	if got == "a string" && want == "an array of strings" {
		hint = `; write a single value as ["value"]`
	}
	return invalidf("%s must be %s, got %s%s", path, want, got, hint)
}

// members iterates over the members of the object at the current offset, calling f with
// the offset at the start of each value. The caller has checked that an object starts here.
// When o is not nil, the object has o's shape, and f is given the member of o each key
// names, or nil for an unknown key; otherwise it is always given nil.
func (p *jsonParser) members(o *jsonObj, f func(key string, m *member) error) error {
	p.i++
	p.ws()
	if p.peek() == '}' {
		p.i++
		return nil
	}
	for {
		p.ws()
		if p.peek() != '"' {
			return p.syntax("expected a member name in double quotes")
		}
		var key string
		var m *member
		var nm *namedMember
		if o != nil {
			nm = o.match(p.s, p.i)
		}
		if nm != nil {
			key, m = nm.name, &nm.m
			p.i += len(key) + 2
		} else {
			var err error
			if key, err = p.str(); err != nil {
				return err
			}
			if o != nil {
				m = o.find(key)
			}
		}
		p.ws()
		if p.peek() != ':' {
			return p.syntax("expected ':' after a member name")
		}
		p.i++
		p.ws()
		if err := f(key, m); err != nil {
			return err
		}
		p.ws()
		switch p.peek() {
		case ',':
			p.i++
		case '}':
			p.i++
			return nil
		default:
			return p.syntax("expected ',' or '}' after a member")
		}
	}
}

// object parses an object of shape o at path ("" for the line itself).
func (p *jsonParser) object(o *jsonObj, path string) error {
	return p.members(o, func(key string, m *member) error {
		if m == nil {
			return unknownMember(o, path, key)
		}
		if p.seen&(1<<m.id) != 0 {
			return invalidf("member %q appears twice", m.path)
		}
		p.seen |= 1 << m.id
		return p.value(m)
	})
}

// value parses the value of member m.
func (p *jsonParser) value(m *member) error {
	switch m.kind {
	case mString, mID, mIgnored:
		if p.peek() != '"' {
			if p.null() {
				return nil
			}
			return p.typeError(m.path, "a string")
		}
		v, err := p.str()
		if err != nil {
			return err
		}
		switch m.kind {
		case mString:
			p.a.setString(m.field, v)
		case mID:
			p.a.u.ID = v
		}
	case mFloat:
		f, null, err := p.number(m.path, "")
		if err == nil && !null {
			p.a.setFloat(m.field, f)
		}
		return err
	case mAttributes:
		return p.attributes(m.path, &p.a.u.Attributes, false)
	case mUserAttributes:
		return p.attributes(m.path, &p.a.u.UserAttributes, true)
	case mMetrics:
		return p.metrics(m.path)
	case mObject:
		if p.null() {
			return nil
		}
		if p.peek() != '{' {
			return p.typeError(m.path, "an object")
		}
		return p.object(m.obj, m.path)
	}
	return nil
}

// join returns the name of entry key of the map at path, or path when key is "".
func join(path, key string) string {
	if key == "" {
		return path
	}
	return path + "." + key
}

// unknownMember returns the error of a member that o does not have.
func unknownMember(o *jsonObj, path, key string) error {
	full := key
	if path != "" {
		full = path + "." + key
	}
	for name := range o.members {
		if strings.EqualFold(name, strings.TrimSpace(key)) {
			return invalidf("unknown field %q; did you mean %q? (names are case-sensitive)", full, name)
		}
	}
	if path == "" {
		for _, name := range nestedNames {
			i := strings.LastIndexByte(name, '.')
			if strings.EqualFold(name[i+1:], strings.TrimSpace(key)) {
				return invalidf(`unknown field %q; did you mean %s, nested as {"%s":{"%s":…}}?`, full, name, name[:i], name[i+1:])
			}
		}
	}
	if strings.Contains(key, ".") {
		return invalidf(`unknown field %q; in JSON files a dotted name is written nested, e.g. {"Location":{"Country":"US"}}`, full)
	}
	if path == "" {
		return invalidf("unknown field %q; the fields of a line are %s", full, o.names)
	}
	return invalidf("unknown field %q; the fields of %s are %s", full, path, o.names)
}

// attributes parses a map of attribute names to arrays of strings into *dst, the update's
// UserAttributes when user is set, its Attributes otherwise, in order of name. They are put
// in order in p.attrs as they are read, then cut from p.attrSlab, which serves many rows as
// p.slab does; the entries go through the row's EntryCheck in that order too.
func (p *jsonParser) attributes(path string, dst *pinfold.Attributes, user bool) error {
	if p.null() {
		return nil
	}
	if p.peek() != '{' {
		return p.typeError(path, "an object of arrays of strings")
	}
	p.resetNulls()
	// A repeated name is an error before anything else about its value.
	attrs := p.attrs[:0]
	set := func(key string) bool {
		_, ok := attrs.Get(key)
		return ok
	}
	err := p.members(nil, func(key string, _ *member) error {
		if err := p.checkRepeat(path, key, set); err != nil {
			return err
		}
		if p.null() {
			return nil
		}
		if p.peek() != '[' {
			if set(key) {
				return repeatError(path, key)
			}
			return p.typeError(path+"."+key, "an array of strings")
		}
		values, err := p.strings(path, key)
		if err != nil {
			if set(key) {
				return repeatError(path, key)
			}
			return err
		}
		// Names mostly come in order: a look at the last one tells.
		if n := len(attrs); n == 0 || attrs[n-1].Name < key {
			attrs = append(attrs, pinfold.Attribute{Name: key, Values: values})
		} else if set(key) {
			return repeatError(path, key)
		} else {
			attrs.Set(key, values)
		}
		return nil
	})
	p.attrs = attrs[:0]
	defer clear(attrs) // the scratch keeps no row's strings
	if err != nil || len(attrs) == 0 {
		return err
	}
	*dst = carve(&p.attrSlab, attrs)
	for _, at := range *dst {
		p.a.entries.Attribute(user, at.Name, at.Values)
	}
	return nil
}

// metrics parses the Metrics map, in order of name, as attributes does.
func (p *jsonParser) metrics(path string) error {
	if p.null() {
		return nil
	}
	if p.peek() != '{' {
		return p.typeError(path, "an object of numbers")
	}
	p.resetNulls()
	// Repeated names are found as in attributes.
	ms := p.metricScratch[:0]
	set := func(key string) bool {
		_, ok := ms.Get(key)
		return ok
	}
	err := p.members(nil, func(key string, _ *member) error {
		if err := p.checkRepeat(path, key, set); err != nil {
			return err
		}
		f, null, err := p.number(path, key)
		if err != nil {
			if set(key) {
				return repeatError(path, key)
			}
			return err
		}
		if null {
			return nil
		}
		if n := len(ms); n == 0 || ms[n-1].Name < key {
			ms = append(ms, pinfold.Metric{Name: key, Value: f})
		} else if set(key) {
			return repeatError(path, key)
		} else {
			ms.Set(key, f)
		}
		return nil
	})
	p.metricScratch = ms[:0]
	defer clear(ms)
	if err != nil || len(ms) == 0 {
		return err
	}
	p.a.u.Metrics = carve(&p.metricSlab, ms)
	for _, m := range p.a.u.Metrics {
		p.a.entries.Metric(m.Name, m.Value)
	}
	return nil
}

// carve copies entries to the end of *slab, which serves many rows (a new one when it has no
// room left), and returns them there, with their length as capacity.
func carve[S ~[]E, E any](slab *S, entries S) S {
	n := len(entries)
	if cap(*slab)-len(*slab) < n {
		*slab = make(S, 0, max(entrySlabSize, n))
	}
	start := len(*slab)
	*slab = append(*slab, entries...)
	return (*slab)[start : start+n : start+n]
}

// resetNulls forgets the null keys of the last map, dropping a large set rather than keeping
// its memory for every later row.
func (p *jsonParser) resetNulls() {
	if len(p.nulls) > 64 {
		p.nulls = nil
	}
	clear(p.nulls)
}

// checkRepeat returns an error if key was read with a null value in the current map, or
// if its value is null and it was read before with another (set reports that). It records
// a key whose value is null. The caller finds the other repeats.
func (p *jsonParser) checkRepeat(path, key string, set func(string) bool) error {
	if _, wasNull := p.nulls[key]; wasNull {
		return repeatError(path, key)
	}
	if strings.HasPrefix(p.s[p.i:], "null") {
		if set(key) {
			return repeatError(path, key)
		}
		if p.nulls == nil {
			p.nulls = make(map[string]struct{})
		}
		p.nulls[key] = struct{}{}
	}
	return nil
}

func repeatError(path, key string) error {
	return invalidf("%s has the name %q twice", path, key)
}

// strings parses the array of strings of attribute key of the map at path. An empty array
// gives an empty, non-nil slice.
func (p *jsonParser) strings(path, key string) ([]string, error) {
	p.i++
	p.ws()
	if p.peek() == ']' {
		p.i++
		return []string{}, nil
	}
	// The values go straight to the end of p.slab, shared with other attributes and rows: a
	// kept update keeps that array (valuesSlabSize strings) in memory, besides its chunk.
	// Nothing before start is touched, and on an error the slab is cut back to start.
	start := len(p.slab)
	for {
		p.ws()
		if p.peek() != '"' {
			n := len(p.slab) - start
			p.slab = p.slab[:start]
			got := p.kind()
			if got == "" {
				return nil, p.syntax("expected a string")
			}
			return nil, invalidf("%s.%s must be an array of strings; value %d is %s", path, key, n+1, got)
		}
		v, err := p.str()
		if err != nil {
			p.slab = p.slab[:start]
			return nil, err
		}
		if len(p.slab) == cap(p.slab) {
			// A new slab, with the values read so far.
			slab := make([]string, 0, max(valuesSlabSize, 2*(len(p.slab)-start)))
			p.slab = append(slab, p.slab[start:]...)
			start = 0
		}
		p.slab = append(p.slab, v)
		p.ws()
		switch p.peek() {
		case ',':
			p.i++
		case ']':
			p.i++
			// The capacity is the length, so appending to the values cannot overwrite
			// others.
			return p.slab[start:len(p.slab):len(p.slab)], nil
		default:
			p.slab = p.slab[:start]
			return nil, p.syntax("expected ',' or ']' after an array value")
		}
	}
}

// number parses a number or null: the member at path, or the entry key of the map at path.
func (p *jsonParser) number(path, key string) (f float64, null bool, err error) {
	if p.null() {
		return 0, true, nil
	}
	if c := p.peek(); c != '-' && (c < '0' || '9' < c) {
		return 0, false, p.typeError(join(path, key), "a number")
	}
	s, start := p.s, p.i
	j := start
	digits := func() bool {
		k := j
		for j < len(s) && '0' <= s[j] && s[j] <= '9' {
			j++
		}
		return j > k
	}
	if s[j] == '-' {
		j++
	}
	switch {
	case j < len(s) && s[j] == '0':
		j++
	case !digits():
		p.i = j
		return 0, false, p.syntax("expected a digit")
	}
	if j < len(s) && s[j] == '.' {
		j++
		if !digits() {
			p.i = j
			return 0, false, p.syntax("expected a digit after the decimal point")
		}
	}
	if j < len(s) && (s[j] == 'e' || s[j] == 'E') {
		j++
		if j < len(s) && (s[j] == '+' || s[j] == '-') {
			j++
		}
		if !digits() {
			p.i = j
			return 0, false, p.syntax("expected a digit in the exponent")
		}
	}
	p.i = j
	if f, ok := parseSimpleDecimal(s[start:j]); ok {
		return f, false, nil
	}
	f, err = strconv.ParseFloat(s[start:j], 64)
	if err != nil {
		return 0, false, invalidf("%s is out of range: %s", join(path, key), quoteShort(s[start:j]))
	}
	return f, false, nil
}

// str parses the string at the current offset (a '"').
func (p *jsonParser) str() (string, error) {
	start := p.i + 1
	for j := plainRun(p.s, start); j < len(p.s); j++ {
		switch c := p.s[j]; {
		case c == '"':
			p.i = j + 1
			return p.s[start:j], nil
		case c == '\\':
			return p.strEscaped(start, j)
		case c < 0x20:
			p.i = j
			return "", p.syntax("control character in a string; write it as an escape such as \\n")
		}
	}
	p.i = len(p.s)
	return "", p.syntax("unterminated string")
}

// plainRun returns the index of the first word of eight bytes of s from i on that holds a
// '"', a '\\' or a control character, or of the last eight bytes or fewer: the bytes before
// it are plain string content.
func plainRun(s string, i int) int {
	const (
		ones = 0x0101010101010101
		lo7  = 0x7f7f7f7f7f7f7f7f
		high = 0x8080808080808080
	)
	for ; i+8 <= len(s); i += 8 {
		x := load64(s, i)
		q, b := x^(ones*'"'), x^(ones*'\\')
		quote := ^((q&lo7 + lo7) | q | lo7)
		backslash := ^((b&lo7 + lo7) | b | lo7)
		control := ^((x&lo7 + (0x80-0x20)*ones) | x) & high
		if quote|backslash|control != 0 {
			return i + bits.TrailingZeros64(quote|backslash|control)>>3
		}
	}
	return i
}

// strEscaped finishes a string that starts at s[start] and has an escape at s[j]. Escapes
// are read as encoding/json does: an invalid surrogate becomes U+FFFD.
func (p *jsonParser) strEscaped(start, j int) (string, error) {
	s := p.s
	b := append(p.buf[:0], s[start:j]...)
	defer func() { p.buf = b }()
	for j < len(s) {
		c := s[j]
		switch {
		case c == '"':
			p.i = j + 1
			return string(b), nil
		case c < 0x20:
			p.i = j
			return "", p.syntax("control character in a string; write it as an escape such as \\n")
		case c != '\\':
			b = append(b, c)
			j++
			continue
		}
		if j+1 >= len(s) {
			break
		}
		switch e := s[j+1]; e {
		case '"', '\\', '/':
			b = append(b, e)
		case 'b':
			b = append(b, '\b')
		case 'f':
			b = append(b, '\f')
		case 'n':
			b = append(b, '\n')
		case 'r':
			b = append(b, '\r')
		case 't':
			b = append(b, '\t')
		case 'u':
			r, ok := hex4(s, j+2)
			if !ok {
				p.i = j
				return "", p.syntax(`invalid \u escape; it needs four hex digits`)
			}
			if r == 0 {
				p.i = j
				return "", invalidf("NUL character (\\u0000) in a string at offset %d; Pinfold cannot store it", j)
			}
			j += 6
			if utf16.IsSurrogate(r) {
				r2, ok := rune(-1), false
				if j+1 < len(s) && s[j] == '\\' && s[j+1] == 'u' {
					r2, ok = hex4(s, j+2)
				}
				if dec := utf16.DecodeRune(r, r2); ok && dec != utf8.RuneError {
					r = dec
					j += 6
				} else {
					r = utf8.RuneError
				}
			}
			b = utf8.AppendRune(b, r)
			continue
		default:
			p.i = j
			return "", p.syntax("invalid escape in a string")
		}
		j += 2
	}
	p.i = len(s)
	return "", p.syntax("unterminated string")
}

// hex4 parses the four hex digits at s[i:].
func hex4(s string, i int) (rune, bool) {
	if i+4 > len(s) {
		return 0, false
	}
	var r rune
	for _, c := range []byte(s[i : i+4]) {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}
