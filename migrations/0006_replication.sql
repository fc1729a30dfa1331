-- Counts the rollbacks of a stream, so an instance following the log sees a reorg even when the log has
-- grown past its old checkpoint again before it looked.
ALTER TABLE checkpoints ADD COLUMN rollbacks BIGINT NOT NULL DEFAULT 0;
