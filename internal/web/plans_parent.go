package web

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"dayaq/internal/apperr"
	"dayaq/internal/httpx"
	"dayaq/internal/i18n"
	"dayaq/internal/plan"
	"dayaq/internal/storage"
	"dayaq/internal/surface"
)

// The parent's page (/p/{token}) is outside the signed-in platform: it has
// its own plain layout with no navigation, links nowhere else in Dayaq,
// speaks the parent's language, and shows the plan only after the child's
// date of birth was given in this browser (a cookie scoped to the page).

const parentCookie = "dyq_parent"

// parentPageData is the parent page.
type parentPageData struct {
	Token    string
	Pg       storage.ParentPage
	Error    string
	Done     string // what was just saved
	Purposes []plan.Purpose
	Now      time.Time
}

func (d parentPageData) Clock() time.Time { return d.Now }

// Standing reports the parent's consent for purpose (and body).
func (d parentPageData) Standing(purpose string, orgID int64) bool {
	return plan.Allows(d.Pg.Standing, plan.Purpose(purpose), orgID)
}

func (w *Web) parentLocalizer(r *http.Request, pg storage.ParentPage) i18n.Localizer {
	lang := httpx.Lang(r.Context())
	if r.URL.Query().Get("lang") == "" {
		if l, ok := i18n.Parse(pg.Language); ok {
			lang = l
		}
	}
	return w.cat.For(lang)
}

func (w *Web) renderParent(rw http.ResponseWriter, r *http.Request, status int, d parentPageData) error {
	p := w.page(r, "plans.parent.title", d)
	p.L = w.parentLocalizer(r, d.Pg)
	p.Nav, p.Unread, p.CSRF = nil, 0, ""
	for i := range p.Langs {
		p.Langs[i].Current = p.Langs[i].Lang == p.L.Lang
	}
	t, ok := w.pages["plan_parent"]
	if !ok {
		return errors.New("web: no parent page")
	}
	rw.Header().Set("Content-Type", "text/html; charset=utf-8")
	rw.Header().Set("Content-Language", string(p.L.Lang))
	rw.Header().Set("Cache-Control", "no-store")
	rw.Header().Set("Referrer-Policy", "no-referrer")
	rw.WriteHeader(status)
	return t.ExecuteTemplate(rw, "parent_layout", p)
}

func parentSession(r *http.Request) string {
	if c, err := r.Cookie(parentCookie); err == nil {
		return c.Value
	}
	return ""
}

func (w *Web) parentPage(rw http.ResponseWriter, r *http.Request) error {
	token := r.PathValue("token")
	pg, err := w.store.ParentView(r.Context(), token, parentSession(r), httpx.ClientIP(r), httpx.RequestID(r.Context()))
	d := parentPageData{Token: token, Pg: pg, Purposes: plan.Purposes(), Now: w.store.Now(), Done: r.URL.Query().Get("done")}
	if apperr.CodeOf(err) == apperr.NotFound {
		d.Pg.State = "unknown"
		return w.renderParent(rw, r, http.StatusNotFound, d)
	}
	if err != nil {
		return err
	}
	status := http.StatusOK
	if pg.State != plan.LinkOpen {
		status = http.StatusGone
	}
	return w.renderParent(rw, r, status, d)
}

func (w *Web) parentPost(rw http.ResponseWriter, r *http.Request) error {
	token := r.PathValue("token")
	if err := r.ParseForm(); err != nil {
		return apperr.New(apperr.Invalid, "error.validation")
	}
	ctx, ip, rid := r.Context(), httpx.ClientIP(r), httpx.RequestID(r.Context())
	d := parentPageData{Token: token, Purposes: plan.Purposes(), Now: w.store.Now()}
	action := r.PostFormValue("action")
	if action == "unlock" {
		birth, ok := surface.ParseDate(r.PostFormValue("birth_date")) // a civil date: no time zone
		pg, session, err := w.store.UnlockParentLink(ctx, token, birth, ip, rid)
		if apperr.CodeOf(err) == apperr.NotFound {
			d.Pg.State = "unknown"
			return w.renderParent(rw, r, http.StatusNotFound, d)
		}
		if err != nil {
			return err
		}
		d.Pg = pg
		if session != "" {
			http.SetCookie(rw, &http.Cookie{Name: parentCookie, Value: session, Path: "/p/" + token, HttpOnly: true, Secure: r.TLS != nil,
				SameSite: http.SameSiteStrictMode, MaxAge: int(plan.UnlockedFor / time.Second)})
			http.Redirect(rw, r, "/p/"+token, http.StatusSeeOther)
			return nil
		}
		status := http.StatusUnprocessableEntity
		if pg.State != plan.LinkOpen {
			status = http.StatusGone
		} else {
			d.Error = "plans.parent.wrong_date"
			if !ok {
				d.Error = "plans.parent.date_format"
			}
		}
		return w.renderParent(rw, r, status, d)
	}
	var ans storage.ParentAnswer
	switch action {
	case "agree", "disagree":
		v := action == "agree"
		ans.Agree, ans.Reason = &v, r.PostFormValue("reason")
	case "consent", "withdraw":
		org, _ := strconv.ParseInt(r.PostFormValue("org"), 10, 64)
		ans.Consent = &plan.Consent{Purpose: plan.Purpose(r.PostFormValue("purpose")), OrgID: org, Given: action == "consent"}
	case "call":
		n := r.PostFormValue("note")
		ans.CallNote = &n
	default:
		return apperr.New(apperr.Invalid, "error.validation")
	}
	pg, err := w.store.ParentAct(ctx, token, parentSession(r), ip, rid, ans)
	switch apperr.CodeOf(err) {
	case "":
		http.Redirect(rw, r, "/p/"+token+"?done="+action, http.StatusSeeOther)
		return nil
	case apperr.NotFound:
		d.Pg.State = "unknown"
		return w.renderParent(rw, r, http.StatusNotFound, d)
	case apperr.Forbidden, apperr.Invalid, apperr.Conflict:
		// Back to the page as it stands, with what went wrong.
		d.Pg, _ = w.store.ParentView(ctx, token, parentSession(r), ip, rid)
		d.Error = apperr.As(err).Key
		if fe := apperr.As(err).Fields; len(fe) > 0 {
			d.Error = fe[0].Key
		}
		return w.renderParent(rw, r, http.StatusUnprocessableEntity, d)
	}
	_ = pg
	return err
}
