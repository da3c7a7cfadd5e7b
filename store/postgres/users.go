package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"storefront/domain/apperr"
	"storefront/domain/identity"
)

// Users implements identity.UserStore and identity.AddressStore.
type Users struct {
	pool *pgxpool.Pool
}

// NewUsers returns the account store over pool.
func NewUsers(pool *pgxpool.Pool) *Users { return &Users{pool: pool} }

var (
	_ identity.UserStore    = (*Users)(nil)
	_ identity.AddressStore = (*Users)(nil)
)

const userColumns = `id, email, name, role, password_hash, created_at`

func scanUser(row pgx.Row) (identity.User, error) {
	var u identity.User
	var role string
	err := row.Scan(&u.ID, &u.Email, &u.Name, &role, &u.PasswordHash, &u.CreatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return u, apperr.ErrNotFound
	}
	u.Role = identity.Role(role)
	return u, err
}

// CreateUser inserts an account; a taken email is identity.ErrEmailTaken.
func (s *Users) CreateUser(ctx context.Context, u identity.User) (identity.User, error) {
	created, err := scanUser(s.pool.QueryRow(ctx,
		`INSERT INTO users (email, name, password_hash, role) VALUES ($1, $2, $3, $4)
		 RETURNING `+userColumns, u.Email, u.Name, u.PasswordHash, string(u.Role)))
	if pgCode(err) == codeUniqueViolation && pgConstraint(err) == "users_email_key" {
		return identity.User{}, identity.ErrEmailTaken
	}
	if err != nil {
		return identity.User{}, fmt.Errorf("insert user: %w", err)
	}
	return created, nil
}

// UserByEmail finds an account by normalised email.
func (s *Users) UserByEmail(ctx context.Context, email string) (identity.User, error) {
	u, err := scanUser(s.pool.QueryRow(ctx, `SELECT `+userColumns+` FROM users WHERE email = $1`, email))
	if err != nil && !errors.Is(err, apperr.ErrNotFound) {
		return u, fmt.Errorf("select user by email: %w", err)
	}
	return u, err
}

// UserByID finds an account by id.
func (s *Users) UserByID(ctx context.Context, id int64) (identity.User, error) {
	u, err := scanUser(s.pool.QueryRow(ctx, `SELECT `+userColumns+` FROM users WHERE id = $1`, id))
	if err != nil && !errors.Is(err, apperr.ErrNotFound) {
		return u, fmt.Errorf("select user %d: %w", id, err)
	}
	return u, err
}

// UpdateUserName changes the display name.
func (s *Users) UpdateUserName(ctx context.Context, id int64, name string) (identity.User, error) {
	u, err := scanUser(s.pool.QueryRow(ctx,
		`UPDATE users SET name = $2, updated_at = now() WHERE id = $1 RETURNING `+userColumns, id, name))
	if err != nil && !errors.Is(err, apperr.ErrNotFound) {
		return u, fmt.Errorf("update name of user %d: %w", id, err)
	}
	return u, err
}

// UpdatePasswordHash replaces the stored hash.
func (s *Users) UpdatePasswordHash(ctx context.Context, id int64, hash string) error {
	tag, err := s.pool.Exec(ctx, `UPDATE users SET password_hash = $2, updated_at = now() WHERE id = $1`, id, hash)
	if err != nil {
		return fmt.Errorf("update password of user %d: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return apperr.ErrNotFound
	}
	return nil
}

// SetRole changes an account's role. The API has no mutation for it; operators and seeds use it.
func (s *Users) SetRole(ctx context.Context, id int64, role identity.Role) error {
	tag, err := s.pool.Exec(ctx, `UPDATE users SET role = $2, updated_at = now() WHERE id = $1`, id, string(role))
	if err != nil {
		return fmt.Errorf("set role of user %d: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return apperr.ErrNotFound
	}
	return nil
}

const addressColumns = `id, user_id, name, line1, coalesce(line2, ''), city, coalesce(region, ''), postal_code, country, is_default`

func scanAddress(row pgx.Row) (identity.Address, error) {
	var a identity.Address
	err := row.Scan(&a.ID, &a.UserID, &a.Name, &a.Line1, &a.Line2, &a.City, &a.Region, &a.PostalCode, &a.Country, &a.IsDefault)
	if errors.Is(err, pgx.ErrNoRows) {
		return a, apperr.ErrNotFound
	}
	return a, err
}

// nullIfEmpty stores an absent optional part as NULL.
func nullIfEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// Addresses lists the user's addresses, the default first, then newest first.
func (s *Users) Addresses(ctx context.Context, userID int64) ([]identity.Address, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+addressColumns+` FROM addresses WHERE user_id = $1
		ORDER BY is_default DESC, id DESC`, userID)
	if err != nil {
		return nil, fmt.Errorf("select addresses: %w", err)
	}
	as, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (identity.Address, error) { return scanAddress(r) })
	if err != nil {
		return nil, fmt.Errorf("select addresses: %w", err)
	}
	return as, nil
}

