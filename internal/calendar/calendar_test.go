package calendar

import (
	"slices"
	"testing"
	"time"
)

// seeded is the calendar with the lunar holidays the migration seeds for
// 2026 and 2027.
func seeded(extra ...Entry) *Calendar {
	es := []Entry{
		{Date: d("2026-03-20"), Kind: Holiday, Name: "ramazan"},
		{Date: d("2026-03-21"), Kind: Holiday, Name: "ramazan"},
		{Date: d("2026-05-27"), Kind: Holiday, Name: "qurban"},
		{Date: d("2026-05-28"), Kind: Holiday, Name: "qurban"},
		{Date: d("2027-03-10"), Kind: Holiday, Name: "ramazan"},
		{Date: d("2027-03-11"), Kind: Holiday, Name: "ramazan"},
		{Date: d("2027-05-17"), Kind: Holiday, Name: "qurban"},
		{Date: d("2027-05-18"), Kind: Holiday, Name: "qurban"},
	}
	return New(append(es, extra...))
}

func d(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}

// baku parses "2006-01-02 15:04" in Baku time.
func baku(s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", s, Baku())
	if err != nil {
		panic(err)
	}
	return t
}

func TestWorkingDays2026(t *testing.T) {
	c := seeded()
	off := []string{
		"2026-01-01", "2026-01-02", // New Year (Thu, Fri)
		"2026-01-20",                             // Day of National Mourning (Tue), not carried
		"2026-03-09",                             // 8 March is a Sunday: carried to Monday
		"2026-03-20", "2026-03-23", "2026-03-24", // Novruz on weekdays (Ramazan on the 20th and 21st too)
		"2026-03-25", "2026-03-26", "2026-03-27", "2026-03-30", // carried: 20th doubled, 21st doubled on a Saturday, 22nd a Sunday
		"2026-05-11",                             // 9 May is a Saturday
		"2026-05-27", "2026-05-28", "2026-05-29", // Qurban; the 28th is Independence Day too: one more day
		"2026-06-15", "2026-06-26",
		"2026-11-09", "2026-11-10", // Flag Day (Mon); Victory Day on Sunday the 8th carried past it
		"2026-12-31",
		"2027-01-01", "2027-01-04", // 2 January 2027 is a Saturday
	}
	work := []string{"2026-01-05", "2026-01-19", "2026-01-21", "2026-03-06", "2026-03-10", "2026-03-19",
		"2026-03-31", "2026-05-12", "2026-05-26", "2026-06-01", "2026-11-11", "2026-12-30", "2027-01-05"}
	for _, s := range off {
		if c.IsWorkingDay(d(s).Add(12 * time.Hour)) {
			t.Errorf("%s is a working day, want a day off (%v)", s, c.Day(d(s).Add(12*time.Hour)))
		}
	}
	for _, s := range work {
		if !c.IsWorkingDay(d(s).Add(12 * time.Hour)) {
			t.Errorf("%s is a day off (%v), want a working day", s, c.Day(d(s).Add(12*time.Hour)).Names)
		}
	}
	// Every weekday day off of 2026 is listed above, and nothing else.
	var got []string
	for _, di := range c.DaysOff(2026) {
		if wd := di.Date.Weekday(); wd != time.Saturday && wd != time.Sunday {
			got = append(got, di.Date.Format(time.DateOnly))
		}
	}
	var want []string
	for _, s := range off {
		if s < "2027" {
			want = append(want, s)
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("weekday days off in 2026:\n got %v\nwant %v", got, want)
	}
}

func TestDue(t *testing.T) {
	transfer := seeded(Entry{Date: d("2026-10-16"), Kind: DayOff, Name: "transfer"},
		Entry{Date: d("2026-10-17"), Kind: WorkingDay, Name: "transfer"})
	mourningWorked := seeded(Entry{Date: d("2026-01-20"), Kind: WorkingDay, Name: "other"})
	for _, tt := range []struct {
		name    string
		cal     *Calendar
		start   time.Time
		urgency Urgency
		stage   Stage
		want    string
	}{
		{"high ack, weekday morning: same time next working day", nil, baku("2026-03-02 10:00"), High, Acknowledge, "2026-03-03 10:00"},
		{"start given in UTC", nil, time.Date(2026, 3, 2, 6, 0, 0, 0, time.UTC), High, Acknowledge, "2026-03-03 10:00"},
		{"at opening: closing time the same day", nil, baku("2026-03-02 09:00"), High, Acknowledge, "2026-03-02 18:00"},
		{"before opening counts from 09:00", nil, baku("2026-03-02 07:30"), High, Acknowledge, "2026-03-02 18:00"},
		{"at closing: the next day's close", nil, baku("2026-03-02 18:00"), High, Acknowledge, "2026-03-03 18:00"},
		{"evening: the next day's close", nil, baku("2026-03-02 20:00"), High, Acknowledge, "2026-03-03 18:00"},
		{"Saturday: Monday's close", nil, baku("2026-03-14 11:00"), High, Acknowledge, "2026-03-16 18:00"},
		{"Friday afternoon over a weekend and a carried 8 March", nil, baku("2026-03-06 16:00"), High, Acknowledge, "2026-03-10 16:00"},
		{"Novruz and Ramazan: eleven days without work", nil, baku("2026-03-19 17:00"), High, Acknowledge, "2026-03-31 17:00"},
		{"medium ack across Novruz", nil, baku("2026-03-18 12:00"), Medium, Acknowledge, "2026-04-01 12:00"},
		{"Qurban with Independence Day", nil, baku("2026-05-26 12:00"), High, Acknowledge, "2026-06-01 12:00"},
		{"9 May on a Saturday, sent Friday evening", nil, baku("2026-05-08 18:30"), High, Acknowledge, "2026-05-12 18:00"},
		{"Victory Day carried past Flag Day", nil, baku("2026-11-06 12:00"), High, Acknowledge, "2026-11-11 12:00"},
		{"New Year across the years", nil, baku("2026-12-30 15:00"), High, Acknowledge, "2027-01-05 15:00"},
		{"20 January off, not carried", nil, baku("2026-01-19 14:00"), High, Acknowledge, "2026-01-21 14:00"},
		{"20 January made a working day", mourningWorked, baku("2026-01-19 14:00"), High, Acknowledge, "2026-01-20 14:00"},
		{"transferred day off and a working Saturday", transfer, baku("2026-10-15 17:00"), High, Acknowledge, "2026-10-17 17:00"},
		{"high complete: five working days", nil, baku("2026-03-02 10:00"), High, Complete, "2026-03-10 10:00"},
		{"low ack: five working days over a carried 9 May", nil, baku("2026-05-06 09:00"), Low, Acknowledge, "2026-05-13 18:00"},
		{"low complete: thirty working days over June's holidays", nil, baku("2026-06-01 09:00"), Low, Complete, "2026-07-14 18:00"},
		{"critical ack on the clock, Saturday night", nil, baku("2026-03-21 23:30"), Critical, Acknowledge, "2026-03-22 00:30"},
		{"critical complete on the clock over Novruz", nil, baku("2026-03-21 23:30"), Critical, Complete, "2026-03-22 23:30"},
		{"critical complete on New Year's Eve", nil, baku("2026-12-31 20:00"), Critical, Complete, "2027-01-01 20:00"},
		{"medium complete: fifteen working days", nil, baku("2026-04-01 12:00"), Medium, Complete, "2026-04-22 12:00"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := tt.cal
			if c == nil {
				c = seeded()
			}
			got, err := c.Due(tt.start, tt.urgency, tt.stage)
			if err != nil {
				t.Fatal(err)
			}
			if s := got.Format("2006-01-02 15:04"); s != tt.want || got.Location().String() != "Asia/Baku" {
				t.Errorf("Due(%s, %s, %s) = %s %s, want %s", tt.start.Format(time.RFC3339), tt.urgency, tt.stage, s, got.Location(), tt.want)
			}
		})
	}
}

