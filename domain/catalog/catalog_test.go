package catalog

import (
	"errors"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"storefront/domain/apperr"
	"storefront/domain/money"
)

func isInput(err error) bool {
	var in *apperr.InputError
	return errors.As(err, &in)
}

func TestNormalizeSearch(t *testing.T) {
	for in, want := range map[string]string{
		"":                         "",
		"   ":                      "",
		"  wireless   headphones ": "wireless headphones",
		"laptop\t-gaming\n":        "laptop -gaming",
		"nul\x00byte":              "nul byte",
		`"noise cancelling"`:       `"noise cancelling"`,
	} {
		got, err := NormalizeSearch(in)
		if err != nil || got != want {
			t.Errorf("NormalizeSearch(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{strings.Repeat("x", MaxSearchLength+1), "bad \xff utf8"} {
		if _, err := NormalizeSearch(bad); !isInput(err) {
			t.Errorf("NormalizeSearch(%.20q…) = %v; want an input error", bad, err)
		}
	}
	if _, err := NormalizeSearch(strings.Repeat("é", MaxSearchLength)); err != nil {
		t.Errorf("the limit counts characters, not bytes: %v", err)
	}
}

func TestFuzzyText(t *testing.T) {
	for in, want := range map[string]string{
		"labtop":                 "labtop",
		`"labtop stand"`:         "labtop stand",
		"labtop -gaming":         "labtop",
		"espreso or ketle":       "espreso ketle",
		"-only -exclusions":      "",
		`"unbalanced quote here`: "unbalanced quote here",
	} {
		if got := FuzzyText(in); got != want {
			t.Errorf("FuzzyText(%q) = %q; want %q", in, got, want)
		}
	}
}

func TestCursorRoundTripsEverySort(t *testing.T) {
	p := Product{
		ID: 42, Price: 129999, SoldCount: 77,
		CreatedAt: time.Date(2025, 3, 4, 5, 6, 7, 891011000, time.UTC),
		Rating:    Rating{Count: 12, AverageHundredths: 437},
	}
	rank := float32(0.060666669)
	for _, tc := range []struct {
		sort  Sort
		match Match
	}{
		{SortRelevance, MatchAll}, {SortRelevance, MatchText}, {SortRelevance, MatchFuzzy},
		{SortPriceAsc, MatchAll}, {SortPriceDesc, MatchText}, {SortNewest, MatchAll},
		{SortRating, MatchAll}, {SortBestSelling, MatchFuzzy},
	} {
		c := CursorFor(tc.sort, tc.match, p, rank)
		vals := c.Values()
		if len(vals) != tc.sort.CursorWidth() {
			t.Fatalf("%s/%s: %d values, width %d", tc.sort, tc.match, len(vals), tc.sort.CursorWidth())
		}
		back, err := ParseCursor(tc.sort, vals)
		if err != nil {
			t.Fatalf("%s/%s: %v", tc.sort, tc.match, err)
		}
		if !back.CreatedAt.Equal(c.CreatedAt) {
			t.Errorf("%s/%s: time %v; want %v", tc.sort, tc.match, back.CreatedAt, c.CreatedAt)
		}
		back.CreatedAt, c.CreatedAt = time.Time{}, time.Time{}
		if *back != c {
			t.Errorf("%s/%s: round trip %+v; want %+v", tc.sort, tc.match, *back, c)
		}
	}
	// A float4 rank survives its text form exactly, so the next page starts exactly after it.
	for _, r := range []float32{0, 1e-9, 0.1, 0.33333334, math.MaxFloat32} {
		c := CursorFor(SortRelevance, MatchText, p, r)
		back, err := ParseCursor(SortRelevance, c.Values())
		if err != nil || back.Rank != r {
			t.Errorf("rank %v came back as %v (%v)", r, back.Rank, err)
		}
	}
}

func TestParseCursorRefusesForeignOrBrokenCursors(t *testing.T) {
	good := CursorFor(SortPriceAsc, MatchAll, Product{ID: 7, Price: 100}, 0).Values()
	for name, tc := range map[string]struct {
		sort Sort
		vals []string
	}{
		"another sort":     {SortPriceDesc, good},
		"wrong width":      {SortRating, good},
		"unknown match":    {SortPriceAsc, []string{"PRICE_ASC", "x", "100", "7"}},
		"non-numeric key":  {SortPriceAsc, []string{"PRICE_ASC", "a", "cheap", "7"}},
		"zero id":          {SortPriceAsc, []string{"PRICE_ASC", "a", "100", "0"}},
		"non-numeric rank": {SortRelevance, []string{"RELEVANCE", "t", "high", "7"}},
	} {
		if _, err := ParseCursor(tc.sort, tc.vals); !isInput(err) {
			t.Errorf("%s: %v; want an input error", name, err)
		}
	}
}

func TestParseSortAndPrices(t *testing.T) {
	if s, err := ParseSort("BEST_SELLING"); err != nil || s != SortBestSelling {
		t.Errorf("ParseSort(BEST_SELLING) = %q, %v", s, err)
	}
	if _, err := ParseSort("CHEAPEST"); !isInput(err) {
		t.Errorf("ParseSort(CHEAPEST) = %v; want an input error", err)
	}
	if a, err := ParsePrice("filter.minPrice", "19.9"); err != nil || a != 1990 {
		t.Errorf("ParsePrice(19.9) = %d, %v", a, err)
	}
	for _, bad := range []string{"-1", "1e3", "abc", "1.999", ""} {
		if _, err := ParsePrice("filter.minPrice", bad); !isInput(err) {
			t.Errorf("ParsePrice(%q) = %v; want an input error", bad, err)
		}
	}
	lo, hi := money.Amount(500), money.Amount(100)
	if err := (Filter{MinPrice: &lo, MaxPrice: &hi}).Validate(); !isInput(err) {
		t.Errorf("inverted range: %v", err)
	}
	if err := (Filter{MinPrice: &hi, MaxPrice: &lo}).Validate(); err != nil {
		t.Errorf("valid range: %v", err)
	}
}

func TestTree(t *testing.T) {
	tree := NewTree([]Category{
		{ID: 1, Name: "Audio", Position: 1},
		{ID: 2, Name: "Computers", Position: 0},
		{ID: 3, ParentID: 1, Name: "Speakers", Position: 1},
		{ID: 4, ParentID: 1, Name: "Headphones", Position: 0},
		{ID: 5, ParentID: 4, Name: "Earbuds"},
		// A cycle must not hang a subtree walk.
		{ID: 6, ParentID: 7, Name: "Loop A"},
		{ID: 7, ParentID: 6, Name: "Loop B"},
	})
	names := func(cs []Category) []string {
		var out []string
		for _, c := range cs {
			out = append(out, c.Name)
		}
		return out
	}
	if got := names(tree.Roots()); !slices.Equal(got, []string{"Computers", "Audio"}) {
		t.Errorf("roots = %v", got)
	}
	if got := names(tree.Children(1)); !slices.Equal(got, []string{"Headphones", "Speakers"}) {
		t.Errorf("children of Audio = %v", got)
	}
	sub := tree.Subtree([]int64{1, 4, 999})
	slices.Sort(sub)
	if !slices.Equal(sub, []int64{1, 3, 4, 5}) {
		t.Errorf("subtree of Audio = %v", sub)
	}
	if got := tree.Subtree([]int64{999}); got == nil || len(got) != 0 {
		t.Errorf("subtree of an unknown category = %#v; want empty, not nil", got)
	}
	loop := tree.Subtree([]int64{6})
	slices.Sort(loop)
	if !slices.Equal(loop, []int64{6, 7}) {
		t.Errorf("subtree of a cycle = %v", loop)
	}
}
