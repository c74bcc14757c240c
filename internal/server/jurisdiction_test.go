package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"dayaq/internal/audit"
	"dayaq/internal/storage/storagetest"
)

// Jurisdiction through HTTP, PocketBase style: each scenario is one request
// by one user, what the response MUST show and what it must NEVER show.
// In paths, {a1} is the ID of child a1; in want and never, "name:a1" is its
// surname and "sid:a1" its student ID. School A is BAK-06-001 (a1 in class
// 5A, a2), a3 is in another school of the same district, school B is
// BAK-07-001 (b1; b2 referred to the police; b3 whose referral to health
// has ended).

type scenario struct {
	name   string
	user   string
	method string // GET when empty
	path   string
	body   string   // API: JSON; web: form fields k=v&k=v (the form token is added)
	status int      // the status it must get
	want   []string // must appear
	never  []string // must not appear
	audit  string   // the audit action the request must append, "" for none
}

var allKids = []string{"a1", "a2", "a3", "b1", "b2", "b3"}

// names is "name:k" and "sid:k" of each of ks: the child's identity.
func names(ks ...string) []string {
	var out []string
	for _, k := range ks {
		out = append(out, "name:"+k, "sid:"+k)
	}
	return out
}

func except(ks ...string) []string {
	var out []string
	for _, k := range allKids {
		if !strings.Contains(" "+strings.Join(ks, " ")+" ", " "+k+" ") {
			out = append(out, k)
		}
	}
	return out
}

const validPatch = `{"student_id":"STU-X","last_name":"Dəyişdirilmiş","first_name":"Ad","sex":"f","birth_date":"2014-03-08","school_code":"BAK-07-001","grade":5,"section":"A"}`

