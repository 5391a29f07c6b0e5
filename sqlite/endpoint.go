package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/pinfold/pinfold"
	"github.com/pinfold/pinfold/internal/stored"
)

var _ pinfold.EndpointStore = (*DB)(nil)

// FindEndpoint returns an endpoint or ENOTFOUND.
func (db *DB) FindEndpoint(ctx context.Context, appID, endpointID string) (*pinfold.Endpoint, error) {
	if _, err := findApp(ctx, db.read, appID); err != nil {
		return nil, err
	}
	var data []byte
	err := db.read.QueryRowContext(ctx, `SELECT data FROM endpoints WHERE app_id = ? AND id = ?`, appID, endpointID).Scan(&data)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, pinfold.Errorf(pinfold.ENOTFOUND, "Endpoint %q not found in application %q", endpointID, appID)
	} else if err != nil {
		return nil, fmt.Errorf("find endpoint: %w", err)
	}
	return stored.DecodeEndpoint(appID, endpointID, data)
}

// pieceTx is the PieceTx of one CommitPiece transaction.
type pieceTx struct {
	tx *sql.Tx
}

// SQLite allows 32766 parameters in a statement; lookups go in chunks well below that.
const lookupChunk = 500

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?,", n), ",")
}

func (p *pieceTx) FindEndpoints(ctx context.Context, appID string, ids []string) (map[string]*pinfold.Endpoint, error) {
	found := make(map[string]*pinfold.Endpoint, len(ids))
	for len(ids) > 0 {
		chunk := ids[:min(len(ids), lookupChunk)]
		ids = ids[len(chunk):]
		args := []any{appID}
		for _, id := range chunk {
			args = append(args, id)
		}
		rows, err := p.tx.QueryContext(ctx, `SELECT id, data FROM endpoints WHERE app_id = ? AND id IN (`+placeholders(len(chunk))+`)`, args...)
		if err != nil {
			return nil, fmt.Errorf("find endpoints: %w", err)
		}
		for rows.Next() {
			var id string
			var data []byte
			if err := rows.Scan(&id, &data); err != nil {
				rows.Close()
				return nil, err
			}
			e, err := stored.DecodeEndpoint(appID, id, data)
			if err != nil {
				rows.Close()
				return nil, err
			}
			found[id] = e
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return found, nil
}

func (p *pieceTx) FindUserEndpoints(ctx context.Context, appID string, userIDs []string) (map[string][]pinfold.Member, error) {
	members := map[string][]pinfold.Member{}
	for len(userIDs) > 0 {
		chunk := userIDs[:min(len(userIDs), lookupChunk)]
		userIDs = userIDs[len(chunk):]
		args := []any{appID}
		for _, id := range chunk {
			args = append(args, id)
		}
		rows, err := p.tx.QueryContext(ctx, `SELECT user_id, id, channel_type FROM endpoints WHERE app_id = ? AND user_id IN (`+placeholders(len(chunk))+`)`, args...)
		if err != nil {
			return nil, fmt.Errorf("find user endpoints: %w", err)
		}
		for rows.Next() {
			var user string
			var m pinfold.Member
			if err := rows.Scan(&user, &m.EndpointID, &m.ChannelType); err != nil {
				rows.Close()
				return nil, err
			}
			members[user] = append(members[user], m)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return members, nil
}

func (p *pieceTx) PutEndpoints(ctx context.Context, endpoints []*pinfold.Endpoint) error {
	stmt, err := p.tx.PrepareContext(ctx, `INSERT INTO endpoints (app_id, id, user_id, address, channel_type, data) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (app_id, id) DO UPDATE SET user_id = excluded.user_id, address = excluded.address,
		channel_type = excluded.channel_type, data = excluded.data`)
	if err != nil {
		return fmt.Errorf("prepare endpoint upsert: %w", err)
	}
	defer stmt.Close()
	for _, e := range endpoints {
		data, err := stored.EncodeEndpoint(e)
		if err != nil {
			return err
		}
		if _, err := stmt.ExecContext(ctx, e.AppID, e.ID, e.User.UserID, e.Address, e.ChannelType, data); err != nil {
			return fmt.Errorf("upsert endpoint %s: %w", e.ID, err)
		}
	}
	return nil
}

func (p *pieceTx) AddJobMembers(ctx context.Context, jobID string, members []pinfold.Member) error {
	stmt, err := p.tx.PrepareContext(ctx, `INSERT INTO import_job_members (job_id, endpoint_id, channel_type) VALUES (?, ?, ?)
		ON CONFLICT (job_id, endpoint_id) DO UPDATE SET channel_type = excluded.channel_type`)
	if err != nil {
		return fmt.Errorf("prepare job members: %w", err)
	}
	defer stmt.Close()
	for _, m := range members {
		if _, err := stmt.ExecContext(ctx, jobID, m.EndpointID, m.ChannelType); err != nil {
			return fmt.Errorf("add job member: %w", err)
		}
	}
	return nil
}
