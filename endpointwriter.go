package pinfold

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"
)

// Kinds of custom attribute names, named as Pinpoint's RemoveAttributes names them.
const (
	AttributeKindEndpoint = "endpoint-custom-attributes" // Attributes
	AttributeKindMetric   = "endpoint-metric-attributes" // Metrics
	AttributeKindUser     = "endpoint-user-attributes"   // User.UserAttributes
)

// DefaultMaxAttributeNames is Pinpoint's quota of distinct custom attribute names per app:
// endpoint attributes, metrics and user attributes together (PINPOINT.md §3.7).
const DefaultMaxAttributeNames = 250

// AttributeName is one custom attribute name an app has used. The same name used as an
// endpoint attribute and as a user attribute is two names.
type AttributeName struct {
	Kind string // AttributeKindEndpoint, AttributeKindMetric or AttributeKindUser
	Name string
}

// field returns how a request names the attribute, e.g. "User.UserAttributes.plan".
func (n AttributeName) field() string {
	switch n.Kind {
	case AttributeKindMetric:
		return "Metrics." + n.Name
	case AttributeKindUser:
		return "User.UserAttributes." + n.Name
	}
	return "Attributes." + n.Name
}

// EndpointWriter applies endpoint updates inside one EndpointTx with every rule Pinpoint has
// for them, so that UpdateEndpoint, UpdateEndpointsBatch and import jobs write alike:
//   - the update is validated (EndpointUpdate.Validate) and merged (ApplyEndpointUpdate);
//   - the merged endpoint is at most MaxEndpointBytes;
//   - a user has at most MaxEndpointsPerUserID endpoints;
//   - the app uses at most the store's number of custom attribute names;
//   - of the endpoints that share an Address, the one written last keeps its status and the
//     others become INACTIVE (in the batch here, in the store through PutEndpoints).
//
// It reads what it needs once, in NewEndpointWriter, and keeps the batch's state in memory,
// so Apply does no I/O and a rejected update changes nothing.
type EndpointWriter struct {
	// Validated says that every update given to Apply was checked with Validate already
	// (as the endpoint-file decoders check every row they return), so Apply does not check
	// it again inside the write's transaction.
	Validated bool

	tx    EndpointTx
	appID string
	now   time.Time

	read      map[string]bool            // the IDs whose endpoints were read
	stored    int                        // how many of them were found
	endpoints map[string]*Endpoint       // by ID: as stored, then as written here
	users     map[string]map[string]bool // user ID → IDs of its endpoints, for the batch's users
	names     map[AttributeName]bool     // the app's custom attribute names
	maxNames  int                        // how many names the app may have
	added     []AttributeName            // names first used here
	changed   []*Endpoint                // endpoints written here, in first-write order
	index     map[string]int             // ID → position in changed
	lastWrite map[string]int             // ID → sequence number of its last write
	seq       int                        // writes so far

	// For a batch of at least prepareMin updates, what Apply makes of each update whose
	// endpoint was not found, worked out on another goroutine while NewEndpointWriter reads
	// the users and Apply works through the chunks before: an import's writes are mostly of
	// new endpoints, and its write transaction is what an import waits for (an import of 1M
	// endpoints spent 3 s of it in Apply; docs/performance.md). prepared[u] is u's place in
	// fresh, whose chunk i is ready once ready[i] is closed.
	prepared map[*EndpointUpdate]int
	fresh    []freshWrite
	ready    []chan struct{}
}

// freshWrite is an update applied to no endpoint: ApplyEndpointUpdate's result, the result's
// size, and every custom attribute name the update uses, sorted.
type freshWrite struct {
	e     *Endpoint
	err   error
	size  int
	names []AttributeName
}

// prepareMin is how many updates NewEndpointWriter needs to prepare them on another
// goroutine, prepareChunk updates at a time. A variable so that a test can compare a batch
// prepared with the same batch not prepared.
var prepareMin = 32

const prepareChunk = 256

