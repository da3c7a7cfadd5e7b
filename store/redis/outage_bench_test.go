package redis

import (
	"context"
	"errors"
	"net"
	"sync"
	"testing"

	goredis "github.com/redis/go-redis/v9"
)

// BenchmarkFailingCall measures what one command costs the caller while Redis is unavailable, with
// this package's client options and with go-redis's default retries, for three ways of being
// unavailable: nothing listens (stopped), connections are accepted and dropped at once (a
// restarting server, or a proxy in front of a dead one), and connections are accepted but never
// answered (hung: the read timeout decides).
//
//	go test -run '^$' -bench FailingCall -benchtime 20x ./store/redis/
func BenchmarkFailingCall(b *testing.B) {
	servers := map[string]string{
		"stopped": stoppedAddr(b),
		"reset":   fakeServer(b, func(c net.Conn) { c.Close() }),
		"hung":    fakeServer(b, func(net.Conn) {}),
	}
	for _, kind := range []string{"stopped", "reset", "hung"} {
		for _, variant := range []string{"ours", "go-redis-retries"} {
			b.Run(kind+"/"+variant, func(b *testing.B) {
				opts, err := parseUniversal("redis://" + servers[kind] + "/0")
				if err != nil {
					b.Fatal(err)
				}
				if variant == "go-redis-retries" {
					opts.MaxRetries = 0 // go-redis's default: three retries with backoff
				}
				c := goredis.NewUniversalClient(opts)
				defer c.Close()
				ctx := context.Background()
				for b.Loop() {
					if err := c.Get(ctx, "k").Err(); err == nil || errors.Is(err, goredis.Nil) {
						b.Fatal("a command succeeded against an unavailable Redis")
					}
				}
			})
		}
	}
}

// stoppedAddr returns a loopback address nothing listens on.
func stoppedAddr(b *testing.B) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// fakeServer accepts connections on loopback and hands each to handle; it and every connection
// it accepted are closed when the benchmark ends.
func fakeServer(b *testing.B, handle func(net.Conn)) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	b.Cleanup(func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			handle(c)
		}
	}()
	return ln.Addr().String()
}
