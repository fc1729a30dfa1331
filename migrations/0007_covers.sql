-- Uploaded product covers, in the database so every instance on it serves the same ones (a file per
-- instance would be missing behind a load balancer on every instance but the one that took it).
-- `name` is the first 32 hex digits of the image's keccak256 and its extension, so one image is
-- stored once and a name never changes meaning; `product_metadata.cover` and drafts refer to it.
-- BYTEA is PostgreSQL's binary type; SQLite stores the bytes as they are under any declared type.
CREATE TABLE product_covers (
    name TEXT PRIMARY KEY,
    image BYTEA NOT NULL,
    created_at BIGINT NOT NULL
);
