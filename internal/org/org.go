// Package org defines the organisations that work in Dayaq — the city
// education department, schools, the hotline, partner bodies — and Baku's
// districts. It validates them and reads them from CSV; it does no other I/O.
package org

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"dayaq/internal/apperr"
)

// Type is the kind of an organisation.
type Type string

const (
	CityDepartment   Type = "city_department"
	District         Type = "district"
	School           Type = "school"
	Hotline          Type = "hotline"
	Police           Type = "police"
	Health           Type = "health"
	SocialProtection Type = "social_protection"
	Commission       Type = "commission"
	StateCommittee   Type = "state_committee"
	ResearchCentre   Type = "research_centre"
	PublicCouncil    Type = "public_council"
)

// Types lists every organisation type, in the order forms show them.
func Types() []Type {
	return []Type{CityDepartment, District, School, Hotline, Police, Health,
		SocialProtection, Commission, StateCommittee, ResearchCentre, PublicCouncil}
}

// Valid reports whether t is a known type.
func (t Type) Valid() bool { return slices.Contains(Types(), t) }

// NeedsDistrict reports whether organisations of type t sit in one district.
func (t Type) NeedsDistrict() bool { return t == School || t == District || t == Commission }

// Org is an organisation. Names other than Azerbaijani are optional and fall
// back to it.
type Org struct {
	ID           int64
	Code         string
	Type         Type
	NameAZ       string
	NameRU       string
	NameEN       string
	DistrictCode string // empty for city-wide bodies
}

// Name returns the organisation's name in lang ("az", "ru", "en").
func (o Org) Name(lang string) string {
	switch {
	case lang == "ru" && o.NameRU != "":
		return o.NameRU
	case lang == "en" && o.NameEN != "":
		return o.NameEN
	}
	return o.NameAZ
}

var (
	codeRE       = regexp.MustCompile(`^[A-Z0-9][A-Z0-9-]{1,31}$`)
	schoolCodeRE = regexp.MustCompile(`^[A-Z]{3}-\d{2}-\d{3}$`)
)

// Normalize trims the fields of o and upper-cases its codes.
func (o *Org) Normalize() {
	o.Code = strings.ToUpper(strings.TrimSpace(o.Code))
	o.Type = Type(strings.ToLower(strings.TrimSpace(string(o.Type))))
	o.NameAZ = strings.TrimSpace(o.NameAZ)
	o.NameRU = strings.TrimSpace(o.NameRU)
	o.NameEN = strings.TrimSpace(o.NameEN)
	o.DistrictCode = strings.ToUpper(strings.TrimSpace(o.DistrictCode))
}

// Validate checks o against the rules below; districts is the set of known
// district codes. It returns an apperr validation error naming each field
// at fault.
func (o Org) Validate(districts map[string]bool) error {
	var fs []apperr.FieldError
	switch {
	case o.Code == "":
		fs = append(fs, apperr.Field("code", "error.required"))
	case !codeRE.MatchString(o.Code):
		fs = append(fs, apperr.Field("code", "org.error.code_format"))
	}
	if !o.Type.Valid() {
		fs = append(fs, apperr.Field("type", "org.error.type", string(o.Type)))
	}
	switch n := len([]rune(o.NameAZ)); {
	case n == 0:
		fs = append(fs, apperr.Field("name_az", "error.required"))
	case n > 200:
		fs = append(fs, apperr.Field("name_az", "error.too_long", 200))
	}
	switch {
	case o.DistrictCode == "" && o.Type.NeedsDistrict():
		fs = append(fs, apperr.Field("district_code", "org.error.district_required"))
	case o.DistrictCode != "" && !districts[o.DistrictCode]:
		fs = append(fs, apperr.Field("district_code", "org.error.district_unknown", o.DistrictCode))
	}
	if o.Type == School && o.Code != "" &&
		(!schoolCodeRE.MatchString(o.Code) || !strings.HasPrefix(o.Code, o.DistrictCode+"-")) {
		fs = append(fs, apperr.Field("code", "org.error.school_code", o.DistrictCode))
	}
	if len(fs) > 0 {
		return apperr.Validation(fs...)
	}
	return nil
}

// DistrictInfo is one of Baku's districts.
type DistrictInfo struct {
	Code   string
	NameAZ string
	NameRU string
	NameEN string
}

// BakuDistricts returns Baku's twelve districts with their codes.
func BakuDistricts() []DistrictInfo {
	return []DistrictInfo{
		{"BAK-01", "Binəqədi", "Бинагадинский", "Binagadi"},
		{"BAK-02", "Qaradağ", "Гарадагский", "Garadagh"},
		{"BAK-03", "Xətai", "Хатаинский", "Khatai"},
		{"BAK-04", "Xəzər", "Хазарский", "Khazar"},
		{"BAK-05", "Nərimanov", "Наримановский", "Narimanov"},
		{"BAK-06", "Nəsimi", "Насиминский", "Nasimi"},
		{"BAK-07", "Nizami", "Низаминский", "Nizami"},
		{"BAK-08", "Pirallahı", "Пираллахинский", "Pirallahi"},
		{"BAK-09", "Sabunçu", "Сабунчинский", "Sabunchu"},
		{"BAK-10", "Səbail", "Сабаильский", "Sabail"},
		{"BAK-11", "Suraxanı", "Сураханский", "Surakhani"},
		{"BAK-12", "Yasamal", "Ясамальский", "Yasamal"},
	}
}

// Name returns the district's name in lang.
func (d DistrictInfo) Name(lang string) string {
	switch lang {
	case "ru":
		return d.NameRU
	case "en":
		return d.NameEN
	}
	return d.NameAZ
}

// String is for logs and errors.
func (o Org) String() string { return fmt.Sprintf("%s (%s)", o.Code, o.Type) }