var apiScenarios = []scenario{
	// A school head: their school, fully; nothing of another school.
	{name: "head A reads own pupil", user: "head_a", path: "/api/v1/children/{a1}", status: 200,
		want: append(names("a1"), `"view":"full"`, `"birth_date":"2014-03-08"`), audit: "child.read"},
	{name: "head A reads school B's pupil", user: "head_a", path: "/api/v1/children/{b1}", status: 404,
		never: names("b1"), audit: "child.read_denied"},
	{name: "head A reads a pupil of another school in the district", user: "head_a", path: "/api/v1/children/{a3}", status: 404,
		never: names("a3"), audit: "child.read_denied"},
	{name: "head A guesses an ID that does not exist", user: "head_a", path: "/api/v1/children/999999", status: 404,
		audit: "child.read_denied"},
	{name: "head A lists", user: "head_a", path: "/api/v1/children", status: 200,
		want: names("a1", "a2"), never: names(except("a1", "a2")...), audit: "child.list"},
	{name: "head A lists school B by filter", user: "head_a", path: "/api/v1/children?school=BAK-07-001", status: 200,
		want: []string{`"items":[]`}, never: names(allKids...), audit: "child.list"},
	{name: "head A pages through", user: "head_a", path: "/api/v1/children?limit=1&after={a2}", status: 200,
		want: []string{`"items":[]`}, never: names(allKids...), audit: "child.list"},
	{name: "head A changes school B's pupil", user: "head_a", method: "PATCH", path: "/api/v1/children/{b1}", body: validPatch,
		status: 404, never: append(names("b1"), "Dəyişdirilmiş"), audit: "child.write_denied"},
	{name: "head A adds a pupil to school B", user: "head_a", method: "POST", path: "/api/v1/children",
		body:   `{"student_id":"STU-NEW","last_name":"Yenizadə","first_name":"Ad","sex":"f","birth_date":"2015-01-01","school_code":"BAK-07-001","grade":3,"section":"A"}`,
		status: 422, want: []string{`"field":"school_code"`}, never: names("b1")},
	{name: "head B reads school A's pupil", user: "head_b", path: "/api/v1/children/{a1}", status: 404,
		never: names("a1"), audit: "child.read_denied"},
	{name: "head B lists", user: "head_b", path: "/api/v1/children", status: 200,
		want: names("b1", "b2", "b3"), never: names("a1", "a2", "a3"), audit: "child.list"},
	// The district's specialist: the district, not the next one.
	{name: "district specialist lists", user: "district_specialist", path: "/api/v1/children", status: 200,
		want: names("a1", "a2", "a3"), never: names("b1", "b2", "b3"), audit: "child.list"},
	{name: "district specialist reads another district", user: "district_specialist", path: "/api/v1/children/{b1}", status: 404,
		never: names("b1"), audit: "child.read_denied"},
	// A teacher: their own class, a limited view.
	{name: "teacher reads own class", user: "teacher_a", path: "/api/v1/children/{a1}", status: 200,
		want: []string{"name:a1", `"view":"limited"`, `"class":"5A"`}, never: []string{"sid:a1", "birth_date", "patronymic", "school", "Rəşad"},
		audit: "child.read"},
	{name: "teacher reads another class of the school", user: "teacher_a", path: "/api/v1/children/{a2}", status: 404,
		never: names("a2"), audit: "child.read_denied"},
	{name: "teacher lists", user: "teacher_a", path: "/api/v1/children", status: 200,
		want: []string{"name:a1"}, never: append(names(except("a1")...), "sid:a1", "birth_date"), audit: "child.list"},
	{name: "teacher changes own class's pupil", user: "teacher_a", method: "PATCH", path: "/api/v1/children/{a1}", body: validPatch,
		status: 403, never: []string{"Dəyişdirilmiş", "sid:a1"}, audit: "child.write_denied"},
	// A partner body: only through a live referral.
	{name: "police reads a referred child", user: "police_officer", path: "/api/v1/children/{b2}", status: 200,
		want: append(names("b2"), `"view":"shared"`), audit: "child.read"},
	{name: "police reads a child not referred", user: "police_officer", path: "/api/v1/children/{b1}", status: 404,
		never: names("b1"), audit: "child.read_denied"},
	{name: "police lists", user: "police_officer", path: "/api/v1/children", status: 200,
		want: names("b2"), never: names(except("b2")...), audit: "child.list"},
	{name: "police changes a referred child", user: "police_officer", method: "PATCH", path: "/api/v1/children/{b2}", body: validPatch,
		status: 403, never: []string{"Dəyişdirilmiş"}, audit: "child.write_denied"},
	{name: "health reads after its referral ended", user: "health_officer", path: "/api/v1/children/{b3}", status: 404,
		never: names("b3"), audit: "child.read_denied"},
	{name: "health lists after its referral ended", user: "health_officer", path: "/api/v1/children", status: 200,
		want: []string{`"items":[]`}, never: names(allKids...), audit: "child.list"},
	{name: "hotline operator with no assignment", user: "hotline_operator", path: "/api/v1/children/{a1}", status: 404,
		never: names("a1"), audit: "child.read_denied"},
	// Never a child's data.
	{name: "analyst reads", user: "analyst", path: "/api/v1/children/{a1}", status: 404, never: names("a1"), audit: "child.read_denied"},
	{name: "analyst lists", user: "analyst", path: "/api/v1/children", status: 200, want: []string{`"items":[]`}, never: names(allKids...)},
	{name: "Public Council reads", user: "public_council", path: "/api/v1/children/{b2}", status: 404, never: names("b2"), audit: "child.read_denied"},
	{name: "Public Council lists", user: "public_council", path: "/api/v1/children", status: 200, want: []string{`"items":[]`}, never: names(allKids...)},
	{name: "system admin reads", user: "system_admin", path: "/api/v1/children/{a2}", status: 404, never: names("a2"), audit: "child.read_denied"},
	{name: "system admin lists", user: "system_admin", path: "/api/v1/children", status: 200, want: []string{`"items":[]`}, never: names(allKids...)},
	{name: "system admin changes", user: "system_admin", method: "PATCH", path: "/api/v1/children/{a2}", body: validPatch,
		status: 404, never: names("a2"), audit: "child.write_denied"},
	// The city sees the city.
	{name: "city specialist lists", user: "city_specialist", path: "/api/v1/children", status: 200, want: names(allKids...), audit: "child.list"},
	{name: "city specialist reads school B", user: "city_specialist", path: "/api/v1/children/{b1}", status: 200,
		want: append(names("b1"), `"view":"full"`), audit: "child.read"},
}

