package storage_test

import (
	"context"
	"strings"
	"testing"

	"dayaq/internal/apperr"
	"dayaq/internal/casework"
	"dayaq/internal/storage"
	"dayaq/internal/storage/storagetest"
)

// An analyst's export has no names, birth months only, pseudonyms stable
// within a project and different across projects; nobody else may export.
func TestDeidentifiedExport(t *testing.T) {
	for _, e := range storagetest.Engines() {
		t.Run(string(e.Name), func(t *testing.T) {
			f := newMatrixFixture(t, e.DSN(t))
			ctx := context.Background()
			for _, child := range []string{"ownClass", "otherDistrict"} {
				if _, err := f.db.CreateCase(ctx, f.users["city_specialist"], casework.NewCase{Type: "violence.bullying",
					Severity: casework.High, Title: "Aysel Əliyeva döyülüb", ChildIDs: []int64{f.children[child]}}); err != nil {
					t.Fatal(err)
				}
			}
			an := f.users["analyst"]
			a1, err := f.db.DeidentifiedCases(ctx, an, "bullying-2026", "all", storage.StatsQuery{})
			if err != nil {
				t.Fatal(err)
			}
			a2, _ := f.db.DeidentifiedCases(ctx, an, "bullying-2026", "all", storage.StatsQuery{})
			b, _ := f.db.DeidentifiedCases(ctx, an, "other-project", "all", storage.StatsQuery{})
			if len(a1) != 2 || len(a2) != 2 || len(b) != 2 {
				t.Fatalf("rows %d %d %d", len(a1), len(a2), len(b))
			}
			for i := range a1 {
				if a1[i] != a2[i] {
					t.Errorf("pseudonyms not stable within a project: %+v vs %+v", a1[i], a2[i])
				}
				if a1[i].Case == b[i].Case || a1[i].Child == b[i].Child {
					t.Errorf("pseudonyms link across projects: %+v vs %+v", a1[i], b[i])
				}
				if a1[i].BirthMonth != "2015-04" || len(a1[i].Created) != 7 {
					t.Errorf("dates: %+v", a1[i])
				}
				if strings.Contains(a1[i].Case+a1[i].Child, "Aysel") || a1[i].Child == "" {
					t.Errorf("row %+v", a1[i])
				}
			}
			for _, who := range []string{"city_specialist", "public_council", "school_head"} {
				if _, err := f.db.DeidentifiedCases(ctx, f.users[who], "p", "all", storage.StatsQuery{}); apperr.CodeOf(err) != apperr.NotFound {
					t.Errorf("%s exports: %v", who, err)
				}
			}
		})
	}
}
