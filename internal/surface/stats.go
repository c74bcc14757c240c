package surface

import (
	"net/url"
	"strings"
	"time"

	"dayaq/internal/access"
	"dayaq/internal/apperr"
	"dayaq/internal/calendar"
	"dayaq/internal/casework"
	"dayaq/internal/org"
	"dayaq/internal/storage"
)

// StatsFilter is a dashboard's filter as typed, and as resolved.
type StatsFilter struct {
	From, To, District, School, Body, Type string
}

// Values is the filter as URL parameters.
func (f StatsFilter) Values() url.Values {
	v := url.Values{}
	for k, s := range map[string]string{"from": f.From, "to": f.To, "district": f.District, "school": f.School, "body": f.Body, "type": f.Type} {
		if s != "" {
			v.Set(k, s)
		}
	}
	return v
}

// ParseStatsFilter reads and checks a dashboard's filter: the dates, and
// the school and body codes (resolved by orgByCode). It returns the query
// without Exact, the scope, and the fields at fault.
func ParseStatsFilter(v url.Values, orgByCode func(code string) (org.Org, bool)) (StatsFilter, storage.StatsQuery, access.StatsScope, []apperr.FieldError) {
	f := StatsFilter{From: strings.TrimSpace(v.Get("from")), To: strings.TrimSpace(v.Get("to")),
		District: strings.ToUpper(strings.TrimSpace(v.Get("district"))), School: strings.ToUpper(strings.TrimSpace(v.Get("school"))),
		Body: strings.ToUpper(strings.TrimSpace(v.Get("body"))), Type: strings.ToLower(strings.TrimSpace(v.Get("type")))}
	var q storage.StatsQuery
	var s access.StatsScope
	var fs []apperr.FieldError
	day := func(name, val string) time.Time {
		if val == "" {
			return time.Time{}
		}
		d, err := time.ParseInLocation(time.DateOnly, val, calendar.Baku())
		if err != nil {
			fs = append(fs, apperr.Field(name, "stats.error.date"))
			return time.Time{}
		}
		return d.UTC()
	}
	q.From = day("from", f.From)
	if t := day("to", f.To); !t.IsZero() {
		q.To = t.AddDate(0, 0, 1)
	}
	if !q.From.IsZero() && !q.To.IsZero() && !q.From.Before(q.To) {
		fs = append(fs, apperr.Field("to", "stats.error.period"))
	}
	if f.District != "" {
		known := false
		for _, d := range org.BakuDistricts() {
			known = known || d.Code == f.District
		}
		if !known {
			fs = append(fs, apperr.Field("district", "stats.error.district"))
		}
		q.District, s.District = f.District, f.District
	}
	if f.School != "" {
		o, ok := orgByCode(f.School)
		if !ok || o.Type != org.School {
			fs = append(fs, apperr.Field("school", "stats.error.school"))
		} else {
			q.SchoolID, s.SchoolID, s.SchoolDistrict = o.ID, o.ID, o.DistrictCode
		}
	}
	if f.Body != "" {
		o, ok := orgByCode(f.Body)
		if !ok || o.Type == org.School {
			fs = append(fs, apperr.Field("body", "stats.error.body"))
		} else {
			q.BodyID, s.BodyID = o.ID, o.ID
		}
	}
	if f.Type != "" {
		if !casework.ValidType(f.Type) {
			fs = append(fs, apperr.Field("type", "stats.error.type"))
		}
		q.Type = f.Type
	}
	return f, q, s, fs
}
