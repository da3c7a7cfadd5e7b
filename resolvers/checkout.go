package resolvers

import (
	"context"
	"errors"
	"strconv"

	"storefront/domain/apperr"
	"storefront/domain/checkout"
	"storefront/domain/identity"
	"storefront/domain/order"
	"storefront/domain/payment"
	"storefront/graph/model"
	"storefront/resolvers/relay"
)

func init() {
	registerNode(relay.KindOrder, func(r *Resolver, ctx context.Context, key string) (model.Node, error) {
		p, ok := identity.PrincipalFrom(ctx)
		id, err := strconv.ParseInt(key, 10, 64)
		if !ok || err != nil {
			return nil, nil
		}
		o, err := r.Checkout.Order(ctx, checkout.Actor{UserID: p.UserID}, id)
		if errors.Is(err, apperr.ErrNotFound) {
			return nil, nil // another user's order does not exist for the caller
		}
		if err != nil {
			return nil, err
		}
		return orderOf(o), nil
	})
	registerNode(relay.KindPayment, func(r *Resolver, ctx context.Context, key string) (model.Node, error) {
		p, ok := identity.PrincipalFrom(ctx)
		id, err := strconv.ParseInt(key, 10, 64)
		if !ok || err != nil {
			return nil, nil
		}
		pay, err := r.Checkout.Payment(ctx, checkout.Actor{UserID: p.UserID}, id)
		if errors.Is(err, apperr.ErrNotFound) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		return paymentOf(pay), nil
	})
}

func orderOf(o *order.Order) *model.Order {
	a := o.Address
	m := &model.Order{
		ID:             relay.IntID(relay.KindOrder, o.ID),
		Number:         o.Number(),
		Status:         model.OrderStatus(o.Status),
		Subtotal:       moneyOf(o.Subtotal),
		Discount:       moneyOf(o.Discount),
		Tax:            moneyOf(o.Tax),
		Shipping:       moneyOf(o.Shipping),
		Total:          moneyOf(o.Total),
		DiscountCode:   optional(o.DiscountCode),
		ShippingMethod: o.ShippingMethod,
		ShippingAddress: &model.MailingAddress{Name: a.Name, Line1: a.Line1, Line2: optional(a.Line2), City: a.City,
			Region: optional(a.Region), PostalCode: a.PostalCode, Country: a.Country},
		ReservationExpiresAt: o.ReservationExpiresAt,
		CreatedAt:            o.CreatedAt,
		Key:                  o.ID,
		UserKey:              o.UserID,
		Detail:               o,
	}
	if o.Tracking != nil {
		m.Tracking = &model.Tracking{Carrier: o.Tracking.Carrier, Number: o.Tracking.Number}
	}
	return m
}

func paymentOf(p payment.Payment) *model.Payment {
	return &model.Payment{
		ID:        relay.IntID(relay.KindPayment, p.ID),
		Status:    model.PaymentStatus(p.Status),
		Amount:    moneyOf(p.Amount),
		Brand:     optional(p.Brand),
		Last4:     optional(p.Last4),
		CreatedAt: p.CreatedAt,
	}
}

// problemsOf converts business failures to userErrors. An OUT_OF_STOCK problem names its cart
// line by global id in the field path.
func problemsOf(ps checkout.Problems) []*model.UserError {
	out := make([]*model.UserError, 0, len(ps))
	for _, p := range ps {
		field := p.Field
		if p.CartLineID != 0 {
			field = []string{"lines", relay.IntID(relay.KindCartLine, p.CartLineID)}
		}
		out = append(out, userError(string(p.Code), p.Message, field...))
	}
	return out
}

func notFoundError(field string) []*model.UserError {
	return []*model.UserError{userError(ErrCodeNotFound, "not found", field)}
}

// parseOwnID reads a global id of kind; a wrong kind is a userError NOT_FOUND, a malformed id a
// BAD_USER_INPUT error.
func parseOwnID(id, kind, field string) (int64, []*model.UserError, error) {
	n, err := relay.ParseIntID(id, kind)
	if errors.Is(err, apperr.ErrNotFound) {
		return 0, notFoundError(field), nil
	}
	return n, nil, err
}

func (r *queryResolver) Order(ctx context.Context, id string) (*model.Order, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	key, err := relay.ParseIntID(id, relay.KindOrder)
	if err != nil {
		return nil, err
	}
	o, err := r.Checkout.Order(ctx, checkout.Actor{UserID: p.UserID}, key)
	if err != nil {
		return nil, err
	}
	return orderOf(o), nil
}

