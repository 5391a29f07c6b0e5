package endpointfile

import (
	"fmt"
	"io"
	"math"
	"math/bits"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/pinfold/pinfold"
)

// colKind says what a CSV column holds.
type colKind uint8

const (
	colID            colKind = iota // Id
	colString                       // a string field of the update, by index
	colFloat                        // Location.Latitude or Location.Longitude
	colAttribute                    // Attributes.<name>
	colUserAttribute                // User.UserAttributes.<name>
	colMetric                       // Metrics.<name>
)

// column is one column of a CSV header.
type column struct {
	name  string // as written in the header
	kind  colKind
	field int    // index of the string or float field, for colString and colFloat; of the metric in order of name, for colMetric
	key   string // the attribute or metric name, for the custom kinds
}

// attrGroup is every column of one multi-valued attribute, in header order.
type attrGroup struct {
	name string
	user bool // User.UserAttributes rather than Attributes
	cols []int
}

// csvHeader is a parsed header: what each column holds, and the attributes grouped by name.
type csvHeader struct {
	cols      []column
	groups    []attrGroup // Attributes', then User.UserAttributes', each in order of name
	nAttrCols int         // columns of both attribute kinds
	metrics   []string    // the Metrics names, in order
	scalars   []int       // the columns that are not attributes, in order
}

// fixedColumns maps the fixed header names to their columns.
var fixedColumns = func() map[string]column {
	m := map[string]column{"Id": {name: "Id", kind: colID}}
	for f, name := range stringFieldNames {
		m[name] = column{name: name, kind: colString, field: f}
	}
	for f, name := range floatFieldNames {
		m[name] = column{name: name, kind: colFloat, field: f}
	}
	return m
}()

// columnList is the list of supported columns given in the message of an unknown column.
const columnList = "Id, Address, ChannelType, EffectiveDate, EndpointStatus, OptOut, RequestId, " +
	"Demographic.{AppVersion,Locale,Make,Model,ModelVersion,Platform,PlatformVersion,Timezone}, " +
	"Location.{City,Country,Latitude,Longitude,PostalCode,Region}, Attributes.<name>, Metrics.<name>, " +
	"User.UserId, User.UserAttributes.<name>"

// HeaderLine reads the first line of a CSV stream and returns it without a UTF-8 byte order
// mark and without its line terminator, for a planner that cuts a file into pieces and passes
// the header to NewCSVDecoder for each piece that does not start at byte 0. It reads r past
// the header. It checks the header as NewCSVDecoder does, so a file with a bad header (or an
// empty file) fails once with an EINVALID *pinfold.Error naming the problem, before it is
// cut; any other error comes from r.
func HeaderLine(r io.Reader) (string, error) {
	lr := newLineReader(r, 1, true)
	line, _, size, err := lr.read()
	if err == io.EOF {
		return "", invalidf("the file is empty; the first line of a CSV file must be its header")
	} else if err != nil {
		return "", err
	}
	if _, err := parseHeader(line, size); err != nil {
		return "", err
	}
	return strings.Clone(line), nil // not a substring of the reader's chunk, which it would keep
}

// NewCSVDecoder returns a decoder of CSV endpoint rows.
//
// When header is "", the first line of r is the header, at line number firstLine (normally
// 1, r starting at byte 0 of the file): it is read now, and a byte order mark before it is
// stripped. Otherwise r starts in the middle of a file, right after a line end, header is the
// file's header line (as HeaderLine returns it), and firstLine is the number of r's first line.
//
// A bad header is returned as an EINVALID *pinfold.Error whose message names the column
// (unknown, empty or repeated name, or the header is empty or malformed): every row would
// fail the same way, so the caller records one failure instead. Any other error comes from r.
func NewCSVDecoder(r io.Reader, header string, firstLine int64) (Decoder, error) {
	var lr *lineReader
	var line string
	var size int
	if header != "" {
		lr = newLineReader(r, firstLine, false)
		line = strings.TrimSuffix(strings.TrimSuffix(strings.TrimPrefix(header, "\ufeff"), "\n"), "\r")
		if len(line) > MaxLineBytes {
			size = len(line)
		}
	} else {
		lr = newLineReader(r, firstLine, true)
		var err error
		line, _, size, err = lr.read()
		if err == io.EOF {
			return nil, invalidf("the file is empty; the first line of a CSV file must be its header")
		} else if err != nil {
			return nil, err
		}
	}
	h, err := parseHeader(line, size)
	if err != nil {
		return nil, err
	}
	return &csvDecoder{lines: lr, csvHeader: h, fields: make([]string, 0, len(h.cols)),
		metricSet: make([]bool, len(h.metrics)), metricValues: make([]float64, len(h.metrics))}, nil
}

