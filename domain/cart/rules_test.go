package cart

import (
	"testing"
)

var testLimits = Limits{MaxQuantity: 5, MaxLines: 3}

func TestAddRespectsLimitsAndStock(t *testing.T) {
	t.Parallel()
	p := Product{ID: 1, Price: 100, Published: true, Available: 4}
	c := Cart{Status: StatusActive}
	if err := c.Add(p, 3, testLimits); err != nil {
		t.Fatalf("Add 3: %v", err)
	}
	for _, tc := range []struct {
		p    Product
		qty  int
		code Code
	}{
		{p, 2, CodeOutOfStock}, // 3 + 2 > 4 in stock
		{Product{ID: 1, Price: 100, Published: true, Available: 50}, 3, CodeQuantityLimit}, // 3 + 3 > 5
		{p, 0, CodeInvalidInput},
		{Product{ID: 2, Available: 9}, 1, CodeNotFound}, // unpublished
	} {
		err := c.Add(tc.p, tc.qty, testLimits)
		if err == nil || err.Code != tc.code {
			t.Errorf("Add(%+v, %d) = %v; want %s", tc.p, tc.qty, err, tc.code)
		}
	}
	if len(c.Lines) != 1 || c.Lines[0].Quantity != 3 {
		t.Errorf("refused adds changed the cart: %+v", c.Lines)
	}
}

func TestSetQuantityLowersEvenWhenStockFell(t *testing.T) {
	t.Parallel()
	c := Cart{Status: StatusActive, Lines: []Line{{ID: 7, ProductID: 1, Quantity: 4}}}
	soldOut := Product{ID: 1, Published: true, Available: 0}
	if err := c.SetQuantity(7, 2, soldOut, testLimits); err != nil || c.Lines[0].Quantity != 2 {
		t.Errorf("lowering = %v, %+v", err, c.Lines)
	}
	if err := c.SetQuantity(7, 3, soldOut, testLimits); err == nil || err.Code != CodeOutOfStock {
		t.Errorf("raising past stock = %v; want OUT_OF_STOCK", err)
	}
	if err := c.SetQuantity(7, 0, soldOut, testLimits); err != nil || len(c.Lines) != 0 {
		t.Errorf("quantity 0 = %v, %+v; want the line removed", err, c.Lines)
	}
	if err := c.SetQuantity(7, 1, soldOut, testLimits); err == nil || err.Code != CodeNotFound {
		t.Errorf("unknown line = %v; want NOT_FOUND", err)
	}
}

func TestMergeFromClampsDropsAndWarns(t *testing.T) {
	t.Parallel()
	products := map[int64]Product{
		1: {ID: 1, Price: 100, Published: true, Available: 100}, // limit-bound
		2: {ID: 2, Price: 100, Published: true, Available: 4},   // stock-bound
		3: {ID: 3, Price: 100, Published: true, Available: 10},  // new, whole
		4: {ID: 4, Price: 100, Published: false, Available: 10}, // not sold
		5: {ID: 5, Price: 100, Published: true, Available: 0},   // sold out
		6: {ID: 6, Price: 100, Published: true, Available: 10},  // over the line limit
		7: {ID: 7, Price: 100, Published: true, Available: 1},   // user already holds more than stock
	}
	user := Cart{Status: StatusActive, UserID: 9, Lines: []Line{
		{ID: 1, ProductID: 1, Quantity: 3}, {ID: 2, ProductID: 2, Quantity: 2}}}
	guest := Cart{Status: StatusActive, Lines: []Line{
		{ProductID: 1, Quantity: 4}, {ProductID: 2, Quantity: 3}, {ProductID: 3, Quantity: 2},
		{ProductID: 4, Quantity: 1}, {ProductID: 5, Quantity: 1}, {ProductID: 6, Quantity: 1}}}
	warnings := user.MergeFrom(&guest, products, testLimits)

	want := map[int64]int{1: 5, 2: 4, 3: 2}
	if len(user.Lines) != len(want) {
		t.Fatalf("user lines = %+v; want %v", user.Lines, want)
	}
	for _, l := range user.Lines {
		if want[l.ProductID] != l.Quantity {
			t.Errorf("product %d: quantity %d; want %d", l.ProductID, l.Quantity, want[l.ProductID])
		}
	}
	codes := map[int64]Code{}
	for _, w := range warnings {
		codes[w.ProductID] = w.Code
	}
	wantCodes := map[int64]Code{1: WarnQuantityClamped, 2: WarnQuantityClamped, 4: WarnLineDropped, 5: WarnLineDropped, 6: WarnLineDropped}
	if len(codes) != len(wantCodes) {
		t.Errorf("warnings = %+v; want %v", warnings, wantCodes)
	}
	for id, code := range wantCodes {
		if codes[id] != code {
			t.Errorf("product %d: warning %q; want %q", id, codes[id], code)
		}
	}
	if guest.Status != StatusMerged || len(guest.Lines) != 0 {
		t.Errorf("guest after merge = %+v; want MERGED and empty", guest)
	}

	// Merging never lowers what the user already had, even above today's stock.
	user = Cart{Status: StatusActive, Lines: []Line{{ID: 1, ProductID: 7, Quantity: 3}}}
	guest = Cart{Status: StatusActive, Lines: []Line{{ProductID: 7, Quantity: 2}}}
	ws := user.MergeFrom(&guest, products, testLimits)
	if user.Lines[0].Quantity != 3 || len(ws) != 1 || ws[0].Code != WarnQuantityClamped {
		t.Errorf("merge over fallen stock = %+v, %+v; want 3 kept and a clamp warning", user.Lines, ws)
	}
}

func TestPriceWarnsAboutChangedPricesAndHidesUnsoldProducts(t *testing.T) {
	t.Parallel()
	c := Cart{Lines: []Line{
		{ID: 1, ProductID: 1, Quantity: 2, AddedUnitPrice: 100},
		{ID: 2, ProductID: 2, Quantity: 1, AddedUnitPrice: 300},
		{ID: 3, ProductID: 3, Quantity: 1, AddedUnitPrice: 50},
	}}
	v := Price(c, map[int64]Product{
		1: {ID: 1, Price: 120, Published: true, Available: 10},
		2: {ID: 2, Price: 300, Published: false, Available: 10},
	})
	if len(v.Lines) != 1 || v.Subtotal != 240 || v.TotalQuantity != 2 || v.Lines[0].LineTotal != 240 {
		t.Fatalf("view = %+v; want only line 1 at 1.20 × 2", v)
	}
	codes := map[Code]int64{}
	for _, w := range v.Warnings {
		codes[w.Code] = w.LineID
	}
	if codes[WarnPriceChanged] != 1 || codes[WarnLineDropped] != 2 || len(codes) != 2 {
		t.Errorf("warnings = %+v", v.Warnings)
	}
}

func TestNewIDIsLongAndValid(t *testing.T) {
	t.Parallel()
	a, _ := NewID()
	b, _ := NewID()
	if a == b || !ValidID(a) || len(a) < 22 {
		t.Errorf("NewID = %q, %q", a, b)
	}
	for _, bad := range []string{"", "short", "not base64 at all!!!!!!!!"} {
		if ValidID(bad) {
			t.Errorf("ValidID(%q) = true", bad)
		}
	}
}
