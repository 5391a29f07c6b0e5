package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/pinfold/pinfold"
	"github.com/pinfold/pinfold/internal/stored"
)

var _ pinfold.KeyStore = (*DB)(nil)

const keyColumns = `seq, id, secret, app_ids, read_only, created_at, revoked_at`

// CreateKey stores a new access key.
func (db *DB) CreateKey(ctx context.Context, key *pinfold.AccessKey) error {
	apps, err := json.Marshal(nonNilStrings(key.AppIDs))
	if err != nil {
		return err
	}
	_, err = db.exec(ctx, `INSERT INTO access_keys (id, secret, app_ids, read_only, created_at, revoked_at) VALUES (?, ?, ?, ?, ?, ?)`,
		key.ID, key.Secret, string(apps), key.ReadOnly, stored.Nanos(key.CreatedAt), stored.Nanos(key.RevokedAt))
	if err != nil {
		return fmt.Errorf("insert access key %s: %w", key.ID, err)
	}
	return nil
}

// FindKey returns an access key or ENOTFOUND.
func (db *DB) FindKey(ctx context.Context, id string) (*pinfold.AccessKey, error) {
	key, _, err := scanKey(db.read.QueryRowContext(ctx, `SELECT `+keyColumns+` FROM access_keys WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, pinfold.Errorf(pinfold.ENOTFOUND, "access key %q not found", id)
	} else if err != nil {
		return nil, fmt.Errorf("find access key: %w", err)
	}
	return key, nil
}

// FindKeys returns one page of access keys, oldest first.
func (db *DB) FindKeys(ctx context.Context, page pinfold.Page) ([]*pinfold.AccessKey, string, error) {
	after, err := stored.DecodeSeqToken("keys", page.Token)
	if err != nil {
		return nil, "", err
	}
	size := stored.PageSize(page)
	rows, err := db.read.QueryContext(ctx, `SELECT `+keyColumns+` FROM access_keys WHERE seq > ? ORDER BY seq LIMIT ?`, after, size+1)
	if err != nil {
		return nil, "", fmt.Errorf("find access keys: %w", err)
	}
	defer rows.Close()
	var keys []*pinfold.AccessKey
	var last int64
	for rows.Next() {
		if len(keys) == size {
			return keys, stored.EncodeToken("keys", fmt.Sprint(last)), nil
		}
		key, seq, err := scanKey(rows)
		if err != nil {
			return nil, "", err
		}
		keys, last = append(keys, key), seq
	}
	return keys, "", rows.Err()
}

// RevokeKey marks an access key revoked, once.
func (db *DB) RevokeKey(ctx context.Context, id string, at time.Time) (*pinfold.AccessKey, error) {
	var key *pinfold.AccessKey
	err := db.writeTx(ctx, func(tx *sql.Tx) (err error) {
		key, _, err = scanKey(tx.QueryRowContext(ctx, `UPDATE access_keys
			SET revoked_at = CASE WHEN revoked_at = 0 THEN ? ELSE revoked_at END
			WHERE id = ? RETURNING `+keyColumns, stored.Nanos(at), id))
		return err
	})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, pinfold.Errorf(pinfold.ENOTFOUND, "access key %q not found", id)
	} else if err != nil {
		return nil, fmt.Errorf("revoke access key: %w", err)
	}
	return key, nil
}

// scanKey reads a row of keyColumns.
func scanKey(row interface{ Scan(...any) error }) (*pinfold.AccessKey, int64, error) {
	var key pinfold.AccessKey
	var seq, created, revoked int64
	var apps string
	if err := row.Scan(&seq, &key.ID, &key.Secret, &apps, &key.ReadOnly, &created, &revoked); err != nil {
		return nil, 0, err
	}
	if err := json.Unmarshal([]byte(apps), &key.AppIDs); err != nil {
		return nil, 0, fmt.Errorf("access key %s apps: %w", key.ID, err)
	}
	if len(key.AppIDs) == 0 {
		key.AppIDs = nil
	}
	key.CreatedAt, key.RevokedAt = stored.FromNanos(created), stored.FromNanos(revoked)
	return &key, seq, nil
}

func nonNilStrings(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
