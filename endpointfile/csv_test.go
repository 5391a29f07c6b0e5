package endpointfile_test

import (
	"bytes"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/pinfold/pinfold"
	"github.com/pinfold/pinfold/endpointfile"
)

func TestCSVDecoder(t *testing.T) {
	t.Parallel()
	tests := []struct {
		dir   string
		wants []want
	}{
		{"basic", []want{
			{line: 2, update: &pinfold.EndpointUpdate{
				ID: "ep-1", ChannelType: s("SMS"), Address: s("+16045550182"), OptOut: s("NONE"),
				UserID:      s("example-user-id-1"),
				Demographic: pinfold.DemographicUpdate{Platform: s("Android"), Make: s("LG")},
				Location:    pinfold.LocationUpdate{Country: s("CA"), Latitude: f(49.2), Longitude: f(-123.1)},
				Metrics:     pinfold.MetricsOf(map[string]float64{"score": 6}),
			}},
			{line: 3, update: &pinfold.EndpointUpdate{
				ChannelType: s("EMAIL"), Address: s("john.stiles@example.com"), UserID: s("example-user-id-2"),
				Demographic: pinfold.DemographicUpdate{Platform: s("iOS"), Make: s("Apple")},
				Location:    pinfold.LocationUpdate{Country: s("US")},
			}},
			{line: 4, update: &pinfold.EndpointUpdate{
				ID: "ep-3", OptOut: s("ALL"), Metrics: pinfold.MetricsOf(map[string]float64{"score": 150}),
			}},
			// Line 5 is blank. Quoted values; "" (Demographic.Platform) is absent.
			{line: 6, update: &pinfold.EndpointUpdate{
				ID: "ep-4", ChannelType: s("EMAIL"), Address: s("a,b@example.com"), UserID: s(`user "4"`),
				Demographic: pinfold.DemographicUpdate{Make: s("Apple")},
				Location:    pinfold.LocationUpdate{Country: s("US")},
				Metrics:     pinfold.MetricsOf(map[string]float64{"score": -0.25}),
			}},
		}},
		{"multi-valued", []want{
			{line: 2, update: &pinfold.EndpointUpdate{
				ChannelType: s("SMS"), Address: s("+12065550100"), UserID: s("example-user-id-2"),
				UserAttributes: pinfold.AttributesOf(map[string][]string{"new_multi_field": {"test10", "test20"}}),
				Attributes:     pinfold.AttributesOf(map[string][]string{"Interests": {"Music", "Travel"}}),
			}},
			{line: 3, update: &pinfold.EndpointUpdate{
				ChannelType: s("EMAIL"), Address: s("a@example.com"), UserID: s("u3"),
			}},
			{line: 4, update: &pinfold.EndpointUpdate{
				ChannelType: s("EMAIL"), Address: s("b@example.com"), UserID: s("u4"),
				UserAttributes: pinfold.AttributesOf(map[string][]string{"new_multi_field": {"only"}}),
				Attributes:     pinfold.AttributesOf(map[string][]string{"Interests": {"Rock, Pop", "Jazz"}}),
			}},
		}},
		{"bom-crlf", []want{
			{line: 2, update: &pinfold.EndpointUpdate{
				ChannelType: s("SMS"), Address: s("+12065550100"),
				EffectiveDate: s("2019-08-23T10:54:35.220Z"), EndpointStatus: s("ACTIVE"),
			}},
			// Lines 3 (empty) and 4 (spaces) are blank; line 5 has no terminator.
			{line: 5, update: &pinfold.EndpointUpdate{
				ChannelType: s("EMAIL"), Address: s("x@example.com"), EndpointStatus: s("INACTIVE"),
			}},
		}},
		{"user-id-only", []want{
			{line: 2, update: &pinfold.EndpointUpdate{UserID: s("example-user-id-1")}},
			{line: 3, update: &pinfold.EndpointUpdate{UserID: s("example-user-id-2")}},
		}},
		{"bad-rows", []want{
			{line: 2, update: &pinfold.EndpointUpdate{ID: "ep-1", ChannelType: s("SMS"), Address: s("+12065550100")}},
			{line: 3, err: "tab character in row; Pinpoint files may not contain tabs (found at byte 14)"},
			{line: 4, err: `column 3 ("Address"): unterminated quoted value`},
			{line: 5, err: "row has 2 fields but the header has 6 columns"},
			{line: 6, err: `column 5 ("Metrics.score"): must be a number, got "abc"`},
			{line: 7, err: `column 4 ("Location.Latitude"): must be a number, got "north"`},
			{line: 8, err: "line is not valid UTF-8 (bad byte at offset 14)"},
			{line: 9, err: `ChannelType must be one of [PUSH GCM`},
			{line: 10, err: "Location.Latitude must be between -90 and 90, got 95"},
			{line: 11, err: `column 3 ("Address"): double quote in an unquoted value`},
			{line: 12, err: `column 2 ("ChannelType"): text after the closing quote`},
			{line: 13, err: "row sets no endpoint fields"},
			{line: 14, err: "carriage return in row at byte 9"},
			{line: 15, err: "row has 8 fields but the header has 6 columns"},
			{line: 16, err: "Attributes.tag has a value of 101 characters; at most 100 are allowed"},
			{line: 17, update: &pinfold.EndpointUpdate{
				ID: "ep-16", ChannelType: s("EMAIL"), Address: s("a@example.com"),
				Location:   pinfold.LocationUpdate{Latitude: f(47.6)},
				Metrics:    pinfold.MetricsOf(map[string]float64{"score": -1}),
				Attributes: pinfold.AttributesOf(map[string][]string{"tag": {"x"}}),
			}},
			{line: 18, err: "NUL character in row at byte 15"},
			{line: 19, err: `column 5 ("Metrics.score"): must be a number, got "inf"`},
			{line: 20, err: `column 5 ("Metrics.score"): must be a number, got "1e999", which is out of range`},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.dir, func(t *testing.T) {
			t.Parallel()
			data := mustReadFile(t, "testdata/csv/"+tt.dir+"/input.csv")
			d, err := endpointfile.NewCSVDecoder(bytes.NewReader(data), "", 1)
			if err != nil {
				t.Fatalf("NewCSVDecoder: %v", err)
			}
			checkRows(t, readAll(t, d), tt.wants)
		})
	}
}

func TestCSVDecoder_UserIDOnly(t *testing.T) {
	t.Parallel()
	data := mustReadFile(t, "testdata/csv/user-id-only/input.csv")
	d, err := endpointfile.NewCSVDecoder(bytes.NewReader(data), "", 1)
	if err != nil {
		t.Fatal(err)
	}
	for _, row := range readAll(t, d) {
		if row.Err != nil || !row.Update.IsUserOnly() {
			t.Fatalf("line %d: err %v, IsUserOnly false", row.Line, row.Err)
		}
	}
}

// TestCSVDecoder_MidFile decodes a piece that starts in the middle of a file, with the
// header read by HeaderLine, as the importer does.
func TestCSVDecoder_MidFile(t *testing.T) {
	t.Parallel()
	data := mustReadFile(t, "testdata/csv/bom-crlf/input.csv")
	header, err := endpointfile.HeaderLine(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("HeaderLine: %v", err)
	}
	if want := "ChannelType,Address,EffectiveDate,EndpointStatus"; header != want {
		t.Fatalf("HeaderLine = %q, want %q", header, want)
	}
	piece := data[bytes.IndexByte(data, '\n')+1:]
	d, err := endpointfile.NewCSVDecoder(bytes.NewReader(piece), header, 1001)
	if err != nil {
		t.Fatalf("NewCSVDecoder: %v", err)
	}
	checkRows(t, readAll(t, d), []want{
		{line: 1001, update: &pinfold.EndpointUpdate{
			ChannelType: s("SMS"), Address: s("+12065550100"),
			EffectiveDate: s("2019-08-23T10:54:35.220Z"), EndpointStatus: s("ACTIVE"),
		}},
		{line: 1004, update: &pinfold.EndpointUpdate{
			ChannelType: s("EMAIL"), Address: s("x@example.com"), EndpointStatus: s("INACTIVE"),
		}},
	})

	// A header given with its BOM and line terminator is read the same way.
	d, err = endpointfile.NewCSVDecoder(strings.NewReader("SMS,+1,,\n"), "\ufeffChannelType,Address,EffectiveDate,EndpointStatus\r\n", 7)
	if err != nil {
		t.Fatalf("NewCSVDecoder: %v", err)
	}
	checkRows(t, readAll(t, d), []want{
		{line: 7, update: &pinfold.EndpointUpdate{ChannelType: s("SMS"), Address: s("+1")}},
	})
}

func TestCSVDecoder_BadHeader(t *testing.T) {
	t.Parallel()
	tests := []struct {
		header string // the first line of the file
		err    string
	}{
		{"", "the file is empty; the first line of a CSV file must be its header"},
		{"\n", "the CSV header (first line) is empty"},
		{"Id,Foo", `CSV header: unknown column "Foo" in column 2; the supported columns are Id, Address,`},
		{"Id,address", `unknown column "address" in column 2; did you mean "Address"? (names are case-sensitive)`},
		{"Id, Address", `unknown column " Address" in column 2; did you mean "Address"?`},
		{"Id,UserId", `did you mean "User.UserId"?`},
		{"attributes.Color", `did you mean "Attributes.Color"?`},
		{"Address,Id,Address", `CSV header: column "Address" appears twice (columns 1 and 3); only Attributes.<name> and User.UserAttributes.<name> columns may repeat`},
		{"Metrics.a,Metrics.a", `column "Metrics.a" appears twice (columns 1 and 2)`},
		{"Id,,Address", "CSV header: column 2 has no name"},
		{"Id,Address,", "CSV header: column 3 has no name"},
		{"Attributes.", `CSV header: column 1 "Attributes." has an empty name after the dot`},
		{"User.UserAttributes." + strings.Repeat("n", 51), "has a name of 51 characters; at most 50 are allowed"},
		{"Id\tAddress", "CSV header: tab character in row"},
		{`"Id,Address`, "CSV header: column 1: unterminated quoted value"},
		{"Id,\xffAddress", "CSV header: line is not valid UTF-8 (bad byte at offset 3)"},
		{"Id,Address\r\r", "CSV header: carriage return in row at byte 10"},
	}
	for _, tt := range tests {
		file := tt.header
		if file != "" && !strings.HasSuffix(file, "\n") {
			file += "\nep-1,x\n"
		}
		_, err := endpointfile.NewCSVDecoder(strings.NewReader(file), "", 1)
		checkHeaderError(t, "NewCSVDecoder", tt.header, err, tt.err)
		_, err = endpointfile.HeaderLine(strings.NewReader(file))
		checkHeaderError(t, "HeaderLine", tt.header, err, tt.err)
		if h := strings.TrimSuffix(tt.header, "\n"); h != "" {
			_, err = endpointfile.NewCSVDecoder(strings.NewReader("ep-1,x\n"), h, 2)
			checkHeaderError(t, "NewCSVDecoder with header", tt.header, err, tt.err)
		}
	}
}

func checkHeaderError(t *testing.T, fn, header string, err error, want string) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s(%q): no error, want %q", fn, header, want)
	}
	if code := pinfold.ErrorCode(err); code != pinfold.EINVALID {
		t.Fatalf("%s(%q): code %q, want %q (%v)", fn, header, code, pinfold.EINVALID, err)
	}
	if got := pinfold.ErrorMessage(err); !strings.Contains(got, want) {
		t.Fatalf("%s(%q): error %q, want it to contain %q", fn, header, got, want)
	}
}

