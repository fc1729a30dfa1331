-- Chain events are stored as typed events (`chain_event::ChainEvent`: its kind and its fields), no
-- longer as the engine's events-file lines and ad hoc payloads. The log is a function of the chain,
-- so it is read again rather than converted: the indexer starts over from the deployment's block
-- and every instance rebuilds the same state from the new log. Books, products' drafts and
-- metadata, join requests and sessions are kept.
DELETE FROM chain_events;
DELETE FROM block_hashes;
DELETE FROM checkpoints;
