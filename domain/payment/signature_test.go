package payment

import (
	"errors"
	"testing"
	"time"
)

func TestSignatureRoundTrip(t *testing.T) {
	t.Parallel()
	secret := []byte("whsec_test")
	body := []byte(`{"id":"evt_1"}`)
	now := time.Unix(1_750_000_000, 0)
	header := Sign(secret, now, body)
	if err := VerifySignature(secret, header, body, now.Add(time.Minute)); err != nil {
		t.Fatalf("valid signature refused: %v", err)
	}
	cases := map[string]struct {
		secret []byte
		header string
		body   []byte
		now    time.Time
	}{
		"other secret":     {[]byte("whsec_other"), header, body, now},
		"tampered body":    {secret, header, []byte(`{"id":"evt_2"}`), now},
		"stale":            {secret, header, body, now.Add(MaxWebhookAge + time.Second)},
		"from the future":  {secret, header, body, now.Add(-MaxWebhookAge - time.Second)},
		"no timestamp":     {secret, "v1=00", body, now},
		"no signature":     {secret, "t=1750000000", body, now},
		"garbage":          {secret, "hello", body, now},
		"retimed old sign": {secret, "t=1750000100," + header[len("t=1750000000,"):], body, now},
	}
	for name, c := range cases {
		if err := VerifySignature(c.secret, c.header, c.body, c.now); !errors.Is(err, ErrBadWebhook) {
			t.Errorf("%s: err = %v; want ErrBadWebhook", name, err)
		}
	}
}
