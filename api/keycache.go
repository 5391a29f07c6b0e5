package api

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/pinfold/pinfold"
	"github.com/pinfold/pinfold/sigv4"
)

// DefaultKeyCacheTTL is how long a KeyCache remembers a key: the longest a revocation made
// on one node takes to reach the others.
const DefaultKeyCacheTTL = time.Second

// KeyCache is a pinfold.KeyStore that remembers each key FindKey found for TTL, so that a
// request, whose signature check and scope check both need its key, reads the store at most
// once per key and TTL. Keys that are not found are not remembered: a new key works at once
// on every node, and unknown IDs cannot fill the cache. RevokeKey through the cache forgets
// the key at once; another node's cache sees the revocation within its TTL.
type KeyCache struct {
	pinfold.KeyStore
	TTL time.Duration    // 0: every FindKey reads the store
	Now func() time.Time // nil: time.Now

	mu   sync.Mutex
	keys map[string]cachedKey
}

type cachedKey struct {
	key     pinfold.AccessKey
	expires time.Time
}

var _ pinfold.KeyStore = (*KeyCache)(nil)

// FindKey returns the key from the cache, or from the store when the cache has none younger
// than TTL. The caller gets its own copy.
func (c *KeyCache) FindKey(ctx context.Context, id string) (*pinfold.AccessKey, error) {
	now := c.now()
	c.mu.Lock()
	e, ok := c.keys[id]
	c.mu.Unlock()
	if ok && now.Before(e.expires) {
		return copyKey(&e.key), nil
	}
	key, err := c.KeyStore.FindKey(ctx, id)
	if err != nil {
		return nil, err
	}
	if c.TTL > 0 {
		c.mu.Lock()
		if c.keys == nil {
			c.keys = map[string]cachedKey{}
		}
		c.keys[id] = cachedKey{key: *copyKey(key), expires: now.Add(c.TTL)}
		c.mu.Unlock()
	}
	return key, nil
}

// RevokeKey revokes the key in the store and forgets it here.
func (c *KeyCache) RevokeKey(ctx context.Context, id string, at time.Time) (*pinfold.AccessKey, error) {
	key, err := c.KeyStore.RevokeKey(ctx, id, at)
	c.mu.Lock()
	delete(c.keys, id)
	c.mu.Unlock()
	return key, err
}

func (c *KeyCache) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

func copyKey(k *pinfold.AccessKey) *pinfold.AccessKey {
	c := *k
	c.AppIDs = slices.Clone(k.AppIDs)
	return &c
}

// lookupTimeout bounds a store read made to verify a signature (sigv4.SecretLookup has no
// context of its own).
const lookupTimeout = 10 * time.Second

// SecretLookup returns the sigv4.SecretLookup of the Pinpoint API: the root key pair first,
// then the keys in keys (nil: none; give a KeyCache). Revoked keys are found too, so that a
// request signed with one is refused with a message that says so once its signature holds.
// A store error is logged and the key is treated as unknown.
func SecretLookup(rootID, rootSecret string, keys pinfold.KeyStore, log *slog.Logger) sigv4.SecretLookup {
	return func(id string) (string, bool) {
		if id == rootID {
			return rootSecret, true
		}
		if keys == nil {
			return "", false
		}
		ctx, cancel := context.WithTimeout(context.Background(), lookupTimeout)
		defer cancel()
		key, err := keys.FindKey(ctx, id)
		if err != nil {
			if pinfold.ErrorCode(err) != pinfold.ENOTFOUND && log != nil {
				log.Error("find access key", "access_key_id", id, "error", err)
			}
			return "", false
		}
		return key.Secret, true
	}
}
