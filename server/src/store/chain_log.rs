//! The chain log: the indexer's checkpoint, the block hashes of the unconfirmed window, and every
//! event taken from the chain, in `(block, transaction index, log index)` order.

use std::collections::HashSet;

use alloy::primitives::{Address, B256};
use sqlx::Row;
use sqlx::any::AnyRow;

use super::{Store, StoreError, from_db, parse_db, to_db};
use crate::chain_event::{ChainEvent, StoredEvent};

/// Where a stream has indexed up to (inclusive), and the hash it saw for that block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Checkpoint {
    pub block: u64,
    pub hash: B256,
}

/// The end of a stream's log and its rollback count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LogPosition {
    pub block: u64,
    pub rollbacks: u64,
}

/// What one indexing step produces: the events of a block range, the hashes of its blocks that are
/// still within the reorg window, and the new checkpoint. Stored all together or not at all.
#[derive(Debug, Clone, Default)]
pub struct IndexedRange {
    /// The checkpoint the range continues from (`None`: the first range). The range is refused if
    /// the stored checkpoint is no longer it: a leader deposed while it read cannot write over what
    /// the next leader did meanwhile (a rollback, say).
    pub after: Option<Checkpoint>,
    pub events: Vec<StoredEvent>,
    pub block_hashes: Vec<(u64, B256)>,
    pub checkpoint: Option<Checkpoint>,
}

impl Store {
    pub async fn checkpoint(&self, stream: &str) -> Result<Option<Checkpoint>, StoreError> {
        let row = sqlx::query("SELECT block_number, block_hash FROM checkpoints WHERE stream = $1")
            .bind(stream)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|row| {
            Ok(Checkpoint {
                block: from_db("block_number", row.try_get(0)?)?,
                hash: parse_db("block_hash", row.try_get(1)?)?,
            })
        })
        .transpose()
    }

    /// How far the log goes and how often it was rolled back: what an instance following the log
    /// compares with what it has applied.
    pub async fn log_position(&self, stream: &str) -> Result<Option<LogPosition>, StoreError> {
        let row = sqlx::query("SELECT block_number, rollbacks FROM checkpoints WHERE stream = $1")
            .bind(stream)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|row| {
            Ok(LogPosition {
                block: from_db("block_number", row.try_get(0)?)?,
                rollbacks: from_db("rollbacks", row.try_get(1)?)?,
            })
        })
        .transpose()
    }

    /// Appends a range atomically. An event already stored is an error and nothing is written,
    /// so a range can never be counted twice.
    pub async fn append_range(&self, stream: &str, range: &IndexedRange) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        // First, so that on PostgreSQL the row lock orders two writers: the second sees the first's
        // checkpoint and is refused.
        if let Some(checkpoint) = range.checkpoint {
            move_checkpoint(&mut tx, stream, range.after, checkpoint).await?;
        }
        for event in &range.events {
            let (kind, payload) = stored_form(&event.event);
            let inserted = sqlx::query(
                "INSERT INTO chain_events \
                 (block_number, tx_index, log_index, block_hash, block_time, contract, kind, payload) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING",
            )
            .bind(to_db(event.block)?)
            .bind(to_db(event.tx_index)?)
            .bind(to_db(event.log_index)?)
            .bind(event.block_hash.to_string())
            .bind(to_db(event.time)?)
            .bind(event.contract.to_checksum(None))
            .bind(kind)
            .bind(payload)
            .execute(&mut *tx)
            .await?;
            if inserted.rows_affected() == 0 {
                return Err(StoreError::DuplicateEvent { block: event.block, log_index: event.log_index });
            }
        }
        for (block, hash) in &range.block_hashes {
            sqlx::query(
                "INSERT INTO block_hashes (stream, block_number, block_hash) VALUES ($1, $2, $3) \
                 ON CONFLICT (stream, block_number) DO UPDATE SET block_hash = excluded.block_hash",
            )
            .bind(stream)
            .bind(to_db(*block)?)
            .bind(hash.to_string())
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Forgets everything above `checkpoint.block` (events and block hashes) and moves the
    /// checkpoint there from `from`, in one transaction: what a reorg needs. Refused if the stored
    /// checkpoint is no longer `from`.
    pub async fn roll_back_to(
        &self,
        stream: &str,
        from: Checkpoint,
        checkpoint: Checkpoint,
    ) -> Result<u64, StoreError> {
        let above = to_db(checkpoint.block)?;
        let mut tx = self.pool.begin().await?;
        move_checkpoint(&mut tx, stream, Some(from), checkpoint).await?;
        let removed = sqlx::query("DELETE FROM chain_events WHERE block_number > $1")
            .bind(above)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        sqlx::query("DELETE FROM block_hashes WHERE stream = $1 AND block_number > $2")
            .bind(stream)
            .bind(above)
            .execute(&mut *tx)
            .await?;
        sqlx::query("UPDATE checkpoints SET rollbacks = rollbacks + 1 WHERE stream = $1")
            .bind(stream)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(removed)
    }

    /// Forgets block hashes at or below `block`: they are final and no reorg can reach them.
    pub async fn prune_block_hashes(&self, stream: &str, block: u64) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM block_hashes WHERE stream = $1 AND block_number <= $2")
            .bind(stream)
            .bind(to_db(block)?)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn block_hash(&self, stream: &str, block: u64) -> Result<Option<B256>, StoreError> {
        let row = sqlx::query("SELECT block_hash FROM block_hashes WHERE stream = $1 AND block_number = $2")
            .bind(stream)
            .bind(to_db(block)?)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|row| parse_db("block_hash", row.try_get(0)?)).transpose()
    }

    /// Every stored block hash of the stream, for finding where a reorg forked.
    pub async fn block_hashes(&self, stream: &str) -> Result<Vec<(u64, B256)>, StoreError> {
        let rows = sqlx::query("SELECT block_number, block_hash FROM block_hashes WHERE stream = $1")
            .bind(stream)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| Ok((from_db("block_number", row.try_get(0)?)?, parse_db("block_hash", row.try_get(1)?)?)))
            .collect()
    }

    /// The Data Unions whose creation is in the log.
    pub async fn union_addresses(&self) -> Result<HashSet<Address>, StoreError> {
        let rows = sqlx::query("SELECT contract FROM chain_events WHERE kind = $1")
            .bind(ChainEvent::CREATED)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(|row| parse_db("contract", row.try_get(0)?)).collect()
    }

    /// Events with `from <= block <= to`, in chain order.
    pub async fn events(&self, from: u64, to: u64) -> Result<Vec<StoredEvent>, StoreError> {
        let rows = sqlx::query(
            "SELECT block_number, tx_index, log_index, block_hash, block_time, contract, kind, payload \
             FROM chain_events WHERE block_number >= $1 AND block_number <= $2 \
             ORDER BY block_number, tx_index, log_index",
        )
        .bind(to_db(from)?)
        .bind(to_db(to.min(i64::MAX as u64))?)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(decode_event).collect()
    }
}

