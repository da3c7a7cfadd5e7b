package graphqlhttp

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// executor answers every operation with resp, and records the parameters it was given.
type executor struct {
	resp   *graphql.Response
	params *graphql.RawParams
}

func (e *executor) CreateOperationContext(_ context.Context, p *graphql.RawParams) (*graphql.OperationContext, gqlerror.List) {
	e.params = p
	return &graphql.OperationContext{}, nil
}

func (e *executor) DispatchOperation(ctx context.Context, _ *graphql.OperationContext) (graphql.ResponseHandler, context.Context) {
	return func(context.Context) *graphql.Response { return e.resp }, ctx
}

func (e *executor) DispatchError(_ context.Context, errs gqlerror.List) *graphql.Response {
	return &graphql.Response{Errors: errs}
}

func post(t *testing.T, exec graphql.GraphExecutor, body string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if !(POST{}).Supports(req) {
		t.Fatal("a JSON POST is not supported")
	}
	rec := httptest.NewRecorder()
	POST{}.Do(rec, req, exec)
	return rec
}

func TestDataIsWrittenAsTheExecutorRenderedIt(t *testing.T) {
	exec := &executor{resp: &graphql.Response{
		Data:       json.RawMessage(`{"product":{"name":"Salt & Pepper <Mill>"}}`),
		Errors:     gqlerror.List{{Message: "partial", Path: []ast.PathElement{ast.PathName("price")}}},
		Extensions: map[string]any{"cost": 3},
	}}
	rec := post(t, exec, `{"query":"{ product { name } }","variables":{"n":12345678901234567890}}`)
	want := `{"errors":[{"message":"partial","path":["price"]}],"data":{"product":{"name":"Salt & Pepper <Mill>"}},"extensions":{"cost":3}}`
	if rec.Code != http.StatusOK || rec.Body.String() != want {
		t.Errorf("HTTP %d\n%s\nwant\n%s", rec.Code, rec.Body.String(), want)
	}
	if n, ok := exec.params.Variables["n"].(json.Number); !ok || n.String() != "12345678901234567890" {
		t.Errorf("variable n = %#v; want the number with all its digits", exec.params.Variables["n"])
	}
}

func TestEndedStreamIsNull(t *testing.T) {
	rec := post(t, &executor{}, `{"query":"subscription { s }"}`)
	if rec.Body.String() != "null" {
		t.Errorf("body %q; want null, as gqlgen's transport writes", rec.Body.String())
	}
}

func TestSupports(t *testing.T) {
	for _, tc := range []struct {
		method, contentType, upgrade string
		want                         bool
	}{
		{http.MethodPost, "application/json", "", true},
		{http.MethodPost, "application/json; charset=utf-8", "", true},
		{http.MethodPost, "text/plain", "", false},
		{http.MethodGet, "application/json", "", false},
		{http.MethodPost, "application/json", "websocket", false},
	} {
		req := httptest.NewRequest(tc.method, "/graphql", nil)
		req.Header.Set("Content-Type", tc.contentType)
		if tc.upgrade != "" {
			req.Header.Set("Upgrade", tc.upgrade)
		}
		if got := (POST{}).Supports(req); got != tc.want {
			t.Errorf("%s %s upgrade %q: %v; want %v", tc.method, tc.contentType, tc.upgrade, got, tc.want)
		}
	}
}
