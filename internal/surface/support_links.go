package surface

import "net/url"

// SupportTarget is the list behind one number of a support chart: which
// list, the number's own condition as the list's parameters, and whether
// the list takes the dashboard's period too. The web UI and the API name
// the same lists by their own paths (ADR 0039); both add the dashboard's
// school or district.
type SupportTarget struct {
	List   string // "register", "plans", "roll", "events", "showings"
	Params url.Values
	Period bool
}

// SupportTargetFor gives the list behind the number key of chart (""
// for the chart's total); ok is false for a number no list stands behind.
func SupportTargetFor(chart, key string) (t SupportTarget, ok bool) {
	v := url.Values{}
	set := func(k, val string) {
		if val != "" {
			v.Set(k, val)
		}
	}
	switch chart {
	case "register_by_level":
		v.Set("status", "active")
		set("level", key)
		return SupportTarget{List: "register", Params: v}, true
	case "screening_coverage":
		switch key {
		case "screened":
			v.Set("screened", "yes")
		case "not_screened":
			v.Set("screened", "no")
		}
		return SupportTarget{List: "roll", Params: v, Period: true}, true
	case "plans_by_status":
		if key == "" {
			key = "all"
		}
		v.Set("status", key)
		return SupportTarget{List: "plans", Params: v}, true
	case "plans_by_outcome":
		v.Set("status", "closed")
		set("outcome", key)
		return SupportTarget{List: "plans", Params: v}, true
	case "plan_reviews":
		set("review", key) // overdue, in_time; the total: the live plans
		return SupportTarget{List: "plans", Params: v}, true
	case "events_by_status":
		set("status", key)
		return SupportTarget{List: "events", Params: v, Period: true}, true
	case "event_attendance":
		v.Set("status", "held") // the parents counted at the events held
		return SupportTarget{List: "events", Params: v, Period: true}, true
	case "campaign_showings":
		set("kind", key)
		return SupportTarget{List: "showings", Params: v, Period: true}, true
	case "campaign_reach":
		// the pupils' and the parents' columns of the same showings
		return SupportTarget{List: "showings", Params: v, Period: true}, true
	}
	return t, false
}

// SupportURL is the address of t under path, narrowed to the dashboard's
// school or district (codes) and, for a list that takes it, its period
// as the caller writes it (dates for the web UI, times for the API).
func SupportURL(path string, t SupportTarget, school, district, from, to string) string {
	v := url.Values{}
	for k, vs := range t.Params {
		v[k] = vs
	}
	for k, s := range map[string]string{"school": school, "district": district} {
		if s != "" {
			v.Set(k, s)
		}
	}
	if t.Period {
		for k, s := range map[string]string{"from": from, "to": to} {
			if s != "" {
				v.Set(k, s)
			}
		}
	}
	return path + "?" + v.Encode()
}
