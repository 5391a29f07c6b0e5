package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/pinfold/pinfold"
	"github.com/pinfold/pinfold/internal/stored"
)

var _ pinfold.SegmentStore = (*DB)(nil)

const segmentColumns = `s.seq, s.id, s.type, s.tags, s.created_at, v.version, v.name, v.updated_at, v.import, v.dimensions, v.segment_groups`

func scanSegment(appID string, row pgx.Row) (*pinfold.Segment, int64, error) {
	var s pinfold.Segment
	var seq, created, updated int64
	var tags []byte
	var docs stored.SegmentDocs
	if err := row.Scan(&seq, &s.ID, &s.Type, &tags, &created, &s.Version, &s.Name, &updated, &docs.Import, &docs.Dimensions, &docs.Groups); err != nil {
		return nil, 0, err
	}
	s.AppID = appID
	s.CreatedAt, s.UpdatedAt = stored.FromNanos(created), stored.FromNanos(updated)
	if err := json.Unmarshal(tags, &s.Tags); err != nil {
		return nil, 0, err
	}
	if err := docs.Decode(&s); err != nil {
		return nil, 0, err
	}
	return &s, seq, nil
}

// FindSegment returns the latest version of a segment.
func (db *DB) FindSegment(ctx context.Context, appID, segmentID string) (*pinfold.Segment, error) {
	return findSegmentVersion(ctx, db.pool, appID, segmentID, 0)
}

// FindSegmentVersion returns one version of a segment.
func (db *DB) FindSegmentVersion(ctx context.Context, appID, segmentID string, version int) (*pinfold.Segment, error) {
	return findSegmentVersion(ctx, db.pool, appID, segmentID, version)
}

// findSegmentVersion finds version (0 = the latest) of a segment of an app that exists.
func findSegmentVersion(ctx context.Context, q querier, appID, segmentID string, version int) (*pinfold.Segment, error) {
	if _, err := findApp(ctx, q, appID); err != nil {
		return nil, err
	}
	return findVersion(ctx, q, appID, segmentID, version)
}

// findVersion is findSegmentVersion without the check that the app exists.
func findVersion(ctx context.Context, q querier, appID, segmentID string, version int) (*pinfold.Segment, error) {
	row := q.QueryRow(ctx, `SELECT `+segmentColumns+` FROM segments s
		JOIN segment_versions v ON v.app_id = s.app_id AND v.segment_id = s.id
		WHERE s.app_id = $1 AND s.id = $2 AND v.version = CASE WHEN $3::integer = 0 THEN s.latest_version ELSE $3 END`,
		appID, segmentID, version)
	s, _, err := scanSegment(appID, row)
	if isNoRows(err) {
		if version == 0 {
			return nil, pinfold.Errorf(pinfold.ENOTFOUND, "Segment %q not found in application %q", segmentID, appID)
		}
		return nil, pinfold.Errorf(pinfold.ENOTFOUND, "Version %d of segment %q not found in application %q", version, segmentID, appID)
	} else if err != nil {
		return nil, fmt.Errorf("find segment: %w", err)
	}
	return s, nil
}

// segmentFinder looks segment versions of an app up in q.
func segmentFinder(ctx context.Context, q querier, appID string) pinfold.SegmentFinder {
	return func(segmentID string, version int) (*pinfold.Segment, error) {
		return findVersion(ctx, q, appID, segmentID, version)
	}
}

func nonNilTags(tags map[string]string) map[string]string {
	if tags == nil {
		return map[string]string{}
	}
	return tags
}

