package storage_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"dayaq/internal/apperr"
	"dayaq/internal/events"
	"dayaq/internal/storage"
	"dayaq/internal/storage/storagetest"
)

func TestParentEvents(t *testing.T) {
	for _, e := range storagetest.Engines() {
		t.Run(string(e.Name), func(t *testing.T) {
			ctx := context.Background()
			f := newMatrixFixture(t, e.DSN(t))
			db, u := f.db, f.users
			head, city, public := u["school_head"], u["city_specialist"], u["public_council"]

			topics, err := db.EventTopics(ctx, head, false)
			if err != nil || len(topics) < 10 {
				t.Fatalf("the seeded catalogue: %d topics, %v", len(topics), err)
			}
			if topics[0].TitleRU == "" || topics[0].TitleEN == "" || topics[0].Title("ru") != topics[0].TitleRU {
				t.Errorf("a seeded topic lacks a language: %+v", topics[0])
			}
			if _, err := db.CreateEventTopic(ctx, head, events.Topic{Code: "school.own", TitleAZ: "a", TitleRU: "b", TitleEN: "c"}); apperr.CodeOf(err) != apperr.Forbidden {
				t.Fatalf("a school edits the catalogue: %v", err)
			}
			nt, err := db.CreateEventTopic(ctx, city, events.Topic{Code: "gambling", TitleAZ: "Qumar", TitleRU: "Азартные игры", TitleEN: "Gambling"})
			if err != nil {
				t.Fatal(err)
			}
			nt.Active = false
			if _, err := db.UpdateEventTopic(ctx, city, nt); err != nil {
				t.Fatal(err)
			}
			if _, err := db.UpdateEventTopic(ctx, city, nt); apperr.CodeOf(err) != apperr.Conflict {
				t.Fatalf("a stale topic update: %v", err)
			}

			starts := f.clock.t.Add(-24 * time.Hour)
			plan := events.Event{TopicIDs: []int64{topics[6].ID, topics[5].ID}, StartsAt: starts, Place: "Akt zalı",
				Classes: []string{"5A", "7"}, SpeakerKind: events.Invited, SpeakerBody: "police", SpeakerName: "Polis nümayəndəsi"}
			leaflet, err := db.AddEventFile(ctx, city, storage.FileOwner{TopicID: topics[6].ID}, events.Material{Name: "bullinq.pdf",
				ContentType: "application/pdf", Size: 10, SHA256: "00", BlobKey: "abcd0002"})
			if err != nil {
				t.Fatal(err)
			}
			unknownFile := plan
			unknownFile.FileIDs = []int64{leaflet.ID + 100}
			if _, err := db.CreateParentEvent(ctx, head, unknownFile); apperr.CodeOf(err) != apperr.Invalid {
				t.Fatalf("a material that does not exist: %v", err)
			}
			plan.FileIDs = []int64{leaflet.ID}
			if _, err := db.CreateParentEvent(ctx, head, events.Event{StartsAt: starts}); apperr.CodeOf(err) != apperr.Invalid {
				t.Fatalf("an empty plan: %v", err)
			}
			withInactive := plan
			withInactive.TopicIDs = []int64{nt.ID}
			if _, err := db.CreateParentEvent(ctx, head, withInactive); apperr.CodeOf(err) != apperr.Invalid {
				t.Fatalf("a topic no longer offered: %v", err)
			}
			ev, err := db.CreateParentEvent(ctx, head, plan)
			if err != nil {
				t.Fatal(err)
			}
			if ev.SchoolID != head.OrgID || len(ev.FeedbackCode) != 10 || ev.Status != events.Planned {
				t.Fatalf("created %+v", ev)
			}
			// A district plans for its own schools only; the Public Council plans nothing.
			school := func(code string) int64 {
				o, err := db.OrgByCode(ctx, code)
				if err != nil {
					t.Fatal(err)
				}
				return o.ID
			}
			inDistrict, elsewhere := plan, plan
			inDistrict.SchoolID, elsewhere.SchoolID = school("BAK-06-002"), school("BAK-07-001")
			if _, err := db.CreateParentEvent(ctx, u["district_specialist"], elsewhere); apperr.CodeOf(err) != apperr.Forbidden {
				t.Fatalf("a district plans for another district's school: %v", err)
			}
			if _, err := db.CreateParentEvent(ctx, public, inDistrict); apperr.CodeOf(err) != apperr.Forbidden {
				t.Fatalf("the Public Council plans an event: %v", err)
			}
			if _, err := db.CreateParentEvent(ctx, u["teacher"], plan); apperr.CodeOf(err) != apperr.Forbidden {
				t.Fatalf("a teacher plans an event: %v", err)
			}
			// Who sees it: the school, its district, the city; not another district's school, not the Public Council.
			for who, want := range map[string]int{"school_head": 1, "teacher": 1, "district_specialist": 1, "city_specialist": 1,
				"public_council": 0, "police_officer": 0, "hotline_operator": 0} {
				es, err := db.ParentEvents(ctx, u[who], storage.EventQuery{})
				if err != nil || len(es) != want {
					t.Errorf("%s lists %d events (%v), want %d", who, len(es), err, want)
				}
			}
			if _, err := db.ParentEvent(ctx, public, ev.ID); apperr.CodeOf(err) != apperr.NotFound {
				t.Errorf("the Public Council opens an event: %v", err)
			}

			// After the event: the head count and the parents of two pupils; a pupil of another school is refused.
			own, other := f.children["ownClass"], f.children["otherSchool"]
			at := storage.Attendance{EventID: ev.ID, Version: ev.Version, HeadCount: 23, Notes: "Fəal müzakirə", ChildIDs: []int64{own, other}}
			if _, err := db.RecordAttendance(ctx, head, at); apperr.CodeOf(err) != apperr.Invalid {
				t.Fatalf("a pupil of another school: %v", err)
			}
			at.ChildIDs = []int64{own}
			held, err := db.RecordAttendance(ctx, head, at)
			if err != nil {
				t.Fatal(err)
			}
			if held.Status != events.Held || held.HeadCount != 23 || held.Attended != 1 {
				t.Fatalf("after attendance: %+v", held)
			}
			if _, err := db.RecordAttendance(ctx, head, at); apperr.CodeOf(err) != apperr.Conflict {
				t.Fatalf("a stale attendance: %v", err)
			}
			got, err := db.ParentEventAttendance(ctx, head, own)
			if err != nil || len(got) != 1 || got[0].EventID != ev.ID || len(got[0].Topics) != 2 {
				t.Fatalf("the pupil's attendance: %+v %v", got, err)
			}
			if _, err := db.ParentEventAttendance(ctx, u["police_officer"], own); apperr.CodeOf(err) != apperr.NotFound {
				t.Fatalf("the police read a pupil's attendance: %v", err)
			}
			if got, err := db.ParentEventAttendance(ctx, u["teacher"], f.children["ownSchool"]); apperr.CodeOf(err) != apperr.NotFound {
				t.Fatalf("a teacher reads a pupil outside their class: %+v %v", got, err)
			}
			rec, err := db.ParentEvent(ctx, head, ev.ID)
			if err != nil || len(rec.Attendees) != 1 || rec.Attendees[0].ChildID != own || !rec.CanWrite ||
				len(rec.Files) != 1 || rec.Files[0].Name != "bullinq.pdf" {
				t.Fatalf("the event's record: %+v %v", rec, err)
			}
			ae, err := db.AuditEvents(ctx, storage.AuditFilter{ChildID: own})
			if err != nil {
				t.Fatal(err)
			}
			actions := map[string]bool{}
			for _, e := range ae {
				actions[e.Action] = true
			}
			if !actions["events.attendance_record"] || !actions["events.attendance_read"] {
				t.Errorf("the child's audit trail lacks the attendance: %v", actions)
			}

			// Anonymous feedback through the link's code.
			if err := db.AddFeedback(ctx, ev.FeedbackCode, events.Feedback{Usefulness: 9}); apperr.CodeOf(err) != apperr.Invalid {
				t.Fatalf("a rating of 9: %v", err)
			}
			if err := db.AddFeedback(ctx, "nosuchcode", events.Feedback{Usefulness: 4}); apperr.CodeOf(err) != apperr.NotFound {
				t.Fatalf("an unknown code: %v", err)
			}
			for _, n := range []int{5, 4} {
				if err := db.AddFeedback(ctx, ev.FeedbackCode, events.Feedback{Usefulness: n, Comment: "Faydalı idi", Lang: "ru"}); err != nil {
					t.Fatal(err)
				}
			}
			fb, err := db.EventFeedback(ctx, head, ev.ID)
			if err != nil || fb.Responses != 2 || fb.AvgUsefulness != 4.5 || fb.Counts[5] != 1 {
				t.Fatalf("feedback summary %+v %v", fb, err)
			}

			// The city's view: the school held two topics; the other schools held none.
			from, to := events.SchoolYear(f.clock.t)
			for who, wantSchools := range map[string]int{"city_specialist": 3, "public_council": 3, "district_specialist": 2} {
				ov, err := db.EventOverview(ctx, u[who], from, to)
				if err != nil {
					t.Fatalf("%s: %v", who, err)
				}
				if len(ov.Rows) != 2 || ov.Parents != 23 || ov.Responses != 2 || ov.SchoolsTotal != wantSchools ||
					len(ov.SchoolsWithout) != wantSchools-1 || len(ov.TopicsWithout) != len(topics)-2 {
					t.Errorf("%s's overview: rows %d parents %d responses %d schools %d without %d topics without %d",
						who, len(ov.Rows), ov.Parents, ov.Responses, ov.SchoolsTotal, len(ov.SchoolsWithout), len(ov.TopicsWithout))
				}
			}
			if _, err := db.EventOverview(ctx, head, from, to); apperr.CodeOf(err) != apperr.NotFound {
				t.Errorf("a school reads the city's view: %v", err)
			}
		})
	}
}

