package app_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/coder/websocket"

	"storefront/app"
	"storefront/testsupport"
)

// readUntilClosed reads until the server closes the connection and returns the close status.
func readUntilClosed(t *testing.T, ctx context.Context, c *websocket.Conn) websocket.StatusCode {
	t.Helper()
	for {
		if _, _, err := c.Read(ctx); err != nil {
			if ctx.Err() != nil {
				t.Fatal("the server did not close the websocket")
			}
			return websocket.CloseStatus(err)
		}
	}
}

// TestWebsocketProtocolErrorsCloseWithTheirCodes: graphql-transport-ws's close codes for clients
// that break the protocol.
func TestWebsocketProtocolErrorsCloseWithTheirCodes(t *testing.T) {
	t.Parallel()
	s := startServer(t, testsupport.Config(t), nil)
	cartID := createCart(t, (&testsupport.Server{App: s.App, URL: s.URL}).Client()).Cart.ID
	subscribe := func(id string) wsMessage {
		p, _ := json.Marshal(map[string]any{"query": qSubscribe, "variables": map[string]any{"id": cartID}})
		return wsMessage{ID: id, Type: "subscribe", Payload: p}
	}
	cases := []struct {
		name string
		init bool
		send []string // raw messages
		want websocket.StatusCode
	}{
		{"subscribe before connection_init", false, []string{mustMarshal(subscribe("1"))}, 4401},
		{"connection_init twice", true, []string{`{"type":"connection_init"}`}, 4429},
		{"two operations with one id", true, []string{mustMarshal(subscribe("1")), mustMarshal(subscribe("1"))}, 4409},
		{"not JSON", true, []string{`{"type":`}, 4400},
		{"unknown message type", true, []string{`{"type":"start","id":"1"}`}, 4400},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := timeoutCtx(t, 10*time.Second)
			c, _, err := dialWS(ctx, s, "")
			if err != nil {
				t.Fatalf("dial: %v", err)
			}
			defer c.CloseNow()
			if tc.init {
				initWS(t, ctx, c)
			}
			for _, m := range tc.send {
				if err := c.Write(ctx, websocket.MessageText, []byte(m)); err != nil {
					t.Fatalf("write: %v", err)
				}
			}
			if got := readUntilClosed(t, ctx, c); got != tc.want {
				t.Fatalf("closed with %d; want %d", got, tc.want)
			}
		})
	}
}

