package api_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/pinfold/pinfold/internal/testserver"
)

// serveAs runs one unsigned request through ServeAs and returns the status and body.
func serveAs(t *testing.T, s *testserver.Server, keyID, method, path, body string) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	s.API.ServeAs(rec, httptest.NewRequest(method, path, strings.NewReader(body)), keyID)
	return rec.Code, rec.Body.String()
}

func TestServeAs(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t, testserver.Options{})
	mine, other := createApp(t, s.Pinpoint, "mine"), createApp(t, s.Pinpoint, "other")
	k := mustCreateKey(t, s, `{"AppIds":["`+*mine.Id+`"]}`)

	// The root key runs any operation without a signature.
	if code, body := serveAs(t, s, testserver.AccessKeyID, "POST", "/v1/apps", `{"Name":"third"}`); code != http.StatusCreated {
		t.Fatalf("CreateApp as root: %d %s", code, body)
	}
	// A scoped key sees only its apps and is refused the others, as when it signs.
	code, body := serveAs(t, s, k.AccessKeyId, "GET", "/v1/apps", "")
	var apps struct{ Item []struct{ Id string } }
	if err := json.Unmarshal([]byte(body), &apps); code != 200 || err != nil || len(apps.Item) != 1 || apps.Item[0].Id != *mine.Id {
		t.Fatalf("GetApps as scoped key: %d %s", code, body)
	}
	if code, body := serveAs(t, s, k.AccessKeyId, "GET", "/v1/apps/"+*other.Id, ""); code != http.StatusForbidden || !strings.Contains(body, "may not use application") {
		t.Fatalf("GetApp of another app: %d %s", code, body)
	}
	// Validation is the API's own.
	if code, body := serveAs(t, s, k.AccessKeyId, "POST", "/v1/apps/"+*mine.Id+"/jobs/import", `{"Format":"XML"}`); code != http.StatusBadRequest || !strings.Contains(body, `Format must be CSV or JSON`) {
		t.Fatalf("CreateImportJob with a bad format: %d %s", code, body)
	}
	// Unknown and revoked keys, and no key, are refused.
	if code, _ := serveAs(t, s, "PFNOSUCHKEY000000000", "GET", "/v1/apps", ""); code != http.StatusForbidden {
		t.Fatalf("unknown key: %d", code)
	}
	if code, _ := serveAs(t, s, "", "GET", "/v1/apps", ""); code != http.StatusForbidden {
		t.Fatalf("no key: %d", code)
	}
	requestAs(t, rootKey, s.URL, "DELETE", "/v1/pinfold/keys/"+k.AccessKeyId, "")
	if code, body := serveAs(t, s, k.AccessKeyId, "GET", "/v1/apps", ""); code != http.StatusForbidden || !strings.Contains(body, "was revoked") {
		t.Fatalf("revoked key: %d %s", code, body)
	}
	// Unknown paths stay the API's 404.
	if code, _ := serveAs(t, s, testserver.AccessKeyID, "GET", "/nowhere", ""); code != http.StatusNotFound {
		t.Fatalf("unknown path: %d", code)
	}
}

// A request that reaches Handler with no signature is still refused: only ServeAs skips
// verification.
func TestServeAsDoesNotOpenHandler(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t, testserver.Options{})
	resp, err := http.Get(s.URL + "/v1/apps")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("unsigned GetApps: %d", resp.StatusCode)
	}
}
