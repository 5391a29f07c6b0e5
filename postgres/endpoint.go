package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/pinfold/pinfold"
	"github.com/pinfold/pinfold/internal/stored"
)

var _ pinfold.EndpointStore = (*DB)(nil)

// FindEndpoint returns an endpoint or ENOTFOUND.
func (db *DB) FindEndpoint(ctx context.Context, appID, endpointID string) (*pinfold.Endpoint, error) {
	if _, err := findApp(ctx, db.pool, appID); err != nil {
		return nil, err
	}
	var data []byte
	err := db.pool.QueryRow(ctx, `SELECT data FROM endpoints WHERE app_id = $1 AND id = $2`, appID, endpointID).Scan(&data)
	if isNoRows(err) {
		return nil, pinfold.Errorf(pinfold.ENOTFOUND, "Endpoint %q not found in application %q", endpointID, appID)
	} else if err != nil {
		return nil, fmt.Errorf("find endpoint: %w", err)
	}
	return stored.DecodeEndpoint(appID, endpointID, data)
}

// pieceTx is the PieceTx of one CommitPiece transaction.
type pieceTx struct {
	tx pgx.Tx
}

func (p *pieceTx) FindEndpoints(ctx context.Context, appID string, ids []string) (map[string]*pinfold.Endpoint, error) {
	found := make(map[string]*pinfold.Endpoint, len(ids))
	rows, err := p.tx.Query(ctx, `SELECT id, data FROM endpoints WHERE app_id = $1 AND id = ANY($2)`, appID, ids)
	if err != nil {
		return nil, fmt.Errorf("find endpoints: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var data []byte
		if err := rows.Scan(&id, &data); err != nil {
			return nil, err
		}
		e, err := stored.DecodeEndpoint(appID, id, data)
		if err != nil {
			return nil, err
		}
		found[id] = e
	}
	return found, rows.Err()
}

func (p *pieceTx) FindUserEndpoints(ctx context.Context, appID string, userIDs []string) (map[string][]pinfold.Member, error) {
	rows, err := p.tx.Query(ctx, `SELECT user_id, id, channel_type FROM endpoints WHERE app_id = $1 AND user_id = ANY($2)`, appID, userIDs)
	if err != nil {
		return nil, fmt.Errorf("find user endpoints: %w", err)
	}
	defer rows.Close()
	members := map[string][]pinfold.Member{}
	for rows.Next() {
		var user string
		var m pinfold.Member
		if err := rows.Scan(&user, &m.EndpointID, &m.ChannelType); err != nil {
			return nil, err
		}
		members[user] = append(members[user], m)
	}
	return members, rows.Err()
}

// PutEndpoints is the bulk path: COPY into a temporary staging table, then one INSERT … ON
// CONFLICT. The caller passes each endpoint once, so the upsert never meets a row twice.
func (p *pieceTx) PutEndpoints(ctx context.Context, endpoints []*pinfold.Endpoint) error {
	if _, err := p.tx.Exec(ctx, `CREATE TEMPORARY TABLE IF NOT EXISTS endpoints_stage
		(app_id text, id text, user_id text, address text, channel_type text, data jsonb) ON COMMIT DELETE ROWS`); err != nil {
		return fmt.Errorf("create staging table: %w", err)
	}
	rows := make([][]any, len(endpoints))
	for i, e := range endpoints {
		data, err := stored.EncodeEndpoint(e)
		if err != nil {
			return err
		}
		rows[i] = []any{e.AppID, e.ID, e.User.UserID, e.Address, e.ChannelType, string(data)}
	}
	if _, err := p.tx.CopyFrom(ctx, pgx.Identifier{"endpoints_stage"},
		[]string{"app_id", "id", "user_id", "address", "channel_type", "data"}, pgx.CopyFromRows(rows)); err != nil {
		return fmt.Errorf("copy endpoints: %w", err)
	}
	_, err := p.tx.Exec(ctx, `INSERT INTO endpoints (app_id, id, user_id, address, channel_type, data)
		SELECT app_id, id, user_id, address, channel_type, data FROM endpoints_stage
		ON CONFLICT (app_id, id) DO UPDATE SET user_id = excluded.user_id, address = excluded.address,
		channel_type = excluded.channel_type, data = excluded.data`)
	if err != nil {
		return fmt.Errorf("upsert endpoints: %w", err)
	}
	_, err = p.tx.Exec(ctx, `TRUNCATE endpoints_stage`)
	return err
}

func (p *pieceTx) AddJobMembers(ctx context.Context, jobID string, members []pinfold.Member) error {
	ids := make([]string, len(members))
	channels := make([]string, len(members))
	for i, m := range members {
		ids[i], channels[i] = m.EndpointID, m.ChannelType
	}
	// DISTINCT ON keeps one row per endpoint, so the upsert never meets a row twice.
	_, err := p.tx.Exec(ctx, `INSERT INTO import_job_members (job_id, endpoint_id, channel_type)
		SELECT DISTINCT ON (id) $1, id, ch FROM unnest($2::text[], $3::text[]) WITH ORDINALITY AS m(id, ch, n) ORDER BY id, n DESC
		ON CONFLICT (job_id, endpoint_id) DO UPDATE SET channel_type = excluded.channel_type`, jobID, ids, channels)
	if err != nil {
		return fmt.Errorf("add job members: %w", err)
	}
	return nil
}
