package api

import (
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/pinfold/pinfold"
)

func (s *Server) createApp(w http.ResponseWriter, r *http.Request, body []byte) error {
	var req createApplicationRequest
	if err := decodeBody(body, "CreateApplicationRequest", &req); err != nil {
		return err
	}
	if req.Name == nil || strings.TrimSpace(*req.Name) == "" {
		return pinfold.Errorf(pinfold.EINVALID, "Name is required: give the application a name")
	}
	if !utf8.ValidString(*req.Name) || utf8.RuneCountInString(*req.Name) > 64 {
		return pinfold.Errorf(pinfold.EINVALID, "Name must be valid UTF-8 of at most 64 characters")
	}
	if err := pinfold.ValidateTags(req.Tags); err != nil {
		return err
	}
	app := &pinfold.App{ID: s.NewID(), Name: *req.Name, Tags: req.Tags, CreatedAt: s.Now()}
	if err := s.Apps.CreateApp(r.Context(), app); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, s.toApplicationResponse(app))
	return nil
}

func (s *Server) getApp(w http.ResponseWriter, r *http.Request, _ []byte) error {
	app, err := s.Apps.FindAppByID(r.Context(), r.PathValue("app"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.toApplicationResponse(app))
	return nil
}

func (s *Server) getApps(w http.ResponseWriter, r *http.Request, _ []byte) error {
	page, err := pageParams(r)
	if err != nil {
		return err
	}
	var apps []*pinfold.App
	var next string
	if key := accessKey(r.Context()); key != nil && !key.AllApps() {
		apps, next, err = s.appsOfKey(r.Context(), key, page)
	} else {
		apps, next, err = s.Apps.FindApps(r.Context(), page)
	}
	if err != nil {
		return err
	}
	resp := applicationsResponse{Item: []applicationResponse{}, NextToken: next}
	for _, a := range apps {
		resp.Item = append(resp.Item, s.toApplicationResponse(a))
	}
	writeJSON(w, http.StatusOK, resp)
	return nil
}

func (s *Server) deleteApp(w http.ResponseWriter, r *http.Request, _ []byte) error {
	app, err := s.Apps.DeleteApp(r.Context(), r.PathValue("app"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.toApplicationResponse(app))
	return nil
}
