-- The catalog: sellers, a category tree, products with images, stock and rating aggregates.
-- +goose Up
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE sellers (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    slug       text NOT NULL UNIQUE,
    name       text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE categories (
    id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    parent_id bigint REFERENCES categories (id),
    slug      text NOT NULL UNIQUE,
    name      text NOT NULL,
    position  int NOT NULL DEFAULT 0
);
CREATE INDEX categories_parent_idx ON categories (parent_id);

CREATE TABLE products (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    slug        text NOT NULL UNIQUE,
    name        text NOT NULL,
    description text NOT NULL DEFAULT '',
    -- minor units of the store currency
    price       bigint NOT NULL CHECK (price >= 0),
    category_id bigint NOT NULL REFERENCES categories (id),
    seller_id   bigint NOT NULL REFERENCES sellers (id),
    published   boolean NOT NULL DEFAULT true,
    -- units sold, for the BEST_SELLING sort; kept by checkout
    sold_count  bigint NOT NULL DEFAULT 0,
    -- name over category over description; maintained by a trigger because it reads categories
    search      tsvector NOT NULL DEFAULT ''::tsvector,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX products_search_idx ON products USING gin (search);
CREATE INDEX products_name_trgm_idx ON products USING gin (name gin_trgm_ops);
CREATE INDEX products_category_idx ON products (category_id);
CREATE INDEX products_seller_idx ON products (seller_id);
CREATE INDEX products_price_idx ON products (price, id);
CREATE INDEX products_created_idx ON products (created_at DESC, id DESC);
CREATE INDEX products_sold_idx ON products (sold_count DESC, id);

-- +goose StatementBegin
CREATE FUNCTION products_search_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.search :=
        setweight(to_tsvector('english', coalesce(NEW.name, '')), 'A') ||
        setweight(to_tsvector('english', coalesce((SELECT name FROM categories WHERE id = NEW.category_id), '')), 'B') ||
        setweight(to_tsvector('english', coalesce(NEW.description, '')), 'C');
    RETURN NEW;
END
$$;
-- +goose StatementEnd

CREATE TRIGGER products_search_trg
    BEFORE INSERT OR UPDATE OF name, description, category_id ON products
    FOR EACH ROW EXECUTE FUNCTION products_search_update();

CREATE TABLE product_images (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    product_id bigint NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    position   int NOT NULL DEFAULT 0,
    url        text NOT NULL,
    alt_text   text
);
CREATE INDEX product_images_product_idx ON product_images (product_id, position);

-- Stock: reserved is held by unpaid orders; available = on_hand - reserved never goes negative.
CREATE TABLE inventory (
    product_id bigint PRIMARY KEY REFERENCES products (id) ON DELETE CASCADE,
    on_hand    int NOT NULL CHECK (on_hand >= 0),
    reserved   int NOT NULL DEFAULT 0 CHECK (reserved >= 0),
    available  int GENERATED ALWAYS AS (on_hand - reserved) STORED,
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT inventory_reserved_within_on_hand CHECK (reserved <= on_hand)
);

-- Rating aggregates, updated when reviews change; average = rating_sum / rating_count.
CREATE TABLE product_ratings (
    product_id   bigint PRIMARY KEY REFERENCES products (id) ON DELETE CASCADE,
    rating_count int NOT NULL DEFAULT 0 CHECK (rating_count >= 0),
    rating_sum   int NOT NULL DEFAULT 0 CHECK (rating_sum >= 0),
    average      numeric(3, 2) GENERATED ALWAYS AS (
        CASE WHEN rating_count = 0 THEN 0 ELSE round(rating_sum::numeric / rating_count, 2) END) STORED
);
CREATE INDEX product_ratings_average_idx ON product_ratings (average DESC, product_id);

-- +goose Down
DROP TABLE product_ratings;
DROP TABLE inventory;
DROP TABLE product_images;
DROP TABLE products;
DROP FUNCTION products_search_update;
DROP TABLE categories;
DROP TABLE sellers;
