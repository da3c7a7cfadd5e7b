package cart

import (
	"fmt"
	"strconv"
)

// Code classifies why one line of a change was refused, or what a warning is about. The values
// are the codes clients see.
type Code string

// Codes of refused lines (userErrors) and of warnings.
const (
	CodeOutOfStock    Code = "OUT_OF_STOCK"
	CodeQuantityLimit Code = "QUANTITY_LIMIT"
	CodeNotFound      Code = "NOT_FOUND"
	CodeInvalidInput  Code = "INVALID_INPUT"

	WarnQuantityClamped Code = "QUANTITY_CLAMPED"
	WarnLineDropped     Code = "LINE_DROPPED"
	WarnPriceChanged    Code = "PRICE_CHANGED"
	WarnOutOfStock      Code = "OUT_OF_STOCK"
)

// LineError says why one line of a change was refused; the cart is left as it was for that line.
type LineError struct {
	Code    Code
	Message string
}

func (e *LineError) Error() string { return string(e.Code) + ": " + e.Message }

func lineErr(code Code, format string, args ...any) *LineError {
	return &LineError{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Warning is a notice about a cart: a change that went through but not quite as asked, or a
// line whose price or stock changed since it was added.
type Warning struct {
	Code    Code
	Message string
	// LineID and ProductID name what the warning is about, when it is about one line (0 if not).
	LineID    int64
	ProductID int64
}

// Add puts quantity more of product into the cart: a new line, or more of the line that already
// holds it. The line's total must stay within the quantity limit and the stock; otherwise nothing
// changes and the error says how many can still be added. Adding refreshes the line's added price,
// since the shopper has just seen the current one.
func (c *Cart) Add(p Product, quantity int, limits Limits) *LineError {
	if quantity < 1 {
		return lineErr(CodeInvalidInput, "quantity must be at least 1, got %d", quantity)
	}
	if !p.Published {
		return lineErr(CodeNotFound, "product not found")
	}
	i := c.line(p.ID)
	have := 0
	if i >= 0 {
		have = c.Lines[i].Quantity
	} else if len(c.Lines) >= limits.MaxLines {
		return lineErr(CodeQuantityLimit, "a cart holds at most %d different products", limits.MaxLines)
	}
	want := have + quantity
	if want > limits.MaxQuantity {
		return lineErr(CodeQuantityLimit, "at most %d of a product per cart%s", limits.MaxQuantity, inCart(have))
	}
	if want > p.Available {
		return lineErr(CodeOutOfStock, "only %d available%s", max(p.Available, 0), inCart(have))
	}
	if i >= 0 {
		c.Lines[i].Quantity = want
		c.Lines[i].AddedUnitPrice = p.Price
		return nil
	}
	c.Lines = append(c.Lines, Line{ProductID: p.ID, Quantity: quantity, AddedUnitPrice: p.Price})
	return nil
}

func inCart(have int) string {
	if have == 0 {
		return ""
	}
	return " (" + strconv.Itoa(have) + " already in the cart)"
}

// SetQuantity sets the quantity of the line with id lineID; 0 removes the line. Raising a
// quantity checks the limit and the stock; lowering one always works, even when stock has since
// fallen below it, so a shopper can always back out.
func (c *Cart) SetQuantity(lineID int64, quantity int, p Product, limits Limits) *LineError {
	i := c.lineByID(lineID)
	if i < 0 {
		return lineErr(CodeNotFound, "no such line in this cart")
	}
	switch {
	case quantity < 0:
		return lineErr(CodeInvalidInput, "quantity must be 0 (remove) or more, got %d", quantity)
	case quantity == 0:
		c.Lines = append(c.Lines[:i], c.Lines[i+1:]...)
		return nil
	case quantity > limits.MaxQuantity:
		return lineErr(CodeQuantityLimit, "at most %d of a product per cart", limits.MaxQuantity)
	}
	if quantity > c.Lines[i].Quantity {
		if !p.Published {
			return lineErr(CodeNotFound, "product not found")
		}
		if quantity > p.Available {
			return lineErr(CodeOutOfStock, "only %d available", max(p.Available, 0))
		}
	}
	c.Lines[i].Quantity = quantity
	return nil
}

// Remove takes the line with id lineID out of the cart.
func (c *Cart) Remove(lineID int64) *LineError {
	i := c.lineByID(lineID)
	if i < 0 {
		return lineErr(CodeNotFound, "no such line in this cart")
	}
	c.Lines = append(c.Lines[:i], c.Lines[i+1:]...)
	return nil
}

// ProductOfLine returns the product id of the line with id lineID, or 0.
func (c *Cart) ProductOfLine(lineID int64) int64 {
	if i := c.lineByID(lineID); i >= 0 {
		return c.Lines[i].ProductID
	}
	return 0
}

// MergeFrom moves the lines of guest into c, the user's cart, and empties guest. Quantities of
// the same product add up; each resulting line is clamped to the quantity limit and to the stock,
// but never below what the user's cart already held, so signing in never takes away from it.
// Lines of products no longer sold, out of stock, or beyond the line limit are dropped. Every
// line that did not come across whole gets a warning saying why.
func (c *Cart) MergeFrom(guest *Cart, products map[int64]Product, limits Limits) []Warning {
	var warnings []Warning
	for _, g := range guest.Lines {
		p, ok := products[g.ProductID]
		drop := func(why string) {
			warnings = append(warnings, Warning{Code: WarnLineDropped, ProductID: g.ProductID,
				Message: fmt.Sprintf("%d of a product were not added: %s", g.Quantity, why)})
		}
		if !ok || !p.Published {
			drop("it is no longer sold")
			continue
		}
		i := c.line(g.ProductID)
		have := 0
		if i >= 0 {
			have = c.Lines[i].Quantity
		}
		limit := min(limits.MaxQuantity, p.Available)
		want := have + g.Quantity
		got := max(min(want, limit), have)
		switch {
		case i < 0 && got <= 0:
			drop("it is out of stock")
			continue
		case i < 0 && len(c.Lines) >= limits.MaxLines:
			drop(fmt.Sprintf("a cart holds at most %d different products", limits.MaxLines))
			continue
		}
		if i < 0 {
			c.Lines = append(c.Lines, Line{ProductID: g.ProductID, Quantity: got, AddedUnitPrice: g.AddedUnitPrice})
		} else {
			c.Lines[i].Quantity = got
		}
		if got < want {
			reason := "the stock"
			if limits.MaxQuantity < p.Available {
				reason = fmt.Sprintf("the limit of %d per product", limits.MaxQuantity)
			}
			warnings = append(warnings, Warning{Code: WarnQuantityClamped, ProductID: g.ProductID,
				Message: fmt.Sprintf("quantity lowered from %d to %d by %s", want, got, reason)})
		}
	}
	guest.Lines = nil
	guest.Status = StatusMerged
	return warnings
}
