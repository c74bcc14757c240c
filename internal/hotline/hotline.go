// Package hotline is the 146-2 hotline's intake: what a contact is, the
// rules it must follow, the urgency the rules suggest, and how a caller's
// number is kept (normalized, hashed for lookup, masked for display). It
// does no I/O.
package hotline

import (
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"dayaq/internal/apperr"
	"dayaq/internal/org"
	"dayaq/internal/taxonomy"
)

// Channel is how a contact reached the hotline.
type Channel string

const (
	Phone   Channel = "phone"
	Web     Channel = "web"
	WalkIn  Channel = "walk_in"
	School  Channel = "school"
	Another Channel = "agency" // another body
)

// Channels lists the channels in the order forms show them.
func Channels() []Channel { return []Channel{Phone, Web, WalkIn, School, Another} }

// CallType says whether a contact carries data about a child.
type CallType string

const (
	ChildSelf  CallType = "child_self"  // a child about themself
	AboutChild CallType = "about_child" // someone about a child
	Silent     CallType = "silent"
	HangUp     CallType = "hang_up"
	Abusive    CallType = "abusive"
	Prank      CallType = "prank"
)

// CallTypes lists the call types, the data-carrying ones first.
func CallTypes() []CallType { return []CallType{ChildSelf, AboutChild, Silent, HangUp, Abusive, Prank} }

// CarriesData reports whether contacts of this type hold case data; the
// others are counted and hold nothing else.
func (t CallType) CarriesData() bool { return t == ChildSelf || t == AboutChild }

// Relationship is who the caller is to the child.
type Relationship string

// Relationships lists the caller's possible relationships to the child.
func Relationships() []Relationship {
	return []Relationship{"self", "parent", "relative", "teacher", "neighbour", "friend", "professional", "other"}
}

// Urgency is how soon someone must act.
type Urgency string

const (
	Critical Urgency = "critical" // danger to life or health now
	High     Urgency = "high"
	Medium   Urgency = "medium"
	Low      Urgency = "low"
)

// Urgencies lists the levels, most urgent first.
func Urgencies() []Urgency { return []Urgency{Critical, High, Medium, Low} }

// Rank orders urgencies: 4 for critical down to 1 for low, 0 when unknown.
func (u Urgency) Rank() int {
	switch u {
	case Critical:
		return 4
	case High:
		return 3
	case Medium:
		return 2
	case Low:
		return 1
	}
	return 0
}

// Outcome is what the contact led to.
type Outcome string

const (
	Advice     Outcome = "advice"
	CaseOpened Outcome = "case_opened"
	Attached   Outcome = "case_attached"
	Referred   Outcome = "referred"
	NoAction   Outcome = "no_action"
)

// Outcomes lists the outcomes in the order forms show them.
func Outcomes() []Outcome { return []Outcome{Advice, CaseOpened, Attached, Referred, NoAction} }

// Answers are the operator's answers to the questions that decide urgency.
type Answers struct {
	DangerNow         bool `json:"danger_now"`          // the child's life or health is in danger now
	AttemptInProgress bool `json:"attempt_in_progress"` // a suicide attempt or self-harm is happening now
	Injured           bool `json:"injured"`             // the child is hurt
}

// Suggest is the urgency the rules suggest for a contact with these
// categories and answers; the operator decides. Danger now, or an attempt
// in progress, is critical; suicidal thoughts, self-harm, sexual violence
// (online too) and abduction are high, as is an injured child; other
// violence, missing children and mental health are medium; the rest low.
func Suggest(categories []string, a Answers) Urgency {
	if a.DangerNow || a.AttemptInProgress {
		return Critical
	}
	level := Low
	if a.Injured {
		level = High
	}
	for _, c := range categories {
		switch {
		case taxonomy.Under(c, "mental.suicidal"), taxonomy.Under(c, "mental.self_harm"),
			taxonomy.Under(c, "violence.sexual"), taxonomy.Under(c, "violence.online_sexual"),
			taxonomy.Under(c, "missing.abduction"):
			level = maxUrgency(level, High)
		case taxonomy.Under(c, "violence"), taxonomy.Under(c, "missing"), taxonomy.Under(c, "mental"):
			level = maxUrgency(level, Medium)
		}
	}
	return level
}

