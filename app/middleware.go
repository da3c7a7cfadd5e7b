package app

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"

	"storefront/metrics"
	"storefront/resolvers"
)

type requestIDKey struct{}

func init() {
	resolvers.RequestIDFunc = RequestID
}

// RequestID returns the id of the request ctx belongs to, or "".
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// requestID gives every request an id, taken from a sane X-Request-Id header or made up, and
// echoes it back so a client's report can be matched to the server's logs.
func (a *App) requestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Request-Id")
		if !validRequestID(id) {
			b := make([]byte, 8)
			_, _ = rand.Read(b)
			id = hex.EncodeToString(b)
		}
		w.Header().Set("X-Request-Id", id)
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), requestIDKey{}, id)))
	})
}

func validRequestID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// recoverPanics turns a panic in any handler into a 500 with an INTERNAL_SERVER_ERROR carrying
// the request id, logged with its stack. gqlgen recovers resolver panics itself (see
// recoverResolver); this catches the rest. http.ErrAbortHandler is net/http's way to abort an
// answer on purpose and is passed on.
func (a *App) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if v == http.ErrAbortHandler {
				panic(v)
			}
			a.logPanic(r.Context(), v)
			id := RequestID(r.Context())
			writeGraphQLError(w, http.StatusInternalServerError, resolvers.CodeInternal,
				"internal server error (request "+id+")")
		}()
		next.ServeHTTP(w, r)
	})
}

// recoverResolver is gqlgen's recover function: the panic is logged with its stack and becomes
// an error that the error presenter masks as INTERNAL_SERVER_ERROR with the request id.
func (a *App) recoverResolver(ctx context.Context, v any) error {
	a.logPanic(ctx, v)
	return fmt.Errorf("panic: %v", v)
}

func (a *App) logPanic(ctx context.Context, v any) {
	metrics.PanicRecovered()
	a.log.LogAttrs(ctx, slog.LevelError, "panic recovered",
		slog.String("request_id", RequestID(ctx)),
		slog.String("panic", fmt.Sprint(v)),
		slog.String("stack", string(debug.Stack())))
}
