package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/pinfold/pinfold"
	"github.com/pinfold/pinfold/endpointfile"
	"github.com/pinfold/pinfold/internal/stored"
	_ "modernc.org/sqlite" // the driver the SQLite store uses, for the baseline
)

// jobStore is what the store-limit measurement needs of a store.
type jobStore interface {
	pinfold.AppStore
	pinfold.ImportJobStore
}

const (
	benchNode = "pinfold-bench"
	benchRole = "arn:aws:iam::000000000000:role/pinfold-bench"
)

// newID returns 32 random hex characters, the shape of Pinfold's IDs.
func newID() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// rowsPerPiece is how many rows of a CSV file of size bytes and rows rows a piece of
// pieceSize bytes holds, as the importer's planner cuts it.
func rowsPerPiece(size int64, rows int, pieceSize int64) int {
	if rows == 0 {
		return 1
	}
	return max(1, int(pieceSize/max(1, size/int64(rows))))
}

// buildPieces decodes a CSV file and merges every row into a new endpoint of appID
// (pinfold.ApplyEndpointUpdate on nil), cut into pieces of perPiece endpoints: what the
// importer has in hand just before it writes, without the reading, decoding and merging.
func buildPieces(csv []byte, appID string, perPiece int) ([][]*pinfold.Endpoint, error) {
	dec, err := endpointfile.NewCSVDecoder(bytes.NewReader(csv), "", 1)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	var pieces [][]*pinfold.Endpoint
	var piece []*pinfold.Endpoint
	for {
		row, err := dec.Next()
		if err == io.EOF {
			break
		} else if err != nil {
			return nil, err
		} else if row.Err != nil {
			return nil, fmt.Errorf("line %d: %w", row.Line, row.Err)
		}
		e, err := pinfold.ApplyEndpointUpdate(appID, nil, row.Update, now)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", row.Line, err)
		}
		if piece = append(piece, e); len(piece) == perPiece {
			pieces, piece = append(pieces, piece), nil
		}
	}
	if len(piece) > 0 {
		pieces = append(pieces, piece)
	}
	return pieces, nil
}

// measureStore writes pieces through the store's bulk path as an import would, minus
// reading, decoding and merging: it creates the app and a job, plans one piece per chunk, and
// then workers claim pieces and commit each with one PutEndpoints of its chunk. It returns
// endpoints written per second, from the first claim to the last commit.
func measureStore(ctx context.Context, st jobStore, appID string, pieces [][]*pinfold.Endpoint, workers int) (float64, error) {
	job, err := planStoreJob(ctx, st, appID, pieces)
	if err != nil {
		return 0, err
	}
	took, err := timeWorkers(workers, func(int) (bool, error) { return commitPiece(ctx, st, pieces) })
	if err != nil {
		return 0, err
	}

	total := 0
	for _, chunk := range pieces {
		total += len(chunk)
	}
	if ended, err := st.FinishImportJob(ctx, job.ID, time.Now()); err != nil || !ended {
		return 0, fmt.Errorf("finish import job: ended %v, %v", ended, err)
	}
	done, err := st.FindImportJob(ctx, appID, job.ID)
	if err != nil {
		return 0, err
	}
	if done.Status != pinfold.JobCompleted || done.TotalProcessed != int64(total) {
		return 0, fmt.Errorf("job ended %s with %d rows processed, want COMPLETED with %d", done.Status, done.TotalProcessed, total)
	}
	return float64(total) / took.Seconds(), nil
}