func maxUrgency(a, b Urgency) Urgency {
	if b.Rank() > a.Rank() {
		return b
	}
	return a
}

// Caller is who contacted the hotline. Phone is the number as given; it is
// never stored as such (see PhoneKey).
type Caller struct {
	Anonymous    bool         `json:"anonymous"`
	Name         string       `json:"name,omitempty"`
	Relationship Relationship `json:"relationship,omitempty"`
	Phone        string       `json:"phone,omitempty"`
}

// ChildRef is a child the contact is about: a registry child found by
// matching (ChildID), or one recorded with whatever the caller said.
type ChildRef struct {
	ChildID  int64  `json:"child_id,omitempty"`
	Name     string `json:"name,omitempty"` // as said
	Age      int    `json:"age,omitempty"`  // 0: unknown
	School   string `json:"school,omitempty"`
	District string `json:"district,omitempty"` // a Baku district code, BAK-06
}

// Contact is one contact with the hotline.
type Contact struct {
	ID              int64
	TaxonomyVersion int
	Channel         Channel
	ReceivedAt      time.Time
	CallType        CallType
	Caller          Caller
	PhoneMasked     string
	Children        []ChildRef
	Categories      []string
	Answers         Answers
	Urgency         Urgency
	Suggested       Urgency // what the rules suggested
	Narrative       string
	Outcome         Outcome
	OutcomeReason   string
	CaseID          int64  // the case it opened or was attached to
	ReferredTo      string // the organisation's code
	CreatedBy       int64
	OrgID           int64
	AssignedTo      int64
	CreatedAt       time.Time
	AlertOpen       bool // critical and not yet taken
	TakenBy         int64
	TakenAt         time.Time
}

// Limits on a contact's parts.
const (
	MaxChildren     = 10
	MaxCategories   = 10
	MaxNarrative    = 10000
	MaxText         = 200
	MaxAge          = 21
	maxClockSkew    = 5 * time.Minute
	maxReceivedBack = 31 * 24 * time.Hour
)

// Normalize trims the text fields, and empties what a contact without
// data may not hold so that validation can name what was given.
func (c *Contact) Normalize() {
	c.Caller.Name = strings.Join(strings.Fields(c.Caller.Name), " ")
	c.Caller.Phone = strings.TrimSpace(c.Caller.Phone)
	c.Narrative = strings.TrimSpace(c.Narrative)
	c.OutcomeReason = strings.TrimSpace(c.OutcomeReason)
	c.ReferredTo = strings.ToUpper(strings.TrimSpace(c.ReferredTo))
	for i := range c.Children {
		r := &c.Children[i]
		r.Name = strings.Join(strings.Fields(r.Name), " ")
		r.School = strings.Join(strings.Fields(r.School), " ")
		r.District = strings.ToUpper(strings.TrimSpace(r.District))
	}
	for i, cat := range c.Categories {
		c.Categories[i] = strings.TrimSpace(cat)
	}
	if c.Caller.Anonymous {
		c.Caller.Name = ""
	}
	if c.CallType != "" && !c.CallType.CarriesData() {
		if c.Urgency == "" {
			c.Urgency = Low
		}
		if c.Outcome == "" {
			c.Outcome = NoAction
		}
	}
}