// CreateSegment stores version 1 of a new segment. The app's lock serialises it with the
// app's other segment writes, so that no two of them make a circle of base segments.
func (db *DB) CreateSegment(ctx context.Context, seg *pinfold.Segment) error {
	return db.appTx(ctx, seg.AppID, false, goneIsNotFound, func(tx pgx.Tx) error {
		if err := pinfold.CheckSegmentSources(seg, segmentFinder(ctx, tx, seg.AppID)); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO segments (app_id, id, type, tags, created_at, latest_version) VALUES ($1, $2, $3, $4, $5, $6)`,
			seg.AppID, seg.ID, seg.Type, nonNilTags(seg.Tags), stored.Nanos(seg.CreatedAt), seg.Version); err != nil {
			return fmt.Errorf("insert segment: %w", err)
		}
		return insertSegmentVersion(ctx, tx, seg)
	})
}

// UpdateSegment writes the next version of a segment, under the app's lock.
func (db *DB) UpdateSegment(ctx context.Context, appID, segmentID string, u *pinfold.SegmentUpdate, now time.Time) (*pinfold.Segment, error) {
	var next *pinfold.Segment
	err := db.appTx(ctx, appID, false, goneIsNotFound, func(tx pgx.Tx) error {
		latest, err := findVersion(ctx, tx, appID, segmentID, 0)
		if err != nil {
			return err
		}
		if next, err = pinfold.ApplySegmentUpdate(latest, u, now); err != nil {
			return err
		}
		if err := pinfold.CheckSegmentSources(next, segmentFinder(ctx, tx, appID)); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE segments SET latest_version = $1, tags = $2 WHERE app_id = $3 AND id = $4`,
			next.Version, nonNilTags(next.Tags), appID, segmentID); err != nil {
			return fmt.Errorf("update segment: %w", err)
		}
		return insertSegmentVersion(ctx, tx, next)
	})
	if err != nil {
		return nil, err
	}
	return next, nil
}

