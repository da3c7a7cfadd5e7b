// Command floor serves two store operations, a product page and a cart add, as plain net/http
// handlers with encoding/json, over the very stores and services the GraphQL server wires
// (app.New). Each does the same SQL and Redis work as the GraphQL documents the load generator
// sends (cmd/loadgen: ProductPage and CartAdd), so running one load against both shows what the
// GraphQL layer itself costs: parsing, validation, field resolution, loaders and the middleware.
//
//	GET  /product?slug=…        product with price, images, category, seller, stock and rating
//	POST /cart/{id}/lines       {"lines":[{"productId":"…","quantity":1}]} → the priced cart
//	GET  /metrics               the process's CPU and memory, for CPU per request
//
// It reads the server's environment (DATABASE_URL, REDIS_URL, REDIS_PREFIX, PORT, …). It is a
// benchmark's yardstick, not a second API: it has no authentication and serves guest carts only.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"storefront/app"
	"storefront/domain/apperr"
	"storefront/domain/cart"
	"storefront/domain/catalog"
	"storefront/domain/money"
	"storefront/gctune"
	"storefront/resolvers/relay"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Getenv); err != nil {
		fmt.Fprintln(os.Stderr, "floor:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, getenv func(string) string) error {
	cfg, err := app.LoadConfig(getenv)
	if err != nil {
		return err
	}
	// The collector is paced as the server's is, so the comparison is of the handlers alone.
	gc, err := gctune.FromEnv(getenv)
	if err != nil {
		return err
	}
	if gc != nil {
		defer gc.Stop()
	}
	log := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	a, err := app.New(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer a.Close()
	ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", cfg.Port))
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	srv := &http.Server{Handler: newFloor(a.Catalog(), a.Carts, log).routes(), ReadHeaderTimeout: 5 * time.Second}
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
	}()
	log.Warn("floor serving", "addr", ln.Addr().String())
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// floor holds the two services its handlers call.
type floor struct {
	catalog *catalog.Service
	carts   *cart.Service
	log     *slog.Logger
}

func newFloor(c *catalog.Service, carts *cart.Service, log *slog.Logger) *floor {
	return &floor{catalog: c, carts: carts, log: log}
}

func (f *floor) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /product", f.product)
	mux.HandleFunc("POST /cart/{id}/lines", f.cartAdd)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok\n")) })
	// The process series only (CPU, memory), so the load generator can report CPU per request.
	mux.Handle("GET /metrics", promhttp.Handler())
	return mux
}

// The JSON shapes follow the GraphQL fields the load generator selects.
type (
	moneyJSON struct {
		Amount       string `json:"amount"`
		CurrencyCode string `json:"currencyCode"`
	}
	ref struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	}
	imageJSON struct {
		URL     string  `json:"url"`
		AltText *string `json:"altText"`
	}
	productJSON struct {
		ID          string      `json:"id"`
		Slug        string      `json:"slug"`
		Name        string      `json:"name"`
		Description string      `json:"description"`
		Price       moneyJSON   `json:"price"`
		Images      []imageJSON `json:"images"`
		Category    ref         `json:"category"`
		Seller      ref         `json:"seller"`
		Inventory   struct {
			Available int  `json:"available"`
			InStock   bool `json:"inStock"`
		} `json:"inventory"`
		Rating struct {
			Average float64 `json:"average"`
			Count   int     `json:"count"`
		} `json:"rating"`
	}
	lineJSON struct {
		ID        string    `json:"id"`
		Quantity  int       `json:"quantity"`
		UnitPrice moneyJSON `json:"unitPrice"`
		LineTotal moneyJSON `json:"lineTotal"`
		Product   ref       `json:"product"`
	}
	cartJSON struct {
		ID            string     `json:"id"`
		TotalQuantity int        `json:"totalQuantity"`
		Subtotal      moneyJSON  `json:"subtotal"`
		Lines         []lineJSON `json:"lines"`
	}
	userErrorJSON struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	}
)

func moneyOf(a money.Amount) moneyJSON {
	return moneyJSON{Amount: a.String(), CurrencyCode: money.Currency}
}

