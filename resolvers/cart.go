package resolvers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"

	"storefront/domain/apperr"
	"storefront/domain/cart"
	"storefront/domain/catalog"
	"storefront/domain/identity"
	"storefront/domain/stream"
	"storefront/graph/model"
	"storefront/resolvers/relay"
)

func init() {
	registerNode(relay.KindCart, func(r *Resolver, ctx context.Context, key string) (model.Node, error) {
		v, err := r.Carts.Get(ctx, cartCaller(ctx), key)
		if errors.Is(err, apperr.ErrNotFound) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		return r.cartModel(ctx, v, "lines", "product")
	})
	registerNode(relay.KindCartLine, func(r *Resolver, ctx context.Context, key string) (model.Node, error) {
		lineID, err := strconv.ParseInt(key, 10, 64)
		if err != nil {
			return nil, nil
		}
		_, l, err := r.Carts.LineOf(ctx, cartCaller(ctx), lineID)
		if errors.Is(err, apperr.ErrNotFound) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		line := toCartLine(l)
		if err := r.fillLineProducts(ctx, []*model.CartLine{line}, "product"); err != nil {
			return nil, err
		}
		return line, nil
	})
}

// cartCaller is who asks, for cart access: the signed-in user, or a guest.
func cartCaller(ctx context.Context) cart.Caller {
	p, _ := identity.PrincipalFrom(ctx)
	return cart.Caller{UserID: p.UserID}
}

// mergeGuestCart merges the guest cart named by a global id into the user's cart at sign-in and
// returns the merge's warnings. Sign-in has already succeeded, so a merge that fails leaves the
// guest cart as it was and says so in a warning instead of failing the login.
func (r *Resolver) mergeGuestCart(ctx context.Context, cartID string, userID int64) []*model.CartWarning {
	key, err := relay.ParseKeyID(cartID, relay.KindCart)
	if err != nil {
		return []*model.CartWarning{}
	}
	warnings, err := r.Carts.Merge(ctx, key, userID)
	if err != nil {
		slog.ErrorContext(ctx, "merge guest cart at sign-in", "err", err, "request_id", RequestIDFunc(ctx))
		return []*model.CartWarning{{Code: "MERGE_FAILED",
			Message: "the guest cart could not be merged and is unchanged; sign in again to retry"}}
	}
	return toCartWarnings(warnings)
}