var webScenarios = []scenario{
	{name: "head A opens own pupil", user: "head_a", path: "/children/{a1}", status: 200, want: names("a1"), audit: "child.read"},
	{name: "head A opens school B's pupil", user: "head_a", path: "/children/{b1}", status: 404,
		want: []string{"msg:error.not_found"}, never: names("b1"), audit: "child.read_denied"},
	{name: "head A opens an ID that does not exist", user: "head_a", path: "/children/999999", status: 404,
		want: []string{"msg:error.not_found"}, audit: "child.read_denied"},
	{name: "head A opens the edit form of school B's pupil", user: "head_a", path: "/children/{b1}/edit", status: 404,
		never: names("b1"), audit: "child.read_denied"},
	{name: "head A saves school B's pupil", user: "head_a", method: "POST", path: "/children/{b1}/edit",
		body:   "version=1&student_id=STU-X&last_name=Dəyişdirilmiş&first_name=Ad&sex=f&birth_date=2014-03-08&school_code=BAK-07-001&grade=5&section=A",
		status: 404, never: names("b1"), audit: "child.write_denied"},
	{name: "head A lists", user: "head_a", path: "/children", status: 200,
		want: []string{"name:a1", "name:a2"}, never: names(except("a1", "a2")...), audit: "child.list"},
	{name: "head A lists school B by filter", user: "head_a", path: "/children?school=BAK-07-001", status: 200,
		want: []string{"msg:child.list.empty"}, never: names(allKids...), audit: "child.list"},
	{name: "head B lists", user: "head_b", path: "/children", status: 200,
		want: []string{"name:b1", "name:b2", "name:b3"}, never: names("a1", "a2", "a3"), audit: "child.list"},
	{name: "head B opens school A's pupil", user: "head_b", path: "/children/{a2}", status: 404, never: names("a2"), audit: "child.read_denied"},
	{name: "teacher opens own class's pupil", user: "teacher_a", path: "/children/{a1}", status: 200,
		want: []string{"name:a1", "msg:child.view.limited"}, never: []string{"sid:a1", "08.03.2014", "Rəşad", "Nəsimi 1 nömrəli məktəb"}, audit: "child.read"},
	{name: "teacher opens the edit form", user: "teacher_a", path: "/children/{a1}/edit", status: 403, never: []string{"sid:a1"}, audit: "child.read"},
	{name: "teacher opens another class", user: "teacher_a", path: "/children/{a2}", status: 404, never: names("a2"), audit: "child.read_denied"},
	{name: "teacher lists", user: "teacher_a", path: "/children", status: 200,
		want: []string{"name:a1"}, never: append(names(except("a1")...), "sid:a1", "08.03.2014"), audit: "child.list"},
	{name: "police opens a referred child", user: "police_officer", path: "/children/{b2}", status: 200, want: names("b2"), audit: "child.read"},
	{name: "police opens a child not referred", user: "police_officer", path: "/children/{b1}", status: 404, never: names("b1"), audit: "child.read_denied"},
	{name: "police lists", user: "police_officer", path: "/children", status: 200,
		want: []string{"name:b2"}, never: names(except("b2")...), audit: "child.list"},
	{name: "health opens after its referral ended", user: "health_officer", path: "/children/{b3}", status: 404, never: names("b3"), audit: "child.read_denied"},
	{name: "analyst opens", user: "analyst", path: "/children/{a1}", status: 404, never: names("a1"), audit: "child.read_denied"},
	{name: "analyst lists", user: "analyst", path: "/children", status: 200, want: []string{"msg:child.list.empty"}, never: names(allKids...)},
	{name: "Public Council lists", user: "public_council", path: "/children", status: 200, want: []string{"msg:child.list.empty"}, never: names(allKids...)},
	{name: "system admin opens", user: "system_admin", path: "/children/{b1}", status: 404, never: names("b1"), audit: "child.read_denied"},
	{name: "system admin lists", user: "system_admin", path: "/children", status: 200, want: []string{"msg:child.list.empty"}, never: names(allKids...)},
	// A break-glass role out of reach is offered break-glass, and sees nothing yet.
	{name: "police supervisor opens a child not referred", user: "police_supervisor", path: "/children/{b1}", status: 404,
		want: []string{"msg:breakglass.out_of_reach", `action="/children/{b1}/break-glass"`}, never: names("b1"), audit: "child.read_denied"},
}

