package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"storefront/app"
)

// server is one instance started by a test that needs more than testsupport.StartServer gives:
// its log output, a hook before it serves, or control over its stop.
type server struct {
	URL  string
	App  *app.App
	Logs *logBuffer

	cancel context.CancelFunc
	done   chan error
}

// startServer runs an instance of cfg; before, if given, runs after New and before Serve.
func startServer(t *testing.T, cfg app.Config, before func(*app.App)) *server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	cfg.Port = ln.Addr().(*net.TCPAddr).Port
	logs := &logBuffer{}
	a, err := app.New(context.Background(), cfg, slog.New(slog.NewJSONHandler(logs, nil)))
	if err != nil {
		ln.Close()
		t.Fatalf("start server: %v", err)
	}
	if before != nil {
		before(a)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &server{URL: "http://" + ln.Addr().String(), App: a, Logs: logs, cancel: cancel, done: make(chan error, 1)}
	go func() { s.done <- a.Serve(ctx, ln) }()
	t.Cleanup(func() {
		if err := s.stop(); err != nil {
			t.Errorf("server stopped with: %v", err)
		}
		a.Close()
	})
	return s
}

// stop cancels Serve and waits for it; calling it again returns the same result.
func (s *server) stop() error {
	s.cancel()
	err, ok := <-s.done
	if ok {
		close(s.done)
	}
	return err
}

// logBuffer collects log output safely from many goroutines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Lines decodes every log line, failing the test on one that is not a JSON object.
func (b *logBuffer) Lines(t *testing.T) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(b.String()), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line is not JSON: %q", line)
		}
		out = append(out, m)
	}
	return out
}

// gqlResponse is a GraphQL answer with its HTTP status and headers.
type gqlResponse struct {
	Status     int
	Header     http.Header
	Data       json.RawMessage `json:"data"`
	Errors     []gqlError      `json:"errors"`
	Extensions map[string]any  `json:"extensions"`
	Raw        string
}

type gqlError struct {
	Message    string         `json:"message"`
	Extensions map[string]any `json:"extensions"`
}

func (r gqlResponse) code() string {
	if len(r.Errors) == 0 {
		return ""
	}
	c, _ := r.Errors[0].Extensions["code"].(string)
	return c
}

// send makes one HTTP request and decodes a JSON answer if there is one.
func send(t *testing.T, method, url, contentType string, body io.Reader, header http.Header) gqlResponse {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatalf("build request: %v", err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	out := gqlResponse{Status: resp.StatusCode, Header: resp.Header, Raw: string(raw)}
	if strings.Contains(resp.Header.Get("Content-Type"), "json") {
		if err := json.Unmarshal(raw, &out); err != nil {
			t.Fatalf("decode answer (HTTP %d): %s", resp.StatusCode, raw)
		}
	}
	return out
}

// gql posts a GraphQL request as JSON.
func gql(t *testing.T, s *server, query string, vars map[string]any, header http.Header) gqlResponse {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	return send(t, http.MethodPost, s.URL+"/graphql", "application/json", bytes.NewReader(body), header)
}

// wsURL is the websocket address of the GraphQL endpoint.
func (s *server) wsURL() string { return "ws" + strings.TrimPrefix(s.URL, "http") + "/graphql" }

// dialWS opens a graphql-transport-ws connection with the given Origin ("" for none).
func dialWS(ctx context.Context, s *server, origin string) (*websocket.Conn, *http.Response, error) {
	h := http.Header{}
	if origin != "" {
		h.Set("Origin", origin)
	}
	return websocket.Dial(ctx, s.wsURL(), &websocket.DialOptions{
		Subprotocols: []string{"graphql-transport-ws"},
		HTTPHeader:   h,
	})
}

// wsMessage is a graphql-transport-ws message.
type wsMessage struct {
	ID      string          `json:"id,omitempty"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

func wsWrite(t *testing.T, ctx context.Context, c *websocket.Conn, m wsMessage) {
	t.Helper()
	b, _ := json.Marshal(m)
	if err := c.Write(ctx, websocket.MessageText, b); err != nil {
		t.Fatalf("websocket write: %v", err)
	}
}

func wsRead(t *testing.T, ctx context.Context, c *websocket.Conn) wsMessage {
	t.Helper()
	_, b, err := c.Read(ctx)
	if err != nil {
		t.Fatalf("websocket read: %v", err)
	}
	var m wsMessage
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("websocket message %q: %v", b, err)
	}
	return m
}

// initWS sends connection_init and waits for the ack.
func initWS(t *testing.T, ctx context.Context, c *websocket.Conn) {
	t.Helper()
	wsWrite(t, ctx, c, wsMessage{Type: "connection_init"})
	if m := wsRead(t, ctx, c); m.Type != "connection_ack" {
		t.Fatalf("after connection_init got %+v; want connection_ack", m)
	}
}

// openWS dials wsURL in graphql-transport-ws and initialises the connection, which closes when
// the test ends.
func openWS(t *testing.T, ctx context.Context, wsURL string) *websocket.Conn {
	t.Helper()
	c, _, err := websocket.Dial(ctx, wsURL, &websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
	if err != nil {
		t.Fatalf("dial %s: %v", wsURL, err)
	}
	t.Cleanup(func() { c.CloseNow() })
	initWS(t, ctx, c)
	return c
}

func timeoutCtx(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}
