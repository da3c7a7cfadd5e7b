// Package graphqlws serves GraphQL over websockets for gqlgen's executor: the
// graphql-transport-ws protocol (the graphql-ws npm client) and the legacy graphql-ws protocol of
// subscriptions-transport-ws.
//
// It is built for many mostly idle subscribers. A connection keeps one goroutine, its reader,
// parked on a read with a small stack, and no buffers while nothing moves. A subscription whose
// source announces its values through a stream.Notifier keeps no goroutine at all: each value is
// executed and marshalled by a shared pool of workers, and written by a goroutine that lives only
// while the connection has something to send. Sources that do not announce get a goroutine that
// waits on their channel, as in gqlgen's own transport.
package graphqlws

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/transport"
)

// InitFunc authenticates a connection from its connection_init payload. It returns the context
// the connection's operations run in (cancelling it closes the connection) and an optional
// payload for connection_ack; an error refuses the connection, with the close code set by
// WithCloseCode on the returned context (1000 otherwise).
type InitFunc func(ctx context.Context, payload transport.InitPayload) (context.Context, *transport.InitPayload, error)

// Transport is a gqlgen transport for websocket upgrades. Its zero value works; set the fields
// before the first connection.
type Transport struct {
	// InitFunc, when set, admits each connection at connection_init.
	InitFunc InitFunc
	// InitTimeout closes, with 1002, a connection that has not sent connection_init within it.
	InitTimeout time.Duration
	// KeepAlive is how often the server pings (graphql-transport-ws) or sends "ka" (graphql-ws).
	// A graphql-transport-ws client that answers two pings in a row with no pong is disconnected.
	KeepAlive time.Duration
	// MaxMessageBytes bounds one message from a client; a bigger one closes the connection with
	// 1009. Zero means 64 KiB.
	MaxMessageBytes int64
	// MaxOperations bounds the operations running at once on one connection. Zero means 100.
	MaxOperations int
	// WriteTimeout bounds one write to a client; a client that takes no data for that long is
	// disconnected. Zero means 10 s.
	WriteTimeout time.Duration
	// MaxPendingBytes bounds what may wait to be written to one client; a client that falls
	// further behind is disconnected. Zero means 1 MiB.
	MaxPendingBytes int
	// Opened is told of each accepted connection, Closed of its end. ctx carries the upgrade
	// request's values. Opened may close the connection at once (say, during a shutdown).
	Opened func(ctx context.Context, c *Conn)
	Closed func(ctx context.Context, c *Conn)
	// Log receives panics and failed upgrades; nil means slog.Default().
	Log *slog.Logger

	pool workPool
}

var _ graphql.Transport = (*Transport)(nil)

// Supports reports whether r asks for a websocket.
func (t *Transport) Supports(r *http.Request) bool {
	return strings.EqualFold(r.Header.Get("Upgrade"), "websocket")
}

// Do upgrades the connection and returns: the connection's reader goroutine serves it from here,
// so the HTTP handler chain and its request are let go.
func (t *Transport) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	nc, rd, protocol, err := upgrade(w, r)
	if err != nil {
		var he *handshakeError
		if errors.As(err, &he) {
			http.Error(w, he.message, he.status)
			return
		}
		t.log().WarnContext(r.Context(), "websocket upgrade failed", "err", err)
		return
	}
	// The connection outlives the request: keep the request's values, not its cancellation.
	ctx, cancel := context.WithCancel(context.WithoutCancel(r.Context()))
	c := &Conn{
		t:        t,
		exec:     exec,
		nc:       nc,
		fr:       frameReader{r: rd, limit: t.maxMessageBytes()},
		protocol: protocol,
		baseCtx:  ctx,
		ctx:      ctx,
		cancel:   cancel,
	}
	first := t.InitTimeout
	if first <= 0 {
		first = t.KeepAlive
	}
	c.mu.Lock()
	if first > 0 {
		c.timer = time.AfterFunc(first, c.tick)
	}
	c.mu.Unlock()
	if t.Opened != nil {
		t.Opened(ctx, c)
	}
	go c.readLoop()
}

func (t *Transport) log() *slog.Logger {
	if t.Log != nil {
		return t.Log
	}
	return slog.Default()
}

func (t *Transport) maxMessageBytes() int64 {
	if t.MaxMessageBytes > 0 {
		return t.MaxMessageBytes
	}
	return 64 << 10
}

func (t *Transport) maxOperations() int {
	if t.MaxOperations > 0 {
		return t.MaxOperations
	}
	return 100
}

func (t *Transport) writeTimeout() time.Duration {
	if t.WriteTimeout > 0 {
		return t.WriteTimeout
	}
	return 10 * time.Second
}

func (t *Transport) maxPendingBytes() int {
	if t.MaxPendingBytes > 0 {
		return t.MaxPendingBytes
	}
	return 1 << 20
}

type closeCodeKey struct{}

// WithCloseCode sets the close code an InitFunc's refusal closes the connection with.
func WithCloseCode(ctx context.Context, code int) context.Context {
	return context.WithValue(ctx, closeCodeKey{}, code)
}

func closeCodeFrom(ctx context.Context) int {
	if ctx != nil {
		if code, ok := ctx.Value(closeCodeKey{}).(int); ok {
			return code
		}
	}
	return CloseNormal
}
