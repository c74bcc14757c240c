// Package child defines a child in the registry and the rules its record
// follows. It does no I/O.
package child

import (
	"strconv"
	"strings"
	"time"

	"dayaq/internal/apperr"
)

// Sex is recorded as on the school roster.
type Sex string

const (
	Male   Sex = "m"
	Female Sex = "f"
)

// Child is a pupil in the registry.
type Child struct {
	ID         int64
	StudentID  string // the school system's pupil identifier
	LastName   string
	FirstName  string
	Patronymic string // "Rəşad oğlu" / "Rəşad qızı"
	Sex        Sex
	BirthDate  time.Time // a date; the time part is zero, UTC
	SchoolID   int64
	Grade      int    // 0 is the preparatory class
	Section    string // the class letter: "A" in 5A; may be empty
	Version    int    // optimistic-locking version
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// FullName is "Last First Patronymic" as Azerbaijani documents write it.
func (c Child) FullName() string {
	return strings.TrimSpace(strings.Join([]string{c.LastName, c.FirstName, c.Patronymic}, " "))
}

// Class is the child's class as schools write it: "5A", or "5" without a
// section, and "0" for the preparatory class.
func (c Child) Class() string { return strconv.Itoa(c.Grade) + c.Section }

// Normalize trims the text fields and upper-cases the section.
func (c *Child) Normalize() {
	c.StudentID = strings.TrimSpace(c.StudentID)
	c.LastName = strings.Join(strings.Fields(c.LastName), " ")
	c.FirstName = strings.Join(strings.Fields(c.FirstName), " ")
	c.Patronymic = strings.Join(strings.Fields(c.Patronymic), " ")
	c.Section = strings.ToUpper(strings.TrimSpace(c.Section))
}

// Validate checks the record against the registry's rules; today is the
// current date (a birth date may not lie in the future).
func (c Child) Validate(today time.Time) error {
	var fs []apperr.FieldError
	req := func(field, v string, max int) {
		switch n := len([]rune(strings.TrimSpace(v))); {
		case n == 0:
			fs = append(fs, apperr.Field(field, "error.required"))
		case n > max:
			fs = append(fs, apperr.Field(field, "error.too_long", max))
		}
	}
	req("student_id", c.StudentID, 64)
	req("last_name", c.LastName, 100)
	req("first_name", c.FirstName, 100)
	if len([]rune(c.Patronymic)) > 100 {
		fs = append(fs, apperr.Field("patronymic", "error.too_long", 100))
	}
	if c.Sex != Male && c.Sex != Female {
		fs = append(fs, apperr.Field("sex", "child.error.sex"))
	}
	switch {
	case c.BirthDate.IsZero():
		fs = append(fs, apperr.Field("birth_date", "error.required"))
	case c.BirthDate.After(today):
		fs = append(fs, apperr.Field("birth_date", "child.error.birth_future"))
	case today.Year()-c.BirthDate.Year() > 25:
		fs = append(fs, apperr.Field("birth_date", "child.error.birth_too_old"))
	}
	if n := len([]rune(c.Section)); n > 3 || strings.ContainsAny(c.Section, " \t,;") {
		fs = append(fs, apperr.Field("section", "child.error.section"))
	}
	if c.Grade < 0 || c.Grade > 12 {
		fs = append(fs, apperr.Field("grade", "child.error.grade"))
	}
	if len(fs) > 0 {
		return apperr.Validation(fs...)
	}
	return nil
}
