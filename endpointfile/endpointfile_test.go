package endpointfile_test

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/pinfold/pinfold"
	"github.com/pinfold/pinfold/endpointfile"
)

// want is the expected outcome of one row: its line and either an update or a substring of
// the error message.
type want struct {
	line   int64
	update *pinfold.EndpointUpdate
	err    string
}

func s(v string) *string   { return &v }
func f(v float64) *float64 { return &v }

// readAll returns every row of d, failing the test on an I/O error.
func readAll(t *testing.T, d endpointfile.Decoder) []endpointfile.Row {
	t.Helper()
	var rows []endpointfile.Row
	for {
		row, err := d.Next()
		if err == io.EOF {
			return rows
		} else if err != nil {
			t.Fatalf("Next: %v", err)
		}
		rows = append(rows, row)
	}
}

// checkRows compares rows with wants, row by row.
func checkRows(t *testing.T, rows []endpointfile.Row, wants []want) {
	t.Helper()
	for i, w := range wants {
		if i >= len(rows) {
			t.Fatalf("got %d rows, want %d (missing line %d)", len(rows), len(wants), w.line)
		}
		row := rows[i]
		if row.Line != w.line {
			t.Fatalf("row %d: line %d, want %d", i, row.Line, w.line)
		}
		if w.err != "" {
			if row.Err == nil {
				t.Fatalf("line %d: no error, want one containing %q; update %s", w.line, w.err, formatUpdate(row.Update))
			}
			if got := pinfold.ErrorMessage(row.Err); !strings.Contains(got, w.err) {
				t.Fatalf("line %d: error %q, want it to contain %q", w.line, got, w.err)
			}
			if code := pinfold.ErrorCode(row.Err); code != pinfold.EINVALID {
				t.Fatalf("line %d: error code %q, want %q", w.line, code, pinfold.EINVALID)
			}
			if row.Update != nil {
				t.Fatalf("line %d: Update set along with Err", w.line)
			}
			continue
		}
		if row.Err != nil {
			t.Fatalf("line %d: unexpected error %v", w.line, row.Err)
		}
		if got, want := formatUpdate(row.Update), formatUpdate(w.update); got != want {
			t.Fatalf("line %d:\n got %s\nwant %s", w.line, got, want)
		}
	}
	if len(rows) != len(wants) {
		t.Fatalf("got %d rows, want %d; first extra: line %d", len(rows), len(wants), rows[len(wants)].Line)
	}
}

// formatUpdate writes u in a canonical form (sorted maps, absent fields left out) so that
// two updates can be compared as strings and a difference is easy to read.
func formatUpdate(u *pinfold.EndpointUpdate) string {
	if u == nil {
		return "<nil>"
	}
	var b strings.Builder
	str := func(name string, v *string) {
		if v != nil {
			fmt.Fprintf(&b, "%s=%q ", name, *v)
		}
	}
	num := func(name string, v *float64) {
		if v != nil {
			fmt.Fprintf(&b, "%s=%v ", name, *v)
		}
	}
	values := func(name string, m map[string][]string) {
		if m == nil {
			return
		}
		fmt.Fprintf(&b, "%s={", name)
		for _, k := range slices.Sorted(maps.Keys(m)) {
			fmt.Fprintf(&b, "%q:%q ", k, m[k])
		}
		b.WriteString("} ")
	}
	if u.ID != "" {
		fmt.Fprintf(&b, "ID=%q ", u.ID)
	}
	str("ChannelType", u.ChannelType)
	str("Address", u.Address)
	str("EffectiveDate", u.EffectiveDate)
	str("EndpointStatus", u.EndpointStatus)
	str("OptOut", u.OptOut)
	str("RequestID", u.RequestID)
	str("UserID", u.UserID)
	d := u.Demographic
	str("AppVersion", d.AppVersion)
	str("Locale", d.Locale)
	str("Make", d.Make)
	str("Model", d.Model)
	str("ModelVersion", d.ModelVersion)
	str("Platform", d.Platform)
	str("PlatformVersion", d.PlatformVersion)
	str("Timezone", d.Timezone)
	l := u.Location
	str("City", l.City)
	str("Country", l.Country)
	str("PostalCode", l.PostalCode)
	str("Region", l.Region)
	num("Latitude", l.Latitude)
	num("Longitude", l.Longitude)
	values("Attributes", u.Attributes.Map())
	values("UserAttributes", u.UserAttributes.Map())
	if u.Metrics != nil {
		b.WriteString("Metrics={")
		for _, m := range u.Metrics {
			fmt.Fprintf(&b, "%q:%v ", m.Name, m.Value)
		}
		b.WriteString("} ")
	}
	return strings.TrimSpace(b.String())
}

