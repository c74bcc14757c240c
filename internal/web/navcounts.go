package web

import (
	"net/http"

	"dayaq/internal/authn"
)

// navCounts fills the counts every signed-in page shows (the bell, the
// case queues' badges) from one statement (storage.NavCounts, ADR 0027).
// A page that also shows the queues (the case list) uses the same counts
// instead of reading them again. Failing to count leaves the badges off.
func (w *Web) navCounts(r *http.Request, p *Page) {
	nc, err := w.store.NavCounts(r.Context(), authn.ActorFrom(r))
	if err != nil {
		w.log.WarnContext(r.Context(), "navigation counts", "err", err)
		return
	}
	p.Unread, p.Queues, p.Register, p.counted = nc.Unread, nc.Queues, nc.Register, true
}
