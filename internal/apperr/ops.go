package apperr

// The operations codes (issue 17), kept apart from the main list so that
// the two grow without touching each other's lines.
const (
	// InsufficientStorage: the database's disk is full; the write was not
	// made and can be tried again once space is freed (HTTP 507).
	InsufficientStorage Code = "insufficient_storage"
)

// Transient reports whether code names a failure of the platform's own
// dependencies that passes without the caller changing anything (the
// database is down or restarting, its disk is full): such errors are
// answered with Retry-After and are not logged one line per request.
func Transient(code Code) bool {
	return code == Unavailable || code == InsufficientStorage
}

// RetryAfter is the Retry-After header's value, in seconds, for an error
// with code: "" when code is not Transient. A restarting database is back
// in seconds; freeing disk space takes a person.
func RetryAfter(code Code) string {
	switch code {
	case Unavailable:
		return "5"
	case InsufficientStorage:
		return "60"
	}
	return ""
}
