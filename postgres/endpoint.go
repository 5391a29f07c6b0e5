package postgres

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

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
	err := db.pool.QueryRow(ctx, `SELECT data FROM endpoints WHERE app = (SELECT seq FROM apps WHERE id = $1) AND id = $2`, appID, endpointID).Scan(&data)
	if isNoRows(err) {
		return nil, pinfold.Errorf(pinfold.ENOTFOUND, "Endpoint %q not found in application %q", endpointID, appID)
	} else if err != nil {
		return nil, fmt.Errorf("find endpoint: %w", err)
	}
	return stored.DecodeEndpoint(appID, endpointID, data)
}

// UpdateEndpoints runs fn in one transaction that holds the app's lock.
func (db *DB) UpdateEndpoints(ctx context.Context, appID string, fn func(tx pinfold.EndpointTx) error) error {
	return db.appTx(ctx, appID, false, goneIsNotFound, func(tx pgx.Tx) error {
		return fn(&endpointTx{tx: tx, db: db, app: appID})
	})
}

// DeleteEndpoint removes an endpoint and returns it as it was.
func (db *DB) DeleteEndpoint(ctx context.Context, appID, endpointID string) (*pinfold.Endpoint, error) {
	var e *pinfold.Endpoint
	err := db.appTx(ctx, appID, false, goneIsNotFound, func(tx pgx.Tx) error {
		var data []byte
		err := tx.QueryRow(ctx, `DELETE FROM endpoints WHERE app = (SELECT seq FROM apps WHERE id = $1) AND id = $2 RETURNING data`, appID, endpointID).Scan(&data)
		if isNoRows(err) {
			return pinfold.Errorf(pinfold.ENOTFOUND, "Endpoint %q not found in application %q", endpointID, appID)
		} else if err != nil {
			return fmt.Errorf("delete endpoint: %w", err)
		}
		e, err = stored.DecodeEndpoint(appID, endpointID, data)
		return err
	})
	return e, err
}

// FindEndpointsByUser returns a user's endpoints, by ID.
func (db *DB) FindEndpointsByUser(ctx context.Context, appID, userID string) ([]*pinfold.Endpoint, error) {
	if _, err := findApp(ctx, db.pool, appID); err != nil {
		return nil, err
	}
	return userEndpoints(ctx, db.pool, `SELECT id, data FROM endpoints WHERE app = (SELECT seq FROM apps WHERE id = $1) AND `+byUser, appID, userID)
}

// DeleteEndpointsByUser removes a user's endpoints and returns them, by ID.
func (db *DB) DeleteEndpointsByUser(ctx context.Context, appID, userID string) ([]*pinfold.Endpoint, error) {
	var deleted []*pinfold.Endpoint
	err := db.appTx(ctx, appID, false, goneIsNotFound, func(tx pgx.Tx) error {
		var err error
		deleted, err = userEndpoints(ctx, tx, `DELETE FROM endpoints WHERE app = (SELECT seq FROM apps WHERE id = $1) AND `+byUser+` RETURNING id, data`, appID, userID)
		return err
	})
	return deleted, err
}

// byUser picks the endpoints of user $2, never the empty user ID, through the index of
// the users' hashes (migration 0009), then comparing the user IDs themselves.
const byUser = `user_id <> '' AND hashtextextended(user_id, 0) = hashtextextended($2, 0) AND user_id = $2`

// userEndpoints runs query, which yields (id, data) rows of the user's endpoints, and returns
// them by ID; no row is ENOTFOUND. They are sorted here, by byte order as SQLite sorts, rather
// than by the database's collation.
func userEndpoints(ctx context.Context, q querier, query, appID, userID string) ([]*pinfold.Endpoint, error) {
	rows, err := q.Query(ctx, query, appID, userID)
	if err != nil {
		return nil, fmt.Errorf("user endpoints: %w", err)
	}
	defer rows.Close()
	var endpoints []*pinfold.Endpoint
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
		endpoints = append(endpoints, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("user endpoints: %w", err)
	}
	if len(endpoints) == 0 {
		return nil, pinfold.Errorf(pinfold.ENOTFOUND, "User %q has no endpoints in application %q", userID, appID)
	}
	slices.SortFunc(endpoints, func(a, b *pinfold.Endpoint) int { return strings.Compare(a.ID, b.ID) })
	return endpoints, nil
}

