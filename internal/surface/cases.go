// Package surface holds what the two HTTP surfaces — the web UI
// (internal/web) and the JSON API (internal/api) — share beyond httpx:
// reading query strings and times, the attachment service, and the store
// interfaces both need. Neither surface imports the other; both import
// this.
package surface

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"dayaq/internal/apperr"
	"dayaq/internal/audit"
	"dayaq/internal/blob"
	"dayaq/internal/calendar"
	"dayaq/internal/casework"
	"dayaq/internal/storage"
)

// CaseStore is what the case routes need of storage.
type CaseStore interface {
	Idempotent(ctx context.Context, a audit.Actor, key, fingerprint string, fn func(ctx context.Context, tx storage.Tx) (storage.Response, error)) (storage.Response, error)
	CaseFor(ctx context.Context, a audit.Actor, id int64) (storage.CaseDetail, error)
	ListCases(ctx context.Context, a audit.Actor, q storage.CaseQuery) (storage.CasePage, error)
	UpdateCase(ctx context.Context, a audit.Actor, id int64, version int, e casework.Edit) (storage.CaseRecord, error)
	TransitionCase(ctx context.Context, a audit.Actor, id int64, version int, m casework.Move) (storage.CaseRecord, error)
	AddCaseNote(ctx context.Context, a audit.Actor, caseID int64, body string) (storage.CaseNote, error)
	AddCaseTask(ctx context.Context, a audit.Actor, caseID int64, nt storage.NewTask) (storage.CaseTask, error)
	SetCaseTaskStatus(ctx context.Context, a audit.Actor, caseID, taskID int64, version int, status string) (storage.CaseTask, error)
	CanWriteCase(ctx context.Context, a audit.Actor, id int64) error
	AddCaseAttachment(ctx context.Context, a audit.Actor, at storage.Attachment) (storage.Attachment, error)
	CaseAttachmentFor(ctx context.Context, a audit.Actor, caseID, attID int64) (storage.Attachment, error)
}

// MaxAttachment is the largest file a case takes.
const MaxAttachment = 20 << 20

