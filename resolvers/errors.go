package resolvers

import (
	"context"
	"errors"
	"log/slog"
	"math"
	"strconv"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"storefront/domain/apperr"
)

// Error codes of GraphQL errors, as listed in API.md.
const (
	CodeUnauthenticated = "UNAUTHENTICATED"
	CodeForbidden       = "FORBIDDEN"
	CodeNotFound        = "NOT_FOUND"
	CodeBadUserInput    = "BAD_USER_INPUT"
	CodeRateLimited     = "RATE_LIMITED"
	CodeComplexity      = "COMPLEXITY_LIMIT_EXCEEDED"
	CodeInternal        = "INTERNAL_SERVER_ERROR"
)

// RequestIDFunc returns the request id of a context; package app sets it so masked errors can be
// matched to their log line.
var RequestIDFunc = func(context.Context) string { return "" }

// PresentError is the one place domain errors become GraphQL errors. Known errors get their
// `extensions.code`; anything else is logged with the request id and masked, so no SQL, stack or
// internal name reaches a client.
func PresentError(ctx context.Context, err error) *gqlerror.Error {
	var gqlErr *gqlerror.Error
	if errors.As(err, &gqlErr) && gqlErr.Err == nil {
		// Parse and validation errors from gqlgen: already safe, already coded.
		if isVariableError(gqlErr) {
			// A variable whose value does not fit its type ($sort: "CHEAPEST") is bad input, not a
			// document that fails the schema: the same value written inline would be a
			// validation error, but a variable is data the client sends.
			gqlErr.Message = "variable $" + gqlErr.Path[1:].String() + ": " + gqlErr.Message
			if gqlErr.Extensions == nil {
				gqlErr.Extensions = map[string]any{}
			}
			gqlErr.Extensions["code"] = CodeBadUserInput
		}
		return gqlErr
	}
	presented := graphql.DefaultErrorPresenter(ctx, err)
	code, message := classify(err)
	if code == CodeInternal {
		reqID := RequestIDFunc(ctx)
		slog.ErrorContext(ctx, "resolver failed", "err", err.Error(), "path", presented.Path.String(), "request_id", reqID)
		message = "internal server error"
		if reqID != "" {
			message += " (request " + reqID + ")"
		}
	}
	presented.Message = message
	if presented.Extensions == nil {
		presented.Extensions = map[string]any{}
	}
	presented.Extensions["code"] = code
	var rl *apperr.RateLimitError
	if errors.As(err, &rl) {
		presented.Extensions["retryAfter"] = int(math.Ceil(rl.RetryAfter.Seconds()))
	}
	return presented
}

func classify(err error) (code, message string) {
	var (
		inErr *apperr.InputError
		rl    *apperr.RateLimitError
		cx    *apperr.ComplexityError
		gqlE  *gqlerror.Error
	)
	switch {
	case errors.Is(err, apperr.ErrUnauthenticated):
		return CodeUnauthenticated, "authentication required"
	case errors.Is(err, apperr.ErrForbidden):
		return CodeForbidden, "not allowed for this account"
	case errors.Is(err, apperr.ErrNotFound):
		return CodeNotFound, "not found"
	case errors.As(err, &inErr):
		return CodeBadUserInput, inErr.Error()
	case errors.As(err, &rl):
		return CodeRateLimited, "too many requests; retry after " + strconv.Itoa(int(math.Ceil(rl.RetryAfter.Seconds()))) + "s"
	case errors.As(err, &cx):
		return CodeComplexity, cx.Message
	case errors.As(err, &gqlE) && gqlE.Extensions["code"] != nil:
		// gqlgen's own coded errors, such as input coercion failures.
		code, _ := gqlE.Extensions["code"].(string)
		return code, gqlE.Message
	}
	return CodeInternal, ""
}

// isVariableError reports whether gqlgen refused the value of a variable while coercing it:
// those errors carry the path variable.<name>….
func isVariableError(e *gqlerror.Error) bool {
	if len(e.Path) < 2 {
		return false
	}
	name, ok := e.Path[0].(ast.PathName)
	return ok && name == "variable"
}
