package postgres

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/pinfold/pinfold"
	"github.com/pinfold/pinfold/postgres/pgtest"
)

// TestDeactivatePlan checks that the INACTIVE rule's UPDATE tells the batch's own endpoints
// apart through a hashed lookup even in a generic plan (the plan a prepared statement settles
// on), not through a scan of the array of IDs for each endpoint with one of the addresses, and
// that it compares the addresses whose hashes the index finds.
func TestDeactivatePlan(t *testing.T) {
	conn := planConn(t, "force_generic_plan")
	plan := explainDeactivate(t, conn, []string{"a@example.com"}, []string{"e1"})
	if !strings.Contains(plan, "hashed SubPlan") {
		t.Fatalf("the IDs are not looked up through a hash:\n%s", plan)
	}
	// The index holds the addresses' hashes (migration 0008): two addresses with one hash must
	// not both match.
	if !strings.Contains(plan, "(address = ANY (") {
		t.Fatalf("the addresses themselves are not compared:\n%s", plan)
	}
}

// TestDeactivatePlanWithStaleStatistics checks that the plan finds the batch's addresses
// through the index on (app, hash of the address) in an app of 100,000 endpoints whose
// statistics were taken when it had 1,000, as after the first pieces of a large import: not
// through a scan of the app's endpoints, which would make every piece slower than the last.
// Both the generic plan and the custom plans a prepared statement starts with, which see the
// arrays (TestLookupPlansWithStaleStatistics).
func TestDeactivatePlanWithStaleStatistics(t *testing.T) {
	var addresses, ids []string
	for i := range 12_000 {
		addresses = append(addresses, fmt.Sprintf("new%d@example.com", i))
		ids = append(ids, fmt.Sprintf("new%d", i))
	}
	withStaleStatistics(t, func(t *testing.T, conn *pgxpool.Conn) {
		if plan := explainDeactivate(t, conn, addresses, ids); !strings.Contains(plan, "Index Scan using endpoints_address") &&
			!strings.Contains(plan, "Bitmap Index Scan on endpoints_address") {
			t.Fatalf("the addresses are not found through the index on them:\n%s", plan)
		}
	})
}

// withStaleStatistics runs check in a subtest for the custom plans and one for the generic
// plan, each on a new database filled by fillWithStaleStatistics.
func withStaleStatistics(t *testing.T, check func(t *testing.T, conn *pgxpool.Conn)) {
	for _, mode := range []string{"force_custom_plan", "force_generic_plan"} {
		t.Run(mode, func(t *testing.T) {
			conn := planConn(t, mode)
			fillWithStaleStatistics(t, conn)
			check(t, conn)
		})
	}
}

// planConn opens a new database and returns a connection to it with plan_cache_mode set to
// mode; it is released when t ends.
func planConn(t *testing.T, mode string) *pgxpool.Conn {
	t.Helper()
	ctx := context.Background()
	db := openTestDB(t)
	conn, err := db.pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(conn.Release)
	if _, err := conn.Exec(ctx, `SET plan_cache_mode = `+mode); err != nil {
		t.Fatal(err)
	}
	return conn
}

// explainDeactivate returns the plan of deactivateAddresses for app "app".
func explainDeactivate(t *testing.T, conn *pgxpool.Conn, addresses, ids []string) string {
	t.Helper()
	return explainPrepared(t, conn, "deactivate(text, text[], text[])", deactivateAddresses,
		`'app', '{`+strings.Join(addresses, ",")+`}', '{`+strings.Join(ids, ",")+`}'`)
}

// explainPrepared prepares query as statement (a name with its parameter types) and returns
// the plan of its execution with args, SQL literals: EXECUTE takes no parameters of its own.
func explainPrepared(t *testing.T, conn *pgxpool.Conn, statement, query, args string) string {
	t.Helper()
	ctx := context.Background()
	name, _, _ := strings.Cut(statement, "(")
	if _, err := conn.Exec(ctx, `PREPARE `+statement+` AS `+query); err != nil {
		t.Fatal(err)
	}
	defer conn.Exec(ctx, `DEALLOCATE `+name)
	rows, err := conn.Query(ctx, `EXPLAIN EXECUTE `+name+`(`+args+`)`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, line)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return strings.Join(plan, "\n")
}

// fillWithStaleStatistics gives app "app" 100,000 endpoints, of users u0 to u29999, with
// statistics taken when it had 1,000, as after the first pieces of a large import.
func fillWithStaleStatistics(t *testing.T, conn *pgxpool.Conn) {
	t.Helper()
	ctx := context.Background()
	if _, err := conn.Exec(ctx, `INSERT INTO apps (id, name, tags, created_at) VALUES ('app', 'a', '{}', 0)`); err != nil {
		t.Fatal(err)
	}
	insert := func(from, to int) {
		t.Helper()
		if _, err := conn.Exec(ctx, `INSERT INTO endpoints (app, id, user_id, address, channel_type, data)
			SELECT (SELECT seq FROM apps WHERE id = 'app'), md5(i::text), 'u' || (i % 30000), 'a' || md5(i::text) || '@example.com', 'EMAIL', '{"es":"ACTIVE"}'
			FROM generate_series($1::int, $2::int) i`, from, to); err != nil {
			t.Fatal(err)
		}
	}
	insert(1, 1_000)
	if _, err := conn.Exec(ctx, `ANALYZE endpoints`); err != nil {
		t.Fatal(err)
	}
	insert(1_001, 100_000)
}

