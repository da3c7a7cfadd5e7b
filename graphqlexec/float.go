package graphqlexec

import (
	"context"
	"errors"
	"io"
	"math"
	"strconv"

	"github.com/99designs/gqlgen/graphql"
)

// errNonFiniteFloat is gqlgen's own refusal of a value JSON cannot hold.
var errNonFiniteFloat = errors.New("cannot marshal infinite no NaN float values")

// MarshalFloatContext writes a GraphQL Float as gqlgen's Float does, the shortest decimal that
// reads back as f ("%g"), with strconv rather than through fmt's pooled printer and verb
// parsing, which showed in the server's profile under load. Infinities and NaN are refused, as
// gqlgen refuses them.
// gqlgen.yml maps the Float scalar to this pair.
func MarshalFloatContext(f float64) graphql.ContextMarshaler {
	return graphql.ContextWriterFunc(func(_ context.Context, w io.Writer) error {
		if math.IsInf(f, 0) || math.IsNaN(f) {
			return errNonFiniteFloat
		}
		var buf [32]byte
		_, err := w.Write(strconv.AppendFloat(buf[:0], f, 'g', -1, 64))
		return err
	})
}

// UnmarshalFloatContext reads a Float argument or variable exactly as gqlgen does.
func UnmarshalFloatContext(_ context.Context, v any) (float64, error) {
	return graphql.UnmarshalFloat(v)
}
