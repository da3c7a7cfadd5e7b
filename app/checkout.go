package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"storefront/domain/checkout"
	"storefront/domain/payment"
	"storefront/gateway/httpgateway"
	"storefront/gateway/sandbox"
	"storefront/store/postgres"
	sredis "storefront/store/redis"
)

// CheckoutConfig tunes checkout, payments and their workers.
type CheckoutConfig struct {
	// GatewayURL is the payment provider's API; empty means the built-in sandbox at
	// PublicURL/sandbox/payments, whose routes are then mounted on this server.
	GatewayURL string
	// WebhookSecret signs the provider's webhooks (and the sandbox's).
	WebhookSecret []byte
	// ReservationTTL is how long an unpaid order holds its stock.
	ReservationTTL time.Duration
	// ExpiryInterval is how often lapsed reservations are released.
	ExpiryInterval time.Duration
	// OutboxInterval is how often the outbox is polled (commits on this instance wake it at once).
	OutboxInterval time.Duration
	// ReconcileInterval is how often PENDING payments are checked with the gateway, and
	// ReconcileAfter how old they must be first.
	ReconcileInterval time.Duration
	ReconcileAfter    time.Duration
	// SandboxAsyncDelay is how long the sandbox keeps a tok_async charge pending.
	SandboxAsyncDelay time.Duration
	// LowStockThreshold raises an alert when available stock falls under it.
	LowStockThreshold int
	// KeyRetention is how long idempotency keys are remembered (at least 24h).
	KeyRetention time.Duration
}

// developmentWebhookSecret signs sandbox webhooks when no secret is configured outside production.
// It is public on purpose: the sandbox moves no money.
const developmentWebhookSecret = "whsec_storefront_development_sandbox"

// loadCheckoutConfig reads the checkout settings, appending any problems.
func loadCheckoutConfig(get func(name, def string) string, production bool, problems []string) (CheckoutConfig, []string) {
	c := CheckoutConfig{GatewayURL: get("PAYMENT_GATEWAY_URL", "")}
	switch secret := get("PAYMENT_WEBHOOK_SECRET", ""); {
	case secret != "":
		c.WebhookSecret = []byte(secret)
	case production:
		problems = append(problems, "PAYMENT_WEBHOOK_SECRET is required when APP_ENV=production")
	default:
		c.WebhookSecret = []byte(developmentWebhookSecret)
	}
	defaults := checkout.DefaultSettings()
	durations := []struct {
		env  string
		def  time.Duration
		dest *time.Duration
	}{
		{"RESERVATION_TTL", defaults.ReservationTTL, &c.ReservationTTL},
		{"RESERVATION_SWEEP_INTERVAL", 30 * time.Second, &c.ExpiryInterval},
		{"OUTBOX_INTERVAL", time.Second, &c.OutboxInterval},
		{"PAYMENT_RECONCILE_INTERVAL", time.Minute, &c.ReconcileInterval},
		{"PAYMENT_RECONCILE_AFTER", defaults.ReconcileAfter, &c.ReconcileAfter},
		{"SANDBOX_ASYNC_DELAY", 2 * time.Second, &c.SandboxAsyncDelay},
		{"IDEMPOTENCY_KEY_RETENTION", defaults.KeyRetention, &c.KeyRetention},
	}
	for _, d := range durations {
		v, err := time.ParseDuration(get(d.env, d.def.String()))
		if err != nil || v <= 0 {
			problems = append(problems, fmt.Sprintf("%s must be a positive duration such as 15m", d.env))
			continue
		}
		*d.dest = v
	}
	if c.KeyRetention < 24*time.Hour {
		problems = append(problems, "IDEMPOTENCY_KEY_RETENTION must be at least 24h")
	}
	n, err := strconv.Atoi(get("LOW_STOCK_THRESHOLD", strconv.Itoa(defaults.LowStockThreshold)))
	if err != nil || n < 0 {
		problems = append(problems, "LOW_STOCK_THRESHOLD must be a whole number, 0 or more")
	}
	c.LowStockThreshold = n
	return c, problems
}

