package surface

import (
	"context"
	"time"

	"dayaq/internal/access"
	"dayaq/internal/audit"
	"dayaq/internal/disclosure"
	"dayaq/internal/stats"
	"dayaq/internal/storage"
)

// SupportStore is what the support figures need of storage.
type SupportStore interface {
	SupportCounts(ctx context.Context, a audit.Actor, q storage.StatsQuery) (stats.Support, error)
}

// SupportCharts are a dashboard's charts of the support work for a in
// scope (q as the dashboard's filter resolved it): exact where the policy
// lets a list every child or event counted, suppressed by the public rule
// elsewhere, none for a partner body or a case type. suppressed reports
// whether any of them follows the public rule.
func SupportCharts(ctx context.Context, st SupportStore, a audit.Actor, scope access.StatsScope, q storage.StatsQuery,
	label stats.Labels, link stats.Links) (charts []stats.Chart, suppressed bool, err error) {
	return SupportChartsWith(ctx, st, a, scope, q, disclosure.Options{}, label, link)
}

// SupportChartsWith is SupportCharts suppressing under o (a cache of the
// patterns, say).
func SupportChartsWith(ctx context.Context, st SupportStore, a audit.Actor, scope access.StatsScope, q storage.StatsQuery,
	o disclosure.Options, label stats.Labels, link stats.Links) (charts []stats.Chart, suppressed bool, err error) {
	v := access.DecideSupportStats(a.Principal, scope)
	if v.Health == access.StatsNone || q.Type != "" {
		return nil, false, nil
	}
	s, err := st.SupportCounts(ctx, a, q)
	if err != nil {
		return nil, false, err
	}
	health, events := v.Health != access.StatsExact, v.Events != access.StatsExact
	charts, err = stats.BuildSupport(s, health, events, o, label, link)
	return charts, health || events, err
}

// PublicStore is what the public catalogue needs of storage.
type PublicStore interface {
	Now() time.Time
	PublicCaseCounts(ctx context.Context, from, to time.Time) ([]stats.Group, error)
	PublicContactCounts(ctx context.Context, from, to time.Time) ([]stats.Group, error)
	PublicRegisterCounts(ctx context.Context) ([]stats.Group, error)
}

// PublicCatalogue builds every published table, protected, in lang: the
// cases by district × type per quarter, the contacts by category × month,
// and the register by district × risk level (levels named by level).
func PublicCatalogue(ctx context.Context, st PublicStore, lang string, level func(string) string) ([]*stats.Published, error) {
	now := st.Now()
	from := time.Date(now.Year()-1, now.Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, -1, 0)
	cases, err := st.PublicCaseCounts(ctx, from, now.Add(time.Second))
	if err != nil {
		return nil, err
	}
	contacts, err := st.PublicContactCounts(ctx, from, now.Add(time.Second))
	if err != nil {
		return nil, err
	}
	tables, err := stats.PublicTables(now, cases, contacts, lang)
	if err != nil {
		return nil, err
	}
	reg, err := st.PublicRegisterCounts(ctx)
	if err != nil {
		return nil, err
	}
	rt, err := stats.RegisterTable(reg, lang, level)
	if err != nil {
		return nil, err
	}
	return append(tables, rt), nil
}
