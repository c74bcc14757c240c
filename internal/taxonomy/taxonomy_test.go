package taxonomy

import (
	"slices"
	"testing"

	"dayaq/internal/apperr"
)

func TestSeed(t *testing.T) {
	s := Seed()
	if s.Version != 1 {
		t.Fatalf("seed version = %d, want 1", s.Version)
	}
	var tops []string
	for _, n := range s.Children("") {
		tops = append(tops, n.Code)
	}
	want := []string{"missing", "violence", "mental", "physical_health", "services", "discrimination", "family",
		"peers", "education", "sexuality", "other"}
	if !slices.Equal(tops, want) {
		t.Fatalf("top-level = %v, want CHI's ten and the non-counselling contacts %v", tops, want)
	}
	for code, n := range map[string]int{"missing": 3, "violence": 9, "mental": 7, "mental.distress": 3, "education": 4, "other": 3} {
		if got := len(s.Children(code)); got != n {
			t.Errorf("%s has %d subcategories, want %d", code, got, n)
		}
	}
	for _, n := range s.Nodes {
		if !n.Active {
			t.Errorf("%s is inactive in the seed", n.Code)
		}
	}
	if got := must(s.Node("mental.suicidal")).Label("az"); got != "İntihar düşüncələri və cəhdləri" {
		t.Errorf("az label = %q", got)
	}
}

func must(n Node, ok bool) Node {
	if !ok {
		panic("no node")
	}
	return n
}

func fields(err error) []string {
	if err == nil {
		return nil
	}
	var out []string
	for _, f := range apperr.As(err).Fields {
		out = append(out, f.Field+":"+f.Key)
	}
	return out
}

func node(code, parent string) Node {
	return Node{Code: code, Parent: parent, AZ: "a", RU: "р", EN: "e", CHI: "x." + code, Active: true}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name  string
		nodes []Node
		want  []string
	}{
		{"good", []Node{node("a", ""), node("a.b", "a")}, nil},
		{"bad code", []Node{node("A b", "")}, []string{"nodes[0].code:taxonomy.error.code"}},
		{"duplicate", []Node{node("a", ""), node("a", "")}, []string{"nodes[1].code:taxonomy.error.duplicate"}},
		{"parent after child", []Node{node("a.b", "a"), node("a", "")}, []string{"nodes[0].parent:taxonomy.error.parent"}},
		{"not under parent", []Node{node("a", ""), node("c.b", "a")}, []string{"nodes[1].code:taxonomy.error.under_parent"}},
		{"dotted without parent", []Node{node("a", ""), node("a.b", "")}, []string{"nodes[1].parent:taxonomy.error.parent"}},
		{"no label", []Node{{Code: "a", AZ: "a", RU: "", EN: "e", CHI: "c"}}, []string{"nodes[0].ru:taxonomy.error.label"}},
		{"empty", nil, []string{"nodes:error.required"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := fields(Taxonomy{Nodes: tt.nodes}.Validate()); !slices.Equal(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestEvolve(t *testing.T) {
	prev := Taxonomy{Version: 3, Nodes: []Node{node("a", ""), node("a.b", "a"), node("c", "")}}
	relabel := slices.Clone(prev.Nodes)
	relabel[1].EN = "new words"
	relabel[2].Active = false
	moved := []Node{node("a", ""), node("c", ""), node("c.b", "c")}
	remapped := slices.Clone(prev.Nodes)
	remapped[0].CHI = "other"
	tests := []struct {
		name  string
		nodes []Node
		want  []string
	}{
		{"relabel and deactivate", relabel, nil},
		{"add", append(slices.Clone(prev.Nodes), node("a.d", "a")), nil},
		{"remove", prev.Nodes[:2], []string{"nodes:taxonomy.error.removed"}},
		{"remap", remapped, []string{"nodes[0].chi:taxonomy.error.remapped"}},
		{"move", moved, []string{"nodes:taxonomy.error.removed"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			next, err := Evolve(prev, Taxonomy{Nodes: tt.nodes})
			if got := fields(err); !slices.Equal(got, tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
			if err == nil && next.Version != 4 {
				t.Errorf("version = %d, want 4", next.Version)
			}
		})
	}
}

func TestCheck(t *testing.T) {
	tx := Taxonomy{Nodes: []Node{node("a", ""), node("a.b", "a"), {Code: "c", AZ: "a", RU: "р", EN: "e", CHI: "c"}}}
	got := tx.Check("categories", []string{"a.b", "zz", "c", "a.b"})
	var keys []string
	for _, f := range got {
		keys = append(keys, f.Field+":"+f.Key)
	}
	want := []string{"categories[1]:taxonomy.error.unknown", "categories[2]:taxonomy.error.inactive", "categories[3]:taxonomy.error.duplicate"}
	if !slices.Equal(keys, want) {
		t.Errorf("got %v, want %v", keys, want)
	}
}
