package importer

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/pinfold/pinfold"
	"github.com/pinfold/pinfold/endpointfile"
)

// applyRows turns a piece's decoded rows into endpoint writes and segment members inside the
// piece's transaction, following DESIGN.md §3.5:
//   - a row with Id updates that endpoint (partial update, attributes replaced per name);
//   - a row without Id gets a stable ID derived from ChannelType and Address;
//   - a new endpoint without ChannelType and Address is a failure;
//   - a row of only User.UserId selects that user's existing endpoints for the segment;
//   - RegisterEndpoints decides whether endpoints are written; a segment (DefineSegment or
//     SegmentId) gets every endpoint the rows named; with neither, rows are only validated.
func applyRows(ctx context.Context, tx pinfold.PieceTx, job *pinfold.ImportJob, p *pinfold.Piece, rows []endpointfile.Row, now time.Time) (*pinfold.PieceOutcome, error) {
	out := &pinfold.PieceOutcome{Processed: int64(len(rows))}
	fail := func(line int64, reason string) {
		out.Failures = append(out.Failures, pinfold.Failure{Piece: p.No, Line: line,
			Message: fmt.Sprintf("%s:%d: %s", p.Location(), line, reason)})
	}

	type write struct {
		line   int64
		id     string
		update *pinfold.EndpointUpdate
	}
	var writes []write
	var ids []string
	userLines := map[string]int64{}
	var userIDs []string
	for _, row := range rows {
		switch u := row.Update; {
		case row.Err != nil:
			fail(row.Line, pinfold.ErrorMessage(row.Err))
		case u.IsUserOnly():
			if _, ok := userLines[*u.UserID]; !ok {
				userLines[*u.UserID] = row.Line
				userIDs = append(userIDs, *u.UserID)
			}
		case u.ID != "":
			writes, ids = append(writes, write{row.Line, u.ID, u}), append(ids, u.ID)
		case u.ChannelType == nil || u.Address == nil || *u.ChannelType == "" || *u.Address == "":
			fail(row.Line, "a row without Id needs ChannelType and Address")
		default:
			id := pinfold.DerivedEndpointID(*u.ChannelType, *u.Address)
			writes, ids = append(writes, write{row.Line, id, u}), append(ids, id)
		}
	}

	endpoints, err := tx.FindEndpoints(ctx, job.AppID, ids)
	if err != nil {
		return nil, err
	}
	var changed []*pinfold.Endpoint
	seen := make(map[string]int, len(writes))
	for _, w := range writes {
		u := *w.update
		u.ID = w.id
		e, err := pinfold.ApplyEndpointUpdate(job.AppID, endpoints[w.id], &u, now)
		if err != nil {
			fail(w.line, pinfold.ErrorMessage(err))
			continue
		}
		endpoints[w.id] = e
		if i, ok := seen[w.id]; ok {
			changed[i] = e
		} else {
			seen[w.id] = len(changed)
			changed = append(changed, e)
		}
	}
	def := job.Definition
	if def.RegisterEndpoints && len(changed) > 0 {
		if err := tx.PutEndpoints(ctx, changed); err != nil {
			return nil, err
		}
	}
	if len(userIDs) > 0 {
		byUser, err := tx.FindUserEndpoints(ctx, job.AppID, userIDs)
		if err != nil {
			return nil, err
		}
		var members []pinfold.Member
		for _, id := range userIDs {
			// A user with no endpoint adds nothing to a segment: say so, with the row's place.
			if len(byUser[id]) == 0 {
				fail(userLines[id], fmt.Sprintf("user %q has no endpoints in the application", id))
			}
			members = append(members, byUser[id]...)
		}
		if def.WritesSegment() {
			if err := tx.AddJobMembers(ctx, job.ID, members); err != nil {
				return nil, err
			}
		}
	}
	if def.WritesSegment() && len(changed) > 0 {
		members := make([]pinfold.Member, len(changed))
		for i, e := range changed {
			members[i] = pinfold.Member{EndpointID: e.ID, ChannelType: e.ChannelType}
		}
		if err := tx.AddJobMembers(ctx, job.ID, members); err != nil {
			return nil, err
		}
	}
	slices.SortStableFunc(out.Failures, func(a, b pinfold.Failure) int { return int(a.Line - b.Line) })
	return out, nil
}
