package graphqlws

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"runtime/debug"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"storefront/domain/stream"
)

// operation is one subscribe (or start) of a client: usually a subscription, possibly a query or
// a mutation, which websockets carry too.
type operation struct {
	id     string
	c      *Conn
	ctx    context.Context // ends when the client stops it or the connection ends
	cancel context.CancelFunc

	// Set once the operation is dispatched, before any delivery runs.
	rc        *graphql.OperationContext
	execCtx   context.Context
	responses graphql.ResponseHandler

	mu sync.Mutex
	// notified: the source announces its values (stream.Notifier), so deliveries run on the
	// pool when announced instead of on a goroutine that waits for them.
	notified  bool
	pending   int  // announced values not yet delivered, beyond the one being delivered
	scheduled bool // a delivery is queued or running
}

// start begins the operation id from a subscribe message.
func (c *Conn) start(id string, raw json.RawMessage, readStart time.Time) {
	if id == "" {
		c.refuse("subscribe without an id")
		return
	}
	c.mu.Lock()
	switch {
	case !c.initialized:
		c.mu.Unlock()
		if c.protocol == ProtocolTransportWS {
			c.fail(closeUnauthorized, "unauthorized")
		} else {
			c.refuse("connection_init must come first")
		}
		return
	case c.ops[id] != nil:
		c.mu.Unlock()
		c.fail(closeDuplicateID, "subscriber for "+id+" already exists")
		return
	case len(c.ops) >= c.t.maxOperations():
		c.mu.Unlock()
		c.sendErrors(id, gqlerror.List{{Message: fmt.Sprintf("at most %d operations at once on one connection", c.t.maxOperations())}})
		return
	case c.closing || c.closed:
		c.mu.Unlock()
		return
	}
	op := &operation{id: id, c: c}
	op.ctx, op.cancel = context.WithCancel(c.ctx)
	if c.ops == nil {
		c.ops = map[string]*operation{}
	}
	c.ops[id] = op
	c.mu.Unlock()

	params := &graphql.RawParams{}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber() // variables keep their exact numbers, as gqlgen's own transports decode them
	if err := dec.Decode(params); err != nil {
		op.fail(gqlerror.List{{Message: "invalid json"}})
		return
	}
	params.ReadTime = graphql.TraceTiming{Start: readStart}
	go op.run(params)
}

// run executes the operation: a query or mutation answers once; a subscription whose source
// announces its values waits for them on no goroutine; any other streams here.
func (op *operation) run(params *graphql.RawParams) {
	c := op.c
	defer func() {
		if v := recover(); v != nil {
			op.panicked(v)
		}
	}()
	params.ReadTime.End = graphql.Now()
	ctx := graphql.StartOperationTrace(op.ctx)
	rc, errs := c.exec.CreateOperationContext(ctx, params)
	if errs != nil {
		resp := c.exec.DispatchError(graphql.WithOperationContext(ctx, rc), errs)
		if errcode.GetErrorKind(errs) == errcode.KindProtocol {
			op.fail(resp.Errors)
			return
		}
		op.sendResponse(resp)
		op.finish()
		return
	}
	op.rc = rc
	ctx = graphql.WithOperationContext(ctx, rc)
	n := stream.NewNotifier(op.announce)
	responses, ctx := c.exec.DispatchOperation(stream.WithNotifier(ctx, n), rc)
	if rc.Operation != nil && rc.Operation.Operation == ast.Subscription && n.Attached() {
		op.mu.Lock()
		op.execCtx, op.responses, op.notified = ctx, responses, true
		deliverNow := op.pending > 0
		if deliverNow {
			op.pending--
			op.scheduled = true
		}
		op.mu.Unlock()
		if deliverNow {
			c.t.pool.submit(op.deliver)
		}
		return
	}
	for {
		resp := responses(ctx)
		if resp == nil {
			break
		}
		op.sendResponse(resp)
	}
	op.finish()
}

// announce is the source's notification that one value (or the end) is ready. It never blocks.
func (op *operation) announce() {
	op.mu.Lock()
	if !op.notified || op.scheduled {
		op.pending++
		op.mu.Unlock()
		return
	}
	op.scheduled = true
	op.mu.Unlock()
	op.c.t.pool.submit(op.deliver)
}

// deliver executes and sends announced values, one per announcement, on a pool worker. Only one
// delivery of an operation runs at a time, so its results go out in order.
func (op *operation) deliver() {
	defer func() {
		if v := recover(); v != nil {
			op.panicked(v)
		}
	}()
	for {
		resp := op.responses(op.execCtx)
		if resp == nil {
			op.finish()
			return
		}
		op.sendResponse(resp)
		op.mu.Lock()
		if op.pending == 0 {
			op.scheduled = false
			op.mu.Unlock()
			return
		}
		op.pending--
		op.mu.Unlock()
	}
}

// panicked reports a panic of the executor or a resolver as the operation's error.
func (op *operation) panicked(v any) {
	c := op.c
	c.t.log().Error("websocket operation panicked", "panic", v, "stack", string(debug.Stack()))
	err := fmt.Errorf("internal system error")
	if op.rc != nil {
		err = op.rc.Recover(op.ctx, v)
	}
	gqlErr, ok := err.(*gqlerror.Error)
	if !ok {
		gqlErr = &gqlerror.Error{Message: err.Error()}
	}
	op.fail(gqlerror.List{gqlErr})
}

// finish ends an operation that ran out: complete tells the client, unless the client stopped it.
func (op *operation) finish() {
	if op.c.forget(op) {
		op.c.send(serverFrame(opText, message("complete", op.id, nil)))
	}
}

// forget removes op from its connection and ends its context. It reports whether op was still
// running, that is, neither stopped by the client nor ended with the connection.
func (c *Conn) forget(op *operation) bool {
	c.mu.Lock()
	active := c.ops[op.id] == op
	if active {
		delete(c.ops, op.id)
	}
	c.mu.Unlock()
	op.cancel()
	return active
}

// stop ends the operation id at the client's request.
func (c *Conn) stop(id string) {
	c.mu.Lock()
	op := c.ops[id]
	delete(c.ops, id)
	c.mu.Unlock()
	if op != nil {
		op.cancel()
	}
}

// sendResponse sends one result, next (graphql-transport-ws) or data (graphql-ws), unless the
// operation has ended: after the client's complete nothing more may go out for its id.
func (op *operation) sendResponse(resp *graphql.Response) {
	c := op.c
	b, err := json.Marshal(resp)
	if err != nil {
		op.fail(gqlerror.List{{Message: "the result could not be encoded"}})
		return
	}
	typ := "next"
	if c.protocol == ProtocolLegacyWS {
		typ = "data"
	}
	frame := serverFrame(opText, message(typ, op.id, b))
	c.mu.Lock()
	if c.ops[op.id] == op && !c.closing {
		c.pushLocked(frame)
	}
	c.mu.Unlock()
}

// fail ends a running operation with errors; one the client already stopped ends silently.
func (op *operation) fail(errs gqlerror.List) {
	if op.c.forget(op) {
		op.c.sendErrors(op.id, errs)
	}
}

// sendErrors ends operation id with errors. graphql-transport-ws sends nothing after an error;
// the legacy protocol's clients wait for complete.
func (c *Conn) sendErrors(id string, errs gqlerror.List) {
	b, err := json.Marshal(errs)
	if err != nil {
		b = []byte(`[{"message":"internal system error"}]`)
	}
	c.send(serverFrame(opText, message("error", id, b)))
	if c.protocol == ProtocolLegacyWS {
		c.send(serverFrame(opText, message("complete", id, nil)))
	}
}