func TestCSVDecoder_QuotedHeader(t *testing.T) {
	t.Parallel()
	d, err := endpointfile.NewCSVDecoder(strings.NewReader(`"Id","Attributes.a,b"`+"\nep-1,\"x\"\n"), "", 1)
	if err != nil {
		t.Fatal(err)
	}
	checkRows(t, readAll(t, d), []want{
		{line: 2, update: &pinfold.EndpointUpdate{ID: "ep-1", Attributes: pinfold.AttributesOf(map[string][]string{"a,b": {"x"}})}},
	})
}

func TestCSVDecoder_LongLines(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("a", endpointfile.MaxLineBytes+1)
	atLimit := strings.Repeat("b", endpointfile.MaxLineBytes)
	file := "Id,Address\n" +
		long + "\n" + // 2: over the limit
		"ep-3,x\n" +
		atLimit + "\r\n" + // 4: at the limit, CRLF: read, then too large an endpoint
		"ep-5,\"" + strings.Repeat("c", 100_000) + "\"\n" + // 5: past the bufio buffer
		long // 6: over the limit, at EOF
	d, err := endpointfile.NewCSVDecoder(strings.NewReader(file), "", 1)
	if err != nil {
		t.Fatal(err)
	}
	checkRows(t, readAll(t, d), []want{
		{line: 2, err: "line is 1048577 bytes long; lines may be at most 1048576 bytes"},
		{line: 3, update: &pinfold.EndpointUpdate{ID: "ep-3", Address: s("x")}},
		{line: 4, err: "row has 1 field but the header has 2 columns"},
		{line: 5, err: "Address is longer than 15360 bytes"},
		{line: 6, err: "line is 1048577 bytes long"},
	})
}

