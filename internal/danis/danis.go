// Package danis is "Mənimlə danış", the anonymous written channel for
// children: the follow-up code a child comes back with, what a message may
// be, the urgent words that raise a conversation's priority, and the
// limits that protect the channel without tracking the child (ADR 0024).
// It does no I/O besides crypto/rand.
package danis

import (
	"crypto/rand"
	"fmt"
	"math/big"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"dayaq/internal/apperr"
	"dayaq/internal/hotline"
	"dayaq/internal/org"
)

// Alphabet is what follow-up codes are made of: digits and capital letters
// without the look-alikes 0/O and 1/I/L (and no lower case at all, so no
// l). 31 symbols, just under 5 bits each.
const Alphabet = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"

// A follow-up code is IDLen + SecretLen symbols, shown in groups of
// GroupLen. The first group is the conversation's public ID, kept in clear
// and unique, so that a code is checked against one stored hash instead of
// all of them; the other four groups (16 symbols, about 79 bits) are the
// secret, kept only as an argon2id hash.
const (
	IDLen     = 4
	SecretLen = 16
	CodeLen   = IDLen + SecretLen
	GroupLen  = 4
)

// Code is a follow-up code.
type Code struct {
	ID     string // the public part, the first group
	Secret string // the rest
}

// NewCode draws a random code.
func NewCode() (Code, error) {
	b := make([]byte, CodeLen)
	max := big.NewInt(int64(len(Alphabet)))
	for i := range b {
		n, err := rand.Int(rand.Reader, max)
		if err != nil {
			return Code{}, fmt.Errorf("danis: code: %w", err)
		}
		b[i] = Alphabet[n.Int64()]
	}
	return Code{ID: string(b[:IDLen]), Secret: string(b[IDLen:])}, nil
}

// String is the code in groups of four: "ABCD-EFGH-JKMN-PQRS-TUVW".
func (c Code) String() string {
	s := c.ID + c.Secret
	var groups []string
	for len(s) > GroupLen {
		groups = append(groups, s[:GroupLen])
		s = s[GroupLen:]
	}
	return strings.Join(append(groups, s), "-")
}

// ParseCode reads a code as a child may type it: any case, with or without
// the dashes or spaces between groups. Anything else is not a code.
func ParseCode(s string) (Code, bool) {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '-' || r == ' ' || r == '\t' || r == '\u00a0':
			continue
		case r < utf8.RuneSelf && strings.ContainsRune(Alphabet, unicode.ToUpper(r)):
			b.WriteRune(unicode.ToUpper(r))
		default:
			return Code{}, false
		}
	}
	c := b.String()
	if len(c) != CodeLen {
		return Code{}, false
	}
	return Code{ID: c[:IDLen], Secret: c[IDLen:]}, true
}

// Limits on what a child sends.
const (
	MaxMessage  = 4000 // runes
	MaxPlace    = 120
	MinAge      = 5
	MaxAge      = 21
	MaxUpset    = 7
	MaxBodySize = 32 << 10 // bytes of a request body on the public routes
)

// Message is what a child writes to start a conversation. Age, Place and
// Upset are optional (0 or "": not said).
type Message struct {
	Text     string
	Age      int
	Place    string // a school or anything the child wants to say about where
	District string // a Baku district code, BAK-06
	Upset    int    // 1 (calm) to 7 (very upset)
}

// CleanText trims a message and checks that it is text a person typed:
// valid UTF-8 without control characters besides line breaks and tabs.
// Binary input and oversized input are refused with a plain message.
func CleanText(field, s string, max int) (string, *apperr.FieldError) {
	if !utf8.ValidString(s) || strings.ContainsFunc(s, func(r rune) bool {
		return unicode.IsControl(r) && r != '\n' && r != '\r' && r != '\t'
	}) {
		fe := apperr.Field(field, "danis.error.binary")
		return "", &fe
	}
	s = strings.TrimSpace(strings.ReplaceAll(s, "\r\n", "\n"))
	if utf8.RuneCountInString(s) > max {
		fe := apperr.Field(field, "danis.error.too_long", max)
		return "", &fe
	}
	return s, nil
}

// Normalize trims the message's parts.
func (m *Message) Normalize() {
	m.Place = strings.Join(strings.Fields(m.Place), " ")
	m.District = strings.ToUpper(strings.TrimSpace(m.District))
}

// Validate checks the message, naming every field at fault. It cleans the
// text in place.
func (m *Message) Validate() error {
	var fs []apperr.FieldError
	text, fe := CleanText("message", m.Text, MaxMessage)
	switch {
	case fe != nil:
		fs = append(fs, *fe)
	case text == "":
		fs = append(fs, apperr.Field("message", "danis.error.empty"))
	}
	m.Text = text
	if m.Age != 0 && (m.Age < MinAge || m.Age > MaxAge) {
		fs = append(fs, apperr.Field("age", "error.range", MinAge, MaxAge))
	}
	if m.Upset < 0 || m.Upset > MaxUpset {
		fs = append(fs, apperr.Field("upset", "error.range", 1, MaxUpset))
	}
	if place, fe := CleanText("place", m.Place, MaxPlace); fe != nil {
		fs = append(fs, *fe)
	} else {
		m.Place = place
	}
	if m.District != "" && !slices.ContainsFunc(org.BakuDistricts(), func(d org.DistrictInfo) bool { return d.Code == m.District }) {
		fs = append(fs, apperr.Field("district", "hotline.error.district", m.District))
	}
	if len(fs) > 0 {
		return apperr.Validation(fs...)
	}
	return nil
}

// Suggest is the urgency the channel suggests for a conversation: critical
// when the child used an urgent word or said they are very upset (6 or 7),
// medium otherwise (a child wrote for help). It only raises priority and
// alerts a person; nothing is answered automatically.
func Suggest(urgentHits []string, upset int) hotline.Urgency {
	if len(urgentHits) > 0 || upset >= 6 {
		return hotline.Critical
	}
	return hotline.Medium
}

// Lockout: after MaxTries wrong secrets for one public ID, that
// conversation takes no code for Pause.
const (
	MaxTries = 5
	Pause    = 5 * time.Minute
)

// OpenFor is how long a conversation stays open in the browser after the
// code was given (the one cookie the channel sets, for that page only).
const OpenFor = 30 * time.Minute

// MaxChildMessagesPerHour bounds what one code may send.
const MaxChildMessagesPerHour = 30
