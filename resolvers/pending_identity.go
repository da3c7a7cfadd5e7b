package resolvers

// Placeholder until the identity area lands; the identity work deletes this file.

import (
	"context"
	"errors"

	"storefront/graph/model"
)

var errPendingIdentity = errors.New("identity: not built yet")

func (r *queryResolver) Me(ctx context.Context) (*model.User, error) { return nil, errPendingIdentity }
func (r *mutationResolver) Register(ctx context.Context, input model.RegisterInput) (*model.AuthPayload, error) {
	return nil, errPendingIdentity
}
func (r *mutationResolver) Login(ctx context.Context, input model.LoginInput) (*model.AuthPayload, error) {
	return nil, errPendingIdentity
}
func (r *mutationResolver) RefreshSession(ctx context.Context, refreshToken string) (*model.AuthPayload, error) {
	return nil, errPendingIdentity
}
func (r *mutationResolver) Logout(ctx context.Context) (bool, error) {
	return false, errPendingIdentity
}
func (r *mutationResolver) LogoutAll(ctx context.Context) (bool, error) {
	return false, errPendingIdentity
}
func (r *mutationResolver) ProfileUpdate(ctx context.Context, input model.ProfileUpdateInput) (*model.UserPayload, error) {
	return nil, errPendingIdentity
}
func (r *mutationResolver) AddressAdd(ctx context.Context, input model.AddressInput, setDefault *bool) (*model.AddressPayload, error) {
	return nil, errPendingIdentity
}
func (r *mutationResolver) AddressUpdate(ctx context.Context, id string, input model.AddressInput, setDefault *bool) (*model.AddressPayload, error) {
	return nil, errPendingIdentity
}
func (r *mutationResolver) AddressRemove(ctx context.Context, id string) (*model.AddressRemovePayload, error) {
	return nil, errPendingIdentity
}
func (r *userResolver) Addresses(ctx context.Context, obj *model.User) ([]*model.Address, error) {
	return nil, errPendingIdentity
}
func (r *userResolver) DefaultAddress(ctx context.Context, obj *model.User) (*model.Address, error) {
	return nil, errPendingIdentity
}
