package app_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// TestPostAnswers covers the POST transport's answers: data as the executor wrote it, errors
// beside data, an undecodable body, and the status and media type of a document that is not
// valid GraphQL, which follow the client's Accept header as the GraphQL-over-HTTP spec says.
func TestPostAnswers(t *testing.T) {
	t.Parallel()
	srv := seededServer(t, 10)
	s := &server{URL: srv.URL}
	post := func(t *testing.T, body, accept string) gqlResponse {
		t.Helper()
		h := http.Header{}
		if accept != "" {
			h.Set("Accept", accept)
		}
		return send(t, http.MethodPost, s.URL+"/graphql", "application/json", strings.NewReader(body), h)
	}

	t.Run("data", func(t *testing.T) {
		res := gql(t, s, `query($n: Int) { products(first: $n) { nodes { name images { url altText } price { amount } } } }`,
			map[string]any{"n": 3}, nil)
		if res.Status != http.StatusOK || len(res.Errors) != 0 || res.Header.Get("Content-Type") != "application/json" {
			t.Fatalf("HTTP %d %q: %s", res.Status, res.Header.Get("Content-Type"), res.Raw)
		}
		var data struct {
			Products struct {
				Nodes []struct {
					Name   string
					Images []struct{ URL string }
				}
			}
		}
		if err := json.Unmarshal(res.Data, &data); err != nil || len(data.Products.Nodes) != 3 {
			t.Fatalf("data = %s (%v)", res.Data, err)
		}
		for _, p := range data.Products.Nodes {
			if p.Name == "" || len(p.Images) == 0 || p.Images[0].URL == "" {
				t.Errorf("product without its name or images: %+v", p)
			}
		}
		if !strings.HasPrefix(res.Raw, `{"data":{"products":`) {
			t.Errorf("answer = %.80s…; want the data first when there are no errors", res.Raw)
		}
	})

	t.Run("errors beside data", func(t *testing.T) {
		res := gql(t, s, `{ products(first: 1) { totalCount } order(id: "T3JkZXI6MQ") { id } }`, nil, nil)
		if res.Status != http.StatusOK || res.code() != "UNAUTHENTICATED" {
			t.Fatalf("HTTP %d: %s", res.Status, res.Raw)
		}
		var data struct{ Products struct{ TotalCount int } }
		if err := json.Unmarshal(res.Data, &data); err != nil || data.Products.TotalCount == 0 {
			t.Errorf("data = %s; want the products beside the error", res.Data)
		}
	})

	t.Run("undecodable body", func(t *testing.T) {
		res := post(t, `{"query": "{ products { totalCount } }"`, "")
		if res.Status != http.StatusBadRequest || len(res.Errors) != 1 ||
			!strings.Contains(res.Errors[0].Message, "could not be decoded") || string(res.Data) != "null" {
			t.Errorf("HTTP %d: %s", res.Status, res.Raw)
		}
	})

	for _, tc := range []struct {
		name, body, accept, contentType string
		status                          int
	}{
		{"parse error", `{"query": "{ products {"}`, "", "application/json", http.StatusUnprocessableEntity},
		{"unknown field", `{"query": "{ nothing }"}`, "application/json", "application/json", http.StatusUnprocessableEntity},
		{"parse error, graphql-response", `{"query": "{ products {"}`, "application/graphql-response+json", "application/graphql-response+json", http.StatusBadRequest},
		{"unknown field, graphql-response first", `{"query": "{ nothing }"}`, "application/graphql-response+json, application/json", "application/graphql-response+json", http.StatusBadRequest},
		{"unknown field, any type", `{"query": "{ nothing }"}`, "*/*", "application/json", http.StatusUnprocessableEntity},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := post(t, tc.body, tc.accept)
			if res.Status != tc.status || res.Header.Get("Content-Type") != tc.contentType {
				t.Errorf("HTTP %d %q; want %d %q", res.Status, res.Header.Get("Content-Type"), tc.status, tc.contentType)
			}
			if code := res.code(); code != "GRAPHQL_PARSE_FAILED" && code != "GRAPHQL_VALIDATION_FAILED" {
				t.Errorf("error code %q: %s", code, res.Raw)
			}
		})
	}
}
