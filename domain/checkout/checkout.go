package checkout

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"storefront/domain/apperr"
	"storefront/domain/limits"
	"storefront/domain/money"
	"storefront/domain/order"
	"storefront/domain/pricing"
)

// Input is a checkout request. It carries no prices: the order is priced from the catalog.
type Input struct {
	CartID         string
	Address        order.Address
	ShippingMethod string
	DiscountCode   string
	IdempotencyKey string
}

// Result is what a checkout produced: the order, or the problems that stopped it.
type Result struct {
	Order    *order.Order
	Problems Problems
}

// maxKeyLength bounds idempotency keys; clients use UUIDs or similar.
const maxKeyLength = 255

// countriesWithRegions need a region (state, province) in the address: tax depends on it.
var countriesWithRegions = map[string]bool{"US": true, "CA": true, "AU": true}

// normalize trims the input and checks that the address is complete.
func (in *Input) normalize() Problems {
	var ps Problems
	bad := func(msg string, field ...string) {
		ps = append(ps, Problem{Code: CodeInvalidInput, Message: msg, Field: field})
	}
	a := &in.Address
	for _, f := range []struct {
		name     string
		v        *string
		required bool
	}{
		{"name", &a.Name, true}, {"line1", &a.Line1, true}, {"line2", &a.Line2, false},
		{"city", &a.City, true}, {"region", &a.Region, false}, {"postalCode", &a.PostalCode, true},
		{"country", &a.Country, true},
	} {
		*f.v = strings.TrimSpace(*f.v)
		switch {
		case f.required && *f.v == "":
			bad(f.name+" is required", "shippingAddress", f.name)
		case utf8.RuneCountInString(*f.v) > 200:
			bad(f.name+" is too long", "shippingAddress", f.name)
		}
	}
	a.Country = strings.ToUpper(a.Country)
	a.Region = strings.ToUpper(a.Region)
	if a.Country != "" && !isAlpha2(a.Country) {
		bad("country must be an ISO 3166-1 alpha-2 code such as US", "shippingAddress", "country")
	}
	if countriesWithRegions[a.Country] && a.Region == "" {
		bad("region is required for "+a.Country, "shippingAddress", "region")
	}
	in.ShippingMethod = strings.ToLower(strings.TrimSpace(in.ShippingMethod))
	if in.ShippingMethod == "" {
		in.ShippingMethod = "standard"
	}
	in.DiscountCode = pricing.NormalizeCode(in.DiscountCode)
	ps = append(ps, checkKey(in.IdempotencyKey)...)
	return ps
}

func checkKey(key string) Problems {
	if strings.TrimSpace(key) == "" || len(key) > maxKeyLength {
		return problem(CodeInvalidInput, fmt.Sprintf("idempotencyKey must be 1 to %d characters", maxKeyLength), "idempotencyKey")
	}
	return nil
}

func isAlpha2(s string) bool {
	return len(s) == 2 && s[0] >= 'A' && s[0] <= 'Z' && s[1] >= 'A' && s[1] <= 'Z'
}

// hash fingerprints the request, so a key reused for a different request is recognised.
func (in Input) hash() string {
	a := in.Address
	return hashOf("checkout", in.CartID, a.Name, a.Line1, a.Line2, a.City, a.Region, a.PostalCode, a.Country,
		in.ShippingMethod, in.DiscountCode)
}

