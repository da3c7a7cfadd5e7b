// Package money holds amounts as integer minor units (cents for USD) and converts them to and from
// the decimal strings clients see. Floats never hold money: they cannot represent 0.10 exactly.
package money

import (
	"errors"
	"strconv"
	"strings"
)

// Currency is the store's single currency. Minor units are cents: two decimal places.
const Currency = "USD"

// Amount is a count of minor units of Currency.
type Amount int64

// ErrInvalid is returned for a decimal string that is not a plain amount with at most two decimals.
var ErrInvalid = errors.New("invalid money amount")

// maxDigits bounds the integer part so that parsing can never overflow int64.
const maxDigits = 15

// Parse reads a decimal string such as "19.99", "20" or "-3.5" into minor units.
// It refuses exponents, more than two decimals, thousands separators and overflow.
func Parse(s string) (Amount, error) {
	s = strings.TrimSpace(s)
	neg := false
	if strings.HasPrefix(s, "-") {
		neg, s = true, s[1:]
	}
	whole, frac, hasDot := strings.Cut(s, ".")
	if whole == "" && (!hasDot || frac == "") {
		return 0, ErrInvalid
	}
	if len(whole) > maxDigits || len(frac) > 2 || (hasDot && frac == "") {
		return 0, ErrInvalid
	}
	if !allDigits(whole) || !allDigits(frac) {
		return 0, ErrInvalid
	}
	for len(frac) < 2 {
		frac += "0"
	}
	var units int64
	if whole != "" {
		w, err := strconv.ParseInt(whole, 10, 64)
		if err != nil {
			return 0, ErrInvalid
		}
		units = w * 100
	}
	f, _ := strconv.ParseInt(frac, 10, 64)
	units += f
	if neg {
		units = -units
	}
	return Amount(units), nil
}

func allDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// String formats the amount as a decimal string with exactly two decimals: 1999 → "19.99".
func (a Amount) String() string {
	n := int64(a)
	sign := ""
	if n < 0 {
		sign, n = "-", -n
	}
	frac := strconv.FormatInt(n%100, 10)
	if len(frac) < 2 {
		frac = "0" + frac
	}
	return sign + strconv.FormatInt(n/100, 10) + "." + frac
}

// Mul multiplies by a quantity.
func (a Amount) Mul(qty int) Amount { return a * Amount(qty) }

// Percent returns a rate in basis points (1% = 100) of a, rounding half away from zero to the
// nearest minor unit. This is the one rounding rule for money in the store: every percentage
// (discounts, tax) goes through it, so totals agree wherever they are computed.
func (a Amount) Percent(basisPoints int64) Amount {
	n := int64(a) * basisPoints
	q, r := n/10000, n%10000
	if r < 0 {
		r = -r
	}
	if r*2 >= 10000 {
		if n < 0 {
			q--
		} else {
			q++
		}
	}
	return Amount(q)
}
