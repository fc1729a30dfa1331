//! The embedded `StreamStore`: one SQLite file in the data folder, live fan-out in process. For one
//! instance (what `coop dev` runs); several instances share messages through NATS JetStream instead.

use std::collections::HashMap;
use std::path::Path;
use std::str::FromStr;
use std::sync::Mutex;

use alloy::primitives::{Address, Bytes};
use anyhow::Context;
use async_trait::async_trait;
use coop::stream::{Message, SignedMessage};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteRow};
use sqlx::{Row, SqlitePool};
use tokio::sync::broadcast;

use super::store::{AppendError, BatchError, Stored, StreamKey, StreamStore};

/// How many messages a slow live reader may fall behind before it goes back to reading the log.
const FEED_CAPACITY: usize = 1024;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS messages (
    stream TEXT NOT NULL,
    position INTEGER NOT NULL,
    received_at INTEGER NOT NULL,
    publisher TEXT NOT NULL,
    sequence INTEGER NOT NULL,
    timestamp INTEGER NOT NULL,
    signer TEXT NOT NULL,
    signature BLOB NOT NULL,
    content TEXT NOT NULL,
    PRIMARY KEY (stream, position)
);
CREATE UNIQUE INDEX IF NOT EXISTS messages_by_publisher ON messages (stream, publisher, sequence);
CREATE INDEX IF NOT EXISTS messages_by_time ON messages (stream, timestamp);
CREATE TABLE IF NOT EXISTS stream_heads (
    stream TEXT PRIMARY KEY,
    next_position INTEGER NOT NULL
);
";

pub struct Embedded {
    pool: SqlitePool,
    /// One append at a time: the offset and the sequence check are decided together.
    writer: tokio::sync::Mutex<()>,
    feeds: Mutex<HashMap<StreamKey, broadcast::Sender<Stored>>>,
}

impl Embedded {
    /// Opens (or creates) the messages file at `path`.
    pub async fn open(path: &Path) -> anyhow::Result<Self> {
        if let Some(folder) = path.parent() {
            std::fs::create_dir_all(folder).with_context(|| format!("creating {}", folder.display()))?;
        }
        let options = SqliteConnectOptions::from_str("sqlite:")?
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal);
        Self::with(options).await.with_context(|| format!("opening the messages in {}", path.display()))
    }

    /// A store in memory, for tests.
    pub async fn in_memory() -> anyhow::Result<Self> {
        // One connection: each in-memory connection would be a database of its own.
        let options = SqliteConnectOptions::from_str("sqlite::memory:")?;
        let pool = SqlitePoolOptions::new().max_connections(1).connect_with(options).await?;
        Self::from_pool(pool).await
    }

    async fn with(options: SqliteConnectOptions) -> anyhow::Result<Self> {
        let pool = SqlitePoolOptions::new().max_connections(4).connect_with(options).await?;
        Self::from_pool(pool).await
    }

    async fn from_pool(pool: SqlitePool) -> anyhow::Result<Self> {
        sqlx::raw_sql(sqlx::AssertSqlSafe(SCHEMA)).execute(&pool).await?;
        Ok(Self { pool, writer: tokio::sync::Mutex::new(()), feeds: Mutex::new(HashMap::new()) })
    }

    fn feed(&self, stream: &StreamKey) -> broadcast::Sender<Stored> {
        let mut feeds = self.feeds.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        // Feeds nobody reads any more are dropped as new ones are made.
        feeds.retain(|_, feed| feed.receiver_count() > 0);
        feeds.entry(stream.clone()).or_insert_with(|| broadcast::channel(FEED_CAPACITY).0).clone()
    }
}

fn to_db(value: u64) -> anyhow::Result<i64> {
    i64::try_from(value).context("a number above the largest SQLite integer")
}

fn from_db(value: i64) -> anyhow::Result<u64> {
    u64::try_from(value).context("a negative number where none can be")
}

fn stored(row: &SqliteRow, stream: &StreamKey) -> anyhow::Result<Stored> {
    let address = |column: &str| -> anyhow::Result<Address> {
        let text: String = row.try_get(column)?;
        text.parse().with_context(|| format!("stored {column} {text:?}"))
    };
    let content: String = row.try_get("content")?;
    let signature: Vec<u8> = row.try_get("signature")?;
    Ok(Stored {
        offset: from_db(row.try_get("position")?)?,
        received_at: from_db(row.try_get("received_at")?)?,
        message: SignedMessage {
            message: Message {
                product: stream.product,
                stream: stream.name.clone(),
                publisher: address("publisher")?,
                sequence: from_db(row.try_get("sequence")?)?,
                timestamp: from_db(row.try_get("timestamp")?)?,
                content: content.parse().context("stored content")?,
            },
            signer: address("signer")?,
            signature: Bytes::from(signature),
        },
    })
}

#[async_trait]
impl StreamStore for Embedded {
    async fn append(&self, message: SignedMessage, received_at: u64) -> Result<u64, AppendError> {
        let offsets = self.append_all(vec![message], received_at).await.map_err(|batch| batch.error)?;
        offsets.first().copied().context("one message stored, yet no offset").map_err(AppendError::Store)
    }

