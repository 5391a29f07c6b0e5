package postgres

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/pinfold/pinfold"
	"github.com/pinfold/pinfold/internal/stored"
)

var _ pinfold.AppStore = (*DB)(nil)

// CreateApp stores a new app.
func (db *DB) CreateApp(ctx context.Context, app *pinfold.App) error {
	tags := app.Tags
	if tags == nil {
		tags = map[string]string{}
	}
	_, err := db.pool.Exec(ctx, `INSERT INTO apps (id, name, tags, created_at) VALUES ($1, $2, $3, $4)`,
		app.ID, app.Name, tags, stored.Nanos(app.CreatedAt))
	if err != nil {
		return fmt.Errorf("insert app: %w", err)
	}
	return nil
}

// FindAppByID returns an app or ENOTFOUND.
func (db *DB) FindAppByID(ctx context.Context, id string) (*pinfold.App, error) {
	return findApp(ctx, db.pool, id)
}

func scanApp(row pgx.Row) (*pinfold.App, int64, error) {
	var app pinfold.App
	var seq, created int64
	var tags []byte
	if err := row.Scan(&seq, &app.ID, &app.Name, &tags, &created); err != nil {
		return nil, 0, err
	}
	app.CreatedAt = stored.FromNanos(created)
	if err := json.Unmarshal(tags, &app.Tags); err != nil {
		return nil, 0, fmt.Errorf("app %s tags: %w", app.ID, err)
	}
	return &app, seq, nil
}

func findApp(ctx context.Context, q querier, id string) (*pinfold.App, error) {
	app, _, err := scanApp(q.QueryRow(ctx, `SELECT seq, id, name, tags, created_at FROM apps WHERE id = $1`, id))
	if isNoRows(err) {
		return nil, pinfold.Errorf(pinfold.ENOTFOUND, "Application %q not found", id)
	} else if err != nil {
		return nil, fmt.Errorf("find app: %w", err)
	}
	return app, nil
}

// FindApps returns one page of apps, oldest first.
func (db *DB) FindApps(ctx context.Context, page pinfold.Page) ([]*pinfold.App, string, error) {
	after, err := stored.DecodeSeqToken("apps", page.Token)
	if err != nil {
		return nil, "", err
	}
	size := stored.PageSize(page)
	rows, err := db.pool.Query(ctx, `SELECT seq, id, name, tags, created_at FROM apps WHERE seq > $1 ORDER BY seq LIMIT $2`, after, size+1)
	if err != nil {
		return nil, "", fmt.Errorf("find apps: %w", err)
	}
	defer rows.Close()
	var apps []*pinfold.App
	var last int64
	for rows.Next() {
		if len(apps) == size {
			return apps, stored.EncodeToken("apps", fmt.Sprint(last)), nil
		}
		app, seq, err := scanApp(rows)
		if err != nil {
			return nil, "", err
		}
		apps, last = append(apps, app), seq
	}
	return apps, "", rows.Err()
}

// DeleteApp removes an app and everything it owns.
func (db *DB) DeleteApp(ctx context.Context, id string) (*pinfold.App, error) {
	var app *pinfold.App
	// The app's lock first (appTx): a writer of its endpoints that holds it finishes before
	// the rows go, and one that waits for it finds no app.
	err := db.appTx(ctx, id, false, goneIsNotFound, func(tx pgx.Tx) error {
		var err error
		if app, err = findApp(ctx, tx, id); err != nil {
			return err
		}
		for _, q := range []string{
			`DELETE FROM import_failures WHERE job_id IN (SELECT id FROM import_jobs WHERE app_id = $1)`,
			`DELETE FROM import_job_members WHERE job_id IN (SELECT id FROM import_jobs WHERE app_id = $1)`,
			`DELETE FROM import_pieces WHERE app_id = $1`,
			`DELETE FROM job_states WHERE job_id IN (SELECT id FROM import_jobs WHERE app_id = $1)`,
			`DELETE FROM import_jobs WHERE app_id = $1`,
			`DELETE FROM segment_members WHERE app_id = $1`,
			`DELETE FROM segment_versions WHERE app_id = $1`,
			`DELETE FROM segments WHERE app_id = $1`,
			`DELETE FROM endpoints WHERE app = (SELECT seq FROM apps WHERE id = $1)`,
			`DELETE FROM app_attributes WHERE app_id = $1`,
			`DELETE FROM apps WHERE id = $1`,
		} {
			if _, err := tx.Exec(ctx, q, id); err != nil {
				return fmt.Errorf("delete app: %w", err)
			}
		}
		return nil
	})
	if err == nil {
		db.jobs.ForgetApp(id)
	}
	return app, err
}