var placeholderRE = regexp.MustCompile(`\{([ab][0-9])\}`)

// expand puts the world's IDs, names and messages into s.
func (w *world) expand(s string) string {
	s = placeholderRE.ReplaceAllStringFunc(s, func(m string) string {
		return strconv.FormatInt(w.kids[m[1:len(m)-1]].ID, 10)
	})
	switch {
	case strings.HasPrefix(s, "name:"):
		return w.kids[s[5:]].LastName
	case strings.HasPrefix(s, "sid:"):
		return w.kids[s[4:]].StudentID
	case strings.HasPrefix(s, "msg:"):
		return en(s[4:])
	}
	return s
}

func (w *world) run(t *testing.T, sc scenario, api bool) {
	t.Helper()
	m := w.users[sc.user]
	method := sc.method
	if method == "" {
		method = http.MethodGet
	}
	path := w.expand(sc.path)
	before := w.lastSeq(t)
	var r response
	if api {
		var header []string
		if method == http.MethodPatch {
			header = []string{"If-Match", `"1"`}
		}
		r = w.api(m, method, path, sc.body, header...)
	} else {
		var fields []string
		for kv := range strings.SplitSeq(sc.body, "&") {
			if k, v, ok := strings.Cut(kv, "="); ok {
				fields = append(fields, k, v)
			}
		}
		r = w.page(m, method, path, fields...)
	}
	if r.Status != sc.status {
		t.Errorf("status %d, want %d; body %.300s", r.Status, sc.status, r.Body)
	}
	if api && r.Status >= 400 {
		p := problem(t, r)
		if sc.status == http.StatusNotFound && p["detail"] != en("error.not_found") {
			t.Errorf("404 problem detail %q, want the plain %q", p["detail"], en("error.not_found"))
		}
	}
	text := r.text()
	if api {
		text = r.Body // JSON escapes nothing we look for
	}
	for _, s := range sc.want {
		if x := w.expand(s); !strings.Contains(text, x) {
			t.Errorf("body lacks %s (%q)", s, x)
		}
	}
	for _, s := range sc.never {
		if x := w.expand(s); strings.Contains(text, x) {
			t.Errorf("body shows %s (%q), which %s must never see", s, x, sc.user)
		}
	}
	es := w.events(t, before)
	if sc.audit == "" {
		for _, e := range es {
			if strings.HasPrefix(e.Action, "child.") {
				t.Errorf("unexpected audit event %s", e.Action)
			}
		}
		return
	}
	found := false
	for _, e := range es {
		if e.Action != sc.audit || e.ActorUserID != m.ID {
			continue
		}
		found = true
		if id := placeholderRE.FindString(sc.path); id != "" && e.Action != "child.list" && e.ObjectID != w.expand(id) {
			t.Errorf("audit %s names object %q, want %s", e.Action, e.ObjectID, w.expand(id))
		}
		if e.IP == "" || e.RequestID == "" {
			t.Errorf("audit %s lacks where it came from: ip %q, request %q", e.Action, e.IP, e.RequestID)
		}
		if e.Action == "child.list" {
			var d struct{ IDs []int64 }
			if err := json.Unmarshal([]byte(e.Details), &d); err != nil {
				t.Errorf("child.list details %q: %v", e.Details, err)
			}
			for _, k := range allKids {
				shown := strings.Contains(text, w.kids[k].LastName)
				listed := false
				for _, id := range d.IDs {
					listed = listed || id == w.kids[k].ID
				}
				if shown != listed {
					t.Errorf("child.list audit lists %v, but %s shown=%v", d.IDs, k, shown)
				}
			}
		}
		for _, s := range names(allKids...) {
			if x := w.expand(s); strings.Contains(e.Details+e.Reason+e.ObjectID, x) {
				t.Errorf("audit event %s carries a child's identity %q", e.Action, x)
			}
		}
	}
	if !found {
		t.Errorf("no %s audit event by %s; appended %q", sc.audit, sc.user, actions(es))
	}
}

