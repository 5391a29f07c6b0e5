package api

import (
	"context"
	"net/http"

	"github.com/pinfold/pinfold"
)

// MaxBatchItems is the most endpoints one UpdateEndpointsBatch may write (PINPOINT.md §3.7).
const MaxBatchItems = 100

func (s *Server) getEndpoint(w http.ResponseWriter, r *http.Request, _ []byte) error {
	e, err := s.Endpoints.FindEndpoint(r.Context(), r.PathValue("app"), r.PathValue("endpoint"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toEndpointResponse(e))
	return nil
}

func (s *Server) updateEndpoint(w http.ResponseWriter, r *http.Request, body []byte) error {
	var req endpointRequest
	if err := decodeBody(body, "EndpointRequest", &req); err != nil {
		return err
	}
	u := toEndpointUpdate(r.PathValue("endpoint"), &req)
	if err := s.writeEndpoints(r.Context(), r.PathValue("app"), []*pinfold.EndpointUpdate{u}, nil); err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, messageBody{Message: "Accepted", RequestID: requestID(r.Context())})
	return nil
}

// updateEndpointsBatch writes up to MaxBatchItems endpoints, all or none: an item that
// cannot be written is a 400 naming it, and nothing of the batch is written.
func (s *Server) updateEndpointsBatch(w http.ResponseWriter, r *http.Request, body []byte) error {
	var req endpointBatchRequest
	if err := decodeBody(body, "EndpointBatchRequest", &req); err != nil {
		return err
	}
	switch {
	case req.Item == nil:
		return pinfold.Errorf(pinfold.EINVALID, "Item is required: a list of at most %d endpoints, each with its Id", MaxBatchItems)
	case len(req.Item) > MaxBatchItems:
		return pinfold.Errorf(pinfold.EINVALID, "Item has %d endpoints; a batch may have at most %d: send the rest in another batch", len(req.Item), MaxBatchItems)
	}
	updates := make([]*pinfold.EndpointUpdate, len(req.Item))
	for i := range req.Item {
		item := &req.Item[i]
		if item.ID == nil || *item.ID == "" {
			return pinfold.Errorf(pinfold.EINVALID, "Item[%d].Id is required: every batch item names the endpoint it writes", i)
		}
		updates[i] = toEndpointUpdate(*item.ID, &item.endpointRequest)
	}
	itemErr := func(i int, err error) error {
		return pinfold.Errorf(pinfold.EINVALID, "Item[%d] (Id %q): %s", i, updates[i].ID, pinfold.ErrorMessage(err))
	}
	if err := s.writeEndpoints(r.Context(), r.PathValue("app"), updates, itemErr); err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, messageBody{Message: "Accepted", RequestID: requestID(r.Context())})
	return nil
}

// writeEndpoints applies updates in one store transaction through pinfold.EndpointWriter,
// the rules imports follow too. An update it rejects rolls the whole write back; itemErr,
// when set, says which item it was.
func (s *Server) writeEndpoints(ctx context.Context, appID string, updates []*pinfold.EndpointUpdate, itemErr func(int, error) error) error {
	return s.Endpoints.UpdateEndpoints(ctx, appID, func(tx pinfold.EndpointTx) error {
		writer, err := pinfold.NewEndpointWriter(ctx, tx, appID, updates, s.Now())
		if err != nil {
			return err
		}
		for i, u := range updates {
			if err := writer.Apply(u); err != nil {
				if itemErr != nil && pinfold.ErrorCode(err) == pinfold.EINVALID {
					return itemErr(i, err)
				}
				return err
			}
		}
		return writer.Commit(ctx)
	})
}

func (s *Server) deleteEndpoint(w http.ResponseWriter, r *http.Request, _ []byte) error {
	e, err := s.Endpoints.DeleteEndpoint(r.Context(), r.PathValue("app"), r.PathValue("endpoint"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, toEndpointResponse(e))
	return nil
}

func (s *Server) getUserEndpoints(w http.ResponseWriter, r *http.Request, _ []byte) error {
	endpoints, err := s.Endpoints.FindEndpointsByUser(r.Context(), r.PathValue("app"), r.PathValue("user"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toEndpointsResponse(endpoints))
	return nil
}

func (s *Server) deleteUserEndpoints(w http.ResponseWriter, r *http.Request, _ []byte) error {
	endpoints, err := s.Endpoints.DeleteEndpointsByUser(r.Context(), r.PathValue("app"), r.PathValue("user"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, toEndpointsResponse(endpoints))
	return nil
}
