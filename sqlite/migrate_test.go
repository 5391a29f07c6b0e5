package sqlite_test

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pinfold/pinfold"
	"github.com/pinfold/pinfold/sqlite"
)

// before0007 takes a database back to the endpoints table of migrations 0005 and 0006, which
// named the app by its ID, and marks 0007, 0009 (which builds on it) and 0010 not applied.
var before0007 = []string{
	`DROP TABLE endpoints`,
	`CREATE TABLE endpoints (rid INTEGER PRIMARY KEY, app_id TEXT NOT NULL, id TEXT NOT NULL, user_id TEXT NOT NULL,
		address TEXT NOT NULL, channel_type TEXT NOT NULL, data BLOB NOT NULL)`,
	`CREATE UNIQUE INDEX endpoints_key ON endpoints (app_id, id)`,
	`CREATE INDEX endpoints_user ON endpoints (app_id, user_id) WHERE user_id <> ''`,
	`CREATE INDEX endpoints_address ON endpoints (app_id, address) WHERE address <> ''`,
	`DELETE FROM schema_migrations WHERE version = 7`,
	`DROP TABLE endpoint_users`, `DROP TABLE endpoint_addresses`, // the triggers went with endpoints
	`DROP TABLE endpoint_users_recent`, `DROP TABLE endpoint_addresses_recent`,
	`DELETE FROM schema_migrations WHERE version IN (9, 10)`,
}

// olderDatabase makes a database with what setup writes through the store, then takes it back
// to an older schema with back, on a plain connection. It returns the database's path: opening
// it applies the migrations back undid.
func olderDatabase(t *testing.T, setup func(db *sqlite.DB), back func(raw *sql.DB)) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "pinfold.db")
	db := sqlite.NewDB(path)
	if err := db.Open(); err != nil {
		t.Fatal(err)
	}
	setup(db)
	db.Close()
	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	back(raw)
	return path
}

