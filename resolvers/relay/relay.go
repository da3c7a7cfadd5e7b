// Package relay encodes the opaque global ids and page cursors of the GraphQL API. Clients treat
// both as opaque strings; inside they are base64url of "Type:key" and of a sort position.
package relay

import (
	"encoding/base64"
	"strconv"
	"strings"

	"storefront/domain/apperr"
)

// Kinds of node, as they appear inside global ids.
const (
	KindProduct  = "Product"
	KindCategory = "Category"
	KindSeller   = "Seller"
	KindUser     = "User"
	KindAddress  = "Address"
	KindCart     = "Cart"
	KindCartLine = "CartLine"
	KindOrder    = "Order"
	KindPayment  = "Payment"
)

// ID returns the global id of the node of kind with the given key.
func ID(kind, key string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(kind + ":" + key))
}

// IntID returns the global id of a node whose key is a database integer.
func IntID(kind string, key int64) string { return ID(kind, strconv.FormatInt(key, 10)) }

// ParseID splits a global id into its kind and key. It fails with an InputError for anything that
// is not one of ours.
func ParseID(id string) (kind, key string, err error) {
	raw, decErr := base64.RawURLEncoding.DecodeString(strings.TrimRight(id, "="))
	if decErr != nil {
		return "", "", apperr.Input("id", "%q is not a valid id", truncate(id))
	}
	kind, key, ok := strings.Cut(string(raw), ":")
	if !ok || kind == "" || key == "" {
		return "", "", apperr.Input("id", "%q is not a valid id", truncate(id))
	}
	return kind, key, nil
}

// ParseIntID reads a global id that must be of kind and carry a positive integer key. A wrong kind
// is reported as not found, not as bad input: a client that mixes up ids asked for something that
// does not exist.
func ParseIntID(id, kind string) (int64, error) {
	k, key, err := ParseID(id)
	if err != nil {
		return 0, err
	}
	if k != kind {
		return 0, apperr.ErrNotFound
	}
	n, err := strconv.ParseInt(key, 10, 64)
	if err != nil || n <= 0 {
		return 0, apperr.Input("id", "%q is not a valid id", truncate(id))
	}
	return n, nil
}

// ParseKeyID reads a global id of kind whose key is an opaque string.
func ParseKeyID(id, kind string) (string, error) {
	k, key, err := ParseID(id)
	if err != nil {
		return "", err
	}
	if k != kind {
		return "", apperr.ErrNotFound
	}
	return key, nil
}

// Cursor encodes a position in a sorted list: the values of the sort key of the last item seen,
// joined so the next page can continue after it (keyset paging, which stays fast on deep pages).
func Cursor(values ...string) string {
	return base64.RawURLEncoding.EncodeToString([]byte("c1|" + strings.Join(values, "|")))
}

// ParseCursor decodes a cursor made by Cursor with n values.
func ParseCursor(cursor string, n int) ([]string, error) {
	raw, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil || !strings.HasPrefix(string(raw), "c1|") {
		return nil, apperr.Input("after", "invalid cursor")
	}
	parts := strings.Split(strings.TrimPrefix(string(raw), "c1|"), "|")
	if len(parts) != n {
		return nil, apperr.Input("after", "invalid cursor")
	}
	return parts, nil
}

// MaxPageSize caps `first` on every connection.
const MaxPageSize = 100

// PageSize validates `first`: nil means def, and anything outside 0..MaxPageSize is refused.
func PageSize(first *int, def int) (int, error) {
	if first == nil {
		return def, nil
	}
	if *first < 0 || *first > MaxPageSize {
		return 0, apperr.Input("first", "must be between 0 and %d, got %d", MaxPageSize, *first)
	}
	return *first, nil
}

func truncate(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}
