// Package apperr names the failures every layer shares, so the GraphQL error presenter can map
// them to the `extensions.code` values clients rely on without knowing which package failed.
// Expected business failures (out of stock, declined payment) are not errors: they travel as
// UserError data in mutation payloads.
package apperr

import (
	"errors"
	"fmt"
	"time"
)

var (
	// ErrNotFound: the thing does not exist, or the caller may not know that it exists.
	ErrNotFound = errors.New("not found")
	// ErrUnauthenticated: no valid session.
	ErrUnauthenticated = errors.New("authentication required")
	// ErrForbidden: signed in, but the role does not allow this.
	ErrForbidden = errors.New("forbidden")
)

// InputError is a well-formed but unacceptable value: `first: 500`, a bad cursor, a negative price.
type InputError struct {
	Field   string
	Message string
}

func (e *InputError) Error() string {
	if e.Field == "" {
		return e.Message
	}
	return e.Field + ": " + e.Message
}

// Input builds an InputError with a formatted message.
func Input(field, format string, args ...any) error {
	return &InputError{Field: field, Message: fmt.Sprintf(format, args...)}
}

// RateLimitError says the caller must wait before trying again.
type RateLimitError struct {
	RetryAfter time.Duration
}

func (e *RateLimitError) Error() string {
	return fmt.Sprintf("too many requests; retry after %s", e.RetryAfter.Round(time.Second))
}

// ComplexityError says a query is too large to run.
type ComplexityError struct {
	Message string
}

func (e *ComplexityError) Error() string { return e.Message }