func TestCSVDecoder_IOError(t *testing.T) {
	t.Parallel()
	d, err := endpointfile.NewCSVDecoder(&failingReader{data: []byte("Id\nep-1\nep-2"), err: errDisk}, "", 1)
	if err != nil {
		t.Fatal(err)
	}
	if row, err := d.Next(); err != nil || row.Line != 2 || row.Update == nil || row.Update.ID != "ep-1" {
		t.Fatalf("Next = %+v, %v; want line 2, ep-1", row, err)
	}
	for range 2 {
		if _, err := d.Next(); !errors.Is(err, errDisk) {
			t.Fatalf("Next error = %v, want %v", err, errDisk)
		}
	}
	if _, err := endpointfile.NewCSVDecoder(&failingReader{err: errDisk}, "", 1); !errors.Is(err, errDisk) {
		t.Fatalf("NewCSVDecoder error = %v, want %v", err, errDisk)
	}
	if _, err := endpointfile.HeaderLine(&failingReader{err: errDisk}); !errors.Is(err, errDisk) {
		t.Fatalf("HeaderLine error = %v, want %v", err, errDisk)
	}
}

func TestCSVDecoder_EmptyPiece(t *testing.T) {
	t.Parallel()
	d, err := endpointfile.NewCSVDecoder(strings.NewReader(""), "Id", 5)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Next(); err != io.EOF {
		t.Fatalf("Next error = %v, want io.EOF", err)
	}
}