func TestAddWorkingHours(t *testing.T) {
	c := seeded()
	for _, tt := range []struct {
		start string
		d     time.Duration
		want  string
	}{
		{"2026-03-02 10:00", 0, "2026-03-02 10:00"},
		{"2026-03-02 19:00", 0, "2026-03-03 09:00"},
		{"2026-03-02 17:30", 30 * time.Minute, "2026-03-02 18:00"},
		{"2026-03-02 17:30", 31 * time.Minute, "2026-03-03 09:01"},
		{"2026-03-06 17:00", 2 * time.Hour, "2026-03-10 10:00"},
	} {
		got, err := c.AddWorkingHours(baku(tt.start), tt.d)
		if err != nil {
			t.Fatal(err)
		}
		if s := got.Format("2006-01-02 15:04"); s != tt.want {
			t.Errorf("AddWorkingHours(%s, %s) = %s, want %s", tt.start, tt.d, s, tt.want)
		}
	}
	if _, err := c.AddWorkingHours(baku("2026-03-02 10:00"), -time.Hour); err == nil {
		t.Error("negative working time accepted")
	}
}

func TestNoWorkingDayIsAnError(t *testing.T) {
	var es []Entry
	for t0 := d("2026-01-01"); t0.Year() < 2037; t0 = t0.AddDate(0, 0, 1) {
		es = append(es, Entry{Date: t0, Kind: DayOff})
	}
	if _, err := New(es).AddWorkingDays(baku("2026-01-01 10:00"), 1); err == nil {
		t.Error("a calendar with no working day gave a deadline")
	}
}