// parseHeader parses a header line (size > 0 for a line over MaxLineBytes).
func parseHeader(line string, size int) (*csvHeader, error) {
	if err := lineError(line, size); err != nil {
		return nil, invalidf("CSV header: %s", pinfold.ErrorMessage(err))
	}
	if isBlankCSV(line) {
		return nil, invalidf("the CSV header (first line) is empty; it must name the columns, e.g. \"ChannelType,Address\"")
	}
	if err := controlError(line); err != nil {
		return nil, invalidf("CSV header: %s", pinfold.ErrorMessage(err))
	}
	// The names end up in the column list and as names of every update's attributes and metrics: copy them out
	// of the reader's chunk.
	names, _, serr := splitCSV(strings.Clone(line), nil, math.MaxInt, nil)
	if serr != nil {
		return nil, invalidf("CSV header: column %d: %s", serr.field+1, serr.what)
	}
	h := &csvHeader{cols: make([]column, len(names))}
	first := make(map[string]int, len(names))
	groups := map[string]int{} // "A"+name or "U"+name → index in h.groups
	for i, name := range names {
		c, err := parseColumn(i, name)
		if err != nil {
			return nil, err
		}
		multi := c.kind == colAttribute || c.kind == colUserAttribute
		if j, ok := first[name]; ok && !multi {
			return nil, invalidf("CSV header: column %q appears twice (columns %d and %d); only Attributes.<name> and User.UserAttributes.<name> columns may repeat", name, j+1, i+1)
		} else if !ok {
			first[name] = i
		}
		switch c.kind {
		case colAttribute, colUserAttribute:
			h.nAttrCols++
			gk := "A" + c.key
			if c.kind == colUserAttribute {
				gk = "U" + c.key
			}
			g, ok := groups[gk]
			if !ok {
				g = len(h.groups)
				groups[gk] = g
				h.groups = append(h.groups, attrGroup{name: c.key, user: c.kind == colUserAttribute})
			}
			h.groups[g].cols = append(h.groups[g].cols, i)
		case colMetric:
			h.metrics = append(h.metrics, c.key)
		}
		if c.kind != colAttribute && c.kind != colUserAttribute {
			h.scalars = append(h.scalars, i)
		}
		h.cols[i] = c
	}
	// An update's attributes and metrics are in order of name (pinfold.Attributes): the
	// header puts them in order once, and every row follows.
	slices.SortFunc(h.groups, func(a, b attrGroup) int {
		if a.user != b.user {
			if a.user {
				return 1
			}
			return -1
		}
		return strings.Compare(a.name, b.name)
	})
	slices.Sort(h.metrics)
	for i := range h.cols {
		if c := &h.cols[i]; c.kind == colMetric {
			c.field, _ = slices.BinarySearch(h.metrics, c.key)
		}
	}
	return h, nil
}

// parseColumn parses the header name of column i (0-based).
func parseColumn(i int, name string) (column, error) {
	if name == "" {
		return column{}, invalidf("CSV header: column %d has no name", i+1)
	}
	if c, ok := fixedColumns[name]; ok {
		return c, nil
	}
	var c column
	switch {
	case strings.HasPrefix(name, attributesPrefix):
		c = column{name: name, kind: colAttribute, key: name[len(attributesPrefix):]}
	case strings.HasPrefix(name, userAttributesPrefix):
		c = column{name: name, kind: colUserAttribute, key: name[len(userAttributesPrefix):]}
	case strings.HasPrefix(name, metricsPrefix):
		c = column{name: name, kind: colMetric, key: name[len(metricsPrefix):]}
	default:
		if s := suggestColumn(name); s != "" {
			return column{}, invalidf("CSV header: unknown column %q in column %d; did you mean %q? (names are case-sensitive)", name, i+1, s)
		}
		return column{}, invalidf("CSV header: unknown column %q in column %d; the supported columns are %s", name, i+1, columnList)
	}
	if c.key == "" {
		return column{}, invalidf("CSV header: column %d %q has an empty name after the dot", i+1, name)
	}
	if n := utf8.RuneCountInString(c.key); n > pinfold.MaxAttributeNameLen {
		return column{}, invalidf("CSV header: column %d %q has a name of %d characters; at most %d are allowed", i+1, name, n, pinfold.MaxAttributeNameLen)
	}
	return c, nil
}

