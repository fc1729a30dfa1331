-- Sign-in with Ethereum: nonces the server handed out. Each is good for one sign-in before it
-- expires; a used one is kept (until well after its expiry) so a replay is told apart from a typo.
-- Times are Unix seconds.
CREATE TABLE sign_in_nonces (
    nonce TEXT PRIMARY KEY,
    expires_at BIGINT NOT NULL,
    used_at BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX sign_in_nonces_by_expiry ON sign_in_nonces (expires_at);

-- Browser sessions (tower-sessions records): the id is the cookie's secret value, `data` the
-- session's fields as JSON.
CREATE TABLE sessions (
    id TEXT PRIMARY KEY,
    data TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_by_expiry ON sessions (expires_at);
