package plan

import (
	"slices"
	"time"
)

// Snapshot is the content of one version of a plan: what the parents agree to.
type Snapshot struct {
	Goals      []Goal
	Activities []Activity
}

// Change is one difference between two versions.
type Change struct {
	What   string // "goal" or "activity"
	ID     int64
	Kind   string   // "added", "removed", "changed"
	Fields []string // for "changed": which fields differ
	Old    string   // the title or statement before ("" when added)
	New    string   // and after ("" when removed)
}

// NeedsNewVersion reports whether changing goals or activities of a plan
// now makes a new version: once the parents agreed to the current one.
func NeedsNewVersion(agreed bool) bool { return agreed }

// Compare lists what changed from version a to version b, goals first
// then activities, each in ID order.
func Compare(a, b Snapshot) []Change {
	var out []Change
	out = append(out, diff("goal", a.Goals, b.Goals, func(g Goal) int64 { return g.ID },
		func(g Goal) string { return g.Statement }, goalFields)...)
	out = append(out, diff("activity", a.Activities, b.Activities, func(x Activity) int64 { return x.ID },
		func(x Activity) string { return x.Title }, activityFields)...)
	return out
}

func diff[T any](what string, as, bs []T, id func(T) int64, label func(T) string, fields func(T, T) []string) []Change {
	byA, byB := map[int64]T{}, map[int64]T{}
	var ids []int64
	for _, x := range as {
		byA[id(x)] = x
		ids = append(ids, id(x))
	}
	for _, x := range bs {
		byB[id(x)] = x
		if _, ok := byA[id(x)]; !ok {
			ids = append(ids, id(x))
		}
	}
	slices.Sort(ids)
	var out []Change
	for _, i := range ids {
		x, inA := byA[i]
		y, inB := byB[i]
		switch {
		case !inA:
			out = append(out, Change{What: what, ID: i, Kind: "added", New: label(y)})
		case !inB:
			out = append(out, Change{What: what, ID: i, Kind: "removed", Old: label(x)})
		default:
			if fs := fields(x, y); len(fs) > 0 {
				out = append(out, Change{What: what, ID: i, Kind: "changed", Fields: fs, Old: label(x), New: label(y)})
			}
		}
	}
	return out
}

func sameDay(a, b time.Time) bool { return a.Equal(b) }

func goalFields(a, b Goal) []string {
	var fs []string
	add := func(differ bool, f string) {
		if differ {
			fs = append(fs, f)
		}
	}
	add(a.Domain != b.Domain, "domain")
	add(a.Statement != b.Statement, "statement")
	add(a.Indicator != b.Indicator, "indicator")
	add(!sameDay(a.From, b.From), "from")
	add(!sameDay(a.Until, b.Until), "until")
	add(a.Status != b.Status, "status")
	return fs
}

func activityFields(a, b Activity) []string {
	var fs []string
	add := func(differ bool, f string) {
		if differ {
			fs = append(fs, f)
		}
	}
	add(a.Kind != b.Kind, "kind")
	add(a.Title != b.Title, "title")
	add(a.Responsible != b.Responsible, "responsible")
	add(a.Frequency != b.Frequency, "frequency")
	add(!sameDay(a.From, b.From), "from")
	add(!sameDay(a.Until, b.Until), "until")
	ga, gb := slices.Clone(a.GoalIDs), slices.Clone(b.GoalIDs)
	slices.Sort(ga)
	slices.Sort(gb)
	add(!slices.Equal(ga, gb), "goals")
	return fs
}