// ParseTime reads an instant as RFC 3339, or a date (midnight UTC), or a
// local date-time as an HTML form sends it ("2026-11-25T14:30", UTC).
func ParseTime(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	for _, layout := range []string{time.RFC3339, "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

// CaseQueryFrom reads the list filters from a query string: status (a
// comma-separated list, or "open"), severity, type, district, school (a
// code), owner (a user ID or "me"), lead (an organisation code),
// overdue=true, after, limit. Organisation codes are resolved by orgID.
func CaseQueryFrom(v url.Values, me int64, orgID func(code string) (int64, bool)) (storage.CaseQuery, []apperr.FieldError) {
	var q storage.CaseQuery
	var fs []apperr.FieldError
	for s := range strings.SplitSeq(v.Get("status"), ",") {
		s = strings.TrimSpace(s)
		switch {
		case s == "":
		case s == "open":
			q.OpenOnly = true
		case casework.Status(s).Valid():
			q.Statuses = append(q.Statuses, casework.Status(s))
		default:
			fs = append(fs, apperr.Field("status", "case.error.status"))
		}
	}
	if s := strings.TrimSpace(v.Get("severity")); s != "" {
		if q.Severity = casework.Severity(s); !q.Severity.Valid() {
			fs = append(fs, apperr.Field("severity", "case.error.severity"))
		}
	}
	if s := strings.ToLower(strings.TrimSpace(v.Get("type"))); s != "" {
		if !casework.ValidType(s) {
			fs = append(fs, apperr.Field("type", "case.error.type"))
		}
		q.Type = s
	}
	q.District = strings.ToUpper(strings.TrimSpace(v.Get("district")))
	if s := strings.TrimSpace(v.Get("school")); s != "" {
		id, ok := orgID(s)
		if !ok {
			fs = append(fs, apperr.Field("school", "case.error.school_unknown"))
		}
		q.SchoolID = id
	}
	if s := strings.TrimSpace(v.Get("lead")); s != "" {
		id, ok := orgID(s)
		if !ok {
			fs = append(fs, apperr.Field("lead", "case.error.org_unknown"))
		}
		q.LeadOrgID = id
	}
	switch s := strings.TrimSpace(v.Get("owner")); s {
	case "":
	case "me":
		q.OwnerID = me
	default:
		id, err := strconv.ParseInt(s, 10, 64)
		if err != nil || id <= 0 {
			fs = append(fs, apperr.Field("owner", "error.number"))
		}
		q.OwnerID = id
	}
	switch v.Get("overdue") {
	case "", "false":
	case "true", "1":
		q.Overdue = true
	default:
		fs = append(fs, apperr.Field("overdue", "case.error.boolean"))
	}
	for _, k := range []string{"from", "to"} { // the dashboards' period (issue 15)
		s := strings.TrimSpace(v.Get(k))
		if s == "" {
			continue
		}
		d, err := time.ParseInLocation(time.DateOnly, s, calendar.Baku())
		if err != nil {
			fs = append(fs, apperr.Field(k, "stats.error.date"))
			continue
		}
		if k == "from" {
			q.From = d.UTC()
		} else {
			q.To = d.AddDate(0, 0, 1).UTC() // the whole last day
		}
	}
	if s := v.Get("after"); s != "" {
		if _, _, _, ok := storage.ParseCaseCursor(s); !ok {
			fs = append(fs, apperr.Field("after", "error.cursor"))
		}
		q.After = s
	}
	return q, fs
}

// StoreAttachment encrypts and stores an uploaded file for case caseID and
// records it: the check that a may add to the case comes first, the
// metadata (and its audit event) last, once the bytes are on disk (Put
// syncs them). If recording is refused, the stored blob is removed; if it
// failed in a way that leaves the commit's outcome unknown (the database
// went away mid-commit), the blob is kept, and the orphan sweep removes it
// later if no row points at it (ADR 0028). The web UI and the API both use it.
func StoreAttachment(ctx context.Context, v *blob.Vault, st CaseStore, a audit.Actor, caseID int64, name, contentType string, data []byte) (storage.Attachment, error) {
	if v == nil {
		return storage.Attachment{}, apperr.New(apperr.Unavailable, "case.error.attachments_off")
	}
	if err := st.CanWriteCase(ctx, a, caseID); err != nil {
		return storage.Attachment{}, err
	}
	name = strings.TrimSpace(filepath.Base(strings.ReplaceAll(name, `\`, "/")))
	if name == "" || name == "." || name == "/" {
		return storage.Attachment{}, apperr.Validation(apperr.Field("file", "error.required"))
	}
	if len([]rune(name)) > 200 {
		name = string([]rune(name)[:200])
	}
	if mt, _, err := mime.ParseMediaType(contentType); err == nil {
		contentType = mt
	} else {
		contentType = "application/octet-stream"
	}
	sum := sha256.Sum256(data)
	at := storage.Attachment{CaseID: caseID, Name: name, ContentType: contentType, Size: int64(len(data)),
		SHA256: hex.EncodeToString(sum[:]), BlobKey: blob.NewBlobKey()}
	if err := v.Put(ctx, at.BlobKey, data); err != nil {
		return storage.Attachment{}, fmt.Errorf("store attachment: %w", err)
	}
	saved, err := st.AddCaseAttachment(ctx, a, at)
	if err != nil {
		if refused(err) {
			_ = v.Delete(context.WithoutCancel(ctx), at.BlobKey)
		}
		return storage.Attachment{}, err
	}
	return saved, nil
}

// refused reports whether err is a refusal made before anything was
// committed (bad input, no access, a conflict): then nothing points at a
// blob stored for the request.
func refused(err error) bool {
	switch apperr.CodeOf(err) {
	case apperr.Invalid, apperr.NotFound, apperr.Conflict, apperr.Forbidden, apperr.Unauthorized, apperr.PreconditionRequired:
		return true
	}
	return false
}

// LoadAttachment returns an attachment's metadata and decrypted bytes, if a
// may read the case (the download is audited). A blob that fails to
// decrypt is an internal error: it was tampered with.
func LoadAttachment(ctx context.Context, v *blob.Vault, st CaseStore, a audit.Actor, caseID, attID int64) (storage.Attachment, []byte, error) {
	if v == nil {
		return storage.Attachment{}, nil, apperr.New(apperr.Unavailable, "case.error.attachments_off")
	}
	at, err := st.CaseAttachmentFor(ctx, a, caseID, attID)
	if err != nil {
		return at, nil, err
	}
	data, err := v.Get(ctx, at.BlobKey)
	if errors.Is(err, blob.ErrNotFound) {
		return at, nil, &apperr.Error{Code: apperr.Internal, Key: "case.error.attachment_lost", Err: err}
	}
	if err != nil {
		return at, nil, &apperr.Error{Code: apperr.Internal, Key: "case.error.attachment_damaged", Err: err}
	}
	if sum := sha256.Sum256(data); hex.EncodeToString(sum[:]) != at.SHA256 {
		return at, nil, &apperr.Error{Code: apperr.Internal, Key: "case.error.attachment_damaged", Err: blob.ErrTampered}
	}
	return at, data, nil
}

// ServeAttachment writes a file as a download, never rendered inline.
func ServeAttachment(w http.ResponseWriter, at storage.Attachment, data []byte) error {
	h := w.Header()
	h.Set("Content-Type", at.ContentType)
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": at.Name}))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "private, no-store")
	h.Set("Content-Length", strconv.Itoa(len(data)))
	_, err := w.Write(data)
	return err
}

// ReadAttachmentUpload reads the "file" field of a multipart upload of at
// most MaxAttachment bytes, naming the field when it is missing or too big.
func ReadAttachmentUpload(w http.ResponseWriter, r *http.Request) (name, contentType string, data []byte, err error) {
	r.Body = http.MaxBytesReader(w, r.Body, MaxAttachment+1<<20)
	f, hdr, err := r.FormFile("file")
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return "", "", nil, apperr.Validation(apperr.Field("file", "case.error.file_too_big", MaxAttachment>>20))
		}
		return "", "", nil, apperr.Validation(apperr.Field("file", "error.required"))
	}
	defer f.Close()
	data, tooBig, err := blob.ReadAllLimited(f, MaxAttachment)
	if err != nil {
		return "", "", nil, err
	}
	if tooBig {
		return "", "", nil, apperr.Validation(apperr.Field("file", "case.error.file_too_big", MaxAttachment>>20))
	}
	return hdr.Filename, hdr.Header.Get("Content-Type"), data, nil
}
