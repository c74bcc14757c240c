// Package taxonomy is the hotline's classification of contacts: a tree of
// categories with stable codes, labels in az, ru and en, and a mapping of
// each node to Child Helpline International's data framework for
// international reporting. It is data, not code: the city administrator
// edits it, and every edit makes a new version. A code never changes
// meaning: once published, a node keeps its parent and its CHI mapping and
// is never removed, only deactivated; its labels may be reworded. Every
// contact stores the version it was classified with. It does no I/O.
package taxonomy

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"strings"

	"dayaq/internal/apperr"
)

//go:embed seed.json
var seedJSON []byte

// Node is one category or subcategory.
type Node struct {
	Code   string `json:"code"`             // stable: "violence.bullying"
	Parent string `json:"parent,omitempty"` // "" for a top-level category
	AZ     string `json:"az"`
	RU     string `json:"ru"`
	EN     string `json:"en"`
	CHI    string `json:"chi"` // the Child Helpline International data-framework category it counts as
	Active bool   `json:"active"`
}

// Label is the node's label in lang ("az", "ru", "en"), Azerbaijani when
// the language is unknown or the label missing.
func (n Node) Label(lang string) string {
	switch lang {
	case "ru":
		if n.RU != "" {
			return n.RU
		}
	case "en":
		if n.EN != "" {
			return n.EN
		}
	}
	return n.AZ
}

// Taxonomy is one version of the tree, parents before their children.
type Taxonomy struct {
	Version int    `json:"version"`
	Nodes   []Node `json:"nodes"`
}

// Seed returns the taxonomy Dayaq starts with (version 1): CHI's ten
// categories with their subcategories, and the non-counselling contacts.
func Seed() Taxonomy {
	t, err := Parse(seedJSON)
	if err != nil {
		panic("taxonomy: the embedded seed is invalid: " + err.Error()) // a build-time fault; a test covers it
	}
	t.Version = 1
	return t
}