func mustMarshal(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// TestWebsocketAnswersPingsAndCarriesQueries: a protocol ping gets its payload back in a pong,
// and a query sent over the websocket answers once and completes.
func TestWebsocketAnswersPingsAndCarriesQueries(t *testing.T) {
	t.Parallel()
	s := startServer(t, testsupport.Config(t), nil)
	ctx := timeoutCtx(t, 10*time.Second)
	c := openWS(t, ctx, s.wsURL())

	wsWrite(t, ctx, c, wsMessage{Type: "ping", Payload: json.RawMessage(`{"n":7}`)})
	if m := wsRead(t, ctx, c); m.Type != "pong" || string(m.Payload) != `{"n":7}` {
		t.Fatalf("ping answered with %+v; want pong {\"n\":7}", m)
	}

	q, _ := json.Marshal(map[string]any{"query": `query { __typename }`})
	wsWrite(t, ctx, c, wsMessage{ID: "q1", Type: "subscribe", Payload: q})
	m := wsRead(t, ctx, c)
	var answer struct {
		Data struct {
			Typename string `json:"__typename"`
		}
	}
	if err := json.Unmarshal(m.Payload, &answer); err != nil || m.Type != "next" || m.ID != "q1" || answer.Data.Typename != "Query" {
		t.Fatalf("query answered with %s %s %s", m.Type, m.ID, m.Payload)
	}
	if m := wsRead(t, ctx, c); m.Type != "complete" || m.ID != "q1" {
		t.Fatalf("after the answer got %+v; want complete q1", m)
	}

	bad, _ := json.Marshal(map[string]any{"query": `query { noSuchField }`})
	wsWrite(t, ctx, c, wsMessage{ID: "q2", Type: "subscribe", Payload: bad})
	if m := wsRead(t, ctx, c); m.Type != "error" || m.ID != "q2" {
		t.Fatalf("an invalid query answered with %+v; want error q2", m)
	}
}

// TestWebsocketWithoutPongsIsClosed: a graphql-transport-ws client that answers no ping is
// disconnected after two keep-alive intervals.
func TestWebsocketWithoutPongsIsClosed(t *testing.T) {
	t.Parallel()
	cfg := testsupport.Config(t)
	cfg.Websocket.KeepAlive = 100 * time.Millisecond
	s := startServer(t, cfg, nil)
	ctx := timeoutCtx(t, 10*time.Second)
	c := openWS(t, ctx, s.wsURL())
	pings := 0
	for {
		_, b, err := c.Read(ctx)
		if err != nil {
			if got := websocket.CloseStatus(err); got != websocket.StatusProtocolError {
				t.Fatalf("closed with %v; want 1002", err)
			}
			break
		}
		var m wsMessage
		_ = json.Unmarshal(b, &m)
		if m.Type == "ping" {
			pings++
		}
	}
	if pings != 2 {
		t.Fatalf("the server sent %d pings before giving up; want 2", pings)
	}
}

// TestLegacyWebsocketKeepsAliveAndTerminates: the graphql-ws protocol gets "ka" messages and ends
// on connection_terminate.
func TestLegacyWebsocketKeepsAliveAndTerminates(t *testing.T) {
	t.Parallel()
	cfg := testsupport.Config(t)
	cfg.Websocket.KeepAlive = 50 * time.Millisecond
	s := startServer(t, cfg, nil)
	ctx := timeoutCtx(t, 10*time.Second)
	c, resp, err := websocket.Dial(ctx, s.wsURL(), &websocket.DialOptions{Subprotocols: []string{"graphql-ws"}})
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer c.CloseNow()
	if got := resp.Header.Get("Sec-WebSocket-Protocol"); got != "graphql-ws" {
		t.Fatalf("negotiated %q; want graphql-ws", got)
	}
	wsWrite(t, ctx, c, wsMessage{Type: "connection_init"})
	if m := wsRead(t, ctx, c); m.Type != "connection_ack" {
		t.Fatalf("got %+v; want connection_ack", m)
	}
	kas := 0
	for kas < 3 {
		if m := wsRead(t, ctx, c); m.Type == "ka" {
			kas++
		}
	}
	wsWrite(t, ctx, c, wsMessage{Type: "connection_terminate"})
	if got := readUntilClosed(t, ctx, c); got != websocket.StatusNormalClosure {
		t.Fatalf("connection_terminate closed with %d; want 1000", got)
	}
}

// TestStoppedSubscriptionLeavesItsCart: a subscription the client completes leaves the cart's
// feed and gets nothing more, while another on the same connection goes on; a burst of changes
// reaches a subscriber as its last state.
func TestStoppedSubscriptionLeavesItsCart(t *testing.T) {
	t.Parallel()
	e := newCartEnv(t, func(*app.Config) {})
	a := insertProducts(t, e.pool, productSpec{price: 900, stock: 100})[0]
	client := e.srv.Client()
	cartID := createCart(t, client).Cart.ID
	ctx := timeoutCtx(t, 20*time.Second)
	c := openWS(t, ctx, "ws"+e.srv.URL[len("http"):]+"/graphql")
	p, _ := json.Marshal(map[string]any{"query": qSubscribe, "variables": map[string]any{"id": cartID}})
	wsWrite(t, ctx, c, wsMessage{ID: "stays", Type: "subscribe", Payload: p})
	wsWrite(t, ctx, c, wsMessage{ID: "goes", Type: "subscribe", Payload: p})
	waitWatchStats(t, e, 1, 2)
	wsWrite(t, ctx, c, wsMessage{ID: "goes", Type: "complete"})
	waitWatchStats(t, e, 1, 1)

	const changes = 5
	for range changes {
		addLines(t, client, cartID, line(a.ID, 1))
	}
	last := 0
	for last != changes {
		m := wsRead(t, ctx, c)
		if m.ID != "stays" || m.Type != "next" {
			t.Fatalf("got %+v %s; want only next for the remaining subscription", m, m.Payload)
		}
		var r struct {
			Data struct{ CartUpdated gqlCart }
		}
		if err := json.Unmarshal(m.Payload, &r); err != nil {
			t.Fatal(err)
		}
		if q := r.Data.CartUpdated.TotalQuantity; q <= last {
			t.Fatalf("quantity went from %d to %d: changes out of order", last, q)
		} else {
			last = q
		}
	}
}

// TestCompletedOperationSendsNothingMore: a subscription the client completes at once, while it
// is still being set up, gets no message afterwards, not even the error of its cancelled setup.
func TestCompletedOperationSendsNothingMore(t *testing.T) {
	t.Parallel()
	e := newCartEnv(t, nil)
	cartID := createCart(t, e.srv.Client()).Cart.ID
	ctx := timeoutCtx(t, 20*time.Second)
	c := openWS(t, ctx, "ws"+e.srv.URL[len("http"):]+"/graphql")
	p, _ := json.Marshal(map[string]any{"query": qSubscribe, "variables": map[string]any{"id": cartID}})
	for i := range 30 {
		id := "s" + string(rune('a'+i%26)) + string(rune('0'+i/26))
		wsWrite(t, ctx, c, wsMessage{ID: id, Type: "subscribe", Payload: p})
		wsWrite(t, ctx, c, wsMessage{ID: id, Type: "complete"})
	}
	waitWatchStats(t, e, 0, 0)
	wsWrite(t, ctx, c, wsMessage{Type: "ping"})
	if m := wsRead(t, ctx, c); m.Type != "pong" {
		t.Fatalf("a completed subscription sent %s %s %s", m.Type, m.ID, m.Payload)
	}
	quiet, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	if _, b, err := c.Read(quiet); err == nil {
		t.Fatalf("a completed subscription sent %s", b)
	}
}
