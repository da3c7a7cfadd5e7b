// Package checkout turns a cart into an order and follows the order to delivery: it reprices from
// the database, holds stock with conditional updates in the transaction that creates the order,
// takes payment through the payment.Gateway port, applies gateway webhooks once, and releases,
// sells or restocks inventory as the order moves through its states (see package order).
//
// Guarantees and how they are kept:
//   - nothing oversold: stock is reserved with UPDATE … WHERE on_hand - reserved >= n, rows
//     affected checked, rows locked in product-id order so concurrent checkouts cannot deadlock;
//   - nothing charged twice: an idempotency key row is written before any work, the payment row is
//     written PENDING before the gateway is called, its reference is the gateway's idempotency key,
//     and only one PENDING payment may exist per order;
//   - nothing stuck: unpaid reservations expire (ExpireReservations), PENDING payments are settled
//     by asking the gateway (ReconcilePayments), and after-commit work goes through the outbox.
package checkout

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"storefront/domain/money"
	"storefront/domain/order"
	"storefront/domain/payment"
	"storefront/domain/pricing"
)

// Settings tune the service.
type Settings struct {
	// ReservationTTL is how long an unpaid order holds its stock.
	ReservationTTL time.Duration
	// LowStockThreshold raises a low-stock alert when a product's available stock falls under it.
	LowStockThreshold int
	// ReconcileAfter is how old a PENDING payment must be before the reconciler asks the gateway
	// about it; longer than any gateway call takes, so the reconciler never races a live request.
	ReconcileAfter time.Duration
	// KeyRetention is how long idempotency keys are kept (at least 24 hours).
	KeyRetention time.Duration
}

// DefaultSettings are the production defaults.
func DefaultSettings() Settings {
	return Settings{
		ReservationTTL:    15 * time.Minute,
		LowStockThreshold: 5,
		ReconcileAfter:    time.Minute,
		KeyRetention:      48 * time.Hour,
	}
}

// CartRefresher is told after checkout changed a cart behind the cart service's back, so that its
// cache is rebuilt and its subscribers hear of it.
type CartRefresher interface {
	Changed(ctx context.Context, cartID string) error
}

// StatusFeed carries order status changes to subscribers on every instance.
type StatusFeed interface {
	Publish(ctx context.Context, orderID int64, status order.Status) error
	// Subscribe returns the statuses announced for the order until ctx ends.
	Subscribe(ctx context.Context, orderID int64) (<-chan order.Status, error)
}

// Service is the checkout and order service.
type Service struct {
	store    Store
	outbox   Outbox
	gateway  payment.Gateway
	feed     StatusFeed
	carts    CartRefresher
	caps     PurchaseLimiter
	settings Settings
	log      *slog.Logger
	now      func() time.Time
	// kick wakes the outbox relay after a commit that wrote events, so they go out at once.
	kick chan struct{}
}

// Option adjusts a Service.
type Option func(*Service)

// WithClock replaces the clock, for tests of expiry.
func WithClock(now func() time.Time) Option { return func(s *Service) { s.now = now } }

// WithCartRefresher tells the cart service about carts checkout closed.
func WithCartRefresher(c CartRefresher) Option { return func(s *Service) { s.carts = c } }

// PurchaseLimiter caps the units of one product a customer buys per day (domain/limits), so a
// scalper cannot empty a limited drop across many orders.
type PurchaseLimiter interface {
	// CheckAndConsumeAll counts units (product id → quantity) against today's caps, all or
	// nothing; over a cap it returns an error matching limits.ErrQuantityLimit.
	CheckAndConsumeAll(ctx context.Context, userID int64, units map[int64]int) error
	// Release gives back units counted on the day at.
	Release(ctx context.Context, userID, productID int64, qty int, at time.Time) error
}

// WithPurchaseLimiter makes checkout count every order against the per-customer daily caps.
func WithPurchaseLimiter(l PurchaseLimiter) Option { return func(s *Service) { s.caps = l } }

