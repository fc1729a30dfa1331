-- Product streams (what a seller attaches to a product) and the app keys members authorise to
-- publish in their name. The messages themselves live behind the `StreamStore` port (its own SQLite
-- file, or NATS JetStream), not here: these two tables are small and shared by every instance.
CREATE TABLE stream_definitions (
    product_id TEXT NOT NULL,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    -- An example message (a JSON object's text) or '' for none.
    example TEXT NOT NULL,
    -- 0 keeps messages for ever (up to the server's own maximum).
    retention_days BIGINT NOT NULL,
    -- How many of the newest messages anyone may read as a preview on the product page; 0 for none.
    public_preview BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (product_id, name)
);

CREATE TABLE app_keys (
    -- The app's key (lower-case 0x hex), which signs messages.
    app_key TEXT NOT NULL,
    -- Whose name it publishes in, and for which Data Union.
    publisher TEXT NOT NULL,
    union_address TEXT NOT NULL,
    chain_id BIGINT NOT NULL,
    -- Unix seconds; the key publishes nothing after it.
    expires_at BIGINT NOT NULL,
    -- The publisher's EIP-191 signature of the grant's text, kept so anyone can check the grant.
    signature TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    -- Unix seconds, or 0 while the key stands.
    revoked_at BIGINT NOT NULL,
    PRIMARY KEY (app_key, publisher, union_address)
);
CREATE INDEX app_keys_by_publisher ON app_keys (publisher);
