// Package sandbox is a payment provider for development and tests, served by the store's own
// binary under /sandbox/payments and reached over HTTP like a real one. Its test tokens:
//
//	tok_visa            approved at once (visa 4242)
//	tok_mastercard      approved at once (mastercard 4444)
//	tok_chargeDeclined  declined (visa 0002)
//	tok_async           pending, approved AsyncDelay later and announced by a signed webhook
//
// Any other token is declined. Charges and refunds are idempotent on the Idempotency-Key header.
// Its books live in Postgres (through Store), so any instance answers for any charge and a pending
// charge still becomes approved after a restart (it is settled whenever it is read after its time).
package sandbox

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"storefront/domain/payment"
	"storefront/gateway"
)

// Charge statuses of the sandbox.
const (
	StatusPending  = "pending"
	StatusApproved = "approved"
	StatusDeclined = "declined"
)

// ErrNotFound is returned by Store for an unknown charge.
var ErrNotFound = errors.New("sandbox: no such charge")

// ErrRefundTooLarge is returned by Store when a refund exceeds what is left of the charge.
var ErrRefundTooLarge = errors.New("sandbox: refund exceeds the charge")

// NewCharge is a charge to record.
type NewCharge struct {
	gateway.Charge
	IdempotencyKey string
	Token          string
	// ApproveAt is when a pending charge becomes approved.
	ApproveAt *time.Time
}

// Store keeps the sandbox's books.
type Store interface {
	// CreateCharge records c unless a charge with its idempotency key exists, and returns the stored one.
	CreateCharge(ctx context.Context, c NewCharge) (gateway.Charge, error)
	// Charge returns a charge by id, settling it first if it is pending and due.
	Charge(ctx context.Context, id string) (gateway.Charge, error)
	// ChargeByKey returns the charge made with an idempotency key, settling it first if due.
	ChargeByKey(ctx context.Context, key string) (gateway.Charge, error)
	// Refund records a refund unless one with the key exists, and returns the stored one.
	Refund(ctx context.Context, chargeID, key, refundID string, amount int64) (gateway.Refund, error)
}

type card struct {
	status, brand, last4, declineReason string
}

var testCards = map[string]card{
	"tok_visa":           {StatusApproved, "visa", "4242", ""},
	"tok_mastercard":     {StatusApproved, "mastercard", "4444", ""},
	"tok_chargeDeclined": {StatusDeclined, "visa", "0002", "card_declined"},
	"tok_async":          {StatusPending, "visa", "3155", ""},
}

// Sandbox is the provider.
type Sandbox struct {
	store      Store
	secret     []byte
	webhookURL string
	asyncDelay time.Duration
	log        *slog.Logger
	client     *http.Client
	// due carries pending charges to the webhook sender (Run).
	due chan string
}

// New returns a sandbox that signs webhooks with secret and posts them to webhookURL.
func New(store Store, secret []byte, webhookURL string, asyncDelay time.Duration, log *slog.Logger) *Sandbox {
	return &Sandbox{store: store, secret: secret, webhookURL: webhookURL, asyncDelay: asyncDelay, log: log,
		client: &http.Client{Timeout: 5 * time.Second}, due: make(chan string, 1024)}
}

// Handler serves the provider's API; mount it under a prefix with http.StripPrefix.
func (s *Sandbox) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /charges", s.createCharge)
	mux.HandleFunc("GET /charges", s.findCharge)
	mux.HandleFunc("GET /charges/{id}", s.getCharge)
	mux.HandleFunc("POST /charges/{id}/refunds", s.refund)
	return mux
}

func newID(prefix string) string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func fail(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, gateway.Error{Error: msg})
}

func (s *Sandbox) createCharge(w http.ResponseWriter, r *http.Request) {
	key := strings.TrimSpace(r.Header.Get(gateway.IdempotencyHeader))
	if key == "" || len(key) > 255 {
		fail(w, http.StatusBadRequest, "an Idempotency-Key header is required")
		return
	}
	var req gateway.ChargeRequest
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<16)).Decode(&req); err != nil {
		fail(w, http.StatusBadRequest, "malformed JSON body")
		return
	}
	if req.Amount < 0 || len(req.Currency) != 3 || req.Token == "" {
		fail(w, http.StatusBadRequest, "amount, currency and token are required")
		return
	}
	cd, ok := testCards[req.Token]
	if !ok {
		cd = card{StatusDeclined, "", "", "unknown test token"}
	}
	c := NewCharge{
		Charge: gateway.Charge{ID: newID("ch_"), Reference: key, Status: cd.status, Amount: req.Amount,
			Currency: strings.ToUpper(req.Currency), Brand: cd.brand, Last4: cd.last4, DeclineReason: cd.declineReason},
		IdempotencyKey: key, Token: req.Token,
	}
	if cd.status == StatusPending {
		at := time.Now().Add(s.asyncDelay)
		c.ApproveAt = &at
	}
	stored, err := s.store.CreateCharge(r.Context(), c)
	if err != nil {
		s.log.Error("sandbox: create charge", "err", err)
		fail(w, http.StatusInternalServerError, "internal error")
		return
	}
	if stored.ID == c.ID && stored.Status == StatusPending {
		select {
		case s.due <- stored.ID:
		default:
			s.log.Warn("sandbox: webhook queue full; the charge settles when looked up", "charge", stored.ID)
		}
	}
	writeJSON(w, http.StatusOK, stored)
}

