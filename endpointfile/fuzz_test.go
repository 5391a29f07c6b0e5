package endpointfile_test

import (
	"bytes"
	"encoding/json"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pinfold/pinfold"
	"github.com/pinfold/pinfold/endpointfile"
)

// seeds returns the contents of the testdata files matching pattern.
func seeds(f *testing.F, pattern string) [][]byte {
	f.Helper()
	names, err := filepath.Glob(pattern)
	if err != nil || len(names) == 0 {
		f.Fatalf("no seed files match %s (%v)", pattern, err)
	}
	var out [][]byte
	for _, name := range names {
		out = append(out, mustReadFile(f, name))
	}
	return out
}

// checkStream reads every row of d and checks the contract of Decoder: it ends, line numbers
// start at firstLine or later and strictly increase, there are no more rows than lines, and
// each row has exactly one of a valid update or an EINVALID error.
func checkStream(t *testing.T, d endpointfile.Decoder, data []byte, firstLine int64) []endpointfile.Row {
	t.Helper()
	maxRows := bytes.Count(data, []byte("\n")) + 1
	var rows []endpointfile.Row
	last := firstLine - 1
	for {
		row, err := d.Next()
		if err == io.EOF {
			return rows
		} else if err != nil {
			t.Fatalf("Next: %v (a bytes.Reader cannot fail)", err)
		}
		rows = append(rows, row)
		if len(rows) > maxRows {
			t.Fatalf("%d rows from %d lines", len(rows), maxRows)
		}
		if row.Line <= last {
			t.Fatalf("line %d after line %d", row.Line, last)
		}
		last = row.Line
		if (row.Err == nil) == (row.Update == nil) {
			t.Fatalf("line %d: Err %v and Update %v: want exactly one", row.Line, row.Err, row.Update)
		}
		if row.Err != nil && pinfold.ErrorCode(row.Err) != pinfold.EINVALID {
			t.Fatalf("line %d: error code %q (%v), want EINVALID", row.Line, pinfold.ErrorCode(row.Err), row.Err)
		}
		if row.Update != nil {
			if err := row.Update.Validate(); err != nil {
				t.Fatalf("line %d: update does not validate: %v", row.Line, err)
			}
		}
	}
}

func FuzzCSV(f *testing.F) {
	for _, data := range seeds(f, "testdata/csv/*/input.csv") {
		f.Add(data, "", int64(1))
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			f.Add(data[i+1:], string(data[:i]), int64(1001))
		}
	}
	f.Fuzz(func(t *testing.T, data []byte, header string, firstLine int64) {
		if firstLine < 1 || firstLine > 1<<40 {
			firstLine = 1
		}
		d, err := endpointfile.NewCSVDecoder(bytes.NewReader(data), header, firstLine)
		if err != nil {
			if pinfold.ErrorCode(err) != pinfold.EINVALID {
				t.Fatalf("NewCSVDecoder: %v, want an EINVALID error", err)
			}
			return
		}
		if header == "" {
			firstLine++ // the header is line firstLine
		}
		checkStream(t, d, data, firstLine)
	})
}

func FuzzJSON(f *testing.F) {
	for _, data := range seeds(f, "testdata/ndjson/*/input.ndjson") {
		f.Add(data)
		for line := range bytes.SplitSeq(data, []byte("\n")) {
			f.Add(line)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		rows := checkStream(t, endpointfile.NewJSONDecoder(bytes.NewReader(data), 1), data, 1)
		lines := bytes.Split(bytes.TrimPrefix(data, []byte("\ufeff")), []byte("\n"))
		for _, row := range rows {
			line := bytes.TrimSuffix(lines[row.Line-1], []byte("\r"))
			compareWithEncodingJSON(t, row, line)
		}
	})
}

// mirror is EndpointRequest for encoding/json, to check the hand-written parser against it.
type mirror struct {
	Id             *string
	Address        *string
	ChannelType    *string
	EffectiveDate  *string
	EndpointStatus *string
	OptOut         *string
	RequestId      *string
	ApplicationId  *string
	CohortId       *string
	CreationDate   *string
	Attributes     map[string][]string
	Metrics        map[string]*float64
	Demographic    *struct {
		AppVersion, Locale, Make, Model, ModelVersion, Platform, PlatformVersion, Timezone *string
	}
	Location *struct {
		City, Country, PostalCode, Region *string
		Latitude, Longitude               *float64
	}
	User *struct {
		UserId         *string
		UserAttributes map[string][]string
	}
}

// compareWithEncodingJSON checks that a line the decoder accepts is one encoding/json
// accepts with the same values, and that a line it calls invalid JSON is invalid for
// encoding/json too.
func compareWithEncodingJSON(t *testing.T, row endpointfile.Row, line []byte) {
	t.Helper()
	if row.Err != nil {
		if msg := pinfold.ErrorMessage(row.Err); strings.HasPrefix(msg, "invalid JSON") && json.Valid(line) {
			t.Fatalf("line %d: %q is valid JSON, but the decoder says %q", row.Line, line, msg)
		}
		return
	}
	var m mirror
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("line %d: decoder accepts %q, encoding/json says %v", row.Line, line, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		t.Fatalf("line %d: decoder accepts %q, encoding/json finds more after the object (%v)", row.Line, line, err)
	}
	u := &pinfold.EndpointUpdate{
		ChannelType: m.ChannelType, Address: m.Address, EffectiveDate: m.EffectiveDate,
		EndpointStatus: m.EndpointStatus, OptOut: m.OptOut, RequestID: m.RequestId,
		Attributes: pinfold.AttributesOf(withoutNil(m.Attributes)),
	}
	if m.Id != nil {
		u.ID = *m.Id
	}
	metrics := map[string]float64{}
	for k, v := range m.Metrics {
		if v != nil {
			metrics[k] = *v
		}
	}
	u.Metrics = pinfold.MetricsOf(metrics)
	if d := m.Demographic; d != nil {
		u.Demographic = pinfold.DemographicUpdate{
			AppVersion: d.AppVersion, Locale: d.Locale, Make: d.Make, Model: d.Model,
			ModelVersion: d.ModelVersion, Platform: d.Platform, PlatformVersion: d.PlatformVersion, Timezone: d.Timezone,
		}
	}
	if l := m.Location; l != nil {
		u.Location = pinfold.LocationUpdate{
			City: l.City, Country: l.Country, PostalCode: l.PostalCode, Region: l.Region,
			Latitude: l.Latitude, Longitude: l.Longitude,
		}
	}
	if m.User != nil {
		u.UserID = m.User.UserId
		u.UserAttributes = pinfold.AttributesOf(withoutNil(m.User.UserAttributes))
	}
	if got, want := formatUpdate(row.Update), formatUpdate(u); got != want {
		t.Fatalf("line %d %q:\n decoder      %s\nencoding/json %s", row.Line, line, got, want)
	}
}

// withoutNil drops the entries of null attributes, which the decoder leaves out.
func withoutNil(m map[string][]string) map[string][]string {
	var out map[string][]string
	for k, v := range m {
		if v != nil {
			if out == nil {
				out = map[string][]string{}
			}
			out[k] = v
		}
	}
	return out
}
