-- The most bytes of messages a stream keeps, as its seller set it; 0 keeps as much as the server
-- keeps (`stream_retention_bytes`). Past it the oldest messages go first.
ALTER TABLE stream_definitions ADD COLUMN retention_bytes BIGINT NOT NULL DEFAULT 0;
