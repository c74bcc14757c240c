package access

import "dayaq/internal/org"

// Hotline contacts are children's data too, so they follow this policy:
// an operator sees the contacts they logged and those assigned to them; a
// shift supervisor every contact of their hotline; the city special-cases
// unit (city specialists of BŞTİ) every contact. Nobody else sees any.

// ContactFacts is what the policy needs to know about one contact.
type ContactFacts struct {
	OrgID      int64 // the hotline that logged it
	CreatedBy  int64
	AssignedTo int64
}

// ContactFilter is the contact policy as a query: the contacts a principal
// may see. Fields widen the set (they are ORed); a zero filter matches
// nothing.
type ContactFilter struct {
	All    bool
	OrgID  int64 // contacts logged at this hotline
	UserID int64 // contacts this user logged or is assigned
}

// Empty reports whether f matches no contact.
func (f ContactFilter) Empty() bool { return !f.All && f.OrgID == 0 && f.UserID == 0 }

// citySpecialist reports whether p works in the city special-cases unit.
func citySpecialist(p Principal) bool {
	return p.Has(CitySpecialist) && p.OrgType == org.CityDepartment
}

// ContactFilterFor returns the contacts p may read (or list). It agrees
// with DecideContact.
func ContactFilterFor(p Principal) ContactFilter {
	if !p.Authenticated() || !p.allows(Read) {
		return ContactFilter{}
	}
	if citySpecialist(p) {
		return ContactFilter{All: true}
	}
	var f ContactFilter
	if p.Has(HotlineSupervisor) {
		f.OrgID = p.OrgID
	}
	if p.Has(HotlineOperator) || p.Has(HotlineSupervisor) {
		f.UserID = p.UserID
	}
	return f
}

// DecideContact answers whether p may do a with the contact described by
// c. Writing a contact (taking its alert, assigning it) needs what reading
// it needs, and a token allowed to write.
func DecideContact(p Principal, a Action, c ContactFacts) bool {
	if !p.Authenticated() || !p.allows(a) {
		return false
	}
	switch {
	case citySpecialist(p):
		return true
	case p.Has(HotlineSupervisor) && c.OrgID == p.OrgID:
		return true
	case p.HasAny(HotlineOperator, HotlineSupervisor) && (c.CreatedBy == p.UserID || c.AssignedTo == p.UserID):
		return true
	}
	return false
}

// CanLogContact reports whether p may log a new contact: the hotline's
// operators and supervisors, and the city special-cases unit (a call that
// reaches them directly).
func CanLogContact(p Principal) bool {
	if !p.Authenticated() || !p.allows(Write) {
		return false
	}
	return p.HasAny(HotlineOperator, HotlineSupervisor) || citySpecialist(p)
}

// AlertedBy reports whether p is told at once of a critical contact
// logged at the hotline hotlineOrgID: the hotline's duty supervisors and
// the city special-cases unit. They may take it.
func AlertedBy(p Principal, hotlineOrgID int64) bool {
	return (p.Has(HotlineSupervisor) && p.OrgID == hotlineOrgID) || citySpecialist(p)
}

// CanEditTaxonomy reports whether p may publish a new version of the
// hotline's taxonomy: the city administrators.
func CanEditTaxonomy(p Principal) bool {
	return p.Authenticated() && p.allows(Write) && p.Has(CityAdmin) && p.OrgType == org.CityDepartment
}
