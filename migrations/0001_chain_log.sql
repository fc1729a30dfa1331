-- The indexer's position, one row per stream (the chain follower is the stream `chain`).
CREATE TABLE checkpoints (
    stream TEXT PRIMARY KEY,
    block_number BIGINT NOT NULL,
    block_hash TEXT NOT NULL
);

-- Hashes of the blocks indexed in the unconfirmed window, to notice a reorg.
CREATE TABLE block_hashes (
    stream TEXT NOT NULL,
    block_number BIGINT NOT NULL,
    block_hash TEXT NOT NULL,
    PRIMARY KEY (stream, block_number)
);

-- Every contract event the indexer has taken, in chain order. All derived state (DU books,
-- products, subscriptions) is a function of this log, so replicas rebuild it identically.
-- Amounts inside `payload` are decimal strings.
CREATE TABLE chain_events (
    block_number BIGINT NOT NULL,
    tx_index BIGINT NOT NULL,
    log_index BIGINT NOT NULL,
    block_hash TEXT NOT NULL,
    contract TEXT NOT NULL,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    PRIMARY KEY (block_number, log_index)
);
CREATE INDEX chain_events_by_contract ON chain_events (contract, block_number, log_index);
