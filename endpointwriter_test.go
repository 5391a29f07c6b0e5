package pinfold_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pinfold/pinfold"
)

// memTx is an EndpointTx over maps, recording what the writer asks it to write.
type memTx struct {
	endpoints map[string]*pinfold.Endpoint
	names     []pinfold.AttributeName
	max       int
	put       []*pinfold.Endpoint
	added     []pinfold.AttributeName
	users     []string // the users FindUserEndpoints was asked for
}

func (m *memTx) FindEndpoints(_ context.Context, _ string, ids []string) (map[string]*pinfold.Endpoint, error) {
	found := map[string]*pinfold.Endpoint{}
	for _, id := range ids {
		if e, ok := m.endpoints[id]; ok {
			found[id] = e
		}
	}
	return found, nil
}

func (m *memTx) FindUserEndpoints(_ context.Context, _ string, users []string) (map[string][]pinfold.Member, error) {
	m.users = append(m.users, users...)
	wanted := map[string]bool{}
	for _, u := range users {
		wanted[u] = true
	}
	byUser := map[string][]pinfold.Member{}
	for _, e := range m.endpoints {
		if u := e.User.UserID; wanted[u] {
			byUser[u] = append(byUser[u], pinfold.Member{EndpointID: e.ID, ChannelType: e.ChannelType})
		}
	}
	return byUser, nil
}

func (m *memTx) FindAttributeNames(context.Context, string) ([]pinfold.AttributeName, int, error) {
	return m.names, m.max, nil
}

func (m *memTx) AddAttributeNames(_ context.Context, _ string, names []pinfold.AttributeName) error {
	m.added = append(m.added, names...)
	return nil
}

func (m *memTx) PutEndpoints(_ context.Context, endpoints []*pinfold.Endpoint) error {
	m.put = append(m.put, endpoints...)
	return nil
}

// writeBatch applies updates through one EndpointWriter over tx, as the importer does (the
// rows validated already), commits, and returns each update's result: "ok" or its error.
func writeBatch(t *testing.T, tx *memTx, updates []*pinfold.EndpointUpdate, now time.Time) []string {
	t.Helper()
	ctx := context.Background()
	w, err := pinfold.NewEndpointWriter(ctx, tx, "app", updates, now)
	if err != nil {
		t.Fatal(err)
	}
	w.Validated = true
	var results []string
	for _, u := range updates {
		if err := w.Apply(u); err != nil {
			results = append(results, pinfold.ErrorMessage(err))
		} else {
			results = append(results, "ok")
		}
	}
	if err := w.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	return results
}

