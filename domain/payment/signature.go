package payment

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// SignatureHeader carries a webhook's signature: "t=<unix seconds>,v1=<hex HMAC-SHA256>", where the
// HMAC covers "<t>.<raw body>". Signing the timestamp with the body lets the receiver refuse old
// deliveries (MaxWebhookAge), so a captured webhook cannot be replayed later.
const SignatureHeader = "Sandbox-Signature"

// MaxWebhookAge is how far a webhook's timestamp may be from the receiver's clock.
const MaxWebhookAge = 5 * time.Minute

// Sign returns the signature header value for body sent at t.
func Sign(secret []byte, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	return "t=" + ts + ",v1=" + hex.EncodeToString(mac(secret, ts, body))
}

func mac(secret []byte, ts string, body []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(ts))
	m.Write([]byte("."))
	m.Write(body)
	return m.Sum(nil)
}

// VerifySignature checks a signature header against body at now: one of its v1 values must be the
// HMAC of the body with secret, and its timestamp within MaxWebhookAge of now.
func VerifySignature(secret []byte, header string, body []byte, now time.Time) error {
	var ts string
	var sigs [][]byte
	for _, part := range strings.Split(header, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			continue
		}
		switch k {
		case "t":
			ts = v
		case "v1":
			if b, err := hex.DecodeString(v); err == nil {
				sigs = append(sigs, b)
			}
		}
	}
	unix, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || len(sigs) == 0 {
		return fmt.Errorf("%w: malformed signature header", ErrBadWebhook)
	}
	age := now.Sub(time.Unix(unix, 0))
	if age > MaxWebhookAge || age < -MaxWebhookAge {
		return fmt.Errorf("%w: timestamp outside the tolerance", ErrBadWebhook)
	}
	want := mac(secret, ts, body)
	for _, s := range sigs {
		if hmac.Equal(s, want) {
			return nil
		}
	}
	return fmt.Errorf("%w: signature mismatch", ErrBadWebhook)
}
