package pinfold

import (
	"context"
	"strings"
	"time"
	"unicode/utf8"
)

// Segment types.
const (
	SegmentTypeDimensional = "DIMENSIONAL"
	SegmentTypeImport      = "IMPORT"
)

// MaxSegmentNameLen is the longest segment name Pinfold accepts, in characters.
const MaxSegmentNameLen = 64

// Segment is one version of a segment: a group of an app's endpoints. An IMPORT segment is
// a fixed set of endpoint IDs written by import jobs (Import); a DIMENSIONAL segment is the
// endpoints that match its Dimensions and Groups when it is read.
type Segment struct {
	ID        string
	AppID     string
	Name      string
	Type      string // SegmentTypeDimensional or SegmentTypeImport
	Version   int
	Tags      map[string]string // of the segment, not of a version
	CreatedAt time.Time         // of the segment (version 1)
	UpdatedAt time.Time         // of this version
	Import    *SegmentImport

	Dimensions *SegmentDimensions // DIMENSIONAL only; nil when not given
	Groups     *SegmentGroupList  // DIMENSIONAL only; nil when not given
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

// SegmentUpdate is a write of a segment from CreateSegment or UpdateSegment. A nil member is
// absent: UpdateSegment keeps the latest version's value of it. A present member replaces
// the value as a whole (a present Dimensions is the new criteria, not a merge).
type SegmentUpdate struct {
	Name       *string
	Dimensions *SegmentDimensions
	Groups     *SegmentGroupList
	Tags       map[string]string // nil when absent; empty to remove every tag
}

// Validate checks u on its own: the name, the tags, every enum and required member of its
// dimensions and groups, and Pinpoint's 100 dimensions per segment. Each problem is an
// EINVALID error whose message names the member, e.g. "SegmentGroups.Groups[0].Type".
func (u *SegmentUpdate) Validate() error {
	if u.Name != nil {
		if !utf8.ValidString(*u.Name) || utf8.RuneCountInString(*u.Name) > MaxSegmentNameLen {
			return Errorf(EINVALID, "Name must be valid UTF-8 of at most %d characters", MaxSegmentNameLen)
		}
	}
	if err := ValidateTags(u.Tags); err != nil {
		return err
	}
	n := 0
	if u.Dimensions != nil {
		if err := u.Dimensions.validate("Dimensions"); err != nil {
			return err
		}
		n += u.Dimensions.count()
	}
	if u.Groups != nil {
		if err := u.Groups.validate(); err != nil {
			return err
		}
		for _, g := range u.Groups.Groups {
			for _, d := range g.Dimensions {
				n += d.count()
			}
		}
	}
	if n > MaxSegmentDimensions {
		return Errorf(EINVALID, "the segment has %d dimensions; a segment may have at most %d", n, MaxSegmentDimensions)
	}
	return nil
}

// NewSegment returns version 1 of a new DIMENSIONAL segment written by u.
func NewSegment(appID, id string, u *SegmentUpdate, now time.Time) (*Segment, error) {
	if err := u.Validate(); err != nil {
		return nil, err
	}
	s := &Segment{ID: id, AppID: appID, Type: SegmentTypeDimensional, Version: 1, Tags: u.Tags,
		CreatedAt: now, UpdatedAt: now, Dimensions: u.Dimensions, Groups: u.Groups}
	if u.Name != nil {
		s.Name = *u.Name
	}
	if s.Tags == nil {
		s.Tags = map[string]string{}
	}
	return s, nil
}

// ApplySegmentUpdate returns the version after latest that u writes; latest is not changed.
// Absent members keep latest's values. An IMPORT segment's members come from its import
// jobs, so u may change only its Name and tags: Dimensions or Groups on one are EINVALID.
func ApplySegmentUpdate(latest *Segment, u *SegmentUpdate, now time.Time) (*Segment, error) {
	if err := u.Validate(); err != nil {
		return nil, err
	}
	if latest.Type == SegmentTypeImport && (u.Dimensions != nil || u.Groups != nil) {
		return nil, Errorf(EINVALID, "segment %q is an IMPORT segment: its endpoints come from its import jobs, so UpdateSegment "+
			"may change only its Name and tags; Dimensions and SegmentGroups belong to DIMENSIONAL segments", latest.ID)
	}
	next := *latest
	next.Version = latest.Version + 1
	next.UpdatedAt = now
	if u.Name != nil {
		next.Name = *u.Name
	}
	if u.Tags != nil {
		next.Tags = u.Tags
	}
	if u.Dimensions != nil {
		next.Dimensions = u.Dimensions
	}
	if u.Groups != nil {
		next.Groups = u.Groups
	}
	return &next, nil
}

// ValidateTags checks the tags of an app or a segment with AWS's tag limits.
func ValidateTags(tags map[string]string) error {
	if len(tags) > 50 {
		return Errorf(EINVALID, "tags may hold at most 50 tags, got %d", len(tags))
	}
	for k, v := range tags {
		if strings.TrimSpace(k) == "" || !utf8.ValidString(k) || !utf8.ValidString(v) ||
			utf8.RuneCountInString(k) > 128 || utf8.RuneCountInString(v) > 256 {
			return Errorf(EINVALID, "tag %q: keys must be 1 to 128 characters and values at most 256", k)
		}
	}
	return nil
}

// SegmentStore keeps segments and their versions. Import segments are written by the
// importer through ImportJobStore.FinishImportJob. Every method returns ENOTFOUND when the
// app does not exist.
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
	// FindSegmentMembers returns one page of the IDs of the endpoints in a segment version
	// (0 is the latest), in ID order, and the token of the next page ("" at the end);
	// ENOTFOUND for an unknown segment or version, EINVALID for a token it did not issue.
	//   - IMPORT: the endpoint IDs its import jobs added up to that version, registered as
	//     endpoints or not.
	//   - DIMENSIONAL: the app's endpoints, as they are now, that match the version's
	//     Dimensions and Groups (SegmentDimensions and SegmentGroupList
	//     say how). The store evaluates
	//     them itself, without loading every endpoint into memory. A base segment that no
	//     longer exists has no members.
	FindSegmentMembers(ctx context.Context, appID, segmentID string, version int, page Page) ([]string, string, error)
	// CreateSegment stores seg (from NewSegment) as version 1 of a new segment. The segments
	// its groups name are checked with CheckSegmentSources in the same transaction.
	CreateSegment(ctx context.Context, seg *Segment) error
	// UpdateSegment writes the next version of a segment, ApplySegmentUpdate of its latest
	// version and u, after CheckSegmentSources, in one transaction, and returns it;
	// ENOTFOUND for an unknown segment, EINVALID for an update the segment does not allow.
	UpdateSegment(ctx context.Context, appID, segmentID string, u *SegmentUpdate, now time.Time) (*Segment, error)
	// DeleteSegment removes a segment with all its versions and members and returns its
	// latest version as it was, or ENOTFOUND. The app's import jobs that wrote it stay, and
	// still list under its ID.
	DeleteSegment(ctx context.Context, appID, segmentID string) (*Segment, error)
}
