// Package gateway holds the wire format shared by the payment sandbox and the HTTP gateway
// adapter: the JSON a provider of this protocol speaks. The domain never sees it.
package gateway

// Charge is a charge as the provider's API returns it. Amounts are integer minor units.
type Charge struct {
	ID             string `json:"id"`
	Reference      string `json:"reference"`
	Status         string `json:"status"`
	Amount         int64  `json:"amount"`
	Currency       string `json:"currency"`
	Brand          string `json:"brand,omitempty"`
	Last4          string `json:"last4,omitempty"`
	DeclineReason  string `json:"declineReason,omitempty"`
	RefundedAmount int64  `json:"refundedAmount"`
}

// ChargeRequest is the body of POST /charges; the reference travels as the Idempotency-Key header.
type ChargeRequest struct {
	Amount   int64  `json:"amount"`
	Currency string `json:"currency"`
	Token    string `json:"token"`
}

// RefundRequest is the body of POST /charges/{id}/refunds.
type RefundRequest struct {
	Amount int64 `json:"amount"`
}

// Refund is a refund as the provider's API returns it.
type Refund struct {
	ID       string `json:"id"`
	ChargeID string `json:"chargeId"`
	Amount   int64  `json:"amount"`
}

// Event is the body of a webhook.
type Event struct {
	ID      string `json:"id"`
	Type    string `json:"type"`
	Created int64  `json:"created"`
	Data    Charge `json:"data"`
}

// Error is the body of a non-2xx answer.
type Error struct {
	Error string `json:"error"`
}

// IdempotencyHeader carries the merchant's key for a charge or refund.
const IdempotencyHeader = "Idempotency-Key"
