package api_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/pinpoint"
	"github.com/aws/aws-sdk-go-v2/service/pinpoint/types"
	"github.com/pinfold/pinfold"
	"github.com/pinfold/pinfold/api"
	"github.com/pinfold/pinfold/internal/testlog"
	"github.com/pinfold/pinfold/internal/testserver"
	"github.com/pinfold/pinfold/sqlite"
)

// keyPair is an access key as CreateAccessKey returns it.
type keyPair struct {
	AccessKeyId, SecretAccessKey string
	AppIds                       []string
	ReadOnly                     bool
	CreationDate, RevokedDate    string
}

// rootKey is the test server's root key pair.
var rootKey = keyPair{AccessKeyId: testserver.AccessKeyID, SecretAccessKey: testserver.SecretAccessKey}

// requestAs sends a request signed with key as the SDKs sign it.
func requestAs(t testing.TB, key keyPair, base, method, path, body string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	sum := sha256.Sum256([]byte(body))
	err = v4.NewSigner().SignHTTP(ctx, aws.Credentials{AccessKeyID: key.AccessKeyId, SecretAccessKey: key.SecretAccessKey},
		req, hex.EncodeToString(sum[:]), "mobiletargeting", testserver.Region, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, data
}

// mustCreateKey makes an access key with the root key.
func mustCreateKey(t testing.TB, s *testserver.Server, body string) keyPair {
	t.Helper()
	resp, data := requestAs(t, rootKey, s.URL, "POST", "/v1/pinfold/keys", body)
	var k keyPair
	if err := json.Unmarshal(data, &k); resp.StatusCode != http.StatusCreated || err != nil {
		t.Fatalf("CreateAccessKey %s: %d %s", body, resp.StatusCode, data)
	}
	return k
}

func TestReadOnlyKey(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t, testserver.Options{})
	app := *createApp(t, s.Pinpoint, "reports").Id
	job, err := s.Pinpoint.CreateImportJob(ctx, &pinpoint.CreateImportJobInput{ApplicationId: &app, ImportJobRequest: &types.ImportJobRequest{
		Format: types.FormatCsv, S3Url: aws.String("s3://imports/none/"), RoleArn: aws.String("arn:aws:iam::123456789012:role/import")}})
	if err != nil {
		t.Fatal(err)
	}
	k := mustCreateKey(t, s, `{"ReadOnly":true}`)
	if !regexp.MustCompile(`^PF[A-Z2-7]{18}$`).MatchString(k.AccessKeyId) || len(k.SecretAccessKey) != 40 || !k.ReadOnly || k.AppIds == nil || len(k.AppIds) != 0 {
		t.Fatalf("CreateAccessKey = %+v", k)
	}
	c := s.NewPinpoint(k.AccessKeyId, k.SecretAccessKey)

	got, err := c.GetImportJob(ctx, &pinpoint.GetImportJobInput{ApplicationId: &app, JobId: job.ImportJobResponse.Id})
	if err != nil || *got.ImportJobResponse.Id != *job.ImportJobResponse.Id {
		t.Fatalf("GetImportJob with a read-only key: %v", err)
	}
	if apps, err := c.GetApps(ctx, &pinpoint.GetAppsInput{}); err != nil || len(apps.ApplicationsResponse.Item) != 1 {
		t.Fatalf("GetApps with a read-only key: %+v, %v", apps, err)
	}
	if resp, body := requestAs(t, k, s.URL, "GET", "/v1/apps/"+app+"/jobs/import/"+*job.ImportJobResponse.Id+"/failures", ""); resp.StatusCode != 200 {
		t.Fatalf("the failure report with a read-only key: %d %s", resp.StatusCode, body)
	}
	if resp, body := requestAs(t, k, s.URL, "GET", "/v1/apps/"+app+"/jobs/import/"+*job.ImportJobResponse.Id+"/states", ""); resp.StatusCode != 200 {
		t.Fatalf("the job's states with a read-only key: %d %s", resp.StatusCode, body)
	}

	_, err = c.CreateImportJob(ctx, &pinpoint.CreateImportJobInput{ApplicationId: &app, ImportJobRequest: &types.ImportJobRequest{
		Format: types.FormatCsv, S3Url: aws.String("s3://imports/x/"), RoleArn: aws.String("arn:aws:iam::123456789012:role/import")}})
	wantAPIError[*types.ForbiddenException](t, err, "access key "+k.AccessKeyId+" is read-only: CreateImportJob is not a read")
	_, err = c.CreateApp(ctx, &pinpoint.CreateAppInput{CreateApplicationRequest: &types.CreateApplicationRequest{Name: aws.String("x")}})
	wantAPIError[*types.ForbiddenException](t, err, "is read-only")
	_, err = c.UpdateEndpoint(ctx, &pinpoint.UpdateEndpointInput{ApplicationId: &app, EndpointId: aws.String("e1"),
		EndpointRequest: &types.EndpointRequest{ChannelType: types.ChannelTypeEmail, Address: aws.String("a@example.com")}})
	wantAPIError[*types.ForbiddenException](t, err, "is read-only: UpdateEndpoint")
	_, err = c.DeleteApp(ctx, &pinpoint.DeleteAppInput{ApplicationId: &app})
	wantAPIError[*types.ForbiddenException](t, err, "is read-only: DeleteApp")
	if _, err := s.Pinpoint.GetEndpoint(ctx, &pinpoint.GetEndpointInput{ApplicationId: &app, EndpointId: aws.String("e1")}); !isNotFound(err) {
		t.Fatalf("the refused UpdateEndpoint wrote the endpoint: %v", err)
	}
	// Unknown routes answer the same to every key.
	resp, body := requestAs(t, k, s.URL, "PATCH", "/v1/apps", "")
	wantErrorResponse(t, resp, body, 405, "MethodNotAllowedException", "PATCH is not allowed")
}

