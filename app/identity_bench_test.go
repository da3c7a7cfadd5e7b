package app_test

import (
	"context"
	"testing"

	goredis "github.com/redis/go-redis/v9"

	"storefront/testsupport"
)

// BenchmarkAuthenticate measures what every signed-in request pays before its resolvers run:
// verifying the access token and looking its session up.
//   - cached: the session is in Redis (the usual case).
//   - cache-miss: the Redis entry is deleted before each call, so the lookup falls through to
//     Postgres and refills Redis; the timing includes the DEL.
func BenchmarkAuthenticate(b *testing.B) {
	cfg := testsupport.Config(b)
	srv := testsupport.StartServer(b, cfg)
	_, info := srv.NewCustomer(b)
	svc := srv.App.Identity()
	ctx := context.Background()
	p, err := svc.Authenticate(ctx, info.AccessToken)
	if err != nil {
		b.Fatal(err)
	}

	b.Run("cached", func(b *testing.B) {
		for b.Loop() {
			if _, err := svc.Authenticate(ctx, info.AccessToken); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("cached-parallel", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := svc.Authenticate(ctx, info.AccessToken); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
	b.Run("cache-miss", func(b *testing.B) {
		opts, err := goredis.ParseURL(cfg.RedisURL)
		if err != nil {
			b.Fatal(err)
		}
		rdb := goredis.NewClient(opts)
		defer rdb.Close()
		key := cfg.RedisPrefix + "session:" + p.SessionID
		for b.Loop() {
			if err := rdb.Del(ctx, key).Err(); err != nil {
				b.Fatal(err)
			}
			if _, err := svc.Authenticate(ctx, info.AccessToken); err != nil {
				b.Fatal(err)
			}
		}
	})
}
