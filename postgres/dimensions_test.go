package postgres_test

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/pinfold/pinfold"
	"github.com/pinfold/pinfold/postgres/pgtest"
)

// iso8601Corpus returns strings on both sides of what pinfold.ParseISO8601 reads: every
// combination of edge values of each part, and random edits of them.
func iso8601Corpus() []string {
	corpus := []string{"", "now", "today", "epoch", "infinity", "42", "12:30", "2025-03-10 12:00:00", "２０２５-03-10",
		"2025-03-10T12:00:00.Z", "2025-03-10T12:00:00,", "2025-03-10t12:00:00Z", "2025-03-10T12:00:00z", " 2025-03-10", "2025-03-10 ",
		"2025-03-10T12:00:00+0200", "2025-03-10T12:00:00+02", "2025-03-10T12:00:00+02:00:00", "+2025-03-10", "12025-03-10",
		"2025-03-10T12:00:00.000000000001", "2025-03-10T12:00:00,000000000001Z", "2025-03-10T23:59:59.9999999Z"}
	var valid []string
	for _, date := range []string{"0000-01-01", "0001-02-28", "1969-12-31", "1970-01-01", "2024-02-29", "2025-02-29", "2100-02-29",
		"2000-02-29", "2025-04-30", "2025-04-31", "2025-12-31", "2025-13-01", "2025-00-10", "2025-03-00", "2025-03-32", "9999-12-31"} {
		corpus = append(corpus, date)
		for _, clock := range []string{"T00:00", "T1:00", "T9:59", "T23:59", "T24:00", "T12:60", "T00:00:00", "T1:02:03", "T23:59:59",
			"T23:59:60", "T12:00:00.5", "T12:00:00,25", "T12:00:00.123456789", "T12:00:00.9999", "T012:00:00"} {
			for _, zone := range []string{"", "Z", "+00:00", "-00:00", "+02:00", "-05:30", "+14:00", "+23:59", "+24:00", "-24:60", "+24:61", "+25:00", "+12:99"} {
				s := date + clock + zone
				corpus = append(corpus, s)
				if _, err := pinfold.ParseISO8601(s); err == nil {
					valid = append(valid, s)
				}
			}
		}
	}
	r := rand.New(rand.NewPCG(3, 4))
	const alphabet = "0123456789-:T.,Z+ zt"
	for range 3000 {
		b := []byte(valid[r.IntN(len(valid))])
		for range 1 + r.IntN(2) {
			i := r.IntN(len(b))
			switch r.IntN(3) {
			case 0:
				b[i] = alphabet[r.IntN(len(alphabet))]
			case 1:
				b = append(b[:i], b[i+1:]...)
			default:
				b = append(b[:i], append([]byte{alphabet[r.IntN(len(alphabet))]}, b[i:]...)...)
			}
			if len(b) == 0 {
				break
			}
		}
		corpus = append(corpus, string(b))
	}
	return corpus
}

// TestISO8601 checks the migration's pinfold_iso8601 against pinfold.ParseISO8601, cut to
// the millisecond: the same values are dates, at the same instant, in a session whose time
// zone is not UTC; and no value raises an error.
func TestISO8601(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := pgtest.URL(t)
	mustOpen(t, url)
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `SET TimeZone = 'Pacific/Chatham'`); err != nil {
		t.Fatal(err)
	}
	corpus := iso8601Corpus()
	rows, err := conn.Query(ctx, `SELECT v, pinfold_iso8601(v) FROM unnest($1::text[]) v`, corpus)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var n, dates int
	for rows.Next() {
		var v string
		var got *time.Time
		if err := rows.Scan(&v, &got); err != nil {
			t.Fatal(err)
		}
		n++
		want, err := pinfold.ParseISO8601(v)
		switch {
		case err != nil && got != nil:
			t.Errorf("%q: %v; ParseISO8601 does not read it", v, got.UTC().Format(time.RFC3339Nano))
		case err == nil && got == nil:
			t.Errorf("%q: NULL; ParseISO8601 reads %s", v, want.UTC().Format(time.RFC3339Nano))
		case err == nil && !sameMillisecond(*got, want):
			t.Errorf("%q: %s, want %s", v, got.UTC().Format(time.RFC3339Nano), want.UTC().Format(time.RFC3339Nano))
		}
		if err == nil {
			dates++
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if n != len(corpus) || dates < len(corpus)/10 || dates > len(corpus)*9/10 {
		t.Fatalf("%d of %d values compared, %d of them dates; want every value, and dates and not-dates both", n, len(corpus), dates)
	}
}

// sameMillisecond compares got with want cut to the millisecond, as pinfold.FormatISO8601
// writes it, in any year (time.Truncate and UnixNano do not reach them all).
func sameMillisecond(got, want time.Time) bool {
	ms := func(t time.Time) int64 { return t.Unix()*1000 + int64(t.Nanosecond()/1e6) }
	return ms(got) == ms(want) && got.Nanosecond()%1e6 == 0
}