// wireCheckout builds checkout over Postgres, the payment gateway (the built-in sandbox unless
// PAYMENT_GATEWAY_URL names another) and the pub/sub hub, and starts its workers: the outbox
// relay, the reservation expiry sweep, the payment reconciler and, with the sandbox, its webhook
// sender.
func (a *App) wireCheckout(hub sredis.PubSub, carts checkout.CartRefresher) {
	cc := a.cfg.Checkout
	gatewayURL := cc.GatewayURL
	if gatewayURL == "" {
		gatewayURL = strings.TrimRight(a.cfg.PublicURL, "/") + "/sandbox/payments"
		a.sandbox = sandbox.New(postgres.NewSandboxStore(a.Pool), cc.WebhookSecret,
			strings.TrimRight(a.cfg.PublicURL, "/")+"/webhooks/payments", cc.SandboxAsyncDelay, a.log)
		a.addWorker("sandbox webhook sender", a.sandbox.Run)
		if a.cfg.Production() {
			a.log.Warn("PAYMENT_GATEWAY_URL is not set: payments go to the built-in sandbox, which moves no money")
		}
	}
	opts := []checkout.Option{}
	if carts != nil {
		opts = append(opts, checkout.WithCartRefresher(carts))
	}
	if a.PurchaseCap != nil {
		opts = append(opts, checkout.WithPurchaseLimiter(a.PurchaseCap))
	}
	svc := checkout.New(postgres.NewCheckoutStore(a.Pool), postgres.NewOutbox(a.Pool),
		httpgateway.New(gatewayURL, cc.WebhookSecret), sredis.NewOrderFeed(hub),
		checkout.Settings{
			ReservationTTL:    cc.ReservationTTL,
			LowStockThreshold: cc.LowStockThreshold,
			ReconcileAfter:    cc.ReconcileAfter,
			KeyRetention:      cc.KeyRetention,
		}, a.log, opts...)
	a.Checkout = svc
	a.deps.Checkout = svc
	a.addWorker("outbox relay", func(ctx context.Context) { svc.RunOutbox(ctx, cc.OutboxInterval) })
	a.addWorker("reservation expiry", func(ctx context.Context) { svc.RunExpiry(ctx, cc.ExpiryInterval) })
	a.addWorker("payment reconciler", func(ctx context.Context) { svc.RunReconciler(ctx, cc.ReconcileInterval) })
}

// mountCheckout adds the payment webhook and, when it is the gateway, the sandbox provider.
func (a *App) mountCheckout(mux *http.ServeMux) {
	mux.HandleFunc("POST /webhooks/payments", a.paymentWebhook)
	if a.sandbox != nil {
		mux.Handle("/sandbox/payments/", http.StripPrefix("/sandbox/payments", a.sandbox.Handler()))
	}
}

// maxWebhookBody bounds a webhook body; real ones are a few hundred bytes.
const maxWebhookBody = 64 << 10

// paymentWebhook hands the raw body to checkout, which verifies its signature: 400 for a bad
// signature or a stale timestamp, 200 once applied (or for a replay, which changes nothing).
func (a *App) paymentWebhook(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxWebhookBody))
	if err != nil {
		http.Error(w, "body too large or unreadable", http.StatusBadRequest)
		return
	}
	err = a.Checkout.HandleWebhook(r.Context(), r.Header, body)
	switch {
	case errors.Is(err, payment.ErrBadWebhook):
		a.log.Warn("payment webhook refused", "err", err.Error(), "request_id", RequestID(r.Context()))
		http.Error(w, "invalid signature", http.StatusBadRequest)
	case err != nil:
		a.log.Error("payment webhook failed", "err", err.Error(), "request_id", RequestID(r.Context()))
		http.Error(w, "internal error", http.StatusInternalServerError)
	default:
		w.WriteHeader(http.StatusOK)
	}
}
