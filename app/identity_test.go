package app_test

import (
	"testing"

	"storefront/testsupport"
)

const meQuery = `{ me { id email name role } }`

type meAnswer struct {
	Me *struct {
		ID, Email, Name, Role string
	}
}

func TestRegisterLoginMeLogout(t *testing.T) {
	t.Parallel()
	srv := testsupport.StartServer(t, testsupport.Config(t))
	_, info := srv.NewCustomer(t)

	c, login := srv.Login(t, info.Email, info.Password)
	var me meAnswer
	c.Do(t, meQuery, nil).Decode(t, &me)
	if me.Me == nil || me.Me.Email != info.Email || me.Me.Role != "CUSTOMER" || me.Me.ID != login.ID {
		t.Fatalf("me = %+v; want %s as CUSTOMER", me.Me, info.Email)
	}

	var out struct{ Logout bool }
	c.Do(t, `mutation { logout }`, nil).Decode(t, &out)
	if !out.Logout {
		t.Fatal("logout = false")
	}
	resp := c.Do(t, meQuery, nil)
	if resp.ErrorCode() != "UNAUTHENTICATED" || resp.Status != 401 {
		t.Fatalf("after logout: status %d code %q; want 401 UNAUTHENTICATED", resp.Status, resp.ErrorCode())
	}

	// A guest is just a guest.
	var guest meAnswer
	srv.Client().Do(t, meQuery, nil).Decode(t, &guest)
	if guest.Me != nil {
		t.Fatalf("guest me = %+v; want null", guest.Me)
	}
}

func TestAdminOnlyMutationNeedsAdminRole(t *testing.T) {
	t.Parallel()
	srv := testsupport.StartServer(t, testsupport.Config(t))
	customer, _ := srv.NewCustomer(t)
	const q = `mutation { inventorySet(productId: "UHJvZHVjdDox", onHand: 5) { userErrors { code } } }`
	if code := customer.Do(t, q, nil).ErrorCode(); code != "FORBIDDEN" {
		t.Errorf("customer: code %q; want FORBIDDEN", code)
	}
	if code := srv.Client().Do(t, q, nil).ErrorCode(); code != "UNAUTHENTICATED" {
		t.Errorf("guest: code %q; want UNAUTHENTICATED", code)
	}
	admin := srv.NewAdmin(t)
	if code := admin.Do(t, q, nil).ErrorCode(); code == "FORBIDDEN" || code == "UNAUTHENTICATED" {
		t.Errorf("admin: code %q; want the directive to let an admin through", code)
	}
}
