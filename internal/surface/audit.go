package surface

import (
	"net/url"
	"strconv"
	"strings"
	"time"

	"dayaq/internal/apperr"
	"dayaq/internal/storage"
)

// ParseAuditFilter reads the audit filter from a query string, naming each
// field at fault. The API and the UI share it.
func ParseAuditFilter(q url.Values) (storage.AuditFilter, []apperr.FieldError) {
	var f storage.AuditFilter
	var fs []apperr.FieldError
	num := func(name string, dst *int64) {
		if s := strings.TrimSpace(q.Get(name)); s != "" {
			v, err := strconv.ParseInt(s, 10, 64)
			if err != nil || v < 0 {
				fs = append(fs, apperr.Field(name, "error.number"))
			}
			*dst = v
		}
	}
	day := func(name string, dst *time.Time, end bool) {
		if s := strings.TrimSpace(q.Get(name)); s != "" {
			t, err := time.Parse("2006-01-02", s)
			if err != nil {
				fs = append(fs, apperr.Field(name, "child.error.birth_format"))
			}
			if end {
				t = t.Add(24 * time.Hour)
			}
			*dst = t
		}
	}
	num("actor", &f.ActorUserID)
	num("child", &f.ChildID)
	num("before", &f.Before)
	day("from", &f.From, false)
	day("to", &f.To, true)
	f.Action = strings.TrimSpace(q.Get("action"))
	f.BreakGlassOnly = q.Get("break_glass") == "1" || q.Get("break_glass") == "true"
	return f, fs
}
