package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"storefront/domain/apperr"
	"storefront/domain/checkout"
	domorder "storefront/domain/order"
	"storefront/domain/payment"
	"storefront/domain/pricing"
)

// CheckoutStore implements checkout.Store.
type CheckoutStore struct{ pool *pgxpool.Pool }

// NewCheckoutStore returns the checkout store over pool.
func NewCheckoutStore(pool *pgxpool.Pool) *CheckoutStore { return &CheckoutStore{pool: pool} }

var _ checkout.Store = (*CheckoutStore)(nil)

// InTx runs fn in one transaction (retried on serialization failures and deadlocks). The
// transaction is a writeBehindTx: a checkout or a payment reads, decides and writes in turns,
// and its writes wait to travel with the next read or with COMMIT, which takes a placed order
// from fourteen round trips to nine.
func (s *CheckoutStore) InTx(ctx context.Context, fn func(checkout.Tx) error) error {
	return inWriteBehindTx(ctx, s.pool, func(tx *writeBehindTx) error { return fn(&checkoutTx{ctx: ctx, tx: tx}) })
}

// ClaimKey inserts the key row unless it exists and returns the stored row.
func (s *CheckoutStore) ClaimKey(ctx context.Context, k checkout.Key, requestHash string) (checkout.KeyRecord, error) {
	var rec checkout.KeyRecord
	var status string
	var result *int64
	// The no-op update makes the statement return the existing row too, in one round trip. It
	// waits on the key row while a duplicate request holds it; when Postgres breaks a deadlock
	// by failing this statement, running it again is safe, because it is an upsert.
	err := retryConflicts(func() error {
		return s.pool.QueryRow(ctx, `
			INSERT INTO idempotency_keys (user_id, scope, key, request_hash) VALUES ($1, $2, $3, $4)
			ON CONFLICT (user_id, scope, key) DO UPDATE SET user_id = EXCLUDED.user_id
			RETURNING request_hash, status, result_id`,
			k.UserID, k.Scope, k.Key, requestHash).Scan(&rec.RequestHash, &status, &result)
	})
	if err != nil {
		return rec, fmt.Errorf("claim idempotency key: %w", err)
	}
	rec.Done = status == "DONE"
	if result != nil {
		rec.ResultID = *result
	}
	return rec, nil
}

// ReleaseKey deletes a key still in progress.
func (s *CheckoutStore) ReleaseKey(ctx context.Context, k checkout.Key) error {
	_, err := s.pool.Exec(ctx, `DELETE FROM idempotency_keys
		WHERE user_id = $1 AND scope = $2 AND key = $3 AND status = 'IN_PROGRESS' AND result_id IS NULL`,
		k.UserID, k.Scope, k.Key)
	if err != nil {
		return fmt.Errorf("release idempotency key: %w", err)
	}
	return nil
}