// TestCSVDecoder_InvalidUTF8 checks that a byte that is not UTF-8 fails its row wherever it
// is, quoted or not: the decoder checks each line whole, and pinfold.Validate does not check
// the strings it cuts out of it again.
func TestCSVDecoder_InvalidUTF8(t *testing.T) {
	t.Parallel()
	file := "Id,Address,Attributes.a,User.UserAttributes.b\n" +
		"ep-2,\"x\xffy\",,\n" + // in a quoted value
		"ep-3,\"x\"\"\xe2\x82\"\"\",,\n" + // a cut rune between escaped quotes
		"ep-4,x,\"v,\xc3\",\n" + // in a quoted attribute value
		"ep-5,x,,\xed\xa0\x80\n" + // an encoded surrogate, unquoted
		"ep-6,\"Zürich, \"\"ß\"\"\",\"ü\",\"€\"\n"
	d, err := endpointfile.NewCSVDecoder(strings.NewReader(file), "", 1)
	if err != nil {
		t.Fatal(err)
	}
	checkRows(t, readAll(t, d), []want{
		{line: 2, err: "line is not valid UTF-8 (bad byte at offset 7)"},
		{line: 3, err: "line is not valid UTF-8 (bad byte at offset 9)"},
		{line: 4, err: "line is not valid UTF-8 (bad byte at offset 10)"},
		{line: 5, err: "line is not valid UTF-8 (bad byte at offset 8)"},
		{line: 6, update: &pinfold.EndpointUpdate{ID: "ep-6", Address: s(`Zürich, "ß"`),
			Attributes: pinfold.AttributesOf(map[string][]string{"a": {"ü"}}), UserAttributes: pinfold.AttributesOf(map[string][]string{"b": {"€"}})}},
	})
}

