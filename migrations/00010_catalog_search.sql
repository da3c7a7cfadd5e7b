-- Search and listing refinements of the catalog.
-- +goose Up

-- The search vector's B weight now carries the product's category and every category above it,
-- so "audio" finds headphones filed under Audio > Headphones.
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION products_search_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.search :=
        setweight(to_tsvector('english', coalesce(NEW.name, '')), 'A') ||
        setweight(to_tsvector('english', coalesce((
            WITH RECURSIVE up (id, parent_id, name, depth) AS (
                SELECT id, parent_id, name, 0 FROM categories WHERE id = NEW.category_id
                UNION ALL
                SELECT c.id, c.parent_id, c.name, up.depth + 1
                FROM categories c JOIN up ON c.id = up.parent_id
                WHERE up.depth < 10
            )
            SELECT string_agg(name, ' ' ORDER BY depth) FROM up), '')), 'B') ||
        setweight(to_tsvector('english', coalesce(NEW.description, '')), 'C');
    RETURN NEW;
END
$$;
-- +goose StatementEnd

-- Renaming or moving a category rewrites the vectors of the products below it: naming
-- category_id in the SET list fires the products trigger even though the value stays.
-- +goose StatementBegin
CREATE FUNCTION categories_search_refresh() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE products SET category_id = category_id
    WHERE category_id IN (
        WITH RECURSIVE down (id, depth) AS (
            SELECT NEW.id, 0
            UNION ALL
            SELECT c.id, down.depth + 1 FROM categories c JOIN down ON c.parent_id = down.id
            WHERE down.depth < 10
        )
        SELECT id FROM down);
    RETURN NULL;
END
$$;
-- +goose StatementEnd

CREATE TRIGGER categories_search_refresh_trg
    AFTER UPDATE OF name, parent_id ON categories
    FOR EACH ROW EXECUTE FUNCTION categories_search_refresh();

-- Vectors written before this migration get the category path too.
UPDATE products SET category_id = category_id;

-- BEST_SELLING pages by (sold_count DESC, id DESC); the first index ran id the other way.
DROP INDEX IF EXISTS products_sold_idx;
CREATE INDEX products_sold_idx ON products (sold_count DESC, id DESC);

-- +goose Down
DROP INDEX IF EXISTS products_sold_idx;
CREATE INDEX products_sold_idx ON products (sold_count DESC, id);
DROP TRIGGER categories_search_refresh_trg ON categories;
DROP FUNCTION categories_search_refresh;
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION products_search_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.search :=
        setweight(to_tsvector('english', coalesce(NEW.name, '')), 'A') ||
        setweight(to_tsvector('english', coalesce((SELECT name FROM categories WHERE id = NEW.category_id), '')), 'B') ||
        setweight(to_tsvector('english', coalesce(NEW.description, '')), 'C');
    RETURN NEW;
END
$$;
-- +goose StatementEnd
