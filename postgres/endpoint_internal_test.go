package postgres

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/pinfold/pinfold"
	"github.com/pinfold/pinfold/postgres/pgtest"
)

// TestPutEndpointsLeavesUnchangedRows checks the rows PutEndpoints leaves out of its COPY
// because their documents are the ones FindEndpoints read in the same transaction, before the
// caller changed what it returned: the
// upsert is not asked to write them (a trigger records every row PostgreSQL is asked to
// insert, conflicting or not), endpoints with every kind of field (attributes, metrics,
// a location, a demographic) come back from jsonb to the same document, a changed or new
// endpoint is still written, and a document read before one PutEndpoints does not spare a
// row from the next, after the INACTIVE rule changed it.
func TestPutEndpointsLeavesUnchangedRows(t *testing.T) {
	ctx := context.Background()
	db := openTestDB(t)
	created := time.Date(2026, 11, 30, 10, 0, 0, 123456789, time.UTC)
	if err := db.CreateApp(ctx, &pinfold.App{ID: "app", Name: "a", CreatedAt: created}); err != nil {
		t.Fatal(err)
	}
	lat, lon := 47.6062095, -122.3320708
	var batch []*pinfold.Endpoint
	var ids []string
	for i := range 10 {
		id := fmt.Sprintf("e%03d", i)
		ids = append(ids, id)
		batch = append(batch, &pinfold.Endpoint{AppID: "app", ID: id, ChannelType: "EMAIL", Address: id + "@example.com",
			Attributes:     pinfold.AttributesOf(map[string][]string{"Interests": {"hiking", "<cooking> & \"baking\"", "café"}, "Tier": {"gold"}}),
			Demographic:    pinfold.Demographic{Make: "Apple", Platform: "ios", Timezone: "America/Los_Angeles"},
			EffectiveDate:  "2026-11-30T10:00:00.123Z",
			EndpointStatus: "ACTIVE",
			Location:       pinfold.Location{City: "Seattle", Country: "US", Latitude: &lat, Longitude: &lon},
			Metrics:        pinfold.MetricsOf(map[string]float64{"visits": float64(i), "score": 0.1 + float64(i)/3, "big": 1e21, "tiny": -2.5e-7}),
			OptOut:         "NONE", RequestID: "r1", CohortID: fmt.Sprint(i),
			User:      pinfold.User{UserID: "u" + id, UserAttributes: pinfold.AttributesOf(map[string][]string{"Plan": {"pro"}})},
			CreatedAt: created})
	}
	if err := db.UpdateEndpoints(ctx, "app", func(tx pinfold.EndpointTx) error { return tx.PutEndpoints(ctx, batch) }); err != nil {
		t.Fatal(err)
	}
	asked := recordInserts(t, db, "NEW.id")
	optedOut := func(e *pinfold.Endpoint) *pinfold.Endpoint {
		c := *e
		c.OptOut = "ALL"
		return &c
	}
	err := db.UpdateEndpoints(ctx, "app", func(tx pinfold.EndpointTx) error {
		found, err := tx.FindEndpoints(ctx, "app", append(ids, "e100"))
		if err != nil {
			return err
		}
		if len(found) != len(ids) {
			return fmt.Errorf("found %d endpoints, want %d", len(found), len(ids))
		}
		// e001 changed in a copy, e003 in place, e100 new, the rest as stored.
		again := []*pinfold.Endpoint{{AppID: "app", ID: "e100", ChannelType: "SMS", Address: "+15550100", EndpointStatus: "ACTIVE", OptOut: "NONE"}}
		for _, id := range ids {
			switch e := found[id]; id {
			case "e001":
				again = append(again, optedOut(e))
			case "e003":
				e.OptOut = "ALL"
				again = append(again, e)
			default:
				again = append(again, e)
			}
		}
		return tx.PutEndpoints(ctx, again)
	})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := asked(), []string{"e001", "e003", "e100"}; !slices.Equal(got, want) {
		t.Errorf("rows written %v, want %v: the others are unchanged", got, want)
	}
	for id, want := range map[string]string{"e000": "NONE", "e001": "ALL", "e002": "NONE", "e003": "ALL", "e100": "NONE"} {
		if e, err := db.FindEndpoint(ctx, "app", id); err != nil || e.OptOut != want {
			t.Errorf("%s: OptOut %q, %v; want %q", id, e.OptOut, err, want)
		}
	}
	// e005 is read, made INACTIVE by a new endpoint with its address, then written as read.
	err = db.UpdateEndpoints(ctx, "app", func(tx pinfold.EndpointTx) error {
		found, err := tx.FindEndpoints(ctx, "app", []string{"e005"})
		if err != nil {
			return err
		}
		taker := &pinfold.Endpoint{AppID: "app", ID: "taker", ChannelType: "EMAIL", Address: "e005@example.com", EndpointStatus: "ACTIVE"}
		if err := tx.PutEndpoints(ctx, []*pinfold.Endpoint{taker}); err != nil {
			return err
		}
		return tx.PutEndpoints(ctx, []*pinfold.Endpoint{found["e005"]})
	})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := asked(), []string{"e005", "taker"}; !slices.Equal(got, want) {
		t.Errorf("rows written %v, want %v", got, want)
	}
	for id, want := range map[string]string{"e005": "ACTIVE", "taker": "INACTIVE"} {
		if e, err := db.FindEndpoint(ctx, "app", id); err != nil || e.EndpointStatus != want {
			t.Errorf("%s: status %q, %v; want %q", id, e.EndpointStatus, err, want)
		}
	}
}

