package redis

import (
	"context"
	"sync/atomic"

	goredis "github.com/redis/go-redis/v9"
)

// CommandCounter counts the Redis commands sent on behalf of one context, the way
// postgres.StatementCounter counts SQL statements: the server reports both per GraphQL operation.
type CommandCounter struct {
	n atomic.Int64
	// outer is the counter of an enclosing context, which counts the same commands.
	outer *CommandCounter
}

// Count returns the number of commands seen so far.
func (c *CommandCounter) Count() int64 { return c.n.Load() }

type commandCounterKey struct{}

// WithCommandCounter returns a context whose Redis commands are counted by the returned counter
// (and by any counter ctx already had).
func WithCommandCounter(ctx context.Context) (context.Context, *CommandCounter) {
	outer, _ := ctx.Value(commandCounterKey{}).(*CommandCounter)
	c := &CommandCounter{outer: outer}
	return context.WithValue(ctx, commandCounterKey{}, c), c
}

func countCommands(ctx context.Context, n int) {
	c, _ := ctx.Value(commandCounterKey{}).(*CommandCounter)
	for ; c != nil; c = c.outer {
		c.n.Add(int64(n))
	}
}

// CountCommands makes every command of the client (single or pipelined) count for the
// CommandCounter of its context. A context without one costs a single context look-up.
func (c *Client) CountCommands() { c.AddHook(commandCountingHook{}) }

// commandCountingHook is a go-redis hook that counts commands; it changes nothing else.
type commandCountingHook struct{}

func (commandCountingHook) DialHook(next goredis.DialHook) goredis.DialHook { return next }

func (commandCountingHook) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook {
	return func(ctx context.Context, cmd goredis.Cmder) error {
		countCommands(ctx, 1)
		return next(ctx, cmd)
	}
}

func (commandCountingHook) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []goredis.Cmder) error {
		countCommands(ctx, len(cmds))
		return next(ctx, cmds)
	}
}
