package bench

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"time"

	"dayaq/internal/storage"
)

// DashboardScenario is one dashboard request timed.
type DashboardScenario struct {
	Name, User, Path string
	Target           time.Duration // the p95 target
}

// DashboardScenarios are the dashboards the benchmark times: the city's
// (under 100 ms at p95) and a school's (under 30 ms), as JSON through the
// whole stack, and the city's page as HTML with its charts.
func DashboardScenarios() []DashboardScenario {
	return []DashboardScenario{
		{"city dashboard (JSON)", "city_specialist", "/api/v1/stats/dashboard", 100 * time.Millisecond},
		{"city dashboard, one year (JSON)", "city_specialist", "/api/v1/stats/dashboard?from=" + time.Now().AddDate(-1, 0, 0).Format(time.DateOnly), 100 * time.Millisecond},
		{"district BAK-06 (JSON)", "city_specialist", "/api/v1/stats/dashboard?district=BAK-06", 100 * time.Millisecond},
		{"school head: own school (JSON)", "school_head", "/api/v1/stats/dashboard", 30 * time.Millisecond},
		{"school head: city, suppressed (JSON)", "school_head", "/api/v1/stats/dashboard?district=BAK-07", 100 * time.Millisecond},
	}
}

// MeasureDashboard times s: a few warm-up requests, then n timed ones.
func (w *CaseWorld) MeasureDashboard(s DashboardScenario, n int) (Result, error) {
	times := make([]time.Duration, 0, n)
	for i := range n + 3 {
		r := httptest.NewRequest(http.MethodGet, s.Path, nil)
		r.Header.Set("Authorization", "Bearer "+w.Tokens[s.User])
		rec := httptest.NewRecorder()
		start := time.Now()
		w.Handler.ServeHTTP(rec, r)
		el := time.Since(start)
		if rec.Code != http.StatusOK {
			b, _ := io.ReadAll(rec.Result().Body)
			return Result{}, fmt.Errorf("bench %s: %d %s", s.Name, rec.Code, b)
		}
		if i >= 3 {
			times = append(times, el)
		}
	}
	slices.Sort(times)
	var sum time.Duration
	for _, t := range times {
		sum += t
	}
	pick := func(p float64) time.Duration { return times[min(len(times)-1, int(p*float64(len(times))))] }
	return Result{Scenario: Scenario{Name: s.Name, User: s.User, Query: s.Path}, P50: pick(0.50), P95: pick(0.95), P99: pick(0.99),
		Mean: sum / time.Duration(len(times))}, nil
}

// PrintDashboardTable writes the dashboards' timings as a Markdown table.
func PrintDashboardTable(out io.Writer, engine storage.Engine, cases, children int, ss []DashboardScenario, rs []Result) {
	fmt.Fprintf(out, "\ndashboards on %s, %d cases, %d children, through the whole stack (token auth, policy, counts in SQL):\n\n", engine, cases, children)
	fmt.Fprintf(out, "| engine | dashboard | path | p50 | p95 | p99 | target p95 |\n|---|---|---|---:|---:|---:|---:|\n")
	for i, r := range rs {
		fmt.Fprintf(out, "| %s | %s | `%s` | %s | %s | %s | %s |\n", engine, r.Name, r.Query, ms(r.P50), ms(r.P95), ms(r.P99), ms(ss[i].Target))
	}
}