func (r *queryResolver) ShippingMethods(ctx context.Context) ([]*model.ShippingMethod, error) {
	methods, err := r.Checkout.ShippingMethods(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]*model.ShippingMethod, len(methods))
	for i, m := range methods {
		out[i] = &model.ShippingMethod{Code: m.Code, Name: m.Name, Price: moneyOf(m.Price)}
		if m.FreeOver > 0 {
			out[i].FreeOver = moneyOf(m.FreeOver)
		}
	}
	return out, nil
}

func (r *userResolver) Orders(ctx context.Context, obj *model.User, first *int, after *string, status *model.OrderStatus) (*model.OrderConnection, error) {
	p, err := ownUser(ctx, obj)
	if err != nil {
		return nil, err
	}
	limit, err := relay.PageSize(first, 20)
	if err != nil {
		return nil, err
	}
	var afterID int64
	if after != nil {
		parts, err := relay.ParseCursor(*after, 1)
		if err != nil {
			return nil, err
		}
		if afterID, err = strconv.ParseInt(parts[0], 10, 64); err != nil || afterID <= 0 {
			return nil, apperr.Input("after", "invalid cursor")
		}
	}
	var st order.Status
	if status != nil {
		st = order.Status(*status)
	}
	page, err := r.Checkout.Orders(ctx, p.UserID, st, afterID, limit)
	if err != nil {
		return nil, err
	}
	conn := &model.OrderConnection{
		Edges:      make([]*model.OrderEdge, len(page.Orders)),
		Nodes:      make([]*model.Order, len(page.Orders)),
		PageInfo:   &model.PageInfo{HasNextPage: page.HasNext, HasPreviousPage: afterID != 0},
		TotalCount: page.TotalCount,
	}
	for i, o := range page.Orders {
		m := orderOf(o)
		conn.Nodes[i] = m
		conn.Edges[i] = &model.OrderEdge{Cursor: relay.Cursor(strconv.FormatInt(o.ID, 10)), Node: m}
	}
	if n := len(conn.Edges); n > 0 {
		conn.PageInfo.StartCursor, conn.PageInfo.EndCursor = &conn.Edges[0].Cursor, &conn.Edges[n-1].Cursor
	}
	return conn, nil
}

// detail returns the loaded order behind a model.Order; every Order this package returns has one.
func (r *orderResolver) detail(ctx context.Context, obj *model.Order) (*order.Order, error) {
	if obj.Detail != nil {
		return obj.Detail, nil
	}
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	return r.Checkout.Order(ctx, checkout.Actor{UserID: p.UserID, Admin: p.Role == identity.RoleAdmin}, obj.Key)
}

func (r *orderResolver) Lines(ctx context.Context, obj *model.Order) ([]*model.OrderLine, error) {
	o, err := r.detail(ctx, obj)
	if err != nil {
		return nil, err
	}
	out := make([]*model.OrderLine, len(o.Lines))
	for i, l := range o.Lines {
		out[i] = &model.OrderLine{
			ID:          strconv.FormatInt(l.ID, 10),
			ProductName: l.ProductName,
			Quantity:    l.Quantity,
			UnitPrice:   moneyOf(l.UnitPrice),
			LineTotal:   moneyOf(l.LineTotal),
		}
		if l.ProductID != 0 {
			pid := l.ProductID
			out[i].ProductKey = &pid
		}
	}
	return out, nil
}

func (r *orderResolver) StatusHistory(ctx context.Context, obj *model.Order) ([]*model.OrderStatusEvent, error) {
	o, err := r.detail(ctx, obj)
	if err != nil {
		return nil, err
	}
	out := make([]*model.OrderStatusEvent, len(o.History))
	for i, c := range o.History {
		out[i] = &model.OrderStatusEvent{Status: model.OrderStatus(c.Status), At: c.At}
	}
	return out, nil
}

func (r *orderResolver) Payments(ctx context.Context, obj *model.Order) ([]*model.Payment, error) {
	ps, err := r.Checkout.OrderPayments(ctx, obj.Key)
	if err != nil {
		return nil, err
	}
	out := make([]*model.Payment, len(ps))
	for i, p := range ps {
		out[i] = paymentOf(p)
	}
	return out, nil
}

