package postgres_test

import (
	"context"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/pinfold/pinfold"
	"github.com/pinfold/pinfold/postgres"
	"github.com/pinfold/pinfold/postgres/pgtest"
	"github.com/pinfold/pinfold/storetest"
)

// TestMigrateEndpointsWrittenBefore0002 opens a database whose endpoints were written before
// migration 0002 (no attribute names recorded) and checks that 0002 counts their names
// against the app's quota (MaxAttributeNames) and that DIMENSIONAL segments read them.
func TestMigrateEndpointsWrittenBefore0002(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := pgtest.URL(t)
	db := open(t, postgres.NewDB(url))
	if err := db.CreateApp(ctx, &pinfold.App{ID: "app", Name: "a", CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	db.Close()

	// Back to the schema of 0001, with an endpoint as the first release wrote it.
	rewind(t, url, endpointsOf0005...)
	rewind(t, url,
		`DROP FUNCTION pinfold_iso8601`, `DROP INDEX endpoints_address`, `DROP TABLE app_attributes`,
		`ALTER TABLE segment_versions DROP COLUMN dimensions`, `ALTER TABLE segment_versions DROP COLUMN segment_groups`,
		`DELETE FROM schema_migrations WHERE version = 2`,
		`INSERT INTO endpoints (app_id, id, user_id, address, channel_type, data) VALUES ('app', 'old', 'u', 'old@example.com', 'EMAIL',
			'{"ct":"EMAIL","a":"old@example.com","at":{"plan":["gold"]},"d":{},"l":{},"m":{"visits":2},"u":"u","ua":{"plan":["x"]},"c":"7","cr":1}')`,
	)

	db = postgres.NewDB(url)
	db.MaxAttributeNames = 3
	open(t, db)
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
		u := &pinfold.EndpointUpdate{ID: "old", Attributes: pinfold.AttributesOf(map[string][]string{"new": {"x"}})}
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

// TestMigrateJobStatesBackfill opens a database whose jobs were stored before migration 0005
// recorded states and checks that each job gets its CREATED state at its creation time and,
// when it ended, its end at its completion time.
func TestMigrateJobStatesBackfill(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := pgtest.URL(t)
	db := open(t, postgres.NewDB(url))
	created := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	if err := db.CreateApp(ctx, &pinfold.App{ID: "app", Name: "a", CreatedAt: created}); err != nil {
		t.Fatal(err)
	}
	for i, id := range []string{"done", "failed", "running"} {
		job := &pinfold.ImportJob{ID: id, AppID: "app", Status: pinfold.JobCreated, CreatedAt: created.Add(time.Duration(i) * time.Minute),
			Definition: pinfold.ImportDefinition{Format: "CSV", S3URL: "s3://b/k.csv", RoleARN: "r"}}
		if err := db.CreateImportJob(ctx, job); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()

	// Back to the schema of 0004, with the jobs where the old release left them.
	rewind(t, url,
		`DROP TABLE job_states`, `DROP TRIGGER job_states_insert ON import_jobs`, `DROP TRIGGER job_states_update ON import_jobs`,
		`DROP FUNCTION pinfold_job_state`, `DELETE FROM schema_migrations WHERE version = 5`,
		`UPDATE import_jobs SET status = 'COMPLETED', completed_at = created_at + 3600000000000 WHERE id = 'done'`,
		`UPDATE import_jobs SET status = 'FAILED', completed_at = created_at + 60000000000 WHERE id = 'failed'`,
		`UPDATE import_jobs SET status = 'PROCESSING' WHERE id = 'running'`,
	)

	db = open(t, postgres.NewDB(url))
	defer db.Close()
	for _, tc := range []struct {
		job  string
		want []pinfold.JobStateChange
	}{
		{"done", []pinfold.JobStateChange{{Status: pinfold.JobCreated, At: created}, {Status: pinfold.JobCompleted, At: created.Add(time.Hour)}}},
		{"failed", []pinfold.JobStateChange{{Status: pinfold.JobCreated, At: created.Add(time.Minute)}, {Status: pinfold.JobFailed, At: created.Add(2 * time.Minute)}}},
		{"running", []pinfold.JobStateChange{{Status: pinfold.JobCreated, At: created.Add(2 * time.Minute)}}},
	} {
		states, err := db.FindImportJobStates(ctx, "app", tc.job)
		if err != nil || !slices.EqualFunc(states, tc.want, func(a, b pinfold.JobStateChange) bool { return a.Status == b.Status && a.At.Equal(b.At) }) {
			t.Fatalf("states of %s after the migration = %v, %v; want %v", tc.job, states, err, tc.want)
		}
	}
}

// TestMigrateEndpointKeysByBytes opens a database whose endpoint keys had the default
// collation before migration 0006 (and the app's ID before 0007) and checks that they compare
// by bytes afterwards and that the rebuilt indexes (the users' by hash since 0009) still find
// the endpoints by user and by address.
func TestMigrateEndpointKeysByBytes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := pgtest.URL(t)
	db := open(t, postgres.NewDB(url))
	now := time.Now()
	if err := db.CreateApp(ctx, &pinfold.App{ID: "app", Name: "a", CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	email := func(id, user, address string) *pinfold.EndpointUpdate {
		return &pinfold.EndpointUpdate{ID: id, ChannelType: new("EMAIL"), Address: new(address), UserID: new(user)}
	}
	storetest.MustWriteEndpoints(t, db, "app", now, email("e1", "Ünïcode-user", "a@example.com"), email("e2", "Ünïcode-user", "b@example.com"))
	db.Close()

	// Back to the schema of 0005, with the endpoints.
	rewind(t, url, endpointsOf0005...)
	rewind(t, url, `DELETE FROM schema_migrations WHERE version = 6`)
	if got := keyCollations(t, url); got["user_id"] == "C" {
		t.Fatalf("collations before the migration = %v", got)
	}

	db = open(t, postgres.NewDB(url))
	defer db.Close()
	if got, want := keyCollations(t, url), map[string]string{"app": "", "id": "C", "user_id": "C", "address": "C"}; !maps.Equal(got, want) {
		t.Fatalf("collations after the migration = %v, want %v", got, want)
	}
	var userIndex string
	if err := connect(t, url).QueryRow(ctx, `SELECT indexdef FROM pg_indexes WHERE indexname = 'endpoints_user'`).Scan(&userIndex); err != nil ||
		!strings.Contains(userIndex, "hashtextextended(user_id, (0)::bigint)") {
		t.Fatalf("the user index after the migrations = %q, %v; want one of the user IDs' hashes (0009)", userIndex, err)
	}
	if es, err := db.FindEndpointsByUser(ctx, "app", "Ünïcode-user"); err != nil || len(es) != 2 {
		t.Fatalf("endpoints of the user after the migration = %v, %v", es, err)
	}
	// A new endpoint with e1's address makes e1 INACTIVE: the address index was rebuilt.
	storetest.MustWriteEndpoints(t, db, "app", now, email("e3", "other", "a@example.com"))
	if e, err := db.FindEndpoint(ctx, "app", "e1"); err != nil || e.EndpointStatus != "INACTIVE" {
		t.Fatalf("e1 after e3 took its address = %+v, %v", e, err)
	}
	if e, err := db.FindEndpoint(ctx, "app", "e2"); err != nil || e.EndpointStatus != "ACTIVE" {
		t.Fatalf("e2 = %+v, %v", e, err)
	}
}

// endpointsOf0005 takes the endpoints table back to its shape before migrations 0006–0009,
// keyed by the app's ID, with the default collation and the addresses themselves indexed,
// keeping its rows. It leaves 0006 recorded as applied.
var endpointsOf0005 = []string{
	`CREATE TABLE endpoints_0005 (app_id text NOT NULL, id text COLLATE "C" NOT NULL, user_id text NOT NULL,
		address text NOT NULL, channel_type text NOT NULL, data jsonb NOT NULL, PRIMARY KEY (app_id, id))`,
	`INSERT INTO endpoints_0005 SELECT a.id, e.id, e.user_id, e.address, e.channel_type, e.data FROM endpoints e JOIN apps a ON a.seq = e.app`,
	`DROP TABLE endpoints`,
	`ALTER TABLE endpoints_0005 RENAME TO endpoints`,
	`ALTER INDEX endpoints_0005_pkey RENAME TO endpoints_pkey`,
	`CREATE INDEX endpoints_user ON endpoints (app_id, user_id) WHERE user_id <> ''`,
	`CREATE INDEX endpoints_address ON endpoints (app_id, address) WHERE address <> ''`,
	`DELETE FROM schema_migrations WHERE version IN (7, 8, 9)`,
}

// keyCollations returns the collation of each of the endpoints table's key columns.
func keyCollations(t *testing.T, url string) map[string]string {
	t.Helper()
	ctx := context.Background()
	conn := connect(t, url)
	rows, err := conn.Query(ctx, `SELECT column_name, coalesce(collation_name, '') FROM information_schema.columns
		WHERE table_name = 'endpoints' AND column_name IN ('app', 'app_id', 'id', 'user_id', 'address')`)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for rows.Next() {
		var column, collation string
		if err := rows.Scan(&column, &collation); err != nil {
			t.Fatal(err)
		}
		got[column] = collation
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return got
}

// open opens db, which applies the migrations it has not had.
func open(t *testing.T, db *postgres.DB) *postgres.DB {
	t.Helper()
	if err := db.Open(context.Background()); err != nil {
		t.Fatalf("open (and migrate): %v", err)
	}
	return db
}

// rewind takes the database at url back to an earlier schema, or to data an earlier release
// wrote, with queries.
func rewind(t *testing.T, url string, queries ...string) {
	t.Helper()
	ctx := context.Background()
	conn := connect(t, url)
	for _, q := range queries {
		if _, err := conn.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

// connect opens a connection to the database at url, closed when t ends.
func connect(t *testing.T, url string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}
