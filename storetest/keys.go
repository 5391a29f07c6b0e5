package storetest

import (
	"fmt"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/pinfold/pinfold"
)

func mustCreateKey(t *testing.T, s Store, key *pinfold.AccessKey) {
	t.Helper()
	if err := s.CreateKey(ctx, key); err != nil {
		t.Fatal(err)
	}
}

func testKeys(t *testing.T, s Store) {
	all := &pinfold.AccessKey{ID: "PFALLAPPS", Secret: "secret/all+apps", CreatedAt: t0}
	scoped := &pinfold.AccessKey{ID: "PFSCOPED", Secret: "secret-scoped", AppIDs: []string{"a1", "a2"}, ReadOnly: true, CreatedAt: t0.Add(time.Second)}
	mustCreateKey(t, s, all)
	mustCreateKey(t, s, scoped)
	for _, want := range []*pinfold.AccessKey{all, scoped} {
		got, err := s.FindKey(ctx, want.ID)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Fatalf("FindKey(%s) = %+v, %v; want %+v", want.ID, got, err, want)
		}
	}
	_, err := s.FindKey(ctx, "PFNOSUCHKEY")
	wantCode(t, err, pinfold.ENOTFOUND)
	if err := s.CreateKey(ctx, &pinfold.AccessKey{ID: "PFSCOPED", Secret: "other", CreatedAt: t0}); err == nil {
		t.Fatal("CreateKey stored a second key with an ID already stored")
	}

	revoked, err := s.RevokeKey(ctx, "PFSCOPED", t0.Add(time.Hour))
	if err != nil || !revoked.RevokedAt.Equal(t0.Add(time.Hour)) || !revoked.Revoked() || revoked.Secret != scoped.Secret ||
		!slices.Equal(revoked.AppIDs, scoped.AppIDs) || !revoked.ReadOnly {
		t.Fatalf("RevokeKey = %+v, %v", revoked, err)
	}
	again, err := s.RevokeKey(ctx, "PFSCOPED", t0.Add(2*time.Hour))
	if err != nil || !again.RevokedAt.Equal(t0.Add(time.Hour)) {
		t.Fatalf("a second RevokeKey = %+v, %v; want the first RevokedAt kept", again, err)
	}
	if got, err := s.FindKey(ctx, "PFSCOPED"); err != nil || !got.RevokedAt.Equal(t0.Add(time.Hour)) {
		t.Fatalf("FindKey after RevokeKey = %+v, %v", got, err)
	}
	if got, err := s.FindKey(ctx, "PFALLAPPS"); err != nil || got.Revoked() {
		t.Fatalf("revoking one key changed another: %+v, %v", got, err)
	}
	_, err = s.RevokeKey(ctx, "PFNOSUCHKEY", t0)
	wantCode(t, err, pinfold.ENOTFOUND)
}

func testKeysPaging(t *testing.T, s Store) {
	var want []string
	for i := range 5 {
		id := fmt.Sprintf("PFKEY%d", i)
		mustCreateKey(t, s, &pinfold.AccessKey{ID: id, Secret: "s" + id, CreatedAt: t0})
		want = append(want, id)
	}
	if _, err := s.RevokeKey(ctx, "PFKEY1", t0); err != nil {
		t.Fatal(err)
	}
	var got []string
	page := pinfold.Page{Size: 2}
	for pages := 0; ; pages++ {
		keys, next, err := s.FindKeys(ctx, page)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range keys {
			got = append(got, k.ID)
			if k.Secret != "s"+k.ID || k.Revoked() != (k.ID == "PFKEY1") {
				t.Fatalf("FindKeys item %+v", k)
			}
		}
		if next == "" {
			if pages != 2 {
				t.Fatalf("%d pages, want 3", pages+1)
			}
			break
		}
		page.Token = next
	}
	if !slices.Equal(got, want) {
		t.Fatalf("FindKeys = %v, want %v (oldest first, revoked keys included)", got, want)
	}
	_, _, err := s.FindKeys(ctx, pinfold.Page{Token: "garbage"})
	wantCode(t, err, pinfold.EINVALID)
}

// testConcurrentRevokes revokes one key from several goroutines at different times: all of
// them see the same, first RevokedAt.
func testConcurrentRevokes(t *testing.T, s Store) {
	mustCreateKey(t, s, &pinfold.AccessKey{ID: "PFRACE", Secret: "s", CreatedAt: t0})
	var wg sync.WaitGroup
	got := make([]time.Time, 8)
	for i := range got {
		wg.Go(func() {
			k, err := s.RevokeKey(ctx, "PFRACE", t0.Add(time.Duration(i+1)*time.Minute))
			if err != nil {
				t.Error(err)
				return
			}
			got[i] = k.RevokedAt
		})
	}
	wg.Wait()
	stored, err := s.FindKey(ctx, "PFRACE")
	if err != nil {
		t.Fatal(err)
	}
	for i, at := range got {
		if !at.Equal(stored.RevokedAt) {
			t.Fatalf("revoke %d saw RevokedAt %v, the store kept %v", i, at, stored.RevokedAt)
		}
	}
}
