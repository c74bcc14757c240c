package referral

import (
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"dayaq/internal/access"
	"dayaq/internal/apperr"
)

// BasisKind is why sharing a child's data with another body is lawful.
type BasisKind string

const (
	Consent           BasisKind = "consent"            // a parent or guardian agreed
	ChildInDanger     BasisKind = "child_in_danger"    // the child's life or health is at risk
	CourtRequest      BasisKind = "court_request"      // a court asked
	CommissionRequest BasisKind = "commission_request" // a commission on minors' affairs asked
	Override          BasisKind = "override"           // none of these, on the responsibility of a senior role
)

// BasisKinds lists the kinds in the order the form shows them.
func BasisKinds() []BasisKind {
	return []BasisKind{Consent, ChildInDanger, CourtRequest, CommissionRequest, Override}
}

// Legal reports whether k is a legal basis that needs no consent.
func (k BasisKind) Legal() bool {
	return k == ChildInDanger || k == CourtRequest || k == CommissionRequest
}

// ConsentMethod is how consent was given.
type ConsentMethod string

const (
	Written    ConsentMethod = "written"
	Oral       ConsentMethod = "oral"
	Electronic ConsentMethod = "electronic"
)

// ConsentMethods lists the methods in the order the form shows them.
func ConsentMethods() []ConsentMethod { return []ConsentMethod{Written, Oral, Electronic} }

// Basis is the recorded ground for sharing: consent (who, how, when), a
// legal basis with its reference, or an override with its reason.
type Basis struct {
	Kind           BasisKind
	ConsentBy      string        // the parent's or guardian's name
	ConsentRelated string        // how they are related to the child: mother, father, guardian
	ConsentMethod  ConsentMethod // how they agreed
	ConsentAt      time.Time     // when
	Reference      string        // a legal basis's reference: the court's or commission's letter
	Reason         string        // an override's reason
}

// check names every field of b at fault.
func (b Basis) check() []apperr.FieldError {
	var fs []apperr.FieldError
	switch b.Kind {
	case Consent:
		if strings.TrimSpace(b.ConsentBy) == "" {
			fs = append(fs, apperr.Field("consent_by", "error.required"))
		}
		if strings.TrimSpace(b.ConsentRelated) == "" {
			fs = append(fs, apperr.Field("consent_relation", "error.required"))
		}
		if !slices.Contains(ConsentMethods(), b.ConsentMethod) {
			fs = append(fs, apperr.Field("consent_method", "referral.error.consent_method"))
		}
		if b.ConsentAt.IsZero() {
			fs = append(fs, apperr.Field("consent_at", "referral.error.consent_at"))
		}
	case CourtRequest, CommissionRequest:
		if strings.TrimSpace(b.Reference) == "" {
			fs = append(fs, apperr.Field("basis_reference", "referral.error.reference"))
		}
	case ChildInDanger:
	case Override:
		if utf8.RuneCountInString(strings.TrimSpace(b.Reason)) < 10 {
			fs = append(fs, apperr.Field("override_reason", "referral.error.override_reason", 10))
		}
	default:
		fs = append(fs, apperr.Field("basis", "referral.error.basis"))
	}
	return fs
}

// CheckBasis checks b against who records it and when: consent cannot be
// dated in the future, and only a senior role may override.
func CheckBasis(p access.Principal, b Basis, now time.Time) error {
	fs := b.check()
	if b.Kind == Consent && b.ConsentAt.After(now) {
		fs = append(fs, apperr.Field("consent_at", "referral.error.consent_future"))
	}
	if len(fs) > 0 {
		return apperr.Validation(fs...)
	}
	if b.Kind == Override && !CanOverride(p) {
		return apperr.New(apperr.Forbidden, "referral.error.override_role")
	}
	return nil
}

// CanOverride reports whether p may send a referral without consent or a
// legal basis: the city unit's specialists and the supervisors of the
// hotline and partner bodies, who answer for it.
func CanOverride(p access.Principal) bool {
	return p.HasAny(access.CitySpecialist, access.HotlineSupervisor, access.AgencySupervisor)
}
