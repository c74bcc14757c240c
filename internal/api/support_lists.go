package api

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"dayaq/internal/apperr"
	"dayaq/internal/org"
	"dayaq/internal/storage"
)

// listScope reads the school (by code) and the district that a
// dashboard's number narrows a list to; the fields at fault are returned
// for the caller's validation error.
func (a *API) listScope(r *http.Request) (schoolID int64, district string, fs []apperr.FieldError) {
	v := r.URL.Query()
	if s := strings.ToUpper(strings.TrimSpace(v.Get("school"))); s != "" {
		o, err := a.store.OrgByCode(r.Context(), s)
		if err != nil || o.Type != org.School {
			fs = append(fs, apperr.Field("school", "stats.error.school"))
		} else {
			schoolID = o.ID
		}
	}
	if d := strings.ToUpper(strings.TrimSpace(v.Get("district"))); d != "" {
		known := false
		for _, x := range org.BakuDistricts() {
			known = known || x.Code == d
		}
		if !known {
			fs = append(fs, apperr.Field("district", "stats.error.district"))
		}
		district = d
	}
	return schoolID, district, fs
}

// listPlaceAndPeriod is listScope with the period (from, to) that the
// support figures' lists take.
func (a *API) listPlaceAndPeriod(r *http.Request) (schoolID int64, district string, from, to time.Time, fs []apperr.FieldError) {
	schoolID, district, fs = a.listScope(r)
	var err error
	if from, err = parseQueryTime(r, "from"); err != nil {
		fs = append(fs, apperr.As(err).Fields...)
	}
	if to, err = parseQueryTime(r, "to"); err != nil {
		fs = append(fs, apperr.As(err).Fields...)
	}
	return schoolID, district, from, to, fs
}

type rollJSON struct {
	ChildID   int64  `json:"child_id"`
	Name      string `json:"name"`
	StudentID string `json:"student_id"`
	Class     string `json:"class"`
	School    string `json:"school"`
}

// listRoll lists the pupils on the roll, screened in the period or not,
// under the screening policy: the list behind the screening coverage.
func (a *API) listRoll(w http.ResponseWriter, r *http.Request) error {
	act, err := actor(r)
	if err != nil {
		return err
	}
	v := r.URL.Query()
	var q storage.RollQuery
	var fs []apperr.FieldError
	q.SchoolID, q.District, q.From, q.To, fs = a.listPlaceAndPeriod(r)
	switch q.Screened = v.Get("screened"); q.Screened {
	case "", "yes", "no":
	default:
		fs = append(fs, apperr.Field("screened", "screening.error.screened"))
	}
	if s := v.Get("after"); s != "" {
		if q.After, err = strconv.ParseInt(s, 10, 64); err != nil {
			fs = append(fs, apperr.Field("after", "error.cursor"))
		}
	}
	if q.Limit, err = page(r, 200, 500); err != nil {
		fs = append(fs, apperr.As(err).Fields...)
	}
	if len(fs) > 0 {
		return apperr.Validation(fs...)
	}
	ps, err := a.store.RollList(r.Context(), act, q)
	if err != nil {
		return err
	}
	out := listPage[rollJSON]{Items: []rollJSON{}}
	for _, p := range ps {
		out.Items = append(out.Items, rollJSON{p.ChildID, p.Name, p.StudentID, strconv.Itoa(p.Grade) + p.Section, p.SchoolName})
	}
	if len(ps) == q.Limit {
		next := strconv.FormatInt(ps[len(ps)-1].ChildID, 10)
		out.Next = &next
	}
	return writeJSON(w, http.StatusOK, out)
}
