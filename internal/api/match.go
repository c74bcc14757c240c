package api

import (
	"net/http"

	"dayaq/internal/httpx"
	"dayaq/internal/i18n"
	"dayaq/internal/storage"
	"dayaq/internal/surface"
)

// matchRoutes are the routes of matching a child by name.
func (a *API) matchRoutes() []Route {
	return []Route{
		{"POST", Prefix + "/children/match", a.matchChildren},
	}
}

// matchInput is a match query as clients send it.
type matchInput struct {
	Name       string `json:"name"`
	BirthDate  string `json:"birth_date"`
	SchoolCode string `json:"school_code"`
}

// MatchCandidateJSON is one candidate as the API and the command line give it.
type MatchCandidateJSON struct {
	StudentID string   `json:"student_id"`
	ChildID   int64    `json:"child_id"`
	Score     float64  `json:"score"`
	Level     string   `json:"level"`
	Reasons   []string `json:"reasons"`
}

// MatchCandidatesJSON renders candidates with their reasons in l's language.
func MatchCandidatesJSON(l i18n.Localizer, cs []storage.MatchCandidate) []MatchCandidateJSON {
	out := make([]MatchCandidateJSON, 0, len(cs))
	for _, c := range cs {
		j := MatchCandidateJSON{StudentID: c.StudentID, ChildID: c.ID, Score: float64(int(c.Score*1000+0.5)) / 1000,
			Level: string(c.Level), Reasons: make([]string, 0, len(c.Reasons))}
		for _, r := range c.Reasons {
			j.Reasons = append(j.Reasons, l.T(r.Key, r.Args...))
		}
		out = append(out, j)
	}
	return out
}

func (a *API) matchChildren(w http.ResponseWriter, r *http.Request) error {
	act, err := actor(r)
	if err != nil {
		return err
	}
	var in matchInput
	if err := decode(r, &in); err != nil {
		return err
	}
	q, err := surface.MatchQuery(in.Name, in.BirthDate, in.SchoolCode)
	if err != nil {
		return err
	}
	cs, err := a.store.MatchChildren(r.Context(), act, q)
	if err != nil {
		return err
	}
	l := a.cat.For(httpx.Lang(r.Context()))
	return writeJSON(w, http.StatusOK, map[string]any{"candidates": MatchCandidatesJSON(l, cs)})
}
