package events

import (
	"slices"
	"testing"
	"time"

	"dayaq/internal/apperr"
)

func TestParseClasses(t *testing.T) {
	for in, want := range map[string][]string{"5, 6a;7B 5": {"5", "6A", "7B"}, "": nil, "11": {"11"}} {
		if got, ok := ParseClasses(in); !ok || !slices.Equal(got, want) {
			t.Errorf("ParseClasses(%q) = %v %v, want %v", in, got, ok, want)
		}
	}
	for _, bad := range []string{"13", "5AB", "A5", "beş"} {
		if _, ok := ParseClasses(bad); ok {
			t.Errorf("ParseClasses(%q) accepted", bad)
		}
	}
}

func TestSchoolYear(t *testing.T) {
	baku := time.FixedZone("AZT", 4*3600)
	for _, c := range []struct {
		at   time.Time
		year int
	}{{time.Date(2026, 12, 2, 12, 0, 0, 0, baku), 2026}, {time.Date(2027, 8, 31, 23, 0, 0, 0, baku), 2026},
		{time.Date(2026, 9, 1, 0, 30, 0, 0, baku), 2026}, {time.Date(2026, 8, 31, 21, 0, 0, 0, time.UTC), 2026}} {
		from, to := SchoolYear(c.at)
		if from.In(baku).Year() != c.year || from.In(baku).Month() != time.September || !to.Equal(from.AddDate(1, 0, 0)) {
			t.Errorf("SchoolYear(%v) = %v–%v, want from 1 September %d", c.at, from, to, c.year)
		}
	}
}

func TestCheckFile(t *testing.T) {
	for _, c := range []struct {
		size int64
		typ  string
		key  string
	}{{1000, "application/pdf", ""}, {1000, "video/mp4", ""}, {1000, "application/octet-stream", "events.error.file_type"},
		{1000, "text/html; charset=utf-8", "events.error.file_type"}, {MaxMaterialSize + 1, "application/pdf", "events.error.file_too_big"},
		{0, "application/pdf", "error.required"}} {
		err := CheckFile(c.size, c.typ)
		got := ""
		if e := apperr.As(err); err != nil && len(e.Fields) == 1 && e.Fields[0].Field == "file" {
			got = e.Fields[0].Key
		} else if err != nil {
			got = "?" + err.Error()
		}
		if got != c.key {
			t.Errorf("CheckFile(%d, %q) = %q, want %q", c.size, c.typ, got, c.key)
		}
	}
}

func TestEventValidate(t *testing.T) {
	ok := Event{TopicIDs: []int64{1}, StartsAt: time.Now(), Place: "Zal", WholeSchool: true, SpeakerKind: Psychologist, Status: Planned}
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
	invited := ok
	invited.SpeakerKind = Invited
	if e := apperr.As(invited.Validate()); len(e.Fields) != 1 || e.Fields[0].Field != "speaker_body" {
		t.Errorf("an invited speaker with no body: %v", e)
	}
	noAudience := ok
	noAudience.WholeSchool = false
	if e := apperr.As(noAudience.Validate()); len(e.Fields) != 1 || e.Fields[0].Field != "classes" {
		t.Errorf("no audience: %v", e)
	}
	if err := (Feedback{Usefulness: 0}).Validate(); apperr.CodeOf(err) != apperr.Invalid {
		t.Errorf("a rating of 0: %v", err)
	}
	if err := (Figure{Metric: "video_views", Value: 5, PeriodStart: time.Now(), PeriodEnd: time.Now(), AsOf: time.Now()}).Validate(); err == nil {
		t.Error("an imported figure without its source")
	}
}
