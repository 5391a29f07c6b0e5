package console

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path"
	"strings"
)

// uploadPrefix is the folder of the upload bucket the console's uploads go to.
const uploadPrefix = "console-uploads/"

// maxFieldBytes caps each text field of the upload form.
const maxFieldBytes = 4 << 10

// importForm is what the new import form holds.
type importForm struct {
	S3URL       string
	Format      string // "", CSV or JSON
	SegmentMode string // new, existing or none
	SegmentName string
	SegmentID   string
	Mode        string // register or validate
	RoleARN     string
}

// importData is the new import page's data.
type importData struct {
	Form     importForm
	Segments []segment // the app's IMPORT segments, which an import may add to
	Uploads  bool      // whether files can be uploaded
	Bucket   string
}

func (c *Console) importPage(w http.ResponseWriter, r *http.Request, sess *session) {
	c.showImport(w, r, sess, http.StatusOK, "", importForm{SegmentMode: "new", Mode: "register", RoleARN: c.RoleARN})
}

func (c *Console) showImport(w http.ResponseWriter, r *http.Request, sess *session, status int, errMsg string, f importForm) {
	p, err := c.appPage(r, sess, "import", "New import")
	if err != nil {
		c.fail(w, r, sess, err)
		return
	}
	var segs segments
	if err := c.call(r.Context(), sess, "GET", apiPath(p.App.ID, "segments"), url.Values{"page-size": {"1000"}}, nil, &segs); err != nil {
		c.fail(w, r, sess, err)
		return
	}
	d := importData{Form: f, Uploads: c.Uploader != nil, Bucket: c.UploadBucket}
	for _, s := range segs.Item {
		if s.SegmentType == "IMPORT" {
			d.Segments = append(d.Segments, s)
		}
	}
	p.Error = errMsg
	p.Crumbs = []crumb{{p.App.Name, appPath(p.App.ID, "jobs")}, {"New import", ""}}
	p.Data = d
	c.render(w, r, status, "import", p)
}

// formError is a problem with the import form, shown on the form.
type formError struct {
	status int
	msg    string
}

func (e *formError) Error() string { return e.msg }

// createImport stores the uploaded files (streamed, part by part, into the upload bucket) or
// takes an s3:// location, then creates the import job through the API.
func (c *Console) createImport(w http.ResponseWriter, r *http.Request, sess *session) {
	f, uploaded, err := c.readImportForm(r, sess)
	var fe *formError
	switch {
	case errors.As(err, &fe) && fe.status == http.StatusForbidden:
		c.forbidden(w, r, fe.msg)
		return
	case errors.As(err, &fe):
		c.showImport(w, r, sess, fe.status, fe.msg, f)
		return
	case err != nil:
		c.fail(w, r, sess, err)
		return
	}
	appID := r.PathValue("app")
	req := map[string]any{"RoleArn": f.RoleARN}
	if len(uploaded) > 0 {
		f.S3URL = uploaded[0]
		if len(uploaded) > 1 {
			f.S3URL = uploaded[0][:strings.LastIndex(uploaded[0], "/")+1]
		}
	}
	req["S3Url"] = f.S3URL
	format := f.Format
	if format == "" {
		format = formatOf(uploaded...)
		if len(uploaded) == 0 {
			format = formatOf(f.S3URL)
		}
	}
	if format == "" {
		c.showImport(w, r, sess, http.StatusBadRequest, "Choose the format: it cannot be told from the file names.", f)
		return
	}
	req["Format"] = format
	if f.Mode == "register" {
		req["RegisterEndpoints"] = true
		switch f.SegmentMode {
		case "new":
			req["DefineSegment"] = true
			if f.SegmentName != "" {
				req["SegmentName"] = f.SegmentName
			}
		case "existing":
			req["SegmentId"] = f.SegmentID
		}
	}
	var job importJob
	err = c.call(r.Context(), sess, "POST", apiPath(appID, "jobs", "import"), nil, req, &job)
	var ae *apiError
	if errors.As(err, &ae) && ae.Status == http.StatusBadRequest {
		c.showImport(w, r, sess, ae.Status, ae.Message, f)
		return
	} else if err != nil {
		c.fail(w, r, sess, err)
		return
	}
	c.Logger.Info("console created import job", "access_key_id", sess.accessKeyID, "app_id", appID, "job_id", job.ID, "files", len(uploaded))
	http.Redirect(w, r, appPath(appID, "jobs")+"?created="+url.QueryEscape(job.ID), http.StatusSeeOther)
}

