package api

import (
	"net/http"
	"time"

	"dayaq/internal/apperr"
)

// transient handles an error that passes by itself (the database down or
// its disk full, ADR 0028): it sets Retry-After, logs one warning a minute
// at most, and reports true; for any other error it does nothing and
// reports false.
func (a *API) transient(w http.ResponseWriter, r *http.Request, e *apperr.Error) bool {
	ra := apperr.RetryAfter(e.Code)
	if ra == "" {
		return false
	}
	w.Header().Set("Retry-After", ra)
	if a.down.Allow(time.Now()) {
		a.log.WarnContext(r.Context(), "database not available; answering requests with a retry (logged once a minute)",
			"code", string(e.Code), "err", e.Err, "route", r.Pattern)
	}
	return true
}
