package graphqlws

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net"
	"runtime/debug"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/transport"
)

// closeWait is how long a connection waits for the client's close frame after sending its own.
const closeWait = 2 * time.Second

// Close codes of graphql-transport-ws.
const (
	closeBadRequest       = 4400
	closeUnauthorized     = 4401
	closeDuplicateID      = 4409
	closeTooManyInitCalls = 4429
)

// Conn is one websocket connection.
type Conn struct {
	t        *Transport
	exec     graphql.GraphExecutor
	nc       net.Conn
	fr       frameReader
	protocol string
	baseCtx  context.Context    // the upgrade request's values; cancelled at the end
	cancel   context.CancelFunc // ends baseCtx, and with it every operation

	// ctx is what operations run in: baseCtx until connection_init, then what InitFunc returned.
	// Only the reader goroutine sets it, before it starts any operation.
	ctx context.Context

	mu          sync.Mutex
	initialized bool
	ops         map[string]*operation
	missedPongs int
	timer       *time.Timer // the init timeout, then the keep-alive, then the close wait
	outbox      [][]byte    // frames waiting to be written
	outBytes    int
	flushing    bool // a goroutine is writing the outbox
	closing     bool // our close frame is queued: nothing else goes out
	endOnFlush  bool // tear down once the outbox is written
	closed      bool
}

// Close sends a close frame with code and reason, ends every operation and closes the connection
// once the client answers (or after a short wait).
func (c *Conn) Close(code int, reason string) {
	c.mu.Lock()
	c.closeLocked(code, reason)
	c.mu.Unlock()
	c.cancel()
}

func (c *Conn) closeLocked(code int, reason string) {
	if c.closing || c.closed {
		return
	}
	c.closing = true
	c.pushLocked(closeFrame(code, reason))
	if c.timer == nil {
		c.timer = time.AfterFunc(closeWait, c.tick)
	} else {
		c.timer.Reset(closeWait)
	}
}

// fail sends a close frame and closes the connection as soon as it is written, without waiting
// for the client's answer: the stream can no longer be trusted, or the client no longer answers.
func (c *Conn) fail(code int, reason string) {
	c.mu.Lock()
	c.failLocked(code, reason)
	c.mu.Unlock()
}

// failLocked is fail with mu held. Cancelling under mu is safe: what waits on the connection's
// context runs in goroutines of its own (context.AfterFunc).
func (c *Conn) failLocked(code int, reason string) {
	c.closeLocked(code, reason)
	c.endOnFlush = true
	c.cancel()
}

// teardown closes the socket and ends everything still running. It is idempotent.
func (c *Conn) teardown() {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.closed = true
	c.ops, c.outbox = nil, nil
	if c.timer != nil {
		c.timer.Stop()
	}
	c.mu.Unlock()
	_ = c.nc.Close()
	c.cancel()
	if c.t.Closed != nil {
		c.t.Closed(c.baseCtx, c)
	}
}

// readLoop reads and handles the client's messages until the connection ends.
func (c *Conn) readLoop() {
	defer func() {
		if v := recover(); v != nil {
			c.t.log().Error("websocket reader panicked", "panic", v, "stack", string(debug.Stack()))
			c.teardown()
		}
	}()
	for {
		msg, code, err := c.fr.readMessage(c.onControl)
		if err != nil {
			c.readEnded(err, code)
			return
		}
		c.mu.Lock()
		closing := c.closing
		c.mu.Unlock()
		if closing { // only the client's close frame matters now
			continue
		}
		c.handle(msg)
	}
}

// readEnded handles the end of reading: the client's close, a broken frame, or a dead socket.
func (c *Conn) readEnded(err error, code int) {
	var ce *closeError
	switch {
	case errors.Is(err, errPeerClosed):
		c.mu.Lock()
		if code < 1000 || code == 1005 || code == 1006 || code == 1015 || code > 4999 {
			code = CloseNormal
		}
		c.closeLocked(code, "") // echo the close; nothing happens if ours went first
		c.endOnFlush = true
		idle := !c.flushing
		c.mu.Unlock()
		if idle {
			c.teardown()
		}
	case errors.As(err, &ce):
		c.fail(ce.code, ce.reason)
	default:
		c.teardown()
	}
}

// onControl answers pings; pongs need nothing (keep-alive uses the protocols' own messages).
func (c *Conn) onControl(op byte, payload []byte) {
	if op == opPing {
		c.send(serverFrame(opPong, payload))
	}
}

// tick runs on the connection's timer: the init timeout, a keep-alive, or the end of the wait
// for the client's close frame.
func (c *Conn) tick() {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.closed:
		return
	case c.closing:
		go c.teardown()
		return
	case !c.initialized && c.t.InitTimeout > 0:
		c.failLocked(CloseProtocolError, "connection initialisation timeout")
		return
	case c.t.KeepAlive <= 0:
		return
	}
	if c.protocol == ProtocolTransportWS {
		if c.missedPongs >= 2 {
			c.failLocked(CloseProtocolError, "no pong")
			return
		}
		c.missedPongs++
		c.pushLocked(serverFrame(opText, message("ping", "", nil)))
	} else {
		c.pushLocked(serverFrame(opText, message("ka", "", nil)))
	}
	c.timer.Reset(c.t.KeepAlive)
}

// clientMessage is a message of either protocol from the client.
type clientMessage struct {
	ID      string          `json:"id"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload"`
}

