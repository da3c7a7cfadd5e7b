package identity

import (
	"errors"
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"
)

// User is an account of the store.
type User struct {
	ID    int64
	Email string
	Name  string
	Role  Role
	// PasswordHash is the PHC string of the argon2id hash; never shown to anyone.
	PasswordHash string
	CreatedAt    time.Time
}

// Failures of account rules. Resolvers turn them into userErrors.
var (
	// ErrEmailTaken: another account already uses the (normalised) email.
	ErrEmailTaken = errors.New("an account with this email already exists")
	// ErrInvalidCredentials: wrong email or wrong password; deliberately the same answer for both.
	ErrInvalidCredentials = errors.New("email or password is incorrect")
)

// Limits of account fields. The email limit is RFC 5321's path length.
const (
	MaxEmailLength = 254
	MaxNameLength  = 100
)

// NormalizeEmail trims and lower-cases an address, so one mailbox cannot hold two accounts that
// differ only by case. Lower-casing the local part is not strictly RFC-correct, but every large
// mail provider treats it case-insensitively and users expect it.
func NormalizeEmail(email string) string {
	return strings.ToLower(strings.TrimSpace(email))
}

// ValidateEmail checks a normalised email: a single bare address with a domain that has a dot.
func ValidateEmail(email string) *FieldError {
	if email == "" {
		return &FieldError{Field: "email", Message: "email is required"}
	}
	if len(email) > MaxEmailLength {
		return &FieldError{Field: "email", Message: "email is too long"}
	}
	addr, err := mail.ParseAddress(email)
	if err != nil || addr.Address != email || addr.Name != "" {
		return &FieldError{Field: "email", Message: "email is not a valid address"}
	}
	at := strings.LastIndexByte(email, '@')
	if domain := email[at+1:]; !strings.Contains(domain, ".") || strings.HasSuffix(domain, ".") {
		return &FieldError{Field: "email", Message: "email is not a valid address"}
	}
	return nil
}

// NormalizeName trims a display name.
func NormalizeName(name string) string { return strings.TrimSpace(name) }

// ValidateName checks a normalised display name.
func ValidateName(name string) *FieldError {
	switch {
	case name == "":
		return &FieldError{Field: "name", Message: "name is required"}
	case utf8.RuneCountInString(name) > MaxNameLength:
		return &FieldError{Field: "name", Message: "name is too long"}
	case !utf8.ValidString(name) || hasControl(name):
		return &FieldError{Field: "name", Message: "name contains characters that are not allowed"}
	}
	return nil
}

func hasControl(s string) bool {
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return true
		}
	}
	return false
}

// FieldError is an unacceptable input value, reported back to the client as a userError with the
// path of the field.
type FieldError struct {
	// Field is the input field's name, as in the schema.
	Field   string
	Message string
	// Code is the userError code; empty means INVALID_INPUT.
	Code string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Message }

// ValidationError lists every unacceptable field of one input, so a form can mark them all at once.
type ValidationError struct {
	Fields []FieldError
}

func (e *ValidationError) Error() string {
	parts := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		parts[i] = f.Error()
	}
	return "invalid input: " + strings.Join(parts, "; ")
}

// collect gathers the non-nil field errors into a ValidationError, or returns nil.
func collect(errs ...*FieldError) error {
	var v ValidationError
	for _, e := range errs {
		if e != nil {
			v.Fields = append(v.Fields, *e)
		}
	}
	if len(v.Fields) == 0 {
		return nil
	}
	return &v
}
