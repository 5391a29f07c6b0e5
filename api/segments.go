package api

import (
	"net/http"
	"strconv"

	"github.com/pinfold/pinfold"
)

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

func (s *Server) getEndpoint(w http.ResponseWriter, r *http.Request, _ []byte) error {
	e, err := s.Endpoints.FindEndpoint(r.Context(), r.PathValue("app"), r.PathValue("endpoint"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toEndpointResponse(e))
	return nil
}
