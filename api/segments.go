package api

import (
	"net/http"
	"strconv"

	"github.com/pinfold/pinfold"
)

func (s *Server) createSegment(w http.ResponseWriter, r *http.Request, body []byte) error {
	u, err := s.segmentUpdate(body)
	if err != nil {
		return err
	}
	seg, err := pinfold.NewSegment(r.PathValue("app"), s.NewID(), u, s.Now())
	if err != nil {
		return err
	}
	if err := s.Segments.CreateSegment(r.Context(), seg); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, s.toSegmentResponse(seg))
	return nil
}

// updateSegment writes a new version of a segment. Members it does not send keep their
// values; on an IMPORT segment it may change only Name and tags.
func (s *Server) updateSegment(w http.ResponseWriter, r *http.Request, body []byte) error {
	u, err := s.segmentUpdate(body)
	if err != nil {
		return err
	}
	seg, err := s.Segments.UpdateSegment(r.Context(), r.PathValue("app"), r.PathValue("segment"), u, s.Now())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.toSegmentResponse(seg))
	return nil
}

func (s *Server) segmentUpdate(body []byte) (*pinfold.SegmentUpdate, error) {
	var req writeSegmentRequest
	if err := decodeBody(body, "WriteSegmentRequest", &req); err != nil {
		return nil, err
	}
	return toSegmentUpdate(&req)
}

func (s *Server) deleteSegment(w http.ResponseWriter, r *http.Request, _ []byte) error {
	seg, err := s.Segments.DeleteSegment(r.Context(), r.PathValue("app"), r.PathValue("segment"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.toSegmentResponse(seg))
	return nil
}

// getSegmentEndpoints lists one page of the IDs of a segment version's endpoints (a Pinfold
// addition; query "version", default the latest, besides page-size and token).
func (s *Server) getSegmentEndpoints(w http.ResponseWriter, r *http.Request, _ []byte) error {
	page, err := pageParams(r)
	if err != nil {
		return err
	}
	version := 0
	if v := r.URL.Query().Get("version"); v != "" {
		if version, err = strconv.Atoi(v); err != nil || version < 1 {
			return pinfold.Errorf(pinfold.EINVALID, "version must be a whole number from 1, got %q", v)
		}
	}
	ids, next, err := s.Segments.FindSegmentMembers(r.Context(), r.PathValue("app"), r.PathValue("segment"), version, page)
	if err != nil {
		return err
	}
	if ids == nil {
		ids = []string{}
	}
	writeJSON(w, http.StatusOK, segmentEndpointsResponse{Item: ids, NextToken: next})
	return nil
}

func (s *Server) getSegment(w http.ResponseWriter, r *http.Request, _ []byte) error {
	seg, err := s.Segments.FindSegment(r.Context(), r.PathValue("app"), r.PathValue("segment"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.toSegmentResponse(seg))
	return nil
}

func (s *Server) getSegmentVersion(w http.ResponseWriter, r *http.Request, _ []byte) error {
	v, err := strconv.Atoi(r.PathValue("version"))
	if err != nil || v < 1 {
		return pinfold.Errorf(pinfold.EINVALID, "version must be a whole number from 1, got %q", r.PathValue("version"))
	}
	seg, err := s.Segments.FindSegmentVersion(r.Context(), r.PathValue("app"), r.PathValue("segment"), v)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.toSegmentResponse(seg))
	return nil
}

func (s *Server) getSegments(w http.ResponseWriter, r *http.Request, _ []byte) error {
	page, err := pageParams(r)
	if err != nil {
		return err
	}
	segs, next, err := s.Segments.FindSegments(r.Context(), r.PathValue("app"), page)
	if err != nil {
		return err
	}
	return s.writeSegments(w, segs, next)
}

func (s *Server) getSegmentVersions(w http.ResponseWriter, r *http.Request, _ []byte) error {
	page, err := pageParams(r)
	if err != nil {
		return err
	}
	segs, next, err := s.Segments.FindSegmentVersions(r.Context(), r.PathValue("app"), r.PathValue("segment"), page)
	if err != nil {
		return err
	}
	return s.writeSegments(w, segs, next)
}

func (s *Server) writeSegments(w http.ResponseWriter, segs []*pinfold.Segment, next string) error {
	resp := segmentsResponse{Item: []segmentResponse{}, NextToken: next}
	for _, seg := range segs {
		resp.Item = append(resp.Item, s.toSegmentResponse(seg))
	}
	writeJSON(w, http.StatusOK, resp)
	return nil
}
