package identity

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// MaxAddresses is how many addresses one user may keep: more than any household needs, and a
// bound on what one account can make the store hold.
const MaxAddresses = 50

// ErrTooManyAddresses: the user already keeps MaxAddresses addresses.
var ErrTooManyAddresses = fmt.Errorf("at most %d addresses can be saved; remove one first", MaxAddresses)

// Address is a saved postal address of a user.
type Address struct {
	ID     int64
	UserID int64
	AddressFields
	IsDefault bool
}

// AddressFields are the parts of a postal address a user writes. Optional parts are "" when
// absent.
type AddressFields struct {
	Name       string
	Line1      string
	Line2      string
	City       string
	Region     string
	PostalCode string
	// Country is an ISO 3166-1 alpha-2 code, upper case.
	Country string
}

// Length limits of address parts, in characters: generous for every country's conventions, small
// enough that a label printer and a database index never choke.
const (
	maxAddressName   = 100
	maxAddressLine   = 200
	maxAddressCity   = 100
	maxAddressRegion = 100
	maxPostalCode    = 20
)

// Normalize trims every part and upper-cases the country code.
func (a AddressFields) Normalize() AddressFields {
	return AddressFields{
		Name:       strings.TrimSpace(a.Name),
		Line1:      strings.TrimSpace(a.Line1),
		Line2:      strings.TrimSpace(a.Line2),
		City:       strings.TrimSpace(a.City),
		Region:     strings.TrimSpace(a.Region),
		PostalCode: strings.TrimSpace(a.PostalCode),
		Country:    strings.ToUpper(strings.TrimSpace(a.Country)),
	}
}

// Validate checks a normalised address and reports every bad field at once. Field names are the
// schema's (AddressInput), so a client can point at the input that needs fixing.
func (a AddressFields) Validate() error {
	return collect(
		textField("name", a.Name, true, maxAddressName),
		textField("line1", a.Line1, true, maxAddressLine),
		textField("line2", a.Line2, false, maxAddressLine),
		textField("city", a.City, true, maxAddressCity),
		textField("region", a.Region, false, maxAddressRegion),
		textField("postalCode", a.PostalCode, true, maxPostalCode),
		countryField(a.Country),
	)
}

func textField(field, v string, required bool, max int) *FieldError {
	switch {
	case v == "" && required:
		return &FieldError{Field: field, Message: field + " is required"}
	case utf8.RuneCountInString(v) > max:
		return &FieldError{Field: field, Message: field + " is too long"}
	case !utf8.ValidString(v) || hasControl(v):
		return &FieldError{Field: field, Message: field + " contains characters that are not allowed"}
	}
	return nil
}

func countryField(c string) *FieldError {
	if c == "" {
		return &FieldError{Field: "country", Message: "country is required"}
	}
	if !IsCountryCode(c) {
		return &FieldError{Field: "country", Message: "country must be an ISO 3166-1 alpha-2 code such as US"}
	}
	return nil
}

// IsCountryCode reports whether c is an officially assigned ISO 3166-1 alpha-2 code.
func IsCountryCode(c string) bool {
	if len(c) != 2 {
		return false
	}
	_, ok := countryCodes[c]
	return ok
}

// countryCodes are the officially assigned ISO 3166-1 alpha-2 codes.
var countryCodes = func() map[string]struct{} {
	const all = "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ " +
		"BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM " +
		"DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS " +
		"GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN " +
		"KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ " +
		"MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM " +
		"PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV " +
		"SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI " +
		"VN VU WF WS YE YT ZA ZM ZW"
	m := map[string]struct{}{}
	for _, c := range strings.Fields(all) {
		m[c] = struct{}{}
	}
	return m
}()
