package httpx

import (
	"net/http"

	"dayaq/internal/apperr"
)

// RetryAfterSeconds is what a 503 asks the client to wait before trying
// again: long enough for a stalled batch or a database failover to pass.
const RetryAfterSeconds = "5"

// Status maps an error's code to its HTTP status. It is the one table: the
// API, the web UI and authentication all answer through it.
func Status(e *apperr.Error) int {
	switch e.Code {
	case apperr.Invalid:
		if len(e.Fields) > 0 {
			return http.StatusUnprocessableEntity
		}
		return http.StatusBadRequest
	case apperr.NotFound:
		return http.StatusNotFound
	case apperr.Conflict:
		return http.StatusConflict
	case apperr.PreconditionRequired:
		return http.StatusPreconditionRequired
	case apperr.Unauthorized:
		return http.StatusUnauthorized
	case apperr.Forbidden:
		return http.StatusForbidden
	case apperr.Unavailable:
		return http.StatusServiceUnavailable
	case apperr.InsufficientStorage:
		return http.StatusInsufficientStorage
	}
	return http.StatusInternalServerError
}

// ErrorHeaders sets the headers an error's status calls for: Retry-After
// on 503 Service Unavailable, and on 507 Insufficient Storage (a full disk
// a person must free: a minute, ADR 0028).
func ErrorHeaders(h http.Header, status int) {
	switch status {
	case http.StatusServiceUnavailable:
		h.Set("Retry-After", RetryAfterSeconds)
	case http.StatusInsufficientStorage:
		h.Set("Retry-After", apperr.RetryAfter(apperr.InsufficientStorage))
	}
}
