// Package events holds the rules of parent awareness events (capability 8)
// and of the "Mənimlə danış" campaign (capability 9): the topic catalogue,
// an event's plan and what was recorded after it, anonymous feedback, the
// campaign's materials, showings and imported figures, and the school
// year the city's view counts in. It does no I/O.
package events

import (
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"dayaq/internal/apperr"
)

// Topic is one entry of the catalogue, titled in the three languages.
type Topic struct {
	ID        int64
	Code      string
	TitleAZ   string
	TitleRU   string
	TitleEN   string
	Active    bool
	Version   int
	Materials []Material
}

// Title is the topic's title in lang (az when it has none in lang).
func (t Topic) Title(lang string) string {
	switch {
	case lang == "ru" && t.TitleRU != "":
		return t.TitleRU
	case lang == "en" && t.TitleEN != "":
		return t.TitleEN
	}
	return t.TitleAZ
}

// Validate checks a topic as the city edits it.
func (t Topic) Validate() error {
	var fs []apperr.FieldError
	if !validCode(t.Code) {
		fs = append(fs, apperr.Field("code", "events.error.code"))
	}
	for _, f := range []struct{ name, v string }{{"title_az", t.TitleAZ}, {"title_ru", t.TitleRU}, {"title_en", t.TitleEN}} {
		if e, bad := text(f.name, f.v, 200, true); bad {
			fs = append(fs, e)
		}
	}
	if len(fs) > 0 {
		return apperr.Validation(fs...)
	}
	return nil
}

// validCode reports whether s is a topic code: lower-case letters, digits
// and dots or underscores, 2 to 60 characters.
func validCode(s string) bool {
	if len(s) < 2 || len(s) > 60 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '.' || r == '_') {
			return false
		}
	}
	return true
}

// text checks a free-text field: required when req, at most max runes.
func text(field, v string, max int, req bool) (apperr.FieldError, bool) {
	v = strings.TrimSpace(v)
	switch {
	case req && v == "":
		return apperr.Field(field, "error.required"), true
	case utf8.RuneCountInString(v) > max:
		return apperr.Field(field, "events.error.too_long", max), true
	}
	return apperr.FieldError{}, false
}

// Material is a file kept like a case attachment: sealed in the blob
// store, its checksum and type recorded.
type Material struct {
	ID          int64
	OwnerID     int64 // the topic or the campaign material it belongs to
	Name        string
	ContentType string
	Size        int64
	SHA256      string
	BlobKey     string
	CreatedAt   time.Time
}

// MaxMaterialSize is the largest file a topic or campaign material may
// carry; larger videos are linked instead.
const MaxMaterialSize = 20 << 20

// materialTypes are the content types a material may have, as sniffed from
// its bytes: documents, images and short videos.
var materialTypes = []string{"application/pdf", "image/png", "image/jpeg", "image/webp", "video/mp4", "video/webm",
	"application/zip"} // zip: .docx, .pptx and .odt as browsers sniff them

// AllowedType reports whether a file sniffed as contentType may be a
// material.
func AllowedType(contentType string) bool {
	mt, _, _ := strings.Cut(contentType, ";")
	return slices.Contains(materialTypes, strings.TrimSpace(strings.ToLower(mt)))
}

// CheckFile refuses a material file of the wrong size or type, naming the
// field "file". sniffed is what the bytes say they are.
func CheckFile(size int64, sniffed string) error {
	switch {
	case size == 0:
		return apperr.Validation(apperr.Field("file", "error.required"))
	case size > MaxMaterialSize:
		return apperr.Validation(apperr.Field("file", "events.error.file_too_big", MaxMaterialSize>>20))
	case !AllowedType(sniffed):
		return apperr.Validation(apperr.Field("file", "events.error.file_type"))
	}
	return nil
}

// SpeakerKind is who speaks at an event.
type SpeakerKind string

const (
	Psychologist SpeakerKind = "psychologist" // the school's psychologist
	TeacherSpeak SpeakerKind = "teacher"      // a teacher
	Invited      SpeakerKind = "invited"      // an invited body
)

// SpeakerKinds lists them in the order forms show them.
func SpeakerKinds() []SpeakerKind { return []SpeakerKind{Psychologist, TeacherSpeak, Invited} }

// Body is an invited body that speaks at an event.
type Body string

// Bodies lists the bodies a school may invite.
func Bodies() []Body {
	return []Body{"police", "health", "state_committee", "social_protection", "ngo", "other"}
}

// Status is where an event stands.
type Status string

const (
	Planned   Status = "planned"
	Held      Status = "held"
	Cancelled Status = "cancelled"
)

// Statuses lists them.
func Statuses() []Status { return []Status{Planned, Held, Cancelled} }