// NewEndpointWriter prepares to apply updates, whose IDs are set, to the app's endpoints:
// it reads those endpoints, the endpoints of the users the updates name, and the app's
// custom attribute names. Apply then takes the same updates (or some of them) in order; an
// update it was not given is an internal error. The updates must not change until then:
// another goroutine may be reading them.
func NewEndpointWriter(ctx context.Context, tx EndpointTx, appID string, updates []*EndpointUpdate, now time.Time) (*EndpointWriter, error) {
	var ids, userIDs []string
	// Sized for the batch: an import's holds thousands of updates, and growing a map
	// rehashes it, inside the write's transaction.
	seenIDs, seenUsers := make(map[string]bool, len(updates)), map[string]bool{}
	for _, u := range updates {
		if u.ID != "" && !seenIDs[u.ID] {
			seenIDs[u.ID] = true
			ids = append(ids, u.ID)
		}
		if u.UserID != nil && *u.UserID != "" && !seenUsers[*u.UserID] {
			seenUsers[*u.UserID] = true
			userIDs = append(userIDs, *u.UserID)
		}
	}
	w := &EndpointWriter{tx: tx, appID: appID, now: now, read: seenIDs, users: make(map[string]map[string]bool, len(userIDs)),
		names: map[AttributeName]bool{}, index: make(map[string]int, len(ids)), lastWrite: make(map[string]int, len(ids))}
	var err error
	if w.endpoints, err = tx.FindEndpoints(ctx, appID, ids); err != nil {
		return nil, err
	}
	if w.endpoints == nil {
		w.endpoints = map[string]*Endpoint{}
	}
	w.stored = len(w.endpoints)
	if len(updates) >= prepareMin {
		w.prepare(updates, now)
	}
	if len(userIDs) > 0 {
		byUser, err := tx.FindUserEndpoints(ctx, appID, userIDs)
		if err != nil {
			return nil, err
		}
		for _, user := range userIDs {
			set := map[string]bool{}
			for _, m := range byUser[user] {
				set[m.EndpointID] = true
			}
			w.users[user] = set
		}
	}
	names, max, err := tx.FindAttributeNames(ctx, appID)
	if err != nil {
		return nil, err
	}
	w.maxNames = max
	for _, n := range names {
		w.names[n] = true
	}
	return w, nil
}

// Apply validates u, whose ID is set, and merges it into its endpoint as the batch has it so
// far. A problem is an EINVALID error that names the field, and leaves the batch as it was.
func (w *EndpointWriter) Apply(u *EndpointUpdate) error {
	if u.ID == "" {
		return Errorf(EINVALID, "Id is required: every endpoint written needs an ID")
	}
	if !w.Validated {
		if err := u.Validate(); err != nil {
			return err
		}
	}
	if !w.read[u.ID] || (u.UserID != nil && *u.UserID != "" && w.users[*u.UserID] == nil) {
		// Its endpoint or user was not read: merging would take a stored endpoint for new.
		return fmt.Errorf("endpoint writer: update of %q was not given to NewEndpointWriter", u.ID)
	}
	old := w.endpoints[u.ID]
	var e *Endpoint
	var size int
	var names []AttributeName
	var f *freshWrite
	if old == nil {
		f = w.freshWrite(u)
	}
	if f != nil {
		if f.err != nil {
			return f.err
		}
		// The prepared endpoint becomes the batch's: it is used once, as the endpoint is
		// new only until an update of it is applied.
		e, size, names = f.e, f.size, f.names
	} else {
		var err error
		if e, err = ApplyEndpointUpdate(w.appID, old, u, w.now); err != nil {
			return err
		}
		size, names = e.size(), attributeNames(u)
	}
	if n := size; n > MaxEndpointBytes {
		return Errorf(EINVALID, "endpoint %q would be %d bytes after this update; an endpoint may be at most %d bytes", e.ID, n, MaxEndpointBytes)
	}
	oldUser := ""
	if old != nil {
		oldUser = old.User.UserID
	}
	newUser := e.User.UserID
	if newUser != "" && newUser != oldUser {
		if n := len(w.users[newUser]); n >= MaxEndpointsPerUserID && !w.users[newUser][e.ID] {
			return Errorf(EINVALID, "User.UserId %q already has %d endpoints; a user may have at most %d endpoints", newUser, n, MaxEndpointsPerUserID)
		}
	}
	fresh := w.newNames(names)
	if len(w.names)+len(fresh) > w.maxNames {
		return Errorf(EINVALID, "%s would be custom attribute name %d of the application; an application may have at most %d "+
			"(Attributes, Metrics and User.UserAttributes names together): reuse a name the application has",
			fresh[0].field(), len(w.names)+1, w.maxNames)
	}

	w.endpoints[e.ID] = e
	if newUser != oldUser {
		delete(w.users[oldUser], e.ID)
		if newUser != "" {
			w.users[newUser][e.ID] = true
		}
	}
	for _, n := range fresh {
		w.names[n] = true
	}
	w.added = append(w.added, fresh...)
	if i, ok := w.index[e.ID]; ok {
		w.changed[i] = e
	} else {
		w.index[e.ID] = len(w.changed)
		w.changed = append(w.changed, e)
	}
	w.seq++
	w.lastWrite[e.ID] = w.seq
	return nil
}

