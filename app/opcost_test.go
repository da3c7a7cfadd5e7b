package app_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/client"

	"storefront/store/postgres"
	sredis "storefront/store/redis"
)

// TestOperationCostSeries checks that /metrics reports, per GraphQL operation name, exactly the SQL
// statements and Redis commands its requests cost, as counted by counters the test wraps around
// each request.
func TestOperationCostSeries(t *testing.T) {
	t.Parallel()
	env := newCartEnv(t, nil)
	p := insertProducts(t, env.pool, productSpec{price: 1250, stock: 10})[0]
	c := client.New(env.srv.App.Handler(), client.Path("/graphql"))

	// do runs one request in process and returns what it cost, counted around the whole handler.
	do := func(query string, vars map[string]any, out any) (sql, redis int64) {
		t.Helper()
		ctx, statements := postgres.WithStatementCounter(context.Background())
		ctx, commands := sredis.WithCommandCounter(ctx)
		opts := []client.Option{func(r *client.Request) { r.HTTP = r.HTTP.WithContext(ctx) }}
		for k, v := range vars {
			opts = append(opts, client.Var(k, v))
		}
		if err := c.Post(query, out, opts...); err != nil {
			t.Fatalf("%s: %v", query, err)
		}
		return statements.Count(), commands.Count()
	}

	var created struct {
		CartCreate struct {
			Cart struct {
				ID       string
				Subtotal any
				Lines    any
			}
		}
	}
	addSQL, addRedis := do(`mutation CostProbeCartCreate($lines: [CartLineInput!]) {
		cartCreate(input: {lines: $lines}) { cart { id subtotal { amount } lines { product { name } } } } }`,
		map[string]any{"lines": []map[string]any{line(p.ID, 2)}}, &created)
	var readSQL, readRedis int64
	for range 3 {
		s, r := do(`query CostProbeCartRead($id: ID!) { cart(id: $id) { id lines { quantity product { name } } } }`,
			map[string]any{"id": created.CartCreate.Cart.ID}, &map[string]any{})
		readSQL, readRedis = readSQL+s, readRedis+r
	}
	noneSQL, noneRedis := do(`query CostProbeNothing { __typename }`, nil, &map[string]any{})

	if addSQL == 0 || addRedis == 0 {
		t.Fatalf("cart create cost %d statements and %d commands; want some of each", addSQL, addRedis)
	}
	if noneSQL != 0 || noneRedis != 0 {
		t.Fatalf("__typename cost %d statements and %d commands; want none", noneSQL, noneRedis)
	}

	rec := httptest.NewRecorder()
	env.srv.App.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	body, _ := io.ReadAll(rec.Result().Body)
	for _, want := range []struct {
		series string
		value  int64
	}{
		{`graphql_operation_sql_statements_total{operation="CostProbeCartCreate",type="mutation"}`, addSQL},
		{`graphql_operation_redis_commands_total{operation="CostProbeCartCreate",type="mutation"}`, addRedis},
		{`graphql_operation_sql_statements_total{operation="CostProbeCartRead",type="query"}`, readSQL},
		{`graphql_operation_redis_commands_total{operation="CostProbeCartRead",type="query"}`, readRedis},
		{`graphql_operation_sql_statements_total{operation="CostProbeNothing",type="query"}`, 0},
		{`graphql_operation_redis_commands_total{operation="CostProbeNothing",type="query"}`, 0},
		{`graphql_operations_total{operation="CostProbeCartRead",outcome="ok",type="query"}`, 3},
	} {
		if got, ok := seriesValue(string(body), want.series); !ok || got != want.value {
			t.Errorf("%s = %d (present: %v); want %d", want.series, got, ok, want.value)
		}
	}
}

// seriesValue finds one series in a Prometheus text exposition.
func seriesValue(exposition, series string) (int64, bool) {
	for _, l := range strings.Split(exposition, "\n") {
		if rest, ok := strings.CutPrefix(l, series+" "); ok {
			v, err := strconv.ParseFloat(rest, 64)
			return int64(v), err == nil
		}
	}
	return 0, false
}
