package sqlite

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
)

// TestQueryPlans checks that the lookups a request makes by a user go through the index on the
// user, not through the app's whole key index.
func TestQueryPlans(t *testing.T) {
	db := NewDB(filepath.Join(t.TempDir(), "pinfold.db"))
	if err := db.Open(); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, q := range []string{findUserEndpoints} {
		rows, err := db.read.QueryContext(context.Background(), "EXPLAIN QUERY PLAN "+q, "app", "user")
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		if !strings.Contains(plan[0], "INDEX endpoints_user (app=? AND user_id=?)") {
			t.Errorf("plan of %s:\n%s", q, strings.Join(plan, "\n"))
		}
	}
}
