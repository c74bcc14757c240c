package api

import (
	"encoding/json"
	"strings"
	"testing"
	"testing/fstest"
)

func TestBuildOpenAPIMergesParts(t *testing.T) {
	base := `{"openapi": "3.1.0", "paths": {"/a": {"get": {"operationId": "getA"}}}, "components": {"schemas": {"A": {}}}}`
	tests := []struct {
		name, part, wantErr string
		wantPaths           []string
	}{
		{"new path", `{"paths": {"/b": {"get": {"operationId": "getB"}}}, "components": {"schemas": {"B": {}}}}`, "", []string{"/a", "/b"}},
		{"new method on a path", `{"paths": {"/a": {"post": {"operationId": "postA"}}}}`, "", []string{"/a"}},
		{"same operation twice", `{"paths": {"/a": {"get": {"operationId": "getA2"}}}}`, "get /a is defined twice", nil},
		{"same schema twice", `{"components": {"schemas": {"A": {}}}}`, "components.schemas.A", nil},
		{"not JSON", `{`, "parse openapi/part.json", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := buildOpenAPI(fstest.MapFS{
				"openapi/openapi.json": {Data: []byte(base)},
				"openapi/part.json":    {Data: []byte(tt.part)},
			})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to say %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var doc struct {
				Paths map[string]map[string]any `json:"paths"`
			}
			if err := json.Unmarshal(b, &doc); err != nil {
				t.Fatal(err)
			}
			if len(doc.Paths) != len(tt.wantPaths) {
				t.Errorf("paths = %v, want %v", doc.Paths, tt.wantPaths)
			}
			for _, p := range tt.wantPaths {
				if doc.Paths[p] == nil {
					t.Errorf("path %s missing", p)
				}
			}
			if tt.name == "new method on a path" && (doc.Paths["/a"]["get"] == nil || doc.Paths["/a"]["post"] == nil) {
				t.Errorf("/a = %v, want get and post", doc.Paths["/a"])
			}
		})
	}
}
