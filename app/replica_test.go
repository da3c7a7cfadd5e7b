package app_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"

	"storefront/app"
	"storefront/testsupport"
)

// With DATABASE_REPLICA_URL set, catalog browsing reads the replica's pool, cart writes do not,
// and /readyz and /metrics cover the replica. The test database stands in for the replica here;
// `make test-cluster` runs the same wiring against a real streaming replica.
func TestCatalogReadsGoToTheReplica(t *testing.T) {
	t.Parallel()
	cfg := testsupport.Config(t)
	cfg.DatabaseReplicaURL = cfg.DatabaseURL
	srv := testsupport.StartServer(t, cfg)
	p := insertProducts(t, srv.App.Pool, productSpec{price: 1234, stock: 5})[0]

	// Background workers use the primary's pool at any time, so only the replica's is counted.
	replicaReads := func() int64 { return srv.App.Replica.Stat().AcquireCount() }

	before := replicaReads()
	var listing struct {
		Products struct{ Nodes []struct{ ID, Name string } }
	}
	srv.Client().Do(t, `{ products(first: 5) { nodes { id name } } }`, nil).Decode(t, &listing)
	if len(listing.Products.Nodes) != 1 || listing.Products.Nodes[0].ID != p.ID {
		t.Fatalf("products = %+v; want the one product", listing.Products.Nodes)
	}
	if replicaReads() == before {
		t.Error("the product listing did not read the replica's pool")
	}

	// A cart write prices on the primary; asking for no product fields, it needs no replica read.
	before = replicaReads()
	var created struct {
		CartCreate struct{ Cart struct{ TotalQuantity int } }
	}
	srv.Client().Do(t, `mutation($p: ID!) { cartCreate(input: {lines: [{productId: $p, quantity: 2}]}) { cart { totalQuantity } } }`,
		map[string]any{"p": p.ID}).Decode(t, &created)
	if created.CartCreate.Cart.TotalQuantity != 2 {
		t.Fatalf("cartCreate = %+v", created.CartCreate)
	}
	if n := replicaReads() - before; n != 0 {
		t.Errorf("a cart write read the replica %d times; it must price from the primary", n)
	}

	for path, want := range map[string]string{"/readyz": "ready", "/metrics": "db_replica_lag_bytes 0"} {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), want) {
			t.Errorf("%s: %d, missing %q", path, resp.StatusCode, want)
		}
	}
}

// A replica that cannot be reached stops the instance from starting, with a message naming it.
func TestUnreachableReplicaIsReported(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	cfg := testsupport.Config(t)
	cfg.DatabaseReplicaURL = "postgres://postgres@" + addr + "/storefront?sslmode=disable&connect_timeout=2"
	a, err := app.New(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err == nil {
		a.Close()
		t.Fatal("New started with an unreachable replica")
	}
	if !strings.Contains(err.Error(), "DATABASE_REPLICA_URL") {
		t.Errorf("error %q does not name DATABASE_REPLICA_URL", err)
	}
}
