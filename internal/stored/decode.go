package stored

import (
	"slices"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/pinfold/pinfold"
)

// Stored documents are read by hand too: a re-import reads every endpoint it updates, in
// SQLite's one write transaction, and encoding/json took a quarter of that transaction's CPU
// (docs/performance.md). decodeDoc reads what the stores hold: AppendEndpoint's documents,
// and the same after PostgreSQL's jsonb or SQLite's JSON functions rewrote them (spaces, any
// order of members, other escapes and number forms). Anything else — a member it does not
// know, a name in another case, a repeated member, a value of another type, invalid UTF-8,
// a number encoding/json would refuse — makes it give up, and DecodeEndpoint reads the
// document with encoding/json instead, so that the result is always encoding/json's.
// FuzzDecodeDoc checks that whatever decodeDoc accepts, encoding/json reads the same.

// docReader reads one document. s is the whole document as one string, so that the strings
// it returns without escapes are substrings of it: one allocation for all of them.
type docReader struct {
	s string
	i int
}

// decodeDoc reads data into e, or reports false when encoding/json must read it.
func decodeDoc(data []byte, e *pinfold.Endpoint) bool {
	r := docReader{s: string(data)}
	var seen uint32
	ok := r.object(func(key string) bool {
		bit := uint32(0)
		ok := true
		switch key {
		case "ct":
			bit, ok = 1<<0, r.str(&e.ChannelType)
		case "a":
			bit, ok = 1<<1, r.str(&e.Address)
		case "at":
			bit, ok = 1<<2, r.values(&e.Attributes)
		case "d":
			bit, ok = 1<<3, r.demographic(&e.Demographic)
		case "ed":
			bit, ok = 1<<4, r.str(&e.EffectiveDate)
		case "es":
			bit, ok = 1<<5, r.str(&e.EndpointStatus)
		case "l":
			bit, ok = 1<<6, r.location(&e.Location)
		case "m":
			bit, ok = 1<<7, r.metrics(&e.Metrics)
		case "o":
			bit, ok = 1<<8, r.str(&e.OptOut)
		case "r":
			bit, ok = 1<<9, r.str(&e.RequestID)
		case "u":
			bit, ok = 1<<10, r.str(&e.User.UserID)
		case "ua":
			bit, ok = 1<<11, r.values(&e.User.UserAttributes)
		case "c":
			bit, ok = 1<<12, r.str(&e.CohortID)
		case "cr":
			var n int64
			bit, ok = 1<<13, r.int(&n)
			e.CreatedAt = FromNanos(n)
		default:
			return false
		}
		if seen&bit != 0 {
			return false
		}
		seen |= bit
		return ok
	})
	r.ws()
	return ok && r.i == len(r.s)
}

func (r *docReader) ws() {
	for r.i < len(r.s) {
		switch r.s[r.i] {
		case ' ', '\t', '\n', '\r':
			r.i++
		default:
			return
		}
	}
}

// next skips spaces and consumes c, reporting whether it was there.
func (r *docReader) next(c byte) bool {
	r.ws()
	if r.i < len(r.s) && r.s[r.i] == c {
		r.i++
		return true
	}
	return false
}

// null consumes a null. encoding/json leaves the field as it was for one, which is its zero
// value here.
func (r *docReader) null() bool {
	r.ws()
	if len(r.s)-r.i >= 4 && r.s[r.i:r.i+4] == "null" {
		r.i += 4
		return true
	}
	return false
}

// object reads an object, calling member with each name when the reader stands before its
// value; member reads the value.
func (r *docReader) object(member func(key string) bool) bool {
	if !r.next('{') {
		return false
	}
	if r.next('}') {
		return true
	}
	for {
		var key string
		if !r.key(&key) || !r.next(':') || !member(key) {
			return false
		}
		if r.next('}') {
			return true
		}
		if !r.next(',') {
			return false
		}
	}
}

