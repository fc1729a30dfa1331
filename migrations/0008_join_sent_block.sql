-- The block the agent's `addMembers` of a sent request was mined in (NULL while it is in flight). A
-- sent request whose member has not joined since that block, once the log is past it, was lost to a
-- reorg and is sent again.
ALTER TABLE join_requests ADD COLUMN sent_block BIGINT;
