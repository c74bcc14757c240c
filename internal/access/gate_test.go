package access_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// The gate: every access decision is made in this package. These tests
// read the source of the packages that serve and store protected data and
// fail when one decides by itself (ADR 0016).

// parseDir parses the non-test Go files of dir (relative to this package).
func parseDir(t *testing.T, dir string) (*token.FileSet, []*ast.File) {
	t.Helper()
	fset := token.NewFileSet()
	names, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	var files []*ast.File
	for _, n := range names {
		if strings.HasSuffix(n, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, n, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	if len(files) == 0 {
		t.Fatalf("no Go files in %s", dir)
	}
	return fset, files
}

// Role checks (Principal.Has, HasAny) are the policy's vocabulary: outside
// it, the surfaces and the store ask a named decision instead.
func TestNoRoleChecksOutsideThePolicy(t *testing.T) {
	// Where a role list is not an access decision, or is a record's own rule.
	allowed := map[string]string{
		"../web/nav.go": "navigation only shows or hides links; each page it links to asks the policy",
		// The domain packages' rules about a principal's relation to one
		// record (a case's supervisor, a referral's basis, the working
		// group's secretary) stay beside the records' other rules; they do
		// no I/O and every caller reaches them through storage, after the
		// policy let it see the record.
		"../casework/lifecycle.go":  "a case's relation rules",
		"../referral/basis.go":      "who may declare a referral's legal basis",
		"../workgroup/workgroup.go": "the working group's roles",
		"../plan/review.go":         "a plan's review rules (a record rule, like casework's)",
	}
	dirs := []string{"../api", "../web", "../storage", "../rosterrun", "../authn", "../server", "../httpx",
		"../casework", "../referral", "../workgroup", "../../cmd/dayaq"}
	if entries, err := os.ReadDir(".."); err == nil { // new packages are checked too
		for _, e := range entries {
			d := "../" + e.Name()
			if e.IsDir() && e.Name() != "access" && !slices.Contains(dirs, d) {
				m, _ := filepath.Glob(filepath.Join(d, "*.go"))
				if slices.ContainsFunc(m, func(n string) bool { return !strings.HasSuffix(n, "_test.go") }) {
					dirs = append(dirs, d)
				}
			}
		}
	}
	for _, dir := range dirs {
		fset, files := parseDir(t, dir)
		for _, f := range files {
			name := filepath.ToSlash(fset.Position(f.Pos()).Filename)
			if _, ok := allowed[name]; ok {
				continue
			}
			ast.Inspect(f, func(n ast.Node) bool {
				call, ok := n.(*ast.CallExpr)
				if !ok {
					return true
				}
				if sel, ok := call.Fun.(*ast.SelectorExpr); ok && (sel.Sel.Name == "HasAny" || sel.Sel.Name == "Has") && len(call.Args) > 0 {
					if x, ok := call.Args[0].(*ast.SelectorExpr); ok {
						if id, ok := x.X.(*ast.Ident); ok && id.Name == "access" {
							t.Errorf("%s: a role check outside internal/access; ask a named decision there", fset.Position(call.Pos()))
						}
					}
				}
				return true
			})
		}
	}
}

// protected matches SQL that reads or writes a child's data or the trail
// about it.
var protected = regexp.MustCompile(`\b(FROM|JOIN|INTO|UPDATE)\s+(children|child_grants|break_glass|audit_events|cases|case_[a-z_]+|contacts|contact_[a-z_]+|referrals|referral_events|roster_imports|roster_import_rejects|child_merges|wg_agenda|wg_decisions|wg_actions)\b`)

// systemPaths are the store's exported methods that touch protected tables
// without a principal: each runs for the system, not for a person, and
// says why here. A new method on the list needs a reason a reviewer
// accepts.
var systemPaths = map[string]string{
	"DanisChildWrite":      "the child's own message on an open page of the anonymous channel: no account; the page's random token is the check (ADR 0024)",
	"InsertChildren":       "bulk path of demo data and the CLI import (an operator on the server)",
	"CountChildren":        "a count for probes and the demo, no child's data",
	"ReferralsDue":         "escalation job: reads deadlines; every step it records is audited",
	"ActionItemsDue":       "escalation job",
	"CasesDue":             "escalation job",
	"RecordEscalation":     "escalation job; audited as escalation.step",
	"RecordAudit":          "appends to the trail",
	"VerifyAudit":          "the CLI's chain check: hashes, no row leaves the store",
	"AuditHead":            "the chain's head",
	"ExportAudit":          "the CLI's export, run by an operator on the server",
	"ImportRosterFile":     "the CLI import, run by an operator on the server",
	"ExecRaw":              "tests and operators",
	"Migrate":              "schema",
	"PruneNotifications":   "job",
	"AuditEvents":          "the CLI and tests read the trail as the system; surfaces use AuditEventsFor (policy, audited)",
	"BreakGlassOpenings":   "the CLI and tests; surfaces use BreakGlassOpeningsFor (policy, audited)",
	"InsertCasesBulk":      "bulk path of demo data and the bench command",
	"CountCases":           "a count for the demo and the bench, no case's data",
	"ReindexMatchKeys":     "CLI maintenance of the match keys",
	"SaveContactDraft":     "keyed by the signed-in user's ID, which the handler takes from the principal: a draft is its author's only",
	"ContactDraft":         "as SaveContactDraft",
	"DeleteContactDraft":   "as SaveContactDraft",
	"HalfWrittenContacts":  "a count for the durability test and the bench, no contact's data",
	"BlobKeys":             "operations: backup and restore list attachment blob keys, no child's data",
	"ReferencedBlobKeys":   "operations: garbage collection of unreferenced blobs, keys only",
	"UnlockParentLink":     "the parent's page (ADR 0021): no account; the link's random token and the child's birth date (5 tries) are the check, and every try is audited as the parent",
	"ParentView":           "as UnlockParentLink: shows the plan only to the browser that gave the birth date",
	"ParentAct":            "as UnlockParentLink: answers only from the browser that gave the birth date",
	"SeedPlansBulk":        "bulk path of the bench command",
	"PlanReviewsDue":       "escalation job",
	"PlanConsentsDue":      "escalation job",
	"PublicCaseCounts":     "counts for the public statistics, protected by internal/disclosure before anyone sees them (ADR 0025)",
	"PublicContactCounts":  "as PublicCaseCounts",
	"PublicRegisterCounts": "as PublicCaseCounts: the register by district × risk level, protected before anyone sees it",
	"ClaimExportJob":       "the background export job: it then builds the file through the lists as the requester (their own principal, read afresh)",
	"FinishExportJob":      "as ClaimExportJob: stores the file built as the requester",
	"FoldStats":            "the fold_stats job: adds the dashboards' count deltas into their totals, counts only (ADR 0032)",
	"ChildIDsBySchool":     "bulk path of the bench command: IDs only",
	"CaseSample":           "bulk path of the bench command: IDs and times only",
	"InsertReferralsBulk":  "bulk path of the bench command",
	"InsertContactsBulk":   "bulk path of the bench command",
	"RebuildStats":         "`dayaq stats rebuild` and bulk loads: recomputes the dashboards' totals, counts only (ADR 0032)",
}

// Every exported store method that reads or writes protected data takes
// the actor (audit.Actor) or principal it acts for, so that the policy can
// decide and the audit name them.
func TestStoreMethodsTakeTheActor(t *testing.T) {
	fset, files := parseDir(t, "../storage")
	for _, f := range files {
		for _, d := range f.Decls {
			fn, ok := d.(*ast.FuncDecl)
			if !ok || fn.Recv == nil || !fn.Name.IsExported() || fn.Body == nil {
				continue
			}
			if star, ok := fn.Recv.List[0].Type.(*ast.StarExpr); !ok || star.X.(*ast.Ident).Name != "DB" {
				continue
			}
			touches := ""
			ast.Inspect(fn.Body, func(n ast.Node) bool {
				if lit, ok := n.(*ast.BasicLit); ok && lit.Kind == token.STRING && touches == "" {
					if m := protected.FindStringSubmatch(lit.Value); m != nil {
						touches = m[2]
					}
				}
				return touches == ""
			})
			if touches == "" {
				continue
			}
			if _, ok := systemPaths[fn.Name.Name]; ok {
				continue
			}
			hasActor := false
			for _, p := range fn.Type.Params.List {
				if sel, ok := p.Type.(*ast.SelectorExpr); ok {
					if x, ok := sel.X.(*ast.Ident); ok && ((x.Name == "audit" && sel.Sel.Name == "Actor") ||
						(x.Name == "access" && sel.Sel.Name == "Principal")) {
						hasActor = true
					}
				}
			}
			if !hasActor {
				t.Errorf("%s: (*DB).%s touches %s without an actor; take audit.Actor and ask the policy, or add it to systemPaths with a reason",
					fset.Position(fn.Pos()), fn.Name.Name, touches)
			}
		}
	}
}
