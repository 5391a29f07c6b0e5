package storetest

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pinfold/pinfold"
)

func sp(s string) *string { return &s }

// writeEndpoints applies updates to the app's endpoints in one UpdateEndpoints transaction
// through pinfold.EndpointWriter, as the API does: all or nothing.
func writeEndpoints(s Store, app string, now time.Time, updates ...*pinfold.EndpointUpdate) error {
	return s.UpdateEndpoints(ctx, app, func(tx pinfold.EndpointTx) error {
		w, err := pinfold.NewEndpointWriter(ctx, tx, app, updates, now)
		if err != nil {
			return err
		}
		for _, u := range updates {
			if err := w.Apply(u); err != nil {
				return err
			}
		}
		return w.Commit(ctx)
	})
}

// MustWriteEndpoints is writeEndpoints that fails t on an error.
func MustWriteEndpoints(t *testing.T, s Store, app string, now time.Time, updates ...*pinfold.EndpointUpdate) {
	t.Helper()
	if err := writeEndpoints(s, app, now, updates...); err != nil {
		t.Fatal(err)
	}
}

func mustEndpoint(t *testing.T, s Store, app, id string) *pinfold.Endpoint {
	t.Helper()
	e, err := s.FindEndpoint(ctx, app, id)
	if err != nil {
		t.Fatalf("FindEndpoint(%s): %v", id, err)
	}
	return e
}

// attributeNames returns the app's custom attribute names, sorted, and its quota.
func attributeNames(t *testing.T, s Store, app string) ([]string, int) {
	t.Helper()
	var names []string
	var max int
	if err := s.UpdateEndpoints(ctx, app, func(tx pinfold.EndpointTx) error {
		found, n, err := tx.FindAttributeNames(ctx, app)
		for _, a := range found {
			names = append(names, a.Kind+":"+a.Name)
		}
		max = n
		return err
	}); err != nil {
		t.Fatal(err)
	}
	slices.Sort(names)
	return names, max
}