// TestLookupPlansWithStaleStatistics checks that a piece's lookups of its 12,000 IDs and of
// its users' endpoints, and the lookup of one user's, descend the indexes once per element in an app whose statistics are
// stale (fillWithStaleStatistics), in the custom plans a prepared statement starts with as in
// the generic one: not through a read of every endpoint of the app, which made every piece of
// a large fresh import slower than the last.
func TestLookupPlansWithStaleStatistics(t *testing.T) {
	var ids, users []string
	for i := range 12_000 {
		ids = append(ids, fmt.Sprintf("new%d", i))
		users = append(users, fmt.Sprintf("newuser%d", i))
	}
	withStaleStatistics(t, func(t *testing.T, conn *pgxpool.Conn) {
		plan := explainPrepared(t, conn, "byid(text, text[])", endpointsByID, `'app', '{`+strings.Join(ids, ",")+`}'`)
		if !strings.Contains(plan, "endpoints_pkey") || !strings.Contains(plan, "Index Cond: ((app = $0) AND (id = ANY ($1)))") {
			t.Errorf("the IDs are not looked up in the index on (app, id):\n%s", plan)
		}
		plan = explainPrepared(t, conn, "byuser(text, text[])", membersByUser, `'app', '{`+strings.Join(users, ",")+`}'`)
		// The index holds the users' hashes (migration 0009): two users with one hash must not
		// both match.
		if !strings.Contains(plan, "endpoints_user") || !strings.Contains(plan, "Index Cond: ((app = $0) AND (hashtextextended(user_id, '0'::bigint) = ANY ($1)))") ||
			!strings.Contains(plan, "(user_id = ANY (") {
			t.Errorf("the users are not looked up in the index on (app, hash of user_id), then compared:\n%s", plan)
		}
		// And one user's endpoints, for FindEndpointsByUser and DeleteEndpointsByUser.
		plan = explainPrepared(t, conn, "oneuser(text, text)", `SELECT id FROM endpoints WHERE app = (SELECT seq FROM apps WHERE id = $1) AND `+byUser, `'app', 'newuser1'`)
		if !strings.Contains(plan, "endpoints_user") || !strings.Contains(plan, "Filter: (user_id = ") {
			t.Errorf("one user is not looked up in the index on (app, hash of user_id), then compared:\n%s", plan)
		}
	})
}

// TestLookupsPlannedEachTime checks that a piece's lookups and its INACTIVE UPDATE are never
// run from a generic plan, which a connection's prepared statement would keep from the first
// pieces of an app, when the table was small (endpointsByID): each execution is planned for
// the table as it is then.
func TestLookupsPlannedEachTime(t *testing.T) {
	ctx := context.Background()
	url := pgtest.URL(t)
	if strings.Contains(url, "?") {
		url += "&pool_max_conns=1"
	} else {
		url += "?pool_max_conns=1"
	}
	db := NewDB(url) // one connection, so that every statement runs on it
	if err := db.Open(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.CreateApp(ctx, &pinfold.App{ID: "app", Name: "a", CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	for i := range 8 { // past the five executions after which a prepared statement may go generic
		err := db.UpdateEndpoints(ctx, "app", func(tx pinfold.EndpointTx) error {
			id := fmt.Sprintf("e%d", i)
			if _, err := tx.FindEndpoints(ctx, "app", []string{id}); err != nil {
				return err
			}
			if _, err := tx.FindUserEndpoints(ctx, "app", []string{"u"}); err != nil {
				return err
			}
			return tx.PutEndpoints(ctx, []*pinfold.Endpoint{{AppID: "app", ID: id, ChannelType: "EMAIL",
				Address: id + "@example.com", EndpointStatus: "ACTIVE", User: pinfold.User{UserID: "u"}}})
		})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.FindEndpointsByID(ctx, "app", []string{"e0"}); err != nil {
			t.Fatal(err)
		}
	}
	rows, err := db.pool.Query(ctx, `SELECT statement, generic_plans FROM pg_prepared_statements`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var statement string
		var generic int64
		if err := rows.Scan(&statement, &generic); err != nil {
			t.Fatal(err)
		}
		for _, q := range []string{endpointsByID, membersByUser, deactivateAddresses} {
			if statement == q && generic > 0 {
				t.Errorf("ran %d times from a generic plan: %s", generic, q)
			}
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
}
