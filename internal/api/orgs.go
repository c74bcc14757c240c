package api

import (
	"net/http"

	"dayaq/internal/apperr"
	"dayaq/internal/org"
	"dayaq/internal/storage"
)

type districtJSON struct {
	Code   string `json:"code"`
	NameAZ string `json:"name_az"`
	NameRU string `json:"name_ru"`
	NameEN string `json:"name_en"`
}

func (a *API) listDistricts(w http.ResponseWriter, r *http.Request) error {
	ds, err := a.store.Districts(r.Context())
	if err != nil {
		return err
	}
	items := make([]districtJSON, len(ds))
	for i, d := range ds {
		items[i] = districtJSON(d)
	}
	return writeJSON(w, http.StatusOK, map[string]any{"items": items})
}

type orgJSON struct {
	Code         string   `json:"code"`
	Type         org.Type `json:"type"`
	NameAZ       string   `json:"name_az"`
	NameRU       string   `json:"name_ru,omitempty"`
	NameEN       string   `json:"name_en,omitempty"`
	DistrictCode string   `json:"district_code,omitempty"`
}

// listPage is a page of a keyset-paginated list: Next is the cursor of the
// following page, absent on the last.
type listPage[T any] struct {
	Items []T     `json:"items"`
	Next  *string `json:"next,omitempty"`
}

func (a *API) listOrgs(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	f := storage.OrgFilter{Type: org.Type(q.Get("type")), District: q.Get("district"), After: q.Get("after")}
	var fs []apperr.FieldError
	if f.Type != "" && !f.Type.Valid() {
		fs = append(fs, apperr.Field("type", "org.error.type", string(f.Type)))
	}
	limit, err := page(r, 100, 500)
	if err != nil {
		fs = append(fs, apperr.As(err).Fields...)
	}
	if len(fs) > 0 {
		return apperr.Validation(fs...)
	}
	f.Limit = limit + 1
	orgs, err := a.store.Orgs(r.Context(), f)
	if err != nil {
		return err
	}
	p := listPage[orgJSON]{Items: make([]orgJSON, 0, len(orgs))}
	if len(orgs) > limit {
		orgs = orgs[:limit]
		next := orgs[limit-1].Code
		p.Next = &next
	}
	for _, o := range orgs {
		p.Items = append(p.Items, orgJSON{o.Code, o.Type, o.NameAZ, o.NameRU, o.NameEN, o.DistrictCode})
	}
	return writeJSON(w, http.StatusOK, p)
}
