package cart

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"storefront/domain/apperr"
)

// Service is the cart use cases: reading, changing, merging, watching and expiring carts. It
// writes Postgres first (the truth), then the cache and the change notice; a failing cache or
// pub/sub is logged and skipped, so carts keep working from Postgres alone.
type Service struct {
	store   Store
	cache   Cache
	catalog Catalog
	events  Events
	limits  Limits
	log     *slog.Logger
	// redisBudget bounds each cache or pub/sub call, retries included, so a hung Redis costs a
	// request a fraction of a second at most.
	redisBudget time.Duration
	// redisPausedUntil (unix nanoseconds) skips Redis after a failure; see redisCall.
	redisPausedUntil atomic.Int64

	// feeds are the carts watched on this instance, by id (see Watch).
	feedsMu sync.Mutex
	feeds   map[string]*feed
}

// NewService builds the cart service. catalog reads outside any transaction (for cart reads).
func NewService(store Store, cache Cache, catalog Catalog, events Events, limits Limits, log *slog.Logger) *Service {
	if limits.MaxQuantity <= 0 {
		limits.MaxQuantity = DefaultLimits.MaxQuantity
	}
	if limits.MaxLines <= 0 {
		limits.MaxLines = DefaultLimits.MaxLines
	}
	return &Service{store: store, cache: cache, catalog: catalog, events: events, limits: limits, log: log,
		redisBudget: 400 * time.Millisecond}
}

// Limits returns the limits the service enforces.
func (s *Service) Limits() Limits { return s.limits }

// LineInput asks for quantity more of a product. Index is the line's position in the request,
// echoed in failures.
type LineInput struct {
	Index     int
	ProductID int64
	Quantity  int
}

// LineUpdate sets a line's quantity (0 removes it).
type LineUpdate struct {
	Index    int
	LineID   int64
	Quantity int
}

// LineRef names a line to remove.
type LineRef struct {
	Index  int
	LineID int64
}

// LineFailure is one refused line of a batch: the others were applied.
type LineFailure struct {
	Index int
	LineError
}

// Result is the cart after a change, with the lines that were refused.
type Result struct {
	Cart     View
	Failures []LineFailure
}

// Get returns the cart if the caller may see it, or apperr.ErrNotFound.
func (s *Service) Get(ctx context.Context, caller Caller, id string) (View, error) {
	return s.getAtLeast(ctx, caller, id, 0)
}

// getAtLeast reads and prices the cart; a cached copy older than minVersion is not used.
func (s *Service) getAtLeast(ctx context.Context, caller Caller, id string, minVersion int64) (View, error) {
	if !ValidID(id) {
		return View{}, apperr.ErrNotFound
	}
	c, products, err := s.read(ctx, id, minVersion)
	if err != nil {
		return View{}, err
	}
	if !c.VisibleTo(caller) {
		return View{}, apperr.ErrNotFound
	}
	return Price(c, products), nil
}

// ForUser returns the user's active cart; found is false when the user has none.
func (s *Service) ForUser(ctx context.Context, userID int64) (v View, found bool, err error) {
	c, err := s.store.ActiveForUser(ctx, userID)
	if errors.Is(err, apperr.ErrNotFound) {
		return View{}, false, nil
	}
	if err != nil {
		return View{}, false, err
	}
	s.cachePut(ctx, c)
	v, err = s.price(ctx, c)
	return v, err == nil, err
}

// LineOf returns the cart holding the line, if the caller may see it, or apperr.ErrNotFound.
func (s *Service) LineOf(ctx context.Context, caller Caller, lineID int64) (View, PricedLine, error) {
	id, err := s.store.CartOfLine(ctx, lineID)
	if err != nil {
		return View{}, PricedLine{}, err
	}
	v, err := s.Get(ctx, caller, id)
	if err != nil {
		return View{}, PricedLine{}, err
	}
	for _, l := range v.Lines {
		if l.ID == lineID {
			return v, l, nil
		}
	}
	return View{}, PricedLine{}, apperr.ErrNotFound
}

// Create starts a cart with lines. A guest gets a new cart; a signed-in user gets their active
// cart (created if they have none), so a user never has two.
func (s *Service) Create(ctx context.Context, caller Caller, lines []LineInput) (Result, error) {
	id, err := NewID()
	if err != nil {
		return Result{}, err
	}
	ch := s.addLines(ctx, caller, lines)
	var c Cart
	if caller.UserID != 0 {
		c, err = s.store.UpdateForUser(ctx, caller.UserID, id, ch.extraProducts, ch.apply)
	} else {
		c, err = s.store.CreateGuest(ctx, id, ch.extraProducts, ch.apply)
	}
	if err != nil {
		return Result{}, fmt.Errorf("create cart: %w", err)
	}
	return s.finish(ctx, c, ch, true), nil
}

// AddLines adds products to the cart; refused lines are reported, the rest applied.
func (s *Service) AddLines(ctx context.Context, caller Caller, id string, lines []LineInput) (Result, error) {
	return s.update(ctx, id, s.addLines(ctx, caller, lines))
}