func (r *mutationResolver) Checkout(ctx context.Context, input model.CheckoutInput) (*model.CheckoutPayload, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	cartID, err := relay.ParseKeyID(input.CartID, relay.KindCart)
	if errors.Is(err, apperr.ErrNotFound) {
		return &model.CheckoutPayload{UserErrors: notFoundError("cartId")}, nil
	}
	if err != nil {
		return nil, err
	}
	in := checkout.Input{CartID: cartID, ShippingMethod: input.ShippingMethod, IdempotencyKey: input.IdempotencyKey}
	if input.DiscountCode != nil {
		in.DiscountCode = *input.DiscountCode
	}
	if a := input.ShippingAddress; a != nil {
		in.Address = order.Address{Name: a.Name, Line1: a.Line1, Line2: deref(a.Line2), City: a.City,
			Region: deref(a.Region), PostalCode: a.PostalCode, Country: a.Country}
	}
	res, err := r.Deps.Checkout.Checkout(ctx, p.UserID, in)
	if err != nil {
		return nil, err
	}
	out := &model.CheckoutPayload{UserErrors: problemsOf(res.Problems)}
	if res.Order != nil {
		out.Order = orderOf(res.Order)
	}
	return out, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func (r *mutationResolver) PayOrder(ctx context.Context, input model.PayOrderInput) (*model.PaymentPayload, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	orderID, ues, err := parseOwnID(input.OrderID, relay.KindOrder, "orderId")
	if err != nil || ues != nil {
		return &model.PaymentPayload{UserErrors: ues}, err
	}
	res, err := r.Deps.Checkout.PayOrder(ctx, p.UserID, checkout.PayInput{
		OrderID: orderID, Token: input.PaymentToken, IdempotencyKey: input.IdempotencyKey})
	if err != nil {
		return nil, err
	}
	out := &model.PaymentPayload{UserErrors: problemsOf(res.Problems)}
	if res.Order != nil {
		out.Order = orderOf(res.Order)
	}
	if res.Payment != nil {
		out.Payment = paymentOf(*res.Payment)
	}
	return out, nil
}

func orderPayload(res checkout.OrderResult, err error) (*model.OrderPayload, error) {
	if err != nil {
		return nil, err
	}
	out := &model.OrderPayload{UserErrors: problemsOf(res.Problems)}
	if res.Order != nil {
		out.Order = orderOf(res.Order)
	}
	return out, nil
}

func (r *mutationResolver) OrderCancel(ctx context.Context, orderID string, reason *string) (*model.OrderPayload, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	id, ues, err := parseOwnID(orderID, relay.KindOrder, "orderId")
	if err != nil || ues != nil {
		return &model.OrderPayload{UserErrors: ues}, err
	}
	why := "cancelled by the customer"
	if reason != nil && *reason != "" {
		if len(*reason) > 500 {
			return &model.OrderPayload{UserErrors: []*model.UserError{userError(ErrCodeInvalidInput, "reason is too long", "reason")}}, nil
		}
		why = *reason
	}
	return orderPayload(r.Deps.Checkout.Cancel(ctx, checkout.Actor{UserID: p.UserID}, id, why))
}

func (r *mutationResolver) OrderMarkShipped(ctx context.Context, orderID string, carrier string, trackingNumber string) (*model.OrderPayload, error) {
	id, ues, err := parseOwnID(orderID, relay.KindOrder, "orderId")
	if err != nil || ues != nil {
		return &model.OrderPayload{UserErrors: ues}, err
	}
	return orderPayload(r.Deps.Checkout.MarkShipped(ctx, id, carrier, trackingNumber))
}

func (r *mutationResolver) OrderMarkDelivered(ctx context.Context, orderID string) (*model.OrderPayload, error) {
	id, ues, err := parseOwnID(orderID, relay.KindOrder, "orderId")
	if err != nil || ues != nil {
		return &model.OrderPayload{UserErrors: ues}, err
	}
	return orderPayload(r.Deps.Checkout.MarkDelivered(ctx, id))
}

func (r *mutationResolver) InventorySet(ctx context.Context, productID string, onHand int) (*model.InventoryPayload, error) {
	id, ues, err := parseOwnID(productID, relay.KindProduct, "productId")
	if err != nil || ues != nil {
		return &model.InventoryPayload{UserErrors: ues}, err
	}
	res, err := r.Deps.Checkout.SetInventory(ctx, id, onHand)
	if err != nil {
		return nil, err
	}
	out := &model.InventoryPayload{UserErrors: problemsOf(res.Problems)}
	if len(res.Problems) == 0 {
		out.Inventory = &model.InventoryLevel{OnHand: res.Level.OnHand, Reserved: res.Level.Reserved, Available: res.Level.Available()}
		if out.Product, err = r.productByKey(ctx, id); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (r *subscriptionResolver) OrderStatusChanged(ctx context.Context, orderID string) (<-chan *model.Order, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	id, err := relay.ParseIntID(orderID, relay.KindOrder)
	if err != nil {
		return nil, err
	}
	orders, err := r.Deps.Checkout.WatchStatus(ctx, p.UserID, id)
	if err != nil {
		return nil, err
	}
	out := make(chan *model.Order, 1)
	go func() {
		defer close(out)
		for o := range orders {
			select {
			case out <- orderOf(o):
			case <-ctx.Done():
				return
			}
		}
	}()
	return out, nil
}
