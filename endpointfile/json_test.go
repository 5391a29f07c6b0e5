package endpointfile_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/pinfold/pinfold"
	"github.com/pinfold/pinfold/endpointfile"
)

func TestJSONDecoder(t *testing.T) {
	t.Parallel()
	tests := []struct {
		dir   string
		wants []want
	}{
		{"basic", []want{
			{line: 1, update: &pinfold.EndpointUpdate{
				ChannelType: s("SMS"), Address: s("+16045550182"), UserID: s("example-user-id-1"),
				Location:    pinfold.LocationUpdate{Country: s("CA")},
				Demographic: pinfold.DemographicUpdate{Platform: s("Android"), Make: s("LG")},
			}},
			{line: 2, update: &pinfold.EndpointUpdate{
				ID: "ep-2", ChannelType: s("EMAIL"), Address: s("john.stiles@example.com"), OptOut: s("ALL"),
				Attributes:     pinfold.AttributesOf(map[string][]string{"Interests": {"Technology", "Music"}}),
				Metrics:        pinfold.MetricsOf(map[string]float64{"score": 6.5}),
				Location:       pinfold.LocationUpdate{Latitude: f(47.6), Longitude: f(-122.3)},
				UserID:         s("u2"),
				UserAttributes: pinfold.AttributesOf(map[string][]string{"tier": {"gold"}}),
			}},
			// Lines 3 and 4 are blank.
			{line: 5, update: &pinfold.EndpointUpdate{UserID: s("example-user-id-3")}},
			// Escapes (a lone surrogate becomes U+FFFD), spaces and CRLF; null members are
			// absent, an empty array is present.
			{line: 6, update: &pinfold.EndpointUpdate{
				ID: "ep-4", Address: s("café \"q\" 😀 \uFFFD@example.com"),
				Attributes: pinfold.AttributesOf(map[string][]string{"empty": {}}),
			}},
			{line: 7, update: &pinfold.EndpointUpdate{ID: "ep-5", Address: s("")}},
		}},
		{"pinpoint-export", []want{
			{line: 1, update: &pinfold.EndpointUpdate{
				ID: "example_endpoint", ChannelType: s("EMAIL"), Address: s("diego@example.com"),
				EndpointStatus: s("ACTIVE"), OptOut: s("NONE"), EffectiveDate: s("2018-05-07T19:03:29.963Z"),
				RequestID:  s("b821459d-5cf7-11e8-8a25-1d3c7d8a7cfc"),
				Attributes: pinfold.AttributesOf(map[string][]string{"Interests": {"Technology", "Music", "Travel"}}),
				UserID:     s("example_user"),
				Demographic: pinfold.DemographicUpdate{
					AppVersion: s("1.0"), Make: s("apple"), Model: s("iPhone"), ModelVersion: s("8"),
					Platform: s("ios"), PlatformVersion: s("11.3.1"), Timezone: s("America/Los_Angeles"), Locale: s("en_US"),
				},
				Location: pinfold.LocationUpdate{
					City: s("Seattle"), Country: s("US"), Latitude: f(47.6), Longitude: f(-122.3),
					PostalCode: s("98121"), Region: s("WA"),
				},
				Metrics: pinfold.MetricsOf(map[string]float64{"music_interest_level": 6}),
			}},
			{line: 2, update: &pinfold.EndpointUpdate{
				ID: "ep-sms", ChannelType: s("SMS"), Address: s("+12065550100"),
				EndpointStatus: s("INACTIVE"), OptOut: s("ALL"), EffectiveDate: s("2018-05-03T09:00:00.000Z"),
				Location:       pinfold.LocationUpdate{Country: s("US")},
				UserID:         s("u-9"),
				UserAttributes: pinfold.AttributesOf(map[string][]string{"Plan": {"pro"}}),
			}},
		}},
		{"bad-rows", []want{
			{line: 1, update: &pinfold.EndpointUpdate{ID: "ok-1", ChannelType: s("SMS"), Address: s("+12065550100")}},
			{line: 2, err: "line is an array, not a JSON object; each line must be one JSON object"},
			{line: 3, err: "invalid JSON at offset 11: more data after the JSON object; each line must be exactly one JSON object"},
			{line: 4, err: "invalid JSON: the line ends early (expected a member name in double quotes)"},
			{line: 5, err: `unknown field "Foo"; the fields of a line are Address, ApplicationId, Attributes, ChannelType, CohortId, CreationDate, Demographic, EffectiveDate, EndpointStatus, Id, Location, Metrics, OptOut, RequestId, User`},
			{line: 6, err: `unknown field "Location.Altitude"; the fields of Location are City, Country, Latitude, Longitude, PostalCode, Region`},
			{line: 7, err: `unknown field "address"; did you mean "Address"? (names are case-sensitive)`},
			{line: 8, err: `Attributes.a must be an array of strings, got a string; write a single value as ["value"]`},
			{line: 9, err: "Metrics.m must be a number, got a string"},
			{line: 10, err: "Location.Latitude must be a number, got a string"},
			{line: 11, err: "line is not valid UTF-8 (bad byte at offset 13)"},
			{line: 12, err: `ChannelType must be one of [PUSH GCM`},
			{line: 13, err: `member "Address" appears twice`},
			{line: 14, err: "row sets no endpoint fields"},
			{line: 15, err: "line is a string, not a JSON object"},
			{line: 16, err: `unknown field "Location.Country"; in JSON files a dotted name is written nested`},
			{line: 17, err: "Attributes.a must be an array of strings; value 2 is a number"},
			{line: 18, err: `NUL character (\u0000) in a string at offset 13`},
			{line: 19, err: `Metrics.m is out of range: "1e999"`},
			{line: 20, err: `invalid JSON at offset 24: expected a value, found 'S'`},
			{line: 21, err: "User must be an object, got a string"},
			{line: 22, err: "Location.Latitude must be between -90 and 90, got 91"},
			{line: 23, err: `invalid JSON at offset 22: control character in a string`},
			{line: 24, err: `Attributes has the name "a" twice`},
			{line: 25, err: `invalid JSON at offset 17: expected ',' or '}' after a member, found '1'`},
			{line: 26, update: &pinfold.EndpointUpdate{ID: "ok-26", ChannelType: s("EMAIL"), Address: s("a@example.com")}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.dir, func(t *testing.T) {
			t.Parallel()
			data := mustReadFile(t, "testdata/ndjson/"+tt.dir+"/input.ndjson")
			checkRows(t, readAll(t, endpointfile.NewJSONDecoder(bytes.NewReader(data), 1)), tt.wants)
		})
	}
}

func TestJSONDecoder_MidFile(t *testing.T) {
	t.Parallel()
	data := mustReadFile(t, "testdata/ndjson/basic/input.ndjson")
	piece := data[bytes.IndexByte(data, '\n')+1:]
	rows := readAll(t, endpointfile.NewJSONDecoder(bytes.NewReader(piece), 1001))
	var lines []int64
	for _, row := range rows {
		if row.Err != nil {
			t.Fatalf("line %d: %v", row.Line, row.Err)
		}
		lines = append(lines, row.Line)
	}
	if got, want := len(lines), 4; got != want {
		t.Fatalf("got %d rows, want %d", got, want)
	}
	for i, want := range []int64{1001, 1004, 1005, 1006} {
		if lines[i] != want {
			t.Fatalf("row %d: line %d, want %d", i, lines[i], want)
		}
	}
}

func TestJSONDecoder_UserIDOnly(t *testing.T) {
	t.Parallel()
	rows := readAll(t, endpointfile.NewJSONDecoder(strings.NewReader(`{"User":{"UserId":"u1"}}`+"\n"+`{"User":{"UserId":"u2","UserAttributes":{"a":["b"]}}}`), 1))
	if len(rows) != 2 || rows[0].Err != nil || rows[1].Err != nil {
		t.Fatalf("rows = %+v, want two updates", rows)
	}
	if !rows[0].Update.IsUserOnly() {
		t.Fatalf("line 1: IsUserOnly false, want true")
	}
	if rows[1].Update.IsUserOnly() {
		t.Fatalf("line 2: IsUserOnly true, want false (it has user attributes)")
	}
}

func TestJSONDecoder_BOM(t *testing.T) {
	t.Parallel()
	const line = "\ufeff{\"Id\":\"ep-1\"}\n{\"Id\":\"ep-2\"}\n"
	checkRows(t, readAll(t, endpointfile.NewJSONDecoder(strings.NewReader(line), 1)), []want{
		{line: 1, update: &pinfold.EndpointUpdate{ID: "ep-1"}},
		{line: 2, update: &pinfold.EndpointUpdate{ID: "ep-2"}},
	})
	// Only the start of a file can hold a byte order mark.
	checkRows(t, readAll(t, endpointfile.NewJSONDecoder(strings.NewReader(line), 7)), []want{
		{line: 7, err: "invalid JSON at offset 0: expected a JSON object, found '\\ufeff'"},
		{line: 8, update: &pinfold.EndpointUpdate{ID: "ep-2"}},
	})
}

func TestJSONDecoder_LongLines(t *testing.T) {
	t.Parallel()
	padded := `{"Id":"ep-2",` + strings.Repeat(" ", 200_000) + `"Address":"a"}`
	file := `{"Id":"` + strings.Repeat("a", endpointfile.MaxLineBytes) + "\"}\n" +
		padded + "\n" +
		strings.Repeat(" ", endpointfile.MaxLineBytes+5) + "\n" +
		`{"Id":"ep-4"}`
	checkRows(t, readAll(t, endpointfile.NewJSONDecoder(strings.NewReader(file), 1)), []want{
		{line: 1, err: "line is 1048585 bytes long; lines may be at most 1048576 bytes (an endpoint may be at most 15360 bytes)"},
		{line: 2, update: &pinfold.EndpointUpdate{ID: "ep-2", Address: s("a")}},
		{line: 3, err: "line is 1048581 bytes long"},
		{line: 4, update: &pinfold.EndpointUpdate{ID: "ep-4"}},
	})
}

func TestJSONDecoder_Members(t *testing.T) {
	t.Parallel()
	tests := []struct {
		line string
		want want
	}{
		{`{"Id":"a","Metrics":{"x":-0.5e+2,"y":0,"z":12.25E-1}}`, want{update: &pinfold.EndpointUpdate{
			ID: "a", Metrics: pinfold.MetricsOf(map[string]float64{"x": -50, "y": 0, "z": 1.225}),
		}}},
		{`{"Id":"a","User":null,"Location":null,"Attributes":null,"Metrics":null,"OptOut":null}`, want{update: &pinfold.EndpointUpdate{ID: "a"}}},
		{`{"Id":"a","User":{"UserId":null,"UserAttributes":{"k":["v1","v2"],"n":null}}}`, want{update: &pinfold.EndpointUpdate{
			ID: "a", UserAttributes: pinfold.AttributesOf(map[string][]string{"k": {"v1", "v2"}}),
		}}},
		{`{"\u0049d":"a\/b\\c\n"}`, want{update: &pinfold.EndpointUpdate{ID: "a/b\\c\n"}}},
		{`{"Id":"a","Attributes":{"k":["v"],"k":["w"]}}`, want{err: `Attributes has the name "k" twice`}},
		{`{"Id":"a","Metrics":{"k":null,"k":1}}`, want{err: `Metrics has the name "k" twice`}},
		{`{"Id":"a","Location":{"Country":"US"},"Location":{}}`, want{err: `member "Location" appears twice`}},
		{`{"Id":"a","Location":{"Latitude":true}}`, want{err: "Location.Latitude must be a number, got true"}},
		{`{"Id":"a","Location":{"Latitude":1.}}`, want{err: "invalid JSON at offset 35: expected a digit after the decimal point"}},
		{`{"Id":"a","Location":{"Latitude":-}}`, want{err: "invalid JSON at offset 34: expected a digit, found '}'"}},
		{`{"Id":"a","Location":{"Latitude":+1}}`, want{err: "invalid JSON at offset 33: expected a value, found '+'"}},
		{`{"Id":"a","Demographic":{"Make":1}}`, want{err: "Demographic.Make must be a string, got a number"}},
		{`{"Id":"a","Demographic":[]}`, want{err: "Demographic must be an object, got an array"}},
		{`{"Id":"a","Attributes":["x"]}`, want{err: "Attributes must be an object of arrays of strings, got an array"}},
		{`{"Id":"a","Metrics":{"k":[1]}}`, want{err: "Metrics.k must be a number, got an array"}},
		{`{"Id":"a","Attributes":{"k":["v",null]}}`, want{err: "Attributes.k must be an array of strings; value 2 is null"}},
		{`{"Id":"a","User":{"userId":"u"}}`, want{err: `unknown field "User.userId"; did you mean "UserId"?`}},
		{`{"Id":"a","UserId":"u"}`, want{err: `unknown field "UserId"; did you mean User.UserId, nested as {"User":{"UserId":…}}?`}},
		{`{"Id":"a","country":"US"}`, want{err: `unknown field "country"; did you mean Location.Country, nested as {"Location":{"Country":…}}?`}},
		{`{"Id":"a","CohortId":7}`, want{err: "CohortId must be a string, got a number"}},
		{`{"Id":"a\x"}`, want{err: "invalid JSON at offset 8: invalid escape in a string"}},
		{`{"Id":"a\u12"}`, want{err: `invalid JSON at offset 8: invalid \u escape`}},
		{`{"Id":"a`, want{err: "invalid JSON: the line ends early (unterminated string)"}},
		{`{"Id" "a"}`, want{err: "invalid JSON at offset 6: expected ':' after a member name"}},
		{`{Id:"a"}`, want{err: "invalid JSON at offset 1: expected a member name in double quotes"}},
		{`{"Id":"a"}}`, want{err: "invalid JSON at offset 10: more data after the JSON object"}},
		{`nul`, want{err: "invalid JSON at offset 0: expected a JSON object"}},
		{`null`, want{err: "line is null, not a JSON object"}},
		{`{}`, want{err: "row sets no endpoint fields"}},
	}
	for _, tt := range tests {
		rows := readAll(t, endpointfile.NewJSONDecoder(strings.NewReader(tt.line), 1))
		tt.want.line = 1
		t.Run(tt.line, func(t *testing.T) { checkRows(t, rows, []want{tt.want}) })
	}
}

func TestJSONDecoder_IOError(t *testing.T) {
	t.Parallel()
	d := endpointfile.NewJSONDecoder(&failingReader{data: []byte("{\"Id\":\"a\"}\n{\"Id\""), err: errDisk}, 1)
	if row, err := d.Next(); err != nil || row.Line != 1 || row.Update == nil || row.Update.ID != "a" {
		t.Fatalf("Next = %+v, %v; want line 1, a", row, err)
	}
	if _, err := d.Next(); !errors.Is(err, errDisk) {
		t.Fatalf("Next error = %v, want %v", err, errDisk)
	}
}

// TestJSONDecoder_RepeatedNames checks that a name repeated in an attribute or metric map is
// reported as such whatever its values, before any problem with the second value.
func TestJSONDecoder_RepeatedNames(t *testing.T) {
	t.Parallel()
	tests := []struct {
		line string
		want want
	}{
		{`{"Id":"a","Attributes":{"k":["v"],"k":null}}`, want{err: `Attributes has the name "k" twice`}},
		{`{"Id":"a","Attributes":{"k":["v"],"k":1}}`, want{err: `Attributes has the name "k" twice`}},
		{`{"Id":"a","Attributes":{"k":["v"],"k":["v",1]}}`, want{err: `Attributes has the name "k" twice`}},
		{`{"Id":"a","Attributes":{"k":["v"],"k":["v"}}`, want{err: `Attributes has the name "k" twice`}},
		{`{"Id":"a","Attributes":{"k":null,"k":null}}`, want{err: `Attributes has the name "k" twice`}},
		{`{"Id":"a","Attributes":{"k":null,"k":["v"]}}`, want{err: `Attributes has the name "k" twice`}},
		{`{"Id":"a","Attributes":{"k":[],"k":[]}}`, want{err: `Attributes has the name "k" twice`}},
		{`{"Id":"a","User":{"UserAttributes":{"k":["v"],"j":["w"],"k":["w"]}}}`, want{err: `User.UserAttributes has the name "k" twice`}},
		{`{"Id":"a","Metrics":{"k":1,"k":2}}`, want{err: `Metrics has the name "k" twice`}},
		{`{"Id":"a","Metrics":{"k":1,"k":null}}`, want{err: `Metrics has the name "k" twice`}},
		{`{"Id":"a","Metrics":{"k":1,"k":"x"}}`, want{err: `Metrics has the name "k" twice`}},
		{`{"Id":"a","Metrics":{"k":1,"k":1e999}}`, want{err: `Metrics has the name "k" twice`}},
		{`{"Id":"a","Metrics":{"k":1,"k":-}}`, want{err: `Metrics has the name "k" twice`}},
		{`{"Id":"a","Metrics":{"k":1,"j":1e999}}`, want{err: `Metrics.j is out of range: "1e999"`}},
		{`{"Id":"a","Attributes":{"k":["v"],"j":1}}`, want{err: `Attributes.j must be an array of strings, got a number`}},
		{`{"Id":"a","Attributes":{"k":["v"]},"User":{"UserAttributes":{"k":["w"]}},"Metrics":{"k":1}}`, want{update: &pinfold.EndpointUpdate{
			ID: "a", Attributes: pinfold.AttributesOf(map[string][]string{"k": {"v"}}), UserAttributes: pinfold.AttributesOf(map[string][]string{"k": {"w"}}), Metrics: pinfold.MetricsOf(map[string]float64{"k": 1}),
		}}},
	}
	for _, tt := range tests {
		rows := readAll(t, endpointfile.NewJSONDecoder(strings.NewReader(tt.line), 1))
		tt.want.line = 1
		t.Run(tt.line, func(t *testing.T) { checkRows(t, rows, []want{tt.want}) })
	}
}

// TestJSONDecoder_InvalidUTF8 checks that a byte that is not UTF-8 fails its row wherever it
// is, and that escapes cannot make a string that is not UTF-8: an unpaired surrogate becomes
// U+FFFD, as encoding/json makes it. The decoder checks each line whole, and
// pinfold.Validate does not check the strings again.
func TestJSONDecoder_InvalidUTF8(t *testing.T) {
	t.Parallel()
	tests := []struct {
		line string
		want want
	}{
		{"{\"Id\":\"a\",\"Address\":\"x\xffy\"}", want{err: "line is not valid UTF-8 (bad byte at offset 22)"}},
		{"{\"Id\":\"a\",\"Attributes\":{\"k\xc3\":[\"v\"]}}", want{err: "line is not valid UTF-8 (bad byte at offset 26)"}},
		{"{\"Id\":\"a\",\"Attributes\":{\"k\":[\"\\n\xed\xa0\x80\"]}}", want{err: "line is not valid UTF-8 (bad byte at offset 32)"}},
		{`{"Id":"a","Address":"\ud800"}`, want{update: &pinfold.EndpointUpdate{ID: "a", Address: s("\uFFFD")}}},
		{`{"Id":"a","Address":"\udc00\ud800x"}`, want{update: &pinfold.EndpointUpdate{ID: "a", Address: s("\uFFFD\uFFFDx")}}},
		{`{"Id":"a","Address":"\ud800\u0041"}`, want{update: &pinfold.EndpointUpdate{ID: "a", Address: s("\uFFFDA")}}},
		{`{"Id":"a","Address":"\ud83d\ude00"}`, want{update: &pinfold.EndpointUpdate{ID: "a", Address: s("😀")}}},
		{`{"Id":"a","Metrics":{"\udfff":1},"Attributes":{"\ud800":["\ud800"]}}`, want{update: &pinfold.EndpointUpdate{ID: "a",
			Metrics: pinfold.MetricsOf(map[string]float64{"\uFFFD": 1}), Attributes: pinfold.AttributesOf(map[string][]string{"\uFFFD": {"\uFFFD"}})}}},
	}
	for _, tt := range tests {
		rows := readAll(t, endpointfile.NewJSONDecoder(strings.NewReader(tt.line), 1))
		tt.want.line = 1
		t.Run(tt.line, func(t *testing.T) {
			checkRows(t, rows, []want{tt.want})
			if len(rows) == 1 && rows[0].Update != nil {
				compareWithEncodingJSON(t, rows[0], []byte(tt.line))
			}
		})
	}
}

// TestJSONDecoder_EntryRules checks the rules on the entries of the maps, which the decoder
// checks as it adds them (pinfold.EntryCheck), and that the row's error is the one Validate
// finds first.
func TestJSONDecoder_EntryRules(t *testing.T) {
	t.Parallel()
	long, values51 := strings.Repeat("n", 51), `"v"`+strings.Repeat(`,"v"`, 50)
	tests := []struct {
		line string
		want want
	}{
		{`{"Id":"a","Attributes":{"` + long + `":["v"]}}`, want{err: `Attributes name "` + long + `" is 51 characters; at most 50 are allowed`}},
		{`{"Id":"a","Attributes":{"":["v"]}}`, want{err: "Attributes has an empty name"}},
		{`{"Id":"a","User":{"UserAttributes":{"k":[` + values51 + `]}}}`, want{err: "User.UserAttributes.k has 51 values; at most 50 are allowed"}},
		{`{"Id":"a","Attributes":{"k":["` + strings.Repeat("é", 101) + `"]}}`, want{err: "Attributes.k has a value of 101 characters; at most 100 are allowed"}},
		{`{"Id":"a","Metrics":{"":1}}`, want{err: "Metrics has an empty name"}},
		{`{"Id":"a","Attributes":{"k":[]},"Metrics":{"` + long + `":1}}`, want{err: `Metrics name "` + long + `" is 51 characters`}},
		{`{"Attributes":{"":["v"]},"ChannelType":"FAX"}`, want{err: "ChannelType must be one of"}},
		{`{"Metrics":{"":1},"User":{"UserAttributes":{"":[]}},"Attributes":{"":["v"]}}`, want{err: "Attributes has an empty name"}},
		{`{"Metrics":{"":1},"User":{"UserAttributes":{"":[]}}}`, want{err: "User.UserAttributes has an empty name"}},
		{`{"Attributes":{"":["v"]},"Location":{"Latitude":91}}`, want{err: "Attributes has an empty name"}},
		{`{"Id":"a","Address":"` + strings.Repeat("a", 15*1024-12) + `","Attributes":{"k":["v"]}}`, want{err: "endpoint is 15361 bytes; an endpoint may be at most 15360 bytes"}},
		{`{"Id":"a","Address":"` + strings.Repeat("a", 15*1024-13) + `","Attributes":{"k":["v"]}}`, want{update: &pinfold.EndpointUpdate{
			ID: "a", Address: s(strings.Repeat("a", 15*1024-13)), Attributes: pinfold.AttributesOf(map[string][]string{"k": {"v"}})}}},
	}
	for _, tt := range tests {
		rows := readAll(t, endpointfile.NewJSONDecoder(strings.NewReader(tt.line), 1))
		tt.want.line = 1
		t.Run(tt.line[:min(len(tt.line), 60)], func(t *testing.T) { checkRows(t, rows, []want{tt.want}) })
	}
}
