package storage

import (
	"context"
	"time"

	"dayaq/internal/apperr"
)

// SeedPlansBulk opens, for the benchmark, a live plan on every active
// register entry that has none: one parent, two goals, a staff member's
// counselling and the parent's commitment, and two sessions, in a few
// INSERT … SELECT statements (no audit: seeding is not anyone's reading).
// It returns how many plans it opened.
func (db *DB) SeedPlansBulk(ctx context.Context, leadUserID int64) (n int64, err error) {
	defer apperr.Wrap(&err, "storage.SeedPlansBulk")
	err = db.inTx(ctx, func(c conn) error {
		now := c.now
		due := now.AddDate(0, 0, 30)
		res, err := c.exec(ctx, `INSERT INTO plans (register_entry_id, child_id, school_id, status, level, lead_user_id, concerns, baseline,
			content_version, opened_at, agreed_at, next_review_due, version, created_at, updated_at)
			SELECT e.id, e.child_id, e.school_id, 'active', e.level, ?, 'bench', '[]', 1, ?, ?, ?, 1, ?, ?
			FROM register_entries e WHERE e.status = 'active'
			AND NOT EXISTS (SELECT 1 FROM plans p WHERE p.register_entry_id = e.id AND p.status IN ('draft', 'active'))`,
			leadUserID, now, now, due, now, now)
		if err != nil {
			return err
		}
		n, _ = res.RowsAffected()
		steps := []struct {
			q    string
			args []any
		}{
			{`INSERT INTO plan_parents (plan_id, name, relation, phone, language)
				SELECT id, 'Valideyn Bench', 'mother', '+994500000000', 'az' FROM plans WHERE concerns = 'bench'`, nil},
			{`INSERT INTO plan_goals (plan_id, domain, statement, indicator, from_on, until_on, status)
				SELECT id, 'learning', 'Həftədə ən azı 4 gün dərsə gəlir', 'davamiyyət jurnalı', ?, ?, 'open' FROM plans WHERE concerns = 'bench'`,
				[]any{now, due}},
			{`INSERT INTO plan_goals (plan_id, domain, statement, indicator, from_on, until_on, status)
				SELECT id, 'social', 'Bir dərnəyə qoşulur', 'dərnək siyahısı', ?, ?, 'open' FROM plans WHERE concerns = 'bench'`,
				[]any{now, due}},
			{`INSERT INTO plan_activities (plan_id, kind, title, resp_kind, resp_user_id, frequency, from_on, until_on, goal_ids)
				SELECT p.id, 'counselling', 'Həftəlik söhbət', 'staff', ?, 'həftədə bir', ?, ?, CAST(g.first AS TEXT)
				FROM plans p JOIN (SELECT plan_id, MIN(id) AS first FROM plan_goals GROUP BY plan_id) g ON g.plan_id = p.id
				WHERE p.concerns = 'bench'`,
				[]any{leadUserID, now, due}},
			{`INSERT INTO plan_activities (plan_id, kind, title, resp_kind, resp_parent_id, frequency, from_on, until_on, goal_ids)
				SELECT p.id, 'parent_commitment', 'Hər səhər məktəbə ötürür', 'parent', x.parent, 'hər gün', ?, ?, CAST(g.last AS TEXT)
				FROM plans p JOIN (SELECT plan_id, MAX(id) AS last FROM plan_goals GROUP BY plan_id) g ON g.plan_id = p.id
				JOIN (SELECT plan_id, MIN(id) AS parent FROM plan_parents GROUP BY plan_id) x ON x.plan_id = p.id
				WHERE p.concerns = 'bench'`,
				[]any{now, due}},
			{`INSERT INTO plan_sessions (plan_id, activity_id, at, kind, with_whom, attended, missed_reason, created_at)
				SELECT a.plan_id, a.id, ?, a.kind, 'pupil', ?, '', ? FROM plan_activities a JOIN plans p ON p.id = a.plan_id
				WHERE p.concerns = 'bench' AND a.kind = 'counselling'`, []any{now.Add(-7 * 24 * time.Hour), true, now}},
			{`INSERT INTO plan_sessions (plan_id, activity_id, at, kind, with_whom, attended, missed_reason, created_at)
				SELECT a.plan_id, a.id, ?, a.kind, 'pupil', ?, 'xəstə', ? FROM plan_activities a JOIN plans p ON p.id = a.plan_id
				WHERE p.concerns = 'bench' AND a.kind = 'counselling'`, []any{now.Add(-24 * time.Hour), false, now}},
			{`UPDATE plans SET concerns = 'Dərsə davamiyyət azalıb.' WHERE concerns = 'bench'`, nil},
		}
		for _, s := range steps {
			if _, err := c.exec(ctx, s.q, s.args...); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return n, db.Analyze(ctx)
}
