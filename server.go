// Command server is the storefront's GraphQL backend-for-frontend: one binary with the
// subcommands migrate, seed and serve (the default).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"syscall"
	"time"

	"storefront/app"
	"storefront/gctune"
	"storefront/logbuffer"
	"storefront/migrations"
	"storefront/seed"
	"storefront/store/postgres"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args, os.Getenv, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}

// logFlushInterval is how long a log line may wait in memory before it is written.
const logFlushInterval = 100 * time.Millisecond

// run is the whole program, with its inputs passed in so tests can drive it.
func run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	cfg, err := app.LoadConfig(getenv)
	if err != nil {
		return err
	}
	// Log lines are written out in batches, off the requests' path; whatever is left goes out
	// when run returns.
	logOut := logbuffer.New(stdout, logFlushInterval)
	defer logOut.Close()
	log := slog.New(slog.NewJSONHandler(logOut, nil))
	slog.SetDefault(log)

	cmd, rest := "serve", []string{}
	if len(args) > 1 {
		cmd, rest = args[1], args[2:]
	}
	switch cmd {
	case "migrate":
		return migrate(ctx, cfg)
	case "seed":
		fs := flag.NewFlagSet("seed", flag.ContinueOnError)
		products := fs.Int("products", 200, "number of products in the catalog")
		users := fs.Int("users", 0, "number of load-test accounts (bench-0001@example.com …, password "+seed.BenchPassword+")")
		if err := fs.Parse(rest); err != nil {
			return err
		}
		return seedData(ctx, cfg, seed.Options{Products: *products, Users: *users})
	case "serve":
		return serve(ctx, cfg, getenv, log)
	default:
		return fmt.Errorf("unknown command %q: use migrate, seed or serve", cmd)
	}
}

func migrate(ctx context.Context, cfg app.Config) error {
	pool, err := postgres.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer pool.Close()
	return migrations.Up(ctx, pool)
}

func seedData(ctx context.Context, cfg app.Config, opts seed.Options) error {
	pool, err := postgres.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer pool.Close()
	return seed.Run(ctx, pool, opts)
}

func serve(ctx context.Context, cfg app.Config, getenv func(string) string, log *slog.Logger) error {
	// The collector's pace: see package gctune.
	gc, err := gctune.FromEnv(getenv)
	if err != nil {
		return err
	}
	if gc != nil {
		defer gc.Stop()
	}
	if cfg.JWTSecretGenerated {
		log.Warn("JWT_SECRET not set: using a random key, so tokens stop working when the server restarts")
	}
	a, err := app.New(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer a.Close()
	if cfg.PprofAddr != "" {
		if err := servePprof(ctx, cfg.PprofAddr, log); err != nil {
			return err
		}
	}
	ln, err := net.Listen("tcp", fmt.Sprintf(":%d", cfg.Port))
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	log.Info("serving", "url", fmt.Sprintf("http://localhost:%d/", cfg.Port), "env", cfg.Env)
	if err := a.Serve(ctx, ln); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}

// servePprof serves the runtime profiles on addr (a loopback address, see app.Config.PprofAddr)
// until ctx ends, on a mux of its own so nothing of it reaches the public handler.
func servePprof(ctx context.Context, addr string, log *slog.Logger) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("pprof listen: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	go func() { _ = srv.Serve(ln) }()
	log.Warn("pprof serving on loopback", "url", "http://"+ln.Addr().String()+"/debug/pprof/")
	return nil
}
