package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/pinfold/pinfold"
	"github.com/pinfold/pinfold/internal/stored"
)

var _ pinfold.AppStore = (*DB)(nil)

// CreateApp stores a new app.
func (db *DB) CreateApp(ctx context.Context, app *pinfold.App) error {
	tags, err := json.Marshal(nonNilTags(app.Tags))
	if err != nil {
		return err
	}
	_, err = db.exec(ctx, `INSERT INTO apps (id, name, tags, created_at) VALUES (?, ?, ?, ?)`,
		app.ID, app.Name, string(tags), stored.Nanos(app.CreatedAt))
	if err != nil {
		return fmt.Errorf("insert app: %w", err)
	}
	return nil
}

// FindAppByID returns an app or ENOTFOUND.
func (db *DB) FindAppByID(ctx context.Context, id string) (*pinfold.App, error) {
	return findApp(ctx, db.read, id)
}

type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

func findApp(ctx context.Context, q queryer, id string) (*pinfold.App, error) {
	var app pinfold.App
	var tags string
	var created int64
	err := q.QueryRowContext(ctx, `SELECT id, name, tags, created_at FROM apps WHERE id = ?`, id).
		Scan(&app.ID, &app.Name, &tags, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, pinfold.Errorf(pinfold.ENOTFOUND, "Application %q not found", id)
	} else if err != nil {
		return nil, fmt.Errorf("find app: %w", err)
	}
	app.CreatedAt = stored.FromNanos(created)
	if err := json.Unmarshal([]byte(tags), &app.Tags); err != nil {
		return nil, fmt.Errorf("app %s tags: %w", id, err)
	}
	return &app, nil
}

// FindApps returns one page of apps, oldest first.
func (db *DB) FindApps(ctx context.Context, page pinfold.Page) ([]*pinfold.App, string, error) {
	after, err := stored.DecodeSeqToken("apps", page.Token)
	if err != nil {
		return nil, "", err
	}
	size := stored.PageSize(page)
	rows, err := db.read.QueryContext(ctx, `SELECT seq, id, name, tags, created_at FROM apps WHERE seq > ? ORDER BY seq LIMIT ?`, after, size+1)
	if err != nil {
		return nil, "", fmt.Errorf("find apps: %w", err)
	}
	defer rows.Close()
	var apps []*pinfold.App
	var last int64
	next := ""
	for rows.Next() {
		if len(apps) == size {
			next = stored.EncodeToken("apps", fmt.Sprint(last))
			break
		}
		var app pinfold.App
		var tags string
		var created int64
		if err := rows.Scan(&last, &app.ID, &app.Name, &tags, &created); err != nil {
			return nil, "", err
		}
		app.CreatedAt = stored.FromNanos(created)
		if err := json.Unmarshal([]byte(tags), &app.Tags); err != nil {
			return nil, "", err
		}
		apps = append(apps, &app)
	}
	return apps, next, rows.Err()
}

// DeleteApp removes an app and everything it owns.
func (db *DB) DeleteApp(ctx context.Context, id string) (*pinfold.App, error) {
	var app *pinfold.App
	err := db.writeTx(ctx, func(tx *sql.Tx) error {
		var err error
		if app, err = findApp(ctx, tx, id); err != nil {
			return err
		}
		for _, q := range []string{
			`DELETE FROM import_failures WHERE job_id IN (SELECT id FROM import_jobs WHERE app_id = ?)`,
			`DELETE FROM import_job_members WHERE job_id IN (SELECT id FROM import_jobs WHERE app_id = ?)`,
			`DELETE FROM import_pieces WHERE app_id = ?`,
			`DELETE FROM job_states WHERE job_id IN (SELECT id FROM import_jobs WHERE app_id = ?)`,
			`DELETE FROM import_jobs WHERE app_id = ?`,
			`DELETE FROM segment_members WHERE app_id = ?`,
			`DELETE FROM segment_versions WHERE app_id = ?`,
			`DELETE FROM segments WHERE app_id = ?`,
			// The app's hash entries go first, a range of each table; the endpoints' delete trigger
			// then finds none to delete.
			`DELETE FROM endpoint_users WHERE app = (SELECT seq FROM apps WHERE id = ?)`,
			`DELETE FROM endpoint_users_recent WHERE app = (SELECT seq FROM apps WHERE id = ?)`,
			`DELETE FROM endpoint_addresses WHERE app = (SELECT seq FROM apps WHERE id = ?)`,
			`DELETE FROM endpoint_addresses_recent WHERE app = (SELECT seq FROM apps WHERE id = ?)`,
			`DELETE FROM endpoints WHERE app = (SELECT seq FROM apps WHERE id = ?)`,
			`DELETE FROM app_attributes WHERE app_id = ?`,
			`DELETE FROM apps WHERE id = ?`,
		} {
			if _, err := tx.ExecContext(ctx, q, id); err != nil {
				return fmt.Errorf("delete app: %w", err)
			}
		}
		// Memory only: an app's key is never used again.
		db.addresses.reset()
		db.users.reset()
		db.ids.reset()
		return nil
	})
	if err == nil {
		db.jobs.ForgetApp(id)
	}
	return app, err
}

func nonNilTags(tags map[string]string) map[string]string {
	if tags == nil {
		return map[string]string{}
	}
	return tags
}
