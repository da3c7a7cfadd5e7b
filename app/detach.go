package app

import (
	"bufio"
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
)

// hijackBufferSize is the read and the write buffer of a websocket. Subscription messages are a
// few hundred bytes and a connection lives for minutes, so net/http's 4 KiB each way would be
// most of what an idle subscriber costs.
const hijackBufferSize = 1 << 10

// detachUpgrades serves each websocket upgrade on a goroutine of its own and lets net/http's
// connection goroutine return as soon as the connection is hijacked. While that goroutine's
// handler runs, which for a websocket is the life of the connection, net/http keeps its 4 KiB read
// and write buffers, the response and the parsed request: about 10 KiB per open subscription.
// After the hand-off they are garbage, and the websocket reads and writes through buffers of
// hijackBufferSize. The whole middleware chain runs on the new goroutine, so the request log and
// the websocket bookkeeping still see the connection end.
//
// The request's context is detached from net/http's, which ends when the handler returns;
// shutdown and session revocation end websockets through the wsHub, and a client that goes away
// ends its websocket's read loop.
func detachUpgrades(next http.Handler, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !isWebsocket(r) {
			next.ServeHTTP(w, r)
			return
		}
		dw := &detachedWriter{w: w, hijacked: make(chan struct{})}
		done := make(chan struct{})
		r = r.WithContext(context.WithoutCancel(r.Context()))
		go func() {
			defer close(done)
			defer func() {
				// net/http would have recovered a panic of the handler and closed the connection;
				// on this goroutine it would end the process.
				if v := recover(); v != nil && v != http.ErrAbortHandler {
					log.Error("websocket handler panicked", "panic", v, "stack", string(debug.Stack()))
					if dw.conn != nil {
						_ = dw.conn.Close()
					}
				}
			}()
			next.ServeHTTP(dw, r)
		}()
		select {
		case <-dw.hijacked: // the connection is the handler's now; net/http's goroutine may go
		case <-done: // refused before the upgrade (origin, caps): answered through w
		}
	})
}

// detachedWriter passes an upgrade's answer through to net/http until the connection is hijacked,
// then lets go of net/http's response so that it, and the buffers it holds, can be collected.
// Only the handler's goroutine calls it.
type detachedWriter struct {
	w        http.ResponseWriter // nil once hijacked
	header   http.Header         // the answer's header, kept at the hijack
	conn     net.Conn
	hijacked chan struct{}
}

func (d *detachedWriter) Header() http.Header {
	if d.w != nil {
		return d.w.Header()
	}
	if d.header == nil {
		d.header = http.Header{}
	}
	return d.header
}

func (d *detachedWriter) Write(b []byte) (int, error) {
	if d.w == nil {
		return 0, http.ErrHijacked
	}
	return d.w.Write(b)
}

func (d *detachedWriter) WriteHeader(code int) {
	if d.w != nil {
		d.w.WriteHeader(code)
	}
}

// Flush passes a flush through before the hijack.
func (d *detachedWriter) Flush() {
	if f, ok := d.w.(http.Flusher); ok {
		f.Flush()
	}
}

// Hijack takes the connection from net/http with small buffers of its own, and releases net/http.
func (d *detachedWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	if d.w == nil {
		return nil, nil, http.ErrHijacked
	}
	h, ok := d.w.(http.Hijacker)
	if !ok {
		return nil, nil, errors.New("connection cannot be hijacked")
	}
	conn, brw, err := h.Hijack()
	if err != nil {
		return nil, nil, err
	}
	// The answer's header stays readable: the websocket library reads the negotiated protocol
	// from it after hijacking.
	d.header = d.w.Header()
	d.conn, d.w = conn, nil
	close(d.hijacked)
	return conn, smallBuffers(conn, brw), nil
}

// smallBuffers replaces net/http's buffers of a hijacked connection by buffers of
// hijackBufferSize, unless they hold bytes: a read-ahead of what the client already sent, or
// output not yet flushed, which must not be lost.
func smallBuffers(conn net.Conn, brw *bufio.ReadWriter) *bufio.ReadWriter {
	r, w := brw.Reader, brw.Writer
	if r.Buffered() == 0 {
		r = bufio.NewReaderSize(conn, hijackBufferSize)
	}
	if w.Buffered() == 0 {
		w = bufio.NewWriterSize(conn, hijackBufferSize)
	}
	return bufio.NewReadWriter(r, w)
}