// Validate checks c against the hotline's rules and the taxonomy it is
// classified with, naming every field at fault at once. now is the
// platform's clock.
func (c Contact) Validate(now time.Time, tax taxonomy.Taxonomy) error {
	var fs []apperr.FieldError
	add := func(field, key string, args ...any) { fs = append(fs, apperr.Field(field, key, args...)) }
	if !slices.Contains(Channels(), c.Channel) {
		add("channel", "hotline.error.channel")
	}
	if !slices.Contains(CallTypes(), c.CallType) {
		add("call_type", "hotline.error.call_type")
	}
	switch {
	case c.ReceivedAt.IsZero():
		add("received_at", "error.required")
	case c.ReceivedAt.After(now.Add(maxClockSkew)):
		add("received_at", "hotline.error.future")
	case c.ReceivedAt.Before(now.Add(-maxReceivedBack)):
		add("received_at", "hotline.error.too_old")
	}
	if !slices.Contains(Urgencies(), c.Urgency) {
		add("urgency", "hotline.error.urgency")
	}
	if !slices.Contains(Outcomes(), c.Outcome) {
		add("outcome", "hotline.error.outcome")
	}
	if c.CallType.CarriesData() {
		fs = append(fs, c.validateData(tax)...)
	} else if slices.Contains(CallTypes(), c.CallType) {
		for _, x := range []struct {
			field string
			given bool
		}{
			{"children", len(c.Children) > 0}, {"categories", len(c.Categories) > 0}, {"narrative", c.Narrative != ""},
			{"caller.phone", c.Caller.Phone != ""}, {"caller.name", c.Caller.Name != ""},
		} {
			if x.given {
				add(x.field, "hotline.error.no_data")
			}
		}
		if c.Outcome != NoAction && c.Outcome != "" {
			add("outcome", "hotline.error.no_data_outcome")
		}
	}
	switch c.Outcome {
	case NoAction:
		if c.CallType.CarriesData() && c.OutcomeReason == "" {
			add("outcome_reason", "error.required")
		}
	case Attached:
		if c.CaseID <= 0 {
			add("case_id", "error.required")
		}
	case Referred:
		if c.ReferredTo == "" {
			add("referred_to", "error.required")
		}
	}
	if utf8.RuneCountInString(c.OutcomeReason) > 1000 {
		add("outcome_reason", "error.too_long", 1000)
	}
	if len(fs) > 0 {
		return apperr.Validation(fs...)
	}
	return nil
}

func (c Contact) validateData(tax taxonomy.Taxonomy) []apperr.FieldError {
	var fs []apperr.FieldError
	add := func(field, key string, args ...any) { fs = append(fs, apperr.Field(field, key, args...)) }
	if !c.Caller.Anonymous && c.Caller.Relationship == "" && c.CallType == AboutChild {
		add("caller.relationship", "error.required")
	}
	if c.Caller.Relationship != "" && !slices.Contains(Relationships(), c.Caller.Relationship) {
		add("caller.relationship", "hotline.error.relationship")
	}
	if utf8.RuneCountInString(c.Caller.Name) > MaxText {
		add("caller.name", "error.too_long", MaxText)
	}
	if c.Caller.Phone != "" {
		if _, ok := NormalizePhone(c.Caller.Phone); !ok {
			add("caller.phone", "hotline.error.phone")
		}
	}
	if len(c.Children) > MaxChildren {
		add("children", "hotline.error.too_many", MaxChildren)
	}
	districts := map[string]bool{}
	for _, d := range org.BakuDistricts() {
		districts[d.Code] = true
	}
	for i, r := range c.Children {
		f := func(name string) string { return fmt.Sprintf("children[%d].%s", i, name) }
		if r.ChildID < 0 {
			add(f("child_id"), "hotline.error.child_id")
		}
		if r.ChildID == 0 && r.Name == "" && r.Age == 0 && r.School == "" && r.District == "" {
			add(f("name"), "hotline.error.child_empty")
		}
		if r.Age < 0 || r.Age > MaxAge {
			add(f("age"), "error.range", 0, MaxAge)
		}
		if utf8.RuneCountInString(r.Name) > MaxText {
			add(f("name"), "error.too_long", MaxText)
		}
		if utf8.RuneCountInString(r.School) > MaxText {
			add(f("school"), "error.too_long", MaxText)
		}
		if r.District != "" && !districts[r.District] {
			add(f("district"), "hotline.error.district", r.District)
		}
	}
	switch {
	case len(c.Categories) == 0:
		add("categories", "hotline.error.categories")
	case len(c.Categories) > MaxCategories:
		add("categories", "hotline.error.too_many", MaxCategories)
	default:
		fs = append(fs, tax.Check("categories", c.Categories)...)
	}
	if utf8.RuneCountInString(c.Narrative) > MaxNarrative {
		add("narrative", "error.too_long", MaxNarrative)
	}
	return fs
}
