package api

import (
	"context"
	"net/http"

	"dayaq/internal/audit"
)

// updateJSON is the shape of an API update of record {id}: the version the
// client read (If-Match), the JSON body decoded into In, the store's
// change (which refuses a stale version: 409), and the new version's ETag
// with the record as JSON. A feature's update handler is one call:
//
//	return updateJSON(w, r, func(ctx context.Context, act audit.Actor, id int64, version int, in fooInput) (storage.Foo, error) {
//		return a.store.UpdateFoo(ctx, act, id, version, in.change())
//	}, func(f storage.Foo) int { return f.Version }, toFooJSON)
func updateJSON[In, Rec, Out any](w http.ResponseWriter, r *http.Request,
	store func(ctx context.Context, act audit.Actor, id int64, version int, in In) (Rec, error),
	version func(Rec) int, render func(Rec) Out) error {
	act, id, err := actorAndID(r)
	if err != nil {
		return err
	}
	v, err := ifMatch(r)
	if err != nil {
		return err
	}
	var in In
	if err := decode(r, &in); err != nil {
		return err
	}
	rec, err := store(r.Context(), act, id, v, in)
	if err != nil {
		return err
	}
	w.Header().Set("ETag", etag(version(rec)))
	return writeJSON(w, http.StatusOK, render(rec))
}