func hashOf(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		fmt.Fprintf(h, "%d:%s|", len(p), p)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Checkout turns the user's cart into an order awaiting payment, holding its stock. The same
// idempotency key with the same input returns the first order; with a different input it fails
// with IDEMPOTENCY_KEY_REUSED. A checkout that fails leaves nothing behind, not even its key.
func (s *Service) Checkout(ctx context.Context, userID int64, in Input) (Result, error) {
	if ps := in.normalize(); len(ps) > 0 {
		return Result{Problems: ps}, nil
	}
	k := Key{UserID: userID, Scope: scopeCheckout, Key: in.IdempotencyKey}
	hash := in.hash()
	// Units counted against the purchase cap by an attempt that then did not place the order go
	// back, so a failed checkout costs the customer nothing of today's allowance.
	var hold capHold
	defer func() { s.releaseCap(ctx, userID, &hold) }()
	for attempt := 0; attempt < 5; attempt++ {
		rec, err := s.store.ClaimKey(ctx, k, hash)
		if err != nil {
			return Result{}, fmt.Errorf("checkout: %w", err)
		}
		if rec.RequestHash != hash {
			return Result{Problems: reusedKey()}, nil
		}
		if rec.Done {
			return s.orderResult(ctx, rec.ResultID)
		}
		// In progress, claimed by us or by a concurrent duplicate: whoever holds the key row's
		// lock places the order; the other waits on the lock and then finds it done.
		var placed *order.Order
		var existing int64
		err = s.store.InTx(ctx, func(tx Tx) error {
			rec, found, err := tx.LockKey(k)
			switch {
			case err != nil:
				return err
			case !found:
				return errKeyVanished
			case rec.Done:
				existing = rec.ResultID
				return nil
			}
			// A transaction retried after a serialization failure counts its units afresh.
			s.releaseCap(ctx, userID, &hold)
			placed, err = s.placeOrder(ctx, tx, userID, in, &hold)
			if err != nil {
				return err
			}
			return tx.SetKeyResult(k, placed.ID, true)
		})
		var ps Problems
		switch {
		case errors.Is(err, errKeyVanished):
			continue
		case errors.As(err, &ps):
			s.releaseKey(ctx, k)
			return Result{Problems: ps}, nil
		case err != nil:
			s.releaseKey(ctx, k)
			return Result{}, fmt.Errorf("checkout: %w", err)
		case existing != 0:
			return s.orderResult(ctx, existing)
		}
		hold = capHold{} // the order exists: its units stay counted
		s.kickOutbox()
		if s.carts != nil {
			if err := s.carts.Changed(ctx, in.CartID); err != nil {
				s.log.Warn("refresh checked-out cart", "cart", in.CartID, "err", err)
			}
		}
		return Result{Order: placed}, nil
	}
	return Result{}, errors.New("checkout: idempotency key kept changing hands")
}

// releaseKey frees the idempotency key of a request that placed nothing, so the client may retry
// with the same key; failing to free it only means that retry needs a new key.
func (s *Service) releaseKey(ctx context.Context, k Key) {
	if err := s.store.ReleaseKey(ctx, k); err != nil {
		s.log.Warn("release idempotency key", "err", err)
	}
}

func reusedKey() Problems {
	return problem(CodeIdempotencyReuse, "this idempotency key was already used for a different request", "idempotencyKey")
}

func (s *Service) orderResult(ctx context.Context, orderID int64) (Result, error) {
	o, err := s.store.Order(ctx, orderID)
	if err != nil {
		return Result{}, fmt.Errorf("load order %d: %w", orderID, err)
	}
	return Result{Order: o}, nil
}

// capHold is what one checkout counted against the purchase cap.
type capHold struct {
	units map[int64]int
	at    time.Time
}

// releaseCap gives back the units of hold, if any, and empties it.
func (s *Service) releaseCap(ctx context.Context, userID int64, hold *capHold) {
	for productID, qty := range hold.units {
		if err := s.caps.Release(ctx, userID, productID, qty, hold.at); err != nil {
			s.log.Warn("release purchase cap", "user", userID, "product", productID, "err", err)
		}
	}
	*hold = capHold{}
}

// countAgainstCap records the order's units against the customer's daily caps. Over a cap it
// answers QUANTITY_LIMIT naming the line; when the counter cannot be reached the order goes
// through (logged), as rate limits do, so a Redis outage does not stop sales. Units of an order
// that is later cancelled or expires stay counted: holding stock with unpaid orders is exactly
// what a scalper would otherwise repeat.
func (s *Service) countAgainstCap(ctx context.Context, userID int64, lines []CartLine, now time.Time, hold *capHold) error {
	if s.caps == nil {
		return nil
	}
	units := make(map[int64]int, len(lines))
	for _, l := range lines {
		units[l.ProductID] += l.Quantity
	}
	err := s.caps.CheckAndConsumeAll(ctx, userID, units)
	var over *limits.QuantityLimitError
	switch {
	case errors.As(err, &over):
		ps := Problems{}
		for _, l := range lines {
			if l.ProductID == over.ProductID {
				ps = append(ps, Problem{Code: CodeQuantityLimit, CartLineID: l.ID, Available: over.Remaining,
					Field: []string{"lines"}, Message: fmt.Sprintf("%q: %s", l.ProductName, over.Error())})
			}
		}
		return ps
	case err != nil:
		s.log.Warn("purchase cap unavailable; order let through", "user", userID, "err", err)
	default:
		*hold = capHold{units: units, at: now}
	}
	return nil
}

// placeOrder does the checkout inside tx: it locks the cart, reprices it, reserves every line's
// stock and writes the order. Business failures come back as Problems, which roll tx back.
func (s *Service) placeOrder(ctx context.Context, tx Tx, userID int64, in Input, hold *capHold) (*order.Order, error) {
	now := s.now()
	cart, err := tx.LockCart(in.CartID)
	if errors.Is(err, apperr.ErrNotFound) || (err == nil && (cart.UserID != userID || !cart.Active)) {
		return nil, problem(CodeNotFound, "no such cart", "cartId")
	}
	if err != nil {
		return nil, fmt.Errorf("lock cart: %w", err)
	}
	lines, err := tx.CartLines(in.CartID)
	if err != nil {
		return nil, fmt.Errorf("read cart lines: %w", err)
	}
	if len(lines) == 0 {
		return nil, problem(CodeCartEmpty, "the cart is empty", "cartId")
	}
	var ps Problems
	for _, l := range lines {
		if !l.Published {
			ps = append(ps, Problem{Code: CodeOutOfStock, CartLineID: l.ID, Field: []string{"lines"},
				Message: fmt.Sprintf("%q is no longer for sale", l.ProductName)})
		}
	}
	if len(ps) > 0 {
		return nil, ps
	}

	method, err := tx.ShippingMethod(in.ShippingMethod)
	if errors.Is(err, apperr.ErrNotFound) {
		return nil, problem(CodeInvalidInput, fmt.Sprintf("unknown shipping method %q", in.ShippingMethod), "shippingMethod")
	}
	if err != nil {
		return nil, fmt.Errorf("shipping method: %w", err)
	}
	rates, err := tx.TaxRates(in.Address.Country)
	if err != nil {
		return nil, fmt.Errorf("tax rates: %w", err)
	}
	req := pricing.Request{Shipping: method, TaxRate: rates.RateFor(in.Address.Country, in.Address.Region), Now: now}
	for _, l := range lines {
		req.Lines = append(req.Lines, pricing.Line{ProductID: l.ProductID, Quantity: l.Quantity, UnitPrice: l.UnitPrice})
	}
	var discountID int64
	if in.DiscountCode != "" {
		d, err := tx.LockDiscount(in.DiscountCode)
		if errors.Is(err, apperr.ErrNotFound) {
			return nil, problem(CodeInvalidDiscount, pricing.ErrDiscountUnknown.Error(), "discountCode")
		}
		if err != nil {
			return nil, fmt.Errorf("discount code: %w", err)
		}
		if d.PerCustomerLimit > 0 {
			if d.CustomerUses, err = tx.CustomerDiscountUses(d.ID, userID); err != nil {
				return nil, fmt.Errorf("discount uses: %w", err)
			}
		}
		discountID = d.ID
		req.Discount = &d.Discount
	}
	quote, err := pricing.Price(req)
	if errors.Is(err, pricing.ErrDiscountInvalid) {
		return nil, problem(CodeInvalidDiscount, err.Error(), "discountCode")
	}
	if err != nil {
		return nil, fmt.Errorf("price order: %w", err)
	}

	if err := s.countAgainstCap(ctx, userID, lines, now, hold); err != nil {
		return nil, err
	}

	// Lines come in product-id order, so every checkout takes inventory row locks in the same
	// order and two checkouts can never wait on each other in a cycle.
	for _, l := range lines {
		available, ok, err := tx.Reserve(l.ProductID, l.Quantity)
		if err != nil {
			return nil, fmt.Errorf("reserve stock: %w", err)
		}
		if !ok {
			ps = append(ps, Problem{Code: CodeOutOfStock, CartLineID: l.ID, Available: max(available, 0), Field: []string{"lines"},
				Message: fmt.Sprintf("only %d of %q available, %d requested", max(available, 0), l.ProductName, l.Quantity)})
			continue
		}
		if err := s.lowStockCheck(tx, l.ProductID, available+l.Quantity, available); err != nil {
			return nil, err
		}
	}
	if len(ps) > 0 {
		return nil, ps
	}

	o := &order.Order{
		UserID: userID, Currency: money.Currency,
		Subtotal: quote.Subtotal, Discount: quote.Discount, Shipping: quote.Shipping, Tax: quote.Tax, Total: quote.Total,
		DiscountCode: in.DiscountCode, ShippingMethod: method.Code, Address: in.Address,
	}
	for _, l := range lines {
		o.Lines = append(o.Lines, order.Line{ProductID: l.ProductID, ProductName: l.ProductName,
			Quantity: l.Quantity, UnitPrice: l.UnitPrice, LineTotal: l.UnitPrice.Mul(l.Quantity)})
	}
	if err := o.Place(now, now.Add(s.settings.ReservationTTL)); err != nil {
		return nil, err
	}
	if err := tx.CreateOrder(o, discountID); err != nil {
		return nil, fmt.Errorf("create order: %w", err)
	}
	if req.Discount != nil && req.Discount.UsageLimit > 0 {
		if err := tx.AddDiscountUse(discountID, 1); err != nil {
			return nil, fmt.Errorf("count discount use: %w", err)
		}
	}
	if err := tx.CloseCart(in.CartID); err != nil {
		return nil, fmt.Errorf("close cart: %w", err)
	}
	if err := enqueueStatus(tx, o); err != nil {
		return nil, err
	}
	return o, nil
}

// lowStockCheck raises an alert when available stock crosses under the threshold.
func (s *Service) lowStockCheck(tx Tx, productID int64, before, after int) error {
	t := s.settings.LowStockThreshold
	if t <= 0 || !(before >= t && after < t) {
		return nil
	}
	return tx.Enqueue(TopicLowStock, LowStockEvent{ProductID: productID, Available: after, Threshold: t})
}
