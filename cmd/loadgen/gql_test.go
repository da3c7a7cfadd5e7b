package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestGQLAnswers: the data lands in out, a GraphQL error becomes the call's error even beside
// data, an answer nobody reads is still checked, and one that is not JSON fails.
func TestGQLAnswers(t *testing.T) {
	t.Parallel()
	answers := map[string]string{
		"data":     `{"data":{"cart":{"id":"c1","lines":[{"id":"l1"},{"id":"l2"}]}}}`,
		"error":    `{"errors":[{"message":"cart not found"}],"data":{"cart":null}}`,
		"nulldata": `{"errors":[{"message":"boom"}],"data":null}`,
		"broken":   `{"data":{"cart":`,
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The bearer token names the answer to give.
		_, _ = w.Write([]byte(answers[strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")]))
	}))
	defer srv.Close()
	g := &generator{o: options{url: srv.URL}, http: srv.Client()}
	ctx := context.Background()

	var out struct {
		Cart struct {
			ID    string
			Lines []struct{ ID string }
		}
	}
	if err := g.gql(ctx, "data", "query { cart }", nil, &out); err != nil {
		t.Fatal(err)
	}
	if out.Cart.ID != "c1" || len(out.Cart.Lines) != 2 || out.Cart.Lines[1].ID != "l2" {
		t.Fatalf("data not decoded into out: %+v", out)
	}
	if err := g.gql(ctx, "data", "query { cart }", nil, nil); err != nil {
		t.Fatalf("an answer decoded into nothing: %v", err)
	}
	for token, want := range map[string]string{"error": "cart not found", "nulldata": "boom"} {
		if err := g.gql(ctx, token, "query { cart }", nil, &out); err == nil || err.Error() != want {
			t.Fatalf("%s: got %v, want %q", token, err, want)
		}
	}
	for _, o := range []any{&out, nil} {
		if err := g.gql(ctx, "broken", "query { cart }", nil, o); err == nil || !strings.Contains(err.Error(), "HTTP 200") {
			t.Fatalf("a truncated answer (out %T): got %v", o, err)
		}
	}
}
