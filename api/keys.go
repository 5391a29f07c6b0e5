package api

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/pinfold/pinfold"
)

// adminPrefix starts the paths of Pinfold's administration routes, which only the root key
// may use.
const adminPrefix = "/v1/pinfold/"

// authorize decides, once the signature holds, whether the request's access key may run
// operation op, and returns the key. The rules, in order:
//   - the root key may do everything (and so may every key the Verifier knows when Keys is
//     nil);
//   - a revoked key may do nothing;
//   - an unknown path or method (404, 405) is answered to every key alike;
//   - only the root key may use the administration routes (/v1/pinfold/…);
//   - a read-only key may only read (GET);
//   - a key limited to apps may use only those apps' routes (/v1/apps/{app}/…), and may not
//     create or delete apps (GetApps lists only its apps).
func (s *Server) authorize(r *http.Request, op, keyID string) (*pinfold.AccessKey, error) {
	if keyID == s.RootAccessKeyID || s.Keys == nil {
		return &pinfold.AccessKey{ID: keyID}, nil
	}
	key, err := s.Keys.FindKey(r.Context(), keyID)
	if pinfold.ErrorCode(err) == pinfold.ENOTFOUND {
		return nil, pinfold.Errorf(pinfold.EFORBIDDEN, "the access key ID %q does not exist", keyID)
	} else if err != nil {
		return nil, err
	}
	forbidden := func(format string, args ...any) (*pinfold.AccessKey, error) {
		return nil, pinfold.Errorf(pinfold.EFORBIDDEN, "access key %s "+format, append([]any{keyID}, args...)...)
	}
	app := r.PathValue("app")
	switch {
	case key.Revoked():
		return forbidden("was revoked at %s", pinfold.FormatISO8601(key.RevokedAt))
	case op == "NotFound" || op == "MethodNotAllowed":
		return key, nil
	case strings.HasPrefix(r.URL.Path, adminPrefix):
		return forbidden("may not use %s: only the root access key may", op)
	case key.ReadOnly && r.Method != http.MethodGet && r.Method != http.MethodHead:
		return forbidden("is read-only: %s is not a read", op)
	case app != "" && !key.MayUseApp(app):
		return forbidden("may not use application %s", app)
	case !key.AllApps() && (op == "CreateApp" || op == "DeleteApp"):
		return forbidden("is limited to applications (%s) and may not %s: only a key for every application may", strings.Join(key.AppIDs, ", "), op)
	}
	return key, nil
}

// accessKey returns the access key authorize returned for the request.
func accessKey(ctx context.Context) *pinfold.AccessKey { return callOf(ctx).key }

// appsOfKey returns one page of the apps a key limited to apps may use, oldest first as
// GetApps lists them. Apps deleted since the key was made are left out. A key names at most
// pinfold.MaxKeyApps apps, so they are read one by one and paged here.
func (s *Server) appsOfKey(ctx context.Context, key *pinfold.AccessKey, page pinfold.Page) ([]*pinfold.App, string, error) {
	offset := 0
	if page.Token != "" {
		b, err := base64.RawURLEncoding.DecodeString(page.Token)
		n, convErr := strconv.Atoi(strings.TrimPrefix(string(b), "key-apps:"))
		if err != nil || convErr != nil || !strings.HasPrefix(string(b), "key-apps:") || n < 0 {
			return nil, "", pinfold.Errorf(pinfold.EINVALID, "token %q is not a NextToken this list returned", page.Token)
		}
		offset = n
	}
	var apps []*pinfold.App
	for _, id := range key.AppIDs {
		app, err := s.Apps.FindAppByID(ctx, id)
		if pinfold.ErrorCode(err) == pinfold.ENOTFOUND {
			continue
		} else if err != nil {
			return nil, "", err
		}
		apps = append(apps, app)
	}
	slices.SortStableFunc(apps, func(a, b *pinfold.App) int { return a.CreatedAt.Compare(b.CreatedAt) })
	size := page.Size
	if size <= 0 {
		size = pinfold.DefaultPageSize
	}
	apps = apps[min(offset, len(apps)):]
	if len(apps) <= size {
		return apps, "", nil
	}
	return apps[:size], base64.RawURLEncoding.EncodeToString(fmt.Appendf(nil, "key-apps:%d", offset+size)), nil
}

