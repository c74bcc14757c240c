// Package notify defines Dayaq's notifications: what they are about (Kind),
// who gets them, and by which channel (in the app, e-mail, SMS). It does no
// I/O: storage queues messages in the outbox in the same transaction as the
// event that caused them, and internal/delivery sends them.
//
// A message never carries a child's name, by construction: it is built from
// a catalogue key, arguments that can only be IDs, counts, times, other
// catalogue keys or reference codes (capital ASCII letters, digits and
// dashes, with a digit or a dash), and a link that is a path of
// lower-case segments and IDs. There is no way to put free text in one.
package notify

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Kind is what a notification is about; users choose channels per kind.
type Kind string

const (
	ReferralReceived Kind = "referral_received" // a referral arrived for one's body
	ReferralChanged  Kind = "referral_changed"  // a referral one sent changed state
	CaseAssigned     Kind = "case_assigned"     // a case was assigned to one
	CriticalAlert    Kind = "critical_alert"    // a critical report needs action now
	ActionItem       Kind = "action_item"       // a working-group action item is one's
	Meeting          Kind = "meeting"           // a working-group meeting was scheduled
	DeadlineSoon     Kind = "deadline_soon"     // one's work is about to fall due
	DeadlineOverdue  Kind = "deadline_overdue"  // work one answers for is overdue
	Escalated        Kind = "escalated"         // work is long overdue: the city unit steps in
	PlanTask         Kind = "plan_task"         // a recovery plan one leads needs one: a parent asked for a call, sessions missed
	PlanParent       Kind = "plan_parent"       // to a pupil's parent (by address): the link to their plan's page
)

// Kinds lists every kind in the order the preferences page shows them.
func Kinds() []Kind {
	return []Kind{ReferralReceived, ReferralChanged, CaseAssigned, CriticalAlert, ActionItem, Meeting,
		DeadlineSoon, DeadlineOverdue, Escalated, PlanTask, PlanParent}
}

// Valid reports whether k is a known kind.
func (k Kind) Valid() bool { return slices.Contains(Kinds(), k) }

// Channel is how a notification reaches its recipient.
type Channel string

const (
	InApp Channel = "inapp" // the bell in the web UI
	Email Channel = "email"
	SMS   Channel = "sms"
)

// Channels lists every channel.
func Channels() []Channel { return []Channel{InApp, Email, SMS} }

// Valid reports whether ch is a known channel.
func (ch Channel) Valid() bool { return slices.Contains(Channels(), ch) }

// DefaultOn reports whether a user who chose nothing gets kind k by ch: in
// the app and by e-mail everything, by SMS only what cannot wait.
func DefaultOn(k Kind, ch Channel) bool {
	switch ch {
	case InApp, Email:
		return true
	case SMS:
		return k == CriticalAlert || k == Escalated
	}
	return false
}

// Arg is one argument of a message: an ID, a count, a time, a catalogue
// key or a reference code. Its fields are unexported: make one with ID,
// Count, At, Key or Ref.
type Arg struct {
	kind argKind
	num  int64
	text string
	at   time.Time
}

type argKind string

const (
	argID    argKind = "id"
	argCount argKind = "n"
	argTime  argKind = "t"
	argKey   argKind = "k"
	argRef   argKind = "r"
)

// ID is a record's ID, shown as "#12".
func ID(id int64) Arg { return Arg{kind: argID, num: id} }

// Count is a number.
func Count(n int64) Arg { return Arg{kind: argCount, num: n} }

// At is a moment, shown in Baku time.
func At(t time.Time) Arg { return Arg{kind: argTime, at: t.UTC()} }

// Key is a catalogue key, shown translated (an urgency, a body's type).
func Key(key string) Arg { return Arg{kind: argKey, text: key} }

// Ref is a reference code such as a case number ("C-2026-000123") or an
// organisation code ("POL-BAK"): capital ASCII letters, digits and dashes,
// with a digit or a dash among them, so that no name fits (not even one in
// capitals).
func Ref(code string) Arg { return Arg{kind: argRef, text: code} }

// isKey reports whether s has the shape of a catalogue key: dotted
// segments of lower-case letters, digits and underscores.
func isKey(s string) bool {
	segs := strings.Split(s, ".")
	if len(segs) < 2 || len(s) > 100 || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for _, seg := range segs {
		if seg == "" || strings.IndexFunc(seg, func(r rune) bool {
			return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_')
		}) >= 0 {
			return false
		}
	}
	return true
}

