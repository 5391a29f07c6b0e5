package endpointfile

import (
	"encoding/csv"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
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

// FuzzSplitFast checks the one-pass splitter of well-formed rows against the rules it stands
// for: controlError and splitCSV. It accepts exactly the lines those accept with the wanted
// number of fields, and finds the same fields.
func FuzzSplitFast(f *testing.F) {
	for _, line := range []string{`a,b,c`, `"a,b",c`, `"a ""b""",`, `,`, `a"b`, `"a"b`, `"a`, ` "a"`, `""`, `"",""`,
		"a\tb", "\"a\rb\",c", "a,\"\x00\"", `"x,y" ,z`, `abcdefghijklmnop,"qrstuvwxyz,0123456789",ABCDEFGH,,,`,
		`"Washington, D.C.",Île-de-France,"a ""quoted"" value over eight bytes",!#$%&'()*+-./`} {
		f.Add(line, 3)
	}
	f.Fuzz(func(t *testing.T, line string, want int) {
		if strings.ContainsRune(line, '\n') || !utf8.ValidString(line) || want < 1 || want > 1000 {
			return
		}
		got, ok := splitFast(line, nil, want)
		fields, n, serr := splitCSV(line, nil, math.MaxInt, nil)
		wantOK := controlError(line) == nil && serr == nil && n == want
		if ok != wantOK {
			t.Fatalf("%q, %d fields: splitFast ok=%v; controlError %v, splitCSV %q, %v", line, want, ok, controlError(line), fields, serr)
		}
		if ok && !slices.Equal(got, fields) {
			t.Fatalf("%q: splitFast %q, splitCSV %q", line, got, fields)
		}
	})
}

func TestNextSpecial(t *testing.T) {
	for c := range 256 {
		for at := range 20 {
			s := strings.Repeat("a", at) + string([]byte{byte(c)}) + strings.Repeat("b", 9)
			want := len(s)
			if c == ',' || c < '#' {
				want = at
			}
			if got := nextSpecial(s, 0); got != want {
				t.Fatalf("nextSpecial(%q, 0) = %d, want %d", s, got, want)
			}
		}
	}
}

// TestParseSimpleDecimal checks the fast path of number parsing against strconv.ParseFloat,
// bit for bit, on the forms it takes and the ones it must leave to ParseFloat.
func TestParseSimpleDecimal(t *testing.T) {
	cases := []string{"0", "-0", "0.0", "-0.0", "1", "-1", "47.6062", "-122.3321", "999999999999999",
		"9999999999999999", "0.000000000000001", "0.1", "0.3", "123456789012345", "1234567890.12345",
		"12345678901234.5", "00000000000000012", "5.", ".5", "-", ".", "", "1e5", "+1", "1.2.3", "--1", "1-"}
	r := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		intDigits, fracDigits := r.IntN(16), r.IntN(16)
		var b strings.Builder
		if r.IntN(2) == 0 {
			b.WriteByte('-')
		}
		for range intDigits {
			b.WriteByte(byte('0' + r.IntN(10)))
		}
		if fracDigits > 0 {
			b.WriteByte('.')
			for range fracDigits {
				b.WriteByte(byte('0' + r.IntN(10)))
			}
		}
		cases = append(cases, b.String())
	}
	fast := 0
	for _, v := range cases {
		got, ok := parseSimpleDecimal(v)
		if !ok {
			continue
		}
		fast++
		want, err := strconv.ParseFloat(v, 64)
		if err != nil || math.Float64bits(got) != math.Float64bits(want) {
			t.Fatalf("parseSimpleDecimal(%q) = %v, ParseFloat = %v, %v", v, got, want, err)
		}
	}
	for _, v := range []string{"5.", ".5", "-", ".", "", "1e5", "+1", "9999999999999999", "1.2.3"} {
		if _, ok := parseSimpleDecimal(v); ok {
			t.Errorf("parseSimpleDecimal(%q) takes it; it should leave it to ParseFloat", v)
		}
	}
	if fast < len(cases)/3 { // about half the random ones have over 15 digits
		t.Errorf("fast path took %d of %d numbers", fast, len(cases))
	}
}

func TestPlainRun(t *testing.T) {
	for c := range 256 {
		for at := range 20 {
			s := strings.Repeat("a", at) + string([]byte{byte(c)}) + strings.Repeat("b", 9)
			want := len(s) / 8 * 8 // nothing to stop at: where fewer than eight bytes are left
			if c == '"' || c == '\\' || c < 0x20 {
				want = at
			}
			if got := plainRun(s, 0); got != want {
				t.Fatalf("plainRun(%q, 0) = %d, want %d", s, got, want)
			}
		}
	}
}
