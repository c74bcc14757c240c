package authn

import (
	"net/http"

	"dayaq/internal/audit"
	"dayaq/internal/httpx"
)

// ActorFrom returns who is acting in r, and from where, for the audit.
func ActorFrom(r *http.Request) audit.Actor {
	return audit.Actor{Principal: PrincipalFrom(r.Context()), IP: httpx.ClientIP(r), RequestID: httpx.RequestID(r.Context())}
}
