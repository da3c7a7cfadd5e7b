package resolvers

import (
	"context"
	"errors"
	"strconv"

	"storefront/domain/apperr"
	"storefront/domain/identity"
	"storefront/graph/model"
	"storefront/resolvers/relay"
)

func init() {
	registerNode(relay.KindUser, func(r *Resolver, ctx context.Context, key string) (model.Node, error) {
		p, ok := identity.PrincipalFrom(ctx)
		id, err := strconv.ParseInt(key, 10, 64)
		if !ok || err != nil || id != p.UserID {
			return nil, nil // only yourself
		}
		u, err := r.Identity.User(ctx, id)
		if errors.Is(err, apperr.ErrNotFound) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		return userOf(u), nil
	})
	registerNode(relay.KindAddress, func(r *Resolver, ctx context.Context, key string) (model.Node, error) {
		p, ok := identity.PrincipalFrom(ctx)
		id, err := strconv.ParseInt(key, 10, 64)
		if !ok || err != nil {
			return nil, nil
		}
		a, err := r.Identity.Address(ctx, p.UserID, id)
		if errors.Is(err, apperr.ErrNotFound) {
			return nil, nil // another user's address does not exist for the caller
		}
		if err != nil {
			return nil, err
		}
		return addressOf(a), nil
	})
}

func userOf(u identity.User) *model.User {
	return &model.User{
		ID: relay.IntID(relay.KindUser, u.ID), Key: u.ID,
		Email: u.Email, Name: u.Name, Role: model.Role(u.Role), CreatedAt: u.CreatedAt,
	}
}

