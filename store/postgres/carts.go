package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"storefront/domain/apperr"
	"storefront/domain/cart"
	"storefront/domain/catalog"
	"storefront/domain/money"
)

// Carts is the durable cart store. Every write locks the cart row (SELECT … FOR UPDATE) for the
// length of its transaction, so concurrent changes to one cart queue up instead of overwriting
// each other, and bumps carts.version.
type Carts struct {
	pool *pgxpool.Pool
}

// NewCarts returns the cart store on pool.
func NewCarts(pool *pgxpool.Pool) *Carts { return &Carts{pool: pool} }

var _ cart.Store = (*Carts)(nil)

// Queryer is what a pool, a connection and a transaction all offer.
type Queryer interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// CartCatalog reads what carts need of products: price, whether sold, and available stock, for
// many products in one indexed query.
type CartCatalog struct{ q Queryer }

// NewCartCatalog returns the catalog reader on pool.
func NewCartCatalog(pool *pgxpool.Pool) *CartCatalog { return &CartCatalog{q: pool} }

// Products implements cart.Catalog.
func (c *CartCatalog) Products(ctx context.Context, ids []int64) (map[int64]cart.Product, error) {
	if len(ids) == 0 {
		return map[int64]cart.Product{}, nil
	}
	rows, err := c.q.Query(ctx, `
		SELECT p.id, p.price, p.published, coalesce(i.available, 0)
		FROM products p LEFT JOIN inventory i ON i.product_id = p.id
		WHERE p.id = ANY($1)`, ids)
	if err != nil {
		return nil, fmt.Errorf("read cart products: %w", err)
	}
	return scanCartProducts(rows, len(ids))
}

// scanCartProducts reads rows of product id, price, published and available stock.
func scanCartProducts(rows pgx.Rows, size int) (map[int64]cart.Product, error) {
	defer rows.Close()
	out := make(map[int64]cart.Product, size)
	for rows.Next() {
		var p cart.Product
		var price int64
		if err := rows.Scan(&p.ID, &price, &p.Published, &p.Available); err != nil {
			return nil, fmt.Errorf("read cart products: %w", err)
		}
		p.Price = money.Amount(price)
		out[p.ID] = p
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read cart products: %w", err)
	}
	return out, nil
}

const cartColumns = `c.id, coalesce(c.user_id, 0), c.status, c.version, c.created_at, c.updated_at`

// Get implements cart.Store: the cart and its lines in one round trip.
func (s *Carts) Get(ctx context.Context, id string) (cart.Cart, error) {
	c, err := readCart(ctx, s.pool, `SELECT `+cartColumns+`,
			l.id, l.product_id, l.quantity, l.added_unit_price
		FROM carts c LEFT JOIN cart_lines l ON l.cart_id = c.id
		WHERE c.id = $1 ORDER BY l.id`, id)
	if err != nil {
		return cart.Cart{}, fmt.Errorf("get cart: %w", err)
	}
	return c, nil
}

