package postgres

import (
	"context"
	"strings"
	"testing"

	"github.com/pinfold/pinfold/postgres/pgtest"
)

// TestDeactivatePlan checks that the INACTIVE rule's UPDATE tells the batch's own endpoints
// apart through a hashed lookup even in a generic plan (the plan a prepared statement settles
// on), not through a scan of the array of IDs for each endpoint with one of the addresses.
func TestDeactivatePlan(t *testing.T) {
	ctx := context.Background()
	db := NewDB(pgtest.URL(t))
	if err := db.Open(ctx); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	conn, err := db.pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	for _, q := range []string{
		`SET plan_cache_mode = force_generic_plan`,
		`PREPARE deactivate(text, text[], text[]) AS ` + deactivateAddresses,
	} {
		if _, err := conn.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	defer conn.Exec(ctx, `DEALLOCATE deactivate; RESET plan_cache_mode`)
	rows, err := conn.Query(ctx, `EXPLAIN EXECUTE deactivate('app', '{a@example.com}', '{e1}')`)
	if err != nil {
		t.Fatal(err)
	}
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
	if text := strings.Join(plan, "\n"); !strings.Contains(text, "hashed SubPlan") {
		t.Fatalf("the IDs are not looked up through a hash:\n%s", text)
	}
}