// TestJurisdictionScenarios runs every scenario through the API (with the
// user's bearer token) and the web UI (with their session), on both
// engines; afterwards no child has changed and the audit chain is whole.
func TestJurisdictionScenarios(t *testing.T) {
	for _, e := range storagetest.Engines() {
		t.Run(string(e.Name), func(t *testing.T) {
			w := newWorld(t, e.DSN(t))
			for _, sc := range apiScenarios {
				t.Run("api/"+sc.name, func(t *testing.T) { w.run(t, sc, true) })
			}
			for _, sc := range webScenarios {
				t.Run("web/"+sc.name, func(t *testing.T) { w.run(t, sc, false) })
			}
			for _, k := range allKids {
				if c := storagetest.Child(t, w.db, w.kids[k].ID); c.Version != 1 {
					t.Errorf("child %s changed (version %d)", k, c.Version)
				}
			}
			if n, _ := w.db.CountChildren(context.Background()); n != len(worldKids) {
				t.Errorf("%d children, want %d: a refused create added one", n, len(worldKids))
			}
			w.verifyAudit(t)
		})
	}
}

// A child out of reach answers exactly like a child that does not exist:
// same status, same problem, same page. Guessing IDs learns nothing.
func TestOutOfReachLooksMissing(t *testing.T) {
	w := newWorld(t, storagetest.SQLiteDSN(t))
	head := w.users["head_a"]
	clean := func(s string) string {
		s = regexp.MustCompile(`"request_id":"[^"]*"|"instance":"[^"]*"|/children/[0-9]+|[0-9a-f]{24}`).ReplaceAllString(s, "")
		return s
	}
	for _, surface := range []struct {
		name string
		get  func(id int64) response
	}{
		{"api", func(id int64) response {
			return w.api(head, http.MethodGet, "/api/v1/children/"+strconv.FormatInt(id, 10), "")
		}},
		{"web", func(id int64) response { return w.page(head, http.MethodGet, "/children/"+strconv.FormatInt(id, 10)) }},
		{"api patch", func(id int64) response {
			return w.api(head, http.MethodPatch, "/api/v1/children/"+strconv.FormatInt(id, 10), validPatch, "If-Match", `"1"`)
		}},
	} {
		other := surface.get(w.kids["b1"].ID)
		missing := surface.get(w.kids["b3"].ID + 1000)
		if other.Status != http.StatusNotFound || other.Status != missing.Status || clean(other.Body) != clean(missing.Body) {
			t.Errorf("%s: another school's child answers %d %q\nbut a missing one %d %q", surface.name,
				other.Status, clean(other.Body), missing.Status, clean(missing.Body))
		}
	}
}

