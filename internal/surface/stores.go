package surface

import (
	"context"

	"dayaq/internal/audit"
	"dayaq/internal/calendar"
	"dayaq/internal/hotline"
	"dayaq/internal/storage"
	"dayaq/internal/taxonomy"
)

// NotifyStore is what the notification, preference and calendar routes
// and pages need of storage.
type NotifyStore interface {
	Notifications(ctx context.Context, a audit.Actor, f storage.NotificationFilter) ([]storage.Notification, error)
	UnreadCount(ctx context.Context, userID int64) (int, error)
	MarkNotificationRead(ctx context.Context, a audit.Actor, id int64) error
	MarkAllNotificationsRead(ctx context.Context, a audit.Actor) (int64, error)
	NotifyPrefsOf(ctx context.Context, a audit.Actor) (storage.NotifyPrefs, error)
	SaveNotifyPrefs(ctx context.Context, a audit.Actor, p storage.NotifyPrefs) (storage.NotifyPrefs, error)

	Calendar(ctx context.Context, opts ...calendar.Option) (*calendar.Calendar, error)
	CalendarDays(ctx context.Context, year int) ([]storage.CalendarDay, error)
	AddCalendarDay(ctx context.Context, a audit.Actor, d storage.CalendarDay) (storage.CalendarDay, error)
	DeleteCalendarDay(ctx context.Context, a audit.Actor, id int64) error
}

// HotlineStore is what the hotline's routes and pages need of storage.
type HotlineStore interface {
	CreateContact(ctx context.Context, a audit.Actor, c hotline.Contact, cc storage.ContactCreate) (storage.StoredResponse, error)
	ContactFor(ctx context.Context, a audit.Actor, id int64) (storage.ContactRecord, error)
	ListContacts(ctx context.Context, a audit.Actor, q storage.ContactQuery) (storage.ContactPage, error)
	TakeContact(ctx context.Context, a audit.Actor, id int64) error
	RevealPhone(ctx context.Context, a audit.Actor, id int64) (string, error)
	Taxonomy(ctx context.Context, version int) (taxonomy.Taxonomy, error)
	PublishTaxonomy(ctx context.Context, a audit.Actor, next taxonomy.Taxonomy, basedOn int) (taxonomy.Taxonomy, error)
}
