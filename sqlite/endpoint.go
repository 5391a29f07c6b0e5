package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

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
	err := db.read.QueryRowContext(ctx, findEndpoint, appID, endpointID).Scan(&data)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, pinfold.Errorf(pinfold.ENOTFOUND, "Endpoint %q not found in application %q", endpointID, appID)
	} else if err != nil {
		return nil, fmt.Errorf("find endpoint: %w", err)
	}
	return stored.DecodeEndpoint(appID, endpointID, data)
}

const findEndpoint = `SELECT data FROM endpoints WHERE app = (SELECT seq FROM apps WHERE id = ?) AND id = ?`

// UpdateEndpoints runs fn in one write transaction of the app.
func (db *DB) UpdateEndpoints(ctx context.Context, appID string, fn func(tx pinfold.EndpointTx) error) error {
	return db.writeTx(ctx, func(tx *sql.Tx) error {
		if _, err := findApp(ctx, tx, appID); err != nil {
			return err
		}
		return fn(&endpointTx{tx: tx, db: db})
	})
}

// DeleteEndpoint removes an endpoint and returns it as it was.
func (db *DB) DeleteEndpoint(ctx context.Context, appID, endpointID string) (*pinfold.Endpoint, error) {
	var e *pinfold.Endpoint
	err := db.writeTx(ctx, func(tx *sql.Tx) error {
		if _, err := findApp(ctx, tx, appID); err != nil {
			return err
		}
		var data []byte
		err := tx.QueryRowContext(ctx, `DELETE FROM endpoints WHERE app = (SELECT seq FROM apps WHERE id = ?) AND id = ? RETURNING data`, appID, endpointID).Scan(&data)
		if errors.Is(err, sql.ErrNoRows) {
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
	if _, err := findApp(ctx, db.read, appID); err != nil {
		return nil, err
	}
	return userEndpoints(ctx, db.read, findUserEndpoints, appID, userID)
}

// findUserEndpoints selects a user's endpoints, through the table of user hashes (see keyHash
// and migration 0009); a user has at most 15. The CROSS JOIN keeps SQLite from walking the
// app's endpoints in ID order to save the sort.
const (
	findUserEndpoints = `SELECT e.id, e.data FROM (` + userRids + `) u CROSS JOIN endpoints e ON e.rid = u.rid
	WHERE e.user_id = ?3 ORDER BY e.id`
	// SQLite reads the subquery's rids whole before it deletes a row, so what the delete
	// trigger (migration 0009) removes from endpoint_users does not disturb it.
	deleteUserEndpoints = `DELETE FROM endpoints WHERE rid IN (` + userRids + `)
	AND user_id = ?3 RETURNING id, data`
	// userRids selects the rows of app ?1 whose user hash is ?2, from both tiers.
	userRids = `SELECT rid FROM endpoint_users WHERE app = (SELECT seq FROM apps WHERE id = ?1) AND hash = ?2
	UNION ALL SELECT rid FROM endpoint_users_recent WHERE app = (SELECT seq FROM apps WHERE id = ?1) AND hash = ?2`
)

// DeleteEndpointsByUser removes a user's endpoints and returns them, by ID.
func (db *DB) DeleteEndpointsByUser(ctx context.Context, appID, userID string) ([]*pinfold.Endpoint, error) {
	var deleted []*pinfold.Endpoint
	err := db.writeTx(ctx, func(tx *sql.Tx) error {
		if _, err := findApp(ctx, tx, appID); err != nil {
			return err
		}
		var err error
		deleted, err = userEndpoints(ctx, tx, deleteUserEndpoints, appID, userID)
		return err
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(deleted, func(a, b *pinfold.Endpoint) int { return strings.Compare(a.ID, b.ID) })
	return deleted, nil
}

// userEndpoints runs query, which yields (id, data) rows of the user's endpoints; no row is
// ENOTFOUND.
func userEndpoints(ctx context.Context, q queryer, query, appID, userID string) ([]*pinfold.Endpoint, error) {
	rows, err := q.QueryContext(ctx, query, appID, keyHash(userID), userID)
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
		return nil, err
	}
	if len(endpoints) == 0 {
		return nil, pinfold.Errorf(pinfold.ENOTFOUND, "User %q has no endpoints in application %q", userID, appID)
	}
	return endpoints, nil
}

var (
	_ pinfold.EndpointTx = (*endpointTx)(nil)
	_ pinfold.PieceTx    = (*pieceTx)(nil)
)

func (db *DB) maxAttributeNames() int {
	if db.MaxAttributeNames > 0 {
		return db.MaxAttributeNames
	}
	return pinfold.DefaultMaxAttributeNames
}

// endpointTx is the EndpointTx of one write transaction. SQLite has one writer at a time, so
// the quotas EndpointWriter checks in it hold at commit.
type endpointTx struct {
	tx *sql.Tx
	db *DB
	// read holds the stored documents FindEndpoints found, by app and endpoint ID, until
	// the next PutEndpoints, which writes no row whose document it finds there unchanged.
	read map[string]map[string][]byte
}

// pieceTx is the PieceTx of one CommitPiece transaction.
type pieceTx struct {
	endpointTx
}

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?,", n), ",")
}

// valueRows is the VALUES list of a multi-row INSERT: n rows of columns placeholders each.
func valueRows(n, columns int) string {
	return strings.TrimSuffix(strings.Repeat("("+placeholders(columns)+"),", n), ",")
}

// The two reads of an import's piece, FindEndpoints and FindUserEndpoints (and an export's
// FindEndpointsByID), each take their keys as one JSON array, sorted, and join it to the
// index: one statement per call, which seeks the index once per key, in key order. An IN
// list of bound parameters cost a statement prepared for every 500 keys, and SQLite copied
// each list into an ephemeral index before it seeked (docs/performance.md).
const (
	findEndpoints = `SELECT e.id, e.data FROM json_each(?2) k CROSS JOIN endpoints e
	WHERE e.app = (SELECT seq FROM apps WHERE id = ?1) AND e.id = k.value`
	// The table holds hashes; rows of another user with the same hash are dropped by the
	// caller, which knows the users it asked for.
	findUsersEndpoints = `SELECT e.user_id, e.id, e.channel_type FROM json_each(?2) k CROSS JOIN endpoint_users u
	CROSS JOIN endpoints e ON e.rid = u.rid WHERE u.app = (SELECT seq FROM apps WHERE id = ?1) AND u.hash = k.value
	UNION ALL SELECT e.user_id, e.id, e.channel_type FROM json_each(?2) k CROSS JOIN endpoint_users_recent u
	CROSS JOIN endpoints e ON e.rid = u.rid WHERE u.app = (SELECT seq FROM apps WHERE id = ?1) AND u.hash = k.value`
)

// appKey returns the integer key of app appID (apps.seq), and false when there is no such app.
func (p *endpointTx) appKey(ctx context.Context, appID string) (int64, bool, error) {
	var key int64
	err := p.tx.QueryRowContext(ctx, `SELECT seq FROM apps WHERE id = ?`, appID).Scan(&key)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	} else if err != nil {
		return 0, false, fmt.Errorf("find app: %w", err)
	}
	return key, true, nil
}

// filter returns the filter in fs of app appID for a batch of n hashes (see hashFilters.get),
// nil when the app has none, and false when there is no such app.
func (p *endpointTx) filter(ctx context.Context, fs *hashFilters, appID string, n int) (*hashFilter, bool, error) {
	app, ok, err := p.appKey(ctx, appID)
	if err != nil || !ok {
		return nil, false, err
	}
	f, err := fs.get(ctx, p.tx, app, n)
	return f, err == nil, err
}

func (p *endpointTx) FindEndpoints(ctx context.Context, appID string, ids []string) (map[string]*pinfold.Endpoint, error) {
	found := make(map[string]*pinfold.Endpoint, len(ids))
	// An ID the app's filter does not hold is stored by none of its endpoints (hashfilter.go):
	// in a fresh import, only the filter's false positives are looked up.
	filter, ok, err := p.filter(ctx, &p.db.ids, appID, len(ids))
	if err != nil || !ok {
		return found, err
	}
	if filter != nil {
		maybe := make([]string, 0, len(ids))
		for _, id := range ids {
			if h, ok := keyHash64(id); !ok || filter.mayHold(h) {
				maybe = append(maybe, id)
			}
		}
		ids = maybe
	}
	if p.read == nil {
		p.read = map[string]map[string][]byte{}
	}
	docs := p.read[appID]
	if docs == nil {
		docs = make(map[string][]byte, len(ids))
		p.read[appID] = docs
	}
	err = endpointsByID(ctx, p.tx, appID, ids, func(e *pinfold.Endpoint, data []byte) {
		found[e.ID], docs[e.ID] = e, data
	})
	return found, err
}

// endpointsByID calls found with each stored endpoint of the app whose ID is among ids, once
// per endpoint, in no order the caller may rely on. JSON cannot carry an ID that is not valid
// UTF-8 (the API takes IDs from the request path as they come; json.Marshal would turn the
// bytes into U+FFFD, another endpoint's ID), so each such ID is looked up alone.
func endpointsByID(ctx context.Context, q queryer, appID string, ids []string, found func(e *pinfold.Endpoint, data []byte)) error {
	if len(ids) == 0 {
		return nil
	}
	sorted := slices.Compact(slices.Sorted(slices.Values(ids)))
	valid := sorted[:0]
	for _, id := range sorted {
		if utf8.ValidString(id) {
			valid = append(valid, id)
			continue
		}
		var data []byte
		err := q.QueryRowContext(ctx, findEndpoint, appID, id).Scan(&data)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		} else if err != nil {
			return fmt.Errorf("find endpoints: %w", err)
		}
		e, err := stored.DecodeEndpoint(appID, id, data)
		if err != nil {
			return err
		}
		found(e, data)
	}
	keys, err := json.Marshal(valid)
	if err != nil {
		return err
	}
	rows, err := q.QueryContext(ctx, findEndpoints, appID, keys)
	if err != nil {
		return fmt.Errorf("find endpoints: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var data []byte
		if err := rows.Scan(&id, &data); err != nil {
			return err
		}
		e, err := stored.DecodeEndpoint(appID, id, data)
		if err != nil {
			return err
		}
		found(e, data)
	}
	return rows.Err()
}

func (p *endpointTx) FindUserEndpoints(ctx context.Context, appID string, userIDs []string) (map[string][]pinfold.Member, error) {
	members := map[string][]pinfold.Member{}
	wanted := make(map[string]bool, len(userIDs))
	hashes := make([]int64, 0, len(userIDs))
	for _, u := range userIDs {
		if h, ok := keyHash64(u); ok && !wanted[u] {
			wanted[u] = true
			hashes = append(hashes, h)
		}
	}
	if len(hashes) == 0 {
		return members, nil
	}
	// A user the app's filter does not hold has no endpoint in it (hashfilter.go).
	filter, ok, err := p.filter(ctx, &p.db.users, appID, len(hashes))
	if err != nil || !ok {
		return members, err
	}
	if filter != nil {
		hashes = slices.DeleteFunc(hashes, func(h int64) bool { return !filter.mayHold(h) })
		if len(hashes) == 0 {
			return members, nil
		}
	}
	slices.Sort(hashes)
	keys, err := json.Marshal(slices.Compact(hashes))
	if err != nil {
		return nil, err
	}
	rows, err := p.tx.QueryContext(ctx, findUsersEndpoints, appID, keys)
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
		if wanted[user] {
			members[user] = append(members[user], m)
		}
	}
	return members, rows.Err()
}

func (p *endpointTx) FindAttributeNames(ctx context.Context, appID string) ([]pinfold.AttributeName, int, error) {
	rows, err := p.tx.QueryContext(ctx, `SELECT kind, name FROM app_attributes WHERE app_id = ?`, appID)
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
	stmt, err := p.tx.PrepareContext(ctx, `INSERT INTO app_attributes (app_id, kind, name) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`)
	if err != nil {
		return fmt.Errorf("prepare attribute names: %w", err)
	}
	defer stmt.Close()
	for _, n := range names {
		if _, err := stmt.ExecContext(ctx, appID, n.Kind, n.Name); err != nil {
			return fmt.Errorf("add attribute name: %w", err)
		}
	}
	return nil
}

func (p *endpointTx) PutEndpoints(ctx context.Context, endpoints []*pinfold.Endpoint) error {
	// The documents FindEndpoints read are what the rows hold until this call writes: they
	// serve this call once, and are forgotten whatever it does.
	read := p.read
	p.read = nil
	if len(endpoints) == 0 {
		return nil
	}
	// Rows name their app by its integer key (migration 0007), looked up once per app here.
	keys := map[string]int64{}
	for _, e := range endpoints {
		if _, ok := keys[e.AppID]; ok {
			continue
		}
		key, ok, err := p.appKey(ctx, e.AppID)
		if err != nil {
			return err
		} else if !ok {
			return pinfold.Errorf(pinfold.ENOTFOUND, "Application %q not found", e.AppID)
		}
		keys[e.AppID] = key
	}
	// The apps' filters of IDs and users take the batch's before it is written
	// (hashfilter.go); addresses are added below.
	for appID, app := range keys {
		p.db.ids.addEach(app, endpoints, func(e *pinfold.Endpoint) (string, bool) { return e.ID, e.AppID == appID })
		p.db.users.addEach(app, endpoints, func(e *pinfold.Endpoint) (string, bool) { return e.User.UserID, e.AppID == appID })
	}
	// The rows go in key order, so that consecutive inserts land on neighbouring B-tree
	// pages; the sort is stable, so the last of two writes of one endpoint is still the one
	// that stays. The write connection is the bottleneck: another goroutine sorts while
	// SQLite makes endpoints INACTIVE, then encodes each document (and hashes its user and
	// address) while SQLite writes the ones before it.
	//
	// A row whose new document is byte for byte the one FindEndpoints read from it in this
	// transaction is not written: the upsert would find nothing to change (its document holds
	// every column but the keys), after a seek of the key index and a compare. Nothing has
	// changed that row since it was read: the INACTIVE rule below leaves out the batch's
	// endpoints with addresses, and an unchanged document keeps its stored address. Only the
	// first write of an endpoint in the call is left out so: a later one may follow a change.
	// A re-import of the same file writes no row (docs/performance.md).
	sorted := slices.Clone(endpoints)
	sortedReady := make(chan struct{})
	docs := make(chan encodedDoc, 512)
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		defer close(docs)
		slices.SortStableFunc(sorted, func(a, b *pinfold.Endpoint) int {
			return cmp.Or(cmp.Compare(keys[a.AppID], keys[b.AppID]), strings.Compare(a.ID, b.ID))
		})
		close(sortedReady)
		var buf []byte
		for i, e := range sorted {
			var err error
			buf, err = stored.AppendEndpoint(buf[:0], e)
			first := i == 0 || sorted[i-1].ID != e.ID || sorted[i-1].AppID != e.AppID
			was, ok := read[e.AppID][e.ID]
			unchanged := first && ok && err == nil && string(was) == string(buf)
			select {
			case docs <- encodedDoc{string(buf), keyHash(e.User.UserID), keyHash(e.Address), unchanged, err}:
			case <-stop:
				return
			}
		}
	}()
	// The others with these addresses become INACTIVE in one statement per app (addresses,
	// their hashes and IDs go in as JSON arrays); the endpoints themselves are then written
	// as given. Without statistics SQLite would scan the app's endpoints rather than use the
	// index on the address's hash, hence INDEXED BY.
	// An address the app's filter does not hold is stored by none of its endpoints, and is
	// left out (hashfilter.go); the filter then holds the batch's addresses.
	for _, g := range stored.AddressedByApp(endpoints) {
		app := keys[g.AppID]
		filter, err := p.db.addresses.get(ctx, p.tx, app, len(g.Addresses))
		if err != nil {
			return err
		}
		all := make([]int64, len(g.Addresses)) // AddressedByApp leaves out ""
		var hashes []int64
		var maybe []string
		for i, a := range g.Addresses {
			all[i], _ = keyHash64(a)
			if filter == nil || filter.mayHold(all[i]) {
				hashes, maybe = append(hashes, all[i]), append(maybe, a)
			}
		}
		p.db.addresses.add(app, all)
		if len(maybe) == 0 {
			continue
		}
		addresses, err := json.Marshal(maybe)
		if err != nil {
			return err
		}
		addressHashes, err := json.Marshal(hashes)
		if err != nil {
			return err
		}
		ids, err := json.Marshal(g.IDs)
		if err != nil {
			return err
		}
		if _, err := p.tx.ExecContext(ctx, deactivateAddresses, app, string(addressHashes), string(addresses), string(ids)); err != nil {
			return fmt.Errorf("deactivate endpoints with the same address: %w", err)
		}
	}
	// Rows go in insertRows at a time through a plain multi-row INSERT OR IGNORE: one
	// execution opens its cursors on the table and its key index once for all of them,
	// and database/sql and the driver are crossed once (docs/performance.md). When a row of
	// the batch is ignored (its endpoint is stored, or written twice in the batch), every row
	// of the batch then goes through the one-row upsert, in order: a row just inserted meets
	// itself unchanged and is left alone, a stored one is updated, the last write of an
	// endpoint stays. Not one multi-row upsert: SQLite may abort its DO UPDATE half-way,
	// so it would keep a statement journal of every page the statement changes. The insert
	// is prepared only for a call with a full batch: the API writes one endpoint at a time.
	var insert *sql.Stmt
	var err error
	if len(endpoints) >= insertRows {
		if insert, err = p.tx.PrepareContext(ctx, insertEndpoints(insertRows)); err != nil {
			return fmt.Errorf("prepare endpoint insert: %w", err)
		}
		defer insert.Close()
	}
	// An endpoint that a re-import leaves as it was is not written again (nor its indexes).
	upsert, err := p.tx.PrepareContext(ctx, `INSERT INTO endpoints (app, id, user_id, address, channel_type, user_hash, address_hash, data)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (app, id) DO UPDATE SET user_id = excluded.user_id, address = excluded.address,
		channel_type = excluded.channel_type, user_hash = excluded.user_hash, address_hash = excluded.address_hash, data = excluded.data
		WHERE data IS NOT excluded.data OR user_id IS NOT excluded.user_id OR address IS NOT excluded.address
		OR channel_type IS NOT excluded.channel_type`)
	if err != nil {
		return fmt.Errorf("prepare endpoint upsert: %w", err)
	}
	defer upsert.Close()
	// Rows are added past the last one (rid is the rowid; SQLite gives a new row the largest
	// rowid plus one), so those past last are this call's: their hashes go in the tables of
	// migration 0009 once they are all written (hashtables.go).
	var last int64
	if err := p.tx.QueryRowContext(ctx, `SELECT coalesce(max(rid), 0) FROM endpoints`).Scan(&last); err != nil {
		return fmt.Errorf("find the last endpoint row: %w", err)
	}
	<-sortedReady
	args := make([]any, 0, endpointColumns*insertRows)
	// A batch that met stored endpoints is likely followed by more (a re-import updates every
	// row): the next upsertOnly batches skip the insert, whose seeks would be made twice.
	upsertOnly := 0
	rows := make([]*pinfold.Endpoint, 0, insertRows) // the batch's rows to write
	err = eachBatch(ctx, len(sorted), insertRows, func(rowCtx context.Context, from, to int) error {
		args, rows = args[:0], rows[:0]
		for _, e := range sorted[from:to] {
			d := <-docs
			if d.err != nil {
				return d.err
			}
			if d.unchanged {
				continue
			}
			// As text, so that SQLite's JSON functions read it.
			args = append(args, keys[e.AppID], e.ID, e.User.UserID, e.Address, e.ChannelType,
				d.userHash, d.addressHash, d.data)
			rows = append(rows, e)
		}
		if upsertOnly > 0 {
			upsertOnly--
		} else if len(rows) == insertRows {
			res, err := insert.ExecContext(rowCtx, args...)
			if err != nil {
				return fmt.Errorf("insert endpoints %s to %s: %w", rows[0].ID, rows[len(rows)-1].ID, err)
			}
			if n, err := res.RowsAffected(); err != nil || n == insertRows {
				return err
			}
			upsertOnly = insertRetry
		}
		for i, e := range rows {
			if _, err := upsert.ExecContext(rowCtx, args[i*endpointColumns:(i+1)*endpointColumns]...); err != nil {
				return fmt.Errorf("upsert endpoint %s: %w", e.ID, err)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	return p.indexNewEndpoints(ctx, last)
}

// insertRows is how many endpoints one execution of PutEndpoints' insert writes.
const insertRows = 32

// insertRetry is how many batches PutEndpoints sends straight to the one-row upsert after a
// batch whose insert met stored endpoints.
const insertRetry = 8

// endpointColumns is how many values each endpoint gives PutEndpoints' statements.
const endpointColumns = 8

// insertEndpoints inserts n endpoints, endpointColumns values each, and ignores those whose
// key is taken.
func insertEndpoints(n int) string {
	return `INSERT OR IGNORE INTO endpoints (app, id, user_id, address, channel_type, user_hash, address_hash, data)
		VALUES ` + valueRows(n, endpointColumns)
}

// deactivateAddresses makes INACTIVE the endpoints of app ?1 with one of the addresses ?3
// (hashes ?2) but none of the IDs ?4, all three JSON arrays.
const deactivateAddresses = `UPDATE endpoints SET data = json_set(data, '$.es', 'INACTIVE')
	WHERE rid IN (SELECT a.rid FROM json_each(?2) k CROSS JOIN endpoint_addresses a WHERE a.app = ?1 AND a.hash = k.value
		UNION ALL SELECT a.rid FROM json_each(?2) k CROSS JOIN endpoint_addresses_recent a WHERE a.app = ?1 AND a.hash = k.value)
	AND address IN (SELECT value FROM json_each(?3))
	AND id NOT IN (SELECT value FROM json_each(?4)) AND json_extract(data, '$.es') IS NOT 'INACTIVE'`

// cancelCheckRows is how many rows eachBatch writes between checks of its context.
const cancelCheckRows = 256

// eachBatch calls write for rows 0 to n-1, size rows at a time (write gets rows from to
// to-1), each call with a context that cannot end, and checks ctx itself about every
// cancelCheckRows rows. For a context that can end, modernc starts a goroutine per statement
// to watch it: a million of them for a million-row import's endpoints, beside the one writer
// (docs/performance.md). A statement takes microseconds, so a piece still stops soon after
// its context ends. Statements that write an import's rows go through here.
func eachBatch(ctx context.Context, n, size int, write func(rowCtx context.Context, from, to int) error) error {
	rowCtx := context.WithoutCancel(ctx)
	for from := 0; from < n; from += size {
		if from%cancelCheckRows < size {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		if err := write(rowCtx, from, min(from+size, n)); err != nil {
			return err
		}
	}
	return nil
}

// eachRow is eachBatch one row at a time.
func eachRow(ctx context.Context, n int, write func(rowCtx context.Context, i int) error) error {
	return eachBatch(ctx, n, 1, func(rowCtx context.Context, i, _ int) error { return write(rowCtx, i) })
}

type encodedDoc struct {
	data                  string
	userHash, addressHash any  // keyHash of the user ID and the address
	unchanged             bool // the row holds data already: see PutEndpoints
	err                   error
}

func (p *pieceTx) AddJobMembers(ctx context.Context, jobID string, members []pinfold.Member) error {
	// Appended (migration 0008): no key to conflict on, so plain multi-row INSERTs of
	// memberRows, and one of the rows left at the end.
	stmts := map[int]*sql.Stmt{}
	defer func() {
		for _, s := range stmts {
			s.Close()
		}
	}()
	args := make([]any, 0, 3*memberRows)
	return eachBatch(ctx, len(members), memberRows, func(rowCtx context.Context, from, to int) error {
		n := to - from
		stmt, ok := stmts[n]
		if !ok {
			var err error
			if stmt, err = p.tx.PrepareContext(ctx, `INSERT INTO import_job_members (job_id, endpoint_id, channel_type) VALUES `+
				valueRows(n, 3)); err != nil {
				return fmt.Errorf("prepare job members: %w", err)
			}
			stmts[n] = stmt
		}
		args = args[:0]
		for _, m := range members[from:to] {
			args = append(args, jobID, m.EndpointID, m.ChannelType)
		}
		if _, err := stmt.ExecContext(rowCtx, args...); err != nil {
			return fmt.Errorf("add job members: %w", err)
		}
		return nil
	})
}

// memberRows is how many members one statement of AddJobMembers adds.
const memberRows = 64
