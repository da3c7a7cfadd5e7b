package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

// subsResult is what -mode subs measured: many open cartUpdated subscriptions on one server, the
// memory they hold there, and how long one cart change takes to reach all of them.
type subsResult struct {
	Label         string  `json:"label"`
	Subscriptions int     `json:"subscriptions"`
	Opened        int     `json:"opened"`
	OpenSeconds   float64 `json:"openSeconds"`
	// Server memory before opening and with every subscription open: Go heap in use (after a
	// collection, when the server's pprof listener lets the generator ask for one), goroutine
	// stacks, and the resident set.
	Before serverMem `json:"serverBefore"`
	After  serverMem `json:"serverAfter"`
	// GCForced says the heap figures were read after a collection.
	GCForced       bool      `json:"gcForced"`
	Goroutines     float64   `json:"goroutinesPerSubscription"`
	KiBPerSubHeap  float64   `json:"kibPerSubscriptionHeap"`
	KiBPerSubStack float64   `json:"kibPerSubscriptionStack"`
	KiBPerSubRSS   float64   `json:"kibPerSubscriptionRSS"`
	Delivered      int       `json:"delivered"`
	DeliveryP50ms  float64   `json:"deliveryP50ms"`
	DeliveryP99ms  float64   `json:"deliveryP99ms"`
	DeliveryMaxms  float64   `json:"deliveryMaxMs"`
	At             time.Time `json:"at"`
}

// runSubs opens n subscriptions to one guest cart's cartUpdated over graphql-transport-ws, then
// changes the cart once and times the delivery to every subscriber.
func (g *generator) runSubs(ctx context.Context, n int, w io.Writer) (*subsResult, error) {
	var cart struct {
		CartCreate struct{ Cart struct{ ID string } }
	}
	if err := g.gql(ctx, "", `mutation CartCreate { cartCreate { cart { id } } }`, nil, &cart); err != nil {
		return nil, err
	}
	cartID := cart.CartCreate.Cart.ID
	mem0, err := g.serverMemory(ctx)
	if err != nil {
		return nil, err
	}
	wsURL := "ws" + strings.TrimPrefix(g.o.url, "http") + "/graphql"

	var (
		opened    atomic.Int64
		delivered atomic.Int64
		changedAt atomic.Int64 // unix nanos of the cart change
		latMu     sync.Mutex
		latencies []time.Duration
		conns     sync.WaitGroup
	)
	subCtx, closeAll := context.WithCancel(ctx)
	defer closeAll()
	start := time.Now()
	sem := make(chan struct{}, 128)
	var openWG sync.WaitGroup
	var firstErr atomic.Value
	for i := 0; i < n; i++ {
		sem <- struct{}{}
		openWG.Add(1)
		go func() {
			defer func() { <-sem }()
			c, err := subscribe(subCtx, wsURL, cartID, clientAddr(i))
			openWG.Done()
			if err != nil {
				firstErr.CompareAndSwap(nil, err.Error())
				return
			}
			opened.Add(1)
			conns.Add(1)
			go func() {
				defer conns.Done()
				defer c.CloseNow()
				first := true
				for {
					_, msg, err := c.Read(subCtx)
					if err != nil {
						return
					}
					var m struct{ Type string }
					_ = json.Unmarshal(msg, &m)
					switch m.Type {
					case "ping":
						_ = c.Write(subCtx, websocket.MessageText, []byte(`{"type":"pong"}`))
					case "next":
						if t := changedAt.Load(); t != 0 && first {
							first = false
							d := time.Since(time.Unix(0, t))
							latMu.Lock()
							latencies = append(latencies, d)
							latMu.Unlock()
							delivered.Add(1)
						}
					}
				}
			}()
		}()
	}
	openWG.Wait()
	openSecs := time.Since(start).Seconds()
	fmt.Fprintf(w, "opened %d/%d subscriptions in %.1fs\n", opened.Load(), n, openSecs)
	if e := firstErr.Load(); e != nil {
		fmt.Fprintf(w, "  first error: %s\n", e)
	}
	time.Sleep(2 * time.Second) // let the server settle before reading its memory
	mem1, err := g.serverMemory(ctx)
	if err != nil {
		return nil, err
	}
	if g.o.hold > 0 {
		fmt.Fprintf(w, "holding them open for %s (-hold), for profiling\n", g.o.hold)
		time.Sleep(g.o.hold)
	}

	var inStock struct {
		Products struct{ Nodes []struct{ ID string } }
	}
	if err := g.gql(ctx, "", `query InStock { products(first: 1, filter: {inStock: true}) { nodes { id } } }`, nil, &inStock); err != nil {
		return nil, err
	}
	if len(inStock.Products.Nodes) == 0 {
		return nil, fmt.Errorf("no product in stock to add")
	}
	var added struct {
		CartLinesAdd struct {
			UserErrors []struct{ Code, Message string }
		}
	}
	changedAt.Store(time.Now().UnixNano())
	if err := g.gql(ctx, "", `mutation CartAdd($cart: ID!, $lines: [CartLineInput!]!) { cartLinesAdd(cartId: $cart, lines: $lines) { cart { id } userErrors { code message } } }`,
		map[string]any{"cart": cartID, "lines": []map[string]any{{"productId": inStock.Products.Nodes[0].ID, "quantity": 1}}}, &added); err != nil {
		return nil, err
	}
	if ue := added.CartLinesAdd.UserErrors; len(ue) > 0 {
		return nil, fmt.Errorf("the cart change was refused: %v", ue)
	}
	deadline := time.Now().Add(10 * time.Second)
	for delivered.Load() < opened.Load() && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	closeAll()
	conns.Wait()

	res := &subsResult{Label: g.o.label, Subscriptions: n, Opened: int(opened.Load()), OpenSeconds: openSecs,
		Before: mem0, After: mem1, GCForced: mem0.gcForced && mem1.gcForced,
		Delivered: int(delivered.Load()), At: time.Now().UTC()}
	if n := float64(res.Opened); n > 0 {
		res.Goroutines = (mem1.Goroutines - mem0.Goroutines) / n
		res.KiBPerSubHeap = (mem1.Heap - mem0.Heap) / n / 1024
		res.KiBPerSubStack = (mem1.Stack - mem0.Stack) / n / 1024
		res.KiBPerSubRSS = (mem1.RSS - mem0.RSS) / n / 1024
	}
	sort.Slice(latencies, func(i, j int) bool { return latencies[i] < latencies[j] })
	if len(latencies) > 0 {
		res.DeliveryP50ms, res.DeliveryP99ms = ms(pct(latencies, 50)), ms(pct(latencies, 99))
		res.DeliveryMaxms = ms(latencies[len(latencies)-1])
	}
	fmt.Fprintf(w, "delivered to %d/%d: p50 %.0f ms, p99 %.0f ms, max %.0f ms\n",
		res.Delivered, res.Opened, res.DeliveryP50ms, res.DeliveryP99ms, res.DeliveryMaxms)
	fmt.Fprintf(w, "server memory per subscription: heap %.1f KiB (after GC: %v), stacks %.1f KiB (%.1f goroutines), RSS %.1f KiB\n",
		res.KiBPerSubHeap, res.GCForced, res.KiBPerSubStack, res.Goroutines, res.KiBPerSubRSS)
	return res, nil
}

