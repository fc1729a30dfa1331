-- How many messages each publisher sent to the streams of the products paying a Data Union, per
-- day: the union dashboard's "who contributes". Counted as messages are stored (by whichever
-- instance stores them), so it needs no scan of the messages, wherever they are kept.
CREATE TABLE stream_contributions (
    union_address TEXT NOT NULL,
    publisher TEXT NOT NULL,
    -- Days since the epoch (UTC) of the server's clock when the messages were stored.
    day BIGINT NOT NULL,
    messages BIGINT NOT NULL,
    PRIMARY KEY (union_address, day, publisher)
);
