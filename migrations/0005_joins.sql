-- Join requests: one row per (union, member), the latest request. `status` is pending, approved,
-- rejected, sent (the agent sent addMembers) or joined (the indexer saw MemberJoined).
-- `issued_at` is the signed time of the request: a new request must be newer (no replay).
-- Times are Unix seconds; addresses are lower-case 0x hex.
CREATE TABLE join_requests (
    union_address TEXT NOT NULL,
    member TEXT NOT NULL,
    status TEXT NOT NULL,
    issued_at BIGINT NOT NULL,
    signature TEXT NOT NULL,
    secret_id TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (union_address, member)
);
CREATE INDEX join_requests_by_status ON join_requests (status);

-- Shared secrets: a valid one approves a join at once. Only keccak256 of the secret is kept.
CREATE TABLE join_secrets (
    id TEXT PRIMARY KEY,
    union_address TEXT NOT NULL,
    name TEXT NOT NULL,
    secret_hash TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX join_secrets_by_union ON join_secrets (union_address);

-- Removals the owner asked for, waiting for the agent's partMembers.
CREATE TABLE part_requests (
    union_address TEXT NOT NULL,
    member TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (union_address, member)
);