// insertSegmentVersion writes the version row of seg.
func insertSegmentVersion(ctx context.Context, tx pgx.Tx, seg *pinfold.Segment) error {
	docs, err := stored.EncodeSegmentDocs(seg)
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `INSERT INTO segment_versions (app_id, segment_id, version, name, updated_at, import, dimensions, segment_groups)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, seg.AppID, seg.ID, seg.Version, seg.Name, stored.Nanos(seg.UpdatedAt), docs.Import, docs.Dimensions, docs.Groups)
	if err != nil {
		return fmt.Errorf("insert segment version: %w", err)
	}
	return nil
}

// DeleteSegment removes a segment, its versions and its members, under the app's lock.
func (db *DB) DeleteSegment(ctx context.Context, appID, segmentID string) (*pinfold.Segment, error) {
	var seg *pinfold.Segment
	err := db.appTx(ctx, appID, false, goneIsNotFound, func(tx pgx.Tx) error {
		var err error
		if seg, err = findVersion(ctx, tx, appID, segmentID, 0); err != nil {
			return err
		}
		for _, q := range []string{
			`DELETE FROM segment_members WHERE app_id = $1 AND segment_id = $2`,
			`DELETE FROM segment_versions WHERE app_id = $1 AND segment_id = $2`,
			`DELETE FROM segments WHERE app_id = $1 AND id = $2`,
		} {
			if _, err := tx.Exec(ctx, q, appID, segmentID); err != nil {
				return fmt.Errorf("delete segment: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return seg, nil
}

// FindSegments returns one page of an app's segments, oldest first.
func (db *DB) FindSegments(ctx context.Context, appID string, page pinfold.Page) ([]*pinfold.Segment, string, error) {
	if _, err := findApp(ctx, db.pool, appID); err != nil {
		return nil, "", err
	}
	after, err := stored.DecodeSeqToken("segments", page.Token)
	if err != nil {
		return nil, "", err
	}
	size := stored.PageSize(page)
	rows, err := db.pool.Query(ctx, `SELECT `+segmentColumns+` FROM segments s
		JOIN segment_versions v ON v.app_id = s.app_id AND v.segment_id = s.id AND v.version = s.latest_version
		WHERE s.app_id = $1 AND s.seq > $2 ORDER BY s.seq LIMIT $3`, appID, after, size+1)
	if err != nil {
		return nil, "", fmt.Errorf("find segments: %w", err)
	}
	defer rows.Close()
	var segments []*pinfold.Segment
	var last int64
	for rows.Next() {
		if len(segments) == size {
			return segments, stored.EncodeToken("segments", fmt.Sprint(last)), nil
		}
		s, seq, err := scanSegment(appID, rows)
		if err != nil {
			return nil, "", err
		}
		segments, last = append(segments, s), seq
	}
	return segments, "", rows.Err()
}

// FindSegmentVersions returns one page of a segment's versions, oldest first.
func (db *DB) FindSegmentVersions(ctx context.Context, appID, segmentID string, page pinfold.Page) ([]*pinfold.Segment, string, error) {
	if _, err := db.FindSegment(ctx, appID, segmentID); err != nil {
		return nil, "", err
	}
	after, err := stored.DecodeSeqToken("versions", page.Token)
	if err != nil {
		return nil, "", err
	}
	size := stored.PageSize(page)
	rows, err := db.pool.Query(ctx, `SELECT `+segmentColumns+` FROM segments s
		JOIN segment_versions v ON v.app_id = s.app_id AND v.segment_id = s.id
		WHERE s.app_id = $1 AND s.id = $2 AND v.version > $3 ORDER BY v.version LIMIT $4`, appID, segmentID, after, size+1)
	if err != nil {
		return nil, "", fmt.Errorf("find segment versions: %w", err)
	}
	defer rows.Close()
	var segments []*pinfold.Segment
	for rows.Next() {
		if len(segments) == size {
			return segments, stored.EncodeToken("versions", fmt.Sprint(segments[len(segments)-1].Version)), nil
		}
		s, _, err := scanSegment(appID, rows)
		if err != nil {
			return nil, "", err
		}
		segments = append(segments, s)
	}
	return segments, "", rows.Err()
}

// FindSegmentMembers returns one page of the endpoint IDs in a segment version, by ID: an
// IMPORT segment's from segment_members, a DIMENSIONAL segment's by one query whose WHERE
// clause is compiled from its criteria (see dimensions.go).
func (db *DB) FindSegmentMembers(ctx context.Context, appID, segmentID string, version int, page pinfold.Page) ([]string, string, error) {
	pos, err := stored.DecodeToken("members", page.Token)
	if err != nil {
		return nil, "", err
	}
	after := ""
	if pos != nil {
		after = pos[0]
	}
	size := stored.PageSize(page)
	var ids []string
	next := ""
	// One snapshot, so that the criteria, the base segments and the endpoints agree.
	err = pgx.BeginTxFunc(ctx, db.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		s, err := findSegmentVersion(ctx, tx, appID, segmentID, version)
		if err != nil {
			return err
		}
		var rows pgx.Rows
		if s.Type == pinfold.SegmentTypeImport {
			rows, err = tx.Query(ctx, `SELECT endpoint_id FROM segment_members
				WHERE app_id = $1 AND segment_id = $2 AND version <= $3 AND endpoint_id > $4 ORDER BY endpoint_id LIMIT $5`,
				appID, segmentID, s.Version, after, size+1)
		} else {
			c := &compiler{ctx: ctx, q: tx, appID: appID, now: db.Now(), visiting: map[string]bool{}, args: []any{appID, after}}
			var where string
			if where, err = c.segment(s); err != nil {
				return err
			}
			limit := c.arg(size + 1)
			rows, err = tx.Query(ctx, `SELECT e.id FROM endpoints e WHERE e.app = (SELECT seq FROM apps WHERE id = $1) AND e.id > $2 AND (`+where+`)
				ORDER BY e.id LIMIT `+limit, c.args...)
		}
		if err != nil {
			return fmt.Errorf("find segment members: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			if len(ids) == size {
				next = stored.EncodeToken("members", ids[len(ids)-1])
				return nil
			}
			var id string
			if err := rows.Scan(&id); err != nil {
				return err
			}
			ids = append(ids, id)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, "", err
	}
	return ids, next, nil
}
