package pinfold

import (
	"context"
	"time"
)

// Segment types.
const (
	SegmentTypeDimensional = "DIMENSIONAL"
	SegmentTypeImport      = "IMPORT"
)

// Segment is one version of a segment: a group of an app's endpoints.
type Segment struct {
	ID        string
	AppID     string
	Name      string
	Type      string // SegmentTypeDimensional or SegmentTypeImport
	Version   int
	Tags      map[string]string
	CreatedAt time.Time // of the segment (version 1)
	UpdatedAt time.Time // of this version
	Import    *SegmentImport
}

// SegmentImport describes how an IMPORT segment version was made (ImportDefinition).
type SegmentImport struct {
	Format        string
	S3URL         string
	RoleARN       string
	ExternalID    string
	Size          int
	ChannelCounts map[string]int
}

// SegmentStore keeps segments and their versions. Import segments are written by the
// importer through ImportJobStore.FinishImportJob.
type SegmentStore interface {
	// FindSegment returns the latest version of a segment, or ENOTFOUND.
	FindSegment(ctx context.Context, appID, segmentID string) (*Segment, error)
	// FindSegmentVersion returns one version of a segment, or ENOTFOUND.
	FindSegmentVersion(ctx context.Context, appID, segmentID string, version int) (*Segment, error)
	// FindSegments returns one page of the app's segments (latest versions), oldest first.
	FindSegments(ctx context.Context, appID string, page Page) ([]*Segment, string, error)
	// FindSegmentVersions returns one page of a segment's versions, oldest first; ENOTFOUND
	// for an unknown segment.
	FindSegmentVersions(ctx context.Context, appID, segmentID string, page Page) ([]*Segment, string, error)
	// FindSegmentMembers returns one page of the endpoint IDs in a segment version.
	FindSegmentMembers(ctx context.Context, appID, segmentID string, version int, page Page) ([]string, string, error)
}

// EndpointStore keeps endpoints.
type EndpointStore interface {
	// FindEndpoint returns the endpoint, or ENOTFOUND.
	FindEndpoint(ctx context.Context, appID, endpointID string) (*Endpoint, error)
}
