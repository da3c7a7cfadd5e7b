package app

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// A panic outside gqlgen (which recovers its own) still answers 500 INTERNAL_SERVER_ERROR with
// the request id and logs the stack; http.ErrAbortHandler keeps its meaning.
func TestRecoverPanicsAnswersInternalError(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	a := &App{log: slog.New(slog.NewJSONHandler(&logs, nil))}
	h := a.requestID(a.recoverPanics(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		panic("nil map in handler")
	})))
	req := httptest.NewRequest(http.MethodGet, "/anything", nil)
	req.Header.Set("X-Request-Id", "http-panic-1")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var body struct {
		Errors []struct {
			Message    string
			Extensions map[string]any
		}
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || rec.Code != http.StatusInternalServerError || len(body.Errors) != 1 {
		t.Fatalf("answer %d %s", rec.Code, rec.Body)
	}
	if e := body.Errors[0]; e.Extensions["code"] != "INTERNAL_SERVER_ERROR" || !strings.Contains(e.Message, "http-panic-1") ||
		strings.Contains(e.Message, "nil map") {
		t.Errorf("error %+v: want INTERNAL_SERVER_ERROR with the request id and no internal text", e)
	}
	if !strings.Contains(logs.String(), `"request_id":"http-panic-1"`) || !strings.Contains(logs.String(), "goroutine") {
		t.Errorf("log lacks the request id or stack: %s", logs.String())
	}

	abort := a.recoverPanics(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic(http.ErrAbortHandler) }))
	defer func() {
		if v := recover(); v != http.ErrAbortHandler {
			t.Errorf("ErrAbortHandler became %v", v)
		}
	}()
	abort.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/", nil).WithContext(context.Background()))
}

// A worker that ignores its stop signal cannot hold a stop past ShutdownTimeout: Serve returns
// on time and names what is still running.
func TestServeStopsWithinTheShutdownTimeout(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	defer close(release)
	a := &App{
		cfg:     Config{ShutdownTimeout: 300 * time.Millisecond},
		log:     slog.New(slog.NewJSONHandler(io.Discard, nil)),
		router:  http.NotFoundHandler(),
		workers: []worker{{name: "stuck worker", run: func(context.Context) { <-release }}},
	}
	a.ws = newWSHub(WebsocketLimits{})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Serve(ctx, ln) }()
	cancel()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "workers still running (stuck worker)") {
			t.Fatalf("Serve = %v; want the stuck worker named", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve waited for a stuck worker past the shutdown timeout")
	}
}