// TestGrantEndsAccess: a partner body sees a referred child while the
// referral is live, and neither reads nor lists it once it ends.
func TestGrantEndsAccess(t *testing.T) {
	for _, e := range storagetest.Engines() {
		t.Run(string(e.Name), func(t *testing.T) {
			w := newWorld(t, e.DSN(t))
			ctx := context.Background()
			police := w.users["police_officer"]
			b1 := strconv.FormatInt(w.kids["b1"].ID, 10)
			if r := w.api(police, http.MethodGet, "/api/v1/children/"+b1, ""); r.Status != http.StatusNotFound {
				t.Fatalf("before the referral: %d", r.Status)
			}
			g := storagetest.GrantChildAccess(t, w.db, w.kids["b1"].ID, w.orgs["POLICE"], 0, "referral")
			for _, r := range []response{w.api(police, http.MethodGet, "/api/v1/children/"+b1, ""), w.api(police, http.MethodGet, "/api/v1/children", ""),
				w.page(police, http.MethodGet, "/children/"+b1), w.page(police, http.MethodGet, "/children")} {
				if r.Status != http.StatusOK || !strings.Contains(r.text(), w.kids["b1"].LastName) {
					t.Errorf("during the referral: %d, want the child shown", r.Status)
				}
			}
			// A grant to one officer personally reaches that officer only.
			storagetest.GrantChildAccess(t, w.db, w.kids["a3"].ID, 0, w.users["hotline_operator"].ID, "assignment")
			if r := w.api(w.users["hotline_operator"], http.MethodGet, "/api/v1/children", ""); !strings.Contains(r.Body, w.kids["a3"].LastName) {
				t.Errorf("the assigned operator does not list the child: %s", r.Body)
			}
			if r := w.api(w.users["hotline_supervisor"], http.MethodGet, "/api/v1/children", ""); strings.Contains(r.Body, w.kids["a3"].LastName) {
				t.Error("the operator's assignment reached their supervisor")
			}
			if err := w.db.EndChildAccess(ctx, audit.System(), g); err != nil {
				t.Fatal(err)
			}
			for _, r := range []response{w.api(police, http.MethodGet, "/api/v1/children/"+b1, ""), w.page(police, http.MethodGet, "/children/"+b1)} {
				if r.Status != http.StatusNotFound || strings.Contains(r.text(), w.kids["b1"].LastName) {
					t.Errorf("after the referral ended: %d, want 404 without the child", r.Status)
				}
			}
			for _, r := range []response{w.api(police, http.MethodGet, "/api/v1/children", ""), w.page(police, http.MethodGet, "/children")} {
				if strings.Contains(r.text(), w.kids["b1"].LastName) {
					t.Error("after the referral ended the child is still listed")
				}
			}
		})
	}
}