// readImportForm reads the import form. A multipart form is read part by part: the text
// fields come first in the form, so the CSRF token is checked before any file is stored, and
// each file is streamed to the upload bucket as it arrives. It returns the form and the
// s3:// URLs of the stored files.
func (c *Console) readImportForm(r *http.Request, sess *session) (importForm, []string, error) {
	var f importForm
	fields := map[string]string{}
	fill := func() {
		f = importForm{S3URL: strings.TrimSpace(fields["s3_url"]), Format: fields["format"], SegmentMode: fields["segment_mode"],
			SegmentName: strings.TrimSpace(fields["segment_name"]), SegmentID: fields["segment_id"], Mode: fields["mode"],
			RoleARN: strings.TrimSpace(fields["role_arn"])}
		if f.Format == "auto" {
			f.Format = ""
		}
	}
	csrfOK := func() bool {
		t := r.Header.Get(csrfHeader)
		if t == "" {
			t = fields[csrfField]
		}
		return tokensEqual(t, sess.csrf)
	}
	refused := &formError{http.StatusForbidden, "The form has expired or did not come from this console. Go back, reload the page and try again."}
	if !isMultipart(r) {
		r.Body = http.MaxBytesReader(nil, r.Body, 1<<20)
		r.ParseForm()
		for k := range r.PostForm {
			fields[k] = r.PostForm.Get(k)
		}
		fill()
		if !csrfOK() {
			return f, nil, refused
		}
		if f.S3URL == "" {
			return f, nil, &formError{http.StatusBadRequest, "Give an s3:// location, or upload files."}
		}
		return f, nil, nil
	}
	mr, err := r.MultipartReader()
	if err != nil {
		return f, nil, &formError{http.StatusBadRequest, "The form could not be read: " + err.Error()}
	}
	var uploaded []string
	var prefix string
	seen := map[string]bool{}
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		} else if err != nil {
			return f, nil, &formError{http.StatusBadRequest, "The upload was interrupted: " + err.Error()}
		}
		if part.FileName() == "" {
			v, err := io.ReadAll(io.LimitReader(part, maxFieldBytes+1))
			if err != nil || len(v) > maxFieldBytes {
				return f, nil, &formError{http.StatusBadRequest, "The form field " + part.FormName() + " is too long."}
			}
			fields[part.FormName()] = string(v)
			continue
		}
		fill()
		if !csrfOK() {
			return f, nil, refused
		}
		if c.Uploader == nil {
			return f, nil, &formError{http.StatusBadRequest, "This server has no S3 to upload to: give an s3:// location instead."}
		}
		name := cleanFileName(part.FileName())
		switch {
		case name == "":
			return f, nil, &formError{http.StatusBadRequest, fmt.Sprintf("The file name %q cannot be used: rename the file.", part.FileName())}
		case seen[name]:
			return f, nil, &formError{http.StatusBadRequest, fmt.Sprintf("Two files are named %s: an upload's files need different names.", name)}
		}
		seen[name] = true
		if prefix == "" {
			if err := c.Uploader.EnsureBucket(r.Context(), c.UploadBucket); err != nil {
				return f, nil, fmt.Errorf("upload bucket %s: %w", c.UploadBucket, err)
			}
			prefix = uploadPrefix + c.Now().UTC().Format("20060102T150405Z") + "-" + randomHex(4) + "/"
		}
		key := prefix + name
		n, err := c.Uploader.PutStream(r.Context(), c.UploadBucket, key, part)
		if err != nil {
			return f, nil, fmt.Errorf("upload %s to s3://%s/%s: %w", name, c.UploadBucket, key, err)
		}
		c.Logger.Info("console upload", "access_key_id", sess.accessKeyID, "bucket", c.UploadBucket, "key", key, "bytes", n)
		uploaded = append(uploaded, "s3://"+c.UploadBucket+"/"+key)
	}
	fill()
	if !csrfOK() {
		return f, nil, refused
	}
	if len(uploaded) == 0 && f.S3URL == "" {
		return f, nil, &formError{http.StatusBadRequest, "Choose files to upload, or give an s3:// location."}
	}
	if len(uploaded) > 0 && f.Format == "" {
		formats := map[string]bool{}
		for _, u := range uploaded {
			formats[formatOf(u)] = true
		}
		if len(formats) > 1 {
			return f, nil, &formError{http.StatusBadRequest, "The files are of different formats (or of none): an import job reads one format, CSV or JSON."}
		}
	}
	return f, uploaded, nil
}

// cleanFileName keeps the base name of an uploaded file (browsers may send a path) if it is
// a usable object name.
func cleanFileName(name string) string {
	name = path.Base(strings.ReplaceAll(name, "\\", "/"))
	if name == "." || name == "/" || name == ".." || strings.ContainsAny(name, "\x00\r\n") || len(name) > 255 {
		return ""
	}
	return name
}

// formatOf returns the import format the names stand for (as `pinfold import` decides), or
// "" when they do not all say the same.
func formatOf(names ...string) string {
	format := ""
	for _, n := range names {
		lower := strings.TrimSuffix(strings.ToLower(n), ".gz")
		f := ""
		switch path.Ext(lower) {
		case ".csv":
			f = "CSV"
		case ".json", ".jsonl", ".ndjson":
			f = "JSON"
		}
		if f == "" || (format != "" && f != format) {
			return ""
		}
		format = f
	}
	return format
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// downloadWriter passes a successful API response on as a file download, and keeps an
// error response for the console to show as a page.
type downloadWriter struct {
	w        http.ResponseWriter
	header   http.Header
	filename string
	status   int
	errBody  bytes.Buffer
}

func (d *downloadWriter) Header() http.Header { return d.header }

func (d *downloadWriter) WriteHeader(status int) {
	if d.status != 0 {
		return
	}
	d.status = status
	if status == http.StatusOK {
		h := d.w.Header()
		h.Set("Content-Type", d.header.Get("Content-Type"))
		h.Set("Content-Disposition", `attachment; filename="`+d.filename+`"`)
		d.w.WriteHeader(status)
	}
}

func (d *downloadWriter) Write(b []byte) (int, error) {
	if d.status == 0 {
		d.WriteHeader(http.StatusOK)
	}
	if d.status != http.StatusOK {
		return d.errBody.Write(b)
	}
	return d.w.Write(b)
}
