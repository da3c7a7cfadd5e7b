package testsupport

import (
	"context"
	"testing"
)

// UserInfo is an account a test created, with the tokens of its first session.
type UserInfo struct {
	// ID is the user's global id; Key its database id.
	ID       string
	Key      int64
	Email    string
	Password string
	Name     string
	// AccessToken and RefreshToken are those of the session the client carries.
	AccessToken  string
	RefreshToken string
}

const registerMutation = `mutation($input: RegisterInput!) {
  register(input: $input) { accessToken refreshToken user { id email name } userErrors { code message } }
}`

const loginMutation = `mutation($input: LoginInput!) {
  login(input: $input) { accessToken refreshToken user { id email name } userErrors { code message } }
}`

type authAnswer struct {
	AccessToken  string `json:"accessToken"`
	RefreshToken string `json:"refreshToken"`
	User         struct {
		ID    string `json:"id"`
		Email string `json:"email"`
		Name  string `json:"name"`
	} `json:"user"`
	UserErrors []struct{ Code, Message string } `json:"userErrors"`
}

// NewCustomer registers a fresh account with a unique email (role CUSTOMER) and returns a client
// that sends its access token, with the account's details and credentials.
func (s *Server) NewCustomer(t testing.TB) (*Client, UserInfo) {
	t.Helper()
	info := UserInfo{
		Email:    "user-" + randomHex(6) + "@example.com",
		Password: "password-" + randomHex(4),
		Name:     "Test Customer",
	}
	var out struct{ Register authAnswer }
	s.Client().Do(t, registerMutation, map[string]any{"input": map[string]any{
		"email": info.Email, "password": info.Password, "name": info.Name,
	}}).Decode(t, &out)
	if len(out.Register.UserErrors) > 0 || out.Register.AccessToken == "" {
		t.Fatalf("register %s: %+v", info.Email, out.Register.UserErrors)
	}
	info.ID, info.AccessToken, info.RefreshToken = out.Register.User.ID, out.Register.AccessToken, out.Register.RefreshToken
	if err := s.App.Pool.QueryRow(context.Background(), `SELECT id FROM users WHERE email = $1`, info.Email).Scan(&info.Key); err != nil {
		t.Fatalf("look up new user: %v", err)
	}
	return s.Client().WithToken(info.AccessToken), info
}

// NewAdmin registers a fresh account, makes it ADMIN directly in the test's database (the API has
// no way to grant roles), and signs in again so the access token carries the role.
func (s *Server) NewAdmin(t testing.TB) *Client {
	t.Helper()
	_, info := s.NewCustomer(t)
	if _, err := s.App.Pool.Exec(context.Background(), `UPDATE users SET role = 'ADMIN' WHERE id = $1`, info.Key); err != nil {
		t.Fatalf("make %s an admin: %v", info.Email, err)
	}
	c, _ := s.Login(t, info.Email, info.Password)
	return c
}

// Login signs in with email and password and returns a client carrying the new access token. It
// fails the test when sign-in does not succeed.
func (s *Server) Login(t testing.TB, email, password string) (*Client, UserInfo) {
	t.Helper()
	var out struct{ Login authAnswer }
	s.Client().Do(t, loginMutation, map[string]any{"input": map[string]any{"email": email, "password": password}}).Decode(t, &out)
	if len(out.Login.UserErrors) > 0 || out.Login.AccessToken == "" {
		t.Fatalf("login %s: %+v", email, out.Login.UserErrors)
	}
	info := UserInfo{
		ID: out.Login.User.ID, Email: out.Login.User.Email, Password: password, Name: out.Login.User.Name,
		AccessToken: out.Login.AccessToken, RefreshToken: out.Login.RefreshToken,
	}
	if err := s.App.Pool.QueryRow(context.Background(), `SELECT id FROM users WHERE email = lower(trim($1))`, email).Scan(&info.Key); err != nil {
		t.Fatalf("look up user: %v", err)
	}
	return s.Client().WithToken(info.AccessToken), info
}
