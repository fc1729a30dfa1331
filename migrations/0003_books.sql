-- Books the operator committed, in their canonical JSON, so any replica can serve them and anyone
-- can check them against the root and bookHash on chain.
CREATE TABLE books (
    union_address TEXT NOT NULL,
    block_number BIGINT NOT NULL,
    root TEXT NOT NULL,
    book_hash TEXT NOT NULL,
    book TEXT NOT NULL,
    PRIMARY KEY (union_address, block_number)
);
