package notify

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// echo is a Translator that shows the key and its arguments.
type echo struct{}

func (echo) T(key string, args ...any) string {
	if len(args) == 0 {
		return "[" + key + "]"
	}
	return "[" + key + " " + strings.TrimSpace(fmt.Sprintln(args...)) + "]"
}

func TestNewRefusesWhatCouldCarryAName(t *testing.T) {
	ok := func(kind Kind, to Recipient, key, link string, args ...Arg) {
		t.Helper()
		if _, err := New(kind, to, key, link, args...); err != nil {
			t.Errorf("New(%s, %q, %q): %v", kind, key, link, err)
		}
	}
	bad := func(kind Kind, to Recipient, key, link string, args ...Arg) {
		t.Helper()
		if _, err := New(kind, to, key, link, args...); err == nil {
			t.Errorf("New(%s, %q, %q, %v) accepted", kind, key, link, args)
		}
	}
	ok(ReferralReceived, User(1), "notify.referral.received", "/referrals/12", ID(12), Ref("POL-BAK"), Key("calendar.urgency.high"),
		At(time.Now()), Count(3))
	ok(CriticalAlert, Address(Email, "duty@police.example.az"), "notify.hotline.critical", "/hotline/reports/7", Ref("C-2026-000123"))
	bad("nonsense", User(1), "notify.x.y", "")
	bad(ReferralReceived, Recipient{}, "notify.x.y", "")
	bad(ReferralReceived, Address(InApp, "x"), "notify.x.y", "")
	bad(ReferralReceived, User(1), "Aysel Məmmədova", "")
	bad(ReferralReceived, User(1), "referral.received", "") // not a notify.* key
	bad(ReferralReceived, User(1), "notify.referral.received", "/children?q=Aysel")
	bad(ReferralReceived, User(1), "notify.referral.received", "/children/Aysel")
	bad(ReferralReceived, User(1), "notify.referral.received", "https://evil.example/x")
	bad(ReferralReceived, User(1), "notify.referral.received", "", Ref("ALIYEV"))          // a capitalised name: no digit
	bad(ReferralReceived, User(1), "notify.referral.received", "", Ref("Aysel 5"))         // lower case, space
	bad(ReferralReceived, User(1), "notify.referral.received", "", Key("Aysel Məmmədova")) // not a key
	bad(ReferralReceived, User(1), "notify.referral.received", "", Arg{})
}

func TestArgsRoundTrip(t *testing.T) {
	at := time.Date(2026, 3, 2, 6, 0, 0, 0, time.UTC)
	args := []Arg{ID(12), Count(3), At(at), Key("calendar.urgency.high"), Ref("C-2026-000123")}
	s, err := MarshalArgs(args)
	if err != nil {
		t.Fatal(err)
	}
	back, err := UnmarshalArgs(s)
	if err != nil {
		t.Fatal(err)
	}
	got := Text(echo{}, "notify.x.y", back)
	want := "[notify.x.y #12 3 2026-03-02 10:00 [calendar.urgency.high] C-2026-000123]"
	if got != want {
		t.Errorf("Text = %s, want %s (stored %s)", got, want, s)
	}
	// A stored argument that was tampered with into free text is refused on the way out.
	if _, err := UnmarshalArgs(`[{"r":"Aysel Məmmədova"}]`); err == nil {
		t.Error("free text in a stored argument accepted")
	}
}

func TestRender(t *testing.T) {
	subject, body := Render(echo{}, "notify.x.y", []Arg{ID(5)}, "/referrals/5", "https://dayaq.example.az")
	if subject != "[notify.x.y #5]" || !strings.Contains(body, "[notify.open https://dayaq.example.az/referrals/5]") ||
		!strings.Contains(body, "[notify.footer]") {
		t.Errorf("Render = %q, %q", subject, body)
	}
}

func TestDefaults(t *testing.T) {
	for _, k := range Kinds() {
		if !DefaultOn(k, InApp) || !DefaultOn(k, Email) {
			t.Errorf("%s is not on by default in the app and by e-mail", k)
		}
	}
	if DefaultOn(ReferralReceived, SMS) || !DefaultOn(CriticalAlert, SMS) {
		t.Error("SMS defaults: only what cannot wait")
	}
}