// Address returns one of the user's addresses.
func (s *Users) Address(ctx context.Context, userID, id int64) (identity.Address, error) {
	a, err := scanAddress(s.pool.QueryRow(ctx, `SELECT `+addressColumns+` FROM addresses WHERE id = $1 AND user_id = $2`, id, userID))
	if err != nil && !errors.Is(err, apperr.ErrNotFound) {
		return a, fmt.Errorf("select address: %w", err)
	}
	return a, err
}

// lockUser serialises address writes of one user, so two concurrent "make default" requests never
// race on the one-default index.
func lockUser(ctx context.Context, tx pgx.Tx, userID int64) error {
	var id int64
	err := tx.QueryRow(ctx, `SELECT id FROM users WHERE id = $1 FOR UPDATE`, userID).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return apperr.ErrNotFound
	}
	return err
}

// AddAddress saves a new address; it becomes the default when asked or when there is none yet.
// The count and the insert run under the user's row lock, so concurrent adds cannot pass the limit.
func (s *Users) AddAddress(ctx context.Context, userID int64, f identity.AddressFields, makeDefault bool, limit int) (identity.Address, error) {
	var a identity.Address
	err := InTx(ctx, s.pool, func(tx pgx.Tx) error {
		if err := lockUser(ctx, tx, userID); err != nil {
			return err
		}
		var n int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM addresses WHERE user_id = $1`, userID).Scan(&n); err != nil {
			return err
		}
		if n >= limit {
			return identity.ErrTooManyAddresses
		}
		if makeDefault {
			if _, err := tx.Exec(ctx, `UPDATE addresses SET is_default = false WHERE user_id = $1 AND is_default`, userID); err != nil {
				return err
			}
		}
		var err error
		a, err = scanAddress(tx.QueryRow(ctx, `INSERT INTO addresses
			(user_id, name, line1, line2, city, region, postal_code, country, is_default)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8,
			        $9 OR NOT EXISTS (SELECT 1 FROM addresses WHERE user_id = $1 AND is_default))
			RETURNING `+addressColumns,
			userID, f.Name, f.Line1, nullIfEmpty(f.Line2), f.City, nullIfEmpty(f.Region), f.PostalCode, f.Country, makeDefault))
		return err
	})
	if err != nil {
		return identity.Address{}, fmt.Errorf("insert address: %w", err)
	}
	return a, nil
}

// UpdateAddress rewrites one of the user's addresses.
func (s *Users) UpdateAddress(ctx context.Context, userID, id int64, f identity.AddressFields, makeDefault bool) (identity.Address, error) {
	var a identity.Address
	err := InTx(ctx, s.pool, func(tx pgx.Tx) error {
		if err := lockUser(ctx, tx, userID); err != nil {
			return err
		}
		if makeDefault {
			if _, err := tx.Exec(ctx, `UPDATE addresses SET is_default = false WHERE user_id = $1 AND is_default AND id <> $2`, userID, id); err != nil {
				return err
			}
		}
		var err error
		a, err = scanAddress(tx.QueryRow(ctx, `UPDATE addresses SET name = $3, line1 = $4, line2 = $5, city = $6,
			region = $7, postal_code = $8, country = $9, is_default = is_default OR $10
			WHERE id = $1 AND user_id = $2 RETURNING `+addressColumns,
			id, userID, f.Name, f.Line1, nullIfEmpty(f.Line2), f.City, nullIfEmpty(f.Region), f.PostalCode, f.Country, makeDefault))
		return err
	})
	if errors.Is(err, apperr.ErrNotFound) {
		return identity.Address{}, err
	}
	if err != nil {
		return identity.Address{}, fmt.Errorf("update address: %w", err)
	}
	return a, nil
}

// RemoveAddress deletes one of the user's addresses, promoting the newest remaining one when the
// default goes.
func (s *Users) RemoveAddress(ctx context.Context, userID, id int64) error {
	err := InTx(ctx, s.pool, func(tx pgx.Tx) error {
		if err := lockUser(ctx, tx, userID); err != nil {
			return err
		}
		var wasDefault bool
		err := tx.QueryRow(ctx, `DELETE FROM addresses WHERE id = $1 AND user_id = $2 RETURNING is_default`, id, userID).Scan(&wasDefault)
		if errors.Is(err, pgx.ErrNoRows) {
			return apperr.ErrNotFound
		}
		if err != nil || !wasDefault {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE addresses SET is_default = true
			WHERE id = (SELECT max(id) FROM addresses WHERE user_id = $1)`, userID)
		return err
	})
	if err != nil && !errors.Is(err, apperr.ErrNotFound) {
		return fmt.Errorf("delete address: %w", err)
	}
	return err
}