func addressOf(a identity.Address) *model.Address {
	return &model.Address{
		ID: relay.IntID(relay.KindAddress, a.ID), Name: a.Name, Line1: a.Line1, Line2: optional(a.Line2),
		City: a.City, Region: optional(a.Region), PostalCode: a.PostalCode, Country: a.Country, IsDefault: a.IsDefault,
	}
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func addressFieldsOf(in model.AddressInput) identity.AddressFields {
	deref := func(p *string) string {
		if p == nil {
			return ""
		}
		return *p
	}
	return identity.AddressFields{
		Name: in.Name, Line1: in.Line1, Line2: deref(in.Line2), City: in.City,
		Region: deref(in.Region), PostalCode: in.PostalCode, Country: in.Country,
	}
}

// inputUserErrors turns expected account failures into userErrors with the path of the input
// field at fault; anything else is returned as an error.
func inputUserErrors(err error) ([]*model.UserError, error) {
	var v *identity.ValidationError
	switch {
	case errors.As(err, &v):
		out := make([]*model.UserError, len(v.Fields))
		for i, f := range v.Fields {
			code := f.Code
			if code == "" {
				code = ErrCodeInvalidInput
			}
			out[i] = userError(code, f.Message, "input", f.Field)
		}
		return out, nil
	case errors.Is(err, identity.ErrEmailTaken):
		return []*model.UserError{userError(ErrCodeEmailTaken, err.Error(), "input", "email")}, nil
	case errors.Is(err, identity.ErrTooManyAddresses):
		return []*model.UserError{userError(ErrCodeInvalidInput, identity.ErrTooManyAddresses.Error())}, nil
	case errors.Is(err, identity.ErrInvalidCredentials):
		return []*model.UserError{userError(ErrCodeInvalidCredentials, err.Error())}, nil
	}
	return nil, err
}

func authPayload(a identity.Auth) *model.AuthPayload {
	return &model.AuthPayload{
		AccessToken: &a.AccessToken, RefreshToken: &a.RefreshToken, ExpiresAt: &a.AccessExpiresAt,
		User: userOf(a.User), UserErrors: []*model.UserError{}, Warnings: []*model.CartWarning{},
	}
}

func failedAuthPayload(err error) (*model.AuthPayload, error) {
	ues, err := inputUserErrors(err)
	if err != nil {
		return nil, err
	}
	return &model.AuthPayload{UserErrors: ues, Warnings: []*model.CartWarning{}}, nil
}

// caller returns the signed-in caller; @auth has already refused guests on the fields that use it.
func caller(ctx context.Context) (identity.Principal, error) {
	p, ok := identity.PrincipalFrom(ctx)
	if !ok {
		return p, apperr.ErrUnauthenticated
	}
	return p, nil
}

func (r *queryResolver) Me(ctx context.Context) (*model.User, error) {
	p, ok := identity.PrincipalFrom(ctx)
	if !ok {
		return nil, nil
	}
	u, err := r.Identity.User(ctx, p.UserID)
	if errors.Is(err, apperr.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return userOf(u), nil
}

func (r *mutationResolver) Register(ctx context.Context, input model.RegisterInput) (*model.AuthPayload, error) {
	a, err := r.Identity.Register(ctx, identity.RegisterInput{Email: input.Email, Password: input.Password, Name: input.Name},
		identity.ClientFrom(ctx))
	if err != nil {
		return failedAuthPayload(err)
	}
	return authPayload(a), nil
}

// Login signs in. Merging the guest cart named by input.cartId is the cart area's part of login.
func (r *mutationResolver) Login(ctx context.Context, input model.LoginInput) (*model.AuthPayload, error) {
	a, err := r.Identity.Login(ctx, input.Email, input.Password, identity.ClientFrom(ctx))
	if err != nil {
		return failedAuthPayload(err)
	}
	payload := authPayload(a)
	if input.CartID != nil {
		payload.Warnings = r.mergeGuestCart(ctx, *input.CartID, a.User.ID)
	}
	return payload, nil
}

func (r *mutationResolver) RefreshSession(ctx context.Context, refreshToken string) (*model.AuthPayload, error) {
	a, err := r.Identity.Refresh(ctx, refreshToken)
	if err != nil {
		return nil, err
	}
	return authPayload(a), nil
}

func (r *mutationResolver) Logout(ctx context.Context) (bool, error) {
	p, err := caller(ctx)
	if err != nil {
		return false, err
	}
	if err := r.Identity.Logout(ctx, p); err != nil {
		return false, err
	}
	return true, nil
}

func (r *mutationResolver) LogoutAll(ctx context.Context) (bool, error) {
	p, err := caller(ctx)
	if err != nil {
		return false, err
	}
	if err := r.Identity.LogoutAll(ctx, p); err != nil {
		return false, err
	}
	return true, nil
}

func (r *mutationResolver) ProfileUpdate(ctx context.Context, input model.ProfileUpdateInput) (*model.UserPayload, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	u, err := r.Identity.UpdateProfile(ctx, p.UserID, input.Name)
	if err != nil {
		ues, err := inputUserErrors(err)
		if err != nil {
			return nil, err
		}
		return &model.UserPayload{UserErrors: ues}, nil
	}
	return &model.UserPayload{User: userOf(u), UserErrors: []*model.UserError{}}, nil
}

// addressPayloadOf answers an address mutation: validation failures and someone else's (or no)
// address become userErrors.
func addressPayloadOf(a identity.Address, err error) (*model.AddressPayload, error) {
	if errors.Is(err, apperr.ErrNotFound) {
		return &model.AddressPayload{UserErrors: []*model.UserError{userError(ErrCodeNotFound, "address not found", "id")}}, nil
	}
	if err != nil {
		ues, err := inputUserErrors(err)
		if err != nil {
			return nil, err
		}
		return &model.AddressPayload{UserErrors: ues}, nil
	}
	return &model.AddressPayload{Address: addressOf(a), UserErrors: []*model.UserError{}}, nil
}

func (r *mutationResolver) AddressAdd(ctx context.Context, input model.AddressInput, setDefault *bool) (*model.AddressPayload, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	return addressPayloadOf(r.Identity.AddAddress(ctx, p.UserID, addressFieldsOf(input), setDefault != nil && *setDefault))
}

func (r *mutationResolver) AddressUpdate(ctx context.Context, id string, input model.AddressInput, setDefault *bool) (*model.AddressPayload, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	key, err := relay.ParseIntID(id, relay.KindAddress)
	if err != nil {
		return addressPayloadOf(identity.Address{}, err)
	}
	return addressPayloadOf(r.Identity.UpdateAddress(ctx, p.UserID, key, addressFieldsOf(input), setDefault != nil && *setDefault))
}

func (r *mutationResolver) AddressRemove(ctx context.Context, id string) (*model.AddressRemovePayload, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	key, err := relay.ParseIntID(id, relay.KindAddress)
	if err == nil {
		err = r.Identity.RemoveAddress(ctx, p.UserID, key)
	}
	switch {
	case errors.Is(err, apperr.ErrNotFound):
		return &model.AddressRemovePayload{UserErrors: []*model.UserError{userError(ErrCodeNotFound, "address not found", "id")}}, nil
	case err != nil:
		return nil, err
	}
	return &model.AddressRemovePayload{DeletedAddressID: &id, UserErrors: []*model.UserError{}}, nil
}

// ownUser refuses to show a user's private fields to anyone but that user. Only `me` and node(id)
// reach a User today, and both return the caller only; this keeps it so if another path appears.
func ownUser(ctx context.Context, obj *model.User) (identity.Principal, error) {
	p, ok := identity.PrincipalFrom(ctx)
	if !ok || p.UserID != obj.Key {
		return p, apperr.ErrNotFound
	}
	return p, nil
}

func (r *userResolver) Addresses(ctx context.Context, obj *model.User) ([]*model.Address, error) {
	p, err := ownUser(ctx, obj)
	if err != nil {
		return nil, err
	}
	as, err := r.Identity.Addresses(ctx, p.UserID)
	if err != nil {
		return nil, err
	}
	out := make([]*model.Address, len(as))
	for i, a := range as {
		out[i] = addressOf(a)
	}
	return out, nil
}

func (r *userResolver) DefaultAddress(ctx context.Context, obj *model.User) (*model.Address, error) {
	p, err := ownUser(ctx, obj)
	if err != nil {
		return nil, err
	}
	as, err := r.Identity.Addresses(ctx, p.UserID)
	if err != nil {
		return nil, err
	}
	for _, a := range as {
		if a.IsDefault {
			return addressOf(a), nil
		}
	}
	return nil, nil
}