// testUpdateEndpoints checks UpdateEndpoints with the writer: an endpoint as stored, partial
// updates, all-or-nothing transactions, reads of the transaction's own writes, and the
// 15 endpoints of a user.
func testUpdateEndpoints(t *testing.T, s Store) {
	mustCreateApp(t, s, "app")
	err := writeEndpoints(s, "nope", t0, &pinfold.EndpointUpdate{ID: "e", ChannelType: sp("EMAIL"), Address: sp("a@x")})
	wantCode(t, err, pinfold.ENOTFOUND)

	lat, lon := 59.91, 10.75
	create := &pinfold.EndpointUpdate{ID: "e1", ChannelType: sp("EMAIL"), Address: sp("a@example.com"), UserID: sp("u1"),
		Attributes: pinfold.AttributesOf(map[string][]string{"color": {"red", "blue"}, "it's a.$name": {"x"}}), Metrics: pinfold.MetricsOf(map[string]float64{"visits": 3.5}),
		UserAttributes: pinfold.AttributesOf(map[string][]string{"tier": {"gold"}}), Demographic: pinfold.DemographicUpdate{Platform: sp("iOS"), Make: sp("Apple")},
		Location: pinfold.LocationUpdate{Country: sp("NO"), Latitude: &lat, Longitude: &lon}, RequestID: sp("r1")}
	MustWriteEndpoints(t, s, "app", t0, create)
	want, err := pinfold.ApplyEndpointUpdate("app", nil, create, t0)
	if err != nil {
		t.Fatal(err)
	}
	if got := mustEndpoint(t, s, "app", "e1"); !reflect.DeepEqual(got, want) {
		t.Fatalf("stored endpoint\n%+v\nwant\n%+v", got, want)
	}
	if want.EndpointStatus != "ACTIVE" || want.OptOut != "NONE" || want.EffectiveDate != "2026-11-28T12:00:00.000Z" || !want.CreatedAt.Equal(t0) {
		t.Fatalf("bookkeeping fields of a new endpoint: %+v", want)
	}

	// A partial update replaces the attributes it names and keeps the rest.
	later := t0.Add(time.Hour)
	update := &pinfold.EndpointUpdate{ID: "e1", Attributes: pinfold.AttributesOf(map[string][]string{"color": {"green"}, "it's a.$name": {}}), OptOut: sp("ALL")}
	MustWriteEndpoints(t, s, "app", later, update)
	if want, err = pinfold.ApplyEndpointUpdate("app", want, update, later); err != nil {
		t.Fatal(err)
	}
	got := mustEndpoint(t, s, "app", "e1")
	if !reflect.DeepEqual(got, want) || !slices.Equal(got.Attributes.Map()["color"], []string{"green"}) || len(got.Attributes) != 1 ||
		got.Metrics.Map()["visits"] != 3.5 || !got.CreatedAt.Equal(t0) || got.EffectiveDate != "2026-11-28T13:00:00.000Z" {
		t.Fatalf("after a partial update\n%+v\nwant\n%+v", got, want)
	}

	// fn's error rolls everything back, and comes back as it was.
	boom := errors.New("boom")
	err = s.UpdateEndpoints(ctx, "app", func(tx pinfold.EndpointTx) error {
		u := &pinfold.EndpointUpdate{ID: "e2", ChannelType: sp("SMS"), Address: sp("+1"), Attributes: pinfold.AttributesOf(map[string][]string{"rolled": {"back"}})}
		w, err := pinfold.NewEndpointWriter(ctx, tx, "app", []*pinfold.EndpointUpdate{u}, t0)
		if err != nil {
			return err
		}
		if err := w.Apply(u); err != nil {
			return err
		}
		if err := w.Commit(ctx); err != nil {
			return err
		}
		// The transaction reads its own writes.
		found, err := tx.FindEndpoints(ctx, "app", []string{"e1", "e2", "e3"})
		if err != nil || len(found) != 2 || found["e2"].Address != "+1" {
			t.Errorf("FindEndpoints in the transaction = %v, %v", found, err)
		}
		names, _, err := tx.FindAttributeNames(ctx, "app")
		if err != nil || !slices.Contains(names, pinfold.AttributeName{Kind: pinfold.AttributeKindEndpoint, Name: "rolled"}) {
			t.Errorf("FindAttributeNames in the transaction = %v, %v", names, err)
		}
		return boom
	})
	if err != boom {
		t.Fatalf("UpdateEndpoints = %v, want fn's error", err)
	}
	_, err = s.FindEndpoint(ctx, "app", "e2")
	wantCode(t, err, pinfold.ENOTFOUND)
	if names, _ := attributeNames(t, s, "app"); slices.Contains(names, pinfold.AttributeKindEndpoint+":rolled") {
		t.Fatalf("a rolled-back name was kept: %v", names)
	}

	// A rejected update is EINVALID and writes nothing of its batch.
	err = writeEndpoints(s, "app", t0, &pinfold.EndpointUpdate{ID: "e3", ChannelType: sp("SMS"), Address: sp("+3")},
		&pinfold.EndpointUpdate{ID: "e4", ChannelType: sp("SMS")})
	wantCode(t, err, pinfold.EINVALID)
	_, err = s.FindEndpoint(ctx, "app", "e3")
	wantCode(t, err, pinfold.ENOTFOUND)

	// A user has at most 15 endpoints, counted over what is stored.
	var batch []*pinfold.EndpointUpdate
	for i := range pinfold.MaxEndpointsPerUserID - 1 {
		batch = append(batch, &pinfold.EndpointUpdate{ID: fmt.Sprintf("u-%02d", i), ChannelType: sp("SMS"), Address: sp(fmt.Sprintf("+47%02d", i)), UserID: sp("u1")})
	}
	MustWriteEndpoints(t, s, "app", t0, batch...)
	err = writeEndpoints(s, "app", t0, &pinfold.EndpointUpdate{ID: "u-99", ChannelType: sp("SMS"), Address: sp("+4799"), UserID: sp("u1")})
	if pinfold.ErrorCode(err) != pinfold.EINVALID || !strings.Contains(pinfold.ErrorMessage(err), "already has 15 endpoints") {
		t.Fatalf("a 16th endpoint of a user = %v", err)
	}
	// Moving one of them to another user makes room.
	MustWriteEndpoints(t, s, "app", t0, &pinfold.EndpointUpdate{ID: "u-00", UserID: sp("u2")},
		&pinfold.EndpointUpdate{ID: "u-99", ChannelType: sp("SMS"), Address: sp("+4799"), UserID: sp("u1")})
	if eps, err := s.FindEndpointsByUser(ctx, "app", "u1"); err != nil || len(eps) != pinfold.MaxEndpointsPerUserID {
		t.Fatalf("user u1 has %d endpoints, %v", len(eps), err)
	}
}

