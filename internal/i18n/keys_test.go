package i18n_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"dayaq/internal/i18n"
	"dayaq/internal/web"
)

// repoRoot is the directory of go.mod above the test's directory.
func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test directory")
		}
		dir = parent
	}
}

var (
	// keyRE is the shape of a catalogue key: dotted lower-case identifiers.
	keyRE = regexp.MustCompile(`^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$`)
	// templateKeyRE finds literal keys passed to T or N in a template.
	templateKeyRE = regexp.MustCompile(`\.(?:T|N)\s+"([^"]+)"`)
	// fileExts end strings that look like keys but name files.
	fileExts = []string{"css", "js", "svg", "png", "ico", "html", "json", "sql", "csv", "go", "db", "txt", "md", "ttf", "woff2"}
)

// usedKeys returns the literal catalogue keys that the repository's
// non-test Go files and its templates use, each with where it is used.
// A Go string counts when it has the shape of a key and its first segment
// is one the catalogue already uses (so "net.tcp" is not taken for a key).
func usedKeys(t *testing.T, root string, prefixes map[string]bool) map[string][]string {
	t.Helper()
	used := map[string][]string{}
	add := func(key, where string) {
		first, _, _ := strings.Cut(key, ".")
		last := key[strings.LastIndex(key, ".")+1:]
		if !keyRE.MatchString(key) || !prefixes[first] || slices.Contains(fileExts, last) {
			return
		}
		used[key] = append(used[key], where)
	}
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		if d.IsDir() {
			if name := d.Name(); path != root && (strings.HasPrefix(name, ".") || name == "testdata" || name == "vendor" || name == "node_modules") {
				return filepath.SkipDir
			}
			return nil
		}
		switch {
		case strings.HasSuffix(path, ".go") && !strings.HasSuffix(path, "_test.go"):
			f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
			if err != nil {
				return err
			}
			var stack []ast.Node
			ast.Inspect(f, func(n ast.Node) bool {
				if n == nil {
					stack = stack[:len(stack)-1]
					return true
				}
				stack = append(stack, n)
				lit, ok := n.(*ast.BasicLit)
				if !ok || lit.Kind != token.STRING || len(stack) < 2 || isAuditAction(stack[len(stack)-2], lit) {
					return true
				}
				if s, err := strconv.Unquote(lit.Value); err == nil {
					p := fset.Position(lit.Pos())
					add(s, rel+":"+strconv.Itoa(p.Line))
				}
				return true
			})
		case strings.HasSuffix(path, ".html") || strings.HasSuffix(path, ".tmpl"):
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			for _, m := range templateKeyRE.FindAllSubmatchIndex(b, -1) {
				line := 1 + strings.Count(string(b[:m[0]]), "\n")
				add(string(b[m[2]:m[3]]), rel+":"+strconv.Itoa(line))
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("scan %s: %v", root, err)
	}
	return used
}

// isAuditAction reports whether lit, a child of parent, names an audit
// action ("child.read"): those have the shape of catalogue keys but are
// not. They are the first argument of Event(…) or what an Action field is
// set to or compared with.
func isAuditAction(parent ast.Node, lit *ast.BasicLit) bool {
	isAction := func(e ast.Expr) bool {
		switch e := e.(type) {
		case *ast.SelectorExpr:
			return e.Sel.Name == "Action"
		case *ast.Ident:
			return e.Name == "Action"
		}
		return false
	}
	switch p := parent.(type) {
	case *ast.CallExpr:
		name := ""
		switch fn := p.Fun.(type) {
		case *ast.SelectorExpr:
			name = fn.Sel.Name
		case *ast.Ident:
			name = fn.Name
		}
		return name == "Event" && len(p.Args) > 0 && p.Args[0] == lit
	case *ast.KeyValueExpr:
		return p.Value == lit && isAction(p.Key)
	case *ast.AssignStmt:
		for i, r := range p.Rhs {
			if r == lit && i < len(p.Lhs) && isAction(p.Lhs[i]) {
				return true
			}
		}
	case *ast.BinaryExpr:
		return (p.X == lit && isAction(p.Y)) || (p.Y == lit && isAction(p.X))
	}
	return false
}

func TestUsedKeysExist(t *testing.T) {
	cat := i18n.MustLoad()
	prefixes := map[string]bool{}
	for _, k := range cat.Keys(i18n.Default) {
		first, _, _ := strings.Cut(k, ".")
		prefixes[first] = true
	}
	used := usedKeys(t, repoRoot(t), prefixes)

	// The scan must see keys from Go and from templates, or it checks nothing.
	for _, k := range []string{"cli.migrated", "org.error.type", "error.required", "import.error.header", "signin.title", "layout.footer"} {
		if len(used[k]) == 0 {
			t.Errorf("the scan did not find %q, which the code uses: the scanner is broken", k)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(used)) {
		if isPrefix(cat, k) {
			continue // a key prefix, completed at run time (a section's Key)
		}
		for _, l := range i18n.Langs() {
			if !cat.Has(l, k) {
				t.Errorf("key %q, used at %s, is not in the %s catalogue", k, strings.Join(used[k], ", "), l)
			}
		}
	}
}

// isPrefix reports whether p is the leading segments of a catalogue key
// but not itself a key.
func isPrefix(cat *i18n.Catalog, p string) bool {
	if cat.Has(i18n.Default, p) {
		return false
	}
	for _, k := range cat.Keys(i18n.Default) {
		if strings.HasPrefix(k, p+".") {
			return true
		}
	}
	return false
}

// Keys built at run time: a section's Key+".title" and Key+".lead" (see
// the templates), and "problem."+code for every apperr code (see the API).
func TestDynamicKeysExist(t *testing.T) {
	cat := i18n.MustLoad()
	var want []string
	for _, s := range web.Sections() {
		want = append(want, s.Key+".title", s.Key+".lead")
	}
	codes := apperrCodes(t)
	for _, c := range []string{"invalid", "not_found", "conflict", "unauthorized", "forbidden", "unavailable", "internal"} {
		if !slices.Contains(codes, c) {
			t.Errorf("apperr has no code %q (found %q): the scan is broken", c, codes)
		}
	}
	for _, c := range codes {
		want = append(want, "problem."+c)
	}
	for _, k := range want {
		for _, l := range i18n.Langs() {
			if !cat.Has(l, k) {
				t.Errorf("%s catalogue lacks %q", l, k)
			}
		}
	}
}

// apperrCodes returns the values of the apperr.Code constants, read from
// the package's source so that a new code is checked without editing this
// test.
func apperrCodes(t *testing.T) []string {
	t.Helper()
	dir := filepath.Join(repoRoot(t), "internal", "apperr")
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var codes []string
	fset := token.NewFileSet()
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".go") || strings.HasSuffix(e.Name(), "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(dir, e.Name()), nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		for _, decl := range f.Decls {
			gd, ok := decl.(*ast.GenDecl)
			if !ok || gd.Tok != token.CONST {
				continue
			}
			for _, spec := range gd.Specs {
				vs := spec.(*ast.ValueSpec)
				if id, ok := vs.Type.(*ast.Ident); !ok || id.Name != "Code" {
					continue
				}
				for _, v := range vs.Values {
					if lit, ok := v.(*ast.BasicLit); ok && lit.Kind == token.STRING {
						s, _ := strconv.Unquote(lit.Value)
						codes = append(codes, s)
					}
				}
			}
		}
	}
	return codes
}

