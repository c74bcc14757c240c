package web

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"

	"dayaq/internal/apperr"
	"dayaq/internal/authn"
	"dayaq/internal/match"
	"dayaq/internal/storage"
	"dayaq/internal/surface"
)

// The type-ahead that finds a child by name in any script and spelling.
// Pages embed the "match_box" partial (templates/partials/match.html):
//
//	{{template "match_box" (matchBox . "case-child" "child_id")}}
//
// As the user types, htmx posts the box's inputs to POST /children/match,
// which answers with the "match_results" partial: the candidates with their
// level and reasons, each a link to the child (field "") or a radio button
// that sets the host form's field to the child's ID.

func (w *Web) matchRoutes() []route {
	return []route{
		{"POST /children/match", w.signedIn(w.childMatch)},
	}
}

// MatchBox is the data of the "match_box" partial.
type MatchBox struct {
	Page
	ID    string // prefix of the box's element IDs, unique on the page
	Field string // the host form's field the chosen child's ID goes to; "" to link to the child
}

// plainName reports whether s may be a box ID or a field name: they go
// into element IDs and names.
func plainName(s string) bool {
	if s == "" || len(s) > 40 || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// matchBox builds the partial's data (the template function "matchBox").
func matchBox(p Page, id, field string) MatchBox {
	if !plainName(id) {
		id = "match"
	}
	if field != "" && !plainName(field) {
		field = ""
	}
	return MatchBox{Page: p, ID: id, Field: field}
}

// matchResults is the data of the "match_results" partial.
type matchResults struct {
	Box        MatchBox
	Candidates []candidateView
	Searched   bool   // a query was run (an empty box shows nothing)
	Error      string // the translated message for a bad query
}

// candidateView is a candidate with its texts in the user's language.
type candidateView struct {
	Candidate storage.MatchCandidate
	LevelText string
	Percent   int
	Reasons   []string
}

// levelKey is the catalogue key of a level's name.
func levelKey(l match.Level) string {
	switch l {
	case match.Exact:
		return "match.level.exact"
	case match.Strong:
		return "match.level.strong"
	}
	return "match.level.possible"
}

// childMatch answers the type-ahead with the candidates as an HTML fragment.
// A bad query (a date half typed) is not an error page: the fragment says
// what is wrong, in place.
func (w *Web) childMatch(rw http.ResponseWriter, r *http.Request) error {
	a := authn.ActorFrom(r)
	p := w.page(r, "section.children.title", nil)
	box := matchBox(p, r.PostFormValue("match_box"), r.PostFormValue("match_field"))
	d := matchResults{Box: box}
	name := strings.TrimSpace(r.PostFormValue("match_name"))
	if len([]rune(name)) >= 2 {
		d.Searched = true
		q, err := surface.MatchQuery(name, r.PostFormValue("match_birth_date"), r.PostFormValue("match_school_code"))
		var cs []storage.MatchCandidate
		if err == nil {
			cs, err = w.store.MatchChildren(r.Context(), a, q)
		}
		for _, c := range cs {
			v := candidateView{Candidate: c, Percent: int(c.Score*100 + 0.5), LevelText: p.L.T(levelKey(c.Level))}
			for _, re := range c.Reasons {
				v.Reasons = append(v.Reasons, p.L.T(re.Key, re.Args...))
			}
			d.Candidates = append(d.Candidates, v)
		}
		if e := apperr.As(err); err != nil && e.Code == apperr.Invalid {
			var msgs []string
			for _, f := range e.Fields {
				msgs = append(msgs, p.L.T(f.Key, f.Args...))
			}
			d.Error = strings.Join(msgs, " ")
		} else if err != nil {
			return err
		}
	}
	p.Data = d
	return w.renderPartial(rw, "children", "match_results", p)
}

// renderPartial renders one named template of a page's set, without the
// layout: the fragments htmx swaps in.
func (w *Web) renderPartial(rw http.ResponseWriter, page, name string, p Page) error {
	t, ok := w.pages[page]
	if !ok {
		return fmt.Errorf("web: no page %q", page)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, name, p); err != nil {
		return fmt.Errorf("web: render %s: %w", name, err)
	}
	h := rw.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Language", string(p.L.Lang))
	h.Set("Cache-Control", "no-store")
	rw.WriteHeader(http.StatusOK)
	_, err := buf.WriteTo(rw)
	return err
}
