package checkout

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"storefront/domain/apperr"
	"storefront/domain/order"
	"storefront/domain/payment"
)

// PayInput is a payOrder request.
type PayInput struct {
	OrderID        int64
	Token          string
	IdempotencyKey string
}

// PayResult is what a payment attempt produced.
type PayResult struct {
	Order    *order.Order
	Payment  *payment.Payment
	Problems Problems
}

func (in PayInput) hash() string {
	return hashOf("pay", fmt.Sprint(in.OrderID), in.Token)
}

// PayOrder charges the order's total to the token. The payment row is written PENDING with its
// gateway reference before the gateway is called, so a crash in between is recovered: a retry with
// the same key asks the gateway again with the same reference (the gateway answers with the first
// charge, never a second one), and the reconciler settles it otherwise.
func (s *Service) PayOrder(ctx context.Context, userID int64, in PayInput) (PayResult, error) {
	in.Token = strings.TrimSpace(in.Token)
	if in.Token == "" || len(in.Token) > 200 {
		return PayResult{Problems: problem(CodeInvalidInput, "paymentToken must be a gateway token such as tok_visa", "paymentToken")}, nil
	}
	if ps := checkKey(in.IdempotencyKey); len(ps) > 0 {
		return PayResult{Problems: ps}, nil
	}
	k := Key{UserID: userID, Scope: scopePay, Key: in.IdempotencyKey}
	hash := in.hash()
	for attempt := 0; attempt < 5; attempt++ {
		rec, err := s.store.ClaimKey(ctx, k, hash)
		if err != nil {
			return PayResult{}, fmt.Errorf("pay order: %w", err)
		}
		if rec.RequestHash != hash {
			return PayResult{Problems: reusedKey()}, nil
		}
		if rec.Done {
			return s.loadPaymentResult(ctx, rec.ResultID)
		}
		var p payment.Payment
		err = s.store.InTx(ctx, func(tx Tx) error {
			rec, found, err := tx.LockKey(k)
			switch {
			case err != nil:
				return err
			case !found:
				return errKeyVanished
			case rec.ResultID != 0:
				// A concurrent duplicate (or a crashed attempt) already wrote the payment.
				p, err = tx.LockPayment(rec.ResultID)
				return err
			}
			// The head is enough here: the lines matter only once the charge is approved.
			o, err := tx.LockOrderHead(in.OrderID)
			if errors.Is(err, apperr.ErrNotFound) || (err == nil && o.UserID != userID) {
				return problem(CodeNotFound, "no such order", "orderId")
			}
			if err != nil {
				return err
			}
			if err := o.Payable(s.now()); err != nil {
				return problem(CodeInvalidState, err.Error(), "orderId")
			}
			p = payment.Payment{OrderID: o.ID, UserID: userID, Status: payment.Pending, Amount: o.Total,
				Currency: o.Currency, Token: in.Token, Reference: newReference()}
			if err := tx.InsertPayment(&p); errors.Is(err, ErrPaymentInProgress) {
				return problem(CodeInvalidState, err.Error(), "orderId")
			} else if err != nil {
				return fmt.Errorf("record payment: %w", err)
			}
			return tx.SetKeyResult(k, p.ID, false)
		})
		var ps Problems
		switch {
		case errors.Is(err, errKeyVanished):
			continue
		case errors.As(err, &ps):
			s.releaseKey(ctx, k)
			return PayResult{Problems: ps}, nil
		case err != nil:
			s.releaseKey(ctx, k)
			return PayResult{}, fmt.Errorf("pay order: %w", err)
		}
		if p.Status == payment.Pending {
			charge, err := s.gateway.Charge(ctx, payment.ChargeRequest{
				Amount: p.Amount, Currency: p.Currency, Token: p.Token, Reference: p.Reference})
			if err != nil {
				// The payment stays PENDING: a retry with this key or the reconciler settles it.
				return PayResult{}, fmt.Errorf("charge payment %d: %w", p.ID, err)
			}
			var settled payment.Payment
			var o *order.Order
			if err := s.store.InTx(ctx, func(tx Tx) error {
				// The key row first (the update locks it): the transaction above and every
				// duplicate request take the key before the payment, so taking the payment first
				// here could deadlock with them. Should anything below fail, the update rolls back.
				if err := tx.SetKeyResult(k, p.ID, true); err != nil {
					return err
				}
				var err error
				settled, o, err = s.applyCharge(tx, p.ID, charge)
				return err
			}); err != nil {
				return PayResult{}, fmt.Errorf("apply charge of payment %d: %w", p.ID, err)
			}
			s.kickOutbox()
			// What the transaction left is what was committed, read under the locks: the answer
			// needs no second read.
			return paymentResult(settled, o), nil
		}
		return s.loadPaymentResult(ctx, p.ID)
	}
	return PayResult{}, errors.New("pay order: idempotency key kept changing hands")
}