// UpdateLines sets line quantities; refused lines are reported, the rest applied.
func (s *Service) UpdateLines(ctx context.Context, caller Caller, id string, updates []LineUpdate) (Result, error) {
	ch := &change{caller: caller, run: func(c *Cart, products map[int64]Product, fail func(int, *LineError)) {
		for _, u := range updates {
			p := products[c.ProductOfLine(u.LineID)]
			if err := c.SetQuantity(u.LineID, u.Quantity, p, s.limits); err != nil {
				fail(u.Index, err)
			}
		}
	}}
	return s.update(ctx, id, ch)
}

// RemoveLines removes lines; unknown lines are reported, the rest removed.
func (s *Service) RemoveLines(ctx context.Context, caller Caller, id string, lines []LineRef) (Result, error) {
	ch := &change{caller: caller, run: func(c *Cart, _ map[int64]Product, fail func(int, *LineError)) {
		for _, l := range lines {
			if err := c.Remove(l.LineID); err != nil {
				fail(l.Index, err)
			}
		}
	}}
	return s.update(ctx, id, ch)
}

func (s *Service) addLines(_ context.Context, caller Caller, lines []LineInput) *change {
	ch := &change{caller: caller, run: func(c *Cart, products map[int64]Product, fail func(int, *LineError)) {
		for _, in := range lines {
			p, ok := products[in.ProductID]
			if !ok {
				fail(in.Index, lineErr(CodeNotFound, "product not found"))
				continue
			}
			if err := c.Add(p, in.Quantity, s.limits); err != nil {
				fail(in.Index, err)
			}
		}
	}}
	for _, in := range lines {
		ch.extraProducts = append(ch.extraProducts, in.ProductID)
	}
	return ch
}

func (s *Service) update(ctx context.Context, id string, ch *change) (Result, error) {
	if !ValidID(id) {
		return Result{}, apperr.ErrNotFound
	}
	c, err := s.store.Update(ctx, id, ch.extraProducts, ch.apply)
	if err != nil {
		if errors.Is(err, apperr.ErrNotFound) {
			// Whatever the cache holds of a cart the store does not have is stale.
			s.cacheDelete(ctx, id)
			return Result{}, err
		}
		return Result{}, fmt.Errorf("update cart: %w", err)
	}
	return s.finish(ctx, c, ch, false), nil
}

// change is one batch of line changes, applied inside the store's transaction. The transaction
// may be retried, so apply starts from scratch each time.
type change struct {
	caller        Caller
	extraProducts []int64
	run           func(c *Cart, products map[int64]Product, fail func(index int, err *LineError))

	// set by apply
	before   int64
	products map[int64]Product
	failures []LineFailure
}

func (ch *change) apply(ctx context.Context, c *Cart, catalog Catalog) error {
	if !c.VisibleTo(ch.caller) {
		return apperr.ErrNotFound
	}
	ch.before, ch.failures = c.Version, nil
	ids := append(c.ProductIDs(), ch.extraProducts...)
	slices.Sort(ids)
	products, err := catalog.Products(ctx, slices.Compact(ids))
	if err != nil {
		return fmt.Errorf("read products: %w", err)
	}
	ch.products = products
	ch.run(c, products, func(i int, err *LineError) {
		ch.failures = append(ch.failures, LineFailure{Index: i, LineError: *err})
	})
	return nil
}

// finish caches and announces a written cart and prices it with the products the transaction read.
func (s *Service) finish(ctx context.Context, c Cart, ch *change, created bool) Result {
	if created || c.Version != ch.before {
		s.written(ctx, c)
	}
	slices.SortFunc(ch.failures, func(a, b LineFailure) int { return a.Index - b.Index })
	return Result{Cart: Price(c, ch.products), Failures: ch.failures}
}

// Merge moves the guest cart's lines into the user's active cart in one transaction (see
// Cart.MergeFrom for the rules) and returns warnings for lines that did not come across whole. A
// guest cart that does not exist, is no longer active or belongs to a user is ignored: signing in
// must not fail because of a stale cart id.
func (s *Service) Merge(ctx context.Context, guestID string, userID int64) ([]Warning, error) {
	if !ValidID(guestID) {
		return nil, nil
	}
	newID, err := NewID()
	if err != nil {
		return nil, err
	}
	errNothing := errors.New("nothing to merge")
	var warnings []Warning
	guest, user, err := s.store.Merge(ctx, guestID, userID, newID, func(ctx context.Context, guest, user *Cart, catalog Catalog) error {
		if guest.Status != StatusActive || !guest.IsGuest() || guest.ID == user.ID {
			return errNothing
		}
		ids := append(user.ProductIDs(), guest.ProductIDs()...)
		slices.Sort(ids)
		products, err := catalog.Products(ctx, slices.Compact(ids))
		if err != nil {
			return fmt.Errorf("read products: %w", err)
		}
		warnings = user.MergeFrom(guest, products, s.limits)
		return nil
	})
	if errors.Is(err, errNothing) || errors.Is(err, apperr.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("merge carts: %w", err)
	}
	s.written(ctx, guest)
	s.written(ctx, user)
	for i := range warnings {
		for _, l := range user.Lines {
			if l.ProductID == warnings[i].ProductID {
				warnings[i].LineID = l.ID
			}
		}
	}
	return warnings, nil
}