// TestCSVDecoder_EntryRules checks the rules on the entries of the maps, which the decoder
// checks as it adds them (pinfold.EntryCheck), and that the row's error is the one Validate
// finds first.
func TestCSVDecoder_EntryRules(t *testing.T) {
	t.Parallel()
	header := "ChannelType,Address,Location.Latitude,Attributes.a,Metrics.m" + strings.Repeat(",User.UserAttributes.u", 51)
	file := header + "\n" +
		"EMAIL,x,,v,1" + strings.Repeat(",w", 51) + "\n" + // 2: 51 values
		"EMAIL,x,,v,1" + strings.Repeat(",w", 50) + ",\n" + // 3: 50 values
		"FAX,x,,\"" + strings.Repeat("é", 101) + "\",1" + strings.Repeat(",w", 51) + "\n" + // 4: the channel first
		"EMAIL,x,95,\"" + strings.Repeat("é", 101) + "\",1" + strings.Repeat(",", 51) + "\n" + // 5: the attribute before the latitude
		"EMAIL," + strings.Repeat("a", 15*1024-78) + ",,v,1" + strings.Repeat(",w", 10) + strings.Repeat(",", 41) + "\n" + // 6: at the limit
		"EMAIL," + strings.Repeat("a", 15*1024-77) + ",,v,1" + strings.Repeat(",w", 10) + strings.Repeat(",", 41) + "\n" // 7: one byte over
	d, err := endpointfile.NewCSVDecoder(strings.NewReader(file), "", 1)
	if err != nil {
		t.Fatal(err)
	}
	w50 := slices.Repeat([]string{"w"}, 50)
	checkRows(t, readAll(t, d), []want{
		{line: 2, err: "User.UserAttributes.u has 51 values; at most 50 are allowed"},
		{line: 3, update: &pinfold.EndpointUpdate{ChannelType: s("EMAIL"), Address: s("x"),
			Attributes: pinfold.AttributesOf(map[string][]string{"a": {"v"}}), Metrics: pinfold.MetricsOf(map[string]float64{"m": 1}), UserAttributes: pinfold.AttributesOf(map[string][]string{"u": w50})}},
		{line: 4, err: "ChannelType must be one of"},
		{line: 5, err: "Attributes.a has a value of 101 characters; at most 100 are allowed"},
		{line: 6, update: &pinfold.EndpointUpdate{ChannelType: s("EMAIL"), Address: s(strings.Repeat("a", 15*1024-78)),
			Attributes: pinfold.AttributesOf(map[string][]string{"a": {"v"}}), Metrics: pinfold.MetricsOf(map[string]float64{"m": 1}), UserAttributes: pinfold.AttributesOf(map[string][]string{"u": w50[:10]})}},
		{line: 7, err: "endpoint is 15361 bytes"},
	})
}
