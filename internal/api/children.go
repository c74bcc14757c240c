package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"dayaq/internal/access"
	"dayaq/internal/apperr"
	"dayaq/internal/audit"
	"dayaq/internal/authn"
	"dayaq/internal/child"
	"dayaq/internal/storage"
	"dayaq/internal/surface"
)

// childRoutes are the children registry's routes and break-glass.
func (a *API) childRoutes() []Route {
	return []Route{
		{"GET", Prefix + "/children", a.listChildren},
		{"POST", Prefix + "/children", a.createChild},
		{"GET", Prefix + "/children/{id}", a.getChild},
		{"PATCH", Prefix + "/children/{id}", a.updateChild},
		{"POST", Prefix + "/children/{id}/break-glass", a.openBreakGlass},
		{"GET", Prefix + "/break-glass", a.listBreakGlass},
		{"POST", Prefix + "/break-glass/{id}/review", a.reviewBreakGlass},
	}
}

// actor returns who is acting. The route table's gate (api.go) has
// already refused a request nobody signed, a write without the form token
// and a read-only token's write; the Unauthorized here only guards a
// handler mounted outside the gate by mistake.
func actor(r *http.Request) (audit.Actor, error) {
	a := authn.ActorFrom(r)
	if !a.Authenticated() {
		return a, apperr.New(apperr.Unauthorized, "error.unauthorized")
	}
	return a, nil
}

// decode reads a JSON body of at most 1 MiB into v, refusing unknown
// fields, and names the field at fault when it can.
func decode(r *http.Request, v any) error {
	dec := json.NewDecoder(io.LimitReader(r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &te) && te.Field != "":
			return apperr.Validation(apperr.Field(te.Field, "error.json_type"))
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
			return apperr.Validation(apperr.Field(name, "error.json_unknown_field"))
		}
		return &apperr.Error{Code: apperr.Invalid, Key: "error.json", Err: err}
	}
	return nil
}

// actorAndID is actor and pathID together: who asks, about which record.
func actorAndID(r *http.Request) (audit.Actor, int64, error) {
	act, err := actor(r)
	if err != nil {
		return act, 0, err
	}
	id, err := pathID(r)
	return act, id, err
}

// pathID reads the {id} path value.
func pathID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, apperr.New(apperr.NotFound, "error.not_found")
	}
	return id, nil
}

// childInput is a child as clients send it.
type childInput struct {
	StudentID  string `json:"student_id"`
	LastName   string `json:"last_name"`
	FirstName  string `json:"first_name"`
	Patronymic string `json:"patronymic"`
	Sex        string `json:"sex"`
	BirthDate  string `json:"birth_date"`
	SchoolCode string `json:"school_code"`
	Grade      *int   `json:"grade"`
	Section    string `json:"section"`
}

// child turns the input into a validated child, naming every field at
// fault at once.
func (in childInput) child(today time.Time) (child.Child, error) {
	ch := child.Child{StudentID: in.StudentID, LastName: in.LastName, FirstName: in.FirstName,
		Patronymic: in.Patronymic, Sex: child.Sex(strings.ToLower(strings.TrimSpace(in.Sex))), Section: in.Section}
	ch.Normalize()
	var fs []apperr.FieldError
	if in.BirthDate != "" {
		bd, ok := surface.ParseDate(in.BirthDate)
		if !ok {
			fs = append(fs, apperr.Field("birth_date", "child.error.birth_format"))
		}
		ch.BirthDate = bd
	}
	if in.Grade == nil {
		fs = append(fs, apperr.Field("grade", "error.required"))
	} else {
		ch.Grade = *in.Grade
	}
	if strings.TrimSpace(in.SchoolCode) == "" {
		fs = append(fs, apperr.Field("school_code", "error.required"))
	}
	if err := ch.Validate(today); err != nil {
		for _, f := range apperr.As(err).Fields {
			if f.Field == "birth_date" && in.BirthDate != "" && ch.BirthDate.IsZero() {
				continue // already reported as a format error
			}
			if f.Field == "grade" && in.Grade == nil {
				continue
			}
			fs = append(fs, f)
		}
	}
	if len(fs) > 0 {
		return ch, apperr.Validation(fs...)
	}
	return ch, nil
}

type schoolJSON struct {
	Code         string `json:"code"`
	NameAZ       string `json:"name_az"`
	NameRU       string `json:"name_ru,omitempty"`
	NameEN       string `json:"name_en,omitempty"`
	DistrictCode string `json:"district_code,omitempty"`
}

// childJSON is a child as the caller may see it: a teacher's limited view
// leaves out everything but the name and class.
type childJSON struct {
	ID         int64       `json:"id"`
	StudentID  string      `json:"student_id,omitempty"`
	LastName   string      `json:"last_name"`
	FirstName  string      `json:"first_name"`
	Patronymic string      `json:"patronymic,omitempty"`
	Sex        child.Sex   `json:"sex,omitempty"`
	BirthDate  string      `json:"birth_date,omitempty"`
	School     *schoolJSON `json:"school,omitempty"`
	Grade      int         `json:"grade"`
	Section    string      `json:"section"`
	Class      string      `json:"class"`
	Version    int         `json:"version"`
	View       string      `json:"view"`
	BreakGlass bool        `json:"break_glass,omitempty"`
}

