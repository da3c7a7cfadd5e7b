package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"storefront/domain/apperr"
	"storefront/domain/cart"
	"storefront/domain/identity"
	"storefront/domain/money"
	"storefront/store/postgres"
	"storefront/testsupport"
)

// newProducts inserts products with the prices given (in minor units), 10 on hand each, and
// returns their ids in the same order.
func newProducts(t *testing.T, pool *pgxpool.Pool, prices ...int64) []int64 {
	t.Helper()
	ctx := context.Background()
	var seller, category int64
	if err := pool.QueryRow(ctx, `INSERT INTO sellers (slug, name) VALUES ('s', 'S') RETURNING id`).Scan(&seller); err != nil {
		t.Fatal(err)
	}
	if err := pool.QueryRow(ctx, `INSERT INTO categories (slug, name) VALUES ('c', 'C') RETURNING id`).Scan(&category); err != nil {
		t.Fatal(err)
	}
	ids := make([]int64, len(prices))
	for i, price := range prices {
		err := pool.QueryRow(ctx, `INSERT INTO products (slug, name, price, category_id, seller_id)
			VALUES ($1, 'P', $2, $3, $4) RETURNING id`, fmt.Sprint("p-", price), price, category, seller).Scan(&ids[i])
		if err != nil {
			t.Fatal(err)
		}
		if _, err := pool.Exec(ctx, `INSERT INTO inventory (product_id, on_hand) VALUES ($1, 10)`, ids[i]); err != nil {
			t.Fatal(err)
		}
	}
	return ids
}

// addLine is an UpdateFunc that adds one of the product to the cart.
func addLine(productID int64) cart.UpdateFunc {
	return func(ctx context.Context, c *cart.Cart, catalog cart.Catalog) error {
		products, err := catalog.Products(ctx, []int64{productID})
		if err != nil {
			return err
		}
		if err := c.Add(products[productID], 1, cart.DefaultLimits); err != nil {
			return err
		}
		return nil
	}
}