func (r *queryResolver) Cart(ctx context.Context, id string) (*model.Cart, error) {
	key, err := relay.ParseKeyID(id, relay.KindCart)
	if errors.Is(err, apperr.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	v, err := r.Carts.Get(ctx, cartCaller(ctx), key)
	if errors.Is(err, apperr.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return r.cartModel(ctx, v, "lines", "product")
}

func (r *userResolver) Cart(ctx context.Context, obj *model.User) (*model.Cart, error) {
	// A user's cart is for that user's eyes only, whoever else can see the User object.
	if p, ok := identity.PrincipalFrom(ctx); !ok || p.UserID != obj.Key {
		return nil, nil
	}
	v, found, err := r.Carts.ForUser(ctx, obj.Key)
	if err != nil || !found {
		return nil, err
	}
	return r.cartModel(ctx, v, "lines", "product")
}

func (r *mutationResolver) CartCreate(ctx context.Context, input *model.CartCreateInput) (*model.CartPayload, error) {
	var lines []*model.CartLineInput
	if input != nil {
		lines = input.Lines
	}
	ins, userErrors, err := parseLineInputs(lines)
	if err != nil {
		return nil, err
	}
	ctx = withLineProductMemo(ctx)
	res, err := r.Carts.Create(ctx, cartCaller(ctx), ins)
	if err != nil {
		return nil, err
	}
	return r.cartPayload(ctx, res, userErrors, "lines", "productId")
}

func (r *mutationResolver) CartLinesAdd(ctx context.Context, cartID string, lines []*model.CartLineInput) (*model.CartPayload, error) {
	ins, userErrors, err := parseLineInputs(lines)
	if err != nil {
		return nil, err
	}
	return r.changeCart(ctx, cartID, userErrors, "lines", "productId", func(ctx context.Context, key string) (cart.Result, error) {
		return r.Carts.AddLines(ctx, cartCaller(ctx), key, ins)
	})
}

func (r *mutationResolver) CartLinesUpdate(ctx context.Context, cartID string, lines []*model.CartLineUpdateInput) (*model.CartPayload, error) {
	if len(lines) > cart.MaxBatch {
		return nil, apperr.Input("lines", "at most %d lines at once", cart.MaxBatch)
	}
	var updates []cart.LineUpdate
	var userErrors []*model.UserError
	for i, l := range lines {
		id, ue := parseLineID(l.ID, "lines", i, "id")
		if ue != nil {
			userErrors = append(userErrors, ue)
			continue
		}
		updates = append(updates, cart.LineUpdate{Index: i, LineID: id, Quantity: l.Quantity})
	}
	return r.changeCart(ctx, cartID, userErrors, "lines", "id", func(ctx context.Context, key string) (cart.Result, error) {
		return r.Carts.UpdateLines(ctx, cartCaller(ctx), key, updates)
	})
}

func (r *mutationResolver) CartLinesRemove(ctx context.Context, cartID string, lineIds []string) (*model.CartPayload, error) {
	if len(lineIds) > cart.MaxBatch {
		return nil, apperr.Input("lineIds", "at most %d lines at once", cart.MaxBatch)
	}
	var refs []cart.LineRef
	var userErrors []*model.UserError
	for i, raw := range lineIds {
		id, ue := parseLineID(raw, "lineIds", i)
		if ue != nil {
			userErrors = append(userErrors, ue)
			continue
		}
		refs = append(refs, cart.LineRef{Index: i, LineID: id})
	}
	return r.changeCart(ctx, cartID, userErrors, "lineIds", "", func(ctx context.Context, key string) (cart.Result, error) {
		return r.Carts.RemoveLines(ctx, cartCaller(ctx), key, refs)
	})
}

// changeCart runs a change on the cart named by cartID. A cart that does not exist or is not the
// caller's is a NOT_FOUND userError, like any other expected failure.
func (r *mutationResolver) changeCart(ctx context.Context, cartID string, userErrors []*model.UserError,
	listField, keyField string, change func(ctx context.Context, key string) (cart.Result, error)) (*model.CartPayload, error) {
	notFound := &model.CartPayload{UserErrors: []*model.UserError{userError(ErrCodeNotFound, "cart not found", "cartId")},
		Warnings: []*model.CartWarning{}}
	key, err := relay.ParseKeyID(cartID, relay.KindCart)
	if err != nil {
		var inErr *apperr.InputError
		if errors.Is(err, apperr.ErrNotFound) || errors.As(err, &inErr) {
			return notFound, nil
		}
		return nil, err
	}
	ctx = withLineProductMemo(ctx)
	res, err := change(ctx, key)
	if errors.Is(err, apperr.ErrNotFound) {
		return notFound, nil
	}
	if err != nil {
		return nil, err
	}
	return r.cartPayload(ctx, res, userErrors, listField, keyField)
}

func (r *subscriptionResolver) CartUpdated(ctx context.Context, cartID string) (<-chan *model.Cart, error) {
	key, err := relay.ParseKeyID(cartID, relay.KindCart)
	if err != nil {
		return nil, err
	}
	fields, withProducts := lineProductSelection(ctx, "lines", "product")
	if !withProducts {
		// The cart service converts and delivers each change itself: no goroutine per subscriber.
		return cart.Watch(r.Carts, ctx, cartCaller(ctx), key, toCart)
	}
	// The lines' products are read for each change, which the cart service's feed must not wait
	// for: a goroutine of this subscriber's reads them and hands the cart on. The consumer is not
	// told of values (no stream.Notifier), so it waits on the channel itself.
	views, err := cart.Watch(r.Carts, stream.WithNotifier(ctx, nil), cartCaller(ctx), key, func(v cart.View) cart.View { return v })
	if err != nil {
		return nil, err
	}
	out := make(chan *model.Cart, 1)
	go func() {
		defer close(out)
		for v := range views {
			c := toCart(v)
			if err := r.setLineProducts(ctx, c.Lines, fields); err != nil {
				slog.ErrorContext(ctx, "read the products of a watched cart", "err", err, "cart", v.ID)
				continue // the next change tries again
			}
			select {
			case out <- c:
			case <-ctx.Done():
				return
			}
		}
	}()
	return out, nil
}

// parseLineInputs turns API lines into domain lines. Lines with an unusable product id become
// userErrors at their index; the others go ahead.
func parseLineInputs(lines []*model.CartLineInput) ([]cart.LineInput, []*model.UserError, error) {
	if len(lines) > cart.MaxBatch {
		return nil, nil, apperr.Input("lines", "at most %d lines at once", cart.MaxBatch)
	}
	var ins []cart.LineInput
	var userErrors []*model.UserError
	for i, l := range lines {
		id, err := relay.ParseIntID(l.ProductID, relay.KindProduct)
		if err != nil {
			code, msg := ErrCodeNotFound, "product not found"
			if !errors.Is(err, apperr.ErrNotFound) {
				code, msg = ErrCodeInvalidInput, "not a product id"
			}
			userErrors = append(userErrors, userError(code, msg, "lines", strconv.Itoa(i), "productId"))
			continue
		}
		ins = append(ins, cart.LineInput{Index: i, ProductID: id, Quantity: l.Quantity})
	}
	return ins, userErrors, nil
}

// parseLineID reads a cart line id; an unusable one is a userError at field path.
func parseLineID(raw, list string, index int, sub ...string) (int64, *model.UserError) {
	id, err := relay.ParseIntID(raw, relay.KindCartLine)
	if err == nil {
		return id, nil
	}
	field := append([]string{list, strconv.Itoa(index)}, sub...)
	if errors.Is(err, apperr.ErrNotFound) {
		return 0, userError(ErrCodeNotFound, "no such line in this cart", field...)
	}
	return 0, userError(ErrCodeInvalidInput, "not a cart line id", field...)
}

// cartPayload converts a change's result; each refused line is a userError whose field points at
// the line's index in the request list (listField), and within the line at what was wrong: the
// keyField (productId or id) when it names nothing, else the quantity. Removals have no subfield.
func (r *Resolver) cartPayload(ctx context.Context, res cart.Result, userErrors []*model.UserError, listField, keyField string) (*model.CartPayload, error) {
	for _, f := range res.Failures {
		field := []string{listField, strconv.Itoa(f.Index)}
		switch {
		case keyField == "":
		case f.Code == cart.CodeNotFound:
			field = append(field, keyField)
		default:
			field = append(field, "quantity")
		}
		userErrors = append(userErrors, userError(string(f.Code), f.Message, field...))
	}
	if userErrors == nil {
		userErrors = []*model.UserError{}
	}
	c, err := r.cartModel(ctx, res.Cart, "cart", "lines", "product")
	if err != nil {
		return nil, err
	}
	return &model.CartPayload{Cart: c, UserErrors: userErrors, Warnings: c.Warnings}, nil
}

func toCart(v cart.View) *model.Cart {
	c := &model.Cart{
		ID:            relay.ID(relay.KindCart, v.ID),
		Lines:         make([]*model.CartLine, len(v.Lines)),
		TotalQuantity: v.TotalQuantity,
		Subtotal:      moneyOf(v.Subtotal),
		Warnings:      toCartWarnings(v.Warnings),
		CreatedAt:     v.CreatedAt,
		UpdatedAt:     v.UpdatedAt,
	}
	for i, l := range v.Lines {
		c.Lines[i] = toCartLine(l)
	}
	return c
}

func toCartLine(l cart.PricedLine) *model.CartLine {
	return &model.CartLine{
		ID:             relay.IntID(relay.KindCartLine, l.ID),
		Quantity:       l.Quantity,
		UnitPrice:      moneyOf(l.UnitPrice),
		LineTotal:      moneyOf(l.LineTotal),
		AddedUnitPrice: moneyOf(l.AddedUnitPrice),
		ProductKey:     l.ProductID,
	}
}

func toCartWarnings(ws []cart.Warning) []*model.CartWarning {
	out := make([]*model.CartWarning, len(ws))
	for i, w := range ws {
		cw := &model.CartWarning{Code: string(w.Code), Message: w.Message}
		if w.LineID != 0 {
			id := relay.IntID(relay.KindCartLine, w.LineID)
			cw.LineID = &id
		}
		if w.ProductID != 0 {
			id := relay.IntID(relay.KindProduct, w.ProductID)
			cw.ProductID = &id
		}
		out[i] = cw
	}
	return out
}

// withLineProductMemo lets a cart change leave the products it reads in its transaction in ctx
// (catalog.WithProductMemo) when the payload shows the lines' products, so that cartPayload does
// not read them a second time.
func withLineProductMemo(ctx context.Context) context.Context {
	if _, selected := lineProductSelection(ctx, "cart", "lines", "product"); selected {
		return catalog.WithProductMemo(ctx)
	}
	return ctx
}

// cartModel is the model of the cart for the field being resolved, with the products of its lines
// filled in when the selection at path (below that field) asks for them.
func (r *Resolver) cartModel(ctx context.Context, v cart.View, path ...string) (*model.Cart, error) {
	c := toCart(v)
	if err := r.fillLineProducts(ctx, c.Lines, path...); err != nil {
		return nil, err
	}
	return c, nil
}

// fillLineProducts sets the product of each line when the selection at path asks for it.
//
// A line's product is filled here, all lines' in one statement with what the client selected of
// them, rather than resolved line by line: a cart's lines then hold no resolver, and gqlgen
// marshals them in turn instead of starting a goroutine per line that only waits on a loader.
func (r *Resolver) fillLineProducts(ctx context.Context, lines []*model.CartLine, path ...string) error {
	fields, selected := lineProductSelection(ctx, path...)
	if !selected {
		return nil
	}
	return r.setLineProducts(ctx, lines, fields)
}

// setLineProducts reads the lines' products with the fields given and sets them on the lines.
func (r *Resolver) setLineProducts(ctx context.Context, lines []*model.CartLine, fields productFields) error {
	if len(lines) == 0 { // an empty cart, or one emptied since the last change: nothing to read
		return nil
	}
	ids := make([]int64, len(lines))
	for i, l := range lines {
		ids[i] = l.ProductKey
	}
	found, err := r.Catalog.ProductsByIDs(ctx, ids)
	if err != nil {
		return err
	}
	products := make([]catalog.Product, len(lines))
	for i, l := range lines {
		p, ok := found[l.ProductKey]
		if !ok { // lines go with their product (ON DELETE CASCADE): a race with a deletion
			return fmt.Errorf("product %d of cart line %s: %w", l.ProductKey, l.ID, apperr.ErrNotFound)
		}
		products[i] = p
	}
	models, err := r.productModels(ctx, products, fields)
	if err != nil {
		return err
	}
	for i, l := range lines {
		l.Product = models[i]
	}
	return nil
}