// testInactiveRule checks that writing an endpoint makes the app's other endpoints with its
// address INACTIVE, through UpdateEndpoints and through a piece's PutEndpoints alike, and
// touches nothing else.
func testInactiveRule(t *testing.T, s Store) {
	mustCreateApp(t, s, "app")
	mustCreateApp(t, s, "other")
	ep := func(id, address string) *pinfold.EndpointUpdate {
		return &pinfold.EndpointUpdate{ID: id, ChannelType: sp("EMAIL"), Address: sp(address), Attributes: pinfold.AttributesOf(map[string][]string{"n": {id}})}
	}
	MustWriteEndpoints(t, s, "app", t0, ep("a1", "same@x"), ep("b1", "b@x"), ep("blank", "blank@x"))
	MustWriteEndpoints(t, s, "other", t0, ep("o1", "same@x"))
	before := mustEndpoint(t, s, "app", "a1")
	MustWriteEndpoints(t, s, "app", t0.Add(time.Minute), ep("a2", "same@x"))
	status := func(app string, ids ...string) string {
		t.Helper()
		var out []string
		for _, id := range ids {
			out = append(out, id+":"+mustEndpoint(t, s, app, id).EndpointStatus)
		}
		return strings.Join(out, " ")
	}
	if got := status("app", "a1", "a2", "b1"); got != "a1:INACTIVE a2:ACTIVE b1:ACTIVE" {
		t.Fatalf("after a2 took a1's address: %s", got)
	}
	if got := status("other", "o1"); got != "o1:ACTIVE" {
		t.Fatalf("another app's endpoint with the address: %s", got)
	}
	after := mustEndpoint(t, s, "app", "a1")
	before.EndpointStatus = "INACTIVE"
	if !reflect.DeepEqual(after, before) {
		t.Fatalf("the rule changed more than the status:\n%+v\nwant\n%+v", after, before)
	}

	// Writing a1 again makes it the active one; in one batch, the one written last wins.
	MustWriteEndpoints(t, s, "app", t0.Add(2*time.Minute), ep("a1", "same@x"))
	if got := status("app", "a1", "a2"); got != "a1:ACTIVE a2:INACTIVE" {
		t.Fatalf("after a1 was written again: %s", got)
	}
	MustWriteEndpoints(t, s, "app", t0.Add(3*time.Minute), ep("c1", "c@x"), ep("c2", "c@x"), ep("b1", "c@x"))
	if got := status("app", "c1", "c2", "b1", "a1"); got != "c1:INACTIVE c2:INACTIVE b1:ACTIVE a1:ACTIVE" {
		t.Fatalf("after a batch of three with one address: %s", got)
	}

	// The same through an import piece's PutEndpoints.
	mustCreateJob(t, s, "app", "j", pinfold.ImportDefinition{RegisterEndpoints: true})
	mustPlan(t, s, "app", "j", 1)
	commit(t, s, func(tx pinfold.PieceTx) (*pinfold.PieceOutcome, error) {
		e := endpoint("app", "p1", "EMAIL", "same@x", "")
		return &pinfold.PieceOutcome{Processed: 1}, tx.PutEndpoints(ctx, []*pinfold.Endpoint{e, endpoint("app", "p2", "EMAIL", "", "")})
	})
	if got := status("app", "p1", "a1", "a2", "blank"); got != "p1:ACTIVE a1:INACTIVE a2:INACTIVE blank:ACTIVE" {
		t.Fatalf("after a piece wrote the address: %s", got)
	}
}