func TestEndpointWriter(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	old, _ := pinfold.ApplyEndpointUpdate("app", nil, &pinfold.EndpointUpdate{ID: "old", ChannelType: sp("SMS"), Address: sp("+1"), UserID: sp("u")}, now)
	tx := &memTx{endpoints: map[string]*pinfold.Endpoint{"old": old}, max: 2,
		names: []pinfold.AttributeName{{Kind: pinfold.AttributeKindEndpoint, Name: "plan"}}}
	updates := []*pinfold.EndpointUpdate{
		{ID: "a", ChannelType: sp("EMAIL"), Address: sp("x@example.com"), Attributes: pinfold.AttributesOf(map[string][]string{"plan": {"gold"}})},
		{ID: "b", ChannelType: sp("EMAIL"), Address: sp("x@example.com"), Metrics: pinfold.MetricsOf(map[string]float64{"visits": 1})},
		{ID: "c", ChannelType: sp("EMAIL"), Address: sp("c@example.com"), UserAttributes: pinfold.AttributesOf(map[string][]string{"tier": {"vip"}})},
		{ID: "a", OptOut: sp("ALL")},
		{ID: "old", Attributes: pinfold.AttributesOf(map[string][]string{"plan": {}})},
	}
	w, err := pinfold.NewEndpointWriter(ctx, tx, "app", updates, now)
	if err != nil {
		t.Fatal(err)
	}
	for i, u := range updates {
		err := w.Apply(u)
		if i == 2 {
			// A third custom attribute name is one too many; the update changes nothing.
			if err == nil || !strings.Contains(pinfold.ErrorMessage(err), "User.UserAttributes.tier would be custom attribute name 3") {
				t.Fatalf("Apply(c) = %v", err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("Apply(%s): %v", u.ID, err)
		}
	}
	if err := w.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range tx.put {
		got = append(got, e.ID+":"+e.EndpointStatus+":"+e.OptOut)
	}
	// a was written last of the two with x@example.com, so b is the INACTIVE one.
	if strings.Join(got, " ") != "a:ACTIVE:ALL b:INACTIVE:NONE old:ACTIVE:NONE" {
		t.Fatalf("put %v", got)
	}
	if len(tx.added) != 1 || tx.added[0] != (pinfold.AttributeName{Kind: pinfold.AttributeKindMetric, Name: "visits"}) {
		t.Fatalf("added names %v", tx.added)
	}
	if e := tx.put[2]; e.Attributes != nil || e.User.UserID != "u" {
		t.Fatalf("old after removing its only attribute: %+v", e)
	}
	if err := w.Apply(&pinfold.EndpointUpdate{OptOut: sp("ALL")}); err == nil || !strings.Contains(err.Error(), "Id is required") {
		t.Fatalf("Apply without ID = %v", err)
	}
}

// TestEndpointWriterNewNamesInOrder checks that the custom attribute names an update uses
// for the first time count against the app's quota and are added sorted by kind and then
// name, whatever order its maps hold them in, and that the error of an update past the quota
// names the first of them; for a new endpoint, prepared on another goroutine or not, and for
// a stored one. An attribute without values uses no name.
func TestEndpointWriterNewNamesInOrder(t *testing.T) {
	now := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	for _, id := range []string{"new", "stored"} {
		for _, prepareMin := range []int{1, 1000} {
			t.Run(fmt.Sprintf("%s/prepareMin=%d", id, prepareMin), func(t *testing.T) {
				defer pinfold.SetPrepareMin(prepareMin)()
				stored, _ := pinfold.ApplyEndpointUpdate("app", nil, &pinfold.EndpointUpdate{ID: "stored", ChannelType: sp("SMS"), Address: sp("+1")}, now)
				tx := &memTx{endpoints: map[string]*pinfold.Endpoint{"stored": stored}, max: 5,
					names: []pinfold.AttributeName{{Kind: pinfold.AttributeKindEndpoint, Name: "plan"}}}
				over := &pinfold.EndpointUpdate{ID: id, ChannelType: sp("EMAIL"), Address: sp("x@example.com"),
					Attributes:     pinfold.AttributesOf(map[string][]string{"zeta": {"1"}, "alpha": {"2"}, "plan": {"3"}, "empty": {}}),
					Metrics:        pinfold.MetricsOf(map[string]float64{"visits": 1, "clicks": 2}),
					UserAttributes: pinfold.AttributesOf(map[string][]string{"tier": {"vip"}})}
				fits := &pinfold.EndpointUpdate{ID: id, Attributes: pinfold.AttributesOf(map[string][]string{"zeta": {"1"}, "plan": {}, "alpha": {"2"}}),
					Metrics: pinfold.MetricsOf(map[string]float64{"visits": 1}), UserAttributes: pinfold.AttributesOf(map[string][]string{"empty": {}})}
				if id == "new" {
					fits.ChannelType, fits.Address = sp("EMAIL"), sp("x@example.com")
				}
				// over, the first update of its ID, is prepared on the other goroutine when it is
				// new and prepareMin allows; fits never is, and writes what over failed to.
				w, err := pinfold.NewEndpointWriter(context.Background(), tx, "app", []*pinfold.EndpointUpdate{over, fits}, now)
				if err != nil {
					t.Fatal(err)
				}
				w.Validated = true
				// Five new names (alpha, zeta, clicks, visits, tier) beside plan: one too many.
				if err := w.Apply(over); err == nil || !strings.Contains(pinfold.ErrorMessage(err), "Attributes.alpha would be custom attribute name 2 ") {
					t.Fatalf("Apply(over) = %v", err)
				}
				if err := w.Apply(fits); err != nil {
					t.Fatalf("Apply(fits): %v", err)
				}
				if err := w.Commit(context.Background()); err != nil {
					t.Fatal(err)
				}
				want := []pinfold.AttributeName{{Kind: pinfold.AttributeKindEndpoint, Name: "alpha"}, {Kind: pinfold.AttributeKindEndpoint, Name: "zeta"},
					{Kind: pinfold.AttributeKindMetric, Name: "visits"}}
				if !slices.Equal(tx.added, want) {
					t.Fatalf("added names %v, want %v", tx.added, want)
				}
			})
		}
	}
}

// TestEndpointWriterPrepared checks that a batch large enough to be prepared on another
// goroutine (new endpoints merged ahead) is written exactly as the same batch applied one
// update at a time: new, stored and repeated IDs, a new endpoint without an address, an
// endpoint too large, a sixteenth endpoint for a user, and a name past the app's quota.
func TestEndpointWriterPrepared(t *testing.T) {
	now := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	stored := func() map[string]*pinfold.Endpoint {
		m := map[string]*pinfold.Endpoint{}
		for i := range 20 {
			id := fmt.Sprintf("s%02d", i)
			m[id], _ = pinfold.ApplyEndpointUpdate("app", nil, &pinfold.EndpointUpdate{ID: id, ChannelType: sp("EMAIL"),
				Address: sp(id + "@example.com"), UserID: sp("full"), Attributes: pinfold.AttributesOf(map[string][]string{"plan": {"old"}})}, now)
		}
		return m
	}
	var updates []*pinfold.EndpointUpdate
	for i := range 600 {
		id := fmt.Sprintf("n%03d", i%500) // the last 100 repeat IDs written before
		u := &pinfold.EndpointUpdate{ID: id, ChannelType: sp("SMS"), Address: sp(fmt.Sprintf("+1555%04d", i%450)),
			Attributes: pinfold.AttributesOf(map[string][]string{"plan": {"gold"}}), Metrics: pinfold.MetricsOf(map[string]float64{"visits": float64(i)})}
		switch i % 50 {
		case 3:
			u.Address = nil // new: fails; repeated: keeps its address
		case 7:
			u.UserID = sp("full") // a sixteenth endpoint for the user fails
		case 11:
			u.UserAttributes = pinfold.AttributesOf(map[string][]string{fmt.Sprintf("name%d", i): {"x"}}) // past the quota from the third
		case 13:
			u.Attributes = pinfold.AttributesOf(map[string][]string{"big": {strings.Repeat("x", pinfold.MaxEndpointBytes)}}) // too large
		case 17:
			u.Attributes = pinfold.AttributesOf(map[string][]string{"plan": {}}) // removes the attribute
		}
		updates = append(updates, u)
		if i%25 == 0 {
			updates = append(updates, &pinfold.EndpointUpdate{ID: fmt.Sprintf("s%02d", i/25%20), OptOut: sp("ALL"),
				Attributes: pinfold.AttributesOf(map[string][]string{"plan": {"new"}})})
		}
	}
	run := func(prepareMin int) ([]string, *memTx) {
		defer pinfold.SetPrepareMin(prepareMin)()
		// The size rule, not validation, meets the large endpoint, as in an import.
		tx := &memTx{endpoints: stored(), max: 5, names: []pinfold.AttributeName{{Kind: pinfold.AttributeKindEndpoint, Name: "plan"}}}
		results := writeBatch(t, tx, updates, now)
		for i, u := range updates {
			results[i] = u.ID + ": " + results[i]
		}
		return results, tx
	}
	wantResults, want := run(1 << 30)
	gotResults, got := run(1)
	for i := range wantResults {
		if gotResults[i] != wantResults[i] {
			t.Fatalf("prepared batch: update %d: %s, want %s", i, gotResults[i], wantResults[i])
		}
	}
	if !reflect.DeepEqual(got.put, want.put) || !reflect.DeepEqual(got.added, want.added) {
		t.Fatalf("prepared batch: writes differ")
	}
	// The cases above all happened.
	count := func(s string) (n int) {
		for _, r := range wantResults {
			if strings.Contains(r, s) {
				n++
			}
		}
		return n
	}
	for _, s := range []string{": ok", "ChannelType and Address", "at most 15 endpoints", "custom attribute name", "bytes after this update"} {
		if count(s) == 0 {
			t.Errorf("no update had the result %q", s)
		}
	}
	if len(want.put) < 450 {
		t.Errorf("%d endpoints written, want at least 450", len(want.put))
	}
}

// TestEndpointWriterMovesAndRetries checks, with and without preparing, what a batch keeps
// by ID and by user: a new ID whose first update failed takes its next update on its own
// (not the failed one's prepared result); an endpoint moved to another user frees a place
// under its old user in the same batch; a stored endpoint moved to a full user is refused;
// and only the users an update may give an endpoint are read.
func TestEndpointWriterMovesAndRetries(t *testing.T) {
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	for _, min := range []int{1, 1 << 30} {
		t.Run(fmt.Sprintf("prepareMin=%d", min), func(t *testing.T) {
			defer pinfold.SetPrepareMin(min)()
			stored := map[string]*pinfold.Endpoint{}
			for i := range pinfold.MaxEndpointsPerUserID {
				id := fmt.Sprintf("full-%02d", i)
				stored[id], _ = pinfold.ApplyEndpointUpdate("app", nil, &pinfold.EndpointUpdate{ID: id, ChannelType: sp("EMAIL"),
					Address: sp(id + "@example.com"), UserID: sp("full")}, now)
			}
			for _, id := range []string{"other-00", "quiet-00"} {
				stored[id], _ = pinfold.ApplyEndpointUpdate("app", nil, &pinfold.EndpointUpdate{ID: id, ChannelType: sp("EMAIL"),
					Address: sp(id + "@example.com"), UserID: sp(strings.TrimSuffix(id, "-00"))}, now)
			}
			updates := []*pinfold.EndpointUpdate{
				{ID: "retried", ChannelType: sp("EMAIL"), Address: sp("r@example.com"),
					Attributes: pinfold.AttributesOf(map[string][]string{"big": {strings.Repeat("x", pinfold.MaxEndpointBytes)}})},
				{ID: "retried", ChannelType: sp("EMAIL"), Address: sp("r@example.com"), Attributes: pinfold.AttributesOf(map[string][]string{"plan": {"gold"}})},
				{ID: "no-address", ChannelType: sp("EMAIL")},
				{ID: "no-address", ChannelType: sp("EMAIL"), Address: sp("n@example.com")},
				{ID: "sixteenth", ChannelType: sp("EMAIL"), Address: sp("s@example.com"), UserID: sp("full")},
				{ID: "other-00", UserID: sp("full")},
				{ID: "full-00", UserID: sp("other")},
				{ID: "sixteenth", ChannelType: sp("EMAIL"), Address: sp("s@example.com"), UserID: sp("full")},
				{ID: "full-01", UserID: sp("full"), OptOut: sp("ALL")},
				{ID: "quiet-00", UserID: sp("quiet"), OptOut: sp("ALL")},
			}
			tx := &memTx{endpoints: stored, max: 10}
			results := writeBatch(t, tx, updates, now)
			for i, r := range results {
				if r != "ok" {
					results[i] = "fail"
				}
			}
			if want := []string{"fail", "ok", "fail", "ok", "fail", "fail", "ok", "ok", "ok", "ok"}; !reflect.DeepEqual(results, want) {
				t.Fatalf("results %v, want %v", results, want)
			}
			// "quiet" only keeps its endpoint, and "full-01" stays with "full".
			if slices.Sort(tx.users); !reflect.DeepEqual(tx.users, []string{"full", "other"}) {
				t.Errorf("users read %v, want [full other]", tx.users)
			}
			written := map[string]*pinfold.Endpoint{}
			for _, e := range tx.put {
				written[e.ID] = e
			}
			if e := written["retried"]; e == nil || e.Attributes.Map()["big"] != nil || e.Attributes.Map()["plan"][0] != "gold" {
				t.Errorf("retried = %+v", e)
			}
			if e := written["no-address"]; e == nil || e.Address != "n@example.com" {
				t.Errorf("no-address = %+v", e)
			}
			if e := written["sixteenth"]; e == nil || e.User.UserID != "full" {
				t.Errorf("sixteenth = %+v", e)
			}
		})
	}
}

// TestEndpointWriterUsersRead writes random batches of updates over a few stored endpoints
// and users, some users full, twice: reading only the users an update may give an endpoint,
// and reading every user named. Each update's result and every write must be the same.
func TestEndpointWriterUsersRead(t *testing.T) {
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	rng := rand.New(rand.NewPCG(1, 2))
	users := []string{"full", "nearly", "few", "other"}
	refused, read := 0, 0 // updates refused for a full user; batches that read fewer users
	for batch := range 300 {
		stored := map[string]*pinfold.Endpoint{}
		for i := range 40 {
			id := fmt.Sprintf("s%02d", i)
			user := users[min(i/15, 3)] // full: 15, nearly: 15, few: 10
			if i == 29 {
				user = "other" // nearly: 14
			}
			stored[id], _ = pinfold.ApplyEndpointUpdate("app", nil, &pinfold.EndpointUpdate{ID: id, ChannelType: sp("EMAIL"),
				Address: sp(id + "@example.com"), UserID: sp(user)}, now)
		}
		var updates []*pinfold.EndpointUpdate
		for range 1 + rng.IntN(40) {
			u := &pinfold.EndpointUpdate{ID: fmt.Sprintf("s%02d", rng.IntN(48)), OptOut: sp("ALL")} // s40-s47 are new
			if rng.IntN(2) == 0 {
				u.ChannelType, u.Address = sp("EMAIL"), sp(fmt.Sprintf("a%d@example.com", rng.IntN(20)))
			}
			switch r := rng.IntN(6); {
			case r < 4:
				u.UserID = sp(users[r])
			case r == 4:
				u.UserID = sp("")
			}
			updates = append(updates, u)
		}
		run := func(every bool) ([]string, *memTx) {
			defer pinfold.SetReadEveryUser(every)()
			tx := &memTx{endpoints: stored, max: 10}
			return writeBatch(t, tx, updates, now), tx
		}
		want, wantTx := run(true)
		got, gotTx := run(false)
		if !reflect.DeepEqual(got, want) || !reflect.DeepEqual(gotTx.put, wantTx.put) {
			t.Fatalf("batch %d: results %v, want %v (or the writes differ)", batch, got, want)
		}
		for _, r := range want {
			if strings.Contains(r, "at most 15 endpoints") {
				refused++
			}
		}
		if len(gotTx.users) < len(wantTx.users) {
			read++
		}
	}
	if refused < 50 || read < 20 {
		t.Errorf("%d updates refused for a full user and %d batches that read fewer users, want 50 and 20", refused, read)
	}
}

// BenchmarkEndpointWriter applies an import piece's worth of updates (12,000 endpoints of
// 4,000 users, with attributes and a metric) through one EndpointWriter: what an import does
// in its write transaction besides the store's reads and writes. In "new" no endpoint is
// stored, as in a fresh import; in "stored" every one is, as in a re-import.
func BenchmarkEndpointWriter(b *testing.B) {
	updates := make([]*pinfold.EndpointUpdate, 12_000)
	for i := range updates {
		ch, addr, user := "EMAIL", fmt.Sprintf("user%d@example.com", i), fmt.Sprintf("user-%d", i/3)
		updates[i] = &pinfold.EndpointUpdate{ID: fmt.Sprintf("endpoint-%07d", i), ChannelType: &ch, Address: &addr, UserID: &user,
			Attributes: pinfold.AttributesOf(map[string][]string{"Interests": {"Music", "Travel"}, "Plan": {"gold"}}),
			Metrics:    pinfold.MetricsOf(map[string]float64{"score": float64(i % 100)})}
	}
	now := time.Date(2026, 11, 29, 0, 0, 0, 0, time.UTC)
	stored := map[string]*pinfold.Endpoint{}
	for _, u := range updates {
		e, err := pinfold.ApplyEndpointUpdate("app", nil, u, now.Add(-time.Hour))
		if err != nil {
			b.Fatal(err)
		}
		stored[e.ID] = e
	}
	b.Run("new", func(b *testing.B) { benchmarkEndpointWriter(b, updates, nil, now) })
	b.Run("stored", func(b *testing.B) { benchmarkEndpointWriter(b, updates, stored, now) })
}

func benchmarkEndpointWriter(b *testing.B, updates []*pinfold.EndpointUpdate, stored map[string]*pinfold.Endpoint, now time.Time) {
	names := []pinfold.AttributeName{{Kind: pinfold.AttributeKindEndpoint, Name: "Interests"}, {Kind: pinfold.AttributeKindEndpoint, Name: "Plan"},
		{Kind: pinfold.AttributeKindMetric, Name: "score"}}
	b.ReportAllocs()
	for b.Loop() {
		w, err := pinfold.NewEndpointWriter(context.Background(), &memTx{endpoints: stored, names: names, max: 250}, "app", updates, now)
		if err != nil {
			b.Fatal(err)
		}
		w.Validated = true
		for _, u := range updates {
			if err := w.Apply(u); err != nil {
				b.Fatal(err)
			}
		}
		if len(w.Changed()) != len(updates) {
			b.Fatal("not every update was written")
		}
	}
}
