package main

import (
	"bytes"
	"io"
	"reflect"
	"testing"

	"github.com/pinfold/pinfold"
	"github.com/pinfold/pinfold/endpointfile"
)

func generate(t testing.TB, seed uint64, rows int, csv bool) []byte {
	t.Helper()
	var b bytes.Buffer
	g := &Generator{Seed: seed, Rows: rows}
	var n int64
	var err error
	if csv {
		n, err = g.WriteCSV(&b)
	} else {
		n, err = g.WriteNDJSON(&b)
	}
	if err != nil || n != int64(b.Len()) {
		t.Fatalf("generate: %d bytes reported, %d written, %v", n, b.Len(), err)
	}
	return b.Bytes()
}

// decodeAll decodes a whole file and fails the test on any row error.
func decodeAll(t testing.TB, data []byte, csv bool) []*pinfold.EndpointUpdate {
	t.Helper()
	var dec endpointfile.Decoder
	if csv {
		var err error
		if dec, err = endpointfile.NewCSVDecoder(bytes.NewReader(data), "", 1); err != nil {
			t.Fatal(err)
		}
	} else {
		dec = endpointfile.NewJSONDecoder(bytes.NewReader(data), 1)
	}
	var updates []*pinfold.EndpointUpdate
	for {
		row, err := dec.Next()
		if err == io.EOF {
			return updates
		} else if err != nil {
			t.Fatal(err)
		}
		if row.Err != nil {
			t.Fatalf("line %d: %v", row.Line, row.Err)
		}
		updates = append(updates, row.Update)
	}
}

func TestGeneratorIsDeterministic(t *testing.T) {
	t.Parallel()
	for _, csv := range []bool{true, false} {
		a, b := generate(t, 7, 300, csv), generate(t, 7, 300, csv)
		if !bytes.Equal(a, b) {
			t.Fatalf("csv=%v: two runs with seed 7 differ", csv)
		}
		if c := generate(t, 8, 300, csv); bytes.Equal(a, c) {
			t.Fatalf("csv=%v: seeds 7 and 8 give the same file", csv)
		}
	}
}

// TestGeneratorShape checks that both formats decode without a row error into the same
// endpoints, and that the rows have the promised shape.
func TestGeneratorShape(t *testing.T) {
	t.Parallel()
	const rows = 2000
	fromCSV := decodeAll(t, generate(t, 1, rows, true), true)
	fromJSON := decodeAll(t, generate(t, 1, rows, false), false)
	if len(fromCSV) != rows || len(fromJSON) != rows {
		t.Fatalf("decoded %d CSV and %d NDJSON rows, want %d", len(fromCSV), len(fromJSON), rows)
	}
	channels := map[string]int{}
	ids := map[string]bool{}
	multiValued, quotedCity, sharedUsers := 0, 0, 0
	users := map[string]int{}
	for i, u := range fromCSV {
		if !reflect.DeepEqual(u, fromJSON[i]) {
			t.Fatalf("row %d differs between CSV and NDJSON:\n%+v\n%+v", i, u, fromJSON[i])
		}
		if len(u.ID) != 36 || ids[u.ID] {
			t.Fatalf("row %d: Id %q is not a new UUID", i, u.ID)
		}
		ids[u.ID] = true
		channels[*u.ChannelType]++
		if n := len(u.Attributes); n < 3 || n > 8 {
			t.Fatalf("row %d has %d attributes, want 3 to 8", i, n)
		}
		for _, at := range u.Attributes {
			if len(at.Values) > 1 {
				multiValued++
				break
			}
		}
		if u.UserID == nil || len(u.UserAttributes) < 2 || len(u.Metrics) == 0 || u.Location.Latitude == nil || u.Demographic.Locale == nil {
			t.Fatalf("row %d lacks a user, user attributes, metrics, location or demographic: %+v", i, u)
		}
		if *u.Location.City == "Washington, D.C." {
			quotedCity++
		}
		users[*u.UserID]++
	}
	for _, n := range users {
		if n > 1 {
			sharedUsers++
		}
		if n > pinfold.MaxEndpointsPerUserID {
			t.Fatalf("a user has %d endpoints", n)
		}
	}
	for _, c := range []string{"EMAIL", "SMS", "PUSH", "APNS", "GCM"} {
		if channels[c] == 0 {
			t.Errorf("no %s endpoint in %d rows: %v", c, rows, channels)
		}
	}
	if multiValued < rows/4 || quotedCity == 0 || sharedUsers == 0 {
		t.Errorf("%d rows with a multi-valued attribute, %d quoted cities, %d shared users: want many, some, some",
			multiValued, quotedCity, sharedUsers)
	}
}

func BenchmarkGenerateCSV(b *testing.B) {
	benchmarkGenerate(b, (*Generator).WriteCSV)
}

func BenchmarkGenerateNDJSON(b *testing.B) {
	benchmarkGenerate(b, (*Generator).WriteNDJSON)
}

func benchmarkGenerate(b *testing.B, write func(*Generator, io.Writer) (int64, error)) {
	const rows = 10_000
	b.ReportAllocs()
	var n int64
	for b.Loop() {
		var err error
		if n, err = write(&Generator{Seed: 1, Rows: rows}, io.Discard); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(n)
	b.ReportMetric(float64(rows*b.N)/b.Elapsed().Seconds(), "rows/s")
}
