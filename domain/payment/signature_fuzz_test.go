package payment

import (
	"testing"
	"time"
)

// FuzzVerifySignature feeds the webhook check arbitrary headers and bodies: it never panics, a
// body signed with Sign always passes, and whatever passes holds for that secret and that exact
// body only.
func FuzzVerifySignature(f *testing.F) {
	secret := []byte("whsec_fuzz")
	now := time.Unix(1_750_000_000, 0)
	body := []byte(`{"id":"evt_1","type":"payment.approved"}`)
	for _, h := range []string{
		Sign(secret, now, body), "t=1750000000,v1=00", "v1=,t=", ",,,=,", "t=1750000000,v1=" + Sign(secret, now, body)[len("t=1750000000,v1="):] + ",v1=zz",
		"t=-9223372036854775808,v1=ab", "t=9223372036854775807,v1=ab", " t = 1750000000 , v1 = ab ",
	} {
		f.Add(h, body)
	}
	f.Fuzz(func(t *testing.T, header string, body []byte) {
		if err := VerifySignature(secret, Sign(secret, now, body), body, now); err != nil {
			t.Fatalf("own signature refused: %v", err)
		}
		if VerifySignature(secret, header, body, now) != nil {
			return
		}
		if VerifySignature([]byte("whsec_other"), header, body, now) == nil {
			t.Fatalf("header %q passes with two secrets", header)
		}
		if VerifySignature(secret, header, append(append([]byte{}, body...), 'x'), now) == nil {
			t.Fatalf("header %q passes for another body", header)
		}
	})
}
