package resolvers

import (
	"storefront/domain/money"
	"storefront/graph/model"
)

// moneyOf converts minor units to the API's Money.
func moneyOf(a money.Amount) *model.Money {
	m := moneyValue(a)
	return &m
}

// moneyValue is moneyOf for a Money held by value, inside a larger allocation.
func moneyValue(a money.Amount) model.Money {
	return model.Money{Amount: a.String(), CurrencyCode: money.Currency}
}

// userError builds an expected business failure for a payload's userErrors.
func userError(code, message string, field ...string) *model.UserError {
	ue := &model.UserError{Code: code, Message: message}
	if len(field) > 0 {
		ue.Field = field
	}
	return ue
}

// UserError codes of API.md.
const (
	ErrCodeOutOfStock         = "OUT_OF_STOCK"
	ErrCodeQuantityLimit      = "QUANTITY_LIMIT"
	ErrCodeNotFound           = "NOT_FOUND"
	ErrCodeInvalidDiscount    = "INVALID_DISCOUNT_CODE"
	ErrCodeCartEmpty          = "CART_EMPTY"
	ErrCodePaymentDeclined    = "PAYMENT_DECLINED"
	ErrCodeIdempotencyReused  = "IDEMPOTENCY_KEY_REUSED"
	ErrCodeInvalidState       = "INVALID_STATE"
	ErrCodeEmailTaken         = "EMAIL_TAKEN"
	ErrCodeInvalidCredentials = "INVALID_CREDENTIALS"
	ErrCodeWeakPassword       = "WEAK_PASSWORD"
	ErrCodeInvalidInput       = "INVALID_INPUT"
)
