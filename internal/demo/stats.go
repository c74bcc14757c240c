package demo

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"dayaq/internal/access"
	"dayaq/internal/audit"
	"dayaq/internal/casework"
	"dayaq/internal/org"
	"dayaq/internal/storage"
)

// StatsCases is how many past cases LoadStats adds.
const StatsCases = 600

// LoadStats adds StatsCases cases of the past twelve months across the
// city's schools, types and statuses (bulk, unaudited, as demo data), so
// that the dashboards, the monthly report and the public statistics have
// something to show — with many small cells, as real data will. It needs
// the demo children; without them it does nothing.
func LoadStats(ctx context.Context, db *storage.DB) error {
	sys := audit.Actor{Principal: access.Principal{UserID: -1, OrgType: org.CityDepartment, Roles: []access.Role{access.CityAdmin}}}
	kids, err := db.ListChildren(ctx, sys, storage.ChildQuery{Limit: 200})
	if err != nil {
		return fmt.Errorf("demo.LoadStats: %w", err)
	}
	if len(kids) == 0 {
		return nil
	}
	schools, err := allSchools(ctx, db)
	if err != nil {
		return fmt.Errorf("demo.LoadStats: %w", err)
	}
	district := map[int64]string{}
	for _, s := range schools {
		district[s.ID] = s.DistrictCode
	}
	types := []string{"violence.bullying", "violence.bullying", "violence.bullying", "violence.physical", "violence.neglect",
		"violence.psychological", "mental.distress", "mental.self_harm", "education.truancy", "education.truancy",
		"education.dropout", "missing.runaway", "other.complaint"}
	statuses := []casework.Status{casework.New, casework.Triaged, casework.InProgress, casework.Monitoring,
		casework.Closed, casework.Closed, casework.Closed}
	d := db.CaseDeadlines()
	now := db.Now()
	r := rand.New(rand.NewPCG(15, 2026))
	cs := make([]storage.BulkCase, 0, StatsCases)
	for range StatsCases {
		k := kids[r.IntN(len(kids))]
		created := now.Add(-time.Duration(r.Int64N(int64(365 * 24 * time.Hour)))).Truncate(time.Microsecond)
		sev := casework.Severities()[r.IntN(4)]
		c := casework.Open(casework.NewCase{Type: types[r.IntN(len(types))], TaxonomyVersion: 1, Severity: sev,
			Title: "Keçmiş hal", Source: casework.FromSchool, SchoolID: k.SchoolID}, d, created)
		c.SchoolID, c.District = k.SchoolID, district[k.SchoolID]
		c.Status = statuses[r.IntN(len(statuses))]
		if c.Status == casework.New && now.Sub(created) > 14*24*time.Hour {
			c.Status = casework.InProgress // a past case is not still waiting for triage
		}
		if c.Status == casework.Closed {
			c.ClosedAt = created.Add(time.Duration(1+r.IntN(40)) * 24 * time.Hour)
			if c.ClosedAt.After(now) {
				c.ClosedAt = now
			}
			c.ClosureOutcome, c.ClosureReason = casework.OutcomeResolved, "—"
		}
		cs = append(cs, storage.BulkCase{Case: c, ChildIDs: []int64{k.ID}})
	}
	if err := db.InsertCasesBulk(ctx, cs); err != nil {
		return fmt.Errorf("demo.LoadStats: %w", err)
	}
	return nil
}