// testAttributeNameQuota checks the app's quota of custom attribute names: names count once
// per kind however many endpoints use them, stay known after the endpoints drop them, and a
// name past the quota is EINVALID.
func testAttributeNameQuota(t *testing.T, s Store) {
	mustCreateApp(t, s, "app")
	mustCreateApp(t, s, "other")
	names, max := attributeNames(t, s, "app")
	if len(names) != 0 || max != pinfold.DefaultMaxAttributeNames {
		t.Fatalf("a new app has names %v and quota %d, want none and %d", names, max, pinfold.DefaultMaxAttributeNames)
	}
	attrs := map[string][]string{}
	for i := range max - 3 {
		attrs[fmt.Sprintf("a%03d", i)] = []string{"v"}
	}
	MustWriteEndpoints(t, s, "app", t0, &pinfold.EndpointUpdate{ID: "e1", ChannelType: sp("EMAIL"), Address: sp("1@x"), Attributes: pinfold.AttributesOf(attrs)},
		&pinfold.EndpointUpdate{ID: "e2", ChannelType: sp("EMAIL"), Address: sp("2@x"), Attributes: pinfold.AttributesOf(map[string][]string{"a000": {"w"}})})
	MustWriteEndpoints(t, s, "app", t0, &pinfold.EndpointUpdate{ID: "e3", ChannelType: sp("SMS"), Address: sp("+3"),
		Metrics: pinfold.MetricsOf(map[string]float64{"a000": 1}), UserAttributes: pinfold.AttributesOf(map[string][]string{"a000": {"x"}}), Attributes: pinfold.AttributesOf(map[string][]string{"last": {"y"}})})
	names, _ = attributeNames(t, s, "app")
	if len(names) != max || !slices.Contains(names, pinfold.AttributeKindMetric+":a000") || !slices.Contains(names, pinfold.AttributeKindUser+":a000") {
		t.Fatalf("%d names, want %d: %v", len(names), max, names)
	}
	// Dropping an attribute from every endpoint frees no name.
	MustWriteEndpoints(t, s, "app", t0, &pinfold.EndpointUpdate{ID: "e3", Attributes: pinfold.AttributesOf(map[string][]string{"last": {}})})
	err := writeEndpoints(s, "app", t0, &pinfold.EndpointUpdate{ID: "e4", ChannelType: sp("SMS"), Address: sp("+4"), Attributes: pinfold.AttributesOf(map[string][]string{"new": {"z"}})})
	if pinfold.ErrorCode(err) != pinfold.EINVALID || !strings.Contains(pinfold.ErrorMessage(err), fmt.Sprintf("at most %d", max)) {
		t.Fatalf("a name past the quota = %v", err)
	}
	// Known names are still fine, and other apps have quotas of their own.
	MustWriteEndpoints(t, s, "app", t0, &pinfold.EndpointUpdate{ID: "e4", ChannelType: sp("SMS"), Address: sp("+4"), Attributes: pinfold.AttributesOf(map[string][]string{"last": {"z"}, "a001": {"z"}})})
	MustWriteEndpoints(t, s, "other", t0, &pinfold.EndpointUpdate{ID: "e4", ChannelType: sp("SMS"), Address: sp("+4"), Attributes: pinfold.AttributesOf(map[string][]string{"new": {"z"}})})
}

// testConcurrentWriters has API writers and import pieces write one app's endpoints at once.
// Each write is a new endpoint of one user with custom attribute names of its own, so either
// quota stops the writers, and a store that let two writers pass the same check would end up
// over it. Neither quota is exceeded, and every write that succeeded is stored whole.
func testConcurrentWriters(t *testing.T, s Store) {
	for _, tc := range []struct {
		app      string
		perWrite int // names per write
	}{
		{"names", 20}, // 12 writes reach 240 of 250 names: the name quota binds first
		{"users", 1},  // 15 writes give the user 15 endpoints: the user quota binds first
	} {
		mustCreateApp(t, s, tc.app)
		_, max := attributeNames(t, s, tc.app)
		written := writeConcurrently(t, s, tc.app, tc.perWrite)
		names, _ := attributeNames(t, s, tc.app)
		eps, err := s.FindEndpointsByUser(ctx, tc.app, "shared")
		if err != nil {
			t.Fatal(err)
		}
		var stored []string
		for _, e := range eps {
			stored = append(stored, e.ID)
			if len(e.Attributes) != tc.perWrite {
				t.Errorf("endpoint %s has %d attributes, want %d", e.ID, len(e.Attributes), tc.perWrite)
			}
		}
		slices.Sort(written)
		want := min(pinfold.MaxEndpointsPerUserID, max/tc.perWrite)
		if !slices.Equal(stored, written) || len(stored) != want || len(names) != tc.perWrite*want {
			t.Fatalf("app %s: %d writes succeeded (%v), %d endpoints stored (%v), %d names; want %d, %d names",
				tc.app, len(written), written, len(stored), stored, len(names), want, tc.perWrite*want)
		}
	}
}

