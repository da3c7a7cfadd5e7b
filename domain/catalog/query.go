package catalog

import (
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"storefront/domain/apperr"
	"storefront/domain/money"
)

// Sort orders a product listing. Every order ends with the product id, so equal keys still have
// one fixed order and keyset cursors never skip or repeat an item.
type Sort string

// The sorts of the API.
const (
	// SortRelevance puts the best match first when searching, and the newest first otherwise.
	SortRelevance   Sort = "RELEVANCE"
	SortPriceAsc    Sort = "PRICE_ASC"
	SortPriceDesc   Sort = "PRICE_DESC"
	SortNewest      Sort = "NEWEST"
	SortRating      Sort = "RATING"
	SortBestSelling Sort = "BEST_SELLING"
)

// ParseSort reads a sort name.
func ParseSort(name string) (Sort, error) {
	switch s := Sort(name); s {
	case SortRelevance, SortPriceAsc, SortPriceDesc, SortNewest, SortRating, SortBestSelling:
		return s, nil
	}
	return "", apperr.Input("sort", "unknown sort %q; use RELEVANCE, PRICE_ASC, PRICE_DESC, NEWEST, RATING or BEST_SELLING", truncate(name, 40))
}

// CursorWidth is the number of values a cursor of this sort carries: the sort, the match and
// the sort key of the last item (which ends with its id).
func (s Sort) CursorWidth() int {
	if s == SortRating {
		return 5 // average, review count, id
	}
	return 4
}

// Match says how a listing's products were matched to the search text.
type Match string

const (
	// MatchAll: no search text; every product that passes the filter.
	MatchAll Match = "a"
	// MatchText: full-text search on name, category and description.
	MatchText Match = "t"
	// MatchFuzzy: spelling similarity with product names, used when full-text search finds
	// nothing (a typo such as "labtop").
	MatchFuzzy Match = "f"
)

// Filter narrows a listing. Nil and empty fields do not narrow.
type Filter struct {
	// CategoryIDs keeps products in these categories or any category below them.
	CategoryIDs []int64
	SellerIDs   []int64
	MinPrice    *money.Amount
	MaxPrice    *money.Amount
	// InStock true keeps products with stock available now, false those without (as Shopify's
	// `available` filter does); nil keeps both.
	InStock *bool
}

// ParsePrice reads a price bound such as "19.99" for field.
func ParsePrice(field, s string) (money.Amount, error) {
	a, err := money.Parse(s)
	if err != nil {
		return 0, apperr.Input(field, "%q is not an amount; write a decimal such as \"19.99\"", truncate(s, 40))
	}
	if a < 0 {
		return 0, apperr.Input(field, "must not be negative, got %q", truncate(s, 40))
	}
	return a, nil
}

// Validate checks that the price range is not inverted.
func (f Filter) Validate() error {
	if f.MinPrice != nil && f.MaxPrice != nil && *f.MinPrice > *f.MaxPrice {
		return apperr.Input("filter.minPrice", "must not exceed maxPrice (%s > %s)", f.MinPrice, f.MaxPrice)
	}
	return nil
}

// ListQuery asks for one page of products.
type ListQuery struct {
	// Search is the shopper's text in web-search syntax: "a phrase", -excluded, this or that.
	Search string
	Filter Filter
	Sort   Sort
	// First is the page size, already bounded by the caller (0..100).
	First int
	// After continues a listing after this cursor; nil starts at the beginning.
	After *Cursor
	// WithTotal asks for the number of matching products as well.
	WithTotal bool
}

// Cursor is a position in a listing: the sort and match it belongs to, and the sort key of the
// last item seen. Keyset paging continues strictly after that key, so a page stays correct when
// products are added before it, and deep pages cost what the first one does.
type Cursor struct {
	Sort  Sort
	Match Match
	ID    int64
	// One of these is set, by sort: Price for PRICE_*, CreatedAt for NEWEST (and RELEVANCE
	// without search text), Rank for RELEVANCE when searching, the rating pair for RATING, Sold
	// for BEST_SELLING.
	Price     money.Amount
	CreatedAt time.Time
	// Rank is a float4 in Postgres; it survives the text round trip exactly.
	Rank              float32
	AverageHundredths int64
	RatingCount       int64
	Sold              int64
}

// orderedBy reports which key the listing really orders by: RELEVANCE without search text is
// the newest first.
func orderedBy(s Sort, m Match) Sort {
	if s == SortRelevance && m == MatchAll {
		return SortNewest
	}
	return s
}