// Parse reads a taxonomy from JSON ({"nodes": [...]}); a node without
// "active" is active. It validates the result.
func Parse(b []byte) (Taxonomy, error) {
	var doc struct {
		Version int `json:"version"`
		Nodes   []struct {
			Node
			Active *bool `json:"active"`
		} `json:"nodes"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return Taxonomy{}, fmt.Errorf("taxonomy: %w", err)
	}
	t := Taxonomy{Version: doc.Version}
	for _, n := range doc.Nodes {
		node := n.Node
		node.Active = n.Active == nil || *n.Active
		t.Nodes = append(t.Nodes, node)
	}
	return t, t.Validate()
}

// validCode reports whether s has the shape of a code: dotted words of
// lower-case ASCII letters, digits and underscores, each starting with a
// letter.
func validCode(s string) bool {
	for w := range strings.SplitSeq(s, ".") {
		if w == "" || w[0] < 'a' || w[0] > 'z' {
			return false
		}
		for _, r := range w {
			if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_') {
				return false
			}
		}
	}
	return true
}

// Validate checks the tree: codes well formed and unique, each parent
// known and listed before its children, each child's code under its
// parent's, three labels and a CHI mapping on every node. Fields name the
// node by its index: "nodes[3].en".
func (t Taxonomy) Validate() error {
	var fs []apperr.FieldError
	seen := map[string]bool{}
	for i, n := range t.Nodes {
		f := func(name string) string { return fmt.Sprintf("nodes[%d].%s", i, name) }
		switch {
		case !validCode(n.Code) || len(n.Code) > 80:
			fs = append(fs, apperr.Field(f("code"), "taxonomy.error.code", n.Code))
		case seen[n.Code]:
			fs = append(fs, apperr.Field(f("code"), "taxonomy.error.duplicate", n.Code))
		}
		if n.Parent != "" {
			if !seen[n.Parent] {
				fs = append(fs, apperr.Field(f("parent"), "taxonomy.error.parent", n.Parent))
			} else if !strings.HasPrefix(n.Code, n.Parent+".") {
				fs = append(fs, apperr.Field(f("code"), "taxonomy.error.under_parent", n.Code, n.Parent))
			}
		} else if strings.Contains(n.Code, ".") {
			fs = append(fs, apperr.Field(f("parent"), "taxonomy.error.parent", n.Code[:strings.LastIndex(n.Code, ".")]))
		}
		for _, l := range []struct{ name, v string }{{"az", n.AZ}, {"ru", n.RU}, {"en", n.EN}, {"chi", n.CHI}} {
			if v := strings.TrimSpace(l.v); v == "" || len([]rune(v)) > 200 {
				fs = append(fs, apperr.Field(f(l.name), "taxonomy.error.label"))
			}
		}
		seen[n.Code] = true
	}
	if len(t.Nodes) == 0 {
		fs = append(fs, apperr.Field("nodes", "error.required"))
	}
	if len(fs) > 0 {
		return apperr.Validation(fs...)
	}
	return nil
}

// Evolve checks that next may follow prev: every code of prev is still
// there with the same parent and CHI mapping (a code never changes
// meaning; retire a node by deactivating it). Labels may change and nodes
// may be added. It returns next numbered prev.Version+1.
func Evolve(prev, next Taxonomy) (Taxonomy, error) {
	if err := next.Validate(); err != nil {
		return Taxonomy{}, err
	}
	idx := next.index()
	var fs []apperr.FieldError
	for _, old := range prev.Nodes {
		i, ok := idx[old.Code]
		if !ok {
			fs = append(fs, apperr.Field("nodes", "taxonomy.error.removed", old.Code))
			continue
		}
		n := next.Nodes[i]
		if n.Parent != old.Parent {
			fs = append(fs, apperr.Field(fmt.Sprintf("nodes[%d].parent", i), "taxonomy.error.moved", old.Code))
		}
		if n.CHI != old.CHI {
			fs = append(fs, apperr.Field(fmt.Sprintf("nodes[%d].chi", i), "taxonomy.error.remapped", old.Code))
		}
	}
	if len(fs) > 0 {
		return Taxonomy{}, apperr.Validation(fs...)
	}
	next.Version = prev.Version + 1
	return next, nil
}

func (t Taxonomy) index() map[string]int {
	m := make(map[string]int, len(t.Nodes))
	for i, n := range t.Nodes {
		m[n.Code] = i
	}
	return m
}

// Node returns the node with the given code.
func (t Taxonomy) Node(code string) (Node, bool) {
	for _, n := range t.Nodes {
		if n.Code == code {
			return n, true
		}
	}
	return Node{}, false
}

// Children returns the nodes whose parent is code ("" for the top level),
// in order.
func (t Taxonomy) Children(code string) []Node {
	var out []Node
	for _, n := range t.Nodes {
		if n.Parent == code {
			out = append(out, n)
		}
	}
	return out
}

// Under reports whether code is root or one of its descendants.
func Under(code, root string) bool {
	return code == root || strings.HasPrefix(code, root+".")
}

// Check validates a contact's categories against t: each known, active and
// given once. field names the input ("categories").
func (t Taxonomy) Check(field string, codes []string) []apperr.FieldError {
	var fs []apperr.FieldError
	seen := map[string]bool{}
	for i, c := range codes {
		n, ok := t.Node(c)
		switch {
		case !ok:
			fs = append(fs, apperr.Field(fmt.Sprintf("%s[%d]", field, i), "taxonomy.error.unknown", c))
		case !n.Active:
			fs = append(fs, apperr.Field(fmt.Sprintf("%s[%d]", field, i), "taxonomy.error.inactive", c))
		case seen[c]:
			fs = append(fs, apperr.Field(fmt.Sprintf("%s[%d]", field, i), "taxonomy.error.duplicate", c))
		}
		seen[c] = true
	}
	return fs
}