func newReference() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return "pay_" + hex.EncodeToString(b)
}

// loadPaymentResult reads a payment and its order and renders them (paymentResult).
func (s *Service) loadPaymentResult(ctx context.Context, paymentID int64) (PayResult, error) {
	p, err := s.store.Payment(ctx, paymentID)
	if err != nil {
		return PayResult{}, fmt.Errorf("load payment %d: %w", paymentID, err)
	}
	o, err := s.store.Order(ctx, p.OrderID)
	if err != nil {
		return PayResult{}, fmt.Errorf("load order %d: %w", p.OrderID, err)
	}
	return paymentResult(p, o), nil
}

// paymentResult renders a payment and its order; a declined payment reports PAYMENT_DECLINED.
func paymentResult(p payment.Payment, o *order.Order) PayResult {
	res := PayResult{Order: o, Payment: &p}
	if p.Status == payment.Declined {
		msg := "the payment was declined"
		if p.FailureReason != "" {
			msg += ": " + p.FailureReason
		}
		res.Problems = problem(CodePaymentDeclined, msg, "paymentToken")
	}
	return res
}

// applyCharge records the gateway's verdict on a payment, once: a payment no longer PENDING is
// left alone, so a webhook, the request that made the charge and the reconciler may all report the
// same verdict. Approval is accepted only for the order's exact amount and currency and only while
// the order is unpaid; otherwise the money goes back through a refund. It returns the payment and
// its order as the transaction leaves them.
func (s *Service) applyCharge(tx Tx, paymentID int64, c payment.Charge) (payment.Payment, *order.Order, error) {
	// Payment before order: the one lock order for the two, so concurrent verdicts on the same
	// payment queue on the payment row and never deadlock.
	p, err := tx.LockPayment(paymentID)
	if err != nil {
		return p, nil, err
	}
	o, err := tx.LockOrder(p.OrderID)
	if err != nil {
		return p, nil, err
	}
	err = s.settlePayment(tx, &p, o, c)
	return p, o, err
}

// settlePayment applies the verdict c to the locked payment p of the locked order o.
func (s *Service) settlePayment(tx Tx, p *payment.Payment, o *order.Order, c payment.Charge) error {
	if p.Status != payment.Pending {
		return nil
	}
	if c.ID != "" {
		p.ChargeID = c.ID
	}
	if c.Brand != "" {
		p.Brand, p.Last4 = c.Brand, c.Last4
	}
	now := s.now()
	p.UpdatedAt = now
	switch c.Status {
	case payment.ChargePending:
		return tx.UpdatePayment(*p)
	case payment.ChargeDeclined:
		p.Status = payment.Declined
		p.FailureReason = c.DeclineReason
		return tx.UpdatePayment(*p)
	case payment.ChargeApproved:
	default:
		return fmt.Errorf("unknown charge status %q", c.Status)
	}
	p.Status = payment.Approved
	if c.Amount != p.Amount || !strings.EqualFold(c.Currency, p.Currency) || p.Amount != o.Total {
		p.FailureReason = fmt.Sprintf("charged %s %s for an order of %s %s", c.Amount, c.Currency, o.Total, o.Currency)
		// Record what was actually captured: that is what the refund must return.
		p.Amount = c.Amount
		s.log.Error("charge does not match the order; refunding", "payment", p.ID, "order", o.ID, "reason", p.FailureReason)
		return s.approveAndRefund(tx, *p)
	}
	if err := o.MarkPaid(now); err != nil {
		p.FailureReason = "the order could no longer be paid: " + err.Error()
		s.log.Warn("approved charge for an order no longer payable; refunding", "payment", p.ID, "order", o.ID, "status", o.Status)
		return s.approveAndRefund(tx, *p)
	}
	if err := tx.UpdatePayment(*p); err != nil {
		return err
	}
	for _, l := range o.Lines {
		if l.ProductID == 0 {
			continue
		}
		if err := tx.Sell(l.ProductID, l.Quantity); err != nil {
			return fmt.Errorf("sell reserved stock: %w", err)
		}
	}
	if err := tx.SaveOrder(o); err != nil {
		return err
	}
	return enqueueStatus(tx, o)
}

