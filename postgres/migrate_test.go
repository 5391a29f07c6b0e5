package postgres_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/pinfold/pinfold"
	"github.com/pinfold/pinfold/postgres"
	"github.com/pinfold/pinfold/postgres/pgtest"
)

// TestMigrateEndpointsWrittenBefore0002 opens a database whose endpoints were written before
// migration 0002 (no attribute names recorded) and checks that 0002 counts their names
// against the app's quota (MaxAttributeNames) and that DIMENSIONAL segments read them.
func TestMigrateEndpointsWrittenBefore0002(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := pgtest.URL(t)
	db := postgres.NewDB(url)
	if err := db.Open(ctx); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateApp(ctx, &pinfold.App{ID: "app", Name: "a", CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	db.Close()

	// Back to the schema of 0001, with an endpoint as the first release wrote it.
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`DROP FUNCTION pinfold_iso8601`, `DROP INDEX endpoints_address`, `DROP TABLE app_attributes`,
		`ALTER TABLE segment_versions DROP COLUMN dimensions`, `ALTER TABLE segment_versions DROP COLUMN segment_groups`,
		`DELETE FROM schema_migrations WHERE version = 2`,
		`INSERT INTO endpoints (app_id, id, user_id, address, channel_type, data) VALUES ('app', 'old', 'u', 'old@example.com', 'EMAIL',
			'{"ct":"EMAIL","a":"old@example.com","at":{"plan":["gold"]},"d":{},"l":{},"m":{"visits":2},"u":"u","ua":{"plan":["x"]},"c":"7","cr":1}')`,
	} {
		if _, err := conn.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	conn.Close(ctx)

	db = postgres.NewDB(url)
	db.MaxAttributeNames = 3
	if err := db.Open(ctx); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	defer db.Close()
	seg, err := pinfold.NewSegment("app", "gold", &pinfold.SegmentUpdate{Dimensions: &pinfold.SegmentDimensions{
		Attributes: map[string]pinfold.AttributeDimension{"plan": {Values: []string{"gold"}}}}}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := db.CreateSegment(ctx, seg); err != nil {
		t.Fatal(err)
	}
	if ids, _, err := db.FindSegmentMembers(ctx, "app", "gold", 0, pinfold.Page{}); err != nil || !slices.Equal(ids, []string{"old"}) {
		t.Fatalf("members after the migration = %v, %v", ids, err)
	}
	err = db.UpdateEndpoints(ctx, "app", func(tx pinfold.EndpointTx) error {
		names, max, err := tx.FindAttributeNames(ctx, "app")
		if err != nil || len(names) != 3 || max != 3 {
			t.Errorf("attribute names after the migration = %v, quota %d, %v", names, max, err)
		}
		u := &pinfold.EndpointUpdate{ID: "old", Attributes: map[string][]string{"new": {"x"}}}
		w, err := pinfold.NewEndpointWriter(ctx, tx, "app", []*pinfold.EndpointUpdate{u}, time.Now())
		if err != nil {
			return err
		}
		if err := w.Apply(u); err != nil {
			return err
		}
		return w.Commit(ctx)
	})
	if pinfold.ErrorCode(err) != pinfold.EINVALID || !strings.Contains(pinfold.ErrorMessage(err), "at most 3") {
		t.Fatalf("a fourth name after the migration counted plan, visits and the user's plan: %v", err)
	}
}
