package stats

import (
	"dayaq/internal/disclosure"
	"dayaq/internal/org"
)

// Support are a dashboard's figures of the support work, each straight
// from the base tables: the register now, the pupils on the roll and those
// screened in the period, the recovery plans now, the parent events and the
// campaign's showings in the period.
type Support struct {
	RegisterByLevel []Count // active entries by risk level
	Proposed        int     // proposals awaiting a decision
	Roll, Screened  int     // pupils on the roll; of them, those screened in the period (at their school)
	PlansByStatus   []Count // draft, active, closed
	PlansByOutcome  []Count // closed plans by outcome
	ReviewsOverdue  int     // live plans past their review
	LivePlans       int     // live plans (draft or active)
	EventsByStatus  []Count // planned, held, cancelled
	HeadCount       int     // parents counted at the events held
	ShowingsByKind  []Count // video, poster, leaflet
	ReachPupils     int
	ReachParents    int
}

// supportOrder names the categories of each support chart in the order
// they are drawn.
var supportOrder = map[string][]string{
	"register_by_level":  {"low", "medium", "high"},
	"screening_coverage": {"screened", "not_screened"},
	"plans_by_status":    {"draft", "active", "closed"},
	"plans_by_outcome":   {"goals_met", "partly_met", "not_met", "moved", "other"},
	"plan_reviews":       {"overdue", "in_time"},
	"events_by_status":   {"planned", "held", "cancelled"},
	"event_attendance":   {"head_count"},
	"campaign_showings":  {"video", "poster", "leaflet"},
	"campaign_reach":     {"pupils", "parents"},
}

// supportChart is one support chart: its bars in their order, labelled
// with the chart's ID as the kind, and linked to their lists.
func supportChart(id string, counts []Count, total int, label Labels, link Links) Chart {
	c := Chart{ID: id, Title: "stats.chart." + id, Total: total, TotalLink: link(id, "")}
	byKey := map[string]int{}
	for _, k := range counts {
		byKey[k.Key] += k.N
	}
	for _, k := range supportOrder[id] {
		c.Bars = append(c.Bars, Bar{Key: k, Label: label(id, k), Value: byKey[k], Link: link(id, k)})
	}
	return c
}

// BuildSupport lays out the support charts. health and events say whether
// the register, screening and plans, and the events and campaign, follow
// the public rule (o) for this viewer; a suppressed chart links nowhere.
func BuildSupport(s Support, health, events bool, o disclosure.Options, label Labels, link Links) ([]Chart, error) {
	none := func(string, string) string { return "" }
	hl, el := link, link
	if health {
		hl = none
	}
	if events {
		el = none
	}
	sum := func(cs []Count) int {
		n := 0
		for _, c := range cs {
			n += c.N
		}
		return n
	}
	notScreened := max(s.Roll-s.Screened, 0)
	hc := []Chart{
		supportChart("register_by_level", s.RegisterByLevel, sum(s.RegisterByLevel), label, hl),
		supportChart("screening_coverage", []Count{{"screened", s.Screened}, {"not_screened", notScreened}}, s.Screened+notScreened, label, hl),
		supportChart("plans_by_status", s.PlansByStatus, sum(s.PlansByStatus), label, hl),
		supportChart("plans_by_outcome", s.PlansByOutcome, sum(s.PlansByOutcome), label, hl),
		supportChart("plan_reviews", []Count{{"overdue", s.ReviewsOverdue}, {"in_time", max(s.LivePlans-s.ReviewsOverdue, 0)}}, s.LivePlans, label, hl),
	}
	ec := []Chart{
		supportChart("events_by_status", s.EventsByStatus, sum(s.EventsByStatus), label, el),
		supportChart("event_attendance", []Count{{"head_count", s.HeadCount}}, s.HeadCount, label, el),
		supportChart("campaign_showings", s.ShowingsByKind, sum(s.ShowingsByKind), label, el),
		supportChart("campaign_reach", []Count{{"pupils", s.ReachPupils}, {"parents", s.ReachParents}}, s.ReachPupils+s.ReachParents, label, el),
	}
	for _, part := range []struct {
		charts     []Chart
		suppressed bool
	}{{hc, health}, {ec, events}} {
		if !part.suppressed {
			continue
		}
		for i := range part.charts {
			if err := Suppress(&part.charts[i], o); err != nil {
				return nil, err
			}
			part.charts[i].TotalLink = ""
		}
	}
	return append(hc, ec...), nil
}

// RegisterTable builds the public table "register by district × risk
// level" from the active entries counted by district and level, protected
// over all its cells and margins like the rest of the catalogue.
func RegisterTable(groups []Group, lang string, label func(level string) string) (*Published, error) {
	var dcodes, dlabels []string
	for _, d := range org.BakuDistricts() {
		dcodes = append(dcodes, d.Code)
		dlabels = append(dlabels, org.Org{NameAZ: d.NameAZ, NameRU: d.NameRU, NameEN: d.NameEN}.Name(lang))
	}
	levels := supportOrder["register_by_level"]
	var llabels []string
	for _, l := range levels {
		llabels = append(llabels, label(l))
	}
	di, li := Index(dcodes), Index(levels)
	return BuildTable("register", "stats.public.register", []Dimension{
		{Name: "stats.dim.district", Codes: dcodes, Labels: dlabels},
		{Name: "stats.dim.level", Codes: levels, Labels: llabels},
	}, groups, func(g Group) ([]int, bool) {
		d, ok1 := di[g.Keys[0]]
		l, ok2 := li[g.Keys[1]]
		return []int{d, l}, ok1 && ok2
	}, disclosure.Options{})
}