// mustExec runs each of queries on raw.
func mustExec(t *testing.T, raw *sql.DB, queries ...string) {
	t.Helper()
	for _, q := range queries {
		if _, err := raw.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

// mustMigrate opens db, applying the migrations it has not had; it is closed when
// t ends, after CheckHashTables.
func mustMigrate(t *testing.T, db *sqlite.DB) *sqlite.DB {
	t.Helper()
	if err := db.Open(); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	t.Cleanup(func() { sqlite.CheckHashTables(t, db.Path) })
	return db
}

// createApps is a setup for olderDatabase.
func createApps(t *testing.T, ids ...string) func(db *sqlite.DB) {
	return func(db *sqlite.DB) {
		t.Helper()
		for _, id := range ids {
			if err := db.CreateApp(context.Background(), &pinfold.App{ID: id, Name: id, CreatedAt: time.Now()}); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// updateEndpoint applies one update through the writer the API uses.
func updateEndpoint(db *sqlite.DB, appID string, u *pinfold.EndpointUpdate) error {
	ctx := context.Background()
	return db.UpdateEndpoints(ctx, appID, func(tx pinfold.EndpointTx) error {
		w, err := pinfold.NewEndpointWriter(ctx, tx, appID, []*pinfold.EndpointUpdate{u}, time.Now())
		if err != nil {
			return err
		}
		if err := w.Apply(u); err != nil {
			return err
		}
		return w.Commit(ctx)
	})
}

// TestMigrateEndpointsWrittenBefore0002 opens a database whose endpoints were written before
// migration 0002 (as BLOBs, with no attribute names recorded) and checks that 0002 makes them
// readable to the JSON functions and counts their names against the app's quota.
func TestMigrateEndpointsWrittenBefore0002(t *testing.T) {
	ctx := context.Background()
	// Back to the schema of 0001, with an endpoint as the first release wrote it.
	path := olderDatabase(t, createApps(t, "app"), func(raw *sql.DB) {
		mustExec(t, raw, append(slices.Clone(before0007),
			`DROP INDEX endpoints_address`, `DROP TABLE app_attributes`,
			`ALTER TABLE segment_versions DROP COLUMN dimensions`, `ALTER TABLE segment_versions DROP COLUMN segment_groups`,
			`DELETE FROM schema_migrations WHERE version = 2`,
			`INSERT INTO endpoints (app_id, id, user_id, address, channel_type, data) VALUES ('app', 'old', '', 'old@example.com', 'EMAIL',
				CAST('{"ct":"EMAIL","a":"old@example.com","at":{"plan":["gold"]},"d":{},"l":{},"m":{"visits":2},"c":"7","cr":1}' AS BLOB))`,
		)...)
	})
	db := sqlite.NewDB(path)
	db.MaxAttributeNames = 2
	mustMigrate(t, db)
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
	err = updateEndpoint(db, "app", &pinfold.EndpointUpdate{ID: "old", Attributes: pinfold.AttributesOf(map[string][]string{"new": {"x"}})})
	if pinfold.ErrorCode(err) != pinfold.EINVALID || !strings.Contains(pinfold.ErrorMessage(err), "at most 2") {
		t.Fatalf("a third name after the migration counted plan and visits: %v", err)
	}
}

// TestMigrateEndpointsToRowidTable opens a database whose endpoints are in the WITHOUT ROWID
// table of migrations 0001–0004 and checks that 0005 moves every one of them, that the key is
// still unique (an upsert updates, not duplicates) and that the user and address indexes
// answer as before.
func TestMigrateEndpointsToRowidTable(t *testing.T) {
	ctx := context.Background()
	path := olderDatabase(t, createApps(t, "app"), func(raw *sql.DB) {
		mustExec(t, raw,
			`DROP TABLE endpoints`,
			`CREATE TABLE endpoints (app_id TEXT NOT NULL, id TEXT NOT NULL, user_id TEXT NOT NULL, address TEXT NOT NULL,
			channel_type TEXT NOT NULL, data BLOB NOT NULL, PRIMARY KEY (app_id, id)) WITHOUT ROWID`,
			`CREATE INDEX endpoints_user ON endpoints (app_id, user_id) WHERE user_id <> ''`,
			`CREATE INDEX endpoints_address ON endpoints (app_id, address) WHERE address <> ''`,
			`DROP TABLE endpoint_users`, `DROP TABLE endpoint_addresses`,
			`DROP TABLE endpoint_users_recent`, `DROP TABLE endpoint_addresses_recent`,
			`DELETE FROM schema_migrations WHERE version IN (5, 7, 9, 10)`,
		)
		for i, id := range []string{"b", "a", "c"} {
			doc := `{"ct":"EMAIL","a":"` + id + `@example.com","d":{},"l":{},"u":"u1","c":"` + string(rune('1'+i)) + `","cr":1}`
			if _, err := raw.Exec(`INSERT INTO endpoints (app_id, id, user_id, address, channel_type, data) VALUES ('app', ?, 'u1', ?, 'EMAIL', ?)`,
				id, id+"@example.com", doc); err != nil {
				t.Fatal(err)
			}
		}
	})
	db := mustMigrate(t, sqlite.NewDB(path))
	ids, _, err := db.FindEndpointIDs(ctx, "app", pinfold.Page{})
	if err != nil || !slices.Equal(ids, []string{"a", "b", "c"}) {
		t.Fatalf("endpoints after the migration = %v, %v", ids, err)
	}
	if es, err := db.FindEndpointsByUser(ctx, "app", "u1"); err != nil || len(es) != 3 {
		t.Fatalf("user endpoints after the migration = %d, %v", len(es), err)
	}
	// b takes a's address: a becomes INACTIVE through the address index, and b is updated
	// in place through the unique key.
	address := "a@example.com"
	if err := updateEndpoint(db, "app", &pinfold.EndpointUpdate{ID: "b", Address: &address}); err != nil {
		t.Fatal(err)
	}
	if ids, _, err := db.FindEndpointIDs(ctx, "app", pinfold.Page{}); err != nil || len(ids) != 3 {
		t.Fatalf("endpoints after an update = %v, %v", ids, err)
	}
	a, err := db.FindEndpoint(ctx, "app", "a")
	if err != nil || a.EndpointStatus != "INACTIVE" {
		t.Fatalf("a after b took its address: %+v, %v", a, err)
	}
	b, err := db.FindEndpoint(ctx, "app", "b")
	if err != nil || b.Address != "a@example.com" || b.CohortID != "1" {
		t.Fatalf("b after its update: %+v, %v", b, err)
	}
}

// TestMigrateJobStatesBackfill opens a database whose jobs were stored before migration 0006
// recorded states and checks that each job gets its CREATED state at its creation time and,
// when it ended, its end at its completion time; and that changes after the migration are
// recorded.
func TestMigrateJobStatesBackfill(t *testing.T) {
	ctx := context.Background()
	created := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	path := olderDatabase(t, func(db *sqlite.DB) {
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
	}, func(raw *sql.DB) {
		// Back to the schema of 0005, with the jobs where the old release left them.
		mustExec(t, raw,
			`DROP TRIGGER job_states_insert`, `DROP TRIGGER job_states_update`, `DROP TABLE job_states`,
			`DELETE FROM schema_migrations WHERE version = 6`,
			`UPDATE import_jobs SET status = 'COMPLETED', completed_at = created_at + 3600000000000 WHERE id = 'done'`,
			`UPDATE import_jobs SET status = 'FAILED', completed_at = created_at + 60000000000 WHERE id = 'failed'`,
			`UPDATE import_jobs SET status = 'PROCESSING' WHERE id = 'running'`,
		)
	})
	db := mustMigrate(t, sqlite.NewDB(path))
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
	if err := db.FailImportJob(ctx, "running", "stopped", created.Add(3*time.Minute)); err != nil {
		t.Fatal(err)
	}
	states, err := db.FindImportJobStates(ctx, "app", "running")
	if err != nil || len(states) != 2 || states[1].Status != pinfold.JobFailed || !states[1].At.Equal(created.Add(3*time.Minute)) {
		t.Fatalf("states of a job that ended after the migration = %v, %v", states, err)
	}
}

// TestMigrateEndpointsToAppKey opens a database whose endpoints name their app by its ID
// (migrations 0005–0006) and checks that 0007 keeps every endpoint of every app under the
// app's integer key, drops those of an app that no longer exists, and that lookups, the
// unique key, the user and address indexes and DeleteApp work on what it moved.
func TestMigrateEndpointsToAppKey(t *testing.T) {
	ctx := context.Background()
	path := olderDatabase(t, createApps(t, "one", "two"), func(raw *sql.DB) {
		mustExec(t, raw, before0007...)
		for _, e := range [][2]string{{"one", "b"}, {"two", "b"}, {"one", "a"}, {"gone", "z"}, {"two", "c"}} {
			doc := `{"ct":"EMAIL","a":"` + e[1] + `@example.com","d":{},"l":{},"u":"u1","c":"1","cr":1}`
			if _, err := raw.Exec(`INSERT INTO endpoints (app_id, id, user_id, address, channel_type, data) VALUES (?, ?, 'u1', ?, 'EMAIL', ?)`,
				e[0], e[1], e[1]+"@example.com", doc); err != nil {
				t.Fatal(err)
			}
		}
	})
	db := mustMigrate(t, sqlite.NewDB(path))
	for app, want := range map[string][]string{"one": {"a", "b"}, "two": {"b", "c"}} {
		if ids, _, err := db.FindEndpointIDs(ctx, app, pinfold.Page{}); err != nil || !slices.Equal(ids, want) {
			t.Fatalf("endpoints of %s after the migration = %v, %v; want %v", app, ids, err, want)
		}
		if es, err := db.FindEndpointsByUser(ctx, app, "u1"); err != nil || len(es) != 2 {
			t.Fatalf("user endpoints of %s after the migration = %d, %v", app, len(es), err)
		}
	}
	check, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer check.Close()
	var orphans int
	if err := check.QueryRowContext(ctx, `SELECT count(*) FROM endpoints WHERE app NOT IN (SELECT seq FROM apps)`).Scan(&orphans); err != nil || orphans != 0 {
		t.Fatalf("endpoints of no app after the migration: %d, %v", orphans, err)
	}
	// In app one, b takes a's address: a becomes INACTIVE, b is updated in place, and app
	// two's b (same ID, other app) is untouched.
	address := "a@example.com"
	if err := updateEndpoint(db, "one", &pinfold.EndpointUpdate{ID: "b", Address: &address}); err != nil {
		t.Fatal(err)
	}
	if a, err := db.FindEndpoint(ctx, "one", "a"); err != nil || a.EndpointStatus != "INACTIVE" {
		t.Fatalf("a after b took its address: %+v, %v", a, err)
	}
	if b, err := db.FindEndpoint(ctx, "one", "b"); err != nil || b.Address != "a@example.com" {
		t.Fatalf("one's b after its update: %+v, %v", b, err)
	}
	if b, err := db.FindEndpoint(ctx, "two", "b"); err != nil || b.Address != "b@example.com" {
		t.Fatalf("two's b after one's b changed: %+v, %v", b, err)
	}
	if ids, _, err := db.FindEndpointIDs(ctx, "one", pinfold.Page{}); err != nil || len(ids) != 2 {
		t.Fatalf("endpoints of one after an update = %v, %v", ids, err)
	}
	if _, err := db.DeleteApp(ctx, "one"); err != nil {
		t.Fatal(err)
	}
	if ids, _, err := db.FindEndpointIDs(ctx, "two", pinfold.Page{}); err != nil || !slices.Equal(ids, []string{"b", "c"}) {
		t.Fatalf("endpoints of two after one was deleted = %v, %v", ids, err)
	}
	var left int
	if err := check.QueryRowContext(ctx, `SELECT count(*) FROM endpoints`).Scan(&left); err != nil || left != 2 {
		t.Fatalf("endpoints after one was deleted: %d, %v", left, err)
	}
}

// TestMigrateJobMembersToLog opens a database whose running job found segment members before
// migration 0008, when they were kept by (job, endpoint), and checks that 0008 carries them
// over and that the job's segment, once it completes, has them and those added after, with
// the channel added last for an endpoint added twice.
func TestMigrateJobMembersToLog(t *testing.T) {
	ctx := context.Background()
	now := time.Now()
	commitPiece := func(db *sqlite.DB, members ...pinfold.Member) {
		t.Helper()
		p, _, err := db.ClaimPiece(ctx, "n", now, now.Add(time.Hour))
		if err != nil || p == nil {
			t.Fatalf("claim piece: %+v %v", p, err)
		}
		err = db.CommitPiece(ctx, p, "n", func(tx pinfold.PieceTx) (*pinfold.PieceOutcome, error) {
			return &pinfold.PieceOutcome{Processed: int64(len(members))}, tx.AddJobMembers(ctx, "j", members)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	path := olderDatabase(t, func(db *sqlite.DB) {
		createApps(t, "app")(db)
		sqlite.StartImportJob(t, db, &pinfold.ImportJob{ID: "j", AppID: "app", Status: pinfold.JobCreated, CreatedAt: now,
			Definition: pinfold.ImportDefinition{Format: "CSV", S3URL: "s3://b/k.csv", RoleARN: "r", DefineSegment: true, SegmentID: "seg", SegmentName: "s"}})
		if err := db.PlanImportJob(ctx, "j", []*pinfold.Piece{{No: 0, AppID: "app", Bucket: "b", Key: "k", End: 10, FirstLine: 1},
			{No: 1, AppID: "app", Bucket: "b", Key: "k", Start: 10, End: 20, FirstLine: 2}}); err != nil {
			t.Fatal(err)
		}
		commitPiece(db, pinfold.Member{EndpointID: "e1", ChannelType: "EMAIL"}, pinfold.Member{EndpointID: "e2", ChannelType: "SMS"})
	}, func(raw *sql.DB) {
		mustExec(t, raw,
			`CREATE TABLE members_0001 (job_id TEXT NOT NULL, endpoint_id TEXT NOT NULL, channel_type TEXT NOT NULL,
				PRIMARY KEY (job_id, endpoint_id)) WITHOUT ROWID`,
			`INSERT INTO members_0001 SELECT job_id, endpoint_id, channel_type FROM import_job_members`,
			`DROP TABLE import_job_members`,
			`ALTER TABLE members_0001 RENAME TO import_job_members`,
			`DELETE FROM schema_migrations WHERE version = 8`,
		)
	})
	db := mustMigrate(t, sqlite.NewDB(path))
	commitPiece(db, pinfold.Member{EndpointID: "e2", ChannelType: "EMAIL"}, pinfold.Member{EndpointID: "e3", ChannelType: "SMS"})
	if ended, err := db.FinishImportJob(ctx, "j", now); !ended || err != nil {
		t.Fatalf("finish: %v %v", ended, err)
	}
	seg, err := db.FindSegment(ctx, "app", "seg")
	if err != nil {
		t.Fatal(err)
	}
	if seg.Import == nil || seg.Import.Size != 3 || seg.Import.ChannelCounts["EMAIL"] != 2 || seg.Import.ChannelCounts["SMS"] != 1 {
		t.Fatalf("segment after the migration = %+v", seg.Import)
	}
}

// TestMigrateEndpointHashesToTables opens a database whose endpoint indexes on the user's and
// the address's hash are SQLite indexes (migrations 0007–0008) and checks that 0009 moves
// their entries into tables of their own, which then answer lookups by user, the INACTIVE
// rule and deletes of a user's endpoints, and follow updates and deletes.
func TestMigrateEndpointHashesToTables(t *testing.T) {
	ctx := context.Background()
	path := olderDatabase(t, func(db *sqlite.DB) {
		createApps(t, "one", "two")(db)
		for _, app := range []string{"one", "two"} {
			for _, id := range []string{"a", "b", "c"} {
				address, channel, user := id+"@example.com", "EMAIL", "u1"
				if err := updateEndpoint(db, app, &pinfold.EndpointUpdate{ID: id, ChannelType: &channel, Address: &address,
					UserID: &user}); err != nil {
					t.Fatal(err)
				}
			}
		}
	}, func(raw *sql.DB) {
		mustExec(t, raw,
			`DROP TRIGGER endpoints_user_hash`, `DROP TRIGGER endpoints_address_hash`, `DROP TRIGGER endpoints_hashes_delete`,
			`DROP TABLE endpoint_users`, `DROP TABLE endpoint_addresses`,
			`DROP TABLE endpoint_users_recent`, `DROP TABLE endpoint_addresses_recent`,
			`CREATE INDEX endpoints_user ON endpoints (app, user_hash) WHERE user_hash IS NOT NULL`,
			`CREATE INDEX endpoints_address ON endpoints (app, address_hash) WHERE address_hash IS NOT NULL`,
			`DELETE FROM schema_migrations WHERE version IN (9, 10)`,
		)
	})
	db := mustMigrate(t, sqlite.NewDB(path))
	for _, app := range []string{"one", "two"} {
		if es, err := db.FindEndpointsByUser(ctx, app, "u1"); err != nil || len(es) != 3 {
			t.Fatalf("user endpoints of %s after the migration = %d, %v", app, len(es), err)
		}
	}
	// In app one, b takes a's address (a becomes INACTIVE) and c moves to another user.
	address := "a@example.com"
	if err := updateEndpoint(db, "one", &pinfold.EndpointUpdate{ID: "b", Address: &address}); err != nil {
		t.Fatal(err)
	}
	if a, err := db.FindEndpoint(ctx, "one", "a"); err != nil || a.EndpointStatus != "INACTIVE" {
		t.Fatalf("a after b took its address: %+v, %v", a, err)
	}
	u2 := "u2"
	if err := updateEndpoint(db, "one", &pinfold.EndpointUpdate{ID: "c", UserID: &u2}); err != nil {
		t.Fatal(err)
	}
	if es, err := db.FindEndpointsByUser(ctx, "one", "u2"); err != nil || len(es) != 1 || es[0].ID != "c" {
		t.Fatalf("u2's endpoints after c moved to u2: %v, %v", es, err)
	}
	deleted, err := db.DeleteEndpointsByUser(ctx, "one", "u1")
	if err != nil || len(deleted) != 2 || deleted[0].ID != "a" || deleted[1].ID != "b" {
		t.Fatalf("u1's endpoints deleted from one: %v, %v", deleted, err)
	}
	if _, err := db.FindEndpointsByUser(ctx, "one", "u1"); pinfold.ErrorCode(err) != pinfold.ENOTFOUND {
		t.Fatalf("u1's endpoints in one after they were deleted: %v", err)
	}
	if es, err := db.FindEndpointsByUser(ctx, "two", "u1"); err != nil || len(es) != 3 {
		t.Fatalf("u1's endpoints in two after one's were deleted = %d, %v", len(es), err)
	}
	if _, err := db.DeleteApp(ctx, "one"); err != nil {
		t.Fatal(err)
	}
	check, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer check.Close()
	var users, addresses int
	if err := check.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM endpoint_users) + (SELECT count(*) FROM endpoint_users_recent),
		(SELECT count(*) FROM endpoint_addresses) + (SELECT count(*) FROM endpoint_addresses_recent)`).Scan(&users, &addresses); err != nil || users != 3 || addresses != 3 {
		t.Fatalf("hash entries after one was deleted: %d users, %d addresses, %v; want two's 3 and 3", users, addresses, err)
	}
}

// TestMigrateHashTiersApart takes a database back to the hash tables of migration 0009, one
// table each with a tier column and entries in both tiers, and checks that 0010 moves every
// entry into the tier-0 table, leaves the tier-1 tables empty, and that lookups, the INACTIVE
// rule and the triggers work on the tables apart.
func TestMigrateHashTiersApart(t *testing.T) {
	ctx := context.Background()
	const n = 40
	path := olderDatabase(t, func(db *sqlite.DB) {
		createApps(t, "app")(db)
		for i := range n {
			id, address, channel, user := fmt.Sprintf("e%02d", i), fmt.Sprintf("e%02d@example.com", i), "EMAIL", fmt.Sprintf("u%d", i%10)
			if err := updateEndpoint(db, "app", &pinfold.EndpointUpdate{ID: id, ChannelType: &channel, Address: &address, UserID: &user}); err != nil {
				t.Fatal(err)
			}
		}
	}, func(raw *sql.DB) {
		back := []string{`DROP TRIGGER endpoints_user_hash`, `DROP TRIGGER endpoints_address_hash`, `DROP TRIGGER endpoints_hashes_delete`}
		for _, table := range []string{"endpoint_users", "endpoint_addresses"} {
			back = append(back,
				`CREATE TABLE old (tier INTEGER NOT NULL, app INTEGER NOT NULL, hash INTEGER NOT NULL, rid INTEGER NOT NULL,
				PRIMARY KEY (tier, app, hash, rid)) WITHOUT ROWID`,
				// Every other entry in each tier.
				`INSERT INTO old SELECT rid % 2, app, hash, rid FROM (SELECT * FROM `+table+` UNION ALL SELECT * FROM `+table+`_recent)`,
				`DROP TABLE `+table, `DROP TABLE `+table+`_recent`,
				`ALTER TABLE old RENAME TO `+table)
		}
		mustExec(t, raw, append(back, `DELETE FROM schema_migrations WHERE version = 10`)...)
		var tier0, tier1 int
		if err := raw.QueryRow(`SELECT count(*) FILTER (WHERE tier = 0), count(*) FILTER (WHERE tier = 1) FROM endpoint_users`).Scan(&tier0, &tier1); err != nil ||
			tier0 == 0 || tier1 == 0 || tier0+tier1 != n {
			t.Fatalf("user entries before 0010: %d in tier 0, %d in tier 1, %v", tier0, tier1, err)
		}
	})
	db := mustMigrate(t, sqlite.NewDB(path))
	check, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer check.Close()
	var users, usersRecent, addresses, addressesRecent int
	if err := check.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM endpoint_users), (SELECT count(*) FROM endpoint_users_recent),
		(SELECT count(*) FROM endpoint_addresses), (SELECT count(*) FROM endpoint_addresses_recent)`).Scan(&users, &usersRecent, &addresses, &addressesRecent); err != nil ||
		users != n || usersRecent != 0 || addresses != n || addressesRecent != 0 {
		t.Fatalf("after 0010: %d and %d user entries, %d and %d address entries, %v; want %d in tier 0 of each", users, usersRecent, addresses, addressesRecent, err, n)
	}
	for u := range 10 {
		if es, err := db.FindEndpointsByUser(ctx, "app", fmt.Sprintf("u%d", u)); err != nil || len(es) != n/10 {
			t.Fatalf("u%d's endpoints after 0010 = %d, %v; want %d", u, len(es), err, n/10)
		}
	}
	// e01 takes e00's address (their entries were in different tiers before 0010): e00 becomes INACTIVE.
	address := "e00@example.com"
	if err := updateEndpoint(db, "app", &pinfold.EndpointUpdate{ID: "e01", Address: &address}); err != nil {
		t.Fatal(err)
	}
	if e, err := db.FindEndpoint(ctx, "app", "e00"); err != nil || e.EndpointStatus != "INACTIVE" {
		t.Fatalf("e00 after e01 took its address: %+v, %v", e, err)
	}
	// e02 moves to user u9 (the update trigger), and u1's endpoints are deleted (the delete trigger).
	u9 := "u9"
	if err := updateEndpoint(db, "app", &pinfold.EndpointUpdate{ID: "e02", UserID: &u9}); err != nil {
		t.Fatal(err)
	}
	if es, err := db.FindEndpointsByUser(ctx, "app", "u9"); err != nil || len(es) != n/10+1 {
		t.Fatalf("u9's endpoints after e02 moved to u9 = %d, %v", len(es), err)
	}
	if deleted, err := db.DeleteEndpointsByUser(ctx, "app", "u1"); err != nil || len(deleted) != n/10 {
		t.Fatalf("u1's endpoints deleted = %d, %v", len(deleted), err)
	}
	// mustMigrate's CheckHashTables then finds the tables exact.
}