// key reads a member's name: a string, never a null.
func (r *docReader) key(dst *string) bool {
	r.ws()
	return r.i < len(r.s) && r.s[r.i] == '"' && r.str(dst)
}

// str reads a string, or a null, into *dst.
func (r *docReader) str(dst *string) bool {
	if r.null() {
		return true
	}
	if !r.next('"') {
		return false
	}
	start, ascii := r.i, true
	for r.i < len(r.s) {
		switch c := r.s[r.i]; {
		case c == '"':
			v := r.s[start:r.i]
			r.i++
			if !ascii && !utf8.ValidString(v) {
				return false // encoding/json would replace the bytes
			}
			*dst = v
			return true
		case c == '\\':
			return r.escaped(start, dst)
		case c < 0x20:
			return false
		case c >= utf8.RuneSelf:
			ascii = false
		}
		r.i++
	}
	return false
}

// escaped reads the rest of a string that has an escape at r.i, from its first byte start.
func (r *docReader) escaped(start int, dst *string) bool {
	b := []byte(r.s[start:r.i])
	for r.i < len(r.s) {
		c := r.s[r.i]
		switch {
		case c == '"':
			r.i++
			if !utf8.Valid(b) {
				return false
			}
			*dst = string(b)
			return true
		case c < 0x20:
			return false
		case c != '\\':
			b = append(b, c)
			r.i++
			continue
		}
		if r.i+1 >= len(r.s) {
			return false
		}
		r.i += 2
		switch e := r.s[r.i-1]; e {
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
			c, ok := r.hex4()
			if !ok || utf16.IsSurrogate(c) {
				return false // pairs and lone halves are encoding/json's
			}
			b = utf8.AppendRune(b, c)
		default:
			return false
		}
	}
	return false
}

func (r *docReader) hex4() (rune, bool) {
	if len(r.s)-r.i < 4 {
		return 0, false
	}
	var n rune
	for _, c := range []byte(r.s[r.i : r.i+4]) {
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
		n = n<<4 | rune(c)
	}
	r.i += 4
	return n, true
}

// number returns the text of a number, checked against JSON's grammar, which
// strconv.ParseFloat is laxer than.
func (r *docReader) number() (string, bool) {
	r.ws()
	start := r.i
	if r.i < len(r.s) && r.s[r.i] == '-' {
		r.i++
	}
	digits := func() int {
		n := 0
		for r.i < len(r.s) && '0' <= r.s[r.i] && r.s[r.i] <= '9' {
			r.i++
			n++
		}
		return n
	}
	if r.i < len(r.s) && r.s[r.i] == '0' {
		r.i++
	} else if digits() == 0 {
		return "", false
	}
	if r.i < len(r.s) && r.s[r.i] == '.' {
		r.i++
		if digits() == 0 {
			return "", false
		}
	}
	if r.i < len(r.s) && (r.s[r.i] == 'e' || r.s[r.i] == 'E') {
		r.i++
		if r.i < len(r.s) && (r.s[r.i] == '+' || r.s[r.i] == '-') {
			r.i++
		}
		if digits() == 0 {
			return "", false
		}
	}
	return r.s[start:r.i], true
}

func (r *docReader) float(dst *float64) bool {
	text, ok := r.number()
	if !ok {
		return false
	}
	f, err := strconv.ParseFloat(text, 64)
	*dst = f
	return err == nil
}

// int reads an integer, or a null, into *dst.
func (r *docReader) int(dst *int64) bool {
	if r.null() {
		return true
	}
	text, ok := r.number()
	if !ok {
		return false
	}
	n, err := strconv.ParseInt(text, 10, 64)
	*dst = n
	return err == nil
}

func (r *docReader) floatPointer(dst **float64) bool {
	if r.null() {
		*dst = nil
		return true
	}
	var f float64
	if !r.float(&f) {
		return false
	}
	*dst = &f
	return true
}