// DeleteKeysBefore forgets keys created before t.
func (s *CheckoutStore) DeleteKeysBefore(ctx context.Context, t time.Time) (int64, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM idempotency_keys WHERE created_at < $1`, t)
	if err != nil {
		return 0, fmt.Errorf("delete old idempotency keys: %w", err)
	}
	return tag.RowsAffected(), nil
}

const orderColumns = `o.id, o.user_id, o.status, o.currency, o.subtotal, o.discount, o.shipping, o.tax, o.total,
	coalesce(o.discount_code, ''), o.shipping_method, o.ship_name, o.ship_line1, o.ship_line2, o.ship_city,
	o.ship_region, o.ship_postal_code, o.ship_country, o.tracking_carrier, o.tracking_number,
	o.reservation_expires_at, coalesce(o.cancel_reason, ''), o.created_at, o.updated_at`

func scanOrder(row pgx.Row) (*domorder.Order, error) {
	o := &domorder.Order{}
	var carrier, number *string
	var status string
	a := &o.Address
	err := row.Scan(&o.ID, &o.UserID, &status, &o.Currency, &o.Subtotal, &o.Discount, &o.Shipping, &o.Tax, &o.Total,
		&o.DiscountCode, &o.ShippingMethod, &a.Name, &a.Line1, &a.Line2, &a.City, &a.Region, &a.PostalCode, &a.Country,
		&carrier, &number, &o.ReservationExpiresAt, &o.CancelReason, &o.CreatedAt, &o.UpdatedAt)
	if err != nil {
		return nil, err
	}
	o.Status = domorder.Status(status)
	if carrier != nil && number != nil {
		o.Tracking = &domorder.Tracking{Carrier: *carrier, Number: *number}
	}
	return o, nil
}

// batchSender is what a pool and a transaction both offer for sending statements in one round
// trip.
type batchSender interface {
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
}

// orderDetails collects the lines and history of orders, read by statements queued on a batch:
// two statements, one round trip, for any number of orders.
type orderDetails struct {
	lines   map[int64][]domorder.Line
	history map[int64][]domorder.StatusChange
}

func (d *orderDetails) queue(batch *pgx.Batch, ids []int64) {
	d.lines = make(map[int64][]domorder.Line, len(ids))
	d.history = make(map[int64][]domorder.StatusChange, len(ids))
	// One order, the common case, is matched by equality: Postgres keeps the generic plan of
	// that statement, where a one-element array parameter had it planning every call afresh
	// (a plan for one id always looks cheaper than the generic plan for an unknown number).
	match, arg := `order_id = ANY($1)`, any(ids)
	if len(ids) == 1 {
		match, arg = `order_id = $1`, ids[0]
	}
	batch.Queue(`SELECT order_id, id, coalesce(product_id, 0), product_name, quantity, unit_price, line_total
		FROM order_lines WHERE `+match+` ORDER BY order_id, id`, arg).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			var oid int64
			var l domorder.Line
			if err := rows.Scan(&oid, &l.ID, &l.ProductID, &l.ProductName, &l.Quantity, &l.UnitPrice, &l.LineTotal); err != nil {
				return fmt.Errorf("scan order line: %w", err)
			}
			d.lines[oid] = append(d.lines[oid], l)
		}
		return rows.Err()
	})
	batch.Queue(`SELECT order_id, status, note, at FROM order_status_history
		WHERE `+match+` ORDER BY order_id, id`, arg).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			var oid int64
			var c domorder.StatusChange
			var st string
			if err := rows.Scan(&oid, &st, &c.Note, &c.At); err != nil {
				return fmt.Errorf("scan order history: %w", err)
			}
			c.Status = domorder.Status(st)
			d.history[oid] = append(d.history[oid], c)
		}
		return rows.Err()
	})
}

// attach gives each order the lines and history read for it.
func (d *orderDetails) attach(orders ...*domorder.Order) {
	for _, o := range orders {
		o.Lines, o.History = d.lines[o.ID], d.history[o.ID]
	}
}

// loadDetails fills the lines and history of orders.
func loadDetails(ctx context.Context, q batchSender, orders []*domorder.Order) error {
	if len(orders) == 0 {
		return nil
	}
	ids := make([]int64, len(orders))
	for i, o := range orders {
		ids[i] = o.ID
	}
	var d orderDetails
	batch := &pgx.Batch{}
	d.queue(batch, ids)
	if err := q.SendBatch(ctx, batch).Close(); err != nil {
		return fmt.Errorf("load order details: %w", err)
	}
	d.attach(orders...)
	return nil
}

// readOrder reads an order, locking its row when lock is set, and with details its lines and
// history too, all in one round trip. The statements run in turn, so under READ COMMITTED the
// lines and history are read after the lock is held and see every change committed before it.
func readOrder(ctx context.Context, q batchSender, id int64, lock, details bool) (*domorder.Order, error) {
	sql := `SELECT ` + orderColumns + ` FROM orders o WHERE o.id = $1`
	if lock {
		sql += ` FOR UPDATE`
	}
	var o *domorder.Order
	batch := &pgx.Batch{}
	batch.Queue(sql, id).QueryRow(func(row pgx.Row) error {
		var err error
		if o, err = scanOrder(row); errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		return err
	})
	var d orderDetails
	if details {
		d.queue(batch, []int64{id})
	}
	if err := q.SendBatch(ctx, batch).Close(); err != nil {
		return nil, fmt.Errorf("read order %d: %w", id, err)
	}
	if o == nil {
		return nil, apperr.ErrNotFound
	}
	d.attach(o)
	return o, nil
}

// Order loads an order with its lines and history.
func (s *CheckoutStore) Order(ctx context.Context, id int64) (*domorder.Order, error) {
	return readOrder(ctx, s.pool, id, false, true)
}

// UserOrders lists a user's orders newest first (by id, which grows with time).
func (s *CheckoutStore) UserOrders(ctx context.Context, userID int64, status domorder.Status, afterID int64, limit int) (checkout.OrderPage, error) {
	var page checkout.OrderPage
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM orders WHERE user_id = $1 AND ($2 = '' OR status = $2)`,
		userID, string(status)).Scan(&page.TotalCount); err != nil {
		return page, fmt.Errorf("count orders: %w", err)
	}
	if limit == 0 {
		return page, nil
	}
	rows, err := s.pool.Query(ctx, `SELECT `+orderColumns+` FROM orders o
		WHERE o.user_id = $1 AND ($2 = '' OR o.status = $2) AND ($3 = 0 OR o.id < $3)
		ORDER BY o.id DESC LIMIT $4`, userID, string(status), afterID, limit+1)
	if err != nil {
		return page, fmt.Errorf("list orders: %w", err)
	}
	for rows.Next() {
		o, err := scanOrder(rows)
		if err != nil {
			rows.Close()
			return page, fmt.Errorf("scan order: %w", err)
		}
		page.Orders = append(page.Orders, o)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return page, fmt.Errorf("list orders: %w", err)
	}
	if len(page.Orders) > limit {
		page.Orders, page.HasNext = page.Orders[:limit], true
	}
	return page, loadDetails(ctx, s.pool, page.Orders)
}

