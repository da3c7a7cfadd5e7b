package app_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"storefront/testsupport"
)

func TestHealthAndReadiness(t *testing.T) {
	t.Parallel()
	srv := testsupport.StartServer(t, testsupport.Config(t))
	for path, want := range map[string]string{"/healthz": "ok", "/readyz": "ready"} {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), want) {
			t.Errorf("GET %s = %d %q; want 200 %q", path, resp.StatusCode, body, want)
		}
		if resp.Header.Get("X-Request-Id") == "" {
			t.Errorf("GET %s: no X-Request-Id header", path)
		}
	}
}

func TestUnknownFieldIsValidationError(t *testing.T) {
	t.Parallel()
	srv := testsupport.StartServer(t, testsupport.Config(t))
	resp := srv.Client().Do(t, `{ nope }`, nil)
	if resp.ErrorCode() != "GRAPHQL_VALIDATION_FAILED" {
		t.Fatalf("code = %q; want GRAPHQL_VALIDATION_FAILED (%+v)", resp.ErrorCode(), resp.Errors)
	}
}
