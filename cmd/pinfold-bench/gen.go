package main

import (
	"bufio"
	"io"
	"math/rand/v2"
	"strconv"
	"unicode/utf8"
)

// Generator writes deterministic endpoint files: the same Seed and Rows give the same bytes,
// and WriteCSV and WriteNDJSON describe the same endpoints. Rows look like a real audience:
// random-UUID Ids; a mix of EMAIL, SMS, PUSH, APNS and GCM endpoints with addresses of each
// channel's shape; 3 to 8 custom attributes out of ten names, some multi-valued; one to three
// metrics; a user (several endpoints share one now and then) with user attributes;
// demographic fields that fit the channel; and a location, some with a comma or non-ASCII
// letters in the city name.
type Generator struct {
	Seed uint64
	Rows int
}

// Columns of the CSV header that every file has, in order; the custom attribute columns follow.
var fixedCSVColumns = []string{
	"Id", "ChannelType", "Address", "EffectiveDate", "OptOut",
	"Demographic.AppVersion", "Demographic.Locale", "Demographic.Make", "Demographic.Model",
	"Demographic.Platform", "Demographic.PlatformVersion", "Demographic.Timezone",
	"Location.City", "Location.Country", "Location.PostalCode", "Location.Region",
	"Location.Latitude", "Location.Longitude",
	"User.UserId", "User.UserAttributes.FirstName", "User.UserAttributes.LastName",
	"User.UserAttributes.Segments", "User.UserAttributes.Segments",
	"Metrics.sessions", "Metrics.purchases", "Metrics.score",
}

// attribute is one name of the custom attribute pool: a row that has it takes 1 to max values.
type attribute struct {
	name   string
	max    int
	values []string
}

var attributePool = []attribute{
	{"Interests", 3, []string{"Music", "Travel", "Cooking", "Football", "Photography", "Gaming", "Hiking", "Fashion", "Movies", "Technology"}},
	{"Plan", 1, []string{"free", "basic", "premium", "enterprise"}},
	{"Language", 1, []string{"en", "de", "fr", "es", "pt", "ja"}},
	{"Tags", 3, []string{"vip", "beta-tester", "churn-risk", "early-adopter", "newsletter", "referral", "support-ticket"}},
	{"Source", 1, []string{"organic", "paid-search", "social", "email-campaign", "partner"}},
	{"Tier", 1, []string{"bronze", "silver", "gold", "platinum"}},
	{"Topics", 2, []string{"product-updates", "offers", "events", "security", "tips"}},
	{"Brand", 1, []string{"Acme", "Globex", "Initech", "Umbrella", "Hooli"}},
	{"Newsletter", 1, []string{"weekly", "monthly", "none"}},
	{"Store", 1, []string{"online", "flagship", "outlet", "marketplace"}},
}

var metricNames = []string{"sessions", "purchases", "score"}

type city struct {
	name, country, region, postal string // postal: a pattern, '#' is a random digit
	lat, lon                      float64
	locale, timezone              string
}

var cities = []city{
	{"Seattle", "US", "WA", "981##", 47.61, -122.33, "en_US", "America/Los_Angeles"},
	{"New York", "US", "NY", "100##", 40.71, -74.01, "en_US", "America/New_York"},
	{"Washington, D.C.", "US", "DC", "200##", 38.91, -77.04, "en_US", "America/New_York"},
	{"Austin", "US", "TX", "787##", 30.27, -97.74, "en_US", "America/Chicago"},
	{"London", "GB", "England", "SW1A #AA", 51.51, -0.13, "en_GB", "Europe/London"},
	{"München", "DE", "Bayern", "80###", 48.14, 11.58, "de_DE", "Europe/Berlin"},
	{"Paris", "FR", "Île-de-France", "750##", 48.86, 2.35, "fr_FR", "Europe/Paris"},
	{"São Paulo", "BR", "SP", "01###-###", -23.55, -46.63, "pt_BR", "America/Sao_Paulo"},
	{"Tokyo", "JP", "Tokyo", "1##-####", 35.68, 139.69, "ja_JP", "Asia/Tokyo"},
	{"Bengaluru", "IN", "Karnataka", "560###", 12.97, 77.59, "en_IN", "Asia/Kolkata"},
}