func (s *Service) approveAndRefund(tx Tx, p payment.Payment) error {
	if err := tx.UpdatePayment(p); err != nil {
		return err
	}
	return tx.Enqueue(TopicRefund, RefundEvent{PaymentID: p.ID})
}

// HandleWebhook applies a gateway webhook. A bad signature or stale timestamp fails with
// payment.ErrBadWebhook and changes nothing; an event seen before is acknowledged and ignored.
func (s *Service) HandleWebhook(ctx context.Context, header http.Header, body []byte) error {
	ev, err := s.gateway.ParseWebhook(header, body)
	if err != nil {
		return err
	}
	applied := false
	err = s.store.InTx(ctx, func(tx Tx) error {
		fresh, err := tx.RecordWebhookEvent(ev.ID, ev.Type)
		if err != nil || !fresh {
			return err
		}
		p, err := tx.FindPayment(ev.Charge.Reference, ev.Charge.ID)
		if errors.Is(err, apperr.ErrNotFound) {
			s.log.Warn("webhook for an unknown charge", "event", ev.ID, "charge", ev.Charge.ID)
			return nil
		}
		if err != nil {
			return err
		}
		applied = true
		_, _, err = s.applyCharge(tx, p.ID, ev.Charge)
		return err
	})
	if err != nil {
		return fmt.Errorf("apply webhook %s: %w", ev.ID, err)
	}
	if applied {
		s.kickOutbox()
	}
	return nil
}

// ReconcilePayments settles PENDING payments older than Settings.ReconcileAfter by asking the
// gateway: a crash between the gateway's answer and our commit, or a lost webhook, leaves such a
// payment behind. A charge the gateway never saw is declined, which makes the order payable again.
func (s *Service) ReconcilePayments(ctx context.Context) (int, error) {
	pending, err := s.store.PendingPayments(ctx, s.now().Add(-s.settings.ReconcileAfter), 100)
	if err != nil {
		return 0, fmt.Errorf("list pending payments: %w", err)
	}
	settled := 0
	var errs []error
	for _, p := range pending {
		c, err := s.gateway.Lookup(ctx, p.Reference)
		if errors.Is(err, payment.ErrChargeNotFound) {
			c = payment.Charge{Status: payment.ChargeDeclined, DeclineReason: "the charge never reached the gateway"}
		} else if err != nil {
			errs = append(errs, fmt.Errorf("look up payment %d: %w", p.ID, err))
			continue
		}
		if c.Status == payment.ChargePending {
			continue
		}
		if err := s.store.InTx(ctx, func(tx Tx) error {
			_, _, err := s.applyCharge(tx, p.ID, c)
			return err
		}); err != nil {
			errs = append(errs, fmt.Errorf("settle payment %d: %w", p.ID, err))
			continue
		}
		settled++
		s.log.Info("payment reconciled", "payment", p.ID, "verdict", string(c.Status))
	}
	if settled > 0 {
		s.kickOutbox()
	}
	return settled, errors.Join(errs...)
}

// RunReconciler reconciles pending payments at start (to recover from a crash) and every interval.
func (s *Service) RunReconciler(ctx context.Context, interval time.Duration) {
	runEvery(ctx, interval, func() {
		if _, err := s.ReconcilePayments(ctx); err != nil && ctx.Err() == nil {
			s.log.Error("reconcile payments", "err", err)
		}
	})
}

// runEvery calls fn now and then every interval until ctx ends.
func runEvery(ctx context.Context, interval time.Duration, fn func()) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		fn()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