/// Moves the checkpoint from `from` to `to`, or refuses with [`StoreError::Fenced`] if the stored
/// checkpoint is not `from` (`None`: there must be none yet).
async fn move_checkpoint(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    stream: &str,
    from: Option<Checkpoint>,
    to: Checkpoint,
) -> Result<(), StoreError> {
    let moved = match from {
        None => {
            sqlx::query(
                "INSERT INTO checkpoints (stream, block_number, block_hash) VALUES ($1, $2, $3) \
                 ON CONFLICT (stream) DO NOTHING",
            )
            .bind(stream)
            .bind(to_db(to.block)?)
            .bind(to.hash.to_string())
            .execute(&mut **tx)
            .await?
        }
        Some(from) => {
            sqlx::query(
                "UPDATE checkpoints SET block_number = $2, block_hash = $3 \
                 WHERE stream = $1 AND block_number = $4 AND block_hash = $5",
            )
            .bind(stream)
            .bind(to_db(to.block)?)
            .bind(to.hash.to_string())
            .bind(to_db(from.block)?)
            .bind(from.hash.to_string())
            .execute(&mut **tx)
            .await?
        }
    };
    if moved.rows_affected() != 1 {
        return Err(StoreError::Fenced { expected: from.map(|c| c.block) });
    }
    Ok(())
}

/// An event as its two columns: its kind (the serde tag) and its fields as JSON.
fn stored_form(event: &ChainEvent) -> (&'static str, String) {
    // Addresses, hashes, integers and text: nothing in an event can fail to serialize.
    let mut tagged = serde_json::to_value(event).expect("a chain event serializes");
    (event.kind(), tagged["payload"].take().to_string())
}

fn decode_event(row: &AnyRow) -> Result<StoredEvent, StoreError> {
    let kind: String = row.try_get(6)?;
    let payload: String = row.try_get(7)?;
    let corrupt = || StoreError::Corrupt { column: "payload", value: format!("{kind} {payload}") };
    let fields: serde_json::Value = serde_json::from_str(&payload).map_err(|_| corrupt())?;
    let event =
        serde_json::from_value(serde_json::json!({ "kind": kind, "payload": fields })).map_err(|_| corrupt())?;
    Ok(StoredEvent {
        block: from_db("block_number", row.try_get(0)?)?,
        tx_index: from_db("tx_index", row.try_get(1)?)?,
        log_index: from_db("log_index", row.try_get(2)?)?,
        block_hash: parse_db("block_hash", row.try_get(3)?)?,
        time: from_db("block_time", row.try_get(4)?)?,
        contract: parse_db("contract", row.try_get(5)?)?,
        event,
    })
}