// TestCartUpdateCatalog: the catalog a change gets answers for the products of the cart's lines,
// for those named in advance, and for others it was not told about; a product that does not
// exist is absent whichever way it was asked for.
func TestCartUpdateCatalog(t *testing.T) {
	t.Parallel()
	pool, _ := testsupport.NewPool(t)
	ctx := context.Background()
	ids := newProducts(t, pool, 100, 200, 300)
	inCart, named, unnamed := ids[0], ids[1], ids[2]
	const missingNamed, missingUnnamed = 999_001, 999_002
	store := postgres.NewCarts(pool)
	c, err := store.CreateGuest(ctx, "cart-catalog-0000000000", []int64{inCart}, addLine(inCart))
	if err != nil {
		t.Fatal(err)
	}

	var got map[int64]cart.Product
	_, err = store.Update(ctx, c.ID, []int64{named, missingNamed}, func(ctx context.Context, c *cart.Cart, catalog cart.Catalog) error {
		got, err = catalog.Products(ctx, []int64{inCart, named, unnamed, missingNamed, missingUnnamed})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	want := map[int64]money.Amount{inCart: 100, named: 200, unnamed: 300}
	if len(got) != len(want) {
		t.Errorf("catalog answered %d products (%v); want %d", len(got), got, len(want))
	}
	for id, price := range want {
		p, ok := got[id]
		if !ok || p.Price != price || p.Available != 10 || !p.Published {
			t.Errorf("product %d: %+v (found %v); want price %d, 10 available, published", id, p, ok, price)
		}
	}
}

// TestCartUpdateSeesLinesCommittedWhileWaiting: a change that waits for another's lock on the cart
// then reads the cart as that change left it, with the line it added and that line's product,
// although its own statements were sent before the lock was granted.
func TestCartUpdateSeesLinesCommittedWhileWaiting(t *testing.T) {
	t.Parallel()
	pool, _ := testsupport.NewPool(t)
	ctx := context.Background()
	ids := newProducts(t, pool, 100, 200)
	first, second := ids[0], ids[1]
	store := postgres.NewCarts(pool)
	c, err := store.CreateGuest(ctx, "cart-waiting-00000000000", nil, addLine(first))
	if err != nil {
		t.Fatal(err)
	}

	locked, release := make(chan struct{}), make(chan struct{})
	holder := make(chan error, 1)
	go func() {
		_, err := store.Update(ctx, c.ID, []int64{second}, func(ctx context.Context, c *cart.Cart, catalog cart.Catalog) error {
			close(locked)
			<-release
			return addLine(second)(ctx, c, catalog)
		})
		holder <- err
	}()
	<-locked

	type seen struct {
		lines    []cart.Line
		products map[int64]cart.Product
	}
	waiter := make(chan seen, 1)
	waitErr := make(chan error, 1)
	go func() {
		_, err := store.Update(ctx, c.ID, nil, func(ctx context.Context, c *cart.Cart, catalog cart.Catalog) error {
			products, err := catalog.Products(ctx, c.ProductIDs())
			waiter <- seen{lines: append([]cart.Line(nil), c.Lines...), products: products}
			return err
		})
		waitErr <- err
	}()
	// The waiter's batch is on its way and blocked on the lock; give it time to get there.
	select {
	case s := <-waiter:
		t.Fatalf("second change ran while the first held the cart: %+v", s)
	case <-time.After(200 * time.Millisecond):
	}
	close(release)
	if err := <-holder; err != nil {
		t.Fatal(err)
	}
	if err := <-waitErr; err != nil {
		t.Fatal(err)
	}
	s := <-waiter
	if len(s.lines) != 2 || s.lines[1].ProductID != second {
		t.Fatalf("waiting change saw lines %+v; want the first product's and the second's", s.lines)
	}
	if p, ok := s.products[second]; !ok || p.Price != 200 {
		t.Errorf("waiting change's catalog has %+v for the second product (found %v); want price 200", p, ok)
	}
}

// TestInPipelinedTx: what the transaction wrote is there after COMMIT and gone after an error
// from body or from Postgres, and the connection goes back to the pool usable either way.
func TestInPipelinedTx(t *testing.T) {
	t.Parallel()
	pool, _ := testsupport.NewPool(t)
	ctx := context.Background()
	if _, err := pool.Exec(ctx, `CREATE TABLE pipelined (n int PRIMARY KEY)`); err != nil {
		t.Fatal(err)
	}
	insert := func(n int) func(*pgx.Batch) {
		return func(b *pgx.Batch) { b.Queue(`INSERT INTO pipelined VALUES ($1)`, n) }
	}
	count := func() (n int) {
		t.Helper()
		if err := pool.QueryRow(ctx, `SELECT count(*) FROM pipelined`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}

	err := postgres.InPipelinedTx(ctx, pool, insert(1), func(q postgres.Queryer) (*pgx.Batch, error) {
		var n int
		if err := q.QueryRow(ctx, `SELECT count(*) FROM pipelined`).Scan(&n); err != nil || n != 1 {
			return nil, fmt.Errorf("inside the transaction: %d rows (%v); want the one inserted", n, err)
		}
		last := &pgx.Batch{}
		last.Queue(`INSERT INTO pipelined VALUES (2)`)
		return last, nil
	})
	if err != nil || count() != 2 {
		t.Fatalf("committed transaction: err %v, %d rows; want 2", err, count())
	}

	refused := errors.New("refused")
	err = postgres.InPipelinedTx(ctx, pool, insert(3), func(postgres.Queryer) (*pgx.Batch, error) { return nil, refused })
	if !errors.Is(err, refused) || count() != 2 {
		t.Errorf("body refused: err %v, %d rows; want %v and 2 rows", err, count(), refused)
	}
	err = postgres.InPipelinedTx(ctx, pool, insert(4), func(postgres.Queryer) (*pgx.Batch, error) {
		last := &pgx.Batch{}
		last.Queue(`INSERT INTO pipelined VALUES (5)`)
		last.Queue(`INSERT INTO pipelined VALUES (1)`) // a duplicate key: the whole transaction goes
		return last, nil
	})
	if err == nil || count() != 2 {
		t.Errorf("failed write: err %v, %d rows; want an error and 2 rows", err, count())
	}
	assertPoolIdle(t, pool)
}

// assertPoolIdle checks that every connection the pool holds is out of any transaction.
func assertPoolIdle(t *testing.T, pool *pgxpool.Pool) {
	t.Helper()
	ctx := context.Background()
	for range pool.Stat().TotalConns() + 1 {
		conn, err := pool.Acquire(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if s := conn.Conn().PgConn().TxStatus(); s != 'I' {
			t.Errorf("a pooled connection is in transaction state %q", s)
		}
		defer conn.Release()
	}
}

// TestCartUpdateForUser: concurrent first adds of one user all land in the one active cart the
// first of them creates, and a user who does not exist has no cart.
func TestCartUpdateForUser(t *testing.T) {
	t.Parallel()
	pool, _ := testsupport.NewPool(t)
	ctx := context.Background()
	ids := newProducts(t, pool, 100, 200, 300, 400, 500, 600)
	u, err := postgres.NewUsers(pool).CreateUser(ctx, identity.User{Email: "cart@example.com", Name: "C", Role: identity.RoleCustomer, PasswordHash: "x"})
	if err != nil {
		t.Fatal(err)
	}
	store := postgres.NewCarts(pool)

	var wg sync.WaitGroup
	carts := make([]string, len(ids))
	errs := make([]error, len(ids))
	for i, id := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := store.UpdateForUser(ctx, u.ID, fmt.Sprintf("user-cart-%015d", i), []int64{id}, addLine(id))
			carts[i], errs[i] = c.ID, err
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("add %d: %v", i, err)
		}
		if carts[i] != carts[0] {
			t.Fatalf("adds went to carts %v; want one cart", carts)
		}
	}
	c, err := store.ActiveForUser(ctx, u.ID)
	if err != nil || len(c.Lines) != len(ids) {
		t.Fatalf("the user's cart: %d lines (err %v); want %d", len(c.Lines), err, len(ids))
	}

	_, err = store.UpdateForUser(ctx, 999_999, "user-cart-nobody-000000", nil, addLine(ids[0]))
	if !errors.Is(err, apperr.ErrNotFound) {
		t.Errorf("cart of a user who does not exist: %v; want apperr.ErrNotFound", err)
	}
}

// TestCartChangesRunGenericPlans: the reads of a cart change never get a custom plan, which Postgres
// would otherwise make for (at least) the first five executions on a connection and, for the
// reads of the cart's lines and products, went on making on some. On a pool of one connection
// every change runs on the connection whose prepared statements are then inspected.
func TestCartChangesRunGenericPlans(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	seed, dbURL := testsupport.NewPool(t)
	ids := newProducts(t, seed, 100, 200, 300, 400, 500, 600, 700, 800)
	pool, err := postgres.Open(ctx, withPoolSize(t, dbURL, 1))
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	store := postgres.NewCarts(pool)
	c, err := store.CreateGuest(ctx, "cart-generic-plans-00000", []int64{ids[0]}, addLine(ids[0]))
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range ids[1:] {
		if _, err := store.Update(ctx, c.ID, []int64{id}, addLine(id)); err != nil {
			t.Fatal(err)
		}
	}

	rows, err := pool.Query(ctx, `SELECT statement, generic_plans, custom_plans FROM pg_prepared_statements
		WHERE statement LIKE '%FROM cart_lines l%' OR statement LIKE '%FROM carts c WHERE c.id = $1 FOR UPDATE%'`)
	if err != nil {
		t.Fatal(err)
	}
	type plans struct {
		statement       string
		generic, custom int64
	}
	got, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (plans, error) {
		var p plans
		return p, r.Scan(&p.statement, &p.generic, &p.custom)
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) < 3 { // the lock, the lines read, the products read
		t.Fatalf("found %d of the cart change's reads among the prepared statements: %+v", len(got), got)
	}
	for _, p := range got {
		if p.custom != 0 || p.generic == 0 {
			t.Errorf("%d custom and %d generic plans for %.80q; want generic plans only", p.custom, p.generic, p.statement)
		}
	}
}
