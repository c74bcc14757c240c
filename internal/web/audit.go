package web

import (
	"context"
	"net/http"
	"strconv"

	"dayaq/internal/access"
	"dayaq/internal/apperr"
	"dayaq/internal/audit"
	"dayaq/internal/authn"
	"dayaq/internal/storage"
	"dayaq/internal/surface"
)

// AuditStore is what the audit pages need of storage.
type AuditStore interface {
	AuditEventsFor(ctx context.Context, a audit.Actor, f storage.AuditFilter) ([]audit.Event, error)
}

// auditData is the audit browser: the filter as typed, and a page of events.
type auditData struct {
	Actor, Child, Action, From, To string
	BreakGlass                     bool
	Events                         []audit.Event
	Next                           string
	Errors                         map[string]string
}

// FieldError is the message for the named filter field.
func (d auditData) FieldError(name string) string { return d.Errors[name] }

func (w *Web) auditPage(rw http.ResponseWriter, r *http.Request) error {
	if !access.CanBrowseAudit(authn.PrincipalFrom(r.Context())) {
		return apperr.New(apperr.Forbidden, "error.forbidden")
	}
	q := r.URL.Query()
	d := auditData{Actor: q.Get("actor"), Child: q.Get("child"), Action: q.Get("action"), From: q.Get("from"),
		To: q.Get("to"), BreakGlass: q.Get("break_glass") == "1"}
	f, fs := surface.ParseAuditFilter(q)
	p := w.page(r, "audit.title", nil)
	if len(fs) > 0 {
		d.Errors = map[string]string{}
		for _, fe := range fs {
			d.Errors[fe.Field] = p.L.T(fe.Key, fe.Args...)
		}
		p.Data = d
		return w.render(rw, http.StatusUnprocessableEntity, "audit", p)
	}
	f.Limit = 100
	events, err := w.audit.AuditEventsFor(r.Context(), authn.ActorFrom(r), f)
	if err != nil {
		return err
	}
	d.Events = events
	if len(events) == f.Limit {
		q.Set("before", strconv.FormatInt(events[len(events)-1].Seq, 10))
		d.Next = "/audit?" + q.Encode()
	}
	p.Data = d
	return w.render(rw, http.StatusOK, "audit", p)
}
