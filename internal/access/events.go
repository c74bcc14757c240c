package access

import "dayaq/internal/org"

// EventFacts is what the policy needs to know about a parent awareness
// event or a campaign showing: the school that holds it and its district.
type EventFacts struct {
	SchoolID int64
	District string
}

// eventJurisdiction is the jurisdiction p has over events: the city, a
// district or a school (its head and psychologist; its teachers read).
func eventJurisdiction(p Principal) (jurisdiction, bool) {
	j, w := staffJurisdiction(p)
	if j == jurClasses {
		return jurSchool, false // a teacher sees the school's events, and plans none
	}
	return j, w
}

// DecideEvent answers whether p may do a with an event (or a showing) held
// by the school in f: a school its own, a district its schools', the city
// all. Events hold no child's data themselves; attendance by pupil is
// checked against each child's policy as well.
func DecideEvent(p Principal, a Action, f EventFacts) Decision {
	if !p.Authenticated() || !p.allows(a) {
		return Decision{}
	}
	j, canWrite := eventJurisdiction(p)
	if !inJurisdiction(p, j, ChildFacts{SchoolID: f.SchoolID, District: f.District}) {
		return Decision{}
	}
	if a == Write && !canWrite {
		return Decision{}
	}
	return Decision{Allowed: true, View: ViewFull}
}

// EventFilter is DecideEvent as a query: the events p may list. A zero
// filter matches none.
type EventFilter struct {
	All      bool
	District string
	SchoolID int64
}

// Empty reports whether f matches no event.
func (f EventFilter) Empty() bool { return !f.All && f.District == "" && f.SchoolID == 0 }

// FilterEvents returns the events p may list or read; it agrees with
// DecideEvent (a test checks the two together).
func FilterEvents(p Principal) EventFilter {
	if !p.Authenticated() || !p.allows(List) {
		return EventFilter{}
	}
	switch j, _ := eventJurisdiction(p); j {
	case jurCity:
		return EventFilter{All: true}
	case jurDistrict:
		return EventFilter{District: p.District}
	case jurSchool:
		return EventFilter{SchoolID: p.OrgID}
	}
	return EventFilter{}
}

// CanEditTopics reports whether p may edit the topic catalogue and the
// campaign's library and imported figures: the city unit.
func CanEditTopics(p Principal) bool {
	return p.Authenticated() && p.allows(Write) && p.OrgType == org.CityDepartment && p.HasAny(CityAdmin, CitySpecialist)
}

// CanReadCatalogue reports whether p may read the topic catalogue and the
// campaign's library: every signed-in member of staff.
func CanReadCatalogue(p Principal) bool { return p.Authenticated() && p.allows(Read) }

// SeesEventAggregates reports whether p may see the city's aggregate
// figures of events and of the campaign's reach (counts by district,
// school and topic; never a pupil): the city, the districts, the hotline's
// supervisors (for the reach beside their contacts) and the Public
// Council, which sees these figures and nothing else of events.
func SeesEventAggregates(p Principal) bool {
	if !p.Authenticated() || !p.allows(Read) {
		return false
	}
	if j, _ := eventJurisdiction(p); j >= jurDistrict {
		return true
	}
	return p.HasAny(PublicCouncil, HotlineSupervisor)
}

// AggregateFilter narrows the aggregates p sees: a district's staff their
// district, everyone else who may see them the whole city.
func AggregateFilter(p Principal) EventFilter {
	if !SeesEventAggregates(p) {
		return EventFilter{}
	}
	if j, _ := eventJurisdiction(p); j == jurDistrict {
		return EventFilter{District: p.District}
	}
	return EventFilter{All: true}
}

// CanPlanEvents reports whether p may plan events somewhere: a school's
// head or psychologist for their school, or city and district specialists
// (naming the school).
func CanPlanEvents(p Principal) bool {
	if p.OrgType == org.School {
		return DecideEvent(p, Write, EventFacts{SchoolID: p.OrgID, District: p.District}).Allowed
	}
	f := FilterEvents(p)
	return (f.All || f.District != "") && p.allows(Write) && p.HasAny(CityAdmin, CitySpecialist)
}

// AggregatesOnly reports whether p sees events and the campaign only as
// aggregate figures: the Public Council. (The hotline's supervisors see
// the aggregates and the campaign's library too.)
func AggregatesOnly(p Principal) bool {
	return SeesEventAggregates(p) && FilterEvents(p).Empty() && !p.Has(HotlineSupervisor)
}
