package endpointfile_test

import (
	"bytes"
	"fmt"
	"io"
	"testing"

	"github.com/pinfold/pinfold/endpointfile"
)

const benchRows = 10_000

// benchCSV is a file of benchRows typical rows: an ID, a channel, an address, a few
// demographic and location fields, a user, a two-valued attribute and a metric.
func benchCSV() []byte {
	var b bytes.Buffer
	b.WriteString("Id,ChannelType,Address,Location.Country,Location.City,Location.Latitude,Location.Longitude," +
		"Demographic.Platform,Demographic.Make,User.UserId,Attributes.Interests,Attributes.Interests,Metrics.score\n")
	for i := range benchRows {
		fmt.Fprintf(&b, "endpoint-%07d,EMAIL,user%d@example.com,US,\"Seattle, WA\",47.6,-122.3,iOS,Apple,user-%d,Music,Travel,%d.5\n", i, i, i, i%100)
	}
	return b.Bytes()
}

// benchJSON is benchCSV's rows as NDJSON.
func benchJSON() []byte {
	var b bytes.Buffer
	for i := range benchRows {
		fmt.Fprintf(&b, `{"Id":"endpoint-%07d","ChannelType":"EMAIL","Address":"user%d@example.com",`+
			`"Location":{"Country":"US","City":"Seattle, WA","Latitude":47.6,"Longitude":-122.3},`+
			`"Demographic":{"Platform":"iOS","Make":"Apple"},"User":{"UserId":"user-%d"},`+
			`"Attributes":{"Interests":["Music","Travel"]},"Metrics":{"score":%d.5}}`+"\n", i, i, i, i%100)
	}
	return b.Bytes()
}

func BenchmarkCSVDecode(b *testing.B) {
	data := benchCSV()
	benchDecode(b, data, func(r io.Reader) endpointfile.Decoder {
		d, err := endpointfile.NewCSVDecoder(r, "", 1)
		if err != nil {
			b.Fatal(err)
		}
		return d
	})
}

func BenchmarkJSONDecode(b *testing.B) {
	data := benchJSON()
	benchDecode(b, data, func(r io.Reader) endpointfile.Decoder {
		return endpointfile.NewJSONDecoder(r, 1)
	})
}

// benchDecode decodes data once per iteration and reports throughput in bytes (MB/s) and
// rows (rows/s).
func benchDecode(b *testing.B, data []byte, open func(io.Reader) endpointfile.Decoder) {
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	rows := 0
	for b.Loop() {
		d := open(bytes.NewReader(data))
		for {
			row, err := d.Next()
			if err == io.EOF {
				break
			} else if err != nil {
				b.Fatal(err)
			}
			if row.Err != nil {
				b.Fatalf("line %d: %v", row.Line, row.Err)
			}
			rows++
		}
	}
	b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
}
