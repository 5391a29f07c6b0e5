package sqlite

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/pinfold/pinfold"
)

// appWithBatch opens a database with app "app" and returns it with a batch of endpoints not
// yet written, more than two multi-row inserts' worth (e000, e001, …, all of user u), and
// their IDs.
func appWithBatch(t *testing.T) (*DB, []*pinfold.Endpoint, []string) {
	t.Helper()
	db := openTestDB(t)
	if err := db.CreateApp(context.Background(), &pinfold.App{ID: "app", Name: "a", CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	var batch []*pinfold.Endpoint
	var ids []string
	for i := range 2*insertRows + 5 {
		id := fmt.Sprintf("e%03d", i)
		ids = append(ids, id)
		batch = append(batch, &pinfold.Endpoint{AppID: "app", ID: id, ChannelType: "EMAIL", Address: id + "@example.com",
			User: pinfold.User{UserID: "u"}, EndpointStatus: "ACTIVE", OptOut: "NONE"})
	}
	return db, batch, ids
}

// TestPutEndpointsTwiceInABatch checks that PutEndpoints keeps the last of two writes of one
// endpoint when both fall in one multi-row insert, and that the batch's other rows, inserted
// by it, are stored once and as given.
func TestPutEndpointsTwiceInABatch(t *testing.T) {
	ctx := context.Background()
	db, batch, _ := appWithBatch(t)
	// e003 again, among the first insertRows in key order, to another user and address.
	again := *batch[3]
	again.Address, again.User.UserID = "again@example.com", "v"
	batch[10] = &again
	err := db.UpdateEndpoints(ctx, "app", func(tx pinfold.EndpointTx) error { return tx.PutEndpoints(ctx, batch) })
	if err != nil {
		t.Fatal(err)
	}
	got, err := db.FindEndpoint(ctx, "app", "e003")
	if err != nil || got.Address != "again@example.com" || got.User.UserID != "v" {
		t.Fatalf("e003 = %+v, %v; want the second write", got, err)
	}
	for _, user := range []struct {
		id   string
		want int
	}{{"u", 2*insertRows + 3}, {"v", 1}} {
		if found, err := db.FindEndpointsByUser(ctx, "app", user.id); err != nil || len(found) != user.want {
			t.Errorf("user %s has %d endpoints, %v; want %d", user.id, len(found), err, user.want)
		}
	}
	if _, err := db.FindEndpoint(ctx, "app", "e010"); pinfold.ErrorCode(err) != pinfold.ENOTFOUND {
		t.Errorf("e010, never written: %v", err)
	}
}

// TestPutEndpointsLeavesUnchangedRows checks the rows PutEndpoints leaves unwritten because
// their documents are the ones FindEndpoints read in the same transaction: no statement is
// run for them (a temporary trigger on the write connection records every row SQLite is
// asked to insert or upsert), the last of two writes of one endpoint still stays when only
// one of them is unchanged, and documents read before one PutEndpoints do not spare a row
// from the next, after the INACTIVE rule changed it.
func TestPutEndpointsLeavesUnchangedRows(t *testing.T) {
	ctx := context.Background()
	db, batch, ids := appWithBatch(t)
	if err := db.UpdateEndpoints(ctx, "app", func(tx pinfold.EndpointTx) error { return tx.PutEndpoints(ctx, batch) }); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{`CREATE TEMP TABLE asked (id TEXT)`,
		`CREATE TEMP TRIGGER asked BEFORE INSERT ON endpoints BEGIN INSERT INTO asked VALUES (new.id); END`} {
		if _, err := db.write.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	optedOut := func(e *pinfold.Endpoint) *pinfold.Endpoint {
		c := *e
		c.OptOut = "ALL"
		return &c
	}
	err := db.UpdateEndpoints(ctx, "app", func(tx pinfold.EndpointTx) error {
		found, err := tx.FindEndpoints(ctx, "app", ids)
		if err != nil {
			return err
		}
		// e001 changed, then as stored; e002 as stored, then changed; e003 changed; the rest
		// as stored.
		var again []*pinfold.Endpoint
		for _, id := range ids {
			switch e := found[id]; id {
			case "e001":
				again = append(again, optedOut(e), e)
			case "e002":
				again = append(again, e, optedOut(e))
			case "e003":
				again = append(again, optedOut(e))
			default:
				again = append(again, e)
			}
		}
		return tx.PutEndpoints(ctx, again)
	})
	if err != nil {
		t.Fatal(err)
	}
	var asked []string
	rows, err := db.write.QueryContext(ctx, `SELECT DISTINCT id FROM asked ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		asked = append(asked, id)
	}
	if err := rows.Close(); err != nil {
		t.Fatal(err)
	}
	if want := []string{"e001", "e002", "e003"}; !slices.Equal(asked, want) {
		t.Errorf("rows written %v, want %v: the others are unchanged", asked, want)
	}
	for id, want := range map[string]string{"e000": "NONE", "e001": "NONE", "e002": "ALL", "e003": "ALL", "e004": "NONE"} {
		if e, err := db.FindEndpoint(ctx, "app", id); err != nil || e.OptOut != want {
			t.Errorf("%s: OptOut %q, %v; want %q", id, e.OptOut, err, want)
		}
	}
	// e010 is read, made INACTIVE by a new endpoint with its address, then written as read.
	err = db.UpdateEndpoints(ctx, "app", func(tx pinfold.EndpointTx) error {
		found, err := tx.FindEndpoints(ctx, "app", []string{"e010"})
		if err != nil {
			return err
		}
		taker := &pinfold.Endpoint{AppID: "app", ID: "taker", ChannelType: "EMAIL", Address: "e010@example.com", EndpointStatus: "ACTIVE"}
		if err := tx.PutEndpoints(ctx, []*pinfold.Endpoint{taker}); err != nil {
			return err
		}
		return tx.PutEndpoints(ctx, []*pinfold.Endpoint{found["e010"]})
	})
	if err != nil {
		t.Fatal(err)
	}
	for id, want := range map[string]string{"e010": "ACTIVE", "taker": "INACTIVE"} {
		if e, err := db.FindEndpoint(ctx, "app", id); err != nil || e.EndpointStatus != want {
			t.Errorf("%s: status %q, %v; want %q", id, e.EndpointStatus, err, want)
		}
	}
}