var (
	firstNames = []string{"Ana", "Ben", "Chloé", "David", "Emma", "Farid", "Grace", "Hiro", "Ines", "Jonas", "Kiran", "Lena", "Mateo", "Nora", "Omar", "Priya"}
	lastNames  = []string{"Smith", "Müller", "Dubois", "Silva", "Tanaka", "Patel", "Garcia", "Johnson", "Rossi", "Kowalski", "Nguyen", "Brown"}
	domains    = []string{"example.com", "example.org", "mail.example.net", "corp.example.io"}
	segments   = []string{"active", "lapsed", "high-value", "new", "mobile-first"}
	appVersion = []string{"3.2.1", "3.3.0", "4.0.2", "4.1.0"}
)

// A device: its channel's Make, Model and Platform, and the platform's versions.
type device struct {
	make, model, platform string
	versions              []string
}

var (
	appleDevices   = []device{{"Apple", "iPhone15,2", "iOS", []string{"17.4", "17.5", "18.0"}}, {"Apple", "iPad13,1", "iPadOS", []string{"17.5", "18.1"}}}
	androidDevices = []device{{"Samsung", "SM-S918B", "Android", []string{"13", "14"}}, {"Google", "Pixel 8", "Android", []string{"14", "15"}}, {"Xiaomi", "2201116SG", "Android", []string{"12", "13"}}}
)

// channelShares are the channel mix, in percent.
var channelShares = []struct {
	channel string
	percent int
}{{"EMAIL", 40}, {"SMS", 25}, {"APNS", 15}, {"GCM", 15}, {"PUSH", 5}}

// record is one generated endpoint; its byte slices are reused from row to row.
type record struct {
	id, address, user, effective, postal []byte
	channel, optOut                      string
	first, last                          string
	userSegments                         []string
	dev                                  *device
	platformVersion, appVersion          string
	city                                 *city
	lat, lon                             float64
	attrs                                [][]string // by attributePool index; nil when absent
	metrics                              [3]float64
	hasMetric                            [3]bool
}

// source draws records from the generator's random stream.
type source struct {
	rng       *rand.Rand
	rec       record
	chain     int // endpoints of the current user so far
	hasUser   bool
	attrOrder []int
}

func newSource(seed uint64) *source {
	s := &source{rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), attrOrder: make([]int, len(attributePool))}
	s.rec.attrs = make([][]string, len(attributePool))
	for i := range s.attrOrder {
		s.attrOrder[i] = i
	}
	return s
}

const hexDigits = "0123456789abcdef"

// appendUUID appends a random version-4 UUID.
func appendUUID(b []byte, rng *rand.Rand) []byte {
	hi, lo := rng.Uint64(), rng.Uint64()
	hi = hi&^0xf000 | 0x4000     // version 4
	lo = lo&^(0xc<<60) | 0x8<<60 // variant 10
	var u [16]byte
	for i := range 8 {
		u[i] = byte(hi >> (56 - 8*i))
		u[8+i] = byte(lo >> (56 - 8*i))
	}
	for i, c := range u {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			b = append(b, '-')
		}
		b = append(b, hexDigits[c>>4], hexDigits[c&15])
	}
	return b
}

func appendRandom(b []byte, rng *rand.Rand, alphabet string, n int) []byte {
	for range n {
		b = append(b, alphabet[rng.IntN(len(alphabet))])
	}
	return b
}

func appendDigits(b []byte, rng *rand.Rand, n int) []byte {
	return appendRandom(b, rng, "0123456789", n)
}

func pick[T any](rng *rand.Rand, list []T) T { return list[rng.IntN(len(list))] }