// TestSpareHints checks when a node's pieces of an app keep the documents they read: always
// while pieces find unchanged rows or read none, one piece in spareRetry after a piece found
// every row it kept changed, and always again once one finds a row unchanged; apps apart.
func TestSpareHints(t *testing.T) {
	var h spareHints
	keeps := func(app string, n int) string {
		var got []byte
		for range n {
			if h.keep(app) {
				got = append(got, 'k')
				h.note(app, 10, 0, false) // every row it kept changed
			} else {
				got = append(got, '-')
				h.note(app, 0, 0, true)
			}
		}
		return string(got)
	}
	for range 3 {
		if !h.keep("a") {
			t.Fatal("a piece of a new app does not keep its documents")
		}
		h.note("a", 0, 0, false) // a fresh import's piece: nothing read
		h.note("a", 10, 4, false)
	}
	if got, want := keeps("a", 2*spareRetry+1), "k-------k-------k"; got != want {
		t.Fatalf("pieces that changed every row kept %q, want %q", got, want)
	}
	if !h.keep("b") {
		t.Fatal("another app's pieces do not keep their documents")
	}
	h.note("a", 10, 1, false) // a piece that kept them found one unchanged
	if !h.keep("a") || len(h.misses) != 0 {
		t.Fatalf("after a row found unchanged: keep %v, misses %v", h.keep("a"), h.misses)
	}
}

// TestPutEndpointsCopiesNewRows checks which endpoints PutEndpoints copies straight into the
// table (a trigger records each row PostgreSQL is asked to insert and whether a COPY asked):
// those FindEndpoints looked up and did not find, in the app whose lock the transaction holds,
// and none of them again once a PutEndpoints has run; the others go through the upsert, so a
// second write of a new endpoint in one transaction still replaces the first.
func TestPutEndpointsCopiesNewRows(t *testing.T) {
	ctx := context.Background()
	db := openTestDB(t)
	for _, app := range []string{"app", "other"} {
		if err := db.CreateApp(ctx, &pinfold.App{ID: app, Name: app, CreatedAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	endpoint := func(app, id, optOut string) *pinfold.Endpoint {
		return &pinfold.Endpoint{AppID: app, ID: id, ChannelType: "EMAIL", Address: id + "@example.com", EndpointStatus: "ACTIVE", OptOut: optOut}
	}
	if err := db.UpdateEndpoints(ctx, "app", func(tx pinfold.EndpointTx) error {
		return tx.PutEndpoints(ctx, []*pinfold.Endpoint{endpoint("app", "old", "NONE")})
	}); err != nil {
		t.Fatal(err)
	}
	asked := recordInserts(t, db, `NEW.id || ':' || CASE WHEN current_query() ILIKE 'copy%' THEN 'copy' ELSE 'upsert' END`)
	err := db.UpdateEndpoints(ctx, "app", func(tx pinfold.EndpointTx) error {
		if _, err := tx.FindEndpoints(ctx, "app", []string{"old", "new1", "new2"}); err != nil {
			return err
		}
		// In the lock of "app", a lookup in "other" says nothing of what may be stored there.
		if _, err := tx.FindEndpoints(ctx, "other", []string{"elsewhere"}); err != nil {
			return err
		}
		if err := tx.PutEndpoints(ctx, []*pinfold.Endpoint{endpoint("app", "new1", "NONE"), endpoint("app", "old", "ALL"),
			endpoint("app", "unread", "NONE"), endpoint("other", "elsewhere", "NONE")}); err != nil {
			return err
		}
		return tx.PutEndpoints(ctx, []*pinfold.Endpoint{endpoint("app", "new1", "ALL"), endpoint("app", "new2", "NONE")})
	})
	if err != nil {
		t.Fatal(err)
	}
	got := asked()
	if want := []string{"elsewhere:upsert", "new1:copy", "new1:upsert", "new2:upsert", "old:upsert", "unread:upsert"}; !slices.Equal(got, want) {
		t.Errorf("rows asked %v, want %v", got, want)
	}
	for _, c := range []struct{ app, id, optOut string }{{"app", "old", "ALL"}, {"app", "new1", "ALL"}, {"app", "new2", "NONE"},
		{"app", "unread", "NONE"}, {"other", "elsewhere", "NONE"}} {
		if e, err := db.FindEndpoint(ctx, c.app, c.id); err != nil || e.OptOut != c.optOut {
			t.Errorf("%s/%s: %+v, %v; want OptOut %s", c.app, c.id, e, err, c.optOut)
		}
	}
}

// openTestDB opens a new database, closed when t ends.
func openTestDB(t *testing.T) *DB {
	t.Helper()
	db := NewDB(pgtest.URL(t))
	if err := db.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// recordInserts makes PostgreSQL record, for each row it is asked to insert into endpoints
// (by a COPY, or by an upsert that may then update instead), the SQL expression what of
// the row NEW, and returns a function that returns what was recorded since it last ran,
// sorted, and forgets it.
func recordInserts(t *testing.T, db *DB, what string) func() []string {
	t.Helper()
	ctx := context.Background()
	for _, q := range []string{`CREATE TABLE asked (what text)`,
		`CREATE FUNCTION ask() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN INSERT INTO asked VALUES (` + what + `); RETURN NEW; END $$`,
		`CREATE TRIGGER asked BEFORE INSERT ON endpoints FOR EACH ROW EXECUTE FUNCTION ask()`} {
		if _, err := db.pool.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	return func() []string {
		t.Helper()
		rows, err := db.pool.Query(ctx, `DELETE FROM asked RETURNING what`)
		if err != nil {
			t.Fatal(err)
		}
		got, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		slices.Sort(got)
		return got
	}
}
