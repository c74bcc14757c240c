package surface

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	"mime/multipart"
	"net/http"
	"path/filepath"
	"strings"

	"dayaq/internal/apperr"
	"dayaq/internal/audit"
	"dayaq/internal/blob"
	"dayaq/internal/events"
	"dayaq/internal/storage"
)

// EventFileStore is what storing a topic's or a campaign material's file
// needs of storage.
type EventFileStore interface {
	CanAddEventFile(ctx context.Context, a audit.Actor, owner storage.FileOwner) error
	AddEventFile(ctx context.Context, a audit.Actor, owner storage.FileOwner, m events.Material) (events.Material, error)
	EventFile(ctx context.Context, a audit.Actor, id int64) (events.Material, error)
}

// ReadEventUpload reads the multipart field "file" of at most
// events.MaxMaterialSize bytes, refusing a larger one with a field message
// before anything is stored. The web UI uses it too.
func ReadEventUpload(w http.ResponseWriter, r *http.Request) (*multipart.FileHeader, []byte, error) {
	r.Body = http.MaxBytesReader(w, r.Body, events.MaxMaterialSize+1<<20)
	f, hdr, err := r.FormFile("file")
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, nil, apperr.Validation(apperr.Field("file", "events.error.file_too_big", events.MaxMaterialSize>>20))
		}
		return nil, nil, apperr.Validation(apperr.Field("file", "error.required"))
	}
	defer f.Close()
	data, tooBig, err := blob.ReadAllLimited(f, events.MaxMaterialSize)
	if err != nil {
		return nil, nil, err
	}
	if tooBig {
		return nil, nil, apperr.Validation(apperr.Field("file", "events.error.file_too_big", events.MaxMaterialSize>>20))
	}
	return hdr, data, nil
}

// StoreEventFile checks, seals and records a material's file: a may add to
// owner, the bytes are of an allowed type (sniffed, not as declared) and
// size, then the sealed blob is written and recorded; if recording fails
// the blob is removed. A refused file leaves nothing stored.
func StoreEventFile(ctx context.Context, v *blob.Vault, st EventFileStore, a audit.Actor, owner storage.FileOwner, name string, data []byte) (events.Material, error) {
	if err := st.CanAddEventFile(ctx, a, owner); err != nil {
		return events.Material{}, err
	}
	sniffed := http.DetectContentType(data)
	if mt, _, err := mime.ParseMediaType(sniffed); err == nil {
		sniffed = mt
	}
	if err := events.CheckFile(int64(len(data)), sniffed); err != nil {
		return events.Material{}, err
	}
	if v == nil {
		return events.Material{}, apperr.New(apperr.Unavailable, "case.error.attachments_off")
	}
	name = strings.TrimSpace(filepath.Base(strings.ReplaceAll(name, `\`, "/")))
	if name == "" || name == "." || name == "/" {
		name = "material"
	}
	if len([]rune(name)) > 200 {
		name = string([]rune(name)[:200])
	}
	sum := sha256.Sum256(data)
	m := events.Material{Name: name, ContentType: sniffed, Size: int64(len(data)), SHA256: hex.EncodeToString(sum[:]), BlobKey: blob.NewBlobKey()}
	if err := v.Put(ctx, m.BlobKey, data); err != nil {
		return events.Material{}, fmt.Errorf("store material: %w", err)
	}
	saved, err := st.AddEventFile(ctx, a, owner, m)
	if err != nil {
		_ = v.Delete(context.WithoutCancel(ctx), m.BlobKey)
		return events.Material{}, err
	}
	return saved, nil
}

// LoadEventFile returns a material's record and its decrypted bytes (the
// download is audited); a blob that fails to open is an internal error.
func LoadEventFile(ctx context.Context, v *blob.Vault, st EventFileStore, a audit.Actor, id int64) (storage.Attachment, []byte, error) {
	if v == nil {
		return storage.Attachment{}, nil, apperr.New(apperr.Unavailable, "case.error.attachments_off")
	}
	m, err := st.EventFile(ctx, a, id)
	if err != nil {
		return storage.Attachment{}, nil, err
	}
	data, err := v.Get(ctx, m.BlobKey)
	if err != nil {
		return storage.Attachment{}, nil, &apperr.Error{Code: apperr.Internal, Key: "case.error.attachment_damaged", Err: err}
	}
	if sum := sha256.Sum256(data); hex.EncodeToString(sum[:]) != m.SHA256 {
		return storage.Attachment{}, nil, &apperr.Error{Code: apperr.Internal, Key: "case.error.attachment_damaged", Err: blob.ErrTampered}
	}
	return storage.Attachment{ID: m.ID, Name: m.Name, ContentType: m.ContentType, Size: m.Size}, data, nil
}
