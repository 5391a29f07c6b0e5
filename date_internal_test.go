package pinfold

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// TestPlainDate checks the quick date check against ParseISO8601: every date it
// takes must be one ParseISO8601 accepts.
func TestPlainDate(t *testing.T) {
	cases := []string{"2025-07-14T07:39:01.000Z", "2025-07-14T07:39:01Z", "2024-02-29T00:00:00Z", "2023-02-29T00:00:00Z",
		"1900-02-29T00:00:00Z", "2000-02-29T00:00:00Z", "0000-01-01T00:00:00Z", "2025-12-31T23:59:59.123456789Z",
		"2025-12-31T23:59:59.1234567891Z", "2025-12-31T23:59:60Z", "2025-12-31T24:00:00Z", "2025-13-01T00:00:00Z",
		"2025-04-31T00:00:00Z", "2025-00-10T00:00:00Z", "2025-01-00T00:00:00Z", "2025-01-01t00:00:00Z",
		"2025-01-01T00:00:00.Z", "2025-01-01T00:00:00,5Z", "2025-01-01T00:00:00+00:00", "2025-01-01", "+025-01-01T00:00:00Z",
		"2025-1-01T00:00:00Z", "2025-01-01T00:00:0xZ", "2025-01-01T00:00:00.5 Z", "２０２５-01-01T00:00:00Z"}
	r := rand.New(rand.NewPCG(3, 4))
	for range 20000 {
		cases = append(cases, fmt.Sprintf("%04d-%02d-%02dT%02d:%02d:%02d.%dZ", r.IntN(10000), r.IntN(14), r.IntN(33),
			r.IntN(26), r.IntN(62), r.IntN(62), r.IntN(1000)))
	}
	taken := 0
	for _, s := range cases {
		if !plainDate(s) {
			continue
		}
		taken++
		if _, err := ParseISO8601(s); err != nil {
			t.Fatalf("plainDate(%q) takes it, ParseISO8601 says %v", s, err)
		}
	}
	if !plainDate("2025-07-14T07:39:01.000Z") || taken < len(cases)/4 {
		t.Errorf("plainDate took %d of %d dates", taken, len(cases))
	}
}
