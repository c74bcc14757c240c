package danis

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"dayaq/internal/apperr"
	"dayaq/internal/auth"
	"dayaq/internal/hotline"
)

func TestCodes(t *testing.T) {
	seen := map[string]bool{}
	for range 200 {
		c, err := NewCode()
		if err != nil {
			t.Fatal(err)
		}
		s := c.String()
		if len(s) != CodeLen+CodeLen/GroupLen-1 || strings.Count(s, "-") != CodeLen/GroupLen-1 {
			t.Fatalf("code %q: want %d symbols in groups of %d", s, CodeLen, GroupLen)
		}
		if strings.ContainsAny(s, "0O1lIL") {
			t.Fatalf("code %q has a look-alike", s)
		}
		if seen[s] {
			t.Fatalf("code %q drawn twice", s)
		}
		seen[s] = true
		for _, typed := range []string{s, strings.ToLower(s), strings.ReplaceAll(s, "-", " "), strings.ReplaceAll(s, "-", "")} {
			got, ok := ParseCode(typed)
			if !ok || got != c {
				t.Fatalf("ParseCode(%q) = %v %v, want %v", typed, got, ok, c)
			}
		}
	}
	for _, bad := range []string{"", "ABCD", "ABCD-EFGH-JKMN-PQRS-TUV0", "ABCD-EFGH-JKMN-PQRS-TUVWX", "ABCD-EFGH-JKMN-PQRS-TUVİ"} {
		if _, ok := ParseCode(bad); ok {
			t.Errorf("ParseCode(%q) accepted it", bad)
		}
	}
}

func TestMatchUrgentWords(t *testing.T) {
	w := DefaultWords()
	tests := []struct {
		text string
		want string // a phrase that must be found; "" for none
	}{
		{"Mən artıq yaşamaq İSTƏMİRƏM, hər şey pisdir", "yaşamaq istəmirəm"},
		{"bu gün həbləri içdim", "həbləri içdim"},
		{"Я не хочу жить. Уже купила таблетки", "не хочу жить"},
		{"уже купила ТАБЛЕТКИ", "таблетк"},
		{"I don't want to live anymore", "don't want to live"},
		{"I am going to the bridge tonight", "bridge"},
		{"Müəllim məni hamının qarşısında danladı", ""},
		{"I got a bad mark in maths", ""},
	}
	for _, tt := range tests {
		hits := w.Match(tt.text)
		if tt.want == "" {
			if len(hits) != 0 {
				t.Errorf("Match(%q) = %q, want none", tt.text, hits)
			}
			continue
		}
		found := false
		for _, h := range hits {
			found = found || h == tt.want
		}
		if !found {
			t.Errorf("Match(%q) = %q, want it to find %q", tt.text, hits, tt.want)
		}
	}
	if got := Suggest(nil, 7); got != hotline.Critical {
		t.Errorf("upset 7 suggests %s, want critical", got)
	}
	if got := Suggest(nil, 5); got != hotline.Medium {
		t.Errorf("upset 5 suggests %s, want medium", got)
	}
	if got := Suggest([]string{"pills"}, 0); got != hotline.Critical {
		t.Errorf("an urgent word suggests %s, want critical", got)
	}
}

func TestValidateMessage(t *testing.T) {
	tests := []struct {
		name   string
		m      Message
		fields []string
	}{
		{"ok", Message{Text: " Kömək lazımdır ", Age: 13, Upset: 4, District: "bak-06"}, nil},
		{"empty", Message{Text: "  "}, []string{"message"}},
		{"binary", Message{Text: "PK\x03\x04\x00\x00"}, []string{"message"}},
		{"not utf-8", Message{Text: "\xff\xfe"}, []string{"message"}},
		{"too long", Message{Text: strings.Repeat("ə", MaxMessage+1)}, []string{"message"}},
		{"bad parts", Message{Text: "x", Age: 3, Upset: 9, District: "BAK-99"}, []string{"age", "upset", "district"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.m.Normalize()
			err := tt.m.Validate()
			var got []string
			if err != nil {
				for _, f := range apperr.As(err).Fields {
					got = append(got, f.Field)
				}
			}
			if strings.Join(got, ",") != strings.Join(tt.fields, ",") {
				t.Errorf("fields at fault = %v, want %v", got, tt.fields)
			}
		})
	}
}

func TestGate(t *testing.T) {
	now := time.Date(2026, 12, 2, 10, 0, 5, 0, time.UTC)
	g := NewGate(4, 2, 3)
	want := []State{Open, Open, Question, Question, Busy}
	for i, w := range want {
		if got := g.Check(now); got != w {
			t.Fatalf("start %d: %v, want %v", i+1, got, w)
		}
		if w != Busy {
			g.Started(now)
		}
	}
	if got := g.Check(now.Add(time.Minute)); got != Open {
		t.Errorf("the next minute: %v, want open", got)
	}
	q := g.NewAsk(now)
	if !g.CheckAsk(q.Token, " "+itoa(q.A+q.B)+" ", now) {
		t.Error("the right answer was refused")
	}
	if g.CheckAsk(q.Token, itoa(q.A+q.B+1), now) {
		t.Error("a wrong answer was accepted")
	}
	if g.CheckAsk(q.Token, itoa(q.A+q.B), now.Add(askFor+time.Minute)) {
		t.Error("an expired question was accepted")
	}
	if NewGate(4, 2, 3).CheckAsk(q.Token, itoa(q.A+q.B), now) {
		t.Error("another process's question was accepted")
	}
	for i := range 3 {
		if g.Wrong(now) {
			t.Fatalf("wrong code %d spent the budget of 3", i+1)
		}
	}
	if !g.Wrong(now) || !g.WrongSpent(now) {
		t.Error("the 4th wrong code did not spend the budget")
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// BenchmarkMatch is the urgent-word check on a message of the largest
// size against the default lists of the three languages.
func BenchmarkMatch(b *testing.B) {
	w := DefaultWords()
	text := strings.Repeat("Mən bilmirəm nə edim, hər gün məktəbdə mənə gülürlər. ", MaxMessage/56)
	for b.Loop() {
		w.Match(text)
	}
}

// BenchmarkCode is drawing a code and hashing its secret, as a new
// conversation does.
func BenchmarkCode(b *testing.B) {
	for b.Loop() {
		c, err := NewCode()
		if err != nil {
			b.Fatal(err)
		}
		if _, err := auth.HashPassword(c.Secret); err != nil {
			b.Fatal(err)
		}
	}
}
