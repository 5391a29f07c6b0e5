package console

import (
	"encoding/json"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// appPage fills what every page of one app shows: the app, the app switcher, the nav.
func (c *Console) appPage(r *http.Request, sess *session, nav, title string) (*page, error) {
	appID := r.PathValue("app")
	var app application
	if err := c.call(r.Context(), sess, "GET", apiPath(appID), nil, nil, &app); err != nil {
		return nil, err
	}
	p := c.sessionPage(sess, title)
	var apps applications
	if err := c.call(r.Context(), sess, "GET", "/v1/apps", url.Values{"page-size": {"100"}}, nil, &apps); err != nil {
		return nil, err
	}
	p.App, p.Apps, p.Nav = &app, apps.Item, nav
	return p, nil
}

func (c *Console) sessionPage(sess *session, title string) *page {
	return &page{Title: title, KeyID: sess.accessKeyID, CSRF: sess.csrf}
}

// appsData is the apps page's data.
type appsData struct {
	Apps    []application
	Deleted bool
	Name    string
}

func (c *Console) appsPage(w http.ResponseWriter, r *http.Request, sess *session) {
	c.showApps(w, r, sess, http.StatusOK, "", "")
}

func (c *Console) showApps(w http.ResponseWriter, r *http.Request, sess *session, status int, errMsg, name string) {
	var apps applications
	if err := c.call(r.Context(), sess, "GET", "/v1/apps", url.Values{"page-size": {"1000"}}, nil, &apps); err != nil {
		c.fail(w, r, sess, err)
		return
	}
	p := c.sessionPage(sess, "Apps")
	p.Error, p.Apps = errMsg, apps.Item
	if r.URL.Query().Get("deleted") == "1" {
		p.Notice = "The app was deleted."
	}
	p.Data = appsData{Apps: apps.Item, Name: name}
	c.render(w, r, status, "apps", p)
}

func (c *Console) createApp(w http.ResponseWriter, r *http.Request, sess *session) {
	name := strings.TrimSpace(r.PostFormValue("name"))
	var app application
	err := c.call(r.Context(), sess, "POST", "/v1/apps", nil, map[string]any{"Name": name}, &app)
	if ae, ok := err.(*apiError); ok {
		c.showApps(w, r, sess, ae.Status, ae.Message, name)
		return
	} else if err != nil {
		c.fail(w, r, sess, err)
		return
	}
	http.Redirect(w, r, appPath(app.ID, "jobs"), http.StatusSeeOther)
}

func (c *Console) switchApp(w http.ResponseWriter, r *http.Request, _ *session) {
	app := r.URL.Query().Get("app")
	if app == "" {
		http.Redirect(w, r, "/console/apps", http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, appPath(app, "jobs"), http.StatusSeeOther)
}

func (c *Console) deleteAppPage(w http.ResponseWriter, r *http.Request, sess *session) {
	p, err := c.appPage(r, sess, "", "Delete app")
	if err != nil {
		c.fail(w, r, sess, err)
		return
	}
	p.Crumbs = []crumb{{p.App.Name, appPath(p.App.ID, "jobs")}, {"Delete", ""}}
	c.render(w, r, http.StatusOK, "delete", p)
}

func (c *Console) deleteApp(w http.ResponseWriter, r *http.Request, sess *session) {
	if err := c.call(r.Context(), sess, "DELETE", apiPath(r.PathValue("app")), nil, nil, nil); err != nil {
		c.fail(w, r, sess, err)
		return
	}
	c.Logger.Info("console deleted app", "access_key_id", sess.accessKeyID, "app_id", r.PathValue("app"))
	http.Redirect(w, r, "/console/apps?deleted=1", http.StatusSeeOther)
}

// jobsData is the import jobs page's data.
type jobsData struct {
	Jobs    []jobView
	Created string // the job just created, highlighted
}

// listJobs returns the views of an app's newest import jobs.
func (c *Console) listJobs(r *http.Request, sess *session) ([]jobView, error) {
	var jobs importJobs
	if err := c.call(r.Context(), sess, "GET", apiPath(r.PathValue("app"), "jobs", "import"),
		url.Values{"page-size": {"50"}}, nil, &jobs); err != nil {
		return nil, err
	}
	now := c.Now()
	views := make([]jobView, len(jobs.Item))
	for i := range jobs.Item {
		views[i] = jobs.Item[i].view(now)
	}
	return views, nil
}

func (c *Console) jobsPage(w http.ResponseWriter, r *http.Request, sess *session) {
	p, err := c.appPage(r, sess, "jobs", "Import jobs")
	if err != nil {
		c.fail(w, r, sess, err)
		return
	}
	views, err := c.listJobs(r, sess)
	if err != nil {
		c.fail(w, r, sess, err)
		return
	}
	created := r.URL.Query().Get("created")
	if created != "" {
		p.Notice = "The import job was created. Its progress updates here as it runs."
	}
	p.Crumbs = []crumb{{p.App.Name, ""}, {"Import jobs", ""}}
	p.Data = jobsData{Jobs: views, Created: created}
	p.Poll = appPath(p.App.ID, "jobs.json")
	c.render(w, r, http.StatusOK, "jobs", p)
}

// jobsJSON is the progress of an app's newest jobs, or with ?job= of that one job, for
// console.js.
func (c *Console) jobsJSON(w http.ResponseWriter, r *http.Request, sess *session) {
	var views []jobView
	var err error
	var timeline []timelineEntry
	if id := r.URL.Query().Get("job"); id != "" {
		var j importJob
		if timeline, err = c.findJob(r, sess, r.PathValue("app"), id, &j); err == nil {
			views = []jobView{j.view(c.Now())}
		}
	} else {
		views, err = c.listJobs(r, sess)
	}
	status := http.StatusOK
	var body any = map[string]any{"jobs": views}
	if timeline != nil {
		body = map[string]any{"jobs": views, "timeline": timeline}
	}
	if ae, ok := err.(*apiError); ok {
		status, body = ae.Status, map[string]string{"error": ae.Message}
	} else if err != nil {
		c.Logger.Error("console jobs", "error", err)
		status, body = http.StatusInternalServerError, map[string]string{"error": "internal error"}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(body)
}

// findJob reads an import job into j and returns its timeline. The states are read after the
// job, so they may be one state ahead of it, never behind.
func (c *Console) findJob(r *http.Request, sess *session, appID, jobID string, j *importJob) ([]timelineEntry, error) {
	if err := c.call(r.Context(), sess, "GET", apiPath(appID, "jobs", "import", jobID), nil, nil, j); err != nil {
		return nil, err
	}
	var states jobStates
	if err := c.call(r.Context(), sess, "GET", apiPath(appID, "jobs", "import", jobID, "states"), nil, nil, &states); err != nil {
		return nil, err
	}
	return j.timeline(states, c.Now()), nil
}

// jobData is the job page's data.
type jobData struct {
	Job      importJob
	View     jobView
	Timeline []timelineEntry
	Segment  string // the segment's console path, when the job wrote one
}

func (c *Console) jobPage(w http.ResponseWriter, r *http.Request, sess *session) {
	p, err := c.appPage(r, sess, "jobs", "Import job")
	if err != nil {
		c.fail(w, r, sess, err)
		return
	}
	var j importJob
	timeline, err := c.findJob(r, sess, p.App.ID, r.PathValue("job"), &j)
	if err != nil {
		c.fail(w, r, sess, err)
		return
	}
	d := jobData{Job: j, View: j.view(c.Now()), Timeline: timeline}
	if j.Definition.SegmentID != "" && (d.View.Terminal && j.JobStatus == "COMPLETED") {
		d.Segment = appPath(p.App.ID, "segments", j.Definition.SegmentID)
	}
	p.Crumbs = []crumb{{p.App.Name, appPath(p.App.ID, "jobs")}, {"Import jobs", appPath(p.App.ID, "jobs")}, {j.ID, ""}}
	p.Data = d
	if !d.View.Terminal {
		p.Poll = appPath(p.App.ID, "jobs.json") + "?job=" + url.QueryEscape(j.ID)
	}
	c.render(w, r, http.StatusOK, "job", p)
}

// failureReport streams a job's full failure report (the API's NDJSON) as a download.
func (c *Console) failureReport(w http.ResponseWriter, r *http.Request, sess *session) {
	appID, jobID := r.PathValue("app"), r.PathValue("job")
	req, err := apiRequest(r.Context(), "GET", apiPath(appID, "jobs", "import", jobID, "failures"), nil, nil)
	if err != nil {
		c.fail(w, r, sess, err)
		return
	}
	dw := &downloadWriter{w: w, header: http.Header{}, filename: "failures-" + safeName(jobID) + ".ndjson"}
	c.API.ServeAs(dw, req, sess.accessKeyID)
	if dw.status != http.StatusOK {
		c.fail(w, r, sess, decodeResponse(dw.status, dw.header, dw.errBody.Bytes(), nil))
	}
}

// safeName keeps the characters of s that are safe in a file name.
func safeName(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			return r
		}
		return -1
	}, s)
}