    /// All or none: the batch is one transaction.
    async fn append_all(&self, messages: Vec<SignedMessage>, received_at: u64) -> Result<Vec<u64>, BatchError> {
        let Some(first) = messages.first() else { return Ok(Vec::new()) };
        let stream = StreamKey::of(first);
        let key = stream.to_string();
        let failed = |at: usize| move |error: sqlx::Error| BatchError { at, error: AppendError::Store(error.into()) };
        let _writing = self.writer.lock().await;
        let mut tx = self.pool.begin().await.map_err(failed(0))?;
        // Each publisher's last sequence number, stored or earlier in this batch.
        let mut last: HashMap<Address, Option<u64>> = HashMap::new();
        for (at, message) in messages.iter().enumerate() {
            if StreamKey::of(message) != stream {
                let error =
                    anyhow::anyhow!("a batch goes to one stream; this message is for {}", StreamKey::of(message));
                return Err(BatchError { at, error: AppendError::Store(error) });
            }
            let publisher = message.message.publisher;
            let previous = match last.get(&publisher) {
                Some(previous) => *previous,
                None => {
                    let stored: Option<i64> =
                        sqlx::query_scalar("SELECT MAX(sequence) FROM messages WHERE stream = ? AND publisher = ?")
                            .bind(&key)
                            .bind(format!("{publisher:#x}"))
                            .fetch_one(&mut *tx)
                            .await
                            .map_err(failed(at))?;
                    stored.map(from_db).transpose().map_err(|error| BatchError { at, error: error.into() })?
                }
            };
            let sent = message.message.sequence;
            if let Some(last) = previous
                && sent <= last
            {
                return Err(BatchError { at, error: AppendError::SequenceNotAfter { publisher, last, sent } });
            }
            last.insert(publisher, Some(sent));
        }
        let next: Option<i64> = sqlx::query_scalar("SELECT next_position FROM stream_heads WHERE stream = ?")
            .bind(&key)
            .fetch_optional(&mut *tx)
            .await
            .map_err(failed(0))?;
        let start = next.unwrap_or(0);
        let received = to_db(received_at).map_err(|error| BatchError { at: 0, error: error.into() })?;
        for (at, message) in messages.iter().enumerate() {
            let numbers = to_db(message.message.sequence).and_then(|n| Ok((n, to_db(message.message.timestamp)?)));
            let (sequence, timestamp) = numbers.map_err(|error| BatchError { at, error: error.into() })?;
            sqlx::query(
                "INSERT INTO messages (stream, position, received_at, publisher, sequence, timestamp, signer, signature, content) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            )
            .bind(&key)
            .bind(start + at as i64)
            .bind(received)
            .bind(format!("{:#x}", message.message.publisher))
            .bind(sequence)
            .bind(timestamp)
            .bind(format!("{:#x}", message.signer))
            .bind(message.signature.to_vec())
            .bind(message.message.content.as_str())
            .execute(&mut *tx)
            .await
            .map_err(failed(at))?;
        }
        sqlx::query(
            "INSERT INTO stream_heads (stream, next_position) VALUES (?, ?) \
             ON CONFLICT (stream) DO UPDATE SET next_position = excluded.next_position",
        )
        .bind(&key)
        .bind(start + messages.len() as i64)
        .execute(&mut *tx)
        .await
        .map_err(failed(0))?;
        tx.commit().await.map_err(failed(0))?;
        let start = from_db(start).map_err(|error| BatchError { at: 0, error: error.into() })?;
        // Sent while still holding the writer, so live readers get messages in offset order. Nobody
        // listening is not an error.
        let feed = self.feed(&stream);
        let mut offsets = Vec::with_capacity(messages.len());
        for (offset, message) in (start..).zip(messages) {
            let _ = feed.send(Stored { offset, received_at, message });
            offsets.push(offset);
        }
        Ok(offsets)
    }

    async fn read(&self, stream: &StreamKey, from: u64, limit: usize) -> anyhow::Result<Vec<Stored>> {
        let rows = sqlx::query("SELECT * FROM messages WHERE stream = ? AND position >= ? ORDER BY position LIMIT ?")
            .bind(stream.to_string())
            .bind(to_db(from)?)
            .bind(to_db(limit as u64)?)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(|row| stored(row, stream)).collect()
    }

    async fn read_between(
        &self,
        stream: &StreamKey,
        since: u64,
        until: u64,
        from: u64,
        limit: usize,
    ) -> anyhow::Result<Vec<Stored>> {
        let rows = sqlx::query(
            "SELECT * FROM messages WHERE stream = ? AND timestamp >= ? AND timestamp < ? AND position >= ? \
             ORDER BY position LIMIT ?",
        )
        .bind(stream.to_string())
        .bind(to_db(since)?)
        .bind(to_db(until.min(i64::MAX as u64))?)
        .bind(to_db(from)?)
        .bind(to_db(limit as u64)?)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|row| stored(row, stream)).collect()
    }

    async fn next_offset(&self, stream: &StreamKey) -> anyhow::Result<u64> {
        let next: Option<i64> = sqlx::query_scalar("SELECT next_position FROM stream_heads WHERE stream = ?")
            .bind(stream.to_string())
            .fetch_optional(&self.pool)
            .await?;
        from_db(next.unwrap_or(0))
    }

    async fn last_sequence(&self, stream: &StreamKey, publisher: Address) -> anyhow::Result<Option<u64>> {
        let last: Option<i64> =
            sqlx::query_scalar("SELECT MAX(sequence) FROM messages WHERE stream = ? AND publisher = ?")
                .bind(stream.to_string())
                .bind(format!("{publisher:#x}"))
                .fetch_one(&self.pool)
                .await?;
        last.map(from_db).transpose()
    }

    async fn watch(&self, stream: &StreamKey) -> anyhow::Result<broadcast::Receiver<Stored>> {
        Ok(self.feed(stream).subscribe())
    }

    async fn trim(&self, stream: &StreamKey, before: u64) -> anyhow::Result<u64> {
        let _writing = self.writer.lock().await;
        let deleted = sqlx::query("DELETE FROM messages WHERE stream = ? AND received_at < ?")
            .bind(stream.to_string())
            .bind(to_db(before)?)
            .execute(&self.pool)
            .await?;
        Ok(deleted.rows_affected())
    }
}
