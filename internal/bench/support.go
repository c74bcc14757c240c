package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"time"

	"dayaq/internal/child"
	"dayaq/internal/screening"
	"dayaq/internal/storage"
)

// The other capabilities' data at a national deployment's proportions
// (ADR 0045), so that the dashboards' support counts are measured on
// something: per pupil on the roll, 1 in 50 on the register, 1 in 4
// screened this school year, a plan for every active entry (spread over
// draft, active and closed with outcomes, a quarter of the live ones past
// their review); per school, a parent event a month over the two years
// (most held, with the parents of 20 to 80 pupils) and three campaign
// showings a month.
const (
	registerEvery = 50 // a register entry for every 50th pupil
	screenedEvery = 4  // an answer set for every 4th pupil
	eventsMonthly = 1  // parent events a school holds a month
	showsMonthly  = 3  // campaign showings a school has a month
)

// SupportSeed counts what seedSupport loaded.
type SupportSeed struct {
	Entries, Answers, Plans, Events, Attended, Showings int
}

// seedSupport loads the support data over the children of bySchool.
func seedSupport(ctx context.Context, db *storage.DB, leadUserID int64, say func(string, ...any)) (SupportSeed, error) {
	var s SupportSeed
	bySchool, err := db.ChildIDsBySchool(ctx)
	if err != nil {
		return s, err
	}
	schools := slices.Sorted(maps.Keys(bySchool))
	if len(schools) == 0 {
		return s, fmt.Errorf("bench: no school has pupils")
	}
	taken, err := db.OpenEntryChildren(ctx)
	if err != nil {
		return s, err
	}
	now := db.Now()
	day := now.Truncate(24 * time.Hour)
	r := rng(0xd1b54a32d192ed03)
	// The register: every registerEvery-th pupil of each school.
	levels := []screening.Level{screening.Low, screening.Low, screening.Medium, screening.Medium, screening.High}
	var ents []storage.BulkEntry
	flushEntries := func() error {
		if err := db.InsertRegisterBulk(ctx, ents); err != nil {
			return err
		}
		s.Entries += len(ents)
		ents = ents[:0]
		return nil
	}
	for _, school := range schools {
		for i := r.intn(registerEvery); i < len(bySchool[school]); i += registerEvery {
			if taken[bySchool[school][i]] {
				continue
			}
			e := storage.BulkEntry{ChildID: bySchool[school][i], SchoolID: school, Level: levels[r.intn(len(levels))], Factors: `[]`}
			switch x := r.intn(20); {
			case x < 14:
				e.Status, e.NextReview = screening.Active, day.AddDate(0, 0, r.intn(120)-30)
			case x < 17:
				e.Status = screening.Proposed
			case x < 19:
				e.Status = screening.Exited
			default:
				e.Status = screening.Declined
			}
			ents = append(ents, e)
			if len(ents) == 10000 {
				if err := flushEntries(); err != nil {
					return s, err
				}
			}
		}
	}
	if err := flushEntries(); err != nil {
		return s, err
	}
	say("%d register entries", s.Entries)
	// Screening: a round at each school, a PSC-17 set for every
	// screenedEvery-th pupil; ten schools a transaction.
	var pscs []string
	for i := range 12 {
		b, _ := json.Marshal(pscAnswers(i))
		pscs = append(pscs, string(b))
	}
	var group []storage.BulkSchool
	for si, school := range schools {
		kids := bySchool[school]
		group = append(group, storage.BulkSchool{SchoolID: school, Round: storage.Round{Scope: "school",
			Instruments: []string{screening.CodePSC17}, Informants: []screening.Informant{screening.Teacher},
			StartsOn: day.AddDate(0, -2, 0), EndsOn: day.AddDate(0, 1, 0)},
			Sets: func(_ []child.Child, rid int64) []storage.BulkAnswerSet {
				sets := make([]storage.BulkAnswerSet, 0, len(kids)/screenedEvery+1)
				for i := si % screenedEvery; i < len(kids); i += screenedEvery {
					sets = append(sets, storage.BulkAnswerSet{RoundID: rid, ChildID: kids[i], SchoolID: school, Version: 1,
						Informant: screening.Teacher, Instrument: screening.CodePSC17, Answers: pscs[i%len(pscs)]})
				}
				s.Answers += len(sets)
				return sets
			}})
		if len(group) == 10 || si == len(schools)-1 {
			if err := db.InsertScreeningBulk(ctx, group); err != nil {
				return s, err
			}
			group = group[:0]
		}
	}
	say("%d screening answer sets", s.Answers)
	// Plans on every active entry, then spread over their statuses.
	n, err := db.SeedPlansBulk(ctx, leadUserID)
	if err != nil {
		return s, err
	}
	if _, err := db.SpreadPlansBulk(ctx); err != nil {
		return s, err
	}
	s.Plans = int(n)
	say("%d plans", s.Plans)
	// Parent events and campaign showings over the two years.
	months := 24
	var evs []storage.BulkEvent
	var shows []storage.BulkShowing
	kinds := []string{"video", "video", "poster", "leaflet"}
	for _, school := range schools {
		kids := bySchool[school]
		for m := range months {
			month := now.AddDate(0, m-months, 0)
			for range eventsMonthly {
				e := storage.BulkEvent{SchoolID: school, StartsAt: month.Add(time.Duration(r.intn(28*24)) * time.Hour).Truncate(time.Hour)}
				switch x := r.intn(10); {
				case e.StartsAt.After(now) || x == 0:
					e.Status = "planned"
				case x == 1:
					e.Status = "cancelled"
				default:
					e.Status = "held"
					k := min(len(kids), 20+r.intn(61))
					from := r.intn(max(len(kids)-k, 1))
					e.Attended = kids[from : from+k]
					e.HeadCount = k + r.intn(10)
					s.Attended += k
				}
				evs = append(evs, e)
			}
			for range showsMonthly {
				shows = append(shows, storage.BulkShowing{SchoolID: school, Kind: kinds[r.intn(len(kinds))],
					ShownAt: month.Add(time.Duration(r.intn(28*24)) * time.Hour), Pupils: 30 + r.intn(270), Parents: r.intn(50)})
			}
		}
	}
	if err := db.InsertEventsBulk(ctx, evs); err != nil {
		return s, err
	}
	if err := db.InsertShowingsBulk(ctx, shows); err != nil {
		return s, err
	}
	s.Events, s.Showings = len(evs), len(shows)
	say("%d parent events (%d pupils' parents came), %d campaign showings", s.Events, s.Attended, s.Showings)
	return s, nil
}