// New builds the service.
func New(store Store, outbox Outbox, gw payment.Gateway, feed StatusFeed, settings Settings, log *slog.Logger, opts ...Option) *Service {
	s := &Service{
		store: store, outbox: outbox, gateway: gw, feed: feed, settings: settings, log: log,
		now:  func() time.Time { return time.Now().UTC() },
		kick: make(chan struct{}, 1),
	}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Errors the store returns that the service acts on.
var (
	// ErrPaymentInProgress: the order already has a PENDING payment.
	ErrPaymentInProgress = errors.New("a payment for this order is already in progress")
	// errKeyVanished: the idempotency key row was released by a failed attempt; claim it again.
	errKeyVanished = errors.New("idempotency key released by a concurrent attempt")
)

// Key names one idempotent request of a user.
type Key struct {
	UserID int64
	Scope  string
	Key    string
}

// Idempotency scopes.
const (
	scopeCheckout = "checkout"
	scopePay      = "pay"
)

// KeyRecord is the stored state of an idempotency key.
type KeyRecord struct {
	RequestHash string
	Done        bool
	// ResultID is the order (checkout) or payment (pay) the request produced, 0 before that.
	ResultID int64
}

// InventoryLevel is a product's stock.
type InventoryLevel struct {
	ProductID int64
	OnHand    int
	Reserved  int
}

// Available is what shoppers may still buy.
func (l InventoryLevel) Available() int { return l.OnHand - l.Reserved }

// CartLine is a line of the cart being checked out, with the product as the catalog has it now.
type CartLine struct {
	ID          int64
	ProductID   int64
	ProductName string
	Quantity    int
	// UnitPrice is the current catalog price.
	UnitPrice money.Amount
	// Published is false for a product withdrawn from sale.
	Published bool
}

// Cart is the cart being checked out.
type Cart struct {
	ID     string
	UserID int64
	Active bool
}

// Discount is a discount code as stored, with its id.
type Discount struct {
	ID int64
	pricing.Discount
}

// OrderPage is a page of a user's orders, newest first.
type OrderPage struct {
	Orders     []*order.Order
	HasNext    bool
	TotalCount int
}

// Store is the Postgres side of checkout. Reads run on their own; writes run in a Tx.
type Store interface {
	InTx(ctx context.Context, fn func(Tx) error) error

	// ClaimKey inserts the key row (in its own transaction) unless it exists, and returns the row.
	ClaimKey(ctx context.Context, k Key, requestHash string) (KeyRecord, error)
	// ReleaseKey deletes the key row if it is still in progress, so a request that failed before
	// changing anything can be retried with the same key.
	ReleaseKey(ctx context.Context, k Key) error
	// DeleteKeysBefore forgets keys created before t.
	DeleteKeysBefore(ctx context.Context, t time.Time) (int64, error)

	// Order loads an order with its lines and history, or apperr.ErrNotFound.
	Order(ctx context.Context, id int64) (*order.Order, error)
	// UserOrders lists a user's orders newest first, after the order with id afterID (0: from the
	// newest), optionally of one status.
	UserOrders(ctx context.Context, userID int64, status order.Status, afterID int64, limit int) (OrderPage, error)
	// OrderPayments lists an order's payments, oldest first.
	OrderPayments(ctx context.Context, orderID int64) ([]payment.Payment, error)
	// Payment loads one payment, or apperr.ErrNotFound.
	Payment(ctx context.Context, id int64) (payment.Payment, error)
	ShippingMethods(ctx context.Context) ([]pricing.ShippingMethod, error)
	Inventory(ctx context.Context, productID int64) (InventoryLevel, error)
	// ExpiredOrders lists unpaid orders whose hold lapsed at now and that have no payment in flight.
	ExpiredOrders(ctx context.Context, now time.Time, limit int) ([]int64, error)
	// PendingPayments lists PENDING payments last touched before t.
	PendingPayments(ctx context.Context, before time.Time, limit int) ([]payment.Payment, error)
}

// Tx is one transaction of the checkout store. A store may hold back a write until the
// transaction's next read or its commit, to save round trips: the failure of a write can then
// come back from a later call or from InTx, and either way nothing of the transaction stays.
type Tx interface {
	// LockKey locks the key row; found is false when it no longer exists.
	LockKey(k Key) (rec KeyRecord, found bool, err error)
	// SetKeyResult records what the request produced; done marks it finished.
	SetKeyResult(k Key, resultID int64, done bool) error

	// LockCart locks the cart row, or apperr.ErrNotFound.
	LockCart(cartID string) (Cart, error)
	// CartLines returns the cart's lines in product-id order, with current catalog data.
	CartLines(cartID string) ([]CartLine, error)
	// CloseCart marks the cart CHECKED_OUT.
	CloseCart(cartID string) error

	ShippingMethod(code string) (pricing.ShippingMethod, error)
	TaxRates(country string) (pricing.TaxTable, error)
	// LockDiscount reads a code, locking its row when it has a usage cap, or apperr.ErrNotFound.
	LockDiscount(code string) (Discount, error)
	// CustomerDiscountUses counts the user's orders (not cancelled) that used the code.
	CustomerDiscountUses(discountID, userID int64) (int, error)
	// AddDiscountUse moves a capped code's usage count by delta.
	AddDiscountUse(discountID int64, delta int) error
	// ReleaseOrderDiscount gives back the use of the capped code an order redeemed, if any.
	ReleaseOrderDiscount(orderID int64) error

	// Reserve holds qty units if that many are available; ok is false (and nothing changes) when
	// not, with the quantity available now.
	Reserve(productID int64, qty int) (available int, ok bool, err error)
	// Release gives back qty reserved units.
	Release(productID int64, qty int) error
	// Sell turns qty reserved units into a sale: on hand and reserved both fall, sold count rises.
	Sell(productID int64, qty int) error
	// Restock returns qty sold units to stock.
	Restock(productID int64, qty int) error
	// LockInventory locks a product's stock row, creating an empty one for a product without,
	// or apperr.ErrNotFound for no such product.
	LockInventory(productID int64) (InventoryLevel, error)
	SetOnHand(productID int64, onHand int) error

	// CreateOrder inserts a placed order with its lines and first history entry, setting ids.
	CreateOrder(o *order.Order, discountID int64) error
	// LockOrder locks and loads an order with its lines and history, or apperr.ErrNotFound.
	LockOrder(id int64) (*order.Order, error)
	// LockOrderHead locks and loads an order without its lines and history, or
	// apperr.ErrNotFound: for the checks that need only its status, owner and totals.
	LockOrderHead(id int64) (*order.Order, error)
	// SaveOrder writes the order's status fields and its newest history entry.
	SaveOrder(o *order.Order) error
	// HasPendingPayment says whether a payment of the order awaits the gateway's verdict.
	HasPendingPayment(orderID int64) (bool, error)

	// InsertPayment writes a new payment, setting its id; ErrPaymentInProgress when the order
	// already has a PENDING one.
	InsertPayment(p *payment.Payment) error
	// LockPayment locks a payment by id, or apperr.ErrNotFound.
	LockPayment(id int64) (payment.Payment, error)
	// FindPayment finds a payment by the gateway reference or charge id, or apperr.ErrNotFound.
	FindPayment(reference, chargeID string) (payment.Payment, error)
	UpdatePayment(p payment.Payment) error
	// ApprovedPayments lists the order's approved payments, to refund them.
	ApprovedPayments(orderID int64) ([]payment.Payment, error)
	// RecordWebhookEvent stores a gateway event id; fresh is false when it was seen before.
	RecordWebhookEvent(id, typ string) (fresh bool, err error)

	// Enqueue writes an outbox event, delivered after commit.
	Enqueue(topic string, payload any) error
}