var (
	_ pinfold.EndpointTx = (*endpointTx)(nil)
	_ pinfold.PieceTx    = (*pieceTx)(nil)
)

// endpointTx is the EndpointTx of one transaction that holds the app's lock (appTx), so
// the quotas EndpointWriter checks in it hold at commit, on any number of nodes.
type endpointTx struct {
	tx pgx.Tx
	db *DB
	// read holds, by app and endpoint ID, the document of each endpoint FindEndpoints found,
	// as stored.AppendEndpoint encodes it, until the next PutEndpoints, which copies no row
	// whose document it finds there unchanged.
	read map[string]map[string]string
	// app is the app whose lock the transaction holds: FindEndpoints tells PutEndpoints which
	// of its endpoints are not stored only there. A CommitPiece transaction (piece) keeps
	// documents as the node's spareHints say; unkept is set when FindEndpoints found
	// endpoints and kept none.
	app    string
	piece  bool
	unkept bool
}

// spareRetry: after a piece of an app found none of the documents it read unchanged, as in
// a re-import that changes every row, the node's next pieces of the app keep them only one
// in spareRetry, until one finds a row unchanged again.
const spareRetry = 8

// spareHints counts, by app, the node's pieces in a row that found none of the documents
// FindEndpoints kept for them unchanged, or kept none (spareRetry). Keeping them means
// encoding every endpoint read one more time: a 1M-row re-import that changed every row
// was 5–12% slower for it, one that changed none 1.5 times faster (docs/performance.md).
type spareHints struct {
	mu     sync.Mutex
	misses map[string]int
}

// keep says whether a piece of the app keeps the documents it reads.
func (h *spareHints) keep(appID string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.misses[appID]%spareRetry == 0
}

// note records a piece's PutEndpoints: compared of its endpoints had a kept document, spared
// of them were left out as unchanged, and unkept says FindEndpoints kept none it found.
func (h *spareHints) note(appID string, compared, spared int, unkept bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	switch {
	case spared > 0:
		delete(h.misses, appID)
	case compared > 0 || unkept:
		if h.misses == nil {
			h.misses = map[string]int{}
		}
		h.misses[appID]++
	}
}

// noteSpared tells the node's spareHints what a piece's PutEndpoints found (spareHints.note).
func (p *endpointTx) noteSpared(compared, spared int, unkept bool) {
	if p.piece {
		p.db.spare.note(p.app, compared, spared, unkept)
	}
}

// pieceTx is the PieceTx of one CommitPiece transaction.
type pieceTx struct {
	endpointTx
}

// endpointsByID and membersByUser look up a batch's IDs ($2) in app $1, and the endpoints of
// a batch's users, through the index on (app, ID) and the one on (app, hash of the user ID):
// one descent per array element, whatever the app's size; membersByUser then compares the
// user IDs themselves, as byUser does. The array goes through an InitPlan, ARRAY(SELECT
// unnest($2)), so that no plan sees its elements. With them in sight, as in the custom plans a
// prepared statement starts with, and with statistics taken when the app was small, as during
// its first large import before autovacuum catches up, PostgreSQL preferred reading every
// endpoint of the app and filtering them against the array: each lookup took 15 ms at the
// first piece of a fresh 300k-row import and about 150 ms by the twentieth, more than the
// piece's COPY (TestLookupPlansWithStaleStatistics; docs/performance.md).
//
// And they are planned at every execution (lookupMode), never from a plan kept from an earlier
// one: a connection's prepared statement settles on a generic plan after five executions and
// keeps it until the table's statistics change, and one made while a fresh app's first pieces
// were written (a few thousand rows, never analysed) read every endpoint of the app and
// filtered it against the array, for every piece after, until autovacuum analysed the table:
// a 1M-row import stalled for 10–30 s in 5 runs of 9 once a node's pieces waited at its gate
// (appGates) and took whichever connection was free (TestLookupsPlannedEachTime;
// docs/performance.md). A plan made at execution knows the table's current size from its
// pages.
const (
	endpointsByID = `SELECT id, data::text FROM endpoints WHERE app = (SELECT seq FROM apps WHERE id = $1)
		AND id = ANY(ARRAY(SELECT unnest($2::text[])))`
	membersByUser = `SELECT user_id, id, channel_type FROM endpoints WHERE app = (SELECT seq FROM apps WHERE id = $1)
		AND user_id <> '' AND hashtextextended(user_id, 0) = ANY(ARRAY(SELECT hashtextextended(u, 0) FROM unnest($2::text[]) u))
		AND user_id = ANY($2)`
)

