package demo

import (
	"context"
	"fmt"
	"math/rand/v2"

	"dayaq/internal/access"
	"dayaq/internal/audit"
	"dayaq/internal/org"
	"dayaq/internal/screening"
	"dayaq/internal/storage"
)

// RegisterStatsEntries is how many active register entries
// LoadRegisterStats adds at most.
const RegisterStatsEntries = 300

// LoadRegisterStats puts pupils across the city on the register at random
// levels (bulk, unaudited, as demo data), so that the register's figures on
// the dashboards and the public table "register by district × risk level"
// have many small cells to protect. Pupils already on the register are
// left as they are.
func LoadRegisterStats(ctx context.Context, db *storage.DB) error {
	sys := audit.Actor{Principal: access.Principal{UserID: -1, OrgType: org.CityDepartment, Roles: []access.Role{access.CitySpecialist}}}
	open := map[int64]bool{}
	es, err := db.RegisterList(ctx, sys, storage.RegisterFilter{Limit: 500})
	if err != nil {
		return fmt.Errorf("demo.LoadRegisterStats: %w", err)
	}
	for _, e := range es {
		open[e.ChildID] = true
	}
	r := rand.New(rand.NewPCG(15, 11))
	levels := []screening.Level{screening.Low, screening.Low, screening.Medium, screening.Medium, screening.High}
	var out []storage.BulkEntry
	var after int64
	for len(out) < RegisterStatsEntries {
		kids, err := db.ListChildren(ctx, sys, storage.ChildQuery{After: after, Limit: 200})
		if err != nil {
			return fmt.Errorf("demo.LoadRegisterStats: %w", err)
		}
		if len(kids) == 0 {
			break
		}
		for _, k := range kids {
			after = k.ID
			if open[k.ID] || k.SchoolID == 0 || r.IntN(4) != 0 || len(out) >= RegisterStatsEntries {
				continue
			}
			out = append(out, storage.BulkEntry{ChildID: k.ID, SchoolID: k.SchoolID, Level: levels[r.IntN(len(levels))],
				Status: screening.Active, NextReview: db.Now().AddDate(0, 0, 7+r.IntN(90)), Factors: "[]"})
		}
	}
	if err := db.InsertRegisterBulk(ctx, out); err != nil {
		return fmt.Errorf("demo.LoadRegisterStats: %w", err)
	}
	return nil
}