func isNotFound(err error) bool {
	var nf *types.NotFoundException
	return errors.As(err, &nf)
}

func TestAppScopedKey(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t, testserver.Options{})
	a := *createApp(t, s.Pinpoint, "a").Id
	b := *createApp(t, s.Pinpoint, "b").Id
	c := *createApp(t, s.Pinpoint, "c").Id
	resp, body := requestAs(t, rootKey, s.URL, "POST", "/v1/pinfold/keys", `{"AppIds":["nope"]}`)
	wantErrorResponse(t, resp, body, 400, "BadRequestException", `AppIds[0]: there is no application "nope"`)
	k := mustCreateKey(t, s, `{"AppIds":["`+c+`","`+a+`","`+c+`"]}`)
	if !slices.Equal(k.AppIds, []string{c, a}) || k.ReadOnly {
		t.Fatalf("CreateAccessKey = %+v, want AppIds [c a] without the repeat", k)
	}
	pp := s.NewPinpoint(k.AccessKeyId, k.SecretAccessKey)

	// GetApps lists the key's apps only, oldest first, and pages through them.
	var got []string
	var token *string
	for pages := 0; ; pages++ {
		out, err := pp.GetApps(ctx, &pinpoint.GetAppsInput{PageSize: aws.String("1"), Token: token})
		if err != nil {
			t.Fatal(err)
		}
		for _, app := range out.ApplicationsResponse.Item {
			got = append(got, *app.Id)
		}
		if token = out.ApplicationsResponse.NextToken; token == nil {
			if pages != 1 {
				t.Fatalf("%d pages of one app, want 2", pages+1)
			}
			break
		}
	}
	if !slices.Equal(got, []string{a, c}) {
		t.Fatalf("GetApps with a key for a and c = %v, want [%s %s]", got, a, c)
	}
	_, err := pp.GetApps(ctx, &pinpoint.GetAppsInput{Token: aws.String("bogus")})
	wantAPIError[*types.BadRequestException](t, err, "token")

	updateEndpoint(t, pp, a, "e1", types.EndpointRequest{ChannelType: types.ChannelTypeEmail, Address: aws.String("a@example.com")})
	if _, err := pp.GetApp(ctx, &pinpoint.GetAppInput{ApplicationId: &c}); err != nil {
		t.Fatal(err)
	}
	for _, call := range []func() error{
		func() error { _, err := pp.GetApp(ctx, &pinpoint.GetAppInput{ApplicationId: &b}); return err },
		func() error {
			_, err := pp.UpdateEndpoint(ctx, &pinpoint.UpdateEndpointInput{ApplicationId: &b, EndpointId: aws.String("e1"),
				EndpointRequest: &types.EndpointRequest{ChannelType: types.ChannelTypeEmail, Address: aws.String("b@example.com")}})
			return err
		},
		func() error {
			_, err := pp.GetImportJobs(ctx, &pinpoint.GetImportJobsInput{ApplicationId: &b})
			return err
		},
		func() error { _, err := pp.DeleteApp(ctx, &pinpoint.DeleteAppInput{ApplicationId: &b}); return err },
	} {
		wantAPIError[*types.ForbiddenException](t, call(), "access key "+k.AccessKeyId+" may not use application "+b)
	}
	resp, body = requestAs(t, k, s.URL, "GET", "/v1/apps/"+b+"/jobs/import/0123456789abcdef0123456789abcdef/states", "")
	wantErrorResponse(t, resp, body, 403, "ForbiddenException", "access key "+k.AccessKeyId+" may not use application "+b)
	// An app that does not exist is as out of scope as another one: its existence is not told.
	_, err = pp.GetApp(ctx, &pinpoint.GetAppInput{ApplicationId: aws.String("0123456789abcdef0123456789abcdef")})
	wantAPIError[*types.ForbiddenException](t, err, "may not use application 0123456789abcdef0123456789abcdef")
	_, err = pp.CreateApp(ctx, &pinpoint.CreateAppInput{CreateApplicationRequest: &types.CreateApplicationRequest{Name: aws.String("d")}})
	wantAPIError[*types.ForbiddenException](t, err, "is limited to applications ("+c+", "+a+") and may not CreateApp")
	_, err = pp.DeleteApp(ctx, &pinpoint.DeleteAppInput{ApplicationId: &a})
	wantAPIError[*types.ForbiddenException](t, err, "may not DeleteApp")

	// An app deleted since is left out of the list; the others keep their place.
	if _, err := s.Pinpoint.DeleteApp(ctx, &pinpoint.DeleteAppInput{ApplicationId: &a}); err != nil {
		t.Fatal(err)
	}
	out, err := pp.GetApps(ctx, &pinpoint.GetAppsInput{})
	if err != nil || len(out.ApplicationsResponse.Item) != 1 || *out.ApplicationsResponse.Item[0].Id != c || out.ApplicationsResponse.NextToken != nil {
		t.Fatalf("GetApps after a's deletion: %+v, %v", out, err)
	}
	// A key for every app may create and delete apps.
	all := mustCreateKey(t, s, `{}`)
	allpp := s.NewPinpoint(all.AccessKeyId, all.SecretAccessKey)
	d := createApp(t, allpp, "d")
	if _, err := allpp.DeleteApp(ctx, &pinpoint.DeleteAppInput{ApplicationId: d.Id}); err != nil {
		t.Fatal(err)
	}
	if out, err := allpp.GetApps(ctx, &pinpoint.GetAppsInput{}); err != nil || len(out.ApplicationsResponse.Item) != 2 {
		t.Fatalf("GetApps with a key for every app: %+v, %v", out, err)
	}
}