// next fills s.rec with the next endpoint.
func (s *source) next() *record {
	rng, r := s.rng, &s.rec
	r.id = appendUUID(r.id[:0], rng)

	n := rng.IntN(100)
	for _, c := range channelShares {
		if n < c.percent {
			r.channel = c.channel
			break
		}
		n -= c.percent
	}

	// Users: most have one endpoint; about a third of the time the next endpoint belongs to the
	// same user, up to three endpoints (Pinpoint allows 15).
	if !s.hasUser || s.chain >= 3 || rng.IntN(100) >= 30 {
		s.hasUser, s.chain = true, 0
		r.user = appendUUID(append(r.user[:0], "user-"...), rng)
		r.first, r.last = pick(rng, firstNames), pick(rng, lastNames)
		r.userSegments = r.userSegments[:0]
		for range rng.IntN(3) {
			r.userSegments = append(r.userSegments, pick(rng, segments))
		}
	}
	s.chain++

	r.address = r.address[:0]
	r.dev = nil
	switch r.channel {
	case "EMAIL":
		r.address = append(r.address, asciiLower(r.first)...)
		r.address = append(r.address, '.')
		r.address = append(r.address, asciiLower(r.last)...)
		r.address = strconv.AppendInt(append(r.address, '+'), int64(rng.IntN(1_000_000)), 10)
		r.address = append(append(r.address, '@'), pick(rng, domains)...)
	case "SMS":
		r.address = appendDigits(append(r.address, "+1"...), rng, 10)
	case "APNS":
		r.address = appendRandom(r.address, rng, hexDigits, 64)
		r.dev = &appleDevices[rng.IntN(len(appleDevices))]
	case "GCM":
		const b64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
		r.address = appendRandom(r.address, rng, b64, 22)
		r.address = appendRandom(append(r.address, ":APA91b"...), rng, b64, 134)
		r.dev = &androidDevices[rng.IntN(len(androidDevices))]
	case "PUSH":
		r.address = appendRandom(r.address, rng, hexDigits, 64)
		if rng.IntN(2) == 0 {
			r.dev = &appleDevices[rng.IntN(len(appleDevices))]
		} else {
			r.dev = &androidDevices[rng.IntN(len(androidDevices))]
		}
	}
	if r.dev != nil {
		r.platformVersion, r.appVersion = pick(rng, r.dev.versions), pick(rng, appVersion)
	}

	r.effective = append(r.effective[:0], "2025-"...)
	r.effective = append(r.effective, twoDigits(1+rng.IntN(12))...)
	r.effective = append(append(r.effective, '-'), twoDigits(1+rng.IntN(28))...)
	r.effective = append(append(r.effective, 'T'), twoDigits(rng.IntN(24))...)
	r.effective = append(append(r.effective, ':'), twoDigits(rng.IntN(60))...)
	r.effective = append(append(r.effective, ':'), twoDigits(rng.IntN(60))...)
	r.effective = append(r.effective, ".000Z"...)
	r.optOut = "NONE"
	if rng.IntN(20) == 0 {
		r.optOut = "ALL"
	}

	r.city = &cities[rng.IntN(len(cities))]
	r.postal = r.postal[:0]
	for _, c := range []byte(r.city.postal) {
		if c == '#' {
			c = '0' + byte(rng.IntN(10))
		}
		r.postal = append(r.postal, c)
	}
	r.lat = round4(r.city.lat + (rng.Float64()-0.5)*0.2)
	r.lon = round4(r.city.lon + (rng.Float64()-0.5)*0.2)

	// 3 to 8 distinct attribute names, each with 1 to its max values.
	for i := range r.attrs {
		r.attrs[i] = r.attrs[i][:0]
	}
	k := 3 + rng.IntN(6)
	for i := range k {
		j := i + rng.IntN(len(s.attrOrder)-i)
		s.attrOrder[i], s.attrOrder[j] = s.attrOrder[j], s.attrOrder[i]
		a := &attributePool[s.attrOrder[i]]
		values := r.attrs[s.attrOrder[i]]
		for range 1 + rng.IntN(a.max) {
			values = append(values, pick(rng, a.values))
		}
		r.attrs[s.attrOrder[i]] = values
	}

	// One to three metrics.
	r.hasMetric = [3]bool{}
	for range 1 + rng.IntN(3) {
		r.hasMetric[rng.IntN(3)] = true
	}
	r.metrics[0] = float64(rng.IntN(500))
	r.metrics[1] = float64(rng.IntN(40))
	r.metrics[2] = float64(rng.IntN(10000)) / 100
	return r
}