// ViewName names a view for clients.
func ViewName(v access.View) string {
	switch v {
	case access.ViewLimited:
		return "limited"
	case access.ViewShared:
		return "shared"
	case access.ViewFull:
		return "full"
	}
	return "none"
}

func toChildJSON(r storage.ChildRecord) childJSON {
	j := childJSON{ID: r.ID, LastName: r.LastName, FirstName: r.FirstName, Grade: r.Grade, Section: r.Section,
		Class: r.Class(), Version: r.Version, View: ViewName(r.Decision.View), BreakGlass: r.Decision.BreakGlass}
	if r.Decision.View >= access.ViewShared {
		j.StudentID, j.Patronymic, j.Sex, j.BirthDate = r.StudentID, r.Patronymic, r.Sex, r.BirthDate.Format("2006-01-02")
		j.School = &schoolJSON{r.School.Code, r.School.NameAZ, r.School.NameRU, r.School.NameEN, r.School.DistrictCode}
	}
	return j
}

// etag is the entity tag of a record version, for If-Match.
func etag(version int) string { return fmt.Sprintf(`"%d"`, version) }

// ifMatch reads the version an update is based on from If-Match.
func ifMatch(r *http.Request) (int, error) {
	h := strings.TrimSpace(r.Header.Get("If-Match"))
	if h == "" {
		return 0, apperr.New(apperr.PreconditionRequired, "error.if_match_required")
	}
	v, err := strconv.Atoi(strings.Trim(strings.TrimPrefix(h, "W/"), `"`))
	if err != nil || v < 1 {
		return 0, apperr.Validation(apperr.Field("If-Match", "error.if_match_format"))
	}
	return v, nil
}

func (a *API) createChild(w http.ResponseWriter, r *http.Request) error {
	act, err := actor(r)
	if err != nil {
		return err
	}
	var in childInput
	if err := decode(r, &in); err != nil {
		return err
	}
	ch, err := in.child(a.now())
	if err != nil {
		return err
	}
	rec, err := a.store.CreateChild(r.Context(), act, ch, strings.ToUpper(strings.TrimSpace(in.SchoolCode)))
	if err != nil {
		return err
	}
	w.Header().Set("Location", fmt.Sprintf("%s/children/%d", Prefix, rec.ID))
	w.Header().Set("ETag", etag(rec.Version))
	return writeJSON(w, http.StatusCreated, toChildJSON(rec))
}

func (a *API) getChild(w http.ResponseWriter, r *http.Request) error {
	act, id, err := actorAndID(r)
	if err != nil {
		return err
	}
	rec, err := a.store.ChildFor(r.Context(), act, id)
	if err != nil {
		return err
	}
	w.Header().Set("ETag", etag(rec.Version))
	return writeJSON(w, http.StatusOK, toChildJSON(rec))
}

func (a *API) updateChild(w http.ResponseWriter, r *http.Request) error {
	act, id, err := actorAndID(r)
	if err != nil {
		return err
	}
	version, err := ifMatch(r)
	if err != nil {
		return err
	}
	var in childInput
	if err := decode(r, &in); err != nil {
		return err
	}
	ch, err := in.child(a.now())
	if err != nil {
		return err
	}
	ch.ID, ch.Version = id, version
	rec, err := a.store.UpdateChild(r.Context(), act, ch, strings.ToUpper(strings.TrimSpace(in.SchoolCode)))
	if err != nil {
		return err
	}
	w.Header().Set("ETag", etag(rec.Version))
	return writeJSON(w, http.StatusOK, toChildJSON(rec))
}