func (p *endpointTx) FindEndpoints(ctx context.Context, appID string, ids []string) (map[string]*pinfold.Endpoint, error) {
	found := make(map[string]*pinfold.Endpoint, len(ids))
	if len(ids) == 0 {
		return found, nil
	}
	rows, err := p.tx.Query(ctx, endpointsByID, lookupMode, appID, ids)
	if err != nil {
		return nil, fmt.Errorf("find endpoints: %w", err)
	}
	defer rows.Close()
	// Each endpoint found is kept encoded as PutEndpoints would write it, before the caller
	// changes it, unless the node's last pieces of the app found none unchanged. A document
	// read again replaces the one read before.
	if p.read == nil {
		p.read = map[string]map[string]string{}
	}
	read := p.read[appID]
	if read == nil {
		read = map[string]string{}
		p.read[appID] = read
	}
	keep := !p.piece || p.db.spare.keep(appID)
	var doc []byte
	for rows.Next() {
		// The row's values as received, valid until Next: the document is text (data::text)
		// and DecodeEndpoint copies what it keeps, so the row costs no copy of its own.
		raw := rows.RawValues()
		id := string(raw[0])
		e, err := stored.DecodeEndpoint(appID, id, raw[1])
		if err != nil {
			return nil, err
		}
		found[id] = e
		delete(read, id)
		if !keep {
			p.unkept = true
			continue
		}
		if doc, err = stored.AppendEndpoint(doc[:0], e); err != nil {
			return nil, err
		}
		read[id] = string(doc)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	// The others are not stored, and no other transaction can store them before this one
	// ends: every writer of an app's endpoints holds the app's lock, as this one does.
	if appID == p.app {
		for _, id := range ids {
			if _, ok := found[id]; !ok {
				read[id] = ""
			}
		}
	}
	return found, nil
}

func (p *endpointTx) FindUserEndpoints(ctx context.Context, appID string, userIDs []string) (map[string][]pinfold.Member, error) {
	members := map[string][]pinfold.Member{}
	if len(userIDs) == 0 {
		return members, nil
	}
	rows, err := p.tx.Query(ctx, membersByUser, lookupMode, appID, userIDs)
	if err != nil {
		return nil, fmt.Errorf("find user endpoints: %w", err)
	}
	defer rows.Close()
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

func (p *endpointTx) FindAttributeNames(ctx context.Context, appID string) ([]pinfold.AttributeName, int, error) {
	rows, err := p.tx.Query(ctx, `SELECT kind, name FROM app_attributes WHERE app_id = $1`, appID)
	if err != nil {
		return nil, 0, fmt.Errorf("find attribute names: %w", err)
	}
	defer rows.Close()
	var names []pinfold.AttributeName
	for rows.Next() {
		var n pinfold.AttributeName
		if err := rows.Scan(&n.Kind, &n.Name); err != nil {
			return nil, 0, err
		}
		names = append(names, n)
	}
	return names, p.db.maxAttributeNames(), rows.Err()
}

func (p *endpointTx) AddAttributeNames(ctx context.Context, appID string, names []pinfold.AttributeName) error {
	if len(names) == 0 {
		return nil
	}
	kinds, values := make([]string, len(names)), make([]string, len(names))
	for i, n := range names {
		kinds[i], values[i] = n.Kind, n.Name
	}
	if _, err := p.tx.Exec(ctx, `INSERT INTO app_attributes (app_id, kind, name)
		SELECT $1, kind, name FROM unnest($2::text[], $3::text[]) AS a(kind, name) ON CONFLICT DO NOTHING`, appID, kinds, values); err != nil {
		return fmt.Errorf("add attribute names: %w", err)
	}
	return nil
}

// PutEndpoints first makes the app's other endpoints with the batch's addresses INACTIVE, in
// one UPDATE per app over the index on (app, address hash), then writes the endpoints through
// the bulk path: COPY into a temporary staging table and one INSERT … ON CONFLICT. The
// caller passes each endpoint once, so the upsert never meets a row twice.
//
// Endpoints that FindEndpoints looked up in this transaction (before any PutEndpoints since)
// and did not find are copied straight into the table instead: nothing can have stored them
// since (FindEndpoints). That spares them the staging table and the upsert's check for a
// conflicting row, which PostgreSQL makes before it inserts, in the key index, and then
// confirms in the WAL: a fresh 1M-row import 10% faster (docs/performance.md).
//
// An endpoint whose document is byte for byte the one FindEndpoints read for it in this
// transaction (before any PutEndpoints since) is not copied: the upsert would have found
// nothing to change in its row (the document holds every column but the keys), after parsing
// the document into jsonb, seeking the key index and comparing. Nothing has changed that row
// since it was read: the INACTIVE rule leaves out the batch's endpoints, and an unchanged
// document keeps its stored address. Only the first of two writes of one endpoint can be left
// out so: the next may follow a change. A re-import of the same file copies no row, as on
// SQLite (docs/performance.md).
func (p *endpointTx) PutEndpoints(ctx context.Context, endpoints []*pinfold.Endpoint) error {
	read, unkept := p.read, p.unkept
	p.read, p.unkept = nil, false
	if len(endpoints) == 0 {
		return nil
	}
	for _, g := range stored.AddressedByApp(endpoints) {
		if _, err := p.tx.Exec(ctx, deactivateAddresses, lookupMode, g.AppID, g.Addresses, g.IDs); err != nil {
			return fmt.Errorf("deactivate endpoints with the same address: %w", err)
		}
	}
	var fresh []*pinfold.Endpoint
	rest := endpoints[:0:0]
	for _, e := range endpoints {
		if was, ok := read[e.AppID][e.ID]; ok && was == "" {
			delete(read[e.AppID], e.ID)
			fresh = append(fresh, e)
		} else {
			rest = append(rest, e)
		}
	}
	if len(fresh) > 0 {
		if err := p.copyNew(ctx, fresh); err != nil {
			return err
		}
	}
	endpoints = rest
	if len(endpoints) == 0 {
		p.noteSpared(0, 0, unkept)
		return nil
	}
	if _, err := p.tx.Exec(ctx, `CREATE TEMPORARY TABLE IF NOT EXISTS endpoints_stage
		(app_id text, id text, user_id text, address text, channel_type text, data jsonb) ON COMMIT DELETE ROWS`); err != nil {
		return fmt.Errorf("create staging table: %w", err)
	}
	copied, compared, spared := 0, 0, 0
	rows := endpointRows(endpoints, func(e *pinfold.Endpoint) any { return e.AppID }, func(e *pinfold.Endpoint, doc []byte) bool {
		if was, ok := read[e.AppID][e.ID]; ok {
			delete(read[e.AppID], e.ID)
			compared++
			if was == string(doc) {
				spared++
				return true
			}
		}
		copied++
		return false
	})
	if _, err := p.tx.CopyFrom(ctx, pgx.Identifier{"endpoints_stage"},
		[]string{"app_id", "id", "user_id", "address", "channel_type", "data"}, rows); err != nil {
		return fmt.Errorf("copy endpoints: %w", err)
	}
	p.noteSpared(compared, spared, unkept)
	if copied == 0 {
		return nil
	}
	_, err := p.tx.Exec(ctx, `INSERT INTO endpoints (app, id, user_id, address, channel_type, data)
		SELECT a.seq, s.id, s.user_id, s.address, s.channel_type, s.data FROM endpoints_stage s JOIN apps a ON a.id = s.app_id
		ON CONFLICT (app, id) DO UPDATE SET user_id = excluded.user_id, address = excluded.address,
		channel_type = excluded.channel_type, data = excluded.data
		WHERE (endpoints.data, endpoints.user_id, endpoints.address, endpoints.channel_type)
			IS DISTINCT FROM (excluded.data, excluded.user_id, excluded.address, excluded.channel_type)`)
	if err != nil {
		return fmt.Errorf("upsert endpoints: %w", err)
	}
	_, err = p.tx.Exec(ctx, `TRUNCATE endpoints_stage`)
	return err
}

// copyNew copies endpoints of the transaction's app, known not to be stored (FindEndpoints
// marks only those), straight into the table.
func (p *endpointTx) copyNew(ctx context.Context, endpoints []*pinfold.Endpoint) error {
	var seq int64
	if err := p.tx.QueryRow(ctx, `SELECT seq FROM apps WHERE id = $1`, p.app).Scan(&seq); err != nil {
		return fmt.Errorf("app of new endpoints: %w", err)
	}
	rows := endpointRows(endpoints, func(*pinfold.Endpoint) any { return seq }, nil)
	if _, err := p.tx.CopyFrom(ctx, pgx.Identifier{"endpoints"},
		[]string{"app", "id", "user_id", "address", "channel_type", "data"}, rows); err != nil {
		return fmt.Errorf("copy new endpoints: %w", err)
	}
	return nil
}

// endpointRows is the COPY of endpoints: for each, key(e) (its app's ID or key), its ID,
// user, address, channel and document, as the bytes of its JSON. pgx encodes each row before
// it asks for the next, so one row and one document buffer serve them all. An endpoint for
// which skip, if any, reports true is left out.
func endpointRows(endpoints []*pinfold.Endpoint, key func(*pinfold.Endpoint) any, skip func(e *pinfold.Endpoint, doc []byte) bool) pgx.CopyFromSource {
	row, buf, next := make([]any, 6), []byte(nil), 0
	return pgx.CopyFromFunc(func() ([]any, error) {
		for next < len(endpoints) {
			e := endpoints[next]
			next++
			var err error
			if buf, err = stored.AppendEndpoint(buf[:0], e); err != nil {
				return nil, err
			}
			if skip != nil && skip(e, buf) {
				continue
			}
			row[0], row[1], row[2], row[3], row[4], row[5] = key(e), e.ID, e.User.UserID, e.Address, e.ChannelType, buf
			return row, nil
		}
		return nil, nil
	})
}

// lookupMode runs a statement whose plan must fit the table as it is now (endpointsByID):
// pgx prepares it unnamed, which PostgreSQL plans for the parameters of that one execution.
// It costs a round trip more than a statement prepared once, a fraction of a millisecond for
// a statement that looks up a piece's rows.
const lookupMode = pgx.QueryExecModeDescribeExec

// deactivateAddresses makes INACTIVE the endpoints of app $1 with one of the addresses $2 but
// none of the IDs $3. It finds them through the index on the addresses' hashes (migration
// 0008), then compares the addresses themselves. The IDs are excluded through NOT IN a
// subquery, which PostgreSQL hashes once; NOT (id = ANY($3)) was a linear scan of the array
// for every endpoint with one of the addresses in the generic plan pgx's prepared statement
// settles on: 0.85 s of a 12k-row piece's re-import, against 29 ms (TestDeactivatePlan). IDs
// are never NULL, so NOT IN means what it says. It runs in lookupMode, as the lookups do.
const deactivateAddresses = `UPDATE endpoints SET data = jsonb_set(data, '{es}', '"INACTIVE"')
	WHERE app = (SELECT seq FROM apps WHERE id = $1) AND address <> ''
	AND hashtextextended(address, 0) = ANY(ARRAY(SELECT hashtextextended(a, 0) FROM unnest($2::text[]) a))
	AND address = ANY($2) AND id NOT IN (SELECT unnest($3::text[]))
	AND data->>'es' IS DISTINCT FROM 'INACTIVE'`

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
