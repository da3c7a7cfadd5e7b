// Package cluster holds the scale-out test: three server instances sharing one Postgres (with a
// streaming replica serving catalog reads) and one Redis Cluster. It needs the stack of
// scripts/cluster.sh and runs with the build tag cluster: `make test-cluster`.
package cluster