func TestRevokedKey(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t, testserver.Options{})
	k := mustCreateKey(t, s, `{}`)
	pp := s.NewPinpoint(k.AccessKeyId, k.SecretAccessKey)
	if _, err := pp.GetApps(ctx, &pinpoint.GetAppsInput{}); err != nil {
		t.Fatal(err)
	}
	// Revoked through this server: refused at once.
	resp, body := requestAs(t, rootKey, s.URL, "DELETE", "/v1/pinfold/keys/"+k.AccessKeyId, "")
	var revoked keyPair
	if err := json.Unmarshal(body, &revoked); resp.StatusCode != 200 || err != nil || revoked.RevokedDate == "" || revoked.SecretAccessKey != "" {
		t.Fatalf("RevokeAccessKey: %d %s", resp.StatusCode, body)
	}
	_, err := pp.GetApps(ctx, &pinpoint.GetAppsInput{})
	wantAPIError[*types.ForbiddenException](t, err, "access key "+k.AccessKeyId+" was revoked at "+revoked.RevokedDate)

	// Revoked by another node (straight in the shared store, past this node's cache):
	// refused within api.DefaultKeyCacheTTL.
	other := mustCreateKey(t, s, `{"ReadOnly":true}`)
	pp = s.NewPinpoint(other.AccessKeyId, other.SecretAccessKey)
	if _, err := pp.GetApps(ctx, &pinpoint.GetAppsInput{}); err != nil {
		t.Fatal(err)
	}
	at := time.Now()
	if _, err := s.DB.RevokeKey(ctx, other.AccessKeyId, at); err != nil {
		t.Fatal(err)
	}
	deadline := at.Add(api.DefaultKeyCacheTTL + time.Second) // a second of slack for a slow machine
	for {
		_, err := pp.GetApps(ctx, &pinpoint.GetAppsInput{})
		var forbidden *types.ForbiddenException
		if errors.As(err, &forbidden) {
			wantAPIError[*types.ForbiddenException](t, err, "was revoked at")
			break
		} else if err != nil {
			t.Fatal(err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("a key revoked by another node still works after %v", time.Since(at))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestKeyManagement(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t, testserver.Options{})
	app := *createApp(t, s.Pinpoint, "a").Id
	before := time.Now().UTC().Truncate(time.Millisecond)
	first := mustCreateKey(t, s, `{"AppIds":["`+app+`"],"ReadOnly":true}`)
	second := mustCreateKey(t, s, `{}`)
	third := mustCreateKey(t, s, `{"ReadOnly":false}`)
	if created, err := time.Parse(pinfold.ISO8601, first.CreationDate); err != nil || created.Before(before) {
		t.Fatalf("CreationDate %q: %v", first.CreationDate, err)
	}

	// Only the root key manages keys: not a key for every app, not even to list.
	for _, req := range []struct{ method, path, body string }{
		{"POST", "/v1/pinfold/keys", `{}`},
		{"GET", "/v1/pinfold/keys", ""},
		{"DELETE", "/v1/pinfold/keys/" + first.AccessKeyId, ""},
	} {
		resp, body := requestAs(t, second, s.URL, req.method, req.path, req.body)
		wantErrorResponse(t, resp, body, 403, "ForbiddenException", "access key "+second.AccessKeyId+" may not use ")
		resp, body = requestAs(t, first, s.URL, req.method, req.path, req.body)
		wantErrorResponse(t, resp, body, 403, "ForbiddenException", "only the root access key may")
	}

	// The list pages, oldest first, and never holds a secret.
	var items []keyPair
	token := ""
	for pages := 0; pages < 5; pages++ {
		path := "/v1/pinfold/keys?page-size=2"
		if token != "" {
			path += "&token=" + token
		}
		resp, body := requestAs(t, rootKey, s.URL, "GET", path, "")
		if resp.StatusCode != 200 {
			t.Fatalf("GetAccessKeys: %d %s", resp.StatusCode, body)
		}
		for _, k := range []keyPair{first, second, third} {
			if bytes.Contains(body, []byte(k.SecretAccessKey)) || bytes.Contains(body, []byte("SecretAccessKey")) {
				t.Fatalf("GetAccessKeys returned a secret: %s", body)
			}
		}
		var page struct {
			Item      []keyPair
			NextToken string
		}
		json.Unmarshal(body, &page)
		items = append(items, page.Item...)
		if token = page.NextToken; token == "" {
			break
		}
	}
	if len(items) != 3 || items[0].AccessKeyId != first.AccessKeyId || !slices.Equal(items[0].AppIds, []string{app}) || !items[0].ReadOnly ||
		items[1].AccessKeyId != second.AccessKeyId || items[1].AppIds == nil || items[2].AccessKeyId != third.AccessKeyId || items[0].RevokedDate != "" {
		t.Fatalf("GetAccessKeys = %+v", items)
	}

	// Revoking twice keeps the first date; unknown keys are 404; the root key is not revocable.
	_, first1 := requestAs(t, rootKey, s.URL, "DELETE", "/v1/pinfold/keys/"+first.AccessKeyId, "")
	resp, first2 := requestAs(t, rootKey, s.URL, "DELETE", "/v1/pinfold/keys/"+first.AccessKeyId, "")
	if resp.StatusCode != 200 || !bytes.Equal(first1, first2) || !bytes.Contains(first2, []byte(`"RevokedDate":"`)) {
		t.Fatalf("revoking twice: %s then %d %s", first1, resp.StatusCode, first2)
	}
	resp, body := requestAs(t, rootKey, s.URL, "DELETE", "/v1/pinfold/keys/PFNOSUCHKEY", "")
	wantErrorResponse(t, resp, body, 404, "NotFoundException", `access key "PFNOSUCHKEY" not found`)
	resp, body = requestAs(t, rootKey, s.URL, "DELETE", "/v1/pinfold/keys/"+rootKey.AccessKeyId, "")
	wantErrorResponse(t, resp, body, 400, "BadRequestException", "the root access key cannot be revoked")

	for _, tc := range []struct{ body, msg string }{
		{`{"ReadOnly":"yes"}`, "ReadOnly must be a boolean"},
		{`{"AppIds":"` + app + `"}`, "AppIds must be an array"},
		{`{"AppIds":[""]}`, `AppIds[0]: there is no application ""`},
		{`{"AppIds":[` + strings.Repeat(`"x",`, 100) + `"x"]}`, "AppIds may name at most 100 applications, got 101"},
		{``, "request body is empty"},
	} {
		resp, body := requestAs(t, rootKey, s.URL, "POST", "/v1/pinfold/keys", tc.body)
		wantErrorResponse(t, resp, body, 400, "BadRequestException", tc.msg)
	}
}

// TestKeySecretsAreNotLogged logs everything the API logs, at debug level, through a key's
// whole life, and checks that its secret appears nowhere.
func TestKeySecretsAreNotLogged(t *testing.T) {
	t.Parallel()
	var log testlog.Buffer
	s := testserver.Start(t, testserver.Options{Server: func(a *api.Server) {
		a.Logger = slog.New(slog.NewJSONHandler(&log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}})
	k := mustCreateKey(t, s, `{"ReadOnly":true}`)
	pp := s.NewPinpoint(k.AccessKeyId, k.SecretAccessKey)
	if _, err := pp.GetApps(ctx, &pinpoint.GetAppsInput{}); err != nil {
		t.Fatal(err)
	}
	_, err := pp.CreateApp(ctx, &pinpoint.CreateAppInput{CreateApplicationRequest: &types.CreateApplicationRequest{Name: aws.String("x")}})
	wantAPIError[*types.ForbiddenException](t, err, "read-only")
	requestAs(t, rootKey, s.URL, "GET", "/v1/pinfold/keys", "")
	requestAs(t, rootKey, s.URL, "DELETE", "/v1/pinfold/keys/"+k.AccessKeyId, "")
	s.NewPinpoint(k.AccessKeyId, k.SecretAccessKey).GetApps(ctx, &pinpoint.GetAppsInput{})

	logged := log.String()
	for _, want := range []string{`"msg":"access key created"`, `"access_key_id":"` + k.AccessKeyId + `"`, `"operation":"CreateAccessKey"`,
		`"msg":"access key revoked"`, `"operation":"RevokeAccessKey"`} {
		if !strings.Contains(logged, want) {
			t.Fatalf("the log lacks %s:\n%s", want, logged)
		}
	}
	if strings.Contains(logged, k.SecretAccessKey) || strings.Contains(logged, testserver.SecretAccessKey) {
		t.Fatalf("a secret is in the log:\n%s", logged)
	}
}

// countingKeys counts the reads of a KeyStore.
type countingKeys struct {
	pinfold.KeyStore
	mu    sync.Mutex
	finds int
}

func (c *countingKeys) FindKey(ctx context.Context, id string) (*pinfold.AccessKey, error) {
	c.mu.Lock()
	c.finds++
	c.mu.Unlock()
	return c.KeyStore.FindKey(ctx, id)
}

func (c *countingKeys) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.finds
}

func TestKeyCache(t *testing.T) {
	t.Parallel()
	db := sqlite.NewDB(filepath.Join(t.TempDir(), "pinfold.db"))
	if err := db.Open(); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	store := &countingKeys{KeyStore: db}
	now := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	cache := &api.KeyCache{KeyStore: store, TTL: time.Second, Now: func() time.Time { return now }}
	if err := cache.CreateKey(ctx, &pinfold.AccessKey{ID: "PFCACHED", Secret: "s", AppIDs: []string{"a"}, CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	find := func(wantFinds int) *pinfold.AccessKey {
		t.Helper()
		k, err := cache.FindKey(ctx, "PFCACHED")
		if err != nil {
			t.Fatal(err)
		}
		if store.count() != wantFinds {
			t.Fatalf("%d store reads, want %d", store.count(), wantFinds)
		}
		return k
	}
	k := find(1)
	k.AppIDs[0] = "changed by a caller"
	if k = find(1); k.AppIDs[0] != "a" {
		t.Fatalf("a caller's change reached the cache: %v", k.AppIDs)
	}
	// Another node revokes the key: seen once the entry is TTL old.
	if _, err := db.RevokeKey(ctx, "PFCACHED", now); err != nil {
		t.Fatal(err)
	}
	now = now.Add(999 * time.Millisecond)
	if k = find(1); k.Revoked() {
		t.Fatal("the entry was read again before its TTL")
	}
	now = now.Add(time.Millisecond)
	if k = find(2); !k.Revoked() {
		t.Fatal("the revocation is not seen after the TTL")
	}
	// A revocation through the cache is seen at once; unknown keys are not remembered.
	if _, err := cache.RevokeKey(ctx, "PFCACHED", now); err != nil {
		t.Fatal(err)
	}
	find(3)
	for range 2 {
		_, err := cache.FindKey(ctx, "PFUNKNOWN")
		if pinfold.ErrorCode(err) != pinfold.ENOTFOUND {
			t.Fatalf("FindKey of an unknown key: %v", err)
		}
	}
	if store.count() != 5 {
		t.Fatalf("%d store reads, want 5: unknown keys are read every time", store.count())
	}
}

// BenchmarkGetImportJob measures what scoped keys cost a request: the root key (no store
// read), a key limited to the app through the cache, and the same key with no cache (two
// store reads a request: the signature check and the scope check).
func BenchmarkGetImportJob(b *testing.B) {
	for _, bc := range []struct {
		name string
		key  string // "" for the root key
		ttl  time.Duration
	}{
		{"root", "", api.DefaultKeyCacheTTL},
		{"scoped-cached", "scoped", api.DefaultKeyCacheTTL},
		{"scoped-uncached", "scoped", 0},
	} {
		b.Run(bc.name, func(b *testing.B) {
			s := testserver.Start(b, testserver.Options{Server: func(a *api.Server) { a.Keys.(*api.KeyCache).TTL = bc.ttl }})
			out, err := s.Pinpoint.CreateApp(ctx, &pinpoint.CreateAppInput{CreateApplicationRequest: &types.CreateApplicationRequest{Name: aws.String("bench")}})
			if err != nil {
				b.Fatal(err)
			}
			app := *out.ApplicationResponse.Id
			job, err := s.Pinpoint.CreateImportJob(ctx, &pinpoint.CreateImportJobInput{ApplicationId: &app, ImportJobRequest: &types.ImportJobRequest{
				Format: types.FormatCsv, S3Url: aws.String("s3://imports/none/"), RoleArn: aws.String("arn:aws:iam::123456789012:role/import")}})
			if err != nil {
				b.Fatal(err)
			}
			pp := s.Pinpoint
			if bc.key != "" {
				k := mustCreateKey(b, s, `{"AppIds":["`+app+`"],"ReadOnly":true}`)
				pp = s.NewPinpoint(k.AccessKeyId, k.SecretAccessKey)
			}
			in := &pinpoint.GetImportJobInput{ApplicationId: &app, JobId: job.ImportJobResponse.Id}
			for b.Loop() {
				if _, err := pp.GetImportJob(ctx, in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkFindKey measures one key read on SQLite, straight and through a KeyCache.
func BenchmarkFindKey(b *testing.B) {
	db := sqlite.NewDB(filepath.Join(b.TempDir(), "pinfold.db"))
	if err := db.Open(); err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	if err := db.CreateKey(ctx, &pinfold.AccessKey{ID: "PFBENCH", Secret: "s", AppIDs: []string{"a"}, CreatedAt: time.Now()}); err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name  string
		store pinfold.KeyStore
	}{
		{"sqlite", db},
		{"cached", &api.KeyCache{KeyStore: db, TTL: api.DefaultKeyCacheTTL}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := bc.store.FindKey(ctx, "PFBENCH"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
