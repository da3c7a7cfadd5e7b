package testsupport

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"storefront/app"
)

// Server is a running instance of the whole server on a loopback port.
type Server struct {
	App *app.App
	URL string
	// stop ends the instance once; later calls return the first answer.
	stop func() error
}

// Stop shuts the instance down gracefully, as SIGTERM would (readiness turns 503, in-flight
// requests finish, websockets close), waits for it and releases its connections. A test calls it
// to take an instance away while others go on; otherwise the instance stops when the test ends.
func (s *Server) Stop() error { return s.stop() }

// Config returns a development configuration on a fresh database and Redis prefix, with rate
// limits off. Tests adjust it before StartServer.
func Config(t testing.TB) app.Config {
	t.Helper()
	cfg, err := app.LoadConfig(func(string) string { return "" })
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	cfg.DatabaseURL = NewDatabase(t)
	cfg.RedisURL = RedisURL(t)
	cfg.RedisPrefix = NewRedisPrefix(t)
	cfg.RateLimit = false
	cfg.ShutdownTimeout = 5 * time.Second
	return cfg
}

// StartServer runs an instance with cfg until the test ends.
func StartServer(t testing.TB, cfg app.Config) *Server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	cfg.Port = ln.Addr().(*net.TCPAddr).Port
	cfg.PublicURL = "http://" + ln.Addr().String()
	log := slog.New(slog.NewJSONHandler(io.Discard, nil))
	if testing.Verbose() {
		log = slog.New(slog.NewJSONHandler(testWriter{t}, nil))
	}
	a, err := app.New(context.Background(), cfg, log)
	if err != nil {
		t.Fatalf("start server: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Serve(ctx, ln) }()
	srv := &Server{App: a, URL: "http://" + ln.Addr().String()}
	srv.stop = sync.OnceValue(func() error {
		cancel()
		err := <-done
		a.Close()
		return err
	})
	t.Cleanup(func() {
		if err := srv.stop(); err != nil {
			t.Errorf("server stopped with: %v", err)
		}
	})
	return srv
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(string(bytes.TrimRight(p, "\n")))
	return len(p), nil
}

// Response is a GraphQL answer.
type Response struct {
	Data       json.RawMessage `json:"data"`
	Errors     []GraphQLError  `json:"errors"`
	Extensions map[string]any  `json:"extensions"`
	// Status is the HTTP status code.
	Status int `json:"-"`
}

// GraphQLError is one entry of a response's errors.
type GraphQLError struct {
	Message    string         `json:"message"`
	Path       []any          `json:"path"`
	Extensions map[string]any `json:"extensions"`
}

// Code returns the extensions.code of the error.
func (e GraphQLError) Code() string { s, _ := e.Extensions["code"].(string); return s }

// Decode unmarshals the data into v, failing the test on GraphQL errors.
func (r Response) Decode(t testing.TB, v any) {
	t.Helper()
	if len(r.Errors) > 0 {
		t.Fatalf("unexpected GraphQL errors: %+v", r.Errors)
	}
	if err := json.Unmarshal(r.Data, v); err != nil {
		t.Fatalf("decode data %s: %v", r.Data, err)
	}
}

// ErrorCode returns the code of the first error, or "".
func (r Response) ErrorCode() string {
	if len(r.Errors) == 0 {
		return ""
	}
	return r.Errors[0].Code()
}

// Client sends GraphQL requests to a server, optionally as a signed-in user.
type Client struct {
	URL   string
	Token string
	// Header is added to every request.
	Header http.Header
}

// Client returns a guest client of the server.
func (s *Server) Client() *Client { return &Client{URL: s.URL + "/graphql"} }

// WithToken returns a copy of the client that sends the access token.
func (c *Client) WithToken(token string) *Client {
	cp := *c
	cp.Token = token
	return &cp
}

// Do posts a query with variables and returns the decoded answer, failing the test when no
// answer comes.
func (c *Client) Do(t testing.TB, query string, vars map[string]any) Response {
	t.Helper()
	resp, err := c.Send(query, vars)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// Send is Do for a test that expects a server to go away: it returns the error instead of
// failing the test when the request cannot be sent or its answer cannot be read.
func (c *Client) Send(query string, vars map[string]any) (Response, error) {
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, err := http.NewRequest(http.MethodPost, c.URL, bytes.NewReader(body))
	if err != nil {
		return Response{}, fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	for k, vs := range c.Header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return Response{}, fmt.Errorf("POST %s: %w", c.URL, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return Response{}, fmt.Errorf("read response: %w", err)
	}
	var out Response
	if err := json.Unmarshal(raw, &out); err != nil {
		return Response{}, fmt.Errorf("decode response (HTTP %d): %s", resp.StatusCode, raw)
	}
	out.Status = resp.StatusCode
	return out, nil
}
