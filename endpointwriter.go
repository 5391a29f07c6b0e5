package pinfold

import (
	"context"
	"fmt"
	"maps"
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

	// The batch's state is kept by place, found through one map of IDs and one of users:
	// an import applies every update of a piece inside its write transaction, and a map per
	// kind of state (read, stored, changed, last write, prepared, a set per user) made the
	// writer's share of a 12,000-endpoint fresh piece 9 ms of CPU against 4 ms now
	// (BenchmarkEndpointWriter; docs/performance.md).
	byID     map[string]int // ID → its place in ids, for the IDs the updates name
	ids      []idState
	stored   int                    // how many of the IDs' endpoints were found
	users    map[string]int         // user ID → its place in userSets, for the users the updates name
	userSets [][]string             // the IDs of each user's endpoints
	names    map[AttributeName]bool // the app's custom attribute names, and those first used here
	maxNames int                    // how many names the app may have
	added    []AttributeName        // names first used here
	changed  []*Endpoint            // endpoints written here, in first-write order
	lastSeq  []int                  // the sequence number of the last write of each of changed
	seq      int                    // writes so far

	// For a batch of at least prepareMin updates, what Apply makes of each new ID's first
	// update, worked out on another goroutine while NewEndpointWriter reads the users and
	// Apply works through the chunks before: an import's writes are mostly of new endpoints,
	// and its write transaction is what an import waits for (an import of 1M endpoints spent
	// 3 s of it in Apply; docs/performance.md). Chunk i of fresh is ready once ready[i] is
	// closed. known is the app's names when the batch began, which that goroutine reads:
	// names only grows from it.
	known map[AttributeName]bool
	fresh []freshWrite
	ready []chan struct{}
}

// idState is what an EndpointWriter knows of one ID.
type idState struct {
	endpoint *Endpoint       // as stored, then as written here; nil while there is none
	changed  int             // 1 + its place in changed; 0 until it is written here
	prepared *EndpointUpdate // the update fresh[fresh] was prepared from, if any
	fresh    int             // the place in fresh of what was prepared from it
}

// freshWrite is an update applied to no endpoint: ApplyEndpointUpdate's result, the result's
// size, and the custom attribute names the update uses that the app did not know when the
// batch began, sorted.
type freshWrite struct {
	e       *Endpoint
	err     error
	size    int
	unknown []AttributeName
}

// prepareMin is how many updates NewEndpointWriter needs to prepare them on another
// goroutine, prepareChunk updates at a time. A variable so that a test can compare a batch
// prepared with the same batch not prepared.
var prepareMin = 32

const prepareChunk = 256

// NewEndpointWriter prepares to apply updates, whose IDs are set, to the app's endpoints:
// it reads those endpoints, the app's custom attribute names, and the endpoints of the
// users the updates may give an endpoint (usersToRead). Apply then takes the same updates (or some of them) in order; an
// update it was not given is an internal error. The updates must not change until then:
// another goroutine may be reading them.
func NewEndpointWriter(ctx context.Context, tx EndpointTx, appID string, updates []*EndpointUpdate, now time.Time) (*EndpointWriter, error) {
	// Sized for the batch: an import's holds thousands of updates, and growing a map
	// rehashes it, inside the write's transaction.
	w := &EndpointWriter{tx: tx, appID: appID, now: now, byID: make(map[string]int, len(updates)), users: map[string]int{}}
	var ids, userIDs []string
	var naming []int // how many of the updates name each user
	for _, u := range updates {
		if _, ok := w.byID[u.ID]; !ok && u.ID != "" {
			w.byID[u.ID] = len(ids)
			ids = append(ids, u.ID)
		}
		if u.UserID != nil && *u.UserID != "" {
			if j, ok := w.users[*u.UserID]; ok {
				naming[j]++
			} else {
				w.users[*u.UserID] = len(userIDs)
				userIDs, naming = append(userIDs, *u.UserID), append(naming, 1)
			}
		}
	}
	w.ids = make([]idState, len(ids))
	w.changed, w.lastSeq = make([]*Endpoint, 0, len(ids)), make([]int, 0, len(ids))
	found, err := tx.FindEndpoints(ctx, appID, ids)
	if err != nil {
		return nil, err
	}
	for id, e := range found {
		if i, ok := w.byID[id]; ok {
			w.ids[i].endpoint = e
			w.stored++
		}
	}
	names, max, err := tx.FindAttributeNames(ctx, appID)
	if err != nil {
		return nil, err
	}
	w.maxNames = max
	w.names = make(map[AttributeName]bool, len(names))
	for _, n := range names {
		w.names[n] = true
	}
	if len(updates) >= prepareMin {
		w.known = maps.Clone(w.names)
		w.prepare(updates, now)
	}
	w.userSets = make([][]string, len(userIDs))
	if read := w.usersToRead(updates, userIDs); len(read) > 0 {
		byUser, err := tx.FindUserEndpoints(ctx, appID, read)
		if err != nil {
			return nil, err
		}
		// Each user's set is cut from one allocation, with room for its stored endpoints and
		// one more for each update that names the user, which is all Apply can add.
		room := len(updates)
		for _, members := range byUser {
			room += len(members)
		}
		all := make([]string, room)
		for j, user := range userIDs {
			n := len(byUser[user]) + naming[j]
			set := all[:0:n]
			for _, m := range byUser[user] {
				set = append(set, m.EndpointID)
			}
			w.userSets[j], all = set, all[n:]
		}
	}
	return w, nil
}

