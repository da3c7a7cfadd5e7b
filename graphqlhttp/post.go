// Package graphqlhttp carries GraphQL queries and mutations in HTTP POST requests with a JSON
// body, the way gqlgen's own POST transport does and with the same answers, status codes and
// content negotiation, but without encoding each answer twice.
//
// gqlgen's executor already renders an answer's data as JSON. Its POST transport then passes the
// whole answer through json.Marshal, which scans and copies that data once more to re-validate it
// (and to escape HTML characters no JSON client needs escaped): on a product page, the busiest
// request of a store, that second pass cost about a tenth of the server's CPU. This transport
// writes the data as the executor rendered it and encodes only the errors and extensions, which
// are rare and small.
package graphqlhttp

import (
	"encoding/json"
	"mime"
	"net/http"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// The two media types a GraphQL-over-HTTP answer may have.
const (
	contentTypeJSON            = "application/json"
	contentTypeGraphQLResponse = "application/graphql-response+json"
)

// POST is the gqlgen transport for POST requests with an application/json body holding query,
// operationName, variables and extensions.
type POST struct{}

var _ graphql.Transport = POST{}

// Supports accepts POST requests with a JSON body that are not websocket upgrades.
func (POST) Supports(r *http.Request) bool {
	if r.Method != http.MethodPost || r.Header.Get("Upgrade") != "" {
		return false
	}
	mediaType, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && mediaType == contentTypeJSON
}

// Do decodes the request, runs the operation and writes its answer.
func (POST) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	ctx := r.Context()
	contentType := responseContentType(r.Header.Get("Accept"))
	w.Header().Set("Content-Type", contentType)

	start := graphql.Now()
	params := &graphql.RawParams{}
	dec := json.NewDecoder(r.Body)
	// Numbers stay json.Number so that large integers in variables keep their digits.
	dec.UseNumber()
	if err := dec.Decode(params); err != nil {
		w.WriteHeader(http.StatusBadRequest)
		writeResponse(w, exec.DispatchError(ctx, gqlerror.List{
			gqlerror.Errorf("json request body could not be decoded: %v", err)}))
		return
	}
	params.Headers = r.Header
	params.ReadTime = graphql.TraceTiming{Start: start, End: graphql.Now()}

	opCtx, errs := exec.CreateOperationContext(ctx, params)
	if errs != nil {
		w.WriteHeader(statusFor(contentType, errs))
		writeResponse(w, exec.DispatchError(graphql.WithOperationContext(ctx, opCtx), errs))
		return
	}
	responses, ctx := exec.DispatchOperation(ctx, opCtx)
	writeResponse(w, responses(ctx))
}

// responseContentType picks the answer's media type from the Accept header as gqlgen does:
// application/json unless the client asks for application/graphql-response+json first, or
// names neither.
func responseContentType(accept string) string {
	if accept == "" {
		return contentTypeJSON
	}
	for part := range strings.SplitSeq(accept, ",") {
		mediaType, _, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		switch mediaType {
		case "*/*", "application/*", contentTypeJSON:
			return contentTypeJSON
		case contentTypeGraphQLResponse:
			return contentTypeGraphQLResponse
		}
	}
	return contentTypeGraphQLResponse
}

// statusFor is the status of an operation that could not start: a request that is not GraphQL
// at all (a protocol error) is 422 for application/json clients and 400 for
// application/graphql-response+json ones; a document that fails validation is still 200.
func statusFor(contentType string, errs gqlerror.List) int {
	if errcode.GetErrorKind(errs) != errcode.KindProtocol {
		return http.StatusOK
	}
	if contentType == contentTypeGraphQLResponse {
		return http.StatusBadRequest
	}
	return http.StatusUnprocessableEntity
}

// writeResponse writes resp as gqlgen's graphql.Response encodes, with its data copied as it is.
// net/http buffers the pieces into one write. Answers of incremental delivery (label, path,
// hasNext) never come over POST; should one, it is encoded the ordinary way.
func writeResponse(w http.ResponseWriter, resp *graphql.Response) {
	if resp == nil { // a subscription whose stream ended before its first event: gqlgen writes null
		_, _ = w.Write(jsonNull)
		return
	}
	if resp.Label != "" || resp.Path != nil || resp.HasNext != nil {
		_, _ = w.Write(encode(resp))
		return
	}
	_, _ = w.Write(openBrace)
	if len(resp.Errors) > 0 {
		_, _ = w.Write(errorsKey)
		_, _ = w.Write(encode(resp.Errors))
		_, _ = w.Write(comma)
	}
	_, _ = w.Write(dataKey)
	if len(resp.Data) == 0 {
		_, _ = w.Write(jsonNull)
	} else {
		_, _ = w.Write(resp.Data)
	}
	if len(resp.Extensions) > 0 {
		_, _ = w.Write(extensionsKey)
		_, _ = w.Write(encode(resp.Extensions))
	}
	_, _ = w.Write(closeBrace)
}

// The fixed pieces of an answer, made once: a []byte conversion passed to Write would be
// allocated on every call.
var (
	jsonNull      = []byte("null")
	openBrace     = []byte("{")
	closeBrace    = []byte("}")
	comma         = []byte(",")
	errorsKey     = []byte(`"errors":`)
	dataKey       = []byte(`"data":`)
	extensionsKey = []byte(`,"extensions":`)
)

// encode marshals v; errors and extensions are built by the server from plain values, so
// failing to encode them is a bug, as it is in gqlgen's transport.
func encode(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}