// Changed tells the cart area that another area (checkout) changed a cart in its own
// transaction, which must have bumped carts.version: the cache is rebuilt from Postgres and the
// cart's subscribers are told.
func (s *Service) Changed(ctx context.Context, id string) error {
	c, err := s.store.Get(ctx, id)
	if errors.Is(err, apperr.ErrNotFound) {
		s.cacheDelete(ctx, id)
		return nil
	}
	if err != nil {
		return fmt.Errorf("reload changed cart: %w", err)
	}
	s.written(ctx, c)
	return nil
}

// DeleteExpiredGuestCarts deletes guest carts unchanged for longer than age, from Postgres and
// from the cache, and returns how many went.
func (s *Service) DeleteExpiredGuestCarts(ctx context.Context, age time.Duration) (int, error) {
	const batch = 500
	cutoff := time.Now().Add(-age)
	total := 0
	for {
		ids, err := s.store.DeleteGuestCartsBefore(ctx, cutoff, batch)
		if err != nil {
			return total, fmt.Errorf("delete expired guest carts: %w", err)
		}
		total += len(ids)
		if len(ids) > 0 {
			s.cacheDelete(ctx, ids...)
		}
		if len(ids) < batch {
			return total, nil
		}
	}
}

func channel(cartID string) string { return "cart:" + cartID }

// read returns the cart and its products. A cached cart is used when Postgres confirms its
// version in the same query that reads the current prices, so the cache saves the cart's own
// read but can never serve a stale cart, even after a cache write was lost while Redis was
// unreachable. Otherwise the cart comes from Postgres and refills the cache.
func (s *Service) read(ctx context.Context, id string, minVersion int64) (Cart, map[int64]Product, error) {
	if c, found := s.cacheGet(ctx, id); found && c.Version >= minVersion {
		version, products, err := s.store.VersionAndProducts(ctx, id, c.ProductIDs())
		if errors.Is(err, apperr.ErrNotFound) {
			s.cacheDelete(ctx, id)
			return Cart{}, nil, err
		}
		if err != nil {
			return Cart{}, nil, fmt.Errorf("read cart: %w", err)
		}
		if version == c.Version {
			return c, products, nil
		}
	}
	c, err := s.store.Get(ctx, id)
	if err != nil {
		return Cart{}, nil, err
	}
	s.cachePut(ctx, c)
	products, err := s.products(ctx, c)
	return c, products, err
}

// price reads the current product data for the cart's lines and prices it.
func (s *Service) price(ctx context.Context, c Cart) (View, error) {
	products, err := s.products(ctx, c)
	if err != nil {
		return View{}, err
	}
	return Price(c, products), nil
}

func (s *Service) products(ctx context.Context, c Cart) (map[int64]Product, error) {
	if len(c.Lines) == 0 {
		return map[int64]Product{}, nil
	}
	products, err := s.catalog.Products(ctx, c.ProductIDs())
	if err != nil {
		return nil, fmt.Errorf("price cart: %w", err)
	}
	return products, nil
}

// written refreshes the cache with a cart just written and tells its subscribers, in one Redis
// round trip.
func (s *Service) written(ctx context.Context, c Cart) {
	s.redisCall(ctx, "write cart cache and publish the change", func(ctx context.Context) error {
		return s.cache.PutAndPublish(ctx, c, channel(c.ID), []byte(strconv.FormatInt(c.Version, 10)))
	})
}

func (s *Service) cacheGet(ctx context.Context, id string) (c Cart, found bool) {
	s.redisCall(ctx, "read cart cache", func(ctx context.Context) error {
		var err error
		c, found, err = s.cache.Get(ctx, id)
		return err
	})
	return c, found
}

func (s *Service) cachePut(ctx context.Context, c Cart) {
	s.redisCall(ctx, "write cart cache", func(ctx context.Context) error { return s.cache.Put(ctx, c) })
}

func (s *Service) cacheDelete(ctx context.Context, ids ...string) {
	s.redisCall(ctx, "delete from cart cache", func(ctx context.Context) error { return s.cache.Delete(ctx, ids...) })
}

// redisCall runs one cache or pub/sub call within the Redis budget. A failure is logged and
// pauses Redis use for redisPause, so while Redis hangs only one request per pause pays the
// timeout and the rest go straight to Postgres. Skipped cache writes are safe: reads check the
// cached version against Postgres.
func (s *Service) redisCall(ctx context.Context, what string, call func(ctx context.Context) error) {
	if time.Now().UnixNano() < s.redisPausedUntil.Load() {
		return
	}
	cctx, cancel := context.WithTimeout(ctx, s.redisBudget)
	defer cancel()
	err := call(cctx)
	if err == nil || ctx.Err() != nil {
		return
	}
	s.redisPausedUntil.Store(time.Now().Add(redisPause).UnixNano())
	s.log.WarnContext(ctx, "cart: Redis call failed; using Postgres alone for a moment", "op", what, "err", err)
}

// redisPause is how long the cart service leaves Redis alone after a failed call.
const redisPause = 500 * time.Millisecond