func (a *API) listChildren(w http.ResponseWriter, r *http.Request) error {
	act, err := actor(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	var fs []apperr.FieldError
	cq := storage.ChildQuery{}
	if s := q.Get("after"); s != "" {
		if cq.After, err = strconv.ParseInt(s, 10, 64); err != nil || cq.After < 0 {
			fs = append(fs, apperr.Field("after", "error.cursor"))
		}
	}
	limit, err := page(r, 50, 200)
	if err != nil {
		fs = append(fs, apperr.As(err).Fields...)
	}
	if code := q.Get("school"); code != "" {
		school, err := a.store.OrgByCode(r.Context(), strings.ToUpper(code))
		if err != nil {
			fs = append(fs, apperr.Field("school", "child.error.school_unknown", code))
		}
		cq.SchoolID = school.ID
	}
	if len(fs) > 0 {
		return apperr.Validation(fs...)
	}
	cq.Limit = limit
	recs, err := a.store.ListChildren(r.Context(), act, cq)
	if err != nil {
		return err
	}
	p := listPage[childJSON]{Items: make([]childJSON, 0, len(recs))}
	for _, rec := range recs {
		p.Items = append(p.Items, toChildJSON(rec))
	}
	if len(recs) == limit {
		next := strconv.FormatInt(recs[len(recs)-1].ID, 10)
		p.Next = &next
	}
	return writeJSON(w, http.StatusOK, p)
}

type breakGlassJSON struct {
	ID         int64  `json:"id"`
	UserID     int64  `json:"user_id"`
	UserName   string `json:"user_name,omitempty"`
	ChildID    int64  `json:"child_id"`
	Reason     string `json:"reason"`
	CreatedAt  string `json:"created_at"`
	ExpiresAt  string `json:"expires_at"`
	ReviewedAt string `json:"reviewed_at,omitempty"`
	ReviewNote string `json:"review_note,omitempty"`
}

func toBreakGlassJSON(b storage.BreakGlass) breakGlassJSON {
	j := breakGlassJSON{ID: b.ID, UserID: b.UserID, UserName: b.UserName, ChildID: b.ChildID, Reason: b.Reason,
		CreatedAt: b.CreatedAt.Format(time.RFC3339), ExpiresAt: b.ExpiresAt.Format(time.RFC3339), ReviewNote: b.ReviewNote}
	if !b.ReviewedAt.IsZero() && b.ReviewedAt.Year() > 1 {
		j.ReviewedAt = b.ReviewedAt.Format(time.RFC3339)
	}
	return j
}

func (a *API) openBreakGlass(w http.ResponseWriter, r *http.Request) error {
	act, id, err := actorAndID(r)
	if err != nil {
		return err
	}
	var in struct {
		Reason string `json:"reason"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	bg, err := a.store.OpenBreakGlass(r.Context(), act, id, in.Reason)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, toBreakGlassJSON(bg))
}

func (a *API) listBreakGlass(w http.ResponseWriter, r *http.Request) error {
	act, err := actor(r)
	if err != nil {
		return err
	}
	if !access.CanBrowseAudit(act.Principal) {
		return apperr.New(apperr.Forbidden, "error.forbidden")
	}
	limit, err := page(r, 50, 200)
	if err != nil {
		return err
	}
	f := storage.BreakGlassFilter{UnreviewedOnly: r.URL.Query().Get("unreviewed") == "true", Limit: limit}
	if s := r.URL.Query().Get("before"); s != "" {
		if f.Before, err = strconv.ParseInt(s, 10, 64); err != nil {
			return apperr.Validation(apperr.Field("before", "error.cursor"))
		}
	}
	bgs, err := a.store.BreakGlassOpeningsFor(r.Context(), act, f)
	if err != nil {
		return err
	}
	p := listPage[breakGlassJSON]{Items: make([]breakGlassJSON, 0, len(bgs))}
	for _, b := range bgs {
		p.Items = append(p.Items, toBreakGlassJSON(b))
	}
	if len(bgs) == limit {
		next := strconv.FormatInt(bgs[len(bgs)-1].ID, 10)
		p.Next = &next
	}
	return writeJSON(w, http.StatusOK, p)
}

func (a *API) reviewBreakGlass(w http.ResponseWriter, r *http.Request) error {
	act, id, err := actorAndID(r)
	if err != nil {
		return err
	}
	var in struct {
		Note string `json:"note"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	if err := a.store.ReviewBreakGlass(r.Context(), act, id, in.Note); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

type auditEventJSON struct {
	Seq         int64  `json:"seq"`
	At          string `json:"at"`
	ActorUserID int64  `json:"actor_user_id,omitempty"`
	ActorOrgID  int64  `json:"actor_org_id,omitempty"`
	Action      string `json:"action"`
	ObjectType  string `json:"object_type,omitempty"`
	ObjectID    string `json:"object_id,omitempty"`
	ChildID     int64  `json:"child_id,omitempty"`
	IP          string `json:"ip,omitempty"`
	RequestID   string `json:"request_id,omitempty"`
	Reason      string `json:"reason,omitempty"`
	BreakGlass  bool   `json:"break_glass,omitempty"`
	Details     string `json:"details,omitempty"`
	Hash        string `json:"hash"`
}

func (a *API) listAudit(w http.ResponseWriter, r *http.Request) error {
	act, err := actor(r)
	if err != nil {
		return err
	}
	if !access.CanBrowseAudit(act.Principal) {
		return apperr.New(apperr.Forbidden, "error.forbidden")
	}
	f, fs := surface.ParseAuditFilter(r.URL.Query())
	limit, err := page(r, 100, 1000)
	if err != nil {
		fs = append(fs, apperr.As(err).Fields...)
	}
	if len(fs) > 0 {
		return apperr.Validation(fs...)
	}
	f.Limit = limit
	events, err := a.store.AuditEventsFor(r.Context(), act, f)
	if err != nil {
		return err
	}
	p := listPage[auditEventJSON]{Items: make([]auditEventJSON, 0, len(events))}
	for _, e := range events {
		p.Items = append(p.Items, auditEventJSON{e.Seq, e.At.Format(time.RFC3339Nano), e.ActorUserID, e.ActorOrgID,
			e.Action, e.ObjectType, e.ObjectID, e.ChildID, e.IP, e.RequestID, e.Reason, e.BreakGlass, e.Details, e.Hash})
	}
	if len(events) == limit {
		next := strconv.FormatInt(events[len(events)-1].Seq, 10)
		p.Next = &next
	}
	return writeJSON(w, http.StatusOK, p)
}