func round4(v float64) float64 {
	return float64(int64(v*10000)) / 10000
}

func twoDigits(n int) string {
	return string([]byte{byte('0' + n/10), byte('0' + n%10)})
}

func asciiLower(s string) []byte {
	b := make([]byte, 0, len(s))
	for _, c := range []byte(s) {
		switch {
		case c >= 'A' && c <= 'Z':
			b = append(b, c+'a'-'A')
		case c < utf8.RuneSelf:
			b = append(b, c)
		}
	}
	return b
}

// CSVHeader returns the header line of the generator's CSV files, without its line end.
func CSVHeader() string {
	var b []byte
	for _, c := range fixedCSVColumns {
		b = append(append(b, c...), ',')
	}
	for _, a := range attributePool {
		for range a.max {
			b = append(append(append(b, "Attributes."...), a.name...), ',')
		}
	}
	return string(b[:len(b)-1])
}

// WriteCSV writes the header and g.Rows rows as CSV and returns the bytes written.
func (g *Generator) WriteCSV(w io.Writer) (int64, error) {
	return g.write(w, []byte(CSVHeader()+"\n"), appendCSV)
}

// WriteNDJSON writes g.Rows rows as newline-delimited JSON and returns the bytes written.
func (g *Generator) WriteNDJSON(w io.Writer) (int64, error) {
	return g.write(w, nil, appendJSON)
}

func (g *Generator) write(w io.Writer, header []byte, appendRow func([]byte, *record) []byte) (int64, error) {
	bw := bufio.NewWriterSize(w, 1<<20)
	n, err := bw.Write(header)
	total := int64(n)
	if err != nil {
		return total, err
	}
	s := newSource(g.Seed)
	var line []byte
	for range g.Rows {
		line = appendRow(line[:0], s.next())
		n, err := bw.Write(line)
		total += int64(n)
		if err != nil {
			return total, err
		}
	}
	return total, bw.Flush()
}

// appendCSVCell appends one cell and the comma after it; empty is an absent field.
func appendCSVCell(b []byte, v []byte) []byte {
	quote := false
	for _, c := range v {
		if c == ',' || c == '"' {
			quote = true
			break
		}
	}
	if !quote {
		return append(append(b, v...), ',')
	}
	b = append(b, '"')
	for _, c := range v {
		if c == '"' {
			b = append(b, '"')
		}
		b = append(b, c)
	}
	return append(b, '"', ',')
}

func appendCSV(b []byte, r *record) []byte {
	str := func(s string) { b = appendCSVCell(b, []byte(s)) }
	dev := func(f func(d *device) string) {
		if r.dev != nil {
			str(f(r.dev))
		} else {
			b = append(b, ',')
		}
	}
	b = appendCSVCell(b, r.id)
	str(r.channel)
	b = appendCSVCell(b, r.address)
	b = appendCSVCell(b, r.effective)
	str(r.optOut)
	if r.dev != nil {
		str(r.appVersion)
	} else {
		b = append(b, ',')
	}
	str(r.city.locale)
	dev(func(d *device) string { return d.make })
	dev(func(d *device) string { return d.model })
	dev(func(d *device) string { return d.platform })
	if r.dev != nil {
		str(r.platformVersion)
	} else {
		b = append(b, ',')
	}
	str(r.city.timezone)
	str(r.city.name)
	str(r.city.country)
	b = appendCSVCell(b, r.postal)
	str(r.city.region)
	b = append(strconv.AppendFloat(b, r.lat, 'f', -1, 64), ',')
	b = append(strconv.AppendFloat(b, r.lon, 'f', -1, 64), ',')
	b = appendCSVCell(b, r.user)
	str(r.first)
	str(r.last)
	for i := range 2 {
		if i < len(r.userSegments) {
			str(r.userSegments[i])
		} else {
			b = append(b, ',')
		}
	}
	for i, ok := range r.hasMetric {
		if ok {
			b = strconv.AppendFloat(b, r.metrics[i], 'f', -1, 64)
		}
		b = append(b, ',')
	}
	for i, a := range attributePool {
		for j := range a.max {
			if j < len(r.attrs[i]) {
				str(r.attrs[i][j])
			} else {
				b = append(b, ',')
			}
		}
	}
	b[len(b)-1] = '\n'
	return b
}