func (s *Server) keyStore() (pinfold.KeyStore, error) {
	if s.Keys == nil {
		return nil, errors.New("api: Server.Keys is not set")
	}
	return s.Keys, nil
}

// createAccessKey makes a key and returns it with its secret: the only time the secret is
// sent.
func (s *Server) createAccessKey(w http.ResponseWriter, r *http.Request, body []byte) error {
	keys, err := s.keyStore()
	if err != nil {
		return err
	}
	var req createAccessKeyRequest
	if err := decodeBody(body, "CreateAccessKeyRequest", &req); err != nil {
		return err
	}
	if len(req.AppIDs) > pinfold.MaxKeyApps {
		return pinfold.Errorf(pinfold.EINVALID, "AppIds may name at most %d applications, got %d", pinfold.MaxKeyApps, len(req.AppIDs))
	}
	key := &pinfold.AccessKey{ID: pinfold.NewAccessKeyID(), Secret: pinfold.NewSecretAccessKey(),
		ReadOnly: req.ReadOnly != nil && *req.ReadOnly, CreatedAt: s.Now()}
	for i, id := range req.AppIDs {
		if _, err := s.Apps.FindAppByID(r.Context(), id); pinfold.ErrorCode(err) == pinfold.ENOTFOUND {
			return pinfold.Errorf(pinfold.EINVALID, "AppIds[%d]: there is no application %q", i, id)
		} else if err != nil {
			return err
		}
		if !slices.Contains(key.AppIDs, id) {
			key.AppIDs = append(key.AppIDs, id)
		}
	}
	if err := keys.CreateKey(r.Context(), key); err != nil {
		return err
	}
	s.Logger.Info("access key created", append(logAttrs(r), "access_key_id", key.ID, "app_ids", key.AppIDs, "read_only", key.ReadOnly)...)
	resp := toAccessKeyResponse(key)
	resp.SecretAccessKey = key.Secret
	writeJSON(w, http.StatusCreated, resp)
	return nil
}

// getAccessKeys lists the keys, revoked ones included, without their secrets.
func (s *Server) getAccessKeys(w http.ResponseWriter, r *http.Request, _ []byte) error {
	keys, err := s.keyStore()
	if err != nil {
		return err
	}
	page, err := pageParams(r)
	if err != nil {
		return err
	}
	found, next, err := keys.FindKeys(r.Context(), page)
	if err != nil {
		return err
	}
	resp := accessKeysResponse{Item: []accessKeyResponse{}, NextToken: next}
	for _, k := range found {
		resp.Item = append(resp.Item, toAccessKeyResponse(k))
	}
	writeJSON(w, http.StatusOK, resp)
	return nil
}

// revokeAccessKey revokes a key and returns it without its secret.
func (s *Server) revokeAccessKey(w http.ResponseWriter, r *http.Request, _ []byte) error {
	keys, err := s.keyStore()
	if err != nil {
		return err
	}
	id := r.PathValue("key")
	if id == s.RootAccessKeyID {
		return pinfold.Errorf(pinfold.EINVALID, "the root access key cannot be revoked: replace it in the server's environment or credentials file and restart")
	}
	key, err := keys.RevokeKey(r.Context(), id, s.Now())
	if err != nil {
		return err
	}
	s.Logger.Info("access key revoked", append(logAttrs(r), "access_key_id", key.ID)...)
	writeJSON(w, http.StatusOK, toAccessKeyResponse(key))
	return nil
}