// handle acts on one message from the client.
func (c *Conn) handle(raw []byte) {
	start := graphql.Now()
	var m clientMessage
	if err := json.Unmarshal(raw, &m); err != nil || m.Type == "" {
		c.refuse("invalid message")
		return
	}
	legacy := c.protocol == ProtocolLegacyWS
	switch {
	case m.Type == "connection_init":
		c.initialize(m.Payload)
	case m.Type == "ping" && !legacy:
		c.send(serverFrame(opText, message("pong", "", m.Payload)))
	case m.Type == "pong" && !legacy:
		c.mu.Lock()
		c.missedPongs = 0
		c.mu.Unlock()
	case m.Type == "subscribe" && !legacy, m.Type == "start" && legacy:
		c.start(m.ID, m.Payload, start)
	case m.Type == "complete" && !legacy, m.Type == "stop" && legacy:
		c.stop(m.ID)
	case m.Type == "connection_terminate" && legacy:
		c.Close(CloseNormal, "terminated")
	default:
		c.refuse("unexpected message type " + m.Type)
	}
}

// refuse ends a connection that broke the protocol: graphql-transport-ws closes with 4400, the
// legacy protocol says why in connection_error first and closes with 1002.
func (c *Conn) refuse(reason string) {
	if c.protocol == ProtocolLegacyWS {
		c.send(serverFrame(opText, message("connection_error", "", errorPayload(reason))))
		c.fail(CloseProtocolError, reason)
		return
	}
	c.fail(closeBadRequest, reason)
}

// initialize answers connection_init: InitFunc admits the connection or refuses it.
func (c *Conn) initialize(raw json.RawMessage) {
	c.mu.Lock()
	again := c.initialized
	c.mu.Unlock()
	if again {
		if c.protocol == ProtocolTransportWS {
			c.fail(closeTooManyInitCalls, "too many initialisation requests")
		} else {
			c.refuse("already initialised")
		}
		return
	}
	payload := transport.InitPayload{}
	if len(raw) > 0 && !bytes.Equal(raw, []byte("null")) {
		if err := json.Unmarshal(raw, &payload); err != nil {
			c.refuse("connection_init payload is not a JSON object")
			return
		}
	}
	ctx := c.baseCtx
	var ack *transport.InitPayload
	if c.t.InitFunc != nil {
		var err error
		ctx, ack, err = c.t.InitFunc(ctx, payload)
		if err != nil {
			if c.protocol == ProtocolLegacyWS {
				c.send(serverFrame(opText, message("connection_error", "", errorPayload(err.Error()))))
			}
			c.Close(closeCodeFrom(ctx), err.Error())
			return
		}
	}
	c.ctx = ctx
	var ackPayload []byte
	if ack != nil {
		ackPayload, _ = json.Marshal(*ack)
	}
	c.mu.Lock()
	c.initialized = true
	c.pushLocked(serverFrame(opText, message("connection_ack", "", ackPayload)))
	if c.protocol == ProtocolLegacyWS && c.t.KeepAlive > 0 {
		c.pushLocked(serverFrame(opText, message("ka", "", nil)))
	}
	if c.timer != nil && !c.closing {
		if c.t.KeepAlive > 0 {
			c.timer.Reset(c.t.KeepAlive)
		} else {
			c.timer.Stop()
		}
	}
	c.mu.Unlock()
	// InitFunc's context ends the connection when it ends (a revoked session, say).
	if ctx != c.baseCtx {
		context.AfterFunc(ctx, func() { c.Close(CloseNormal, "terminated") })
	}
}

// send queues one frame for the client. It never blocks on the network.
func (c *Conn) send(frame []byte) {
	c.mu.Lock()
	if !c.closing {
		c.pushLocked(frame)
	}
	c.mu.Unlock()
}

// pushLocked queues a frame and starts a writer when none runs. A client that lets more than
// MaxPendingBytes pile up is cut off. Called with mu held.
func (c *Conn) pushLocked(frame []byte) {
	if c.closed {
		return
	}
	if c.outBytes+len(frame) > c.t.maxPendingBytes() {
		c.closing, c.endOnFlush, c.outbox, c.outBytes = true, true, nil, 0
		go c.teardown()
		return
	}
	c.outbox = append(c.outbox, frame)
	c.outBytes += len(frame)
	if !c.flushing {
		c.flushing = true
		go c.flush()
	}
}

// flush writes queued frames until none is left. It runs only while there is output, so an idle
// connection has no writer goroutine.
func (c *Conn) flush() {
	for {
		c.mu.Lock()
		batch := c.outbox
		c.outbox, c.outBytes = nil, 0
		if len(batch) == 0 || c.closed {
			c.flushing = false
			end := c.endOnFlush && !c.closed
			c.mu.Unlock()
			if end {
				c.teardown()
			}
			return
		}
		c.mu.Unlock()
		_ = c.nc.SetWriteDeadline(time.Now().Add(c.t.writeTimeout()))
		bufs := net.Buffers(batch)
		if _, err := bufs.WriteTo(c.nc); err != nil {
			c.mu.Lock()
			c.flushing = false
			c.mu.Unlock()
			c.teardown()
			return
		}
	}
}

// message encodes a protocol message: {"type":…,"id":…,"payload":…}, leaving out an empty id or
// payload.
func message(typ, id string, payload []byte) []byte {
	b := make([]byte, 0, 32+len(id)+len(payload))
	b = append(b, `{"type":"`...)
	b = append(b, typ...)
	b = append(b, '"')
	if id != "" {
		quoted, _ := json.Marshal(id)
		b = append(b, `,"id":`...)
		b = append(b, quoted...)
	}
	if len(payload) > 0 {
		b = append(b, `,"payload":`...)
		b = append(b, payload...)
	}
	return append(b, '}')
}

// errorPayload is {"message": msg}, the payload of graphql-ws's connection_error.
func errorPayload(msg string) []byte {
	b, _ := json.Marshal(map[string]string{"message": msg})
	return b
}
