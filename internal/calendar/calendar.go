// Package calendar is Dayaq's working-day calendar: Monday to Friday,
// 09:00–18:00 Baku time, minus Azerbaijan's public holidays. The fixed
// holidays of the Labour Code are built in; the lunar ones (Ramazan and
// Qurban bayramı) and the Cabinet of Ministers' transfers are data that the
// administrator enters per year. Deadlines (Due) are counted on it. It does
// no I/O; see docs/adr/0010-working-day-calendar.md for the rules and their
// sources.
package calendar

import (
	"cmp"
	"fmt"
	"slices"
	"sync"
	"time"
)

// Baku's offset from UTC: +04:00 all year, Azerbaijan has kept no daylight
// saving time since 2016. A fixed zone needs no tzdata in the binary.
const bakuOffset = 4 * 60 * 60

// Baku returns Azerbaijan's time zone, UTC+4.
func Baku() *time.Location { return time.FixedZone("Asia/Baku", bakuOffset) }

// Working hours, in Baku time.
const (
	OpenHour  = 9
	CloseHour = 18
	// WorkDay is the length of one working day.
	WorkDay = (CloseHour - OpenHour) * time.Hour
)

// DayKind says what an entered day is.
type DayKind string

const (
	// Holiday is a public holiday entered per year (Ramazan, Qurban): a day
	// off which, falling on a weekend or on another holiday, gives the next
	// working day off too (Labour Code art. 105.5, 105.6).
	Holiday DayKind = "holiday"
	// DayOff is a transferred day off decided by the Cabinet of Ministers.
	DayOff DayKind = "day_off"
	// WorkingDay makes a day a working one: a working Saturday, or a day the
	// built-in rules take for a day off which this year is not.
	WorkingDay DayKind = "working_day"
)

// Kinds lists the kinds in the order forms show them.
func Kinds() []DayKind { return []DayKind{Holiday, DayOff, WorkingDay} }

// Valid reports whether k is a known kind.
func (k DayKind) Valid() bool { return slices.Contains(Kinds(), k) }

// Entry is one day the administrator entered for a year.
type Entry struct {
	Date time.Time // the civil date: only year, month and day count
	Kind DayKind
	Name string // what it is: "ramazan", "qurban", "transfer", … (catalogue key calendar.name.<Name>)
}

// Fixed is a holiday on the same date every year.
type Fixed struct {
	Month time.Month
	Day   int
	Name  string
	Carry bool // a weekend or coinciding occurrence gives the next working day off
}

// FixedHolidays are the non-working days the Labour Code (art. 105) fixes,
// and 20 January, the Day of National Mourning, which is a day off but not
// carried over. Holidays that are working days (18 October, 12 and 17
// November) are not listed.
func FixedHolidays() []Fixed {
	return []Fixed{
		{time.January, 1, "new_year", true},
		{time.January, 2, "new_year", true},
		{time.January, 20, "mourning", false},
		{time.March, 8, "women", true},
		{time.March, 20, "novruz", true},
		{time.March, 21, "novruz", true},
		{time.March, 22, "novruz", true},
		{time.March, 23, "novruz", true},
		{time.March, 24, "novruz", true},
		{time.May, 9, "victory_fascism", true},
		{time.May, 28, "independence", true},
		{time.June, 15, "salvation", true},
		{time.June, 26, "armed_forces", true},
		{time.November, 8, "victory", true},
		{time.November, 9, "flag", true},
		{time.December, 31, "solidarity", true},
	}
}

// day is a civil date as yyyymmdd.
type day int

func dayOf(t time.Time) day { return day(t.Year()*10000 + int(t.Month())*100 + t.Day()) }

func (d day) year() int { return int(d) / 10000 }

func (d day) date() time.Time {
	return time.Date(int(d)/10000, time.Month(int(d)/100%100), int(d)%100, 0, 0, 0, 0, time.UTC)
}