// product answers what the ProductPage document asks: the product by slug with its stock,
// rating, seller and images (one statement), and its category from the cached tree.
func (f *floor) product(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	d, err := f.catalog.ProductDetailsBySlug(ctx, r.URL.Query().Get("slug"))
	if err != nil {
		f.fail(w, "product", err)
		return
	}
	p := d.Product
	categories, err := f.catalog.CategoriesByIDs(ctx, []int64{p.CategoryID})
	if err != nil {
		f.fail(w, "category", err)
		return
	}
	out := productJSON{
		ID: relay.IntID(relay.KindProduct, p.ID), Slug: p.Slug, Name: p.Name, Description: p.Description,
		Price:    moneyOf(p.Price),
		Category: ref{ID: relay.IntID(relay.KindCategory, p.CategoryID), Name: categories[p.CategoryID].Name},
		Seller:   ref{ID: relay.IntID(relay.KindSeller, p.SellerID), Name: d.Seller.Name},
		Images:   make([]imageJSON, 0, len(d.Images)),
	}
	for _, img := range d.Images {
		j := imageJSON{URL: img.URL}
		if img.AltText != "" {
			alt := img.AltText
			j.AltText = &alt
		}
		out.Images = append(out.Images, j)
	}
	out.Inventory.Available, out.Inventory.InStock = p.Stock.Available(), p.Stock.InStock()
	out.Rating.Average, out.Rating.Count = p.Rating.Average(), p.Rating.Count
	writeJSON(w, http.StatusOK, out)
}

// cartAdd answers what the CartAdd document asks: the change through the cart service (which
// prices the cart), then the names of the lines' products, which the change left in the request's
// product memo as the GraphQL resolver has it do.
func (f *floor) cartAdd(w http.ResponseWriter, r *http.Request) {
	ctx := catalog.WithProductMemo(r.Context())
	key, err := relay.ParseKeyID(r.PathValue("id"), relay.KindCart)
	if err != nil {
		f.fail(w, "cart id", apperr.ErrNotFound)
		return
	}
	var in struct {
		Lines []struct {
			ProductID string `json:"productId"`
			Quantity  int    `json:"quantity"`
		} `json:"lines"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10)).Decode(&in); err != nil {
		f.fail(w, "body", apperr.Input("lines", "the body is not the expected JSON: %v", err))
		return
	}
	if len(in.Lines) == 0 || len(in.Lines) > cart.MaxBatch {
		f.fail(w, "body", apperr.Input("lines", "give 1 to %d lines", cart.MaxBatch))
		return
	}
	lines := make([]cart.LineInput, len(in.Lines))
	for i, l := range in.Lines {
		id, err := relay.ParseIntID(l.ProductID, relay.KindProduct)
		if err != nil {
			f.fail(w, "product id", apperr.Input("productId", "%q is not a product id", l.ProductID))
			return
		}
		lines[i] = cart.LineInput{Index: i, ProductID: id, Quantity: l.Quantity}
	}
	res, err := f.carts.AddLines(ctx, cart.Caller{}, key, lines)
	if err != nil {
		f.fail(w, "add lines", err)
		return
	}
	ids := make([]int64, len(res.Cart.Lines))
	for i, l := range res.Cart.Lines {
		ids[i] = l.ProductID
	}
	products, err := f.catalog.ProductsByIDs(ctx, ids)
	if err != nil {
		f.fail(w, "products", err)
		return
	}
	v := res.Cart
	out := struct {
		Cart       cartJSON        `json:"cart"`
		UserErrors []userErrorJSON `json:"userErrors"`
	}{
		Cart: cartJSON{ID: relay.ID(relay.KindCart, v.ID), TotalQuantity: v.TotalQuantity, Subtotal: moneyOf(v.Subtotal),
			Lines: make([]lineJSON, len(v.Lines))},
		UserErrors: make([]userErrorJSON, len(res.Failures)),
	}
	for i, l := range v.Lines {
		out.Cart.Lines[i] = lineJSON{ID: relay.IntID(relay.KindCartLine, l.ID), Quantity: l.Quantity,
			UnitPrice: moneyOf(l.UnitPrice), LineTotal: moneyOf(l.LineTotal),
			Product: ref{ID: relay.IntID(relay.KindProduct, l.ProductID), Name: products[l.ProductID].Name}}
	}
	for i, e := range res.Failures {
		out.UserErrors[i] = userErrorJSON{Code: string(e.Code), Message: e.Message}
	}
	writeJSON(w, http.StatusOK, out)
}

// fail answers an error: 404 for what does not exist, 400 for bad input, 500 (logged) otherwise.
func (f *floor) fail(w http.ResponseWriter, what string, err error) {
	var in *apperr.InputError
	switch {
	case errors.Is(err, apperr.ErrNotFound):
		writeJSON(w, http.StatusNotFound, userErrorJSON{Code: "NOT_FOUND", Message: what + " not found"})
	case errors.As(err, &in):
		writeJSON(w, http.StatusBadRequest, userErrorJSON{Code: "BAD_USER_INPUT", Message: in.Error()})
	default:
		f.log.Error("floor request failed", "what", what, "err", err)
		writeJSON(w, http.StatusInternalServerError, userErrorJSON{Code: "INTERNAL_SERVER_ERROR", Message: what + " failed"})
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