// suggestColumn returns the supported name that name probably meant, or "".
func suggestColumn(name string) string {
	t := strings.TrimSpace(name)
	for n := range fixedColumns {
		if strings.EqualFold(t, n) {
			return n
		}
	}
	for _, p := range []string{attributesPrefix, userAttributesPrefix, metricsPrefix} {
		if len(t) > len(p) && strings.EqualFold(t[:len(p)], p) {
			return p + t[len(p):]
		}
	}
	for n := range fixedColumns {
		if i := strings.LastIndexByte(n, '.'); i >= 0 && strings.EqualFold(t, n[i+1:]) {
			return n
		}
	}
	return ""
}

// csvDecoder decodes the rows after a header.
type csvDecoder struct {
	lines *lineReader
	*csvHeader
	fields  []string
	scratch []byte   // unescaping of quoted values
	slab    []string // backing array of attribute values, see attributes
	rows    rowSlab

	attrSlab     pinfold.Attributes // backing array of attributes, see attributes
	metricSlab   pinfold.Metrics    // backing array of metrics, see setMetrics
	metricSet    []bool             // of the row being read, by index in metrics
	metricValues []float64          // of the row being read, where metricSet
}

// Next implements Decoder.
func (d *csvDecoder) Next() (Row, error) {
	for {
		line, num, size, err := d.lines.read()
		if err != nil {
			return Row{}, err
		}
		if size == 0 && isBlankCSV(line) {
			continue
		}
		return d.row(line, size, num), nil
	}
}

func (d *csvDecoder) row(line string, size int, num int64) Row {
	var fields []string
	ok := false
	if size == 0 && utf8.ValidString(line) {
		fields, ok = splitFast(line, d.fields[:0], len(d.cols))
		d.fields = fields[:0]
	}
	if !ok {
		// Something is wrong with the line, or it is unusual: find out what as the rules
		// are written, one after the other.
		if err := lineError(line, size); err != nil {
			return Row{Line: num, Err: err}
		}
		if err := controlError(line); err != nil {
			return Row{Line: num, Err: err}
		}
		var n int
		var serr *splitError
		fields, n, serr = splitCSV(line, d.fields[:0], len(d.cols), &d.scratch)
		d.fields = fields[:0]
		if serr != nil {
			return Row{Line: num, Err: invalidf("%s: %s", d.colRef(serr.field), serr.what)}
		}
		if n != len(d.cols) {
			return Row{Line: num, Err: invalidf("row has %d %s but the header has %d %s", n, plural(n, "field"), len(d.cols), plural(len(d.cols), "column"))}
		}
	}
	a := d.rows.next()
	nMetrics := 0
	for _, i := range d.scalars {
		v := fields[i]
		if v == "" {
			continue
		}
		c := &d.cols[i]
		switch c.kind {
		case colID:
			a.u.ID = v
		case colString:
			a.setString(c.field, v)
		case colFloat, colMetric:
			f, err := parseDecimal(v)
			if err != "" {
				clear(d.metricSet)
				return Row{Line: num, Err: invalidf("%s: must be a number, got %s", d.colRef(i), err)}
			}
			if c.kind == colFloat {
				a.setFloat(c.field, f)
			} else {
				d.metricSet[c.field] = true
				d.metricValues[c.field] = f
				nMetrics++
			}
		}
	}
	if nMetrics > 0 {
		d.setMetrics(a, nMetrics)
	}
	if len(d.groups) > 0 {
		d.attributes(a, fields)
	}
	return a.finish(num)
}

// valuesSlabSize is how many attribute values csvDecoder.attributes carves out of one
// allocation, for many rows; entrySlabSize is how many attributes or metrics.
const (
	valuesSlabSize = 1024
	entrySlabSize  = 256
)

