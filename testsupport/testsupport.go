// Package testsupport gives each test its own Postgres database, cloned from a migrated template,
// and its own Redis key prefix, so tests run in parallel against the real servers of the local
// stack. It fails loudly when the stack is missing: nothing skips quietly.
package testsupport

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	goredis "github.com/redis/go-redis/v9"

	"storefront/migrations"
	"storefront/store/postgres"
	sredis "storefront/store/redis"
)

// requireEnv returns the environment variable name, failing the test loudly when it is not set:
// a missing service is a broken setup, never a reason to skip.
func requireEnv(t testing.TB, name, howToSet string) string {
	u := os.Getenv(name)
	if u == "" {
		t.Fatal(name + " is not set: " + howToSet)
	}
	return u
}

const howToSetLocalStack = "run the tests with `make test`, which starts the local Postgres and Redis"

// DatabaseURL returns the admin URL of the test Postgres, failing the test when none is set.
func DatabaseURL(t testing.TB) string { return requireEnv(t, "DATABASE_URL", howToSetLocalStack) }

// RedisURL returns the URL of the test Redis, failing the test when none is set.
func RedisURL(t testing.TB) string { return requireEnv(t, "REDIS_URL", howToSetLocalStack) }

var (
	templateOnce sync.Once
	templateName string
	templateErr  error
)

// NewDatabase creates an empty, migrated database for this test and returns its URL. It is dropped
// when the test ends.
func NewDatabase(t testing.TB) string {
	t.Helper()
	admin := DatabaseURL(t)
	templateOnce.Do(func() { templateName, templateErr = ensureTemplate(admin) })
	if templateErr != nil {
		t.Fatalf("prepare template database: %v", templateErr)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		t.Fatalf("connect to test Postgres (is the stack up? run `make test`): %v", err)
	}
	defer conn.Close(ctx)
	name := "t_" + randomHex(8)
	// Cloning a template is a file copy, far faster than migrating each database.
	for attempt := 0; ; attempt++ {
		_, err = conn.Exec(ctx, fmt.Sprintf("CREATE DATABASE %s TEMPLATE %s", name, templateName))
		if err == nil || attempt == 20 {
			break
		}
		// Another process may be cloning the same template this instant ("being accessed by other users").
		time.Sleep(time.Duration(50+attempt*25) * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, admin)
		if err != nil {
			t.Logf("drop test database %s: %v", name, err)
			return
		}
		defer c.Close(ctx)
		if _, err := c.Exec(ctx, fmt.Sprintf("DROP DATABASE IF EXISTS %s WITH (FORCE)", name)); err != nil {
			t.Logf("drop test database %s: %v", name, err)
		}
	})
	return withDatabase(admin, name)
}

// NewPool returns a pool on a fresh test database, closed when the test ends.
func NewPool(t testing.TB) (*pgxpool.Pool, string) {
	t.Helper()
	dbURL := NewDatabase(t)
	pool, err := postgres.Open(context.Background(), dbURL)
	if err != nil {
		t.Fatalf("open test database: %v", err)
	}
	t.Cleanup(pool.Close)
	return pool, dbURL
}

// ensureTemplate creates (once per set of migrations) a migrated template database. Its name
// carries a hash of the migration files, so a changed migration gets a new template.
func ensureTemplate(admin string) (string, error) {
	h := sha256.New()
	err := fs.WalkDir(migrations.Files(), ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(migrations.Files(), path)
		if err != nil {
			return err
		}
		h.Write([]byte(path))
		h.Write(b)
		return nil
	})
	if err != nil {
		return "", err
	}
	name := "tpl_" + hex.EncodeToString(h.Sum(nil))[:16]

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		return "", fmt.Errorf("connect to test Postgres (is the stack up? run `make test`): %w", err)
	}
	defer conn.Close(ctx)
	// Test binaries of several packages start at once: one builds the template, the others wait.
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock(727274)"); err != nil {
		return "", err
	}
	defer conn.Exec(context.Background(), "SELECT pg_advisory_unlock(727274)")
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1 AND datistemplate)", name).Scan(&exists); err != nil {
		return "", err
	}
	if exists {
		return name, nil
	}
	if _, err := conn.Exec(ctx, fmt.Sprintf("DROP DATABASE IF EXISTS %s WITH (FORCE)", name)); err != nil {
		return "", err
	}
	if _, err := conn.Exec(ctx, fmt.Sprintf("CREATE DATABASE %s", name)); err != nil {
		return "", err
	}
	pool, err := postgres.Open(ctx, withDatabase(admin, name))
	if err != nil {
		return "", err
	}
	err = migrations.Up(ctx, pool)
	pool.Close()
	if err != nil {
		return "", err
	}
	if _, err := conn.Exec(ctx, fmt.Sprintf("ALTER DATABASE %s WITH is_template true", name)); err != nil {
		return "", err
	}
	return name, nil
}

func withDatabase(rawURL, name string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		panic(err)
	}
	u.Path = "/" + name
	return u.String()
}

// NewRedisPrefix returns a key prefix no other test uses on REDIS_URL; its keys are deleted when
// the test ends.
func NewRedisPrefix(t testing.TB) string {
	t.Helper()
	return NewRedisPrefixOn(t, RedisURL(t))
}

// NewRedisPrefixOn returns a key prefix no other test uses on the Redis at redisURL, which may
// name a Redis Cluster (see store/redis.Open); its keys are deleted when the test ends.
func NewRedisPrefixOn(t testing.TB, redisURL string) string {
	t.Helper()
	prefix := "t" + randomHex(6) + ":"
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		c, err := sredis.Open(ctx, redisURL, "")
		if err != nil {
			t.Logf("delete the test's Redis keys: %v", err)
			return
		}
		defer c.Close()
		// A cluster's keys are spread over its masters, and SCAN sees one node's keys only.
		if cluster, ok := c.UniversalClient.(*goredis.ClusterClient); ok {
			err = cluster.ForEachMaster(ctx, func(ctx context.Context, node *goredis.Client) error {
				return deleteKeys(ctx, node, prefix)
			})
		} else {
			err = deleteKeys(ctx, c.UniversalClient, prefix)
		}
		if err != nil {
			t.Logf("delete the test's Redis keys: %v", err)
		}
	})
	return prefix
}

// deleteKeys deletes the keys under prefix on one Redis server, one DEL per key: a cluster node
// refuses a DEL of keys from several slots.
func deleteKeys(ctx context.Context, c goredis.UniversalClient, prefix string) error {
	iter := c.Scan(ctx, 0, prefix+"*", 500).Iterator()
	pipe := c.Pipeline()
	for iter.Next(ctx) {
		pipe.Del(ctx, iter.Val())
	}
	if err := iter.Err(); err != nil {
		return err
	}
	if pipe.Len() == 0 {
		return nil
	}
	_, err := pipe.Exec(ctx)
	return err
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
