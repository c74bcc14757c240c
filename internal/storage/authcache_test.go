package storage

import (
	"testing"

	"dayaq/internal/access"
)

// A lookup that read the database before a clear must not cache what it
// read after it: that would bring back a token revoked in between.
func TestAuthCacheClearWinsOverLookupInFlight(t *testing.T) {
	var c authCache
	st := c.stamp()
	c.clear() // a token is revoked while the lookup reads
	c.putToken(st, "h", APIToken{ID: 1})
	c.putPrincipal(st, 7, access.Principal{UserID: 7})
	if _, ok := c.token("h"); ok {
		t.Error("a token read before the clear was cached after it")
	}
	if _, ok := c.principal(7); ok {
		t.Error("a principal read before the clear was cached after it")
	}
	st = c.stamp()
	c.putToken(st, "h", APIToken{ID: 1})
	if tok, ok := c.token("h"); !ok || tok.ID != 1 {
		t.Errorf("a lookup with no clear in between was not cached: %+v %v", tok, ok)
	}
}
