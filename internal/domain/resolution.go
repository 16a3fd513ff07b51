package domain

import (
	"fmt"
	"time"
)

// Resolution is an exception accepted by hand (reconciled resolve): while
// the item's data keeps the fingerprint it had then, the item shows
// "resolved"; when the data changes, the resolution re-opens.
type Resolution struct {
	ProjectID   int64     `json:"project_id"`
	ID          string    `json:"id"` // ResolutionKey.ID
	Type        string    `json:"type"`
	Part        string    `json:"part,omitempty"` // ResolutionKey.Part
	Code        string    `json:"code"`           // the result code accepted
	Reason      string    `json:"reason"`
	Note        string    `json:"note,omitempty"`
	User        string    `json:"user"`
	At          time.Time `json:"at"`
	Fingerprint string    `json:"fingerprint"` // of the item's data when resolved
	Summary     string    `json:"summary"`     // the item's reason when resolved
	ReopenedAt  time.Time `json:"reopened_at,omitzero"`
}

// Key is the key of the item r resolves.
func (r Resolution) Key() ResolutionKey { return ResolutionKey{r.ProjectID, r.ID, r.Type, r.Part} }

// ResolutionKey identifies the item a resolution is for.
type ResolutionKey struct {
	ProjectID int64
	ID        string // the payment id, else "provider:…" or "operation:…"
	Type      string
	Part      string // Item.Part: which refund of a payment; "" for the only item
}

// KeyOf is an item's resolution key.
func KeyOf(it *Item) ResolutionKey {
	id := it.PaymentID
	switch {
	case id != "":
	case it.ProviderPaymentID != "":
		id = "provider:" + it.ProviderPaymentID
	default:
		id = fmt.Sprintf("operation:%d", it.OperationID)
	}
	return ResolutionKey{it.ProjectID, id, it.Type, it.Part}
}

// AuditEvent is one entry of the audit trail of manual resolutions.
type AuditEvent struct {
	At        time.Time `json:"at"`
	User      string    `json:"user"`
	Action    string    `json:"action"` // resolve, unresolve, reopen
	ProjectID int64     `json:"project_id"`
	ID        string    `json:"id"`
	Type      string    `json:"type"`
	Part      string    `json:"part,omitempty"`
	Code      string    `json:"code"`
	Reason    string    `json:"reason,omitempty"`
	Note      string    `json:"note,omitempty"`
	Detail    string    `json:"detail,omitempty"`
}

// Audit actions.
const (
	AuditResolve   = "resolve"
	AuditUnresolve = "unresolve"
	AuditReopen    = "reopen"
)