func mustReadFile(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// failingReader returns its data, then err.
type failingReader struct {
	data []byte
	err  error
}

func (r *failingReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, r.err
	}
	n := copy(p, r.data)
	r.data = r.data[n:]
	return n, nil
}

var errDisk = errors.New("disk on fire")

// TestDecodersPutNamesInOrder checks that both decoders give each row's attributes, user
// attributes and metrics in order of name, whatever order the header's columns or the line's
// members have, and that a row leaves nothing of its metrics to the next.
func TestDecodersPutNamesInOrder(t *testing.T) {
	csvFile := "Metrics.z,Attributes.b,User.UserAttributes.y,Id,Attributes.a,Metrics.a,User.UserAttributes.x,Attributes.b,Metrics.m\n" +
		"1,b1,y1,e1,a1,2,x1,b2,3\n" +
		",,,e2,,,x2,,4\n" +
		",,,e3,,5,,,bad\n" +
		"7,,,e4,a4,,,,\n"
	jsonFile := `{"Id":"e1","Metrics":{"z":1,"a":2,"m":3},"Attributes":{"b":["b1","b2"],"a":["a1"]},"User":{"UserAttributes":{"y":["y1"],"x":["x1"]}}}` + "\n" +
		`{"Id":"e2","Metrics":{"m":4},"User":{"UserAttributes":{"x":["x2"]}}}` + "\n"
	want := map[string]string{
		"e1": "Attributes a=[a1] b=[b1 b2] | UserAttributes x=[x1] y=[y1] | Metrics a=2 m=3 z=1",
		"e2": "Attributes | UserAttributes x=[x2] | Metrics m=4",
		"e4": "Attributes a=[a4] | UserAttributes | Metrics z=7",
	}
	csvDec, err := endpointfile.NewCSVDecoder(strings.NewReader(csvFile), "", 1)
	if err != nil {
		t.Fatal(err)
	}
	for name, d := range map[string]endpointfile.Decoder{"CSV": csvDec, "NDJSON": endpointfile.NewJSONDecoder(strings.NewReader(jsonFile), 1)} {
		n := 0
		for _, row := range readAll(t, d) {
			if row.Err != nil {
				if name != "CSV" || row.Line != 4 {
					t.Errorf("%s line %d: %v", name, row.Line, row.Err)
				}
				continue
			}
			n++
			var b strings.Builder
			b.WriteString("Attributes")
			for _, at := range row.Update.Attributes {
				fmt.Fprintf(&b, " %s=%v", at.Name, at.Values)
			}
			b.WriteString(" | UserAttributes")
			for _, at := range row.Update.UserAttributes {
				fmt.Fprintf(&b, " %s=%v", at.Name, at.Values)
			}
			b.WriteString(" | Metrics")
			for _, m := range row.Update.Metrics {
				fmt.Fprintf(&b, " %s=%v", m.Name, m.Value)
			}
			if got := b.String(); got != want[row.Update.ID] {
				t.Errorf("%s line %d:\n got %s\nwant %s", name, row.Line, got, want[row.Update.ID])
			}
			if err := row.Update.Validate(); err != nil {
				t.Errorf("%s line %d: %v", name, row.Line, err)
			}
		}
		if wantRows := map[string]int{"CSV": 3, "NDJSON": 2}[name]; n != wantRows {
			t.Errorf("%s: %d rows decoded, want %d", name, n, wantRows)
		}
	}
}