// TestBreakGlassHTTP: a supervisor out of reach opens a record only by
// giving a reason; it opens for four hours, reading only; each read is
// marked in the audit with the reason; the opening is listed for review by
// the city and system administrators, and nobody else.
func TestBreakGlassHTTP(t *testing.T) {
	for _, e := range storagetest.Engines() {
		t.Run(string(e.Name), func(t *testing.T) {
			w := newWorld(t, e.DSN(t))
			sup := w.users["police_supervisor"]
			b1 := strconv.FormatInt(w.kids["b1"].ID, 10)
			reason := "Polis çağırışı: uşaq evdən itkin düşüb"
			// No reason, too short a reason: refused, naming the field.
			for _, body := range []string{`{"reason":""}`, `{"reason":"təcili"}`} {
				r := w.api(sup, http.MethodPost, "/api/v1/children/"+b1+"/break-glass", body)
				if r.Status != http.StatusUnprocessableEntity || !strings.Contains(r.Body, `"field":"reason"`) {
					t.Errorf("break-glass with %s: %d %s", body, r.Status, r.Body)
				}
			}
			if r := w.page(sup, http.MethodPost, "/children/"+b1+"/break-glass", "reason", "qısa"); r.Status != http.StatusUnprocessableEntity ||
				!strings.Contains(r.text(), en("breakglass.error.reason", 10, 1000)) || !strings.Contains(r.text(), "qısa") {
				t.Errorf("web break-glass with a short reason: %d; want the form again with the message and what was typed", r.Status)
			}
			if r := w.api(sup, http.MethodGet, "/api/v1/children/"+b1, ""); r.Status != http.StatusNotFound {
				t.Fatalf("a refused break-glass opened the record: %d", r.Status)
			}
			// Roles without break-glass are refused whatever the reason.
			for _, who := range []string{"teacher_a", "head_a", "police_officer", "analyst", "system_admin"} {
				if r := w.api(w.users[who], http.MethodPost, "/api/v1/children/"+b1+"/break-glass", `{"reason":"`+reason+`"}`); r.Status != http.StatusForbidden {
					t.Errorf("%s opens break-glass: %d, want 403", who, r.Status)
				}
			}

			// With a reason, through the web form.
			r := w.page(sup, http.MethodPost, "/children/"+b1+"/break-glass", "reason", reason)
			if r.Status != http.StatusSeeOther || r.Location != "/children/"+b1 {
				t.Fatalf("break-glass: %d to %q", r.Status, r.Location)
			}
			before := w.lastSeq(t)
			r = w.page(sup, http.MethodGet, "/children/"+b1)
			if r.Status != http.StatusOK || !strings.Contains(r.text(), w.kids["b1"].LastName) || !strings.Contains(r.text(), en("breakglass.active")) {
				t.Errorf("the opened record: %d, want the child and the break-glass notice", r.Status)
			}
			r = w.api(sup, http.MethodGet, "/api/v1/children/"+b1, "")
			if r.Status != http.StatusOK || !strings.Contains(r.Body, `"break_glass":true`) {
				t.Errorf("API read through break-glass: %d %s", r.Status, r.Body)
			}
			reads := 0
			for _, e := range w.events(t, before) {
				if e.Action == "child.read" && e.ActorUserID == sup.ID {
					reads++
					if !e.BreakGlass || e.Reason != reason {
						t.Errorf("a break-glass read is not marked: break_glass %v, reason %q", e.BreakGlass, e.Reason)
					}
				}
			}
			if reads != 2 {
				t.Errorf("%d break-glass reads audited, want 2", reads)
			}
			// Reading only: not listed, not writable.
			if r := w.api(sup, http.MethodGet, "/api/v1/children", ""); strings.Contains(r.Body, w.kids["b1"].LastName) {
				t.Error("break-glass put the child in the supervisor's list")
			}
			if r := w.api(sup, http.MethodPatch, "/api/v1/children/"+b1, validPatch, "If-Match", `"1"`); r.Status != http.StatusForbidden {
				t.Errorf("write through break-glass: %d, want 403", r.Status)
			}
			// Listed for review, with the reason, for the administrators only.
			for who, status := range map[string]int{"city_admin": 200, "system_admin": 200, "police_supervisor": 403, "city_specialist": 403, "head_a": 403} {
				r := w.api(w.users[who], http.MethodGet, "/api/v1/break-glass?unreviewed=true", "")
				if r.Status != status {
					t.Errorf("%s lists break-glass openings: %d, want %d", who, r.Status, status)
				}
				if status == 200 && (!strings.Contains(r.Body, reason) || !strings.Contains(r.Body, `"child_id":`+b1)) {
					t.Errorf("%s: the opening is not listed with its reason: %s", who, r.Body)
				}
				p := w.page(w.users[who], http.MethodGet, "/audit/break-glass")
				if p.Status != status {
					t.Errorf("%s opens the review page: %d, want %d", who, p.Status, status)
				}
				if status == 200 && !strings.Contains(p.text(), reason) {
					t.Errorf("%s: the review page does not show the reason", who)
				}
				// The audit trail, in the UI and the API, is theirs alone too.
				if a := w.page(w.users[who], http.MethodGet, "/audit?break_glass=1"); a.Status != status || (status == 200 && !strings.Contains(a.text(), reason)) {
					t.Errorf("%s opens the audit trail: %d, want %d (with the reason)", who, a.Status, status)
				}
				if a := w.api(w.users[who], http.MethodGet, "/api/v1/audit?break_glass=1", ""); a.Status != status {
					t.Errorf("%s reads the audit API: %d, want %d", who, a.Status, status)
				}
			}
			// Four hours later it is closed again.
			w.clock.Add(4*time.Hour + time.Second)
			if r := w.api(sup, http.MethodGet, "/api/v1/children/"+b1, ""); r.Status != http.StatusNotFound || strings.Contains(r.Body, w.kids["b1"].LastName) {
				t.Errorf("four hours later: %d, want 404", r.Status)
			}
			w.verifyAudit(t)
		})
	}
}

