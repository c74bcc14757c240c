package storage

import (
	"context"

	"dayaq/internal/apperr"
)

// caseExists checks that case id exists (the working group's agenda names
// cases; what each member sees of one is the case policy's business).
func caseExists(ctx context.Context, c conn, id int64) error {
	var n int
	if err := c.queryRow(ctx, `SELECT COUNT(*) FROM cases WHERE id = ?`, id).Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		return apperr.New(apperr.NotFound, "error.not_found")
	}
	return nil
}