// setMetrics sets the row's n metrics, read into d.metricValues, in order of name. Their
// slice is cut from d.metricSlab, which serves many rows as d.slab does.
func (d *csvDecoder) setMetrics(a *rowAlloc, n int) {
	if cap(d.metricSlab)-len(d.metricSlab) < n {
		d.metricSlab = make(pinfold.Metrics, 0, max(entrySlabSize, len(d.metrics)))
	}
	ms := d.metricSlab[len(d.metricSlab):len(d.metricSlab)]
	for i, set := range d.metricSet {
		if set {
			ms = append(ms, pinfold.Metric{Name: d.metrics[i], Value: d.metricValues[i]})
			a.entries.Metric(d.metrics[i], d.metricValues[i])
			d.metricSet[i] = false
		}
	}
	a.u.Metrics = ms[:n:n]
	d.metricSlab = d.metricSlab[:len(d.metricSlab)+n]
}

// attributes sets the attributes of the row of fields. The values of all the row's
// attributes share one backing array, cut from d.slab, which serves many rows: a kept
// update keeps that array (valuesSlabSize strings) in memory, besides its chunk. Each
// attribute's slice has its length as capacity, so appending to it cannot overwrite
// another's values. The attributes themselves are cut from d.attrSlab the same way.
func (d *csvDecoder) attributes(a *rowAlloc, fields []string) {
	if cap(d.slab)-len(d.slab) < d.nAttrCols {
		d.slab = make([]string, 0, max(valuesSlabSize, d.nAttrCols))
	}
	if cap(d.attrSlab)-len(d.attrSlab) < len(d.groups) {
		d.attrSlab = make(pinfold.Attributes, 0, max(entrySlabSize, len(d.groups)))
	}
	values := d.slab[len(d.slab):len(d.slab)] // room for d.nAttrCols
	attrs := d.attrSlab[len(d.attrSlab):len(d.attrSlab)]
	nAttrs := -1 // of attrs, the endpoint's; the user's follow
	for gi := range d.groups {
		g := &d.groups[gi]
		if g.user && nAttrs < 0 {
			nAttrs = len(attrs)
		}
		start := len(values)
		for _, i := range g.cols {
			if v := fields[i]; v != "" {
				values = append(values, v)
			}
		}
		if len(values) == start {
			continue
		}
		vs := values[start:len(values):len(values)]
		attrs = append(attrs, pinfold.Attribute{Name: g.name, Values: vs})
		a.entries.Attribute(g.user, g.name, vs)
	}
	if nAttrs < 0 {
		nAttrs = len(attrs)
	}
	if nAttrs > 0 {
		a.u.Attributes = attrs[:nAttrs:nAttrs]
	}
	if n := len(attrs); n > nAttrs {
		a.u.UserAttributes = attrs[nAttrs:n:n]
	}
	d.slab = d.slab[:len(d.slab)+len(values)]
	d.attrSlab = d.attrSlab[:len(d.attrSlab)+len(attrs)]
}

// colRef names column i (0-based) for a message.
func (d *csvDecoder) colRef(i int) string {
	if i < len(d.cols) {
		return fmt.Sprintf("column %d (%q)", i+1, d.cols[i].name)
	}
	return fmt.Sprintf("field %d (beyond the header's %d columns)", i+1, len(d.cols))
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

// isBlankCSV reports whether line is empty or only spaces.
func isBlankCSV(line string) bool {
	for _, c := range []byte(line) {
		if c != ' ' {
			return false
		}
	}
	return true
}

// controlError returns the row error of a line holding a tab, a NUL or a carriage return.
func controlError(line string) error {
	if i := strings.IndexByte(line, '\t'); i >= 0 {
		return invalidf("tab character in row; Pinpoint files may not contain tabs (found at byte %d)", i)
	}
	if i := strings.IndexByte(line, '\r'); i >= 0 {
		return invalidf("carriage return in row at byte %d; values may not contain line breaks, and lines must end with LF or CRLF", i)
	}
	if i := strings.IndexByte(line, 0); i >= 0 {
		return invalidf("NUL character in row at byte %d", i)
	}
	return nil
}

// parseDecimal parses a decimal number (sign, digits, fraction, exponent) that fits a
// float64. On failure it returns a description of v for a message.
func parseDecimal(v string) (float64, string) {
	if f, ok := parseSimpleDecimal(v); ok {
		return f, ""
	}
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case '0' <= c && c <= '9', c == '.', c == '-', c == '+', c == 'e', c == 'E':
		default:
			return 0, quoteShort(v)
		}
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || math.IsInf(f, 0) {
		if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
			return 0, quoteShort(v) + ", which is out of range"
		}
		return 0, quoteShort(v)
	}
	return f, ""
}

// exactPow10 are the powers of ten a float64 holds exactly.
var exactPow10 = [...]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
	1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}

