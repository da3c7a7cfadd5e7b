package catalog

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// FuzzNormalizeSearch checks what the search query of the database relies on: normalised text is
// valid UTF-8 of bounded length, free of control characters and of doubled or outer spaces, and
// normalising it again changes nothing.
func FuzzNormalizeSearch(f *testing.F) {
	for _, seed := range []string{"", "laptop", "  red\tshoes\n", `"exact phrase" -cheap or`, "\x00\x1f\u2028", "\xff\xfe", strings.Repeat("ab ", 120), "日本語 テキスト"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, q string) {
		out, err := NormalizeSearch(q)
		if err != nil {
			if utf8.ValidString(q) && utf8.RuneCountInString(q) <= MaxSearchLength {
				t.Fatalf("NormalizeSearch(%q) refused short valid text: %v", q, err)
			}
			return
		}
		if !utf8.ValidString(out) || utf8.RuneCountInString(out) > MaxSearchLength {
			t.Fatalf("NormalizeSearch(%q) = %q: invalid or too long", q, out)
		}
		if strings.TrimSpace(out) != out || strings.Contains(out, "  ") {
			t.Fatalf("NormalizeSearch(%q) = %q: outer or doubled spaces", q, out)
		}
		for _, r := range out {
			if unicode.IsControl(r) || (unicode.IsSpace(r) && r != ' ') {
				t.Fatalf("NormalizeSearch(%q) = %q: keeps %U", q, out, r)
			}
		}
		again, err := NormalizeSearch(out)
		if err != nil || again != out {
			t.Fatalf("NormalizeSearch is not idempotent on %q: %q, %v", out, again, err)
		}
	})
}
