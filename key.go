package pinfold

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"slices"
	"time"
)

// AccessKey is an access key pair beyond the root key (which lives in the configuration, not
// in a store). A key may be limited to some apps and to read-only operations; the API
// refuses anything outside that scope with EFORBIDDEN.
type AccessKey struct {
	ID string // "PF" and 18 characters of A–Z and 2–7, like the root key
	// Secret is the secret access key, kept as given: verifying a SigV4 signature needs it.
	Secret string
	// AppIDs are the apps the key may use; empty means every app. A key limited to apps
	// cannot create or delete apps.
	AppIDs []string
	// ReadOnly keys may only read (GET).
	ReadOnly  bool
	CreatedAt time.Time
	// RevokedAt is when the key was revoked; zero while it is in use.
	RevokedAt time.Time
}

// MaxKeyApps is the most apps one key may be limited to (Pinpoint's quota of apps per account).
const MaxKeyApps = 100

// Revoked reports whether the key was revoked.
func (k *AccessKey) Revoked() bool { return !k.RevokedAt.IsZero() }

// AllApps reports whether the key may use every app, and create and delete apps.
func (k *AccessKey) AllApps() bool { return len(k.AppIDs) == 0 }

// MayUseApp reports whether the key's scope includes the app.
func (k *AccessKey) MayUseApp(appID string) bool {
	return k.AllApps() || slices.Contains(k.AppIDs, appID)
}

// NewAccessKeyID returns a new random access key ID: "PF" and 18 characters of A–Z and 2–7
// (90 random bits), the shape of AWS key IDs.
func NewAccessKeyID() string {
	return "PF" + rand.Text()[:18]
}

// NewSecretAccessKey returns a new random secret access key of 40 characters (240 random
// bits), the length of AWS secrets.
func NewSecretAccessKey() string {
	var b [30]byte
	rand.Read(b[:])
	return base64.StdEncoding.EncodeToString(b[:])
}

// KeyStore keeps the access keys beyond the root key. Every node of a cluster reads the same
// keys, so a key made on one node works on all of them.
type KeyStore interface {
	// CreateKey stores key. ID, Secret and CreatedAt must be set; an ID already stored is an
	// error.
	CreateKey(ctx context.Context, key *AccessKey) error
	// FindKey returns the key, revoked or not, or ENOTFOUND.
	FindKey(ctx context.Context, id string) (*AccessKey, error)
	// FindKeys returns one page of keys, revoked ones included, oldest first, and the token of
	// the next page ("" at the end). A token the store did not issue is EINVALID.
	FindKeys(ctx context.Context, page Page) ([]*AccessKey, string, error)
	// RevokeKey marks the key revoked at the given time and returns it, or ENOTFOUND. A key
	// already revoked keeps its first RevokedAt.
	RevokeKey(ctx context.Context, id string, at time.Time) (*AccessKey, error)
}
