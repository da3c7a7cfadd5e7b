package app

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/vektah/gqlparser/v2/gqlerror"

	sredis "storefront/store/redis"
)

// CodeOperationNotAllowed refuses, in persisted-queries-only mode, a document that is not on the
// registered list.
const CodeOperationNotAllowed = "OPERATION_NOT_ALLOWED"

// persistedQueryTTL is how long an automatic persisted query stays in Redis without being used.
const persistedQueryTTL = 7 * 24 * time.Hour

// allowedOperations is the registered list of documents of persisted-queries-only mode, by the
// SHA-256 of their text. It doubles as the APQ cache then: a client may send the hash alone, and
// nothing a client sends is ever added.
type allowedOperations map[string]string

// manifest is the Apollo persisted query manifest (apollo-persisted-query-manifest, version 1)
// that Apollo's and other clients' build tools write.
type manifest struct {
	Format     string `json:"format"`
	Version    int    `json:"version"`
	Operations []struct {
		ID   string `json:"id"`
		Name string `json:"name"`
		Type string `json:"type"`
		Body string `json:"body"`
	} `json:"operations"`
}

// loadAllowedOperations reads a manifest. Each id must be the SHA-256 of its body, as APQ
// clients compute it, so a typo in the file is found at start rather than by a customer.
func loadAllowedOperations(path string) (allowedOperations, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read persisted queries: %w", err)
	}
	var m manifest
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("parse persisted queries %s: %w", path, err)
	}
	if m.Format != "apollo-persisted-query-manifest" || m.Version != 1 {
		return nil, fmt.Errorf("persisted queries %s: want format apollo-persisted-query-manifest version 1", path)
	}
	ops := allowedOperations{}
	for i, op := range m.Operations {
		hash := queryHash(op.Body)
		if op.ID != hash {
			return nil, fmt.Errorf("persisted queries %s: operation %d (%s): id is not the SHA-256 of its body (%s)", path, i, op.Name, hash)
		}
		ops[hash] = op.Body
	}
	if len(ops) == 0 {
		return nil, fmt.Errorf("persisted queries %s: no operations", path)
	}
	return ops, nil
}

func queryHash(q string) string {
	sum := sha256.Sum256([]byte(q))
	return hex.EncodeToString(sum[:])
}

// Get implements graphql.Cache for the APQ extension.
func (o allowedOperations) Get(_ context.Context, hash string) (string, bool) {
	q, ok := o[hash]
	return q, ok
}

// Add implements graphql.Cache; the registered list never grows from requests.
func (o allowedOperations) Add(context.Context, string, string) {}

// onlyAllowedOperations refuses any document not on the list. It runs after the APQ extension,
// which has by then replaced a hash with its document.
type onlyAllowedOperations struct{ ops allowedOperations }

var _ interface {
	graphql.HandlerExtension
	graphql.OperationParameterMutator
} = onlyAllowedOperations{}

func (onlyAllowedOperations) ExtensionName() string                   { return "OnlyAllowedOperations" }
func (onlyAllowedOperations) Validate(graphql.ExecutableSchema) error { return nil }

func (o onlyAllowedOperations) MutateOperationParameters(_ context.Context, params *graphql.RawParams) *gqlerror.Error {
	if _, ok := o.ops[queryHash(params.Query)]; ok {
		return nil
	}
	err := gqlerror.Errorf("this server answers registered operations only")
	errcode.Set(err, CodeOperationNotAllowed)
	return err
}

// readOnlyQueries lets the APQ extension read the Redis store but not write it: gqlgen's
// extension would store every document a client sends, before parsing, so anyone could fill
// Redis with documents the server then refuses. rememberPersistedQuery stores them instead.
type readOnlyQueries struct{ *sredis.PersistedQueries }

// Add implements graphql.Cache and stores nothing.
func (readOnlyQueries) Add(context.Context, string, string) {}

// rememberPersistedQuery stores a document sent with its hash once its operation has passed
// validation and every limit, so only documents the server answers are ever persisted.
func rememberPersistedQuery(store *sredis.PersistedQueries) graphql.OperationMiddleware {
	return func(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
		if st := extension.GetApqStats(ctx); st != nil && st.SentQuery {
			store.Add(ctx, st.Hash, graphql.GetOperationContext(ctx).RawQuery)
		}
		return next(ctx)
	}
}