// writeConcurrently runs 36 writes at once, 24 through UpdateEndpoints and 12 through the
// pieces of an import job, and returns the IDs of those that succeeded. A write that breaks
// a quota is EINVALID, or a failure of its piece.
func writeConcurrently(t *testing.T, s Store, app string, perWrite int) []string {
	const pieces = 12
	mustCreateJob(t, s, app, "j-"+app, pinfold.ImportDefinition{RegisterEndpoints: true})
	mustPlan(t, s, app, "j-"+app, pieces)
	update := func(w, n int) *pinfold.EndpointUpdate {
		u := &pinfold.EndpointUpdate{ID: fmt.Sprintf("w%d-%d", w, n), ChannelType: sp("EMAIL"), Address: sp(fmt.Sprintf("w%d-%d@x", w, n)),
			UserID: sp("shared")}
		for i := range perWrite {
			u.Attributes.Set(fmt.Sprintf("w%d-%d-%d", w, n, i), []string{"v"})
		}
		return u
	}
	var mu sync.Mutex
	var written []string
	succeeded := func(id string) {
		mu.Lock()
		defer mu.Unlock()
		written = append(written, id)
	}
	var wg sync.WaitGroup
	for w := range 8 {
		node := fmt.Sprintf("node-%d", w)
		wg.Go(func() {
			for n := 0; ; n++ {
				u := update(w, n)
				if w%2 == 0 {
					if n == 6 {
						return
					}
					if err := writeEndpoints(s, app, t0, u); err == nil {
						succeeded(u.ID)
					} else if pinfold.ErrorCode(err) != pinfold.EINVALID {
						t.Error(err)
					}
					continue
				}
				p, _, err := s.ClaimPiece(ctx, node, t0, t0.Add(time.Minute))
				if err != nil {
					t.Error(err)
					return
				} else if p == nil {
					return
				}
				applied := false
				err = s.CommitPiece(ctx, p, node, func(tx pinfold.PieceTx) (*pinfold.PieceOutcome, error) {
					applied = false // fn may run more than once: the last run's result counts
					writer, err := pinfold.NewEndpointWriter(ctx, tx, app, []*pinfold.EndpointUpdate{u}, t0)
					if err != nil {
						return nil, err
					}
					if err := writer.Apply(u); err != nil {
						return &pinfold.PieceOutcome{Processed: 1, Failures: []pinfold.Failure{{Piece: p.No, Line: 1, Message: pinfold.ErrorMessage(err)}}}, nil
					}
					applied = true
					return &pinfold.PieceOutcome{Processed: 1}, writer.Commit(ctx)
				})
				if err != nil {
					t.Error(err)
					return
				}
				if applied {
					succeeded(u.ID)
				}
			}
		})
	}
	wg.Wait()
	return written
}

// testDeleteEndpoints checks DeleteEndpoint, FindEndpointsByUser and DeleteEndpointsByUser.
func testDeleteEndpoints(t *testing.T, s Store) {
	mustCreateApp(t, s, "app")
	_, err := s.DeleteEndpoint(ctx, "nope", "e")
	wantCode(t, err, pinfold.ENOTFOUND)
	_, err = s.FindEndpointsByUser(ctx, "nope", "u")
	wantCode(t, err, pinfold.ENOTFOUND)
	_, err = s.DeleteEndpointsByUser(ctx, "nope", "u")
	wantCode(t, err, pinfold.ENOTFOUND)
	var updates []*pinfold.EndpointUpdate
	for _, id := range []string{"c", "a", "B", "b", "x", "y"} {
		user := "u1"
		switch id {
		case "x":
			user = "u2"
		case "y":
			user = ""
		}
		updates = append(updates, &pinfold.EndpointUpdate{ID: id, ChannelType: sp("EMAIL"), Address: sp(id + "@x"), UserID: sp(user)})
	}
	MustWriteEndpoints(t, s, "app", t0, updates...)
	runImport(t, s, "j", "seg", "imported", []pinfold.Member{member("x", "EMAIL"), member("a", "EMAIL")}, t0)

	ids := func(eps []*pinfold.Endpoint) string {
		var out []string
		for _, e := range eps {
			out = append(out, e.ID)
		}
		return strings.Join(out, " ")
	}
	eps, err := s.FindEndpointsByUser(ctx, "app", "u1")
	if err != nil || ids(eps) != "B a b c" {
		t.Fatalf("FindEndpointsByUser = %q, %v; want by ID", ids(eps), err)
	}
	if !reflect.DeepEqual(eps[1], mustEndpoint(t, s, "app", "a")) {
		t.Fatalf("a user's endpoint differs from FindEndpoint's: %+v", eps[1])
	}
	for _, user := range []string{"nobody", ""} {
		_, err = s.FindEndpointsByUser(ctx, "app", user)
		wantCode(t, err, pinfold.ENOTFOUND)
		_, err = s.DeleteEndpointsByUser(ctx, "app", user)
		wantCode(t, err, pinfold.ENOTFOUND)
	}

	x := mustEndpoint(t, s, "app", "x")
	deleted, err := s.DeleteEndpoint(ctx, "app", "x")
	if err != nil || !reflect.DeepEqual(deleted, x) {
		t.Fatalf("DeleteEndpoint = %+v, %v; want the endpoint as it was", deleted, err)
	}
	_, err = s.FindEndpoint(ctx, "app", "x")
	wantCode(t, err, pinfold.ENOTFOUND)
	_, err = s.DeleteEndpoint(ctx, "app", "x")
	wantCode(t, err, pinfold.ENOTFOUND)

	want := eps
	deletedUser, err := s.DeleteEndpointsByUser(ctx, "app", "u1")
	if err != nil || !reflect.DeepEqual(deletedUser, want) {
		t.Fatalf("DeleteEndpointsByUser = %q, %v; want %q as they were", ids(deletedUser), err, ids(want))
	}
	_, err = s.FindEndpointsByUser(ctx, "app", "u1")
	wantCode(t, err, pinfold.ENOTFOUND)
	_, err = s.DeleteEndpointsByUser(ctx, "app", "u1")
	wantCode(t, err, pinfold.ENOTFOUND)
	if _, err := s.FindEndpoint(ctx, "app", "y"); err != nil {
		t.Fatalf("an endpoint without a user was deleted: %v", err)
	}
	// IMPORT segments keep the IDs of deleted endpoints.
	if members, _, err := s.FindSegmentMembers(ctx, "app", "seg", 0, pinfold.Page{}); err != nil || !slices.Equal(members, []string{"a", "x"}) {
		t.Fatalf("IMPORT segment members after the deletes = %v, %v", members, err)
	}
}