// isRef reports whether s is a reference code: 1–40 capital ASCII
// letters, digits and dashes, with a digit or a dash among them.
func isRef(s string) bool {
	return len(s) >= 1 && len(s) <= 40 && strings.ContainsAny(s, "0123456789-") &&
		strings.IndexFunc(s, func(r rune) bool { return !(r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-') }) < 0
}

// isLink reports whether s is a path of 1–8 segments of lower-case ASCII
// letters, digits, dashes and underscores: no query, no names.
func isLink(s string) bool {
	if !strings.HasPrefix(s, "/") || len(s) > 200 {
		return false
	}
	segs := strings.Split(s[1:], "/")
	if len(segs) > 8 {
		return false
	}
	for _, seg := range segs {
		if seg == "" || strings.IndexFunc(seg, func(r rune) bool {
			return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_')
		}) >= 0 {
			return false
		}
	}
	return true
}

func (a Arg) check() error {
	switch a.kind {
	case argID, argCount, argTime:
		return nil
	case argKey:
		if isKey(a.text) {
			return nil
		}
		return fmt.Errorf("notify: %q is not a catalogue key", a.text)
	case argRef:
		if isRef(a.text) {
			return nil
		}
		return fmt.Errorf("notify: %q is not a reference code", a.text)
	}
	return fmt.Errorf("notify: empty argument")
}

// argJSON is how an Arg is stored: {"id":12}, {"n":3}, {"t":"…"}, {"k":"…"}, {"r":"…"}.
type argJSON struct {
	ID *int64     `json:"id,omitempty"`
	N  *int64     `json:"n,omitempty"`
	T  *time.Time `json:"t,omitempty"`
	K  string     `json:"k,omitempty"`
	R  string     `json:"r,omitempty"`
}

// MarshalArgs encodes args for storage.
func MarshalArgs(args []Arg) (string, error) {
	out := make([]argJSON, len(args))
	for i, a := range args {
		if err := a.check(); err != nil {
			return "", err
		}
		switch a.kind {
		case argID:
			out[i].ID = &a.num
		case argCount:
			out[i].N = &a.num
		case argTime:
			out[i].T = &a.at
		case argKey:
			out[i].K = a.text
		case argRef:
			out[i].R = a.text
		}
	}
	b, err := json.Marshal(out)
	return string(b), err
}

// UnmarshalArgs decodes stored args, checking each again.
func UnmarshalArgs(s string) ([]Arg, error) {
	if s == "" {
		return nil, nil
	}
	var in []argJSON
	if err := json.Unmarshal([]byte(s), &in); err != nil {
		return nil, fmt.Errorf("notify: args: %w", err)
	}
	args := make([]Arg, len(in))
	for i, a := range in {
		switch {
		case a.ID != nil:
			args[i] = ID(*a.ID)
		case a.N != nil:
			args[i] = Count(*a.N)
		case a.T != nil:
			args[i] = At(*a.T)
		case a.K != "":
			args[i] = Key(a.K)
		case a.R != "":
			args[i] = Ref(a.R)
		}
		if err := args[i].check(); err != nil {
			return nil, err
		}
	}
	return args, nil
}

// Recipient is who gets a message: a user (whose preferences choose the
// channels), or an address outside the platform (a body's duty e-mail, a
// phone) reached by that channel alone.
type Recipient struct {
	UserID  int64
	Channel Channel // for an address: Email or SMS
	Address string  // for an address
}

// User is the recipient user id.
func User(id int64) Recipient { return Recipient{UserID: id} }

// Address is a recipient outside the platform, reached by ch.
func Address(ch Channel, addr string) Recipient { return Recipient{Channel: ch, Address: addr} }

// Message is one notification to one recipient. Make one with New.
type Message struct {
	kind Kind
	to   Recipient
	key  string
	args []Arg
	link string
}

// New builds a message: kind, recipient, the catalogue key of its text
// (which must start with "notify."), the link to what it is about ("/referrals/12")
// and the text's arguments.
func New(kind Kind, to Recipient, key, link string, args ...Arg) (Message, error) {
	m := Message{kind: kind, to: to, key: key, link: link, args: slices.Clone(args)}
	return m, m.Check()
}

// Must is New for messages whose parts are constants and IDs; it panics
// on a programming error.
func Must(kind Kind, to Recipient, key, link string, args ...Arg) Message {
	m, err := New(kind, to, key, link, args...)
	if err != nil {
		panic(err)
	}
	return m
}

// Check reports what is wrong with m.
func (m Message) Check() error {
	if !m.kind.Valid() {
		return fmt.Errorf("notify: unknown kind %q", m.kind)
	}
	if m.to.UserID == 0 && (m.to.Address == "" || (m.to.Channel != Email && m.to.Channel != SMS)) {
		return fmt.Errorf("notify: message without a recipient")
	}
	if !isKey(m.key) || !strings.HasPrefix(m.key, "notify.") {
		return fmt.Errorf("notify: %q is not a notify.* catalogue key", m.key)
	}
	if m.link != "" && !isLink(m.link) {
		return fmt.Errorf("notify: link %q is not a path of lower-case segments and IDs", m.link)
	}
	for _, a := range m.args {
		if err := a.check(); err != nil {
			return err
		}
	}
	return nil
}

// Kind is what m is about.
func (m Message) Kind() Kind { return m.kind }

// To is m's recipient.
func (m Message) To() Recipient { return m.to }

// Key is the catalogue key of m's text.
func (m Message) Key() string { return m.key }

// Args are the arguments of m's text.
func (m Message) Args() []Arg { return slices.Clone(m.args) }

// Link is the path m points to.
func (m Message) Link() string { return m.link }

// Translator is what rendering needs of the catalogues (i18n.Localizer).
type Translator interface {
	T(key string, args ...any) string
}

// Text renders key with args in the language of l: IDs as "#12", times
// in Baku time, keys translated.
func Text(l Translator, key string, args []Arg) string {
	vals := make([]any, len(args))
	baku := time.FixedZone("Asia/Baku", 4*60*60)
	for i, a := range args {
		switch a.kind {
		case argID:
			vals[i] = "#" + strconv.FormatInt(a.num, 10)
		case argCount:
			vals[i] = a.num
		case argTime:
			vals[i] = a.at.In(baku).Format("2006-01-02 15:04")
		case argKey:
			vals[i] = l.T(a.text)
		case argRef:
			vals[i] = a.text
		}
	}
	return l.T(key, vals...)
}

// Envelope is a rendered message, ready for a channel.
type Envelope struct {
	To      string // e-mail address or phone number
	Subject string
	Body    string
}

// Render renders a message for an external channel: the subject is the
// message's text; the body adds the link (made absolute with baseURL) and
// a footer saying why it came.
func Render(l Translator, key string, args []Arg, link, baseURL string) (subject, body string) {
	subject = Text(l, key, args)
	body = subject + "\n\n"
	if link != "" {
		body += l.T("notify.open", baseURL+link) + "\n\n"
	}
	body += l.T("notify.footer")
	return subject, body
}
