package pinfold

import (
	"context"
	"time"
)

// App is a Pinpoint application ("project"): the owner of endpoints, segments and jobs.
type App struct {
	ID        string // 32 lowercase hex characters
	Name      string
	Tags      map[string]string
	CreatedAt time.Time
}

// Page asks a list method for one page of results. Token is the opaque NextToken of the page
// before ("" for the first page); Size is the number of items wanted (the store caps it).
type Page struct {
	Size  int
	Token string
}

// Page sizes used when a caller gives none, and the most a caller may ask for.
const (
	DefaultPageSize = 100
	MaxPageSize     = 1000
)

// AppStore keeps apps.
type AppStore interface {
	// CreateApp stores app. app.ID and app.CreatedAt must be set.
	CreateApp(ctx context.Context, app *App) error
	// FindAppByID returns the app or ENOTFOUND.
	FindAppByID(ctx context.Context, id string) (*App, error)
	// FindApps returns one page of apps, oldest first, and the token of the next page ("" at
	// the end). A token the store did not issue is EINVALID.
	FindApps(ctx context.Context, page Page) ([]*App, string, error)
	// DeleteApp removes the app and everything it owns (endpoints, segments, jobs) and returns
	// the app as it was, or ENOTFOUND.
	DeleteApp(ctx context.Context, id string) (*App, error)
}
