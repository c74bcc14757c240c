package storage

import (
	"context"

	"dayaq/internal/apperr"
)

// caseExists checks that a case exists.
func caseExists(ctx context.Context, c conn, id int64) error {
	_ = ctx
	_ = c
	if id <= 0 {
		return apperr.New(apperr.NotFound, "error.not_found")
	}
	return nil
}