// appendJSONString appends s as a JSON string; the generator's values need escaping only for
// quotes and backslashes, and have no control characters.
func appendJSONString(b []byte, s []byte) []byte {
	b = append(b, '"')
	for _, c := range s {
		if c == '"' || c == '\\' {
			b = append(b, '\\')
		}
		b = append(b, c)
	}
	return append(b, '"')
}

func appendJSON(b []byte, r *record) []byte {
	member := func(name string, v []byte) {
		b = append(append(append(b, '"'), name...), `":`...)
		b = append(appendJSONString(b, v), ',')
	}
	b = append(b, '{')
	member("Id", r.id)
	member("ChannelType", []byte(r.channel))
	member("Address", r.address)
	member("EffectiveDate", r.effective)
	member("OptOut", []byte(r.optOut))

	b = append(b, `"Attributes":{`...)
	for i, a := range attributePool {
		if len(r.attrs[i]) == 0 {
			continue
		}
		b = append(appendJSONString(b, []byte(a.name)), ":["...)
		for _, v := range r.attrs[i] {
			b = append(appendJSONString(b, []byte(v)), ',')
		}
		b = append(b[:len(b)-1], "],"...)
	}
	b = append(b[:len(b)-1], "},"...)

	b = append(b, `"Demographic":{`...)
	if r.dev != nil {
		member("AppVersion", []byte(r.appVersion))
		member("Make", []byte(r.dev.make))
		member("Model", []byte(r.dev.model))
		member("Platform", []byte(r.dev.platform))
		member("PlatformVersion", []byte(r.platformVersion))
	}
	member("Locale", []byte(r.city.locale))
	member("Timezone", []byte(r.city.timezone))
	b = append(b[:len(b)-1], "},"...)

	b = append(b, `"Location":{`...)
	member("City", []byte(r.city.name))
	member("Country", []byte(r.city.country))
	member("PostalCode", r.postal)
	member("Region", []byte(r.city.region))
	b = append(strconv.AppendFloat(append(b, `"Latitude":`...), r.lat, 'f', -1, 64), ',')
	b = append(strconv.AppendFloat(append(b, `"Longitude":`...), r.lon, 'f', -1, 64), "},"...)

	b = append(b, `"Metrics":{`...)
	for i, ok := range r.hasMetric {
		if ok {
			b = append(appendJSONString(b, []byte(metricNames[i])), ':')
			b = append(strconv.AppendFloat(b, r.metrics[i], 'f', -1, 64), ',')
		}
	}
	b = append(b[:len(b)-1], "},"...)

	b = append(b, `"User":{`...)
	member("UserId", r.user)
	b = append(b, `"UserAttributes":{"FirstName":[`...)
	b = append(appendJSONString(b, []byte(r.first)), `],"LastName":[`...)
	b = append(appendJSONString(b, []byte(r.last)), ']')
	if len(r.userSegments) > 0 {
		b = append(b, `,"Segments":[`...)
		for _, v := range r.userSegments {
			b = append(appendJSONString(b, []byte(v)), ',')
		}
		b = append(b[:len(b)-1], ']')
	}
	return append(b, "}}}\n"...)
}