// testPieceReimports imports the same endpoints again and again, one piece each time
// through pinfold.EndpointWriter as the importer writes: a piece of new endpoints, one that
// changes none of them, a run of pieces that change every one, then pieces that change some
// and add others. After each piece every endpoint must be what the updates made of it, whatever
// a store skips of the rows it finds unchanged, or however it writes the new ones.
func testPieceReimports(t *testing.T, s Store) {
	mustCreateApp(t, s, "app")
	const pieces, n = 16, 40
	mustCreateJob(t, s, "app", "j", pinfold.ImportDefinition{})
	mustPlan(t, s, "app", "j", pieces)
	want := map[string]*pinfold.Endpoint{}
	update := func(i, version int) *pinfold.EndpointUpdate {
		id := fmt.Sprintf("e%02d", i)
		return &pinfold.EndpointUpdate{ID: id, ChannelType: sp("EMAIL"), Address: sp(id + "@example.com"), UserID: sp(fmt.Sprintf("u%d", i%7)),
			Attributes: pinfold.AttributesOf(map[string][]string{"Tier": {fmt.Sprint("t", version%3)}, "Name": {"é \"q\" <" + id + ">"}}),
			Metrics:    pinfold.MetricsOf(map[string]float64{"version": float64(version), "score": 0.1 * float64(version)}),
			Location:   pinfold.LocationUpdate{Latitude: ptr(47.6 + float64(version)/1e6)}}
	}
	for piece := range pieces {
		var updates []*pinfold.EndpointUpdate
		for i := range n + piece {
			version := 0 // pieces 0, 1 and 13-15: the endpoints as first written
			switch {
			case piece >= 2 && piece < 12:
				version = piece // every endpoint changes
			case piece == 12 && i%2 == 0:
				version = 100 // half of them change
			}
			updates = append(updates, update(i, version))
		}
		if piece == 14 {
			updates = slices.Insert(updates, 3, update(3, 200)) // a change, then the endpoint as written before
		}
		commit(t, s, func(tx pinfold.PieceTx) (*pinfold.PieceOutcome, error) {
			w, err := pinfold.NewEndpointWriter(ctx, tx, "app", updates, t0)
			if err != nil {
				return nil, err
			}
			for _, u := range updates {
				if err := w.Apply(u); err != nil {
					return nil, err
				}
			}
			return &pinfold.PieceOutcome{Processed: int64(len(updates))}, w.Commit(ctx)
		})
		for _, u := range updates {
			e, err := pinfold.ApplyEndpointUpdate("app", want[u.ID], u, t0)
			if err != nil {
				t.Fatal(err)
			}
			want[u.ID] = e
		}
		for id, w := range want {
			if got := mustEndpoint(t, s, "app", id); !reflect.DeepEqual(got, w) {
				t.Fatalf("piece %d: endpoint %s\n%+v\nwant\n%+v", piece, id, got, w)
			}
		}
	}
}

func ptr[T any](v T) *T { return &v }
