# The two commands: `make run` and `make test`. Both start the project's own Postgres and Redis
# (scripts/stack.sh) unless DATABASE_URL and REDIS_URL are set.
SHELL := /bin/bash
.DEFAULT_GOAL := run
STACK := scripts/stack.sh
# The stack's URLs, as exports, for recipes that need them. A stack that fails to start stops
# the recipe here, instead of letting it run on without DATABASE_URL.
ENV = stack_env="$$($(STACK) up)" && eval "$$stack_env"

.PHONY: run test test-cluster build stack stop migrate seed generate vet fmt bench bench-go fuzz clean

build:
	go build -o bin/server .

stack:
	@$(STACK) up >/dev/null

stop:
	@$(STACK) down

migrate: build
	@$(ENV) && ./bin/server migrate

seed: migrate
	@$(ENV) && ./bin/server seed

run: build
	@$(ENV) && ./bin/server migrate && ./bin/server seed && \
	  echo "" && \
	  echo "  GraphQL:    http://localhost:$${PORT:-8080}/graphql" && \
	  echo "  Playground: http://localhost:$${PORT:-8080}/" && \
	  echo "  Logins:     customer@example.com / customer-pass-1   admin@example.com / admin-pass-1" && \
	  echo "" && \
	  exec ./bin/server serve

# The whole suite against the local stack, with the race detector; fuzz targets run briefly.
test:
	@$(ENV) && go vet ./... && go test -race -count=1 -timeout 9m ./...

# The scale-out tests: three server instances sharing the local Postgres, a streaming replica of
# it for catalog reads, and a Redis Cluster of three masters (scripts/cluster.sh starts the last
# two beside the stack and leaves them running; `scripts/cluster.sh down` stops them); and every
# Redis store run against the cluster. They need the build tag cluster and fail without that stack.
test-cluster:
	@$(ENV) && eval "$$(scripts/cluster.sh up)" && go vet -tags cluster ./... && \
	  go test -race -count=1 -tags cluster -run '^TestCluster' -timeout 5m ./e2e/cluster/ ./store/redis/

# Fuzz targets as package:function. `make test` runs their seed corpora as ordinary tests;
# `make fuzz` fuzzes each for FUZZTIME (default 30s), e.g. `make fuzz FUZZTIME=10m`.
FUZZ_TARGETS := ./domain/money:FuzzParse ./resolvers/relay:FuzzParseCursor \
	./domain/catalog:FuzzNormalizeSearch ./domain/payment:FuzzVerifySignature \
	./graphqlws:FuzzReadMessage

fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
	  echo "== $${t##*:} ($${t%%:*}) for $${FUZZTIME:-30s}"; \
	  go test -run '^$$' -fuzz "^$${t##*:}$$" -fuzztime $${FUZZTIME:-30s} $${t%%:*}/; \
	done

# The load benchmark: the server and the plain-HTTP floor on a 10,000-product catalog of their own,
# driven by cmd/loadgen over HTTP, RUNS (3) times; medians and targets in bench-results/<stamp>/.
# See scripts/bench.sh for the knobs (RUNS, BENCH_DURATION, PRODUCT_RATE, SKIP, PPROF, ...).
bench:
	@scripts/bench.sh

# The Go micro-benchmarks (func Benchmark...) of every package.
bench-go:
	@$(ENV) && go test -run '^$$' -bench . -benchtime $${BENCHTIME:-2s} -count $${COUNT:-5} ./...

generate:
	go run ./cmd/generate

vet:
	go vet ./...

fmt:
	gofmt -l -w $$(git ls-files '*.go')

clean:
	rm -rf bin
