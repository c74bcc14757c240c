package web

import (
	"net/http"
	"time"

	"dayaq/internal/apperr"
	"dayaq/internal/storage"
)

// transient handles an error that passes by itself (the database down or
// its disk full, ADR 0028): it sets Retry-After, logs one warning a minute
// at most, and reports true; for any other error it reports false.
func (w *Web) transient(rw http.ResponseWriter, r *http.Request, e *apperr.Error) bool {
	ra := apperr.RetryAfter(e.Code)
	if ra == "" {
		return false
	}
	rw.Header().Set("Retry-After", ra)
	if w.down.Allow(time.Now()) {
		w.log.WarnContext(r.Context(), "database not available; answering requests with a retry (logged once a minute)",
			"code", string(e.Code), "err", e.Err, "route", r.Pattern)
	}
	return true
}

// formFailure decides how a form answers err: the error page (keep false)
// for a failure the form cannot explain, or the form again with what was
// typed, its alert and the status to answer with (keep true). A full disk
// keeps the form, so that nothing typed is lost (ADR 0028); the form's own
// status (a 422 for bad input) stays for the other errors it shows.
func (w *Web) formFailure(rw http.ResponseWriter, r *http.Request, status int, err error) (e *apperr.Error, st int, keep bool) {
	e = apperr.As(storage.Classify(err))
	switch e.Code {
	case apperr.InsufficientStorage:
		w.transient(rw, r, e)
		return e, http.StatusInsufficientStorage, true
	case apperr.Internal, apperr.Unavailable:
		return e, status, false
	}
	return e, status, true
}
