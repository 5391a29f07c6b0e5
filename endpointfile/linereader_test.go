package endpointfile_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/pinfold/pinfold"
	"github.com/pinfold/pinfold/endpointfile"
)

// sizedReader returns data in reads of the given sizes in turn (the last one repeats), and
// err with the last bytes when withErr is set.
type sizedReader struct {
	data    []byte
	sizes   []int
	err     error
	withErr bool
}

func (r *sizedReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, r.err
	}
	n := r.sizes[0]
	if len(r.sizes) > 1 {
		r.sizes = r.sizes[1:]
	}
	n = min(n, len(p), len(r.data))
	copy(p, r.data[:n])
	r.data = r.data[n:]
	if len(r.data) == 0 && r.withErr {
		return n, r.err
	}
	return n, nil
}

// rowsText formats decoded rows for comparison.
func rowsText(rows []endpointfile.Row) string {
	var b strings.Builder
	for _, row := range rows {
		fmt.Fprintf(&b, "%d %v %s\n", row.Line, row.Err, formatUpdate(row.Update))
	}
	return b.String()
}

// decoderFiles are a CSV and an NDJSON file of about 200 KB, so that many lines straddle
// the decoders' 64 KB reads, with a BOM, CRLF and LF endings, blank lines, quoted values,
// UTF-8 and some bad rows.
func decoderFiles() (csv, ndjson []byte) {
	var c, j bytes.Buffer
	c.WriteString("\ufeffId,ChannelType,Address,Location.City,Location.Latitude,Attributes.a,Attributes.a,Metrics.m\r\n")
	j.WriteString("\ufeff")
	for i := range 1200 {
		eol := "\n"
		if i%3 == 0 {
			eol = "\r\n"
		}
		switch i % 50 {
		case 7:
			c.WriteString("ep-bad,EMAIL,x\ty,,,,," + eol)
			j.WriteString(`{"Id":"ep-bad","Address":1}` + eol)
			continue
		case 8:
			c.WriteString("   " + eol)
			j.WriteString(" \t " + eol)
			continue
		case 9:
			c.WriteString(`ep-q,EMAIL,"unterminated` + eol)
			j.WriteString(`{"Id":"ep-q"` + eol)
			continue
		}
		pad := strings.Repeat("é", i%90)
		fmt.Fprintf(&c, "ep-%d,EMAIL,user%d@example.com,\"Washington, D.C. %s\",%d.%d,\"say \"\"hi\"\"\",v%d,%d%s",
			i, i, pad, i%90, i%7, i, i, eol)
		fmt.Fprintf(&j, `{"Id":"ep-%d","ChannelType":"EMAIL","Address":"user%d@example.com","Location":{"City":"Washington, D.C. %s","Latitude":%d.%d},"Attributes":{"a":["say \"hi\"","v%d"]},"Metrics":{"m":%d}}%s`,
			i, i, pad, i%90, i%7, i, i, eol)
	}
	return c.Bytes(), j.Bytes()
}

// TestDecoders_ReadSizes decodes the same files through readers that return them in
// different pieces: the rows, and the values kept from earlier rows, must not depend on
// where the reads end.
func TestDecoders_ReadSizes(t *testing.T) {
	t.Parallel()
	csvData, jsonData := decoderFiles()
	for _, tt := range []struct {
		name string
		data []byte
		open func(io.Reader) (endpointfile.Decoder, error)
	}{
		{"csv", csvData, func(r io.Reader) (endpointfile.Decoder, error) { return endpointfile.NewCSVDecoder(r, "", 1) }},
		{"ndjson", jsonData, func(r io.Reader) (endpointfile.Decoder, error) { return endpointfile.NewJSONDecoder(r, 1), nil }},
	} {
		decode := func(r io.Reader) string {
			d, err := tt.open(r)
			if err != nil {
				t.Fatal(err)
			}
			return rowsText(readAll(t, d))
		}
		want := decode(bytes.NewReader(tt.data))
		if n, good := strings.Count(want, "\n"), strings.Count(want, " <nil> "); n != 1200-24 || n-good != 48 {
			t.Fatalf("%s: %d rows, %d errors; want 1176 and 48:\n%s", tt.name, n, n-good, want)
		}
		if !strings.Contains(want, `City="Washington, D.C. `) || !strings.Contains(want, `"say \"hi\""`) {
			t.Fatalf("%s: values not decoded:\n%.2000s", tt.name, want)
		}
		for _, r := range []struct {
			name string
			r    io.Reader
		}{
			{"one byte", iotest.OneByteReader(bytes.NewReader(tt.data))},
			{"half", iotest.HalfReader(bytes.NewReader(tt.data))},
			{"data with EOF", iotest.DataErrReader(bytes.NewReader(tt.data))},
			{"odd sizes", &sizedReader{data: tt.data, sizes: []int{1, 2, 3, 1000, 65535, 7, 40000, 65536, 333}, err: io.EOF}},
		} {
			if got := decode(r.r); got != want {
				t.Errorf("%s, %s reads: rows differ from one read", tt.name, r.name)
			}
		}
	}
}