// timeWorkers runs n goroutines, each calling step with its number until step reports done
// or fails, and returns how long they took together and the first error.
func timeWorkers(n int, step func(worker int) (done bool, err error)) (time.Duration, error) {
	start := time.Now()
	errs := make(chan error, n)
	var wg sync.WaitGroup
	for w := range n {
		wg.Go(func() {
			for {
				done, err := step(w)
				if done || err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	took := time.Since(start)
	close(errs)
	for err := range errs {
		if err != nil {
			return took, err
		}
	}
	return took, nil
}

// planStoreJob creates the app and an import job of one piece per chunk, and takes the job
// through the states the importer would up to PROCESSING.
func planStoreJob(ctx context.Context, st jobStore, appID string, pieces [][]*pinfold.Endpoint) (*pinfold.ImportJob, error) {
	now := time.Now()
	if err := st.CreateApp(ctx, &pinfold.App{ID: appID, Name: "pinfold-bench", Tags: map[string]string{}, CreatedAt: now}); err != nil {
		return nil, fmt.Errorf("create app: %w", err)
	}
	job := &pinfold.ImportJob{ID: newID(), AppID: appID, Status: pinfold.JobCreated, CreatedAt: now,
		Definition: pinfold.ImportDefinition{Format: pinfold.FormatCSV, S3URL: "s3://bench/endpoints.csv", RoleARN: benchRole, RegisterEndpoints: true}}
	if err := st.CreateImportJob(ctx, job); err != nil {
		return nil, fmt.Errorf("create import job: %w", err)
	}
	if claimed, err := st.ClaimImportJob(ctx, benchNode, 1, now, now.Add(storeLease)); err != nil || claimed == nil || claimed.ID != job.ID {
		return nil, fmt.Errorf("claim import job: got %v, %v", claimed, err)
	}
	if ok, err := st.SetImportJobStatus(ctx, job.ID, []string{pinfold.JobPreparingForInitialization}, pinfold.JobInitializing); err != nil || !ok {
		return nil, fmt.Errorf("start planning: %v %v", ok, err)
	}
	plan := make([]*pinfold.Piece, len(pieces))
	line := 2
	for i, chunk := range pieces {
		plan[i] = &pinfold.Piece{JobID: job.ID, AppID: appID, No: i, Bucket: "bench", Key: "endpoints.csv", ETag: "bench",
			Start: int64(i), End: int64(i + 1), FirstLine: int64(line)}
		line += len(chunk)
	}
	if err := st.PlanImportJob(ctx, job.ID, plan); err != nil {
		return nil, fmt.Errorf("plan import job: %w", err)
	}
	return job, nil
}

// storeLease is the lease of the measurement's claims: longer than any run.
const storeLease = 24 * time.Hour

// commitPiece claims a piece and commits it with one PutEndpoints of its chunk; done reports
// that no piece was left to claim.
func commitPiece(ctx context.Context, st jobStore, pieces [][]*pinfold.Endpoint) (done bool, err error) {
	now := time.Now()
	p, _, err := st.ClaimPiece(ctx, benchNode, now, now.Add(storeLease))
	if err != nil || p == nil {
		return p == nil, err
	}
	chunk := pieces[p.No]
	err = st.CommitPiece(ctx, p, benchNode, func(tx pinfold.PieceTx) (*pinfold.PieceOutcome, error) {
		return &pinfold.PieceOutcome{Processed: int64(len(chunk))}, tx.PutEndpoints(ctx, chunk)
	})
	if err != nil {
		return false, fmt.Errorf("commit piece %d: %w", p.No, err)
	}
	return false, nil
}

// encodeAll returns the stored documents of every endpoint, so that baselines write the same
// bytes the stores write without timing the encoding.
func encodeAll(pieces [][]*pinfold.Endpoint) ([]*pinfold.Endpoint, []string, error) {
	var all []*pinfold.Endpoint
	var docs []string
	for _, chunk := range pieces {
		for _, e := range chunk {
			data, err := stored.EncodeEndpoint(e)
			if err != nil {
				return nil, nil, err
			}
			all, docs = append(all, e), append(docs, string(data))
		}
	}
	return all, docs, nil
}

// sqliteDSN opens a database with the pragmas the SQLite store uses (sqlite/db.go), apart from
// the larger page cache of the store's write connection.
func sqliteDSN(path string) string {
	return "file:" + path + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)" +
		"&_pragma=synchronous(NORMAL)&_pragma=foreign_keys(on)&_txlock=immediate"
}

// sqliteBaseline inserts the endpoints' documents into a fresh table of the endpoints
// table's key shape, one INSERT OR REPLACE per row, in one transaction: the most SQLite and
// its driver do for these rows without any of the store's work. It returns rows per second.
func sqliteBaseline(ctx context.Context, path string, endpoints []*pinfold.Endpoint, docs []string) (float64, error) {
	db, err := sql.Open("sqlite", sqliteDSN(path))
	if err != nil {
		return 0, err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	if _, err := db.ExecContext(ctx, `CREATE TABLE endpoints (app_id TEXT NOT NULL, id TEXT NOT NULL, data TEXT NOT NULL,
		PRIMARY KEY (app_id, id)) WITHOUT ROWID`); err != nil {
		return 0, err
	}
	start := time.Now()
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	stmt, err := tx.PrepareContext(ctx, `INSERT OR REPLACE INTO endpoints (app_id, id, data) VALUES (?, ?, ?)`)
	if err != nil {
		return 0, err
	}
	for i, e := range endpoints {
		if _, err := stmt.ExecContext(ctx, e.AppID, e.ID, docs[i]); err != nil {
			return 0, err
		}
	}
	if err := tx.Commit(); err != nil {
		return 0, err
	}
	return float64(len(endpoints)) / time.Since(start).Seconds(), nil
}

// postgresBaseline copies the endpoints' documents into an empty table without keys or
// indexes with one COPY: PostgreSQL's fastest path for these rows. It returns rows per second.
func postgresBaseline(ctx context.Context, url string, endpoints []*pinfold.Endpoint, docs []string) (float64, error) {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return 0, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, `CREATE TABLE endpoints_copy (app_id text, id text, data jsonb)`); err != nil {
		return 0, err
	}
	start := time.Now()
	n, err := conn.CopyFrom(ctx, pgx.Identifier{"endpoints_copy"}, []string{"app_id", "id", "data"},
		pgx.CopyFromSlice(len(endpoints), func(i int) ([]any, error) {
			return []any{endpoints[i].AppID, endpoints[i].ID, docs[i]}, nil
		}))
	if err != nil {
		return 0, fmt.Errorf("copy: %w", err)
	}
	return float64(n) / time.Since(start).Seconds(), nil
}

// pgLoop is a loop of PostgreSQL upserts with nothing of the store around it, for the store
// limit to be read against. Each piece is one transaction: a COPY into a temporary staging
// table, then one INSERT … ON CONFLICT. The plain loop is issue #8's: a table keyed on
// (app_id, id) with no other index. The store's loop writes the store's endpoints table
// (postgres migrations 0007–0009: an integer app key, and the user and the address, each
// indexed by its hash), and before its COPY runs the INACTIVE rule's UPDATE for the piece's
// addresses, as PutEndpoints does; its upsert leaves out the store's join with apps and its
// check for unchanged rows, which a fresh app's rows all pass. conns connections take the
// pieces in turn, with no lock between them: what the store's writers of one app could do
// without the app's lock.
type pgLoop struct {
	store bool
	conns int
}

func (l pgLoop) figure() string {
	name := "PostgreSQL upsert loop"
	if l.store {
		name = "PostgreSQL loop of the store's statements"
	}
	if l.conns > 1 {
		name += fmt.Sprintf(", %d connections", l.conns)
	}
	return name
}

// The plain loop's and the store's loop's statements.
const (
	plainLoopTable  = `CREATE TABLE loop_endpoints (app_id text COLLATE "C", id text COLLATE "C", data jsonb, PRIMARY KEY (app_id, id))`
	plainLoopStage  = `CREATE TEMPORARY TABLE loop_stage (app_id text, id text, data jsonb) ON COMMIT DELETE ROWS`
	plainLoopUpsert = `INSERT INTO loop_endpoints SELECT * FROM loop_stage ON CONFLICT (app_id, id) DO UPDATE SET data = excluded.data`

	storeLoopTable = `CREATE TABLE loop_endpoints (app bigint NOT NULL, id text COLLATE "C" NOT NULL,
		user_id text COLLATE "C" NOT NULL, address text COLLATE "C" NOT NULL, channel_type text NOT NULL, data jsonb NOT NULL,
		PRIMARY KEY (app, id));
		CREATE INDEX loop_endpoints_user ON loop_endpoints (app, hashtextextended(user_id, 0)) WHERE user_id <> '';
		CREATE INDEX loop_endpoints_address ON loop_endpoints (app, hashtextextended(address, 0)) WHERE address <> ''`
	storeLoopStage = `CREATE TEMPORARY TABLE loop_stage (app bigint, id text, user_id text, address text, channel_type text, data jsonb)
		ON COMMIT DELETE ROWS`
	storeLoopDeactivate = `UPDATE loop_endpoints SET data = jsonb_set(data, '{es}', '"INACTIVE"')
		WHERE app = 1 AND address <> ''
		AND hashtextextended(address, 0) = ANY(ARRAY(SELECT hashtextextended(a, 0) FROM unnest($1::text[]) a))
		AND address = ANY($1) AND id NOT IN (SELECT unnest($2::text[]))
		AND data->>'es' IS DISTINCT FROM 'INACTIVE'`
	storeLoopUpsert = `INSERT INTO loop_endpoints SELECT * FROM loop_stage ON CONFLICT (app, id) DO UPDATE SET
		user_id = excluded.user_id, address = excluded.address, channel_type = excluded.channel_type, data = excluded.data`
)

// run writes the pieces' endpoints, whose documents docs holds in order, into the empty
// database at url, and returns rows per second from the first piece to the last commit.
func (l pgLoop) run(ctx context.Context, url string, pieces [][]*pinfold.Endpoint, docs []string) (float64, error) {
	table, stage := plainLoopTable, plainLoopStage
	if l.store {
		table, stage = storeLoopTable, storeLoopStage
	}
	conns := make([]*pgx.Conn, l.conns)
	for i := range conns {
		conn, err := pgx.Connect(ctx, url)
		if err != nil {
			return 0, err
		}
		defer conn.Close(context.WithoutCancel(ctx))
		if _, err := conn.Exec(ctx, stage); err != nil {
			return 0, err
		}
		conns[i] = conn
	}
	if _, err := conns[0].Exec(ctx, table); err != nil {
		return 0, err
	}
	first := make([]int, len(pieces)) // where each piece's documents begin in docs
	total := 0
	for i, chunk := range pieces {
		first[i] = total
		total += len(chunk)
	}

	var next atomic.Int64
	took, err := timeWorkers(len(conns), func(w int) (bool, error) {
		i := int(next.Add(1)) - 1
		if i >= len(pieces) {
			return true, nil
		}
		return false, pgx.BeginFunc(ctx, conns[w], func(tx pgx.Tx) error { return l.piece(ctx, tx, pieces[i], docs[first[i]:]) })
	})
	if err != nil {
		return 0, err
	}
	var stored int
	if err := conns[0].QueryRow(ctx, `SELECT count(*) FROM loop_endpoints`).Scan(&stored); err != nil {
		return 0, err
	}
	if stored != total {
		return 0, fmt.Errorf("%s stored %d rows of %d", l.figure(), stored, total)
	}
	return float64(total) / took.Seconds(), nil
}

// piece writes one piece in tx; docs begins with its endpoints' documents.
func (l pgLoop) piece(ctx context.Context, tx pgx.Tx, chunk []*pinfold.Endpoint, docs []string) error {
	columns, row, upsert := []string{"app_id", "id", "data"}, func(i int) ([]any, error) {
		return []any{chunk[i].AppID, chunk[i].ID, docs[i]}, nil
	}, plainLoopUpsert
	if l.store {
		var addresses, ids []string
		for _, e := range chunk {
			if e.Address != "" {
				addresses, ids = append(addresses, e.Address), append(ids, e.ID)
			}
		}
		if _, err := tx.Exec(ctx, storeLoopDeactivate, pgx.QueryExecModeDescribeExec, addresses, ids); err != nil {
			return fmt.Errorf("deactivate: %w", err)
		}
		columns, row, upsert = []string{"app", "id", "user_id", "address", "channel_type", "data"}, func(i int) ([]any, error) {
			e := chunk[i]
			return []any{int64(1), e.ID, e.User.UserID, e.Address, e.ChannelType, docs[i]}, nil
		}, storeLoopUpsert
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"loop_stage"}, columns, pgx.CopyFromSlice(len(chunk), row)); err != nil {
		return fmt.Errorf("copy: %w", err)
	}
	_, err := tx.Exec(ctx, upsert)
	return err
}
