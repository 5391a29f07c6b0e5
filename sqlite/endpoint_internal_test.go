package sqlite

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/pinfold/pinfold"
)

// TestPutEndpointsTwiceInABatch checks that PutEndpoints keeps the last of two writes of one
// endpoint when both fall in one multi-row insert, and that the batch's other rows, inserted
// by it, are stored once and as given.
func TestPutEndpointsTwiceInABatch(t *testing.T) {
	ctx := context.Background()
	db := openTestDB(t)
	if err := db.CreateApp(ctx, &pinfold.App{ID: "app", Name: "a", CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	var batch []*pinfold.Endpoint
	for i := range 2*insertRows + 5 {
		id := fmt.Sprintf("e%03d", i)
		batch = append(batch, &pinfold.Endpoint{AppID: "app", ID: id, ChannelType: "EMAIL", Address: id + "@example.com",
			User: pinfold.User{UserID: "u"}, EndpointStatus: "ACTIVE"})
	}
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