// TestEveryChildAccessAudited: each way the API and the UI read or write a
// child's record appends an audit event naming the child, the user, where
// the request came from, and nothing of the child's identity.
func TestEveryChildAccessAudited(t *testing.T) {
	for _, e := range storagetest.Engines() {
		t.Run(string(e.Name), func(t *testing.T) {
			w := newWorld(t, e.DSN(t))
			head := w.users["head_a"]
			a2 := strconv.FormatInt(w.kids["a2"].ID, 10)
			newKid := `{"student_id":"STU-NEW-9","last_name":"Yenizadə","first_name":"Aysu","sex":"f","birth_date":"2016-02-01","school_code":"BAK-06-001","grade":3,"section":"A"}`
			steps := []struct {
				name, action string
				do           func() response
				status       int
			}{
				{"API read", "child.read", func() response { return w.api(head, "GET", "/api/v1/children/"+a2, "") }, 200},
				{"API list", "child.list", func() response { return w.api(head, "GET", "/api/v1/children", "") }, 200},
				{"API create", "child.create", func() response { return w.api(head, "POST", "/api/v1/children", newKid) }, 201},
				{"API update", "child.update", func() response {
					return w.api(head, "PATCH", "/api/v1/children/"+a2, strings.Replace(validPatch, "BAK-07-001", "BAK-06-001", 1), "If-Match", `"1"`)
				}, 200},
				{"API stale update", "", func() response {
					return w.api(head, "PATCH", "/api/v1/children/"+a2, strings.Replace(validPatch, "BAK-07-001", "BAK-06-001", 1), "If-Match", `"1"`)
				}, 409},
				{"web page", "child.read", func() response { return w.page(head, "GET", "/children/"+a2) }, 200},
				{"web list", "child.list", func() response { return w.page(head, "GET", "/children") }, 200},
				{"web edit form", "child.read", func() response { return w.page(head, "GET", "/children/"+a2+"/edit") }, 200},
				{"web save", "child.update", func() response {
					return w.page(head, "POST", "/children/"+a2+"/edit", "version", "2", "student_id", "STU-A2-7302", "last_name", "Bağırzadə",
						"first_name", "Nərmin", "sex", "f", "birth_date", "2014-03-08", "school_code", "BAK-06-001", "grade", "7", "section", "B")
				}, 303},
				{"web create", "child.create", func() response {
					return w.page(head, "POST", "/children/new", "student_id", "STU-NEW-10", "last_name", "Təzəzadə", "first_name", "Aysu",
						"sex", "f", "birth_date", "2016-02-01", "school_code", "BAK-06-001", "grade", "3", "section", "A")
				}, 303},
			}
			for _, s := range steps {
				before := w.lastSeq(t)
				r := s.do()
				if r.Status != s.status {
					t.Errorf("%s: %d, want %d: %.300s", s.name, r.Status, s.status, r.Body)
					continue
				}
				es := w.events(t, before)
				if s.action == "" {
					for _, e := range es {
						if e.Action == "child.update" {
							t.Errorf("%s: a refused update was audited as a change", s.name)
						}
					}
					continue
				}
				ok := false
				for _, e := range es {
					if e.Action == s.action && e.ActorUserID == head.ID && e.ActorOrgID == w.orgs["BAK-06-001"] && e.IP != "" && e.RequestID != "" &&
						(e.Action == "child.list" || e.ChildID != 0) {
						ok = true
					}
					for _, x := range []string{"Yenizadə", "Təzəzadə", "Bağırzadə", "Dəyişdirilmiş", "STU-"} {
						if strings.Contains(e.Details+e.Reason, x) {
							t.Errorf("%s: audit event %s carries %q", s.name, e.Action, x)
						}
					}
				}
				if !ok {
					t.Errorf("%s: no %s event naming the child, the user and the request; got %+v", s.name, s.action, es)
				}
			}
			w.verifyAudit(t)
		})
	}
}
