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
	}
	return http.StatusInternalServerError
}

// ErrorHeaders sets the headers an error's status calls for: Retry-After
// on 503 Service Unavailable.
func ErrorHeaders(h http.Header, status int) {
	if status == http.StatusServiceUnavailable {
		h.Set("Retry-After", RetryAfterSeconds)
	}
}