func TestCampaign(t *testing.T) {
	for _, e := range storagetest.Engines() {
		t.Run(string(e.Name), func(t *testing.T) {
			ctx := context.Background()
			f := newMatrixFixture(t, e.DSN(t))
			db, u := f.db, f.users
			head, city, public := u["school_head"], u["city_specialist"], u["public_council"]

			video := events.CampaignMaterial{Kind: "video", Title: "Mənimlə danış — 1-ci çarx", Languages: []string{"az", "ru"},
				Edition: "v1", Audience: "parents", ExternalURL: "https://video.example.az/meni-dinle"}
			if _, err := db.CreateCampaignMaterial(ctx, head, video); apperr.CodeOf(err) != apperr.Forbidden {
				t.Fatalf("a school adds to the library: %v", err)
			}
			bad := video
			bad.ExternalURL, bad.Languages = "javascript:alert(1)", []string{"fr"}
			if _, err := db.CreateCampaignMaterial(ctx, city, bad); len(apperr.As(err).Fields) != 2 {
				t.Fatalf("a bad link and language: %v", err)
			}
			m, err := db.CreateCampaignMaterial(ctx, city, video)
			if err != nil {
				t.Fatal(err)
			}
			m.Edition = "v2"
			if m, err = db.UpdateCampaignMaterial(ctx, city, m); err != nil || m.Version != 2 {
				t.Fatalf("update: %v", err)
			}
			file := events.Material{Name: "poster.exe", ContentType: "application/x-msdownload", Size: 1000, SHA256: "00", BlobKey: "abcd0001"}
			if _, err := db.AddEventFile(ctx, city, storage.FileOwner{CampaignID: m.ID}, file); apperr.CodeOf(err) != apperr.Invalid {
				t.Fatalf("a program as a material: %v", err)
			}
			file.Name, file.ContentType = "poster.pdf", "application/pdf"
			if _, err := db.AddEventFile(ctx, city, storage.FileOwner{CampaignID: m.ID}, file); err != nil {
				t.Fatal(err)
			}
			if got, err := db.CampaignMaterial(ctx, head, m.ID); err != nil || got.File == nil || got.File.Name != "poster.pdf" {
				t.Fatalf("the material with its file: %+v %v", got, err)
			}

			shown := f.clock.t.Add(-48 * time.Hour)
			s, err := db.CreateShowing(ctx, head, events.Showing{SchoolID: 999999, MaterialID: m.ID, ShownAt: shown, Classes: []string{"5A"},
				Pupils: 28, Parents: 6, ShownBy: "Psixoloq"})
			if err != nil || s.SchoolID != head.OrgID {
				t.Fatalf("a showing: %+v %v", s, err)
			}
			if _, err := db.CreateShowing(ctx, head, events.Showing{MaterialID: m.ID, ShownAt: shown, ShownBy: "x"}); apperr.CodeOf(err) != apperr.Invalid {
				t.Fatalf("a showing to nobody: %v", err)
			}
			s.Pupils = 30
			if _, err := db.UpdateShowing(ctx, u["school_psychologist"], s); err != nil {
				t.Fatal(err)
			}
			if _, err := db.UpdateShowing(ctx, head, s); apperr.CodeOf(err) != apperr.Conflict {
				t.Fatalf("a stale showing: %v", err)
			}
			if ss, err := db.Showings(ctx, u["district_specialist"], storage.ShowingQuery{}); err != nil || len(ss) != 1 || ss[0].Pupils != 30 {
				t.Fatalf("the district's showings: %+v %v", ss, err)
			}
			if ss, _ := db.Showings(ctx, public, storage.ShowingQuery{}); len(ss) != 0 {
				t.Errorf("the Public Council lists showings: %d", len(ss))
			}

			if _, err := db.AddFigure(ctx, city, events.Figure{Metric: "video_views", Value: 1200, PeriodStart: shown, PeriodEnd: shown}); apperr.CodeOf(err) != apperr.Invalid {
				t.Fatalf("a figure without its source: %v", err)
			}
			if _, err := db.AddFigure(ctx, city, events.Figure{MaterialID: m.ID, Metric: "video_views", Value: 1200, PeriodStart: shown,
				PeriodEnd: shown, Source: "YouTube Studio", AsOf: f.clock.t}); err != nil {
				t.Fatal(err)
			}
			from := time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)
			to := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
			if figs, err := db.Figures(ctx, public, from, to); err != nil || len(figs) != 1 || figs[0].Source != "YouTube Studio" {
				t.Fatalf("figures: %+v %v", figs, err)
			}
			r, err := db.CampaignReach(ctx, public, from, to, "BAK-06")
			if err != nil {
				t.Fatal(err)
			}
			if len(r.Rows) != 4 || r.Rows[2].Showings != 1 || r.Rows[2].Reached() != 36 || len(r.Schools) != 1 {
				t.Fatalf("reach %+v", r)
			}
			if r, err := db.CampaignReach(ctx, u["district_specialist"], from, to, "BAK-07"); err != nil || r.District != "BAK-06" {
				t.Fatalf("a district asks for another: %+v %v", r.District, err)
			}
			if _, err := db.CampaignReach(ctx, head, from, to, ""); apperr.CodeOf(err) != apperr.NotFound {
				t.Fatalf("a school reads the reach: %v", err)
			}
		})
	}
}

