package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"dayaq/internal/api"
	"dayaq/internal/audit"
	"dayaq/internal/match"
	"dayaq/internal/storage"
)

// childrenUsage lists the children subcommands.
const childrenUsage = "Usage: dayaq children match [--db DB] [--as EMAIL] --batch QUERIES.jsonl"

// children dispatches the children registry's subcommands: one case each.
func (m *Main) children(ctx context.Context, args []string) error {
	sub := ""
	if len(args) > 0 {
		sub = args[0]
	}
	switch sub {
	case "match":
		return m.childrenMatch(ctx, args[1:])
	case "-h", "--help":
		fmt.Fprintln(m.Stderr, childrenUsage)
		return nil
	}
	fmt.Fprintln(m.Stderr, childrenUsage)
	return usageError{"children: want a subcommand: match"}
}

// matchLine is one query of a batch.
type matchLine struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	BirthDate  string `json:"birth_date"`
	SchoolCode string `json:"school_code"`
}

// matchAnswer is the line written for a query.
type matchAnswer struct {
	ID         string                   `json:"id"`
	Candidates []api.MatchCandidateJSON `json:"candidates"`
	Error      string                   `json:"error,omitempty"`
}

func (m *Main) childrenMatch(ctx context.Context, args []string) error {
	fs := m.flags("children match", "children match [--db DB] [--as EMAIL] --batch QUERIES.jsonl\n\n"+
		"Reads one JSON query a line ({\"id\": \"…\", \"name\": \"…\", \"birth_date\": \"YYYY-MM-DD\", \"school_code\": \"…\"},\n"+
		"birth_date and school_code optional; - reads standard input) and writes one JSON line a query:\n"+
		"{\"id\": \"…\", \"candidates\": [{\"student_id\", \"child_id\", \"score\", \"level\", \"reasons\"}]}, at most 10, best first.\n"+
		"A bad query gets {\"id\": \"…\", \"candidates\": [], \"error\": \"…\"}. Every search is audited.")
	dsn := m.dbFlag(fs)
	batch := fs.String("batch", "", "the queries, one JSON object a line (- for standard input)")
	as := fs.String("as", "", "search as this user (their access, audited as them); without it, the whole registry, audited as the system")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *batch == "" || fs.NArg() != 0 {
		fs.Usage()
		return usageError{"children match: want --batch QUERIES.jsonl"}
	}
	var in io.Reader = m.Stdin
	if *batch != "-" {
		f, err := os.Open(*batch)
		if err != nil {
			return err
		}
		defer f.Close()
		in = f
	}
	db, err := openDB(ctx, *dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	find := db.MatchChildrenAsOperator
	if *as != "" {
		u, err := db.UserByEmail(ctx, strings.ToLower(strings.TrimSpace(*as)))
		if err != nil {
			return fmt.Errorf("--as %s: %s", *as, describe(m.l, err))
		}
		p, err := db.PrincipalForUser(ctx, u.ID)
		if err != nil {
			return err
		}
		a := audit.Actor{Principal: p, RequestID: "cli"}
		find = func(ctx context.Context, q match.Query) ([]storage.MatchCandidate, error) {
			return db.MatchChildren(ctx, a, q)
		}
	}
	return m.matchBatch(ctx, in, find)
}

// matchBatch answers each line of in on m.Stdout.
func (m *Main) matchBatch(ctx context.Context, in io.Reader, find func(context.Context, match.Query) ([]storage.MatchCandidate, error)) error {
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	out := bufio.NewWriter(m.Stdout)
	defer out.Flush()
	enc := json.NewEncoder(out)
	enc.SetEscapeHTML(false)
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimSpace(sc.Text())
		if text == "" {
			continue
		}
		var ql matchLine
		ans := matchAnswer{Candidates: []api.MatchCandidateJSON{}}
		if err := json.Unmarshal([]byte(text), &ql); err != nil {
			ans.Error = m.l.T("import.line", line) + ": " + m.l.T("error.json")
		} else {
			ans.ID = ql.ID
			q, err := queryOf(ql)
			if err == nil {
				var cs []storage.MatchCandidate
				cs, err = find(ctx, q)
				ans.Candidates = api.MatchCandidatesJSON(m.l, cs)
			}
			if err != nil {
				ans.Error = describe(m.l, err)
				if ans.Candidates == nil {
					ans.Candidates = []api.MatchCandidateJSON{}
				}
			}
		}
		if err := enc.Encode(ans); err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	return sc.Err()
}

// queryOf validates a batch line as the API validates a request.
func queryOf(l matchLine) (match.Query, error) {
	return api.MatchQuery(l.Name, l.BirthDate, l.SchoolCode)
}
