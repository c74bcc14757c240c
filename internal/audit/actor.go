package audit

import (
	"strconv"

	"dayaq/internal/access"
)

// Actor is who acts, and from where: the principal with the request's
// client address and ID. Every audited storage call takes one.
type Actor struct {
	access.Principal
	IP        string
	RequestID string
}

// System is the actor for work the platform does by itself (jobs, imports
// run by an operator on the server).
func System() Actor { return Actor{} }

// Event starts an event by a for action on the object of type objectType
// with ID id.
func (a Actor) Event(action, objectType string, id int64) Event {
	oid := ""
	if id != 0 {
		oid = strconv.FormatInt(id, 10)
	}
	return Event{ActorUserID: a.UserID, ActorOrgID: a.OrgID, Action: action, ObjectType: objectType,
		ObjectID: oid, IP: a.IP, RequestID: a.RequestID}
}
