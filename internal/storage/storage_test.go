package storage_test

import (
	"context"
	"testing"
	"time"

	"dayaq/internal/apperr"
	"dayaq/internal/child"
	"dayaq/internal/org"
	"dayaq/internal/storage"
	"dayaq/internal/storage/storagetest"
)

func TestMain(m *testing.M) { storagetest.Main(m) }

func TestEngineOf(t *testing.T) {
	for dsn, want := range map[string]storage.Engine{
		"./data/dayaq.db":                    storage.SQLite,
		"/tmp/x.db":                          storage.SQLite,
		"postgres://u@h/db":                  storage.Postgres,
		"postgresql://u@h:5432/db?sslmode=x": storage.Postgres,
	} {
		if got := storage.EngineOf(dsn); got != want {
			t.Errorf("EngineOf(%q) = %s, want %s", dsn, got, want)
		}
	}
}

func TestMigrateTwiceChangesNothing(t *testing.T) {
	for _, e := range storagetest.Engines() {
		t.Run(string(e.Name), func(t *testing.T) {
			ctx := context.Background()
			dsn := e.DSN(t)
			db, err := storage.Open(ctx, dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			n, err := db.Migrate(ctx)
			if err != nil || n == 0 {
				t.Fatalf("first migrate applied %d, err %v; want >0, nil", n, err)
			}
			n, err = db.Migrate(ctx)
			if err != nil || n != 0 {
				t.Fatalf("second migrate applied %d, err %v; want 0, nil", n, err)
			}
			cur, latest, err := db.SchemaVersion(ctx)
			if err != nil || cur != latest || cur == 0 {
				t.Fatalf("schema version %d of %d (err %v), want equal and >0", cur, latest, err)
			}
		})
	}
}

func TestDistrictsSeeded(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ds, err := db.Districts(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		want := org.BakuDistricts()
		if len(ds) != len(want) {
			t.Fatalf("got %d districts, want %d", len(ds), len(want))
		}
		for i := range want {
			if ds[i] != want[i] {
				t.Errorf("district %d = %+v, want %+v", i, ds[i], want[i])
			}
		}
	})
}

func TestImportOrgsIdempotent(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		orgs := []org.Org{
			{Code: "BSTI", Type: org.CityDepartment, NameAZ: "Bakı Şəhəri üzrə Təhsil İdarəsi"},
			{Code: "BAK-06-001", Type: org.School, NameAZ: "1 nömrəli məktəb", DistrictCode: "BAK-06"},
		}
		res, err := db.ImportOrgs(ctx, orgs)
		if err != nil || res != (storage.ImportResult{Created: 2}) {
			t.Fatalf("first import = %+v, %v", res, err)
		}
		res, err = db.ImportOrgs(ctx, orgs)
		if err != nil || res != (storage.ImportResult{Unchanged: 2}) {
			t.Fatalf("second import = %+v, %v; want 2 unchanged", res, err)
		}
		orgs[1].NameAZ = "1 nömrəli tam orta məktəb"
		res, err = db.ImportOrgs(ctx, orgs)
		if err != nil || res != (storage.ImportResult{Updated: 1, Unchanged: 1}) {
			t.Fatalf("third import = %+v, %v; want 1 updated", res, err)
		}
		got, err := db.OrgByCode(ctx, "BAK-06-001")
		if err != nil || got.NameAZ != "1 nömrəli tam orta məktəb" || got.DistrictCode != "BAK-06" {
			t.Fatalf("OrgByCode = %+v, %v", got, err)
		}
		if _, err := db.OrgByCode(ctx, "NOPE"); apperr.CodeOf(err) != apperr.NotFound {
			t.Fatalf("OrgByCode(NOPE) err = %v, want not found", err)
		}
		schools, err := db.Orgs(ctx, storage.OrgFilter{Type: org.School})
		if err != nil || len(schools) != 1 || schools[0].Code != "BAK-06-001" {
			t.Fatalf("Orgs(school) = %+v, %v", schools, err)
		}
	})
}

func TestImportOrgsAllOrNothing(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		orgs := []org.Org{
			{Code: "BSTI", Type: org.CityDepartment, NameAZ: "BŞTİ"},
			{Code: "BAK-99-001", Type: org.School, NameAZ: "x", DistrictCode: "BAK-99"}, // no such district: FK fails
		}
		if _, err := db.ImportOrgs(ctx, orgs); err == nil {
			t.Fatal("import with a bad district succeeded")
		}
		n, err := db.CountOrgs(ctx)
		if err != nil || len(n) != 0 {
			t.Fatalf("after a failed import the orgs are %v (err %v), want none", n, err)
		}
	})
}

func TestChildrenRoundTrip(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		if _, err := db.ImportOrgs(ctx, []org.Org{{Code: "BAK-01-001", Type: org.School, NameAZ: "Məktəb", DistrictCode: "BAK-01"}}); err != nil {
			t.Fatal(err)
		}
		school, _ := db.OrgByCode(ctx, "BAK-01-001")
		bd := time.Date(2014, 3, 9, 0, 0, 0, 0, time.UTC)
		cs := []child.Child{{StudentID: "S1", LastName: "Məmmədova", FirstName: "Nərmin", Patronymic: "Rəşad qızı",
			Sex: child.Female, BirthDate: bd, SchoolID: school.ID, Grade: 5}}
		if err := db.InsertChildren(ctx, cs); err != nil {
			t.Fatal(err)
		}
		got, err := db.Child(ctx, cs[0].ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.FullName() != "Məmmədova Nərmin Rəşad qızı" || !got.BirthDate.Equal(bd) || got.SchoolID != school.ID ||
			got.Grade != 5 || got.Version != 1 || got.CreatedAt.IsZero() {
			t.Fatalf("child = %+v", got)
		}
		if n, err := db.CountChildren(ctx); err != nil || n != 1 {
			t.Fatalf("CountChildren = %d, %v", n, err)
		}
	})
}
