package money

import "testing"

func TestParseAndString(t *testing.T) {
	cases := []struct {
		in   string
		want Amount
		out  string
	}{
		{"19.99", 1999, "19.99"},
		{"20", 2000, "20.00"},
		{"0.5", 50, "0.50"},
		{".75", 75, "0.75"},
		{"-3.5", -350, "-3.50"},
		{"0", 0, "0.00"},
	}
	for _, c := range cases {
		got, err := Parse(c.in)
		if err != nil || got != c.want {
			t.Errorf("Parse(%q) = %d, %v; want %d", c.in, got, err, c.want)
		}
		if got.String() != c.out {
			t.Errorf("String(%d) = %q; want %q", got, got.String(), c.out)
		}
	}
	for _, bad := range []string{"", "-", ".", "1.", "1.234", "1e3", "1,000", "abc", "12.3.4", "9999999999999999", "+1", " 1 2"} {
		if _, err := Parse(bad); err == nil {
			t.Errorf("Parse(%q) accepted", bad)
		}
	}
}

func TestPercentRoundsHalfAwayFromZero(t *testing.T) {
	cases := []struct {
		a    Amount
		bp   int64
		want Amount
	}{
		{1000, 1000, 100}, // 10% of 10.00
		{1995, 1000, 200}, // 199.5 → 200
		{1994, 1000, 199}, // 199.4 → 199
		{-1995, 1000, -200},
		{999, 825, 82}, // 8.25% of 9.99 = 82.4175
	}
	for _, c := range cases {
		if got := c.a.Percent(c.bp); got != c.want {
			t.Errorf("%d.Percent(%d) = %d; want %d", c.a, c.bp, got, c.want)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"19.99", "0", "-1.5", ".5", "1e9", "99999999999999.99"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := Parse(s)
		if err != nil {
			return
		}
		back, err := Parse(a.String())
		if err != nil || back != a {
			t.Fatalf("round trip of %q: %d → %q → %d, %v", s, a, a.String(), back, err)
		}
	})
}
