package checkout

import "fmt"

// Code is a stable code of an expected business failure, reported to clients as a userError.
type Code string

// Codes of the failures this package reports (the API's userError codes).
const (
	CodeOutOfStock       Code = "OUT_OF_STOCK"
	CodeNotFound         Code = "NOT_FOUND"
	CodeInvalidDiscount  Code = "INVALID_DISCOUNT_CODE"
	CodeCartEmpty        Code = "CART_EMPTY"
	CodePaymentDeclined  Code = "PAYMENT_DECLINED"
	CodeIdempotencyReuse Code = "IDEMPOTENCY_KEY_REUSED"
	CodeInvalidState     Code = "INVALID_STATE"
	CodeInvalidInput     Code = "INVALID_INPUT"
	CodeQuantityLimit    Code = "QUANTITY_LIMIT"
)

// Problem is one expected business failure.
type Problem struct {
	Code    Code
	Message string
	// Field is the path of the input field at fault, if any.
	Field []string
	// CartLineID names the cart line at fault (OUT_OF_STOCK), 0 for none.
	CartLineID int64
	// Available is the quantity available now, for OUT_OF_STOCK.
	Available int
}

// Problems is a set of business failures; as an error it aborts the transaction it is returned in.
type Problems []Problem

// Error names the first problem, for logs; clients get every problem as a userError.
func (p Problems) Error() string {
	if len(p) == 0 {
		return "no problems"
	}
	return fmt.Sprintf("%s: %s", p[0].Code, p[0].Message)
}

func problem(code Code, message string, field ...string) Problems {
	return Problems{{Code: code, Message: message, Field: field}}
}