// The scanner takes keys and leaves look-alikes: file names, audit
// actions, strings whose first segment no key has.
func TestUsedKeysScanner(t *testing.T) {
	dir := t.TempDir()
	goSrc := `package x

func f(a actor, e *event, l localizer) {
	l.T("error.required")
	_ = field("code", "org.error.type")
	_ = a.Event("child.read", "child", 1)
	e.Action = "child.read_denied"
	_ = event{Action: "child.create"}
	_ = e.Action == "child.update"
	_ = asset("app.css")
	_ = "net.tcp"
	_ = "Error.Required"
	_ = "problem." + code
}
`
	tmpl := `{{define "content"}}<h1>{{.L.T "signin.title"}}</h1>{{asset "app.js"}}{{$.L.N "cli.count" 3}}{{end}}`
	for name, body := range map[string]string{"x.go": goSrc, "x_test.go": `package x; var _ = "error.in_test"`, "page.html": tmpl,
		"testdata/y.go": `package y; var _ = "error.in_testdata"`} {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	prefixes := map[string]bool{"error": true, "org": true, "child": true, "app": true, "signin": true, "cli": true, "problem": true}
	got := slices.Sorted(maps.Keys(usedKeys(t, dir, prefixes)))
	want := []string{"cli.count", "error.required", "org.error.type", "signin.title"}
	if !slices.Equal(got, want) {
		t.Errorf("scanner found %q, want %q", got, want)
	}
}