// clientAddr is the address the i-th subscriber claims in X-Forwarded-For. The server caps
// websockets per client address; ten thousand shoppers come from many addresses, so the
// benchmark runs the server with TRUSTED_PROXIES=127.0.0.1/32 and gives each its own.
func clientAddr(i int) string {
	return fmt.Sprintf("10.%d.%d.%d", (i>>16)&255, (i>>8)&255, i&255)
}

// subscribe opens one graphql-transport-ws connection with a cartUpdated subscription. It sends
// no Origin: it is not a browser page.
func subscribe(ctx context.Context, url, cartID, addr string) (*websocket.Conn, error) {
	dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(dctx, url, &websocket.DialOptions{
		Subprotocols: []string{"graphql-transport-ws"},
		HTTPHeader:   http.Header{"X-Forwarded-For": []string{addr}},
	})
	if err != nil {
		return nil, err
	}
	c.SetReadLimit(1 << 20)
	if err := c.Write(dctx, websocket.MessageText, []byte(`{"type":"connection_init","payload":{}}`)); err != nil {
		c.CloseNow()
		return nil, err
	}
	for {
		_, msg, err := c.Read(dctx)
		if err != nil {
			c.CloseNow()
			return nil, err
		}
		if strings.Contains(string(msg), `"connection_ack"`) {
			break
		}
	}
	sub, _ := json.Marshal(map[string]any{"id": "1", "type": "subscribe", "payload": map[string]any{
		"query":     `subscription($id: ID!) { cartUpdated(cartId: $id) { id totalQuantity } }`,
		"variables": map[string]any{"id": cartID},
	}})
	if err := c.Write(dctx, websocket.MessageText, sub); err != nil {
		c.CloseNow()
		return nil, err
	}
	return c, nil
}

// serverMem is the server's memory as /metrics reports it.
type serverMem struct {
	Heap       float64 `json:"heapInuseBytes"`
	Stack      float64 `json:"stackInuseBytes"`
	RSS        float64 `json:"rssBytes"`
	Goroutines float64 `json:"goroutines"`
	gcForced   bool
}

// serverMemory reads the server's memory from /metrics. When -pprof-url reaches the server's
// pprof listener it first asks for collections (heap?gc=1), so the heap is what is live rather
// than whatever garbage the last collection left.
func (g *generator) serverMemory(ctx context.Context) (serverMem, error) {
	var m serverMem
	// A few collections: each also halves the goroutine stacks that use less than a quarter of
	// theirs, as a long-running server's regular collections do.
	for i := 0; g.o.pprofURL != "" && i < 3; i++ {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, g.o.pprofURL+"/debug/pprof/heap?gc=1", nil)
		if err != nil {
			return m, err
		}
		if raw, status, err := g.do(req); err == nil && status == http.StatusOK && len(raw) > 0 {
			m.gcForced = true
		}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, g.o.url+"/metrics", nil)
	if err != nil {
		return m, err
	}
	raw, _, err := g.do(req)
	if err != nil {
		return m, err
	}
	for _, line := range strings.Split(string(raw), "\n") {
		for name, dest := range map[string]*float64{
			"go_memstats_heap_inuse_bytes":  &m.Heap,
			"go_memstats_stack_inuse_bytes": &m.Stack,
			"process_resident_memory_bytes": &m.RSS,
			"go_goroutines":                 &m.Goroutines,
		} {
			if rest, ok := strings.CutPrefix(line, name+" "); ok {
				_, _ = fmt.Sscanf(rest, "%g", dest)
			}
		}
	}
	if m.Heap == 0 {
		return m, fmt.Errorf("/metrics has no go_memstats_heap_inuse_bytes")
	}
	return m, nil
}