// readEveryUser makes usersToRead return every user, for a test to compare with.
var readEveryUser = false

// usersToRead returns those of userIDs, the users the updates name, whose endpoints Apply
// may need: the users that an update may give an endpoint. Apply counts and changes a
// user's endpoints only when an endpoint's user changes to that user, so a user is left
// out when every update naming it is of an endpoint stored with that user and no update
// of that endpoint changes its user. A re-import's updates all are, and reading their
// users' endpoints was a tenth of its write transaction (docs/performance.md). Apply never
// looks at the set of a user left out, which stays empty.
func (w *EndpointWriter) usersToRead(updates []*EndpointUpdate, userIDs []string) []string {
	if w.stored == 0 || readEveryUser { // every endpoint is new: each user named may get one
		return userIDs
	}
	moving := make([]bool, len(w.ids)) // by ID: an update gives it a user it was not stored with
	for _, u := range updates {
		if i, ok := w.byID[u.ID]; ok && u.UserID != nil {
			if e := w.ids[i].endpoint; e == nil || e.User.UserID != *u.UserID {
				moving[i] = true
			}
		}
	}
	read := make([]bool, len(userIDs))
	for _, u := range updates {
		if i, ok := w.byID[u.ID]; ok && moving[i] && u.UserID != nil && *u.UserID != "" {
			read[w.users[*u.UserID]] = true
		}
	}
	var users []string
	for j, user := range userIDs {
		if read[j] {
			users = append(users, user)
		}
	}
	return users
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
	i, read := w.byID[u.ID]
	user := -1 // the place of u's user in userSets
	if read && u.UserID != nil && *u.UserID != "" {
		user, read = w.users[*u.UserID]
	}
	if !read {
		// Its endpoint or user was not read: merging would take a stored endpoint for new.
		return fmt.Errorf("endpoint writer: update of %q was not given to NewEndpointWriter", u.ID)
	}
	st := &w.ids[i]
	old := st.endpoint
	var e *Endpoint
	var size int
	var unknown []AttributeName // names u uses that may be new to the app
	var f *freshWrite
	if old == nil {
		f = w.freshWrite(u, st)
	}
	if f != nil {
		if f.err != nil {
			return f.err
		}
		// The prepared endpoint becomes the batch's: it is used once, as the endpoint is
		// new only until an update of it is applied.
		e, size, unknown = f.e, f.size, f.unknown
	} else {
		var err error
		if e, err = ApplyEndpointUpdate(w.appID, old, u, w.now); err != nil {
			return err
		}
		size, unknown = e.size(), unknownNames(u, w.names)
	}
	if n := size; n > MaxEndpointBytes {
		return Errorf(EINVALID, "endpoint %q would be %d bytes after this update; an endpoint may be at most %d bytes", e.ID, n, MaxEndpointBytes)
	}
	oldUser := ""
	if old != nil {
		oldUser = old.User.UserID
	}
	// A user that changes is u's own: an update without User.UserId keeps the endpoint's.
	newUser := e.User.UserID
	if newUser != "" && newUser != oldUser {
		if n := len(w.userSets[user]); n >= MaxEndpointsPerUserID && !slices.Contains(w.userSets[user], e.ID) {
			return Errorf(EINVALID, "User.UserId %q already has %d endpoints; a user may have at most %d endpoints", newUser, n, MaxEndpointsPerUserID)
		}
	}
	fresh := w.newNames(unknown)
	if len(w.names)+len(fresh) > w.maxNames {
		return Errorf(EINVALID, "%s would be custom attribute name %d of the application; an application may have at most %d "+
			"(Attributes, Metrics and User.UserAttributes names together): reuse a name the application has",
			fresh[0].field(), len(w.names)+1, w.maxNames)
	}

	st.endpoint = e
	if newUser != oldUser {
		if oldUser != "" {
			if j, ok := w.users[oldUser]; ok {
				w.userSets[j] = slices.DeleteFunc(w.userSets[j], func(id string) bool { return id == e.ID })
			}
		}
		if newUser != "" && !slices.Contains(w.userSets[user], e.ID) {
			w.userSets[user] = append(w.userSets[user], e.ID)
		}
	}
	for _, n := range fresh {
		w.names[n] = true
	}
	w.added = append(w.added, fresh...)
	w.seq++
	if st.changed > 0 {
		w.changed[st.changed-1], w.lastSeq[st.changed-1] = e, w.seq
	} else {
		w.changed, w.lastSeq = append(w.changed, e), append(w.lastSeq, w.seq)
		st.changed = len(w.changed)
	}
	return nil
}

