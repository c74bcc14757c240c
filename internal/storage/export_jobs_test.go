package storage_test

import (
	"context"
	"strings"
	"testing"

	"dayaq/internal/apperr"
	"dayaq/internal/storage"
	"dayaq/internal/storage/storagetest"
)

// A queued export is audited with its filter and purpose, claimed once by
// the job, and downloaded by its requester alone, audited; on both
// engines.
func TestExportJobs(t *testing.T) {
	for _, e := range storagetest.Engines() {
		t.Run(string(e.Name), func(t *testing.T) {
			f := newMatrixFixture(t, e.DSN(t))
			ctx := context.Background()
			city, head := f.users["city_specialist"], f.users["school_head"]
			j, err := f.db.QueueExport(ctx, city, storage.ExportJob{Kind: "cases", Filter: "queue=all&district=BAK-06", Purpose: "Illik hesabat ucun", Lang: "az"})
			if err != nil {
				t.Fatal(err)
			}
			if _, _, err := f.db.ExportDownload(ctx, city, j.ID); apperr.CodeOf(err) != apperr.NotFound {
				t.Errorf("download before it is built: %v", err)
			}
			got, ok, err := f.db.ClaimExportJob(ctx)
			if err != nil || !ok || got.ID != j.ID || got.UserID != city.UserID || got.Filter != j.Filter {
				t.Fatalf("claim: %+v %v %v", got, ok, err)
			}
			if _, again, _ := f.db.ClaimExportJob(ctx); again {
				t.Error("a running export claimed twice")
			}
			if err := f.db.FinishExportJob(ctx, j.ID, []byte("PK-file"), 7, ""); err != nil {
				t.Fatal(err)
			}
			if _, _, err := f.db.ExportDownload(ctx, head, j.ID); apperr.CodeOf(err) != apperr.NotFound {
				t.Errorf("another user downloads: %v", err)
			}
			done, content, err := f.db.ExportDownload(ctx, city, j.ID)
			if err != nil || string(content) != "PK-file" || done.Rows != 7 || done.Status != "done" {
				t.Fatalf("download: %+v %q %v", done, content, err)
			}
			js, err := f.db.ExportJobs(ctx, city)
			if err != nil || len(js) != 1 {
				t.Errorf("own exports: %v %v", js, err)
			}
			if js, _ := f.db.ExportJobs(ctx, head); len(js) != 0 {
				t.Errorf("the head sees another's export: %v", js)
			}
			es, err := f.db.AuditEvents(ctx, storage.AuditFilter{})
			if err != nil {
				t.Fatal(err)
			}
			seen := map[string]bool{}
			for _, ev := range es {
				switch {
				case ev.Action == "case.export" && ev.Reason == "Illik hesabat ucun" && strings.Contains(ev.Details, "district=BAK-06"):
					seen["queued"] = true
				case ev.Action == "export.download" && ev.ActorUserID == city.UserID:
					seen["download"] = true
				case ev.Action == "export.download_denied" && ev.ActorUserID == head.UserID:
					seen["denied"] = true
				}
			}
			if !seen["queued"] || !seen["download"] || !seen["denied"] {
				t.Errorf("audit: %v", seen)
			}
		})
	}
}