// Once attendance is recorded an event takes at most twice the head count
// of responses (those before count too); the next is a Conflict and is not
// stored. Before attendance there is no cap.
func TestFeedbackCappedByHeadCount(t *testing.T) {
	for _, e := range storagetest.Engines() {
		t.Run(string(e.Name), func(t *testing.T) {
			ctx := context.Background()
			f := newMatrixFixture(t, e.DSN(t))
			db, head := f.db, f.users["school_head"]
			topics, err := db.EventTopics(ctx, head, false)
			if err != nil || len(topics) == 0 {
				t.Fatalf("topics: %v", err)
			}
			ev, err := db.CreateParentEvent(ctx, head, events.Event{TopicIDs: []int64{topics[0].ID}, StartsAt: f.clock.t.Add(-time.Hour),
				Place: "Akt zalı", WholeSchool: true, SpeakerKind: events.Psychologist})
			if err != nil {
				t.Fatal(err)
			}
			answer := func() error { return db.AddFeedback(ctx, ev.FeedbackCode, events.Feedback{Usefulness: 4, Lang: "az"}) }
			for range 5 { // no head count yet: no cap
				if err := answer(); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := db.RecordAttendance(ctx, head, storage.Attendance{EventID: ev.ID, Version: ev.Version, HeadCount: 3}); err != nil {
				t.Fatal(err)
			}
			if err := answer(); err != nil { // the sixth of 2×3
				t.Fatalf("the sixth response: %v", err)
			}
			err = answer()
			if e := apperr.As(err); e.Code != apperr.Conflict || e.Key != "events.error.feedback_full" {
				t.Fatalf("the seventh response: %v, want Conflict events.error.feedback_full", err)
			}
			if fb, err := db.EventFeedback(ctx, head, ev.ID); err != nil || fb.Responses != events.FeedbackCap(3) {
				t.Fatalf("stored %d responses (%v), want %d", fb.Responses, err, events.FeedbackCap(3))
			}
		})
	}
}

// A figures file imports all its lines in one go; a line naming a district
// or material that does not exist refuses the whole file, naming the line,
// and nothing is stored. Only the city imports.
func TestImportFigures(t *testing.T) {
	for _, e := range storagetest.Engines() {
		t.Run(string(e.Name), func(t *testing.T) {
			ctx := context.Background()
			f := newMatrixFixture(t, e.DSN(t))
			db, city := f.db, f.users["city_specialist"]
			rows, err := events.ParseFiguresCSV([]byte("metric,value,period_start,period_end,source,as_of,district,material_id\n" +
				"video_views,18400,2026-10-01,2026-10-31,YouTube Studio,2026-11-02,,\n" +
				"social_reach,5200,2026-11-01,2026-11-30,Instagram,2026-12-01,BAK-06,\n" +
				"leaflets_given,300,2026-11-01,2026-11-30,Paylanma jurnalı,2026-12-01,BAK-99,\n"))
			if err != nil {
				t.Fatal(err)
			}
			from, to := time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC), time.Date(2027, 9, 1, 0, 0, 0, 0, time.UTC)
			_, err = db.AddFigures(ctx, city, rows)
			if fs := apperr.As(err).Fields; apperr.CodeOf(err) != apperr.Invalid || len(fs) != 1 || fmt.Sprint(fs[0]) != fmt.Sprint(events.LineError(4, "district")) {
				t.Fatalf("a line with an unknown district: %v %+v", err, fs)
			}
			if fs, err := db.Figures(ctx, city, from, to); err != nil || len(fs) != 0 {
				t.Fatalf("a refused file stored %d figures (%v)", len(fs), err)
			}
			if _, err := db.AddFigures(ctx, f.users["school_head"], rows[:2]); apperr.CodeOf(err) != apperr.Forbidden {
				t.Fatalf("a school imports figures: %v", err)
			}
			got, err := db.AddFigures(ctx, city, rows[:2])
			if err != nil || len(got) != 2 || got[0].ID == 0 {
				t.Fatalf("importing two lines: %+v %v", got, err)
			}
			fs, err := db.Figures(ctx, city, from, to)
			if err != nil || len(fs) != 2 {
				t.Fatalf("%d figures stored (%v), want 2", len(fs), err)
			}
			for _, x := range fs {
				if x.Source == "" || x.AsOf.IsZero() {
					t.Errorf("a figure without its source or date: %+v", x)
				}
			}
		})
	}
}

