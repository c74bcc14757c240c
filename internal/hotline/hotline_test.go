package hotline

import (
	"slices"
	"strings"
	"testing"
	"time"

	"dayaq/internal/apperr"
	"dayaq/internal/taxonomy"
)

func TestSuggest(t *testing.T) {
	tests := []struct {
		name string
		cats []string
		a    Answers
		want Urgency
	}{
		{"suicidal attempt in progress", []string{"mental.suicidal"}, Answers{AttemptInProgress: true}, Critical},
		{"danger now whatever the category", []string{"education.truancy"}, Answers{DangerNow: true}, Critical},
		{"suicidal thoughts", []string{"mental.suicidal"}, Answers{}, High},
		{"sexual violence", []string{"violence.sexual"}, Answers{}, High},
		{"online sexual abuse", []string{"violence.online_sexual"}, Answers{}, High},
		{"abduction", []string{"missing.abduction"}, Answers{}, High},
		{"self-harm", []string{"mental.self_harm"}, Answers{}, High},
		{"injured", []string{"family"}, Answers{Injured: true}, High},
		{"bullying", []string{"violence.bullying"}, Answers{}, Medium},
		{"anxiety", []string{"mental.distress.anxiety"}, Answers{}, Medium},
		{"runaway", []string{"missing.runaway"}, Answers{}, Medium},
		{"highest wins", []string{"education.academic", "violence.bullying", "mental.suicidal"}, Answers{}, High},
		{"school trouble", []string{"education.academic"}, Answers{}, Low},
		{"a question", []string{"other.question"}, Answers{}, Low},
		{"nothing", nil, Answers{}, Low},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Suggest(tt.cats, tt.a); got != tt.want {
				t.Errorf("Suggest(%v, %+v) = %s, want %s", tt.cats, tt.a, got, tt.want)
			}
		})
	}
}

func TestPhone(t *testing.T) {
	tests := []struct {
		in, norm, masked string
		ok               bool
	}{
		{"+994 50 123 45 67", "+994501234567", "+994 50 *** ** 67", true},
		{"050-123-45-67", "+994501234567", "+994 50 *** ** 67", true},
		{"(055) 987 65 43", "+994559876543", "+994 55 *** ** 43", true},
		{"501234567", "+994501234567", "+994 50 *** ** 67", true},
		{"994501234567", "+994501234567", "+994 50 *** ** 67", true},
		{"00 7 916 123 45 67", "+79161234567", "+791 ****** 67", true},
		{"102", "102", "102", true},
		{"call me", "", "", false},
		{"+994 50 12", "", "", false},
		{"12+34", "", "", false},
	}
	for _, tt := range tests {
		n, ok := NormalizePhone(tt.in)
		if n != tt.norm || ok != tt.ok {
			t.Errorf("NormalizePhone(%q) = %q, %v; want %q, %v", tt.in, n, ok, tt.norm, tt.ok)
			continue
		}
		if ok {
			if m := MaskPhone(n); m != tt.masked {
				t.Errorf("MaskPhone(%q) = %q, want %q", n, m, tt.masked)
			}
		}
	}
	k1, k2 := []byte("key one"), []byte("key two")
	a, b := PhoneKey(k1, "+994501234567"), PhoneKey(k1, "+994501234567")
	if a != b || len(a) != 64 {
		t.Errorf("PhoneKey not stable: %q %q", a, b)
	}
	if PhoneKey(k2, "+994501234567") == a {
		t.Error("PhoneKey ignores the key")
	}
	if strings.Contains(a, "501234567") {
		t.Error("the hash shows the number")
	}
}

func keys(err error) []string {
	if err == nil {
		return nil
	}
	var out []string
	for _, f := range apperr.As(err).Fields {
		out = append(out, f.Field+":"+f.Key)
	}
	return out
}

func TestValidate(t *testing.T) {
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	tax := taxonomy.Seed()
	good := func() Contact {
		return Contact{Channel: Phone, ReceivedAt: now, CallType: ChildSelf, Caller: Caller{Anonymous: true},
			Children: []ChildRef{{Name: "Nərmin", Age: 12, District: "BAK-06"}}, Categories: []string{"violence.bullying"},
			Urgency: Medium, Outcome: Advice, Narrative: "Sinif yoldaşları incidir."}
	}
	tests := []struct {
		name string
		edit func(c *Contact)
		want []string
	}{
		{"good", func(*Contact) {}, nil},
		{"registry child", func(c *Contact) { c.Children = []ChildRef{{ChildID: 7}} }, nil},
		{"no child is fine", func(c *Contact) { c.Children = nil }, nil},
		{"silent call", func(c *Contact) {
			*c = Contact{Channel: Phone, ReceivedAt: now, CallType: Silent}
			c.Normalize()
		}, nil},
		{"silent call with data", func(c *Contact) { c.CallType = Silent; c.Outcome = NoAction; c.Caller.Phone = "0501234567" },
			[]string{"children:hotline.error.no_data", "categories:hotline.error.no_data", "narrative:hotline.error.no_data", "caller.phone:hotline.error.no_data"}},
		{"bad enums", func(c *Contact) { c.Channel, c.CallType, c.Urgency, c.Outcome = "fax", "x", "urgent", "done" },
			[]string{"channel:hotline.error.channel", "call_type:hotline.error.call_type", "urgency:hotline.error.urgency", "outcome:hotline.error.outcome"}},
		{"future", func(c *Contact) { c.ReceivedAt = now.Add(time.Hour) }, []string{"received_at:hotline.error.future"}},
		{"no categories", func(c *Contact) { c.Categories = nil }, []string{"categories:hotline.error.categories"}},
		{"unknown category", func(c *Contact) { c.Categories = []string{"violence.nope"} }, []string{"categories[0]:taxonomy.error.unknown"}},
		{"empty child", func(c *Contact) { c.Children = []ChildRef{{}} }, []string{"children[0].name:hotline.error.child_empty"}},
		{"child age and district", func(c *Contact) { c.Children[0].Age, c.Children[0].District = 40, "BAK-99" },
			[]string{"children[0].age:error.range", "children[0].district:hotline.error.district"}},
		{"relationship needed", func(c *Contact) { c.CallType, c.Caller = AboutChild, Caller{Name: "Aynur"} },
			[]string{"caller.relationship:error.required"}},
		{"bad phone", func(c *Contact) { c.Caller.Phone = "abc" }, []string{"caller.phone:hotline.error.phone"}},
		{"no action needs a reason", func(c *Contact) { c.Outcome = NoAction }, []string{"outcome_reason:error.required"}},
		{"attached needs a case", func(c *Contact) { c.Outcome = Attached }, []string{"case_id:error.required"}},
		{"referred needs a body", func(c *Contact) { c.Outcome = Referred }, []string{"referred_to:error.required"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := good()
			tt.edit(&c)
			if got := keys(c.Validate(now, tax)); !slices.Equal(got, tt.want) {
				t.Errorf("got %v\nwant %v", got, tt.want)
			}
		})
	}
}
