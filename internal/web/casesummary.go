package web

import (
	"context"

	"dayaq/internal/apperr"
	"dayaq/internal/audit"
)

// CaseSummary is what a working-group agenda shows of a case to someone
// the case policy lets see it.
type CaseSummary struct {
	ID    int64
	Ref   string
	Title string
	Text  string
}

// caseSummary is the summary of case id as a may see it through the case
// policy, nil when a may not see it.
func (w *Web) caseSummary(ctx context.Context, a audit.Actor, id int64) (*CaseSummary, error) {
	k, err := w.store.CaseBrief(ctx, a, id)
	if apperr.CodeOf(err) == apperr.NotFound {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &CaseSummary{ID: k.ID, Ref: "#" + itoa(k.ID), Title: k.Title, Text: k.Summary}, nil
}