// VersionAndProducts implements cart.Store: the cart row joined with the products, so the answer
// has at least one row exactly when the cart exists.
func (s *Carts) VersionAndProducts(ctx context.Context, id string, productIDs []int64) (int64, map[int64]cart.Product, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT c.version, p.id, p.price, p.published, coalesce(i.available, 0)
		FROM carts c
		LEFT JOIN products p ON p.id = ANY($2)
		LEFT JOIN inventory i ON i.product_id = p.id
		WHERE c.id = $1`, id, productIDs)
	if err != nil {
		return 0, nil, fmt.Errorf("read cart version and products: %w", err)
	}
	defer rows.Close()
	var version int64
	found := false
	products := make(map[int64]cart.Product, len(productIDs))
	for rows.Next() {
		var (
			productID, price *int64
			published        *bool
			available        *int
		)
		if err := rows.Scan(&version, &productID, &price, &published, &available); err != nil {
			return 0, nil, fmt.Errorf("read cart version and products: %w", err)
		}
		found = true
		if productID != nil {
			products[*productID] = cart.Product{ID: *productID, Price: money.Amount(*price), Published: *published, Available: *available}
		}
	}
	if err := rows.Err(); err != nil {
		return 0, nil, fmt.Errorf("read cart version and products: %w", err)
	}
	if !found {
		return 0, nil, apperr.ErrNotFound
	}
	return version, products, nil
}

// ActiveForUser implements cart.Store.
func (s *Carts) ActiveForUser(ctx context.Context, userID int64) (cart.Cart, error) {
	c, err := readCart(ctx, s.pool, `SELECT `+cartColumns+`,
			l.id, l.product_id, l.quantity, l.added_unit_price
		FROM carts c LEFT JOIN cart_lines l ON l.cart_id = c.id
		WHERE c.user_id = $1 AND c.status = 'ACTIVE' ORDER BY l.id`, userID)
	if err != nil {
		return cart.Cart{}, fmt.Errorf("get user cart: %w", err)
	}
	return c, nil
}

// readCart scans a cart joined with its lines (nullable line columns), or apperr.ErrNotFound.
func readCart(ctx context.Context, q Queryer, sql string, arg any) (cart.Cart, error) {
	rows, err := q.Query(ctx, sql, arg)
	if err != nil {
		return cart.Cart{}, err
	}
	defer rows.Close()
	var c cart.Cart
	found := false
	for rows.Next() {
		var (
			lineID, productID, price *int64
			qty                      *int
		)
		if err := rows.Scan(&c.ID, &c.UserID, &c.Status, &c.Version, &c.CreatedAt, &c.UpdatedAt,
			&lineID, &productID, &qty, &price); err != nil {
			return cart.Cart{}, err
		}
		found = true
		if lineID != nil {
			c.Lines = append(c.Lines, cart.Line{ID: *lineID, ProductID: *productID, Quantity: *qty,
				AddedUnitPrice: money.Amount(*price)})
		}
	}
	if err := rows.Err(); err != nil {
		return cart.Cart{}, err
	}
	if !found {
		return cart.Cart{}, apperr.ErrNotFound
	}
	return c, nil
}

// lockCart reads a cart and its lines, holding the cart row's lock until the transaction ends,
// in one round trip (see lockedCart).
func lockCart(ctx context.Context, tx pgx.Tx, where string, arg any) (cart.Cart, error) {
	var locked lockedCart
	batch := &pgx.Batch{}
	locked.queue(batch, where, arg)
	if err := tx.SendBatch(ctx, batch).Close(); err != nil {
		return cart.Cart{}, err
	}
	return locked.result()
}

// lockedCart is a cart read under its row lock by statements queued on a batch: the lock, then
// the lines. The statements run in turn, so the lines are read after the lock is held: under
// READ COMMITTED the second takes a fresh snapshot and sees the lines of every change that
// committed before the lock was granted. (One statement joining the lines and locking the cart
// would not: after waiting for the lock it rechecks the cart row alone and keeps the lines it
// read before the wait.)
type lockedCart struct {
	cart  cart.Cart
	found bool
}

// queue adds the statements that lock and read the cart matched by where (with $1 = arg).
func (l *lockedCart) queue(batch *pgx.Batch, where string, arg any) {
	batch.Queue(`SELECT `+cartColumns+` FROM carts c WHERE `+where+` FOR UPDATE`, arg).
		QueryRow(func(row pgx.Row) error {
			c := &l.cart
			err := row.Scan(&c.ID, &c.UserID, &c.Status, &c.Version, &c.CreatedAt, &c.UpdatedAt)
			if errors.Is(err, pgx.ErrNoRows) {
				return nil
			}
			l.found = err == nil
			return err
		})
	batch.Queue(`SELECT l.id, l.product_id, l.quantity, l.added_unit_price FROM cart_lines l
		WHERE l.cart_id = (SELECT c.id FROM carts c WHERE `+where+`) ORDER BY l.id`, arg).
		Query(func(rows pgx.Rows) error {
			var err error
			l.cart.Lines, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (cart.Line, error) {
				var line cart.Line
				var price int64
				err := r.Scan(&line.ID, &line.ProductID, &line.Quantity, &price)
				line.AddedUnitPrice = money.Amount(price)
				return line, err
			})
			return err
		})
}

// result is the cart once the batch was sent, or apperr.ErrNotFound.
func (l *lockedCart) result() (cart.Cart, error) {
	if !l.found {
		return cart.Cart{}, apperr.ErrNotFound
	}
	return l.cart, nil
}

// CartOfLine implements cart.Store.
func (s *Carts) CartOfLine(ctx context.Context, lineID int64) (string, error) {
	var id string
	err := s.pool.QueryRow(ctx, `SELECT cart_id FROM cart_lines WHERE id = $1`, lineID).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", apperr.ErrNotFound
	}
	if err != nil {
		return "", fmt.Errorf("find cart of line: %w", err)
	}
	return id, nil
}

// CreateGuest implements cart.Store in two round trips (see change): BEGIN with the new cart's
// row and the products fn will read; then the lines with COMMIT.
func (s *Carts) CreateGuest(ctx context.Context, id string, productIDs []int64, fn cart.UpdateFunc) (cart.Cart, error) {
	return s.change(ctx, productIDs, fn, func(first *pgx.Batch, locked *lockedCart, products *prefetchedCatalog) {
		locked.cart = cart.Cart{ID: id, Status: cart.StatusActive}
		first.Queue(`INSERT INTO carts (id) VALUES ($1) RETURNING version, created_at, updated_at`, id).
			QueryRow(func(row pgx.Row) error {
				locked.found = true
				return row.Scan(&locked.cart.Version, &locked.cart.CreatedAt, &locked.cart.UpdatedAt)
			})
		products.queue(first, `c.id = $1`, id)
	})
}

// userCart selects the user's active cart; $1 is the user's id.
const userCart = `c.user_id = $1 AND c.status = 'ACTIVE'`

// UpdateForUser implements cart.Store in two round trips (see change). The partial unique index
// on active user carts makes a concurrent creation for the same user wait and then find the
// other's cart.
func (s *Carts) UpdateForUser(ctx context.Context, userID int64, newID string, productIDs []int64, fn cart.UpdateFunc) (cart.Cart, error) {
	return s.change(ctx, productIDs, fn, func(first *pgx.Batch, locked *lockedCart, products *prefetchedCatalog) {
		queueCreateUserCart(first, userID, newID)
		locked.queue(first, userCart, userID)
		products.queue(first, userCart, userID)
	})
}

// queueCreateUserCart queues the creation of the user's active cart with newID, when the user has
// none.
func queueCreateUserCart(batch *pgx.Batch, userID int64, newID string) {
	batch.Queue(`INSERT INTO carts (id, user_id) VALUES ($1, $2)
		ON CONFLICT (user_id) WHERE status = 'ACTIVE' AND user_id IS NOT NULL DO NOTHING`, newID, userID)
}

// lockUserCart creates the user's active cart when there is none, and locks it (see lockCart).
func lockUserCart(ctx context.Context, tx pgx.Tx, userID int64, newID string) (cart.Cart, error) {
	var locked lockedCart
	batch := &pgx.Batch{}
	queueCreateUserCart(batch, userID, newID)
	locked.queue(batch, userCart, userID)
	if err := tx.SendBatch(ctx, batch).Close(); err != nil {
		if err = writeError(err); errors.Is(err, apperr.ErrNotFound) {
			return cart.Cart{}, err
		}
		return cart.Cart{}, fmt.Errorf("lock user cart: %w", err)
	}
	return locked.result()
}

// Update implements cart.Store in two round trips (see change): BEGIN with the lock on the cart,
// its lines and the products fn will read; then the writes with COMMIT.
func (s *Carts) Update(ctx context.Context, id string, productIDs []int64, fn cart.UpdateFunc) (cart.Cart, error) {
	return s.change(ctx, productIDs, fn, func(first *pgx.Batch, locked *lockedCart, products *prefetchedCatalog) {
		locked.queue(first, `c.id = $1`, id)
		products.queue(first, `c.id = $1`, id)
	})
}

// change runs fn on a cart in a transaction of two round trips (InPipelinedTx): open queues, after
// BEGIN, the statements that find (or create) and lock the cart into locked and read the products
// of its lines and productIDs into products; fn then changes the cart, and what it changed is
// written with COMMIT.
func (s *Carts) change(ctx context.Context, productIDs []int64, fn cart.UpdateFunc,
	open func(first *pgx.Batch, locked *lockedCart, products *prefetchedCatalog)) (cart.Cart, error) {
	var (
		locked   lockedCart
		products *prefetchedCatalog
		out      cart.Cart
	)
	err := InPipelinedTx(ctx, s.pool, func(first *pgx.Batch) {
		locked = lockedCart{}
		products = &prefetchedCatalog{asked: productIDs, whole: catalog.WantsProducts(ctx)}
		first.Queue(genericPlans)
		open(first, &locked, products)
	}, func(q Queryer) (*pgx.Batch, error) {
		c, err := locked.result()
		if err != nil {
			return nil, err
		}
		products.q = q
		before := clone(c)
		if err := fn(ctx, &c, products); err != nil {
			return nil, err
		}
		out = c
		writes := &pgx.Batch{}
		queueCartWrite(writes, before, &out)
		return writes, nil
	})
	if err != nil {
		return cart.Cart{}, writeError(err)
	}
	catalog.RememberProducts(ctx, products.rows)
	return out, nil
}

// genericPlans makes the statements of a cart change run their prepared statements' generic plans,
// for the rest of the transaction. Left to choose, Postgres kept planning the lines and the
// products reads afresh on some connections, and planning them cost more than running them. A
// cart change's statements look up by primary and unique keys, so the generic plan is the plan a
// custom one would pick. It is set per transaction, not per connection: how many rows a
// catalog search matches depends on its text, which only a custom plan sees. docs/SCALING.md
// has the plan counts measured before and after.
const genericPlans = `SET LOCAL plan_cache_mode = force_generic_plan`

// prefetchedCatalog is a change's catalog when the products were read with the locked cart: the
// products of its lines and those asked for. It answers from what it read and goes to the
// database, in the transaction, only for products it was not asked about.
type prefetchedCatalog struct {
	q Queryer
	// asked are the products read beside those of the cart's lines; one of them missing from
	// products does not exist.
	asked    []int64
	products map[int64]cart.Product
	// whole asks for the whole catalog rows too (catalog.WantsProducts): rows then holds them,
	// for the request to show without reading them again.
	whole bool
	rows  []catalog.Product
}

// queue adds the read of the products to the batch that locks the cart matched by where.
func (p *prefetchedCatalog) queue(batch *pgx.Batch, where string, arg any) {
	// One array of ids, the asked ones then those of the cart's lines, read in the statement
	// itself so that the products come in the same round trip as the lock. With the asked ids
	// alone in a parameter Postgres planned the statement afresh on every call (a plan for one
	// id always looks cheaper than the generic plan for some); the concatenation made that rarer
	// but did not end it, which genericPlans does.
	ids := `p.id = ANY($2::bigint[] || ARRAY(SELECT l.product_id FROM cart_lines l
			WHERE l.cart_id = (SELECT c.id FROM carts c WHERE ` + where + `)))`
	if !p.whole {
		batch.Queue(`SELECT p.id, p.price, p.published, coalesce(i.available, 0)
			FROM products p LEFT JOIN inventory i ON i.product_id = p.id WHERE `+ids, arg, p.asked).
			Query(func(rows pgx.Rows) error {
				var err error
				p.products, err = scanCartProducts(rows, len(p.asked)+8)
				return err
			})
		return
	}
	batch.Queue(`SELECT `+productColumns+`, coalesce(i.available, 0) FROM `+productJoins+` WHERE `+ids, arg, p.asked).
		Query(func(rows pgx.Rows) error {
			p.products = make(map[int64]cart.Product, len(p.asked)+8)
			var available int
			var err error
			p.rows, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (catalog.Product, error) {
				pr, err := scanProduct(row, &available)
				if err == nil {
					p.products[pr.ID] = cart.Product{ID: pr.ID, Price: pr.Price, Published: pr.Published, Available: available}
				}
				return pr, err
			})
			if err != nil {
				return fmt.Errorf("read cart products: %w", err)
			}
			return nil
		})
}

// Products implements cart.Catalog.
func (p *prefetchedCatalog) Products(ctx context.Context, ids []int64) (map[int64]cart.Product, error) {
	out := make(map[int64]cart.Product, len(ids))
	var unread []int64
	for _, id := range ids {
		if pr, ok := p.products[id]; ok {
			out[id] = pr
		} else if !slices.Contains(p.asked, id) {
			unread = append(unread, id)
		}
	}
	if len(unread) == 0 {
		return out, nil
	}
	more, err := (&CartCatalog{q: p.q}).Products(ctx, unread)
	if err != nil {
		return nil, err
	}
	for id, pr := range more {
		out[id] = pr
	}
	return out, nil
}

// Merge implements cart.Store. The guest cart is locked before the user's, in every caller, so
// two merges never wait on each other in a cycle.
func (s *Carts) Merge(ctx context.Context, guestID string, userID int64, newID string,
	fn func(ctx context.Context, guest, user *cart.Cart, catalog cart.Catalog) error) (cart.Cart, cart.Cart, error) {
	var guestOut, userOut cart.Cart
	err := InTx(ctx, s.pool, func(tx pgx.Tx) error {
		guest, err := lockCart(ctx, tx, `c.id = $1`, guestID)
		if err != nil {
			return err
		}
		user, err := lockUserCart(ctx, tx, userID, newID)
		if err != nil {
			return err
		}
		guestBefore, userBefore := clone(guest), clone(user)
		if err := fn(ctx, &guest, &user, &CartCatalog{q: tx}); err != nil {
			return err
		}
		if guestOut, err = writeCart(ctx, tx, guestBefore, guest); err != nil {
			return err
		}
		userOut, err = writeCart(ctx, tx, userBefore, user)
		return err
	})
	return guestOut, userOut, err
}

// DeleteGuestCartsBefore implements cart.Store. Carts being written right now are skipped, not
// waited for: they are evidently not abandoned.
func (s *Carts) DeleteGuestCartsBefore(ctx context.Context, cutoff time.Time, limit int) ([]string, error) {
	rows, err := s.pool.Query(ctx, `DELETE FROM carts WHERE id IN (
			SELECT id FROM carts WHERE user_id IS NULL AND updated_at < $1
			ORDER BY updated_at LIMIT $2 FOR UPDATE SKIP LOCKED)
		RETURNING id`, cutoff, limit)
	if err != nil {
		return nil, fmt.Errorf("delete guest carts: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("delete guest carts: %w", err)
	}
	return ids, nil
}

func clone(c cart.Cart) cart.Cart {
	c.Lines = slices.Clone(c.Lines)
	return c
}

// writeCart writes what changed from before to after in one round trip (see queueCartWrite).
func writeCart(ctx context.Context, tx pgx.Tx, before, after cart.Cart) (cart.Cart, error) {
	batch := &pgx.Batch{}
	if !queueCartWrite(batch, before, &after) {
		return after, nil
	}
	if err := tx.SendBatch(ctx, batch).Close(); err != nil {
		return cart.Cart{}, fmt.Errorf("write cart: %w", writeError(err))
	}
	return after, nil
}

// queueCartWrite queues on batch what turns before into after: removed lines, changed lines, new
// lines (whose ids it fills into after once the batch is sent) and the cart row with its version
// bumped. A cart that did not change is not written, keeps its version, and queues nothing: it
// reports false.
func queueCartWrite(batch *pgx.Batch, before cart.Cart, after *cart.Cart) bool {
	old := make(map[int64]cart.Line, len(before.Lines))
	for _, l := range before.Lines {
		old[l.ID] = l
	}
	var removed []int64
	kept := make(map[int64]bool, len(after.Lines))
	for _, l := range after.Lines {
		kept[l.ID] = true
	}
	for _, l := range before.Lines {
		if !kept[l.ID] {
			removed = append(removed, l.ID)
		}
	}
	queued := batch.Len()
	if len(removed) > 0 {
		batch.Queue(`DELETE FROM cart_lines WHERE cart_id = $1 AND id = ANY($2)`, after.ID, removed)
	}
	for i, l := range after.Lines {
		if l.ID == 0 {
			batch.Queue(`INSERT INTO cart_lines (cart_id, product_id, quantity, added_unit_price)
				VALUES ($1, $2, $3, $4) RETURNING id`, after.ID, l.ProductID, l.Quantity, int64(l.AddedUnitPrice)).
				QueryRow(func(row pgx.Row) error { return row.Scan(&after.Lines[i].ID) })
			continue
		}
		if o := old[l.ID]; o != l {
			batch.Queue(`UPDATE cart_lines SET quantity = $2, added_unit_price = $3, updated_at = now()
				WHERE id = $1`, l.ID, l.Quantity, int64(l.AddedUnitPrice))
		}
	}
	if batch.Len() == queued && before.Status == after.Status {
		return false
	}
	batch.Queue(`UPDATE carts SET version = version + 1, status = $2, updated_at = now()
		WHERE id = $1 RETURNING version, updated_at`, after.ID, string(after.Status)).
		QueryRow(func(row pgx.Row) error { return row.Scan(&after.Version, &after.UpdatedAt) })
	return true
}

// writeError translates the foreign keys a cart's writes can violate.
func writeError(err error) error {
	switch pgConstraint(err) {
	case "carts_user_id_fkey": // a cart for a user who does not exist (deleted meanwhile)
		return apperr.ErrNotFound
	case "cart_lines_product_id_fkey": // a product deleted from the catalog while being added
		return fmt.Errorf("write cart: product vanished: %w", err)
	}
	return err
}
