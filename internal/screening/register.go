package screening

import "slices"

// Level is a pupil's risk level.
type Level string

const (
	None   Level = "none"
	Low    Level = "low"
	Medium Level = "medium"
	High   Level = "high"
)

// Levels lists the levels from lowest to highest.
func Levels() []Level { return []Level{None, Low, Medium, High} }

// Valid reports whether l is a known level.
func (l Level) Valid() bool { return slices.Contains(Levels(), l) }

// Rank orders levels: none 0 … high 3, unknown −1.
func (l Level) Rank() int { return slices.Index(Levels(), l) }

// Proposes reports whether a result at l proposes the pupil for the
// register: medium and high do.
func (l Level) Proposes() bool { return l == Medium || l == High }

// Status is where a register entry stands.
type Status string

const (
	Proposed Status = "proposed" // waiting for the psychologist or head
	Active   Status = "active"   // on the register, reviewed on its cadence
	Declined Status = "declined" // the proposal was declined, with a reason
	Exited   Status = "exited"   // taken off the register, with a reason
)

// Open reports whether an entry at s still counts: a child has at most
// one open entry.
func (s Status) Open() bool { return s == Proposed || s == Active }

// Source is what proposed a pupil for the register.
type Source string

const (
	FromScreening Source = "screening"
	FromCase      Source = "case"
	FromContact   Source = "contact"
	FromManual    Source = "manual"
)

// Valid reports whether s is a known source.
func (s Source) Valid() bool {
	return slices.Contains([]Source{FromScreening, FromCase, FromContact, FromManual}, s)
}

// ExitReasons are the reasons a pupil leaves the register.
func ExitReasons() []string {
	return []string{"moved_school", "risk_resolved", "left_education", "age", "other"}
}

// Factor is one reason behind a risk level or a register entry, kept as
// data so that every reader sees it in their own language.
type Factor struct {
	Kind       string `json:"kind"`                 // "score", "category", "sign", "case", "contact"
	Instrument string `json:"instrument,omitempty"` // for a score: the instrument's code
	Code       string `json:"code"`                 // the scale, category or sign code
	Score      *int   `json:"score,omitempty"`
	Band       string `json:"band,omitempty"`
	Informant  string `json:"informant,omitempty"`
	Frequency  string `json:"frequency,omitempty"`
	Since      string `json:"since,omitempty"` // YYYY-MM-DD
	Text       string `json:"text,omitempty"`  // the "other" category's text, a case's number
	Points     int    `json:"points"`
}
