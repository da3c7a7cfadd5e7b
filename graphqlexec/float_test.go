package graphqlexec

import (
	"bytes"
	"context"
	"math"
	"testing"

	"github.com/99designs/gqlgen/graphql"
)

// TestMarshalFloatWritesWhatGqlgenWrites compares the answer's bytes with gqlgen's own Float
// marshaler over values that take each of fmt's %g forms.
func TestMarshalFloatWritesWhatGqlgenWrites(t *testing.T) {
	values := []float64{0, 1, -1, 4.5, 3.3333333333333335, 0.1, 1e-5, 0.0001, 123456789, 1e20, 1e21,
		2.5e-300, math.MaxFloat64, math.SmallestNonzeroFloat64, -0.0}
	for _, f := range values {
		var ours, theirs bytes.Buffer
		if err := MarshalFloatContext(f).MarshalGQLContext(context.Background(), &ours); err != nil {
			t.Fatalf("%v: %v", f, err)
		}
		if err := graphql.MarshalFloatContext(f).MarshalGQLContext(context.Background(), &theirs); err != nil {
			t.Fatalf("gqlgen %v: %v", f, err)
		}
		if ours.String() != theirs.String() {
			t.Errorf("%v: wrote %q, gqlgen writes %q", f, ours.String(), theirs.String())
		}
	}
	for _, f := range []float64{math.Inf(1), math.Inf(-1), math.NaN()} {
		var buf bytes.Buffer
		if err := MarshalFloatContext(f).MarshalGQLContext(context.Background(), &buf); err == nil || buf.Len() != 0 {
			t.Errorf("%v: wrote %q with error %v, want an error and nothing written", f, buf.String(), err)
		}
	}
}
