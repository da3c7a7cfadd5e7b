// Package payment is the port to a payment gateway: the operations checkout needs (charge, look a
// charge up, refund, read a webhook), the payments it records, and the webhook signature scheme.
// Adapters implement Gateway over a provider's HTTP API; the built-in sandbox provider speaks the
// same protocol, so a real provider replaces it by configuration only.
//
// Card numbers never reach the store: the client sends a gateway token, and only the token, the
// card brand and its last four digits are kept.
package payment

import (
	"context"
	"errors"
	"net/http"
	"time"

	"storefront/domain/money"
)

// Status is the state of a payment as the store records it.
type Status string

// Payment statuses.
const (
	// Pending: written before the gateway is called, and kept while the gateway has not decided.
	Pending  Status = "PENDING"
	Approved Status = "APPROVED"
	Declined Status = "DECLINED"
	Refunded Status = "REFUNDED"
)

// Payment is one attempt to pay an order.
type Payment struct {
	ID      int64
	OrderID int64
	UserID  int64
	Status  Status
	Amount  money.Amount
	// Currency is ISO 4217.
	Currency string
	// Token is the gateway token the customer paid with.
	Token string
	Brand string
	Last4 string
	// Reference is the store's own id of the attempt, sent to the gateway as its idempotency key,
	// so a charge can be found again after a crash even when its gateway id was never recorded.
	Reference string
	// ChargeID is the gateway's id of the charge, once known.
	ChargeID      string
	FailureReason string
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// ChargeStatus is the gateway's verdict on a charge.
type ChargeStatus string

// Gateway verdicts.
const (
	ChargePending  ChargeStatus = "pending"
	ChargeApproved ChargeStatus = "approved"
	ChargeDeclined ChargeStatus = "declined"
)

// ChargeRequest asks the gateway to take money.
type ChargeRequest struct {
	Amount   money.Amount
	Currency string
	Token    string
	// Reference identifies the attempt; the gateway answers a repeated reference with the same
	// charge instead of charging twice.
	Reference string
}

// Charge is the gateway's record of a charge.
type Charge struct {
	ID        string
	Reference string
	Status    ChargeStatus
	Amount    money.Amount
	Currency  string
	Brand     string
	Last4     string
	// DeclineReason says why a declined charge was declined.
	DeclineReason string
	// RefundedAmount is how much of the charge has been refunded.
	RefundedAmount money.Amount
}

// Refund is the gateway's record of a refund.
type Refund struct {
	ID       string
	ChargeID string
	Amount   money.Amount
}

// Event is a webhook from the gateway telling the store what happened to a charge.
type Event struct {
	// ID is unique per event; an event is applied once however often it is delivered.
	ID     string
	Type   string
	Charge Charge
}

// ErrChargeNotFound is returned by Lookup when the gateway has no charge with that reference.
var ErrChargeNotFound = errors.New("charge not found at the gateway")

// ErrBadWebhook is returned for a webhook whose signature, timestamp or body does not check out.
var ErrBadWebhook = errors.New("webhook rejected")

// Gateway is a payment provider.
type Gateway interface {
	// Charge takes the money. A repeated Reference returns the first charge; a pending verdict
	// is settled later by a webhook (or found by Lookup).
	Charge(ctx context.Context, req ChargeRequest) (Charge, error)
	// Lookup finds the charge made for a reference, or ErrChargeNotFound.
	Lookup(ctx context.Context, reference string) (Charge, error)
	// Refund returns amount of a charge to the customer. A repeated key returns the first refund.
	Refund(ctx context.Context, chargeID string, amount money.Amount, idempotencyKey string) (Refund, error)
	// ParseWebhook checks a webhook's signature and freshness and decodes it, or fails with
	// ErrBadWebhook.
	ParseWebhook(header http.Header, body []byte) (Event, error)
}
