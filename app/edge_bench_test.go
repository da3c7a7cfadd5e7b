package app_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	sredis "storefront/store/redis"
	"storefront/testsupport"
)

// BenchmarkEdgeOverhead measures the cheapest query ({ __typename }) over HTTP through the whole
// stack: with rate limits off it is the cost of the edge middleware and gqlgen, and the
// difference with them on is the Redis rate limit (one GCRA script per request).
//
//	go test -run '^$' -bench BenchmarkEdgeOverhead -benchtime 2s -count 5 ./app/
func BenchmarkEdgeOverhead(b *testing.B) {
	for _, rl := range []struct {
		name string
		on   bool
	}{{"ratelimit=off", false}, {"ratelimit=on", true}} {
		b.Run(rl.name, func(b *testing.B) {
			cfg := testsupport.Config(b)
			cfg.RateLimit = rl.on
			cfg.Rates.PerIP = sredis.Rate{Count: 1 << 30, Burst: 1 << 30, Period: time.Second}
			srv := testsupport.StartServer(b, cfg)
			client := &http.Client{}
			b.ResetTimer()
			for b.Loop() {
				resp, err := client.Post(srv.URL+"/graphql", "application/json", strings.NewReader(`{"query":"{ __typename }"}`))
				if err != nil {
					b.Fatal(err)
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					b.Fatalf("status %d", resp.StatusCode)
				}
			}
		})
	}
}