func (s *Sandbox) getCharge(w http.ResponseWriter, r *http.Request) {
	s.answerCharge(w, r, func(ctx context.Context) (gateway.Charge, error) { return s.store.Charge(ctx, r.PathValue("id")) })
}

func (s *Sandbox) findCharge(w http.ResponseWriter, r *http.Request) {
	ref := r.URL.Query().Get("reference")
	if ref == "" {
		fail(w, http.StatusBadRequest, "the reference query parameter is required")
		return
	}
	s.answerCharge(w, r, func(ctx context.Context) (gateway.Charge, error) { return s.store.ChargeByKey(ctx, ref) })
}

func (s *Sandbox) answerCharge(w http.ResponseWriter, r *http.Request, load func(context.Context) (gateway.Charge, error)) {
	c, err := load(r.Context())
	if errors.Is(err, ErrNotFound) {
		fail(w, http.StatusNotFound, "no such charge")
		return
	}
	if err != nil {
		s.log.Error("sandbox: load charge", "err", err)
		fail(w, http.StatusInternalServerError, "internal error")
		return
	}
	writeJSON(w, http.StatusOK, c)
}

func (s *Sandbox) refund(w http.ResponseWriter, r *http.Request) {
	key := strings.TrimSpace(r.Header.Get(gateway.IdempotencyHeader))
	if key == "" || len(key) > 255 {
		fail(w, http.StatusBadRequest, "an Idempotency-Key header is required")
		return
	}
	var req gateway.RefundRequest
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<16)).Decode(&req); err != nil || req.Amount <= 0 {
		fail(w, http.StatusBadRequest, "a positive amount is required")
		return
	}
	c, err := s.store.Charge(r.Context(), r.PathValue("id"))
	if errors.Is(err, ErrNotFound) {
		fail(w, http.StatusNotFound, "no such charge")
		return
	}
	if err == nil && c.Status != StatusApproved {
		fail(w, http.StatusConflict, "only approved charges can be refunded")
		return
	}
	var ref gateway.Refund
	if err == nil {
		ref, err = s.store.Refund(r.Context(), c.ID, key, newID("re_"), req.Amount)
	}
	if errors.Is(err, ErrRefundTooLarge) {
		fail(w, http.StatusConflict, "the refund exceeds what is left of the charge")
		return
	}
	if err != nil {
		s.log.Error("sandbox: refund", "err", err)
		fail(w, http.StatusInternalServerError, "internal error")
		return
	}
	writeJSON(w, http.StatusOK, ref)
}

// Run sends the webhooks of pending charges once they are approved, until ctx ends.
func (s *Sandbox) Run(ctx context.Context) {
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		select {
		case <-ctx.Done():
			return
		case id := <-s.due:
			wg.Add(1)
			go func() {
				defer wg.Done()
				select {
				case <-ctx.Done():
					return
				case <-time.After(s.asyncDelay):
				}
				if err := s.announce(ctx, id); err != nil && ctx.Err() == nil {
					s.log.Warn("sandbox: webhook not delivered; the merchant can still look the charge up", "charge", id, "err", err)
				}
			}()
		}
	}
}

// announce settles a due charge and posts its signed webhook, retrying a few times.
func (s *Sandbox) announce(ctx context.Context, id string) error {
	c, err := s.store.Charge(ctx, id)
	if err != nil {
		return err
	}
	if c.Status == StatusPending {
		return fmt.Errorf("charge %s is not due yet", id)
	}
	ev := gateway.Event{ID: newID("evt_"), Type: "charge." + c.Status, Created: time.Now().Unix(), Data: c}
	body, err := json.Marshal(ev)
	if err != nil {
		return err
	}
	var lastErr error
	for attempt := 0; attempt < 4; attempt++ {
		if attempt > 0 {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(time.Duration(attempt*attempt) * 200 * time.Millisecond):
			}
		}
		if lastErr = s.post(ctx, body); lastErr == nil {
			return nil
		}
	}
	return lastErr
}

func (s *Sandbox) post(ctx context.Context, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.webhookURL, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(payment.SignatureHeader, payment.Sign(s.secret, time.Now(), body))
	resp, err := s.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("webhook answered %d", resp.StatusCode)
	}
	return nil
}