// Event is a school's awareness event for parents: its plan and, once
// held, what was recorded.
type Event struct {
	ID          int64
	SchoolID    int64
	SchoolName  string
	District    string
	TopicIDs    []int64
	Topics      []Topic
	FileIDs     []int64    // the materials chosen for it
	Files       []Material // (read) those materials
	StartsAt    time.Time
	Place       string
	WholeSchool bool
	Classes     []string // "5", "5A": the audience when not the whole school
	SpeakerKind SpeakerKind
	SpeakerBody Body // with Invited
	SpeakerName string
	Status      Status
	// After the event.
	HeadCount     int
	Notes         string
	MaterialsUsed string
	FeedbackCode  string // the short link's code
	Responses     int    // feedback responses received
	Attended      int    // pupils whose parents were recorded as present
	Version       int
}

// ParseClasses reads an audience as typed: "5, 6A, 7b" → ["5", "6A", "7B"].
// A grade is 0 to 12; a section a single letter.
func ParseClasses(s string) ([]string, bool) {
	var out []string
	for p := range strings.FieldsFuncSeq(s, func(r rune) bool { return r == ',' || r == ' ' || r == ';' }) {
		p = strings.ToUpper(p)
		digits := strings.TrimRightFunc(p, func(r rune) bool { return r < '0' || r > '9' })
		sec := p[len(digits):]
		g, err := strconv.Atoi(digits)
		if err != nil || g < 0 || g > 12 || utf8.RuneCountInString(sec) > 1 {
			return nil, false
		}
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out, true
}

// Validate checks an event's plan.
func (e Event) Validate() error {
	var fs []apperr.FieldError
	if len(e.TopicIDs) == 0 {
		fs = append(fs, apperr.Field("topics", "events.error.topics"))
	}
	if e.StartsAt.IsZero() {
		fs = append(fs, apperr.Field("starts_at", "error.required"))
	}
	if f, bad := text("place", e.Place, 200, true); bad {
		fs = append(fs, f)
	}
	if !e.WholeSchool && len(e.Classes) == 0 {
		fs = append(fs, apperr.Field("classes", "events.error.audience"))
	}
	switch e.SpeakerKind {
	case Psychologist, TeacherSpeak:
	case Invited:
		if !slices.Contains(Bodies(), e.SpeakerBody) {
			fs = append(fs, apperr.Field("speaker_body", "events.error.body"))
		}
	default:
		fs = append(fs, apperr.Field("speaker_kind", "events.error.speaker"))
	}
	if f, bad := text("speaker_name", e.SpeakerName, 200, false); bad {
		fs = append(fs, f)
	}
	if !slices.Contains(Statuses(), e.Status) {
		fs = append(fs, apperr.Field("status", "events.error.status"))
	}
	if e.HeadCount < 0 || e.HeadCount > 100000 {
		fs = append(fs, apperr.Field("head_count", "error.range", 0, 100000))
	}
	if f, bad := text("notes", e.Notes, 4000, false); bad {
		fs = append(fs, f)
	}
	if f, bad := text("materials_used", e.MaterialsUsed, 2000, false); bad {
		fs = append(fs, f)
	}
	if len(fs) > 0 {
		return apperr.Validation(fs...)
	}
	return nil
}

// Audience is the audience as one line: "whole school" is left to the
// caller; otherwise the classes joined.
func (e Event) Audience() string { return strings.Join(e.Classes, ", ") }

// Feedback is one parent's anonymous answer to an event's form. It holds
// nothing that points at who answered: no time finer than the day, no
// address, no browser.
type Feedback struct {
	EventID    int64
	Usefulness int // 1 (not useful) … 5 (very useful)
	Clear      string
	NextTopic  string
	Comment    string
	Lang       string
}

// Validate checks a response.
func (f Feedback) Validate() error {
	var fs []apperr.FieldError
	if f.Usefulness < 1 || f.Usefulness > 5 {
		fs = append(fs, apperr.Field("usefulness", "events.error.usefulness"))
	}
	for _, t := range []struct{ name, v string }{{"clear", f.Clear}, {"next_topic", f.NextTopic}, {"comment", f.Comment}} {
		if e, bad := text(t.name, t.v, 1000, false); bad {
			fs = append(fs, e)
		}
	}
	if len(fs) > 0 {
		return apperr.Validation(fs...)
	}
	return nil
}

// SchoolYear is the school year containing t: from 1 September to the
// next 1 September, in Baku time (UTC+4).
func SchoolYear(t time.Time) (from, to time.Time) {
	baku := time.FixedZone("AZT", 4*3600)
	l := t.In(baku)
	y := l.Year()
	if l.Month() < time.September {
		y--
	}
	from = time.Date(y, time.September, 1, 0, 0, 0, 0, baku).UTC()
	return from, time.Date(y+1, time.September, 1, 0, 0, 0, 0, baku).UTC()
}

// ValidExternalURL reports whether s is an absolute http(s) link.
func ValidExternalURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" && len(s) <= 1000
}