// segmentsData is the segments page's data.
type segmentsData struct {
	Segments []segment
}

func (c *Console) segmentsPage(w http.ResponseWriter, r *http.Request, sess *session) {
	p, err := c.appPage(r, sess, "segments", "Segments")
	if err != nil {
		c.fail(w, r, sess, err)
		return
	}
	var segs segments
	if err := c.call(r.Context(), sess, "GET", apiPath(p.App.ID, "segments"), url.Values{"page-size": {"200"}}, nil, &segs); err != nil {
		c.fail(w, r, sess, err)
		return
	}
	p.Crumbs = []crumb{{p.App.Name, appPath(p.App.ID, "jobs")}, {"Segments", ""}}
	p.Data = segmentsData{Segments: segs.Item}
	c.render(w, r, http.StatusOK, "segments", p)
}

// segmentData is the segment page's data.
type segmentData struct {
	Segment    segment
	Imports    []jobView
	Exports    []exportJob
	ExportURL  string
	RoleARN    string
	ExportedID string
}

func (c *Console) segmentPage(w http.ResponseWriter, r *http.Request, sess *session) {
	c.showSegment(w, r, sess, http.StatusOK, "", "", "")
}

func (c *Console) showSegment(w http.ResponseWriter, r *http.Request, sess *session, status int, errMsg, exportURL, roleARN string) {
	p, err := c.appPage(r, sess, "segments", "Segment")
	if err != nil {
		c.fail(w, r, sess, err)
		return
	}
	segID := r.PathValue("segment")
	d := segmentData{ExportURL: exportURL, RoleARN: roleARN, ExportedID: r.URL.Query().Get("exported")}
	var imports importJobs
	var exports exportJobs
	err = firstErr(
		func() error {
			return c.call(r.Context(), sess, "GET", apiPath(p.App.ID, "segments", segID), nil, nil, &d.Segment)
		},
		func() error {
			return c.call(r.Context(), sess, "GET", apiPath(p.App.ID, "segments", segID, "jobs", "import"), url.Values{"page-size": {"20"}}, nil, &imports)
		},
		func() error {
			return c.call(r.Context(), sess, "GET", apiPath(p.App.ID, "segments", segID, "jobs", "export"), url.Values{"page-size": {"20"}}, nil, &exports)
		},
	)
	if err != nil {
		c.fail(w, r, sess, err)
		return
	}
	now := c.Now()
	for i := range imports.Item {
		d.Imports = append(d.Imports, imports.Item[i].view(now))
	}
	d.Exports = exports.Item
	if d.ExportURL == "" {
		d.ExportURL = "s3://pinfold-exports/" + d.Segment.ID + "/"
	}
	if d.RoleARN == "" {
		d.RoleARN = c.RoleARN
	}
	if d.ExportedID != "" {
		p.Notice = "The export job was created; it is listed below."
	}
	p.Error = errMsg
	name := d.Segment.Name
	if name == "" {
		name = d.Segment.ID
	}
	p.Title = "Segment " + name
	p.Crumbs = []crumb{{p.App.Name, appPath(p.App.ID, "jobs")}, {"Segments", appPath(p.App.ID, "segments")}, {name, ""}}
	p.Data = d
	c.render(w, r, status, "segment", p)
}