// parseSimpleDecimal parses the common form of a number, an optional minus, digits, and
// optionally a point and more digits, with at most 15 digits in all, as strconv.ParseFloat
// does: the digits make an integer below 2^53 and the divisor is an exact power of ten, so
// the one division is correctly rounded, like ParseFloat. ok is false for any other form,
// which the caller gives to ParseFloat.
func parseSimpleDecimal(v string) (f float64, ok bool) {
	i := 0
	if i < len(v) && v[i] == '-' {
		i++
	}
	var m uint64
	digits, frac, point := 0, 0, -1
	for ; i < len(v); i++ {
		c := v[i]
		switch {
		case '0' <= c && c <= '9':
			if digits == 15 {
				return 0, false
			}
			m = m*10 + uint64(c-'0')
			digits++
		case c == '.' && point < 0 && digits > 0:
			point = digits
		default:
			return 0, false
		}
	}
	if point >= 0 {
		if frac = digits - point; frac == 0 {
			return 0, false
		}
	}
	if digits == 0 {
		return 0, false
	}
	f = float64(m) / exactPow10[frac]
	if v[0] == '-' {
		f = -f
	}
	return f, true
}

// quoteShort quotes v for a message, cut to a readable length.
func quoteShort(v string) string {
	const max = 40
	if len(v) <= max {
		return strconv.Quote(v)
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(v[cut]) {
		cut--
	}
	return strconv.Quote(v[:cut]) + "…"
}

// splitFast splits line s, which is valid UTF-8, into its fields as splitCSV does, in one
// pass, for a line that is all right: ok is false, and fields unspecified, if s holds a tab,
// a CR or a NUL (controlError), a quoting error (splitCSV), or not exactly want fields. The
// caller then takes the slow path, which says what is wrong in the order the rules are
// checked.
//
// It reads s eight bytes at a time and visits only the bytes that specialBytes marks:
// commas and bytes below '#' (the double quote, tab, CR and NUL, and a few it skips).
func splitFast(s string, fields []string, want int) (_ []string, ok bool) {
	start := 0 // of the current field
	for base := 0; base < len(s); base += 8 {
		var m uint64
		if base+8 <= len(s) {
			x := load64(s, base)
			comma, below := commaMask(x), belowMask(x)
			if below == 0 {
				// The common case, commas only: no byte to look at.
				for ; comma != 0; comma &= comma - 1 {
					i := base + bits.TrailingZeros64(comma)>>3
					fields = append(fields, s[start:i])
					start = i + 1
				}
				continue
			}
			m = comma | below
		} else {
			m = specialBytes(s, base)
		}
		for ; m != 0; m &= m - 1 {
			i := base + bits.TrailingZeros64(m)>>3
			switch s[i] {
			case ',':
				fields = append(fields, s[start:i])
				start = i + 1
				continue
			case '"':
				if i != start {
					return fields, false // a quote inside an unquoted value
				}
			case '\t', '\r', 0:
				return fields, false
			default: // another byte below '#'
				continue
			}
			// A quoted value: find its closing quote, skipping doubled quotes.
			escaped := false
			j := i + 1
		quoted:
			for ; ; j++ {
				if j = nextSpecial(s, j); j >= len(s) {
					return fields, false // unterminated
				}
				switch s[j] {
				case '"':
					if j+1 < len(s) && s[j+1] == '"' {
						escaped = true
						j++
						continue
					}
					break quoted
				case '\t', '\r', 0:
					return fields, false
				}
			}
			v := s[i+1 : j]
			if escaped {
				v = strings.ReplaceAll(v, `""`, `"`)
			}
			fields = append(fields, v)
			j++ // past the closing quote
			if j == len(s) {
				return fields, len(fields) == want
			}
			if s[j] != ',' {
				return fields, false // text after the closing quote
			}
			start = j + 1
			base = start - 8 // go on with the eight bytes after the comma
			break
		}
	}
	fields = append(fields, s[start:])
	return fields, len(fields) == want
}

// specialBytes returns a mask of the eight bytes of s from i (fewer at the end of s) with
// the high bit of each that is a comma or below '#' set.
func specialBytes(s string, i int) uint64 {
	if i+8 <= len(s) {
		return specialMask(load64(s, i))
	}
	x := uint64(0x0101010101010101 * 'a') // no special byte past the end
	for k := len(s) - 1; k >= i; k-- {
		x = x<<8 | uint64(s[k])
	}
	return specialMask(x)
}

// specialMask returns x with the high bit of each byte that is a comma or below '#' set, and
// every other bit clear. In commaMask and belowMask, no sum carries from one byte into the
// next.
func specialMask(x uint64) uint64 { return commaMask(x) | belowMask(x) }

// commaMask returns x with the high bit of each byte that is a comma set, and every other
// bit clear.
func commaMask(x uint64) uint64 {
	const (
		ones = 0x0101010101010101
		lo7  = 0x7f7f7f7f7f7f7f7f
	)
	y := x ^ (ones * ',')
	return ^((y&lo7 + lo7) | y | lo7) // y's byte is 0
}

// belowMask returns x with the high bit of each byte below '#' set, and every other bit
// clear.
func belowMask(x uint64) uint64 {
	const (
		ones = 0x0101010101010101
		lo7  = 0x7f7f7f7f7f7f7f7f
		high = 0x8080808080808080
	)
	return ^((x&lo7 + (0x80-'#')*ones) | x) & high
}

// load64 returns the eight bytes of s from i, little-endian.
func load64(s string, i int) uint64 {
	w := s[i : i+8]
	return uint64(w[0]) | uint64(w[1])<<8 | uint64(w[2])<<16 | uint64(w[3])<<24 |
		uint64(w[4])<<32 | uint64(w[5])<<40 | uint64(w[6])<<48 | uint64(w[7])<<56
}

// nextSpecial returns the index of the first byte of s at or after i that is a comma or
// below '#', or len(s).
func nextSpecial(s string, i int) int {
	for ; i+8 <= len(s); i += 8 {
		if m := specialMask(load64(s, i)); m != 0 {
			return i + bits.TrailingZeros64(m)>>3
		}
	}
	if i < len(s) {
		if m := specialBytes(s, i); m != 0 {
			return i + bits.TrailingZeros64(m)>>3
		}
	}
	return len(s)
}

// splitError is a problem splitting a line into fields: what is wrong, in which field.
type splitError struct {
	field int // 0-based
	what  string
}

// splitCSV splits one CSV line into its fields, appending to fields up to max of them and
// counting the rest; n is the number of fields. Unquoted values are substrings of s; quoted
// values with doubled quotes are unescaped through *scratch (nil: a fresh buffer).
func splitCSV(s string, fields []string, max int, scratch *[]byte) (_ []string, n int, serr *splitError) {
	add := func(v string) {
		if n < max {
			fields = append(fields, v)
		}
		n++
	}
	i := 0
	for {
		if i < len(s) && s[i] == '"' {
			v, next, err := unquote(s, i, scratch)
			if err != "" {
				return fields, n + 1, &splitError{field: n, what: err}
			}
			add(v)
			if next == len(s) {
				return fields, n, nil
			}
			i = next + 1
			continue
		}
		k := strings.IndexByte(s[i:], ',')
		v := s[i:]
		if k >= 0 {
			v = s[i : i+k]
		}
		if strings.IndexByte(v, '"') >= 0 {
			return fields, n + 1, &splitError{field: n, what: `double quote in an unquoted value; wrap the value in double quotes and double each quote inside it ("a ""b"" c")`}
		}
		add(v)
		if k < 0 {
			return fields, n, nil
		}
		i += k + 1
	}
}

// unquote reads the quoted value that starts at s[i] == '"'. next is the index of the comma
// after it, or len(s).
func unquote(s string, i int, scratch *[]byte) (v string, next int, err string) {
	start := i + 1
	j := start
	var b []byte
	escaped := false
	if scratch != nil {
		b = (*scratch)[:0]
	}
	for {
		k := strings.IndexByte(s[j:], '"')
		if k < 0 {
			return "", 0, "unterminated quoted value; a quoted value must end on the same line (line breaks are not allowed in values)"
		}
		j += k
		if j+1 < len(s) && s[j+1] == '"' {
			b = append(b, s[start:j+1]...)
			escaped = true
			j += 2
			start = j
			continue
		}
		if escaped {
			b = append(b, s[start:j]...)
			v = string(b)
			if scratch != nil {
				*scratch = b
			}
		} else {
			v = s[start:j]
		}
		j++
		if j < len(s) && s[j] != ',' {
			return "", 0, "text after the closing quote of a quoted value; a quoted value must be followed by a comma or the end of the line"
		}
		return v, j, ""
	}
}
