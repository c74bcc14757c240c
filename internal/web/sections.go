package web

import "net/http"

// Section is one of the ten capabilities of the product, each with a page
// of its own under /Slug.
type Section struct {
	Slug string
	Key  string // catalogue key prefix: Key+".title", Key+".lead"
}

// Sections lists the capabilities in the order the navigation shows them.
func Sections() []Section {
	return []Section{
		{"hotline", "section.hotline"},
		{"children", "section.children"},
		{"cases", "section.cases"},
		{"referrals", "section.referrals"},
		{"working-group", "section.workgroup"},
		{"screening", "section.screening"},
		{"plans", "section.plans"},
		{"events", "section.events"},
		{"campaign", "section.campaign"},
		{"statistics", "section.statistics"},
	}
}

func (w *Web) section(s Section) handlerFunc {
	return func(rw http.ResponseWriter, r *http.Request) error {
		return w.render(rw, http.StatusOK, "section", w.page(r, s.Key+".title", s))
	}
}
