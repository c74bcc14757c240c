package storage

import (
	"context"
	"strconv"
	"time"

	"dayaq/internal/apperr"
	"dayaq/internal/audit"
)

// RollQuery selects pupils on the roll: the list behind a dashboard's
// screening coverage. Screened "yes" keeps the pupils with an answer set
// entered at their school in the period, "no" those without one, ""
// every pupil on the roll.
type RollQuery struct {
	SchoolID int64
	District string
	From, To time.Time // answer sets entered in [From, To); zero: open
	Screened string    // "yes", "no" or ""
	After    int64     // the last child ID of the page before
	Limit    int       // default 200, at most 500
}

// RollPupil is one pupil of the roll list.
type RollPupil struct {
	ChildID    int64
	Name       string
	StudentID  string
	Grade      int
	Section    string
	SchoolName string
}

// RollList lists the pupils on the roll that a may see under the screening
// policy, in SQL, narrowed as q says and ordered by child ID, and audits
// the listing. A pupil counts as screened by the rule SupportCounts counts
// by: an answer set entered at the school they are on the roll of now.
func (db *DB) RollList(ctx context.Context, a audit.Actor, q RollQuery) (ps []RollPupil, err error) {
	defer apperr.Wrap(&err, "storage.RollList")
	switch q.Screened {
	case "", "yes", "no":
	default:
		return nil, apperr.Validation(apperr.Field("screened", "screening.error.screened"))
	}
	cond, cargs, ok := screeningWhere(a.Principal, db.Now())
	if !ok {
		return nil, nil
	}
	if q.Limit <= 0 || q.Limit > 500 {
		q.Limit = 200
	}
	where, args := supportScope(`c.school_id`, StatsQuery{SchoolID: q.SchoolID, District: q.District})
	if q.Screened != "" {
		answered := `sa.child_id = c.id AND sa.school_id = c.school_id`
		answered, args = period(answered, args, `sa.created_at`, StatsQuery{From: q.From, To: q.To})
		not := ""
		if q.Screened == "no" {
			not = `NOT `
		}
		where += ` AND ` + not + `EXISTS (SELECT 1 FROM screening_answers sa WHERE ` + answered + `)`
	}
	if q.After > 0 {
		where += ` AND c.id > ?`
		args = append(args, q.After)
	}
	err = db.readAudited(ctx, func(c conn) error {
		rows, err := c.query(ctx, `SELECT c.id, c.last_name || ' ' || c.first_name, c.student_id, c.grade, c.section, COALESCE(s.name_az, '')`+
			childFromWhere+`WHERE c.school_id IS NOT NULL AND c.merged_into IS NULL AND `+where+` AND `+cond+
			` ORDER BY c.id LIMIT `+strconv.Itoa(q.Limit), append(args, cargs...)...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var p RollPupil
			if err := rows.Scan(&p.ChildID, &p.Name, &p.StudentID, &p.Grade, &p.Section, &p.SchoolName); err != nil {
				return err
			}
			ps = append(ps, p)
		}
		return rows.Err()
	}, func() audit.Event {
		// the pupils shown, by ID, as every list of children names them
		ids := make([]int64, len(ps))
		for i, p := range ps {
			ids[i] = p.ChildID
		}
		ev := a.Event("screening.roll_list", "child", 0)
		ev.Details = detailsJSON(map[string]any{"school": q.SchoolID, "district": q.District, "screened": q.Screened,
			"from": q.From, "to": q.To, "after": q.After, "n": len(ps), "ids": ids})
		return ev
	})
	return ps, err
}
