package relay

import (
	"errors"
	"testing"

	"storefront/domain/apperr"
)

func TestIDRoundTrip(t *testing.T) {
	id := IntID(KindProduct, 42)
	n, err := ParseIntID(id, KindProduct)
	if err != nil || n != 42 {
		t.Fatalf("ParseIntID(%q) = %d, %v", id, n, err)
	}
	if _, err := ParseIntID(id, KindOrder); !errors.Is(err, apperr.ErrNotFound) {
		t.Fatalf("wrong kind: got %v, want ErrNotFound", err)
	}
	var inErr *apperr.InputError
	for _, bad := range []string{"", "!!!", ID(KindProduct, "abc"), ID(KindProduct, "-1")} {
		if _, err := ParseIntID(bad, KindProduct); !errors.As(err, &inErr) {
			t.Errorf("ParseIntID(%q) = %v; want InputError", bad, err)
		}
	}
}

func TestPageSize(t *testing.T) {
	five, big, neg := 5, 101, -1
	if n, err := PageSize(nil, 20); n != 20 || err != nil {
		t.Fatalf("default: %d %v", n, err)
	}
	if n, err := PageSize(&five, 20); n != 5 || err != nil {
		t.Fatalf("five: %d %v", n, err)
	}
	for _, bad := range []*int{&big, &neg} {
		if _, err := PageSize(bad, 20); err == nil {
			t.Fatalf("PageSize(%d) accepted", *bad)
		}
	}
}

func FuzzParseCursor(f *testing.F) {
	f.Add(Cursor("1999", "42"))
	f.Add("not a cursor")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		parts, err := ParseCursor(s, 2)
		if err != nil {
			var inErr *apperr.InputError
			if !errors.As(err, &inErr) {
				t.Fatalf("ParseCursor(%q) returned a non-input error: %v", s, err)
			}
			return
		}
		if len(parts) != 2 {
			t.Fatalf("ParseCursor(%q) returned %d parts", s, len(parts))
		}
	})
}