// TestEventsAndShowingsPage: the events (earliest first) and the showings
// (latest first) come a page at a time, each once and in order across the
// pages, two of them sharing a time; a bad cursor names the field.
func TestEventsAndShowingsPage(t *testing.T) {
	for _, e := range storagetest.Engines() {
		t.Run(string(e.Name), func(t *testing.T) {
			ctx := context.Background()
			f := newMatrixFixture(t, e.DSN(t))
			db, head, city := f.db, f.users["school_head"], f.users["city_specialist"]
			topics, err := db.EventTopics(ctx, head, false)
			if err != nil || len(topics) == 0 {
				t.Fatalf("topics: %v", err)
			}
			m, err := db.CreateCampaignMaterial(ctx, city, events.CampaignMaterial{Kind: "video", Title: "Mənimlə danış", Languages: []string{"az"},
				Edition: "v1", Audience: "parents", ExternalURL: "https://video.example.az/1"})
			if err != nil {
				t.Fatal(err)
			}
			var wantEvents, wantShowings []int64
			for i, h := range []int{1, 3, 3, 5, 7} { // two at the same hour
				at := f.clock.t.Add(time.Duration(h) * time.Hour).Truncate(time.Second)
				ev, err := db.CreateParentEvent(ctx, head, events.Event{TopicIDs: []int64{topics[0].ID}, StartsAt: at,
					Place: "Akt zalı", WholeSchool: true, SpeakerKind: events.Psychologist})
				if err != nil {
					t.Fatal(err)
				}
				wantEvents = append(wantEvents, ev.ID)
				s, err := db.CreateShowing(ctx, head, events.Showing{MaterialID: m.ID, ShownAt: at.Add(-24 * time.Hour), Classes: []string{"5A"},
					Pupils: 20 + i, ShownBy: "Psixoloq"})
				if err != nil {
					t.Fatal(err)
				}
				wantShowings = append([]int64{s.ID}, wantShowings...)
			}
			var gotEvents, gotShowings []int64
			for after, pages := "", 0; pages < 10; pages++ {
				es, err := db.ParentEvents(ctx, head, storage.EventQuery{Limit: 2, After: after})
				if err != nil {
					t.Fatal(err)
				}
				for _, e := range es {
					gotEvents = append(gotEvents, e.ID)
				}
				if len(es) < 2 {
					break
				}
				after = storage.TimeCursor(es[len(es)-1].StartsAt, es[len(es)-1].ID)
			}
			for after, pages := "", 0; pages < 10; pages++ {
				ss, err := db.Showings(ctx, head, storage.ShowingQuery{Limit: 2, After: after})
				if err != nil {
					t.Fatal(err)
				}
				for _, s := range ss {
					gotShowings = append(gotShowings, s.ID)
				}
				if len(ss) < 2 {
					break
				}
				after = storage.TimeCursor(ss[len(ss)-1].ShownAt, ss[len(ss)-1].ID)
			}
			if !slices.Equal(gotEvents, wantEvents) || !slices.Equal(gotShowings, wantShowings) {
				t.Errorf("paged: events %v (want %v), showings %v (want %v)", gotEvents, wantEvents, gotShowings, wantShowings)
			}
			if _, err := db.ParentEvents(ctx, head, storage.EventQuery{After: "yesterday"}); !hasField(err, "after") {
				t.Errorf("a bad cursor: %v", err)
			}
			if _, err := db.Showings(ctx, head, storage.ShowingQuery{After: "1_x"}); !hasField(err, "after") {
				t.Errorf("a bad cursor: %v", err)
			}
		})
	}
}

func hasField(err error, name string) bool {
	for _, f := range apperr.As(err).Fields {
		if f.Field == name {
			return true
		}
	}
	return false
}
