package surface

import (
	"maps"
	"net/url"
	"time"

	"dayaq/internal/stats"
)

// CaseChartLinks gives the list behind each count of an exact dashboard's
// case and deadline charts: the case list with the dashboard's filter and
// the bar's own condition, which both surfaces read alike (CaseQueryFrom);
// the list applies the viewer's policy, so it shows exactly what was
// counted. For the web UI (cases "/cases", referrals "/referrals",
// queues true) the case list is a queue's tab, "all" or "overdue"; the
// JSON API's list (its paths, queues false) lists every case unless told
// "status=open&overdue=true".
func CaseChartLinks(cases, referrals string, queues bool, f StatsFilter) stats.Links {
	all, overdue := url.Values{"queue": {"all"}}, url.Values{"queue": {"overdue"}}
	if !queues {
		all, overdue = url.Values{}, url.Values{"status": {"open"}, "overdue": {"true"}}
	}
	list := func(v url.Values) string {
		if len(v) == 0 {
			return cases
		}
		return cases + "?" + v.Encode()
	}
	return func(chart, key string) string {
		v := maps.Clone(all)
		for _, k := range []string{"from", "to", "district", "school", "type"} {
			if s := f.Values().Get(k); s != "" {
				v.Set(k, s)
			}
		}
		if f.Body != "" {
			v.Set("lead", f.Body)
		}
		switch chart {
		case "cases_by_type":
			if key != "" {
				v.Set("type", key)
			}
		case "cases_by_severity":
			if key != "" {
				v.Set("severity", key)
			}
		case "cases_by_status":
			if key != "" {
				v.Set("status", key)
			}
		case "new_by_month":
			if key == "" {
				break
			}
			m, err := time.Parse("2006-01", key)
			if err != nil {
				return ""
			}
			v.Set("from", m.Format(time.DateOnly))
			v.Set("to", m.AddDate(0, 1, -1).Format(time.DateOnly))
		case "overdue_by_owner":
			v = maps.Clone(overdue)
			if f.District != "" {
				v.Set("district", f.District)
			}
			switch key {
			case "":
				return list(v)
			case "0":
				return "" // the list has no filter for "no owner"
			}
			v.Set("owner", key)
		case "deadlines_by_body":
			return referrals + "?to=" + url.QueryEscape(key)
		default:
			return "" // the contacts and the closings have no list filtered so
		}
		return list(v)
	}
}
