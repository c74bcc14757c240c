package api

import (
	"net/http"

	"dayaq/internal/access"
	"dayaq/internal/authn"
	"dayaq/internal/org"
)

// me is who the caller is (GET /api/v1/me).
type me struct {
	UserID   int64          `json:"user_id"`
	Name     string         `json:"name"`
	Email    string         `json:"email"`
	OrgCode  string         `json:"org_code"`
	OrgType  org.Type       `json:"org_type"`
	District string         `json:"district_code"`
	Roles    []access.Role  `json:"roles"`
	Scopes   []access.Scope `json:"scopes"`
}

func (a *API) getMe(w http.ResponseWriter, r *http.Request) error {
	p, err := authn.Required(r.Context())
	if err != nil {
		return err
	}
	m := me{UserID: p.UserID, Name: p.Name, Email: p.Email, OrgCode: p.OrgCode, OrgType: p.OrgType, District: p.District,
		Roles: p.Roles, Scopes: p.Scopes}
	if m.Roles == nil {
		m.Roles = []access.Role{}
	}
	if m.Scopes == nil {
		m.Scopes = []access.Scope{}
	}
	return writeJSON(w, http.StatusOK, m)
}
