package identity

import "context"

type clientKey struct{}

// WithClient returns a context that carries where the request comes from.
func WithClient(ctx context.Context, c Client) context.Context {
	return context.WithValue(ctx, clientKey{}, c)
}

// ClientFrom returns where the request comes from; zero for a context without one.
func ClientFrom(ctx context.Context) Client {
	c, _ := ctx.Value(clientKey{}).(Client)
	return c
}
