package app

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
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