func TestParseDeadlines(t *testing.T) {
	d, err := ParseDeadlines("")
	if err != nil || d.String() != "critical=1h/24h,high=1wd/5wd,medium=3wd/15wd,low=5wd/30wd" {
		t.Errorf("defaults: %v %v", d, err)
	}
	d, err = ParseDeadlines(" high=4wh/3wd , critical=0.5h/12h")
	if err != nil {
		t.Fatal(err)
	}
	if d[High].Acknowledge.WorkingHours != 4*time.Hour || d[High].Complete.WorkingDays != 3 ||
		d[Critical].Acknowledge.Clock != 30*time.Minute || d[Low].Complete.WorkingDays != 30 {
		t.Errorf("parsed %v", d)
	}
	c := New(nil, WithDeadlines(d))
	if got, _ := c.Due(baku("2026-03-02 16:00"), High, Acknowledge); got.Format("2006-01-02 15:04") != "2026-03-03 11:00" {
		t.Errorf("configured high ack = %s", got)
	}
	for _, bad := range []string{"high", "high=1wd", "urgent=1h/2h", "high=1x/2wd", "high=1.5wd/2wd", "high=-1h/2h", "low=1wd/0wd"} {
		if _, err := ParseDeadlines(bad); err == nil {
			t.Errorf("ParseDeadlines(%q) accepted", bad)
		}
	}
}

func TestHumanize(t *testing.T) {
	now := baku("2026-03-02 10:00")
	for _, tt := range []struct {
		due     time.Time
		key     string
		n       int
		overdue bool
	}{
		{now.Add(30 * time.Second), "deadline.due_now", 0, false},
		{now.Add(-30 * time.Second), "deadline.due_now", 0, true},
		{now.Add(59 * time.Minute), "deadline.due_in_minutes", 59, false},
		{now.Add(3*time.Hour + 20*time.Minute), "deadline.due_in_hours", 3, false},
		{now.Add(47 * time.Hour), "deadline.due_in_hours", 47, false},
		{now.Add(72 * time.Hour), "deadline.due_in_days", 3, false},
		{now.Add(-5 * time.Minute), "deadline.overdue_by_minutes", 5, true},
		{now.Add(-2 * time.Hour), "deadline.overdue_by_hours", 2, true},
		{now.Add(-50 * time.Hour), "deadline.overdue_by_days", 2, true},
	} {
		r := Humanize(now, tt.due)
		if r.Key != tt.key || r.N != tt.n || r.Overdue != tt.overdue {
			t.Errorf("Humanize(%s) = %+v, want %s %d %v", tt.due.Sub(now), r, tt.key, tt.n, tt.overdue)
		}
	}
}

func BenchmarkDue(b *testing.B) {
	c := seeded()
	start := baku("2026-03-18 12:00")
	for b.Loop() {
		if _, err := c.Due(start, Low, Complete); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkNew is building the calendar, as storage does per use.
func BenchmarkNew(b *testing.B) {
	for b.Loop() {
		seeded()
	}
}

// BenchmarkNewAndDue is what one request that computes a deadline costs:
// a fresh calendar, its year computed, a high-urgency deadline.
func BenchmarkNewAndDue(b *testing.B) {
	start := baku("2026-03-18 12:00")
	for b.Loop() {
		if _, err := seeded().Due(start, High, Complete); err != nil {
			b.Fatal(err)
		}
	}
}
