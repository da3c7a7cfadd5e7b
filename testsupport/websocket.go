package testsupport

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"storefront/graphqlws"
)

// Websocket subprotocols the server speaks.
const (
	// ProtocolTransportWS is graphql-transport-ws, spoken by the graphql-ws npm client.
	ProtocolTransportWS = graphqlws.ProtocolTransportWS
	// ProtocolLegacyWS is the legacy subscriptions-transport-ws protocol, named graphql-ws.
	ProtocolLegacyWS = graphqlws.ProtocolLegacyWS
)

// Subscription is one GraphQL subscription over its own websocket connection.
type Subscription struct {
	t        testing.TB
	conn     *websocket.Conn
	protocol string
	events   chan wsEvent
	cancel   context.CancelFunc
}

type wsEvent struct {
	resp Response
	// done is set when the server ended the subscription (complete) or the connection closed.
	done bool
}

type wsMessage struct {
	ID      string          `json:"id,omitempty"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

// Subscribe opens a websocket to the server in protocol, signs in with token when not empty
// (connection_init payload), starts the subscription and returns once the server acknowledged
// the connection. The connection closes when the test ends.
func (s *Server) Subscribe(t testing.TB, protocol, token, query string, vars map[string]any) *Subscription {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	dialCtx, dialCancel := context.WithTimeout(ctx, 5*time.Second)
	defer dialCancel()
	url := "ws" + strings.TrimPrefix(s.URL, "http") + "/graphql"
	conn, _, err := websocket.Dial(dialCtx, url, &websocket.DialOptions{Subprotocols: []string{protocol}})
	if err != nil {
		cancel()
		t.Fatalf("dial %s: %v", url, err)
	}
	sub := &Subscription{t: t, conn: conn, protocol: protocol, events: make(chan wsEvent, 64), cancel: cancel}
	t.Cleanup(sub.Close)

	initPayload := map[string]any{}
	if token != "" {
		initPayload["Authorization"] = "Bearer " + token
	}
	sub.send(wsMessage{Type: "connection_init", Payload: mustJSON(initPayload)})
	for {
		var m wsMessage
		if err := sub.read(dialCtx, &m); err != nil {
			t.Fatalf("websocket: waiting for connection_ack: %v", err)
		}
		if m.Type == "connection_ack" {
			break
		}
		if m.Type == "connection_error" || m.Type == "error" {
			t.Fatalf("websocket: connection refused: %s", m.Payload)
		}
	}
	start := "subscribe"
	if protocol == ProtocolLegacyWS {
		start = "start"
	}
	sub.send(wsMessage{ID: "1", Type: start, Payload: mustJSON(map[string]any{"query": query, "variables": vars})})
	go sub.receive(ctx)
	return sub
}

func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

func (sub *Subscription) send(m wsMessage) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	b, _ := json.Marshal(m)
	if err := sub.conn.Write(ctx, websocket.MessageText, b); err != nil {
		sub.t.Errorf("websocket write %s: %v", m.Type, err)
	}
}

func (sub *Subscription) read(ctx context.Context, m *wsMessage) error {
	_, b, err := sub.conn.Read(ctx)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, m)
}

func (sub *Subscription) receive(ctx context.Context) {
	defer close(sub.events)
	for {
		var m wsMessage
		if err := sub.read(ctx, &m); err != nil {
			select {
			case sub.events <- wsEvent{done: true}:
			default:
			}
			return
		}
		switch m.Type {
		case "next", "data":
			var r Response
			_ = json.Unmarshal(m.Payload, &r)
			sub.events <- wsEvent{resp: r}
		case "error":
			var r Response
			if json.Unmarshal(m.Payload, &r.Errors) != nil {
				_ = json.Unmarshal(m.Payload, &r)
			}
			sub.events <- wsEvent{resp: r}
		case "complete":
			// The operation is over, the connection is not: go on reading, as a real client does,
			// so that a close from the server (a shutdown) gets its close handshake answered
			// instead of the server waiting for it.
			sub.events <- wsEvent{done: true}
		case "ping":
			sub.send(wsMessage{Type: "pong"})
		}
	}
}

// Next waits up to timeout for the next result. ok is false when none came in time or the
// subscription ended.
func (sub *Subscription) Next(timeout time.Duration) (resp Response, ok bool) {
	select {
	case ev, open := <-sub.events:
		if !open || ev.done {
			return Response{}, false
		}
		return ev.resp, true
	case <-time.After(timeout):
		return Response{}, false
	}
}

// Ended waits up to timeout for the server to end the subscription, skipping any results.
func (sub *Subscription) Ended(timeout time.Duration) bool {
	deadline := time.After(timeout)
	for {
		select {
		case ev, open := <-sub.events:
			if !open || ev.done {
				return true
			}
		case <-deadline:
			return false
		}
	}
}

// Close ends the connection.
func (sub *Subscription) Close() {
	sub.cancel()
	_ = sub.conn.Close(websocket.StatusNormalClosure, "")
}