func firstErr(fns ...func() error) error {
	for _, f := range fns {
		if err := f(); err != nil {
			return err
		}
	}
	return nil
}

func (c *Console) createExport(w http.ResponseWriter, r *http.Request, sess *session) {
	appID, segID := r.PathValue("app"), r.PathValue("segment")
	prefix, role := strings.TrimSpace(r.PostFormValue("s3_url_prefix")), strings.TrimSpace(r.PostFormValue("role_arn"))
	var out exportJob
	err := c.call(r.Context(), sess, "POST", apiPath(appID, "jobs", "export"), nil,
		map[string]any{"S3UrlPrefix": prefix, "RoleArn": role, "SegmentId": segID}, &out)
	if ae, ok := err.(*apiError); ok && ae.Status == http.StatusBadRequest {
		c.showSegment(w, r, sess, ae.Status, ae.Message, prefix, role)
		return
	} else if err != nil {
		c.fail(w, r, sess, err)
		return
	}
	http.Redirect(w, r, appPath(appID, "segments", segID)+"?exported="+url.QueryEscape(out.ID), http.StatusSeeOther)
}

// endpointView is one endpoint as the lookup page shows it.
type endpointView struct {
	Fields []field
	Raw    map[string]any
}

type field struct{ Name, Value string }

// endpointsData is the endpoint lookup page's data.
type endpointsData struct {
	EndpointID, UserID string
	Searched           bool
	Endpoints          []endpointView
}