// TestCSVDecoder_LongLineReads checks lines longer than the read buffer when a CRLF is
// split between two reads, and the input after a long line.
func TestCSVDecoder_LongLineReads(t *testing.T) {
	t.Parallel()
	over := strings.Repeat("a", endpointfile.MaxLineBytes+1)
	atLimit := strings.Repeat("b", endpointfile.MaxLineBytes)
	long := "ep-4," + strings.Repeat("c", 70_000)
	file := "Id,Address\n" + over + "\r\n" + atLimit + "\r\n" + long + "\r\n" + "ep-5,x\r\n" + "ep-6,y"
	// Reads that end between the CR and the LF of each long line.
	crAt := []int{len("Id,Address\n") + len(over) + 1}
	crAt = append(crAt, crAt[0]+1+len(atLimit)+1, crAt[0]+1+len(atLimit)+2+len(long)+1)
	var sizes []int
	last := 0
	for _, at := range crAt {
		sizes = append(sizes, at-last)
		last = at
	}
	sizes = append(sizes, 1<<20)
	for name, r := range map[string]io.Reader{
		"split CRLF": &sizedReader{data: []byte(file), sizes: sizes, err: io.EOF},
		"one read":   strings.NewReader(file),
	} {
		d, err := endpointfile.NewCSVDecoder(r, "", 1)
		if err != nil {
			t.Fatal(err)
		}
		t.Run(name, func(t *testing.T) {
			checkRows(t, readAll(t, d), []want{
				{line: 2, err: "line is 1048577 bytes long; lines may be at most 1048576 bytes"},
				{line: 3, err: "row has 1 field but the header has 2 columns"},
				{line: 4, err: "Address is longer than 15360 bytes"},
				{line: 5, update: &pinfold.EndpointUpdate{ID: "ep-5", Address: s("x")}},
				{line: 6, update: &pinfold.EndpointUpdate{ID: "ep-6", Address: s("y")}},
			})
		})
	}
}

// TestDecoders_ReadErrors checks that the lines read before an error of the reader are
// decoded, that a last line without its LF is dropped at an error but not at EOF, and that a
// reader that returns nothing is given up on.
func TestDecoders_ReadErrors(t *testing.T) {
	t.Parallel()
	data := []byte("Id\nep-1\nep-2")
	for _, tt := range []struct {
		name string
		r    io.Reader
		ids  []string
		err  error
	}{
		{"error with the data", &sizedReader{data: data, sizes: []int{100}, err: errDisk, withErr: true}, []string{"ep-1"}, errDisk},
		{"EOF with the data", &sizedReader{data: data, sizes: []int{100}, err: io.EOF, withErr: true}, []string{"ep-1", "ep-2"}, io.EOF},
		{"error after", &sizedReader{data: data, sizes: []int{4, 100}, err: errDisk}, []string{"ep-1"}, errDisk},
	} {
		d, err := endpointfile.NewCSVDecoder(tt.r, "", 1)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		var ids []string
		for {
			row, err := d.Next()
			if err != nil {
				if !errors.Is(err, tt.err) {
					t.Errorf("%s: Next error %v, want %v", tt.name, err, tt.err)
				}
				if _, again := d.Next(); again != err {
					t.Errorf("%s: Next error after %v: %v", tt.name, err, again)
				}
				break
			}
			ids = append(ids, row.Update.ID)
		}
		if fmt.Sprint(ids) != fmt.Sprint(tt.ids) {
			t.Errorf("%s: rows %v, want %v", tt.name, ids, tt.ids)
		}
	}
	d := endpointfile.NewJSONDecoder(emptyReader{}, 1)
	if _, err := d.Next(); !errors.Is(err, io.ErrNoProgress) {
		t.Errorf("reader that returns nothing: Next error %v, want %v", err, io.ErrNoProgress)
	}
}

type emptyReader struct{}

func (emptyReader) Read([]byte) (int, error) { return 0, nil }