// prepare starts the goroutine that applies to no endpoint each of updates whose endpoint
// was not found.
func (w *EndpointWriter) prepare(updates []*EndpointUpdate, now time.Time) {
	var todo []*EndpointUpdate
	w.prepared = map[*EndpointUpdate]int{}
	for _, u := range updates {
		if _, ok := w.endpoints[u.ID]; !ok {
			w.prepared[u] = len(todo)
			todo = append(todo, u)
		}
	}
	w.fresh = make([]freshWrite, len(todo))
	w.ready = make([]chan struct{}, (len(todo)+prepareChunk-1)/prepareChunk)
	for i := range w.ready {
		w.ready[i] = make(chan struct{})
	}
	go func() {
		for i, u := range todo {
			f := &w.fresh[i]
			f.names = attributeNames(u)
			if f.e, f.err = ApplyEndpointUpdate(w.appID, nil, u, now); f.err == nil {
				f.size = f.e.size()
			}
			if i%prepareChunk == prepareChunk-1 || i == len(todo)-1 {
				close(w.ready[i/prepareChunk])
			}
		}
	}()
}

// freshWrite returns u as prepared for a new endpoint, or nil if it was not prepared.
func (w *EndpointWriter) freshWrite(u *EndpointUpdate) *freshWrite {
	i, ok := w.prepared[u]
	if !ok {
		return nil
	}
	<-w.ready[i/prepareChunk]
	return &w.fresh[i]
}

// newNames returns those of names, the custom attribute names an update uses, that the app
// does not know yet, in their order.
func (w *EndpointWriter) newNames(names []AttributeName) []AttributeName {
	var fresh []AttributeName
	for _, n := range names {
		if !w.names[n] {
			fresh = append(fresh, n)
		}
	}
	return fresh
}

// attributeNames returns the custom attribute names u uses, sorted. An attribute present
// without values removes it from the endpoint and uses no name.
func attributeNames(u *EndpointUpdate) []AttributeName {
	names := make([]AttributeName, 0, len(u.Attributes)+len(u.Metrics)+len(u.UserAttributes))
	add := func(kind string, attrs map[string][]string) {
		for name, values := range attrs {
			if len(values) > 0 {
				names = append(names, AttributeName{kind, name})
			}
		}
	}
	add(AttributeKindEndpoint, u.Attributes)
	for name := range u.Metrics {
		names = append(names, AttributeName{AttributeKindMetric, name})
	}
	add(AttributeKindUser, u.UserAttributes)
	slices.SortFunc(names, func(a, b AttributeName) int {
		return cmp.Or(cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Name, b.Name))
	})
	return names
}

// Stored returns how many of the updates' endpoints NewEndpointWriter found stored.
func (w *EndpointWriter) Stored() int { return w.stored }

// Changed returns the endpoints the batch wrote, in the order they were first written, as
// PutEndpoints should store them: of those that share an Address, all but the one written
// last are INACTIVE.
func (w *EndpointWriter) Changed() []*Endpoint {
	last := make(map[string]string, len(w.changed)) // address → ID written last
	for _, e := range w.changed {
		if e.Address == "" {
			continue
		}
		if id, ok := last[e.Address]; !ok || w.lastWrite[e.ID] > w.lastWrite[id] {
			last[e.Address] = e.ID
		}
	}
	for _, e := range w.changed {
		if e.Address != "" && last[e.Address] != e.ID {
			e.EndpointStatus = "INACTIVE"
		}
	}
	return w.changed
}

// Commit writes the batch through its EndpointTx: the new attribute names, then the changed
// endpoints. It writes nothing when nothing changed.
func (w *EndpointWriter) Commit(ctx context.Context) error {
	if len(w.added) > 0 {
		if err := w.tx.AddAttributeNames(ctx, w.appID, w.added); err != nil {
			return err
		}
	}
	if changed := w.Changed(); len(changed) > 0 {
		return w.tx.PutEndpoints(ctx, changed)
	}
	return nil
}
