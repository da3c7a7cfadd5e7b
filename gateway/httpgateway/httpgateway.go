// Package httpgateway implements payment.Gateway over the HTTP protocol of package gateway, which
// the built-in sandbox serves. Pointing PAYMENT_GATEWAY_URL and PAYMENT_WEBHOOK_SECRET at a
// provider of the same protocol replaces the sandbox without code changes.
package httpgateway

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"storefront/domain/money"
	"storefront/domain/payment"
	"storefront/gateway"
)

// Client is the gateway adapter.
type Client struct {
	baseURL string
	secret  []byte
	http    *http.Client
	now     func() time.Time
}

// New returns a client of the provider at baseURL (e.g. http://host/sandbox/payments) whose
// webhooks are signed with secret.
func New(baseURL string, secret []byte) *Client {
	return &Client{baseURL: strings.TrimRight(baseURL, "/"), secret: secret,
		http: &http.Client{Timeout: 10 * time.Second}, now: time.Now}
}

var _ payment.Gateway = (*Client)(nil)

// statusError is a non-2xx answer of the provider.
type statusError struct {
	status int
	msg    string
}

// Error says what the provider answered.
func (e *statusError) Error() string { return fmt.Sprintf("gateway answered %d: %s", e.status, e.msg) }

func (c *Client) do(ctx context.Context, method, path, key string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.baseURL+path, body)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if key != "" {
		req.Header.Set(gateway.IdempotencyHeader, key)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("call gateway: %w", err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("read gateway answer: %w", err)
	}
	if resp.StatusCode/100 != 2 {
		var e gateway.Error
		_ = json.Unmarshal(raw, &e)
		return &statusError{status: resp.StatusCode, msg: e.Error}
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("decode gateway answer: %w", err)
	}
	return nil
}

func toCharge(c gateway.Charge) payment.Charge {
	return payment.Charge{ID: c.ID, Reference: c.Reference, Status: payment.ChargeStatus(c.Status),
		Amount: money.Amount(c.Amount), Currency: c.Currency, Brand: c.Brand, Last4: c.Last4,
		DeclineReason: c.DeclineReason, RefundedAmount: money.Amount(c.RefundedAmount)}
}

// Charge takes the money; the reference is the provider's idempotency key.
func (c *Client) Charge(ctx context.Context, req payment.ChargeRequest) (payment.Charge, error) {
	var out gateway.Charge
	err := c.do(ctx, http.MethodPost, "/charges", req.Reference,
		gateway.ChargeRequest{Amount: int64(req.Amount), Currency: req.Currency, Token: req.Token}, &out)
	if err != nil {
		return payment.Charge{}, err
	}
	return toCharge(out), nil
}

// Lookup finds the charge made with a reference.
func (c *Client) Lookup(ctx context.Context, reference string) (payment.Charge, error) {
	var out gateway.Charge
	err := c.do(ctx, http.MethodGet, "/charges?reference="+url.QueryEscape(reference), "", nil, &out)
	var se *statusError
	if errors.As(err, &se) && se.status == http.StatusNotFound {
		return payment.Charge{}, payment.ErrChargeNotFound
	}
	if err != nil {
		return payment.Charge{}, err
	}
	return toCharge(out), nil
}

// Refund returns amount of a charge.
func (c *Client) Refund(ctx context.Context, chargeID string, amount money.Amount, key string) (payment.Refund, error) {
	var out gateway.Refund
	err := c.do(ctx, http.MethodPost, "/charges/"+url.PathEscape(chargeID)+"/refunds", key,
		gateway.RefundRequest{Amount: int64(amount)}, &out)
	if err != nil {
		return payment.Refund{}, err
	}
	return payment.Refund{ID: out.ID, ChargeID: out.ChargeID, Amount: money.Amount(out.Amount)}, nil
}

// ParseWebhook verifies the signature header over the raw body and decodes the event.
func (c *Client) ParseWebhook(header http.Header, body []byte) (payment.Event, error) {
	if err := payment.VerifySignature(c.secret, header.Get(payment.SignatureHeader), body, c.now()); err != nil {
		return payment.Event{}, err
	}
	var ev gateway.Event
	if err := json.Unmarshal(body, &ev); err != nil || ev.ID == "" {
		return payment.Event{}, fmt.Errorf("%w: malformed event", payment.ErrBadWebhook)
	}
	return payment.Event{ID: ev.ID, Type: ev.Type, Charge: toCharge(ev.Data)}, nil
}
