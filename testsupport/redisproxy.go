package testsupport

import (
	"errors"
	"io"
	"net"
	"net/url"
	"sync"
	"testing"
)

// RedisProxy forwards TCP connections to the test Redis and can be cut, so a test can watch a
// server instance live through a Redis outage without stopping the Redis every test shares.
type RedisProxy struct {
	ln     net.Listener
	target string
	url    string

	mu    sync.Mutex
	down  bool
	conns map[net.Conn]struct{}
}

// NewRedisProxy starts a proxy to REDIS_URL on a loopback port; it stops when the test ends.
func NewRedisProxy(t testing.TB) *RedisProxy {
	t.Helper()
	u, err := url.Parse(RedisURL(t))
	if err != nil {
		t.Fatalf("parse REDIS_URL: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	p := &RedisProxy{ln: ln, target: u.Host, conns: map[net.Conn]struct{}{}}
	u.Host = ln.Addr().String()
	p.url = u.String()
	go p.accept()
	t.Cleanup(func() {
		ln.Close()
		p.SetDown(true)
	})
	return p
}

// URL is the redis:// URL of the proxy, with REDIS_URL's database and credentials.
func (p *RedisProxy) URL() string { return p.url }

// SetDown cuts every open connection and refuses new ones (true), or lets them through again.
func (p *RedisProxy) SetDown(down bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = down
	if down {
		for c := range p.conns {
			c.Close()
		}
		clear(p.conns)
	}
}

func (p *RedisProxy) accept() {
	for {
		client, err := p.ln.Accept()
		if errors.Is(err, net.ErrClosed) {
			return
		}
		if err != nil {
			continue
		}
		go p.serve(client)
	}
}

func (p *RedisProxy) serve(client net.Conn) {
	p.mu.Lock()
	down := p.down
	p.mu.Unlock()
	if down {
		client.Close()
		return
	}
	server, err := net.Dial("tcp", p.target)
	if err != nil {
		client.Close()
		return
	}
	p.mu.Lock()
	if p.down {
		p.mu.Unlock()
		client.Close()
		server.Close()
		return
	}
	p.conns[client], p.conns[server] = struct{}{}, struct{}{}
	p.mu.Unlock()
	done := make(chan struct{}, 2)
	pipe := func(dst, src net.Conn) {
		_, _ = io.Copy(dst, src)
		done <- struct{}{}
	}
	go pipe(server, client)
	go pipe(client, server)
	<-done
	client.Close()
	server.Close()
	p.mu.Lock()
	delete(p.conns, client)
	delete(p.conns, server)
	p.mu.Unlock()
}
