-- Product drafts: what a seller typed in the editor, saved per signed-in owner. `body` is the draft as
-- JSON (every field as typed); `product_id` is the Marketplace id once published, else empty.
-- Times are Unix seconds; addresses are lower-case 0x hex.
CREATE TABLE product_drafts (
    id TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    body TEXT NOT NULL,
    product_id TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX product_drafts_by_owner ON product_drafts (owner, updated_at);

-- What the marketplace shows of a product beyond the chain. Keyed by product and owner: a row counts
-- only while its owner is the product's owner on chain, so nobody can describe another's product.
-- `cover` is a file name in the data folder's `covers/`, or empty.
CREATE TABLE product_metadata (
    product_id TEXT NOT NULL,
    owner TEXT NOT NULL,
    description TEXT NOT NULL,
    category TEXT NOT NULL,
    cover TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (product_id, owner)
);
CREATE INDEX product_metadata_by_category ON product_metadata (category);