// DayInfo explains one day: whether it is worked, and why not.
type DayInfo struct {
	Date    time.Time
	Working bool
	Names   []string // holidays on the day; "carried" for a day off carried from a holiday; "transfer" etc.
}

// Calendar answers which days are worked and counts deadlines. It does
// not change once built and is safe for concurrent use; each year's days
// off are computed when first asked for.
type Calendar struct {
	loc       *time.Location
	entries   []Entry
	work      map[day]bool // entered working days
	deadlines Deadlines

	mu    sync.Mutex
	years map[int]map[day][]string // days off of each year computed so far, with why
}

// Option configures New.
type Option func(*Calendar)

// WithDeadlines sets the deadlines Due counts (default DefaultDeadlines).
func WithDeadlines(d Deadlines) Option { return func(c *Calendar) { c.deadlines = d } }

// New builds a calendar from the entered days (of any years).
func New(entries []Entry, opts ...Option) *Calendar {
	c := &Calendar{loc: Baku(), entries: slices.Clone(entries), deadlines: DefaultDeadlines(), years: map[int]map[day][]string{}}
	for _, o := range opts {
		o(c)
	}
	c.work = map[day]bool{}
	for _, e := range entries {
		if e.Kind == WorkingDay {
			c.work[dayOf(e.Date)] = true
		}
	}
	return c
}

// Location is the calendar's time zone (Baku).
func (c *Calendar) Location() *time.Location { return c.loc }

// Deadlines are the deadlines Due counts.
func (c *Calendar) Deadlines() Deadlines { return c.deadlines }

// offDays computes the days off of the years [from, to]: weekends, fixed and
// entered holidays, the days carried from holidays on a weekend or on
// another holiday, and transferred days off; minus entered working days.
// Years on either side are computed too, so that a holiday of 31 December
// carries into January.
func offDays(entries []Entry, from, to int) map[day][]string {
	work := map[day]bool{}
	type hol struct {
		d     day
		name  string
		carry bool
	}
	var hols []hol
	off := map[day][]string{}
	for y := from - 1; y <= to+1; y++ {
		for _, f := range FixedHolidays() {
			hols = append(hols, hol{dayOf(time.Date(y, f.Month, f.Day, 0, 0, 0, 0, time.UTC)), f.Name, f.Carry})
		}
	}
	for _, e := range entries {
		d := dayOf(e.Date)
		switch e.Kind {
		case Holiday:
			hols = append(hols, hol{d, e.Name, true})
		case DayOff:
			off[d] = append(off[d], cmp.Or(e.Name, "transfer"))
		case WorkingDay:
			work[d] = true
		}
	}
	slices.SortStableFunc(hols, func(a, b hol) int { return cmp.Compare(a.d, b.d) })
	for _, h := range hols {
		off[h.d] = append(off[h.d], h.name)
	}
	isWeekend := func(d day) bool {
		wd := d.date().Weekday()
		return wd == time.Saturday || wd == time.Sunday
	}
	free := func(d day) bool { return work[d] || (!isWeekend(d) && len(off[d]) == 0) }
	// Each holiday that falls on a weekend, and each holiday beyond the first
	// on one date, gives one day off: the first working day after it that is
	// still free. Going in date order makes a run of holidays (Novruz over a
	// weekend) carry past its own end.
	seen := map[day]int{}
	for _, h := range hols {
		seen[h.d]++
		if !h.carry || work[h.d] {
			continue
		}
		if !isWeekend(h.d) && seen[h.d] == 1 {
			continue
		}
		d := h.d
		for {
			d = dayOf(d.date().AddDate(0, 0, 1))
			if free(d) {
				break
			}
		}
		off[d] = append(off[d], "carried")
	}
	for d := range work {
		delete(off, d)
	}
	out := map[day][]string{}
	for d, why := range off {
		if y := d.year(); y >= from && y <= to && !work[d] {
			out[d] = why
		}
	}
	return out
}