// CursorFor returns the position of p in a listing sorted by s that matched by m; rank is p's
// search rank in that listing.
func CursorFor(s Sort, m Match, p Product, rank float32) Cursor {
	c := Cursor{Sort: s, Match: m, ID: p.ID}
	switch orderedBy(s, m) {
	case SortPriceAsc, SortPriceDesc:
		c.Price = p.Price
	case SortNewest:
		c.CreatedAt = p.CreatedAt
	case SortRelevance:
		c.Rank = rank
	case SortRating:
		c.AverageHundredths, c.RatingCount = p.Rating.AverageHundredths, int64(p.Rating.Count)
	case SortBestSelling:
		c.Sold = p.SoldCount
	}
	return c
}

// Values is the cursor as strings, for an opaque encoding; ParseCursor reads them back.
func (c Cursor) Values() []string {
	v := []string{string(c.Sort), string(c.Match)}
	switch orderedBy(c.Sort, c.Match) {
	case SortPriceAsc, SortPriceDesc:
		v = append(v, strconv.FormatInt(int64(c.Price), 10))
	case SortNewest:
		v = append(v, strconv.FormatInt(c.CreatedAt.UnixMicro(), 10))
	case SortRelevance:
		v = append(v, strconv.FormatFloat(float64(c.Rank), 'g', -1, 32))
	case SortRating:
		v = append(v, strconv.FormatInt(c.AverageHundredths, 10), strconv.FormatInt(c.RatingCount, 10))
	case SortBestSelling:
		v = append(v, strconv.FormatInt(c.Sold, 10))
	}
	return append(v, strconv.FormatInt(c.ID, 10))
}

// ParseCursor reads the values of a cursor that must belong to a listing sorted by want.
func ParseCursor(want Sort, values []string) (*Cursor, error) {
	bad := apperr.Input("after", "invalid cursor")
	if len(values) != want.CursorWidth() {
		return nil, bad
	}
	if Sort(values[0]) != want {
		return nil, apperr.Input("after", "the cursor belongs to a listing sorted by another order")
	}
	c := &Cursor{Sort: want, Match: Match(values[1])}
	if c.Match != MatchAll && c.Match != MatchText && c.Match != MatchFuzzy {
		return nil, bad
	}
	ints := func(ss ...string) ([]int64, bool) {
		out := make([]int64, len(ss))
		for i, s := range ss {
			n, err := strconv.ParseInt(s, 10, 64)
			if err != nil {
				return nil, false
			}
			out[i] = n
		}
		return out, true
	}
	keys := values[2:]
	id, ok := ints(keys[len(keys)-1])
	if !ok || id[0] <= 0 {
		return nil, bad
	}
	c.ID = id[0]
	keys = keys[:len(keys)-1]
	switch orderedBy(c.Sort, c.Match) {
	case SortRelevance:
		r, err := strconv.ParseFloat(keys[0], 32)
		if err != nil {
			return nil, bad
		}
		c.Rank = float32(r)
	default:
		n, ok := ints(keys...)
		if !ok {
			return nil, bad
		}
		switch orderedBy(c.Sort, c.Match) {
		case SortPriceAsc, SortPriceDesc:
			c.Price = money.Amount(n[0])
		case SortNewest:
			c.CreatedAt = time.UnixMicro(n[0]).UTC()
		case SortRating:
			c.AverageHundredths, c.RatingCount = n[0], n[1]
		case SortBestSelling:
			c.Sold = n[0]
		}
	}
	return c, nil
}

// MaxSearchLength bounds the search text: longer text is not a search a shopper types, and it
// would only make the database work harder.
const MaxSearchLength = 200

// NormalizeSearch cleans a shopper's search text: control characters become spaces, runs of
// space collapse, and the ends are trimmed. Text longer than MaxSearchLength is refused.
func NormalizeSearch(q string) (string, error) {
	if !utf8.ValidString(q) {
		return "", apperr.Input("query", "must be valid UTF-8 text")
	}
	var b strings.Builder
	space := false
	for _, r := range q {
		if unicode.IsSpace(r) || unicode.IsControl(r) {
			space = true
			continue
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		b.WriteRune(r)
	}
	out := b.String()
	if n := utf8.RuneCountInString(out); n > MaxSearchLength {
		return "", apperr.Input("query", "must be at most %d characters, got %d", MaxSearchLength, n)
	}
	return out, nil
}

// FuzzyText returns the words of a search worth comparing by spelling: quotes go, excluded
// words (-word) and the operator "or" are dropped. "" means there is nothing to compare.
func FuzzyText(search string) string {
	var words []string
	for _, w := range strings.Fields(strings.ReplaceAll(search, `"`, " ")) {
		if strings.HasPrefix(w, "-") || strings.EqualFold(w, "or") {
			continue
		}
		words = append(words, w)
	}
	return strings.Join(words, " ")
}

func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}
