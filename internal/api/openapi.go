package api

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"slices"
)

// openAPIFS holds the OpenAPI document: openapi/openapi.json is the base
// (info, servers, shared components) and every other openapi/*.json is one
// feature's part ({"paths": …, "components": …}), so that a feature's
// operations sit beside each other.
//
//go:embed openapi
var openAPIFS embed.FS

// buildOpenAPI merges the base document and the feature parts into one
// document. A path, method or component defined twice is an error.
func buildOpenAPI(fsys fs.FS) ([]byte, error) {
	const base = "openapi/openapi.json"
	var doc map[string]any
	if err := readJSON(fsys, base, &doc); err != nil {
		return nil, err
	}
	names, err := fs.Glob(fsys, "openapi/*.json")
	if err != nil {
		return nil, fmt.Errorf("openapi: list parts: %w", err)
	}
	slices.Sort(names)
	paths := object(doc, "paths")
	components := object(doc, "components")
	for _, name := range names {
		if name == base {
			continue
		}
		var part map[string]any
		if err := readJSON(fsys, name, &part); err != nil {
			return nil, err
		}
		for p, item := range object(part, "paths") {
			ops, _ := item.(map[string]any)
			have := object(paths, p)
			for m, op := range ops {
				if _, dup := have[m]; dup {
					return nil, fmt.Errorf("openapi: %s: %s %s is defined twice", path.Base(name), m, p)
				}
				have[m] = op
			}
		}
		for section, entries := range object(part, "components") {
			es, _ := entries.(map[string]any)
			have := object(components, section)
			for k, v := range es {
				if _, dup := have[k]; dup {
					return nil, fmt.Errorf("openapi: %s: components.%s.%s is defined twice", path.Base(name), section, k)
				}
				have[k] = v
			}
		}
	}
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("openapi: encode: %w", err)
	}
	return b, nil
}

func readJSON(fsys fs.FS, name string, v any) error {
	b, err := fs.ReadFile(fsys, name)
	if err != nil {
		return fmt.Errorf("openapi: read %s: %w", name, err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("openapi: parse %s: %w", name, err)
	}
	return nil
}

// object returns m[key] as an object, creating it when absent.
func object(m map[string]any, key string) map[string]any {
	o, ok := m[key].(map[string]any)
	if !ok {
		o = map[string]any{}
		m[key] = o
	}
	return o
}