// Day explains the civil date of t (in Baku).
func (c *Calendar) Day(t time.Time) DayInfo {
	t = t.In(c.loc)
	d := dayOf(t)
	info := DayInfo{Date: d.date()}
	why := c.offReasons(d)
	if len(why) > 0 {
		info.Names = slices.Clone(why)
		return info
	}
	if wd := t.Weekday(); (wd == time.Saturday || wd == time.Sunday) && !c.isWorkingEntry(d) {
		return info
	}
	info.Working = true
	return info
}

func (c *Calendar) offReasons(d day) []string {
	y := d.year()
	c.mu.Lock()
	defer c.mu.Unlock()
	off, ok := c.years[y]
	if !ok {
		off = offDays(c.entries, y, y)
		c.years[y] = off
	}
	return off[d]
}

func (c *Calendar) isWorkingEntry(d day) bool { return c.work[d] }

// IsWorkingDay reports whether the civil date of t in Baku is worked.
func (c *Calendar) IsWorkingDay(t time.Time) bool { return c.Day(t).Working }

// DaysOff lists the days off of a year that are not weekends, and working
// weekend days, in date order: what the calendar page shows.
func (c *Calendar) DaysOff(year int) []DayInfo {
	var out []DayInfo
	for t := time.Date(year, 1, 1, 12, 0, 0, 0, c.loc); t.Year() == year; t = t.AddDate(0, 0, 1) {
		info := c.Day(t)
		wd := t.Weekday()
		weekend := wd == time.Saturday || wd == time.Sunday
		if (!info.Working && (!weekend || len(info.Names) > 0)) || (info.Working && weekend) {
			out = append(out, info)
		}
	}
	return out
}

// openAt returns the start and end of the working hours of t's day.
func (c *Calendar) hoursOf(t time.Time) (open, close time.Time) {
	y, m, d := t.In(c.loc).Date()
	return time.Date(y, m, d, OpenHour, 0, 0, 0, c.loc), time.Date(y, m, d, CloseHour, 0, 0, 0, c.loc)
}

// maxScan bounds the search for a working day (a misconfigured calendar
// with no working day would otherwise loop forever).
const maxScan = 3660

// nextOpen returns t if it is within working hours, else the start of the
// next working hours.
func (c *Calendar) nextOpen(t time.Time) (time.Time, error) {
	t = t.In(c.loc)
	for range maxScan {
		open, close := c.hoursOf(t)
		if c.IsWorkingDay(t) && t.Before(close) {
			if t.Before(open) {
				return open, nil
			}
			return t, nil
		}
		t = open.AddDate(0, 0, 1)
	}
	return time.Time{}, fmt.Errorf("calendar: no working day within ten years of %s", t.Format(time.DateOnly))
}

// AddWorkingHours returns the moment when d of working time has passed
// after start: time outside 09:00–18:00 on working days does not count. A
// deadline that ends exactly at closing time stays at 18:00 that day.
func (c *Calendar) AddWorkingHours(start time.Time, d time.Duration) (time.Time, error) {
	if d < 0 {
		return time.Time{}, fmt.Errorf("calendar: negative working time %s", d)
	}
	t, err := c.nextOpen(start)
	if err != nil {
		return time.Time{}, err
	}
	for {
		_, close := c.hoursOf(t)
		if left := close.Sub(t); d <= left {
			return t.Add(d), nil
		} else {
			d -= left
		}
		if t, err = c.nextOpen(close); err != nil {
			return time.Time{}, err
		}
	}
}

// AddWorkingDays returns the moment when n working days (n × 9 working
// hours) have passed after start: on a working day within hours, the same
// time n working days later; out of hours, the close of the n-th working
// day after.
func (c *Calendar) AddWorkingDays(start time.Time, n int) (time.Time, error) {
	return c.AddWorkingHours(start, time.Duration(n)*WorkDay)
}