// values reads a map of attribute names to lists of strings into *dst, which is nil, in
// order of name: PostgreSQL's jsonb keeps an object's members in another order (shorter
// names first). An empty map is none, as AttributesOf has it.
func (r *docReader) values(dst *pinfold.Attributes) bool {
	if r.null() {
		return true
	}
	var attrs pinfold.Attributes
	ok := r.object(func(key string) bool {
		if r.null() {
			attrs = append(attrs, pinfold.Attribute{Name: key})
			return true
		}
		if !r.next('[') {
			return false
		}
		list := []string{}
		if r.next(']') {
			attrs = append(attrs, pinfold.Attribute{Name: key, Values: list})
			return true
		}
		for {
			var v string
			r.ws()
			if r.i < len(r.s) && r.s[r.i] != '"' {
				return false // null in a list is ""; left to encoding/json
			}
			if !r.str(&v) {
				return false
			}
			list = append(list, v)
			if r.next(']') {
				attrs = append(attrs, pinfold.Attribute{Name: key, Values: list})
				return true
			}
			if !r.next(',') {
				return false
			}
		}
	})
	if !ok || !inOrder(attrs, func(a pinfold.Attribute) string { return a.Name }) {
		return false // a repeated name: encoding/json keeps the last
	}
	*dst = attrs
	return true
}

// metrics reads a map of metric names to numbers into *dst, which is nil, as values does.
func (r *docReader) metrics(dst *pinfold.Metrics) bool {
	if r.null() {
		return true
	}
	var ms pinfold.Metrics
	ok := r.object(func(key string) bool {
		var f float64
		if r.null() {
			ms = append(ms, pinfold.Metric{Name: key})
			return true
		}
		if !r.float(&f) {
			return false
		}
		ms = append(ms, pinfold.Metric{Name: key, Value: f})
		return true
	})
	if !ok || !inOrder(ms, func(m pinfold.Metric) string { return m.Name }) {
		return false
	}
	*dst = ms
	return true
}

// inOrder sorts s by name unless it is sorted, and reports whether no name is repeated.
func inOrder[E any](s []E, name func(E) string) bool {
	sorted := true
	for i := 1; i < len(s); i++ {
		if name(s[i-1]) >= name(s[i]) {
			sorted = false
			break
		}
	}
	if sorted {
		return true
	}
	slices.SortFunc(s, func(a, b E) int { return strings.Compare(name(a), name(b)) })
	for i := 1; i < len(s); i++ {
		if name(s[i-1]) == name(s[i]) {
			return false
		}
	}
	return true
}

// members reads an object, or a null, whose members may be names, calling read with the
// index of each in names: a name not among them, or one read before, makes it give up.
func (r *docReader) members(names []string, read func(i int) bool) bool {
	if r.null() {
		return true
	}
	var seen uint32
	return r.object(func(key string) bool {
		i := slices.Index(names, key)
		if i < 0 || seen&(1<<i) != 0 {
			return false
		}
		seen |= 1 << i
		return read(i)
	})
}

var demographicNames = []string{"AppVersion", "Locale", "Make", "Model", "ModelVersion", "Platform", "PlatformVersion", "Timezone"}

func (r *docReader) demographic(d *pinfold.Demographic) bool {
	fields := [...]*string{&d.AppVersion, &d.Locale, &d.Make, &d.Model, &d.ModelVersion, &d.Platform, &d.PlatformVersion, &d.Timezone}
	return r.members(demographicNames, func(i int) bool { return r.str(fields[i]) })
}

var locationNames = []string{"City", "Country", "PostalCode", "Region", "Latitude", "Longitude"}

func (r *docReader) location(l *pinfold.Location) bool {
	fields := [...]*string{&l.City, &l.Country, &l.PostalCode, &l.Region}
	return r.members(locationNames, func(i int) bool {
		switch i {
		case 4:
			return r.floatPointer(&l.Latitude)
		case 5:
			return r.floatPointer(&l.Longitude)
		}
		return r.str(fields[i])
	})
}
