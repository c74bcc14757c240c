package storage

import (
	"sync"
	"time"

	"dayaq/internal/access"
)

// authCacheTTL is how long a token or a principal read from the database
// is used again without asking it, counted from before the read. A change made through this process
// (a token revoked, a user disabled, organisations imported) clears the
// cache at once; a change made through another replica takes effect here
// within this time (ADR 0015).
const authCacheTTL = time.Second

// authCache keeps what every API request asks first: the token behind a
// bearer and the principal behind a user. Each costs several queries;
// under load they were an eighth of a request's CPU time.
type authCache struct {
	mu         sync.Mutex
	gen        uint64 // counts clears: a read begun before a clear is not cached after it
	tokens     map[string]cached[APIToken]
	principals map[int64]cached[access.Principal]
}

// stamp is taken before a lookup reads the database; put* caches the
// result only if no clear happened since, and dates it from the stamp.
type stamp struct {
	gen uint64
	at  time.Time
}

func (c *authCache) stamp() stamp {
	c.mu.Lock()
	defer c.mu.Unlock()
	return stamp{c.gen, time.Now()}
}

type cached[T any] struct {
	v  T
	at time.Time
}

func (c *authCache) token(hash string) (APIToken, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.tokens[hash]
	if !ok || time.Since(e.at) >= authCacheTTL {
		return APIToken{}, false
	}
	return e.v, true
}

func (c *authCache) putToken(st stamp, hash string, t APIToken) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if st.gen != c.gen {
		return
	}
	if c.tokens == nil || len(c.tokens) >= 4096 {
		c.tokens = map[string]cached[APIToken]{}
	}
	c.tokens[hash] = cached[APIToken]{t, st.at}
}

func (c *authCache) principal(id int64) (access.Principal, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.principals[id]
	if !ok || time.Since(e.at) >= authCacheTTL {
		return access.Principal{}, false
	}
	return e.v, true
}

func (c *authCache) putPrincipal(st stamp, id int64, p access.Principal) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if st.gen != c.gen {
		return
	}
	if c.principals == nil || len(c.principals) >= 4096 {
		c.principals = map[int64]cached[access.Principal]{}
	}
	c.principals[id] = cached[access.Principal]{p, st.at}
}

// clear forgets everything: called after a change to users, tokens or
// organisations commits.
func (c *authCache) clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	c.tokens, c.principals = nil, nil
}
