package postgres

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/pinfold/pinfold"
	"github.com/pinfold/pinfold/internal/stored"
)

var _ pinfold.SegmentStore = (*DB)(nil)

const segmentColumns = `s.seq, s.id, s.type, s.tags, s.created_at, v.version, v.name, v.updated_at, v.import`

func scanSegment(appID string, row pgx.Row) (*pinfold.Segment, int64, error) {
	var s pinfold.Segment
	var seq, created, updated int64
	var tags, imp []byte
	if err := row.Scan(&seq, &s.ID, &s.Type, &tags, &created, &s.Version, &s.Name, &updated, &imp); err != nil {
		return nil, 0, err
	}
	s.AppID = appID
	s.CreatedAt, s.UpdatedAt = stored.FromNanos(created), stored.FromNanos(updated)
	if err := json.Unmarshal(tags, &s.Tags); err != nil {
		return nil, 0, err
	}
	if imp != nil {
		s.Import = new(pinfold.SegmentImport)
		if err := json.Unmarshal(imp, s.Import); err != nil {
			return nil, 0, err
		}
	}
	return &s, seq, nil
}

// FindSegment returns the latest version of a segment.
func (db *DB) FindSegment(ctx context.Context, appID, segmentID string) (*pinfold.Segment, error) {
	return db.findSegmentVersion(ctx, appID, segmentID, 0)
}

// FindSegmentVersion returns one version of a segment.
func (db *DB) FindSegmentVersion(ctx context.Context, appID, segmentID string, version int) (*pinfold.Segment, error) {
	return db.findSegmentVersion(ctx, appID, segmentID, version)
}

// findSegmentVersion finds version (0 = the latest).
func (db *DB) findSegmentVersion(ctx context.Context, appID, segmentID string, version int) (*pinfold.Segment, error) {
	if _, err := findApp(ctx, db.pool, appID); err != nil {
		return nil, err
	}
	row := db.pool.QueryRow(ctx, `SELECT `+segmentColumns+` FROM segments s
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

// FindSegmentMembers returns one page of the endpoint IDs in a segment version, by ID.
func (db *DB) FindSegmentMembers(ctx context.Context, appID, segmentID string, version int, page pinfold.Page) ([]string, string, error) {
	s, err := db.findSegmentVersion(ctx, appID, segmentID, version)
	if err != nil {
		return nil, "", err
	}
	pos, err := stored.DecodeToken("members", page.Token)
	if err != nil {
		return nil, "", err
	}
	after := ""
	if pos != nil {
		after = pos[0]
	}
	size := stored.PageSize(page)
	rows, err := db.pool.Query(ctx, `SELECT endpoint_id FROM segment_members
		WHERE app_id = $1 AND segment_id = $2 AND version <= $3 AND endpoint_id > $4 ORDER BY endpoint_id LIMIT $5`,
		appID, segmentID, s.Version, after, size+1)
	if err != nil {
		return nil, "", fmt.Errorf("find segment members: %w", err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		if len(ids) == size {
			return ids, stored.EncodeToken("members", ids[len(ids)-1]), nil
		}
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, "", err
		}
		ids = append(ids, id)
	}
	return ids, "", rows.Err()
}
