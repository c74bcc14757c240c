package surface

import (
	"context"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"dayaq/internal/access"
	"dayaq/internal/apperr"
	"dayaq/internal/audit"
	"dayaq/internal/httpx"
	"dayaq/internal/i18n"
	"dayaq/internal/plan"
	"dayaq/internal/planpdf"
	"dayaq/internal/referral"
	"dayaq/internal/storage"
)

// PlanStore is what the plans' routes (API and web) need of storage.
type PlanStore interface {
	CreatePlan(ctx context.Context, a audit.Actor, n storage.NewPlan) (storage.PlanRecord, error)
	Plan(ctx context.Context, a audit.Actor, id int64) (storage.PlanRecord, error)
	ListPlans(ctx context.Context, a audit.Actor, q storage.PlanQuery) ([]storage.PlanSummary, error)
	AddGoal(ctx context.Context, a audit.Actor, id int64, version int, g plan.Goal) (storage.PlanRecord, error)
	SetGoalStatus(ctx context.Context, a audit.Actor, id int64, version int, goalID int64, s plan.GoalStatus) (storage.PlanRecord, error)
	AddActivity(ctx context.Context, a audit.Actor, id int64, version int, n storage.NewActivity) (storage.PlanRecord, error)
	RemoveActivity(ctx context.Context, a audit.Actor, id int64, version int, activityID int64) (storage.PlanRecord, error)
	UpdateGoal(ctx context.Context, a audit.Actor, id int64, version int, g plan.Goal) (storage.PlanRecord, error)
	RemoveGoal(ctx context.Context, a audit.Actor, id int64, version int, goalID int64) (storage.PlanRecord, error)
	SetPlanLead(ctx context.Context, a audit.Actor, id int64, version int, userID int64) (storage.PlanRecord, error)
	PlanLetter(ctx context.Context, a audit.Actor, id, linkID int64, code string) (storage.ParentLetter, error)
	SendPlanReferral(ctx context.Context, a audit.Actor, id int64, version int, activityID int64, u referral.Urgency, message string) (storage.PlanRecord, error)
	AddPlanParent(ctx context.Context, a audit.Actor, id int64, version int, p plan.Parent) (storage.PlanRecord, error)
	RecordAgreement(ctx context.Context, a audit.Actor, id int64, version int, g plan.Agreement) (storage.PlanRecord, error)
	RecordConsent(ctx context.Context, a audit.Actor, id int64, version int, k plan.Consent) (storage.PlanRecord, error)
	ConfirmConsent(ctx context.Context, a audit.Actor, id int64, version int, consentID int64) (storage.PlanRecord, error)
	LogSession(ctx context.Context, a audit.Actor, id int64, version int, s plan.Session) (storage.PlanRecord, error)
	RecordReview(ctx context.Context, a audit.Actor, id int64, version int, rv plan.Review) (storage.PlanRecord, error)
	ApproveReview(ctx context.Context, a audit.Actor, id int64, version int, reviewID int64) (storage.PlanRecord, error)
	ClosePlan(ctx context.Context, a audit.Actor, id int64, version int, cl plan.Closure) (storage.PlanRecord, error)
	ComparePlanVersions(ctx context.Context, a audit.Actor, id int64, v1, v2 int) ([]plan.Change, error)
	CreateParentLink(ctx context.Context, a audit.Actor, id int64, version int, parentID int64, lifetime time.Duration, sms bool) (storage.NewParentLink, error)
	RevokeParentLink(ctx context.Context, a audit.Actor, id int64, version int, linkID int64) (storage.PlanRecord, error)
	ResolveCallRequest(ctx context.Context, a audit.Actor, id int64, version int, callID int64) (storage.PlanRecord, error)
	GoalCatalogue(ctx context.Context, all bool) ([]storage.CatalogueGoal, error)
	SaveCatalogueGoal(ctx context.Context, a audit.Actor, g storage.CatalogueGoal) error
	PlanSettings(ctx context.Context) (storage.PlanSettings, error)
	SavePlanSettings(ctx context.Context, a audit.Actor, s storage.PlanSettings) (storage.PlanSettings, error)
}

// PlanPDF writes plan p as the PDF for signature in l's language: the web
// UI and the API print it the same way. It needs the full view.
func PlanPDF(out io.Writer, l i18n.Localizer, p storage.PlanRecord) error {
	if p.Decision.View != access.PlanFull {
		return apperr.New(apperr.NotFound, "error.not_found")
	}
	d := planpdf.Doc{School: p.SchoolName, Reference: l.T("plans.ref", p.ID, p.ContentVersion),
		Pupil: p.ChildName + ", " + strconv.Itoa(p.Grade) + p.Section, Lead: p.LeadName, Opened: p.OpenedAt, AgreedOn: p.AgreedAt,
		Concerns: p.Concerns, Goals: p.Goals, Parents: p.Parents, Loc: time.FixedZone("Asia/Baku", 4*3600), T: l.T}
	for _, x := range p.Activities {
		pa := planpdf.Activity{Activity: x.Activity, ResponsibleName: x.ResponsibleName}
		if x.Responsible.Kind == plan.PartyBody {
			pa.ResponsibleName = x.ToOrg.Name(string(l.Lang))
		}
		if x.ReferralState != "" {
			pa.State = l.T("referral.state." + string(x.ReferralState))
		}
		d.Activities = append(d.Activities, pa)
	}
	if p.LeadName != "" {
		d.Staff = append(d.Staff, p.LeadName+" — "+l.T("plans.lead"))
	}
	d.Staff = append(d.Staff, l.T("plans.pdf.head"))
	return planpdf.Write(out, d)
}

// PlanLetterPDF writes the printed letter for the parent of pl in l's
// language (the parent's: LetterLang): their page's address under base,
// the site as the parent reaches it (SiteBase), with the short code in it.
func PlanLetterPDF(out io.Writer, l i18n.Localizer, pl storage.ParentLetter, base string, now time.Time) error {
	return planpdf.WriteLetter(out, planpdf.Letter{School: pl.SchoolName, Date: now, Parent: pl.ParentName,
		Address: strings.TrimSuffix(base, "/") + "/p/" + pl.Code, Code: planpdf.GroupCode(pl.Code), Until: pl.ExpiresAt,
		Loc: time.FixedZone("Asia/Baku", 4*3600), T: l.T})
}

// LetterLang is the language of pl's parent, or the default.
func LetterLang(pl storage.ParentLetter) i18n.Lang {
	if l, ok := i18n.Parse(pl.Language); ok {
		return l
	}
	return i18n.Default
}

// SiteBase is the site's public address: public (serve --public-url, the
// address the SMS links use too) when it is set, else as the client reached
// it: the scheme (https behind a proxy that says so) and the host.
func SiteBase(r *http.Request, public string) string {
	if public != "" {
		return strings.TrimSuffix(public, "/")
	}
	scheme := "http"
	if httpx.IsHTTPS(r) {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// ParseDate reads a date as YYYY-MM-DD or DD.MM.YYYY.
func ParseDate(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	for _, layout := range []string{"2006-01-02", "02.01.2006"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}
