package endpointfile

import (
	"encoding/csv"
	"slices"
	"strings"
	"testing"
)

// FuzzSplitCSV checks the hand-written splitter against encoding/csv on single lines (no
// CR or LF, where the two follow the same RFC 4180 rules): both accept the same lines and
// find the same fields.
func FuzzSplitCSV(f *testing.F) {
	for _, line := range []string{`a,b,c`, `"a,b",c`, `"a ""b""",`, `,`, `a"b`, `"a"b`, `"a`, ` "a"`, `""`, `"",""`} {
		f.Add(line)
	}
	f.Fuzz(func(t *testing.T, line string) {
		if line == "" || strings.ContainsAny(line, "\r\n") {
			return
		}
		var scratch []byte
		got, n, serr := splitCSV(line, nil, 1<<20, &scratch)
		r := csv.NewReader(strings.NewReader(line))
		r.FieldsPerRecord = -1
		want, err := r.Read()
		if (serr == nil) != (err == nil) {
			t.Fatalf("%q: splitCSV error %v, encoding/csv error %v", line, serr, err)
		}
		if serr != nil {
			return
		}
		if n != len(got) || !slices.Equal(got, want) {
			t.Fatalf("%q: splitCSV %q (n=%d), encoding/csv %q", line, got, n, want)
		}
	})
}

func TestSplitCSV_Count(t *testing.T) {
	fields, n, serr := splitCSV(`a,"b,c",d,e`, nil, 2, nil)
	if serr != nil || n != 4 || !slices.Equal(fields, []string{"a", "b,c"}) {
		t.Fatalf("splitCSV = %q, %d, %v; want [a b,c], 4, nil", fields, n, serr)
	}
}
