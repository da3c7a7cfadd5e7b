package postgres_test

import (
	"context"
	"fmt"
	neturl "net/url"
	"runtime"
	"testing"

	"storefront/store/postgres"
	"storefront/testsupport"
)

// withPoolSize is dbURL with the pool's size set to n (pool_max_conns).
func withPoolSize(t *testing.T, dbURL string, n int) string {
	t.Helper()
	u, err := neturl.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("pool_max_conns", fmt.Sprint(n))
	u.RawQuery = q.Encode()
	return u.String()
}

// TestOpenPoolSize: the pool is sized for transactions that hold connections across round trips,
// unless DATABASE_URL says otherwise.
func TestOpenPoolSize(t *testing.T) {
	t.Parallel()
	url := testsupport.DatabaseURL(t)
	for _, tc := range []struct {
		url  string
		want int32
	}{
		{url, int32(max(16, 4*runtime.GOMAXPROCS(0)))},
		{withPoolSize(t, url, 3), 3},
	} {
		pool, err := postgres.Open(context.Background(), tc.url)
		if err != nil {
			t.Fatal(err)
		}
		if got := pool.Config().MaxConns; got != tc.want {
			t.Errorf("%s: MaxConns %d; want %d", tc.url, got, tc.want)
		}
		pool.Close()
	}
}
