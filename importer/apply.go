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
//   - a new endpoint without ChannelType and Address is a failure, as is a row that breaks a
//     rule of UpdateEndpoint (pinfold.EndpointWriter): the 15 KB endpoint, 15 endpoints per
//     user, the app's quota of custom attribute names;
//   - a row of only User.UserId selects that user's existing endpoints for the segment;
//   - RegisterEndpoints decides whether endpoints are written; a segment (DefineSegment or
//     SegmentId) gets every endpoint the rows named; with neither, rows are only validated.
//
// found, when not nil, is told how many of the rows' endpoints are stored, once they are read.
func applyRows(ctx context.Context, tx pinfold.PieceTx, job *pinfold.ImportJob, p *pinfold.Piece, rows []endpointfile.Row, now time.Time,
	found func(stored int)) (*pinfold.PieceOutcome, error) {
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
			writes = append(writes, write{row.Line, u.ID, u})
		case u.ChannelType == nil || u.Address == nil || *u.ChannelType == "" || *u.Address == "":
			fail(row.Line, "a row without Id needs ChannelType and Address")
		default:
			id := pinfold.DerivedEndpointID(*u.ChannelType, *u.Address)
			writes = append(writes, write{row.Line, id, u})
		}
	}

	// The API's rules (merge, size, 15 endpoints per user, the attribute-name quota, the
	// INACTIVE rule) through the same writer; a row that breaks one is a row failure.
	updates := make([]*pinfold.EndpointUpdate, len(writes))
	for i, w := range writes {
		// In place: the rows are the piece's own, and a second call finds the same IDs.
		w.update.ID = w.id
		updates[i] = w.update
	}
	writer, err := pinfold.NewEndpointWriter(ctx, tx, job.AppID, updates, now)
	if err != nil {
		return nil, err
	}
	writer.Validated = true // endpointfile's decoders validate every row they return
	if found != nil {
		found(writer.Stored())
	}
	for i, w := range writes {
		if err := writer.Apply(updates[i]); err != nil {
			fail(w.line, pinfold.ErrorMessage(err))
		}
	}
	def := job.Definition
	if def.RegisterEndpoints {
		if err := writer.Commit(ctx); err != nil {
			return nil, err
		}
	}
	changed := writer.Changed()
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
