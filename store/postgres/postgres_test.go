package postgres_test

import (
	"context"
	neturl "net/url"
	"runtime"
	"testing"

	"storefront/store/postgres"
	"storefront/testsupport"
)

// TestOpenPoolSize: the pool is sized for transactions that hold connections across round trips,
// unless DATABASE_URL says otherwise.
func TestOpenPoolSize(t *testing.T) {
	t.Parallel()
	url := testsupport.DatabaseURL(t)
	sized, err := neturl.Parse(url)
	if err != nil {
		t.Fatal(err)
	}
	q := sized.Query()
	q.Set("pool_max_conns", "3")
	sized.RawQuery = q.Encode()
	for _, tc := range []struct {
		url  string
		want int32
	}{
		{url, int32(max(16, 4*runtime.GOMAXPROCS(0)))},
		{sized.String(), 3},
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