// prepare starts the goroutine that applies to no endpoint the first update of each ID
// whose endpoint was not found.
func (w *EndpointWriter) prepare(updates []*EndpointUpdate, now time.Time) {
	var todo []*EndpointUpdate
	for _, u := range updates {
		if i, ok := w.byID[u.ID]; ok && w.ids[i].endpoint == nil && w.ids[i].prepared == nil {
			w.ids[i].prepared, w.ids[i].fresh = u, len(todo)
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
			f.unknown = unknownNames(u, w.known)
			if f.e, f.err = ApplyEndpointUpdate(w.appID, nil, u, now); f.err == nil {
				f.size = f.e.size()
			}
			if i%prepareChunk == prepareChunk-1 || i == len(todo)-1 {
				close(w.ready[i/prepareChunk])
			}
		}
	}()
}

// freshWrite returns u as prepared for a new endpoint, or nil if it was not prepared (st is
// the state of u's ID).
func (w *EndpointWriter) freshWrite(u *EndpointUpdate, st *idState) *freshWrite {
	if st.prepared != u {
		return nil
	}
	<-w.ready[st.fresh/prepareChunk]
	return &w.fresh[st.fresh]
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

// unknownNames returns the custom attribute names u uses that known does not hold, in order
// of kind and name: the kinds' order, and each kind's entries are in order of name. An
// attribute present without values removes it from the endpoint and uses no name. Most
// updates use only names their app knows: for those it allocates nothing, where listing and
// sorting every name an update used was two fifths of preparing a new endpoint
// (docs/performance.md).
func unknownNames(u *EndpointUpdate, known map[AttributeName]bool) []AttributeName {
	var names []AttributeName
	for _, at := range u.Attributes {
		if n := (AttributeName{AttributeKindEndpoint, at.Name}); len(at.Values) > 0 && !known[n] {
			names = append(names, n)
		}
	}
	for _, m := range u.Metrics {
		if n := (AttributeName{AttributeKindMetric, m.Name}); !known[n] {
			names = append(names, n)
		}
	}
	for _, at := range u.UserAttributes {
		if n := (AttributeName{AttributeKindUser, at.Name}); len(at.Values) > 0 && !known[n] {
			names = append(names, n)
		}
	}
	return names
}

// Stored returns how many of the updates' endpoints NewEndpointWriter found stored.
func (w *EndpointWriter) Stored() int { return w.stored }

// Changed returns the endpoints the batch wrote, in the order they were first written, as
// PutEndpoints should store them: of those that share an Address, all but the one written
// last are INACTIVE.
func (w *EndpointWriter) Changed() []*Endpoint {
	last := make(map[string]int, len(w.changed)) // address → place in changed of the one written last
	for i, e := range w.changed {
		if e.Address == "" {
			continue
		}
		j, ok := last[e.Address]
		switch {
		case !ok:
			last[e.Address] = i
		case w.lastSeq[i] > w.lastSeq[j]:
			last[e.Address] = i
			w.changed[j].EndpointStatus = "INACTIVE"
		default:
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
