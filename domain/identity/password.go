package identity

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

// Password length limits, in characters. The floor follows NIST SP 800-63B's advice to prefer
// length over composition rules; the ceiling keeps a single login from costing unbounded work.
const (
	MinPasswordLength = 10
	MaxPasswordLength = 256
)

// CodeWeakPassword is the userError code of a password the policy refuses.
const CodeWeakPassword = "WEAK_PASSWORD"

// CheckPassword applies the password policy.
func CheckPassword(password string) *FieldError {
	n := utf8.RuneCountInString(password)
	switch {
	case n < MinPasswordLength:
		return &FieldError{Field: "password", Code: CodeWeakPassword,
			Message: fmt.Sprintf("password must be at least %d characters", MinPasswordLength)}
	case n > MaxPasswordLength:
		return &FieldError{Field: "password", Code: CodeWeakPassword,
			Message: fmt.Sprintf("password must be at most %d characters", MaxPasswordLength)}
	}
	return nil
}

// Argon2Params are the cost parameters of argon2id.
type Argon2Params struct {
	// MemoryKiB is the memory cost in KiB.
	MemoryKiB uint32
	// Iterations is the time cost.
	Iterations uint32
	// Parallelism is the number of lanes.
	Parallelism uint8
	SaltLength  uint32
	KeyLength   uint32
}

// OWASPParams are the Password Storage Cheat Sheet's first argon2id recommendation: 19 MiB, two
// passes, one lane. Production never runs with less.
var OWASPParams = Argon2Params{MemoryKiB: 19 * 1024, Iterations: 2, Parallelism: 1, SaltLength: 16, KeyLength: 32}

// Hasher hashes passwords with argon2id and writes the result as a PHC string
// ($argon2id$v=19$m=…,t=…,p=…$salt$hash), so parameters can be raised later without breaking
// stored hashes: each hash carries the parameters it was made with.
type Hasher struct {
	params Argon2Params
	// dummy is a hash of a random password with the current parameters. Logins for unknown emails
	// verify against it, so they take as long as logins with a wrong password.
	dummy string
}

// NewHasher returns a hasher with the given parameters.
func NewHasher(p Argon2Params) (*Hasher, error) {
	if p.MemoryKiB < 8*uint32(p.Parallelism) || p.Iterations < 1 || p.Parallelism < 1 || p.SaltLength < 8 || p.KeyLength < 16 {
		return nil, fmt.Errorf("argon2id parameters %+v are out of range", p)
	}
	h := &Hasher{params: p}
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return nil, fmt.Errorf("dummy password: %w", err)
	}
	dummy, err := h.Hash(base64.RawStdEncoding.EncodeToString(secret))
	if err != nil {
		return nil, err
	}
	h.dummy = dummy
	return h, nil
}

// Params returns the parameters new hashes are made with.
func (h *Hasher) Params() Argon2Params { return h.params }

// Hash returns the PHC string of password with a fresh random salt.
func (h *Hasher) Hash(password string) (string, error) {
	salt := make([]byte, h.params.SaltLength)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("hash password: salt: %w", err)
	}
	key := argon2.IDKey([]byte(password), salt, h.params.Iterations, h.params.MemoryKiB, h.params.Parallelism, h.params.KeyLength)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version,
		h.params.MemoryKiB, h.params.Iterations, h.params.Parallelism,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key)), nil
}

// ErrMalformedHash: a stored hash is not an argon2id PHC string this code understands.
var ErrMalformedHash = errors.New("malformed password hash")

// Verify reports whether password matches the PHC string encoded, in constant time.
func (h *Hasher) Verify(password, encoded string) (bool, error) {
	p, salt, key, err := decodePHC(encoded)
	if err != nil {
		return false, err
	}
	got := argon2.IDKey([]byte(password), salt, p.Iterations, p.MemoryKiB, p.Parallelism, uint32(len(key)))
	return subtle.ConstantTimeCompare(got, key) == 1, nil
}

// VerifyDummy spends the time of one verification and always fails: callers use it when the
// account does not exist, so response time does not reveal which emails are registered.
func (h *Hasher) VerifyDummy(password string) {
	_, _ = h.Verify(password, h.dummy)
}

// NeedsRehash reports whether encoded was made with parameters other than the current ones.
func (h *Hasher) NeedsRehash(encoded string) bool {
	p, salt, key, err := decodePHC(encoded)
	if err != nil {
		return true
	}
	return p.MemoryKiB != h.params.MemoryKiB || p.Iterations != h.params.Iterations ||
		p.Parallelism != h.params.Parallelism || uint32(len(salt)) != h.params.SaltLength ||
		uint32(len(key)) != h.params.KeyLength
}

func decodePHC(encoded string) (Argon2Params, []byte, []byte, error) {
	var p Argon2Params
	parts := strings.Split(encoded, "$")
	// "", "argon2id", "v=19", "m=..,t=..,p=..", salt, key
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return p, nil, nil, ErrMalformedHash
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return p, nil, nil, ErrMalformedHash
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.MemoryKiB, &p.Iterations, &p.Parallelism); err != nil {
		return p, nil, nil, ErrMalformedHash
	}
	// Bounds keep a corrupted row from making one login allocate gigabytes.
	if p.MemoryKiB < 8 || p.MemoryKiB > 1<<20 || p.Iterations < 1 || p.Iterations > 64 || p.Parallelism < 1 {
		return p, nil, nil, ErrMalformedHash
	}
	salt, err := base64.RawStdEncoding.DecodeString(parts[4])
	if err != nil || len(salt) < 8 {
		return p, nil, nil, ErrMalformedHash
	}
	key, err := base64.RawStdEncoding.DecodeString(parts[5])
	if err != nil || len(key) < 16 || len(key) > 128 {
		return p, nil, nil, ErrMalformedHash
	}
	p.SaltLength, p.KeyLength = uint32(len(salt)), uint32(len(key))
	return p, salt, key, nil
}