const paymentColumns = `id, order_id, user_id, status, amount, currency, token, coalesce(brand, ''), coalesce(last4, ''),
	reference, coalesce(charge_id, ''), coalesce(failure_reason, ''), created_at, updated_at`

func scanPayment(row pgx.Row) (payment.Payment, error) {
	var p payment.Payment
	var st string
	err := row.Scan(&p.ID, &p.OrderID, &p.UserID, &st, &p.Amount, &p.Currency, &p.Token, &p.Brand, &p.Last4,
		&p.Reference, &p.ChargeID, &p.FailureReason, &p.CreatedAt, &p.UpdatedAt)
	p.Status = payment.Status(st)
	return p, err
}

func collectPayments(rows pgx.Rows, err error) ([]payment.Payment, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []payment.Payment
	for rows.Next() {
		p, err := scanPayment(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// OrderPayments lists an order's payments, oldest first.
func (s *CheckoutStore) OrderPayments(ctx context.Context, orderID int64) ([]payment.Payment, error) {
	ps, err := collectPayments(s.pool.Query(ctx, `SELECT `+paymentColumns+` FROM payments WHERE order_id = $1 ORDER BY id`, orderID))
	if err != nil {
		return nil, fmt.Errorf("list payments of order %d: %w", orderID, err)
	}
	return ps, nil
}

// Payment loads a payment.
func (s *CheckoutStore) Payment(ctx context.Context, id int64) (payment.Payment, error) {
	p, err := scanPayment(s.pool.QueryRow(ctx, `SELECT `+paymentColumns+` FROM payments WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return p, apperr.ErrNotFound
	}
	if err != nil {
		return p, fmt.Errorf("load payment %d: %w", id, err)
	}
	return p, nil
}

// PendingPayments lists PENDING payments last touched before t, oldest first.
func (s *CheckoutStore) PendingPayments(ctx context.Context, before time.Time, limit int) ([]payment.Payment, error) {
	ps, err := collectPayments(s.pool.Query(ctx, `SELECT `+paymentColumns+` FROM payments
		WHERE status = 'PENDING' AND updated_at < $1 ORDER BY updated_at LIMIT $2`, before, limit))
	if err != nil {
		return nil, fmt.Errorf("list pending payments: %w", err)
	}
	return ps, nil
}

// ShippingMethods lists the active methods.
func (s *CheckoutStore) ShippingMethods(ctx context.Context) ([]pricing.ShippingMethod, error) {
	rows, err := s.pool.Query(ctx, `SELECT code, name, price, coalesce(free_over, 0) FROM shipping_methods
		WHERE active ORDER BY position, code`)
	if err != nil {
		return nil, fmt.Errorf("list shipping methods: %w", err)
	}
	defer rows.Close()
	var out []pricing.ShippingMethod
	for rows.Next() {
		var m pricing.ShippingMethod
		if err := rows.Scan(&m.Code, &m.Name, &m.Price, &m.FreeOver); err != nil {
			return nil, fmt.Errorf("scan shipping method: %w", err)
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// Inventory returns a product's stock; a product without a stock row has none.
func (s *CheckoutStore) Inventory(ctx context.Context, productID int64) (checkout.InventoryLevel, error) {
	lvl := checkout.InventoryLevel{ProductID: productID}
	err := s.pool.QueryRow(ctx, `SELECT i.on_hand, i.reserved FROM products p
		LEFT JOIN inventory i ON i.product_id = p.id WHERE p.id = $1`, productID).Scan(nullInt(&lvl.OnHand), nullInt(&lvl.Reserved))
	if errors.Is(err, pgx.ErrNoRows) {
		return lvl, apperr.ErrNotFound
	}
	if err != nil {
		return lvl, fmt.Errorf("load inventory of product %d: %w", productID, err)
	}
	return lvl, nil
}

// ExpiredOrders lists unpaid orders whose hold lapsed and that have no payment in flight.
func (s *CheckoutStore) ExpiredOrders(ctx context.Context, now time.Time, limit int) ([]int64, error) {
	rows, err := s.pool.Query(ctx, `SELECT o.id FROM orders o
		WHERE o.status = 'PENDING_PAYMENT' AND o.reservation_expires_at <= $1
		  AND NOT EXISTS (SELECT 1 FROM payments p WHERE p.order_id = o.id AND p.status = 'PENDING')
		ORDER BY o.reservation_expires_at LIMIT $2`, now, limit)
	if err != nil {
		return nil, fmt.Errorf("list expired orders: %w", err)
	}
	return pgx.CollectRows(rows, pgx.RowTo[int64])
}

// nullInt scans a nullable integer as 0.
func nullInt(dst *int) any { return &nullIntScanner{dst} }

type nullIntScanner struct{ dst *int }

// Scan implements sql.Scanner.
func (n *nullIntScanner) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*n.dst = 0
	case int64:
		*n.dst = int(v)
	case int32:
		*n.dst = int(v)
	default:
		return fmt.Errorf("scan %T into int", src)
	}
	return nil
}

// checkoutTx implements checkout.Tx on one writeBehindTx; each method is documented on the
// interface. Methods that only write queue their statement and answer nil: Postgres's refusal,
// if any, comes back from the transaction's next read or from its commit, and rolls it back.
type checkoutTx struct {
	ctx context.Context
	tx  *writeBehindTx
}

func (t *checkoutTx) LockKey(k checkout.Key) (checkout.KeyRecord, bool, error) {
	var rec checkout.KeyRecord
	var status string
	var result *int64
	err := t.tx.QueryRow(t.ctx, `SELECT request_hash, status, result_id FROM idempotency_keys
		WHERE user_id = $1 AND scope = $2 AND key = $3 FOR UPDATE`, k.UserID, k.Scope, k.Key).Scan(&rec.RequestHash, &status, &result)
	if errors.Is(err, pgx.ErrNoRows) {
		return rec, false, nil
	}
	if err != nil {
		return rec, false, fmt.Errorf("lock idempotency key: %w", err)
	}
	rec.Done = status == "DONE"
	if result != nil {
		rec.ResultID = *result
	}
	return rec, true, nil
}

func (t *checkoutTx) SetKeyResult(k checkout.Key, resultID int64, done bool) error {
	status := "IN_PROGRESS"
	if done {
		status = "DONE"
	}
	t.tx.write("record idempotency result", `UPDATE idempotency_keys SET result_id = $4, status = $5, updated_at = now()
		WHERE user_id = $1 AND scope = $2 AND key = $3`, k.UserID, k.Scope, k.Key, resultID, status)
	return nil
}

func (t *checkoutTx) LockCart(cartID string) (checkout.Cart, error) {
	var c checkout.Cart
	var uid *int64
	var status string
	err := t.tx.QueryRow(t.ctx, `SELECT id, user_id, status FROM carts WHERE id = $1 FOR UPDATE`, cartID).Scan(&c.ID, &uid, &status)
	if errors.Is(err, pgx.ErrNoRows) {
		return c, apperr.ErrNotFound
	}
	if err != nil {
		return c, fmt.Errorf("lock cart: %w", err)
	}
	if uid != nil {
		c.UserID = *uid
	}
	c.Active = status == "ACTIVE"
	return c, nil
}

func (t *checkoutTx) CartLines(cartID string) ([]checkout.CartLine, error) {
	var out []checkout.CartLine
	err := t.tx.QueryFunc(t.ctx, func(rows pgx.Rows) error {
		for rows.Next() {
			var l checkout.CartLine
			if err := rows.Scan(&l.ID, &l.ProductID, &l.ProductName, &l.Quantity, &l.UnitPrice, &l.Published); err != nil {
				return fmt.Errorf("scan cart line: %w", err)
			}
			out = append(out, l)
		}
		return rows.Err()
	}, `SELECT l.id, l.product_id, p.name, l.quantity, p.price, p.published
		FROM cart_lines l JOIN products p ON p.id = l.product_id
		WHERE l.cart_id = $1 ORDER BY l.product_id`, cartID)
	if err != nil {
		return nil, fmt.Errorf("read cart lines: %w", err)
	}
	return out, nil
}

func (t *checkoutTx) CloseCart(cartID string) error {
	t.tx.write("close cart", `UPDATE carts SET status = 'CHECKED_OUT', version = version + 1, updated_at = now()
		WHERE id = $1`, cartID)
	return nil
}

func (t *checkoutTx) ShippingMethod(code string) (pricing.ShippingMethod, error) {
	var m pricing.ShippingMethod
	err := t.tx.QueryRow(t.ctx, `SELECT code, name, price, coalesce(free_over, 0) FROM shipping_methods
		WHERE code = $1 AND active`, code).Scan(&m.Code, &m.Name, &m.Price, &m.FreeOver)
	if errors.Is(err, pgx.ErrNoRows) {
		return m, apperr.ErrNotFound
	}
	return m, err
}

func (t *checkoutTx) TaxRates(country string) (pricing.TaxTable, error) {
	var out pricing.TaxTable
	err := t.tx.QueryFunc(t.ctx, func(rows pgx.Rows) error {
		for rows.Next() {
			var r pricing.TaxRate
			if err := rows.Scan(&r.Country, &r.Region, &r.BasisPoints); err != nil {
				return err
			}
			out = append(out, r)
		}
		return rows.Err()
	}, `SELECT country, region, basis_points FROM tax_rates WHERE country = $1`, country)
	return out, err
}

// LockDiscount reads a code, locking its row only when the code has a usage cap: redemptions of a
// capped code must be counted one at a time, while an uncapped code (WELCOME10) must not make
// every checkout that uses it queue on one row.
func (t *checkoutTx) LockDiscount(code string) (checkout.Discount, error) {
	var d checkout.Discount
	var kind string
	var starts, ends *time.Time
	var usage, perCustomer *int
	const q = `SELECT id, code, kind, value, min_subtotal, starts_at, ends_at, usage_limit,
		per_customer_limit, times_used FROM discount_codes WHERE code = $1`
	scan := func(sql string) error {
		return t.tx.QueryRow(t.ctx, sql, code).
			Scan(&d.ID, &d.Code, &kind, &d.Value, &d.MinSubtotal, &starts, &ends, &usage, &perCustomer, &d.TimesUsed)
	}
	err := scan(q)
	if err == nil && usage != nil {
		err = scan(q + ` FOR UPDATE`)
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return d, apperr.ErrNotFound
	}
	if err != nil {
		return d, err
	}
	d.Kind = pricing.DiscountKind(kind)
	if starts != nil {
		d.StartsAt = *starts
	}
	if ends != nil {
		d.EndsAt = *ends
	}
	if usage != nil {
		d.UsageLimit = *usage
	}
	if perCustomer != nil {
		d.PerCustomerLimit = *perCustomer
	}
	return d, nil
}

func (t *checkoutTx) CustomerDiscountUses(discountID, userID int64) (int, error) {
	var n int
	err := t.tx.QueryRow(t.ctx, `SELECT count(*) FROM orders WHERE discount_id = $1 AND user_id = $2
		AND status NOT IN ('CANCELLED', 'REFUNDED')`, discountID, userID).Scan(&n)
	return n, err
}

func (t *checkoutTx) AddDiscountUse(discountID int64, delta int) error {
	t.tx.write("count discount use", `UPDATE discount_codes SET times_used = greatest(times_used + $2, 0) WHERE id = $1`, discountID, delta)
	return nil
}

func (t *checkoutTx) ReleaseOrderDiscount(orderID int64) error {
	t.tx.write("release discount use", `UPDATE discount_codes SET times_used = greatest(times_used - 1, 0)
		WHERE id = (SELECT discount_id FROM orders WHERE id = $1) AND usage_limit IS NOT NULL`, orderID)
	return nil
}

// Reserve is the conditional update that keeps stock from being oversold: it succeeds only while
// enough is available, and concurrent callers queue on the row lock and re-check after it.
func (t *checkoutTx) Reserve(productID int64, qty int) (int, bool, error) {
	var available int
	err := t.tx.QueryRow(t.ctx, `UPDATE inventory SET reserved = reserved + $2, updated_at = now()
		WHERE product_id = $1 AND on_hand - reserved >= $2 RETURNING on_hand - reserved`, productID, qty).Scan(&available)
	if err == nil {
		return available, true, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return 0, false, err
	}
	err = t.tx.QueryRow(t.ctx, `SELECT on_hand - reserved FROM inventory WHERE product_id = $1`, productID).Scan(&available)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, false, nil
	}
	return available, false, err
}

// execOne queues a write that must change exactly one row (writeOne): the transaction fails,
// before its COMMIT, when it changes none.
func (t *checkoutTx) execOne(what, sql string, args ...any) error {
	t.tx.writeOne(what, sql, args...)
	return nil
}

func (t *checkoutTx) Release(productID int64, qty int) error {
	return t.execOne("release stock", `UPDATE inventory SET reserved = reserved - $2, updated_at = now()
		WHERE product_id = $1 AND reserved >= $2`, productID, qty)
}

func (t *checkoutTx) Sell(productID int64, qty int) error {
	// One statement: the sale is counted only when the stock row held the reserved units, so one
	// changed row means both were written. Stock before product, as in Restock.
	return t.execOne("sell stock", `WITH sold AS (
			UPDATE inventory SET on_hand = on_hand - $2, reserved = reserved - $2, updated_at = now()
			WHERE product_id = $1 AND reserved >= $2 AND on_hand >= $2 RETURNING product_id)
		UPDATE products SET sold_count = sold_count + $2 WHERE id = (SELECT product_id FROM sold)`, productID, qty)
}

func (t *checkoutTx) Restock(productID int64, qty int) error {
	if err := t.execOne("restock", `UPDATE inventory SET on_hand = on_hand + $2, updated_at = now() WHERE product_id = $1`, productID, qty); err != nil {
		return err
	}
	return t.execOne("uncount sale", `UPDATE products SET sold_count = greatest(sold_count - $2, 0) WHERE id = $1`, productID, qty)
}

func (t *checkoutTx) LockInventory(productID int64) (checkout.InventoryLevel, error) {
	lvl := checkout.InventoryLevel{ProductID: productID}
	var exists bool
	if err := t.tx.QueryRow(t.ctx, `SELECT EXISTS (SELECT 1 FROM products WHERE id = $1)`, productID).Scan(&exists); err != nil {
		return lvl, err
	}
	if !exists {
		return lvl, apperr.ErrNotFound
	}
	t.tx.write("create stock row", `INSERT INTO inventory (product_id, on_hand) VALUES ($1, 0) ON CONFLICT DO NOTHING`, productID)
	err := t.tx.QueryRow(t.ctx, `SELECT on_hand, reserved FROM inventory WHERE product_id = $1 FOR UPDATE`, productID).Scan(&lvl.OnHand, &lvl.Reserved)
	return lvl, err
}

func (t *checkoutTx) SetOnHand(productID int64, onHand int) error {
	return t.execOne("set stock", `UPDATE inventory SET on_hand = $2, updated_at = now() WHERE product_id = $1`, productID, onHand)
}

func (t *checkoutTx) CreateOrder(o *domorder.Order, discountID int64) error {
	a := o.Address
	var did *int64
	var code *string
	if discountID != 0 {
		did, code = &discountID, &o.DiscountCode
	}
	err := t.tx.QueryRow(t.ctx, `INSERT INTO orders (user_id, status, currency, subtotal, discount, shipping, tax, total,
		discount_id, discount_code, shipping_method, ship_name, ship_line1, ship_line2, ship_city, ship_region,
		ship_postal_code, ship_country, reservation_expires_at, created_at, updated_at)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19,$20,$20) RETURNING id`,
		o.UserID, string(o.Status), o.Currency, o.Subtotal, o.Discount, o.Shipping, o.Tax, o.Total, did, code,
		o.ShippingMethod, a.Name, a.Line1, a.Line2, a.City, a.Region, a.PostalCode, a.Country,
		o.ReservationExpiresAt, o.CreatedAt).Scan(&o.ID)
	if err != nil {
		return fmt.Errorf("insert order: %w", err)
	}
	o.UpdatedAt = o.CreatedAt
	// Every line in one round trip; the ids come back in the lines' order.
	lines := &pgx.Batch{}
	for i := range o.Lines {
		l := &o.Lines[i]
		lines.Queue(`INSERT INTO order_lines (order_id, product_id, product_name, quantity, unit_price, line_total)
			VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`, o.ID, l.ProductID, l.ProductName, l.Quantity, l.UnitPrice, l.LineTotal).
			QueryRow(func(row pgx.Row) error { return row.Scan(&l.ID) })
	}
	if err := t.tx.SendBatch(t.ctx, lines).Close(); err != nil {
		return fmt.Errorf("insert order lines: %w", err)
	}
	return t.insertHistory(o)
}

func (t *checkoutTx) insertHistory(o *domorder.Order) error {
	c := o.LastChange()
	t.tx.write("insert status history", `INSERT INTO order_status_history (order_id, status, note, at) VALUES ($1, $2, $3, $4)`,
		o.ID, string(c.Status), c.Note, c.At)
	return nil
}

func (t *checkoutTx) LockOrder(id int64) (*domorder.Order, error) {
	return readOrder(t.ctx, t.tx, id, true, true)
}

func (t *checkoutTx) LockOrderHead(id int64) (*domorder.Order, error) {
	return readOrder(t.ctx, t.tx, id, true, false)
}

func (t *checkoutTx) SaveOrder(o *domorder.Order) error {
	var carrier, number *string
	if o.Tracking != nil {
		carrier, number = &o.Tracking.Carrier, &o.Tracking.Number
	}
	var reason *string
	if o.CancelReason != "" {
		reason = &o.CancelReason
	}
	// One statement for the order and its history entry: the entry is inserted only when the
	// order row was there to update, so one changed row means both were written.
	c := o.LastChange()
	return t.execOne("save order", `WITH saved AS (
			UPDATE orders SET status = $2, tracking_carrier = $3, tracking_number = $4,
				reservation_expires_at = $5, cancel_reason = $6, updated_at = $7 WHERE id = $1 RETURNING id)
		INSERT INTO order_status_history (order_id, status, note, at)
		SELECT id, $8::text, $9::text, $10::timestamptz FROM saved`,
		o.ID, string(o.Status), carrier, number, o.ReservationExpiresAt, reason, o.UpdatedAt,
		string(c.Status), c.Note, c.At)
}

func (t *checkoutTx) HasPendingPayment(orderID int64) (bool, error) {
	var busy bool
	err := t.tx.QueryRow(t.ctx, `SELECT EXISTS (SELECT 1 FROM payments WHERE order_id = $1 AND status = 'PENDING')`, orderID).Scan(&busy)
	return busy, err
}

func (t *checkoutTx) InsertPayment(p *payment.Payment) error {
	err := t.tx.QueryRow(t.ctx, `INSERT INTO payments (order_id, user_id, status, amount, currency, token, reference)
		VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id, created_at, updated_at`,
		p.OrderID, p.UserID, string(p.Status), p.Amount, p.Currency, p.Token, p.Reference).Scan(&p.ID, &p.CreatedAt, &p.UpdatedAt)
	if pgCode(err) == codeUniqueViolation && pgConstraint(err) == "payments_one_pending_per_order_idx" {
		return checkout.ErrPaymentInProgress
	}
	return err
}

func (t *checkoutTx) LockPayment(id int64) (payment.Payment, error) {
	p, err := scanPayment(t.tx.QueryRow(t.ctx, `SELECT `+paymentColumns+` FROM payments WHERE id = $1 FOR UPDATE`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return p, apperr.ErrNotFound
	}
	return p, err
}

func (t *checkoutTx) FindPayment(reference, chargeID string) (payment.Payment, error) {
	p, err := scanPayment(t.tx.QueryRow(t.ctx, `SELECT `+paymentColumns+` FROM payments
		WHERE ($1 <> '' AND reference = $1) OR ($2 <> '' AND charge_id = $2) LIMIT 1`, reference, chargeID))
	if errors.Is(err, pgx.ErrNoRows) {
		return p, apperr.ErrNotFound
	}
	return p, err
}

func (t *checkoutTx) UpdatePayment(p payment.Payment) error {
	opt := func(s string) *string {
		if s == "" {
			return nil
		}
		return &s
	}
	return t.execOne("update payment", `UPDATE payments SET status = $2, brand = $3, last4 = $4, charge_id = $5,
		failure_reason = $6, amount = $7, updated_at = now() WHERE id = $1`,
		p.ID, string(p.Status), opt(p.Brand), opt(p.Last4), opt(p.ChargeID), opt(p.FailureReason), p.Amount)
}

func (t *checkoutTx) ApprovedPayments(orderID int64) ([]payment.Payment, error) {
	var out []payment.Payment
	err := t.tx.QueryFunc(t.ctx, func(rows pgx.Rows) error {
		var err error
		out, err = collectPayments(rows, nil)
		return err
	}, `SELECT `+paymentColumns+` FROM payments WHERE order_id = $1 AND status = 'APPROVED' ORDER BY id`, orderID)
	return out, err
}

func (t *checkoutTx) RecordWebhookEvent(id, typ string) (bool, error) {
	tag, err := t.tx.Exec(t.ctx, `INSERT INTO payment_webhook_events (event_id, type) VALUES ($1, $2) ON CONFLICT DO NOTHING`, id, typ)
	if err != nil {
		return false, fmt.Errorf("record webhook event: %w", err)
	}
	return tag.RowsAffected() == 1, nil
}

func (t *checkoutTx) Enqueue(topic string, payload any) error {
	b, err := json.Marshal(payload)
	if err != nil {
		return fmt.Errorf("encode %s event: %w", topic, err)
	}
	t.tx.write("enqueue "+topic+" event", `INSERT INTO outbox (topic, payload) VALUES ($1, $2)`, topic, b)
	return nil
}