func (c *Console) endpointsPage(w http.ResponseWriter, r *http.Request, sess *session) {
	p, err := c.appPage(r, sess, "endpoints", "Endpoint lookup")
	if err != nil {
		c.fail(w, r, sess, err)
		return
	}
	q := r.URL.Query()
	d := endpointsData{EndpointID: strings.TrimSpace(q.Get("endpoint_id")), UserID: strings.TrimSpace(q.Get("user_id"))}
	var found []map[string]any
	switch {
	case d.EndpointID != "":
		var e map[string]any
		err = c.call(r.Context(), sess, "GET", apiPath(p.App.ID, "endpoints", d.EndpointID), nil, nil, &e)
		found = append(found, e)
	case d.UserID != "":
		var list struct{ Item []map[string]any }
		err = c.call(r.Context(), sess, "GET", apiPath(p.App.ID, "users", d.UserID), nil, nil, &list)
		found = list.Item
	}
	status := http.StatusOK
	if ae, ok := err.(*apiError); ok && (ae.Status == http.StatusNotFound || ae.Status == http.StatusBadRequest) {
		status, p.Error, found = ae.Status, ae.Message, nil
	} else if err != nil {
		c.fail(w, r, sess, err)
		return
	}
	d.Searched = d.EndpointID != "" || d.UserID != ""
	for _, e := range found {
		d.Endpoints = append(d.Endpoints, newEndpointView(e))
	}
	p.Crumbs = []crumb{{p.App.Name, appPath(p.App.ID, "jobs")}, {"Endpoint lookup", ""}}
	p.Data = d
	c.render(w, r, status, "endpoints", p)
}

// newEndpointView picks the members of an EndpointResponse people look for first.
func newEndpointView(e map[string]any) endpointView {
	v := endpointView{Raw: e}
	str := func(m map[string]any, k string) string {
		if s, ok := m[k].(string); ok {
			return s
		}
		return ""
	}
	add := func(name, value string) {
		if value != "" {
			v.Fields = append(v.Fields, field{name, value})
		}
	}
	add("Endpoint ID", str(e, "Id"))
	add("Channel", str(e, "ChannelType"))
	add("Address", str(e, "Address"))
	if u, ok := e["User"].(map[string]any); ok {
		add("User ID", str(u, "UserId"))
	}
	add("Status", str(e, "EndpointStatus"))
	add("Opt-out", str(e, "OptOut"))
	add("Effective", formatDateIf(str(e, "EffectiveDate")))
	add("Created", formatDateIf(str(e, "CreationDate")))
	if attrs, ok := e["Attributes"].(map[string]any); ok {
		for _, name := range slices.Sorted(maps.Keys(attrs)) {
			if list, ok := attrs[name].([]any); ok {
				var s []string
				for _, x := range list {
					if xs, ok := x.(string); ok {
						s = append(s, xs)
					}
				}
				add("Attribute "+name, strings.Join(s, ", "))
			}
		}
	}
	return v
}

func formatDateIf(s string) string {
	if s == "" {
		return ""
	}
	return formatDate(s)
}
