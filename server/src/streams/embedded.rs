//! The embedded `StreamStore`: one SQLite file in the data folder, live fan-out in process. For one
//! instance (what `coop dev` runs); several instances share messages through NATS JetStream instead.

use std::collections::HashMap;
use std::path::Path;
use std::str::FromStr;
use std::sync::{Arc, Mutex};

use alloy::primitives::{Address, Bytes};
use anyhow::Context;
use async_trait::async_trait;
use coop::stream::{Message, SignedMessage};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteRow, SqliteSynchronous};
use sqlx::{Row, SqlitePool};
use tokio::sync::{broadcast, mpsc, oneshot};

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

/// What a message is counted beyond its content and signature, for [`StreamStore::keep_bytes`]: its
/// offset, times, publisher, sequence number and signer as stored, rounded up.
const ENVELOPE_BYTES: u16 = 128;

/// Messages one INSERT statement stores: 9 values each, well within SQLite's 32,766.
const ROWS_PER_INSERT: usize = 100;

/// How many publish requests one transaction takes at most.
const MOST_IN_GROUP: usize = 256;

pub struct Embedded {
    pool: SqlitePool,
    /// Appends waiting for the writer (see [`write`]).
    appends: mpsc::Sender<Append>,
    /// Held while the writer writes a group, and while trimming.
    writer: Arc<tokio::sync::Mutex<()>>,
    feeds: Arc<Feeds>,
}

/// One request's messages, and where to answer.
struct Append {
    messages: Vec<SignedMessage>,
    received_at: u64,
    answer: oneshot::Sender<Result<Vec<u64>, BatchError>>,
}

/// Each stream's live feed.
#[derive(Default)]
struct Feeds(Mutex<HashMap<StreamKey, broadcast::Sender<Stored>>>);

impl Feeds {
    fn of(&self, stream: &StreamKey) -> broadcast::Sender<Stored> {
        let mut feeds = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        // Feeds nobody reads any more are dropped as new ones are made.
        feeds.retain(|_, feed| feed.receiver_count() > 0);
        feeds.entry(stream.clone()).or_insert_with(|| broadcast::channel(FEED_CAPACITY).0).clone()
    }
}

impl Embedded {
    /// Opens (or creates) the messages file at `path`.
    pub async fn open(path: &Path) -> anyhow::Result<Self> {
        if let Some(folder) = path.parent() {
            std::fs::create_dir_all(folder).with_context(|| format!("creating {}", folder.display()))?;
        }
        // A commit is in the write-ahead log before the publisher hears of it, so a process that
        // stops or crashes loses nothing acknowledged; the log reaches the disk at each checkpoint,
        // not at each commit, so a power loss may lose the last moments. That is NATS JetStream's
        // default too (it syncs every two minutes), and it keeps a slow disk's sync out of every
        // publish and every live reader's wait.
        let options = SqliteConnectOptions::from_str("sqlite:")?
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal);
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

    /// Starts the writer, which lives as long as the store.
    async fn from_pool(pool: SqlitePool) -> anyhow::Result<Self> {
        sqlx::raw_sql(sqlx::AssertSqlSafe(SCHEMA)).execute(&pool).await?;
        let (appends, waiting) = mpsc::channel(4 * MOST_IN_GROUP);
        let writer = Arc::new(tokio::sync::Mutex::new(()));
        let feeds = Arc::new(Feeds::default());
        tokio::spawn(write(pool.clone(), waiting, writer.clone(), feeds.clone()));
        Ok(Self { pool, appends, writer, feeds })
    }
}

/// The one writer: takes the appends waiting, up to [`MOST_IN_GROUP`], and stores them in one
/// transaction, each request under a savepoint of its own, so one request's refusal leaves the
/// others stored and each request is still all or none. One commit for many requests is what lets
/// publishers that send one message at a time be many: the commit is the costly part. Live readers
/// hear of messages only once they are committed, in offset order.
async fn write(
    pool: SqlitePool,
    mut waiting: mpsc::Receiver<Append>,
    writer: Arc<tokio::sync::Mutex<()>>,
    feeds: Arc<Feeds>,
) {
    let mut group = Vec::with_capacity(MOST_IN_GROUP);
    while waiting.recv_many(&mut group, MOST_IN_GROUP).await > 0 {
        let _writing = writer.lock().await;
        let answers = write_group(&pool, &group).await;
        for (append, answer) in group.drain(..).zip(answers) {
            let answer = answer.map(|start| {
                let Some(first) = append.messages.first() else { return Vec::new() };
                let feed = feeds.of(&StreamKey::of(first));
                let mut offsets = Vec::with_capacity(append.messages.len());
                for (offset, message) in (start..).zip(append.messages) {
                    // Nobody listening is not an error.
                    let _ = feed.send(Stored { offset, received_at: append.received_at, message });
                    offsets.push(offset);
                }
                offsets
            });
            // The publisher may have gone away meanwhile; its messages are stored all the same.
            let _ = append.answer.send(answer);
        }
    }
}

/// Stores a group of appends in one transaction; for each, the offset of its first message or why
/// it was refused. A commit that fails refuses them all.
async fn write_group(pool: &SqlitePool, group: &[Append]) -> Vec<Result<u64, BatchError>> {
    let mut tx = match pool.begin().await {
        Ok(tx) => tx,
        Err(error) => return refuse_all(group, &error),
    };
    let mut answers = Vec::with_capacity(group.len());
    for append in group {
        let placed = match sqlx::query("SAVEPOINT one_append").execute(&mut *tx).await {
            Ok(_) => append_in(&mut tx, &append.messages, append.received_at).await,
            Err(error) => Err(BatchError { at: 0, error: AppendError::Store(error.into()) }),
        };
        let end = if placed.is_ok() { "RELEASE one_append" } else { "ROLLBACK TO one_append; RELEASE one_append" };
        let placed = match sqlx::raw_sql(end).execute(&mut *tx).await {
            Ok(_) => placed,
            // The transaction cannot be trusted any more: nothing of this group is kept.
            Err(error) => return refuse_all(group, &error),
        };
        answers.push(placed);
    }
    match tx.commit().await {
        Ok(()) => answers,
        Err(error) => refuse_all(group, &error),
    }
}

fn refuse_all(group: &[Append], error: &sqlx::Error) -> Vec<Result<u64, BatchError>> {
    let refusal = || BatchError { at: 0, error: AppendError::Store(anyhow::anyhow!("storing messages: {error}")) };
    group.iter().map(|_| Err(refusal())).collect()
}

/// Stores one request's messages inside the writer's transaction: their sequence numbers checked
/// against each publisher's last, at the stream's next offsets. The offset of the first.
async fn append_in(
    tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
    messages: &[SignedMessage],
    received_at: u64,
) -> Result<u64, BatchError> {
    let Some(first) = messages.first() else { return Ok(0) };
    let key = StreamKey::of(first).to_string();
    let failed = |at: usize| move |error: sqlx::Error| BatchError { at, error: AppendError::Store(error.into()) };
    // Each publisher's last sequence number, stored or earlier in this batch.
    let mut last: HashMap<Address, Option<u64>> = HashMap::new();
    for (at, message) in messages.iter().enumerate() {
        let publisher = message.message.publisher;
        let previous = match last.get(&publisher) {
            Some(previous) => *previous,
            None => {
                let stored: Option<i64> =
                    sqlx::query_scalar("SELECT MAX(sequence) FROM messages WHERE stream = ? AND publisher = ?")
                        .bind(&key)
                        .bind(format!("{publisher:#x}"))
                        .fetch_one(&mut **tx)
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
        .fetch_optional(&mut **tx)
        .await
        .map_err(failed(0))?;
    let start = next.unwrap_or(0);
    let received = to_db(received_at).map_err(|error| BatchError { at: 0, error: error.into() })?;
    let mut rows = Vec::with_capacity(messages.len());
    for (at, message) in messages.iter().enumerate() {
        let numbers = to_db(message.message.sequence).and_then(|n| Ok((n, to_db(message.message.timestamp)?)));
        let (sequence, timestamp) = numbers.map_err(|error| BatchError { at, error: error.into() })?;
        rows.push((start + at as i64, sequence, timestamp, message));
    }
    // Many rows a statement: each statement is a round trip to the database's thread.
    for (chunk, at) in rows.chunks(ROWS_PER_INSERT).zip((0..).step_by(ROWS_PER_INSERT)) {
        let mut insert = sqlx::QueryBuilder::<sqlx::Sqlite>::new(
            "INSERT INTO messages (stream, position, received_at, publisher, sequence, timestamp, signer, signature, content) ",
        );
        insert.push_values(chunk, |mut row, &(position, sequence, timestamp, message)| {
            row.push_bind(key.clone())
                .push_bind(position)
                .push_bind(received)
                .push_bind(format!("{:#x}", message.message.publisher))
                .push_bind(sequence)
                .push_bind(timestamp)
                .push_bind(format!("{:#x}", message.signer))
                .push_bind(message.signature.to_vec())
                .push_bind(message.message.content.as_str().to_owned());
        });
        insert.build().execute(&mut **tx).await.map_err(failed(at))?;
    }
    sqlx::query(
        "INSERT INTO stream_heads (stream, next_position) VALUES (?, ?) \
         ON CONFLICT (stream) DO UPDATE SET next_position = excluded.next_position",
    )
    .bind(&key)
    .bind(start + messages.len() as i64)
    .execute(&mut **tx)
    .await
    .map_err(failed(0))?;
    from_db(start).map_err(|error| BatchError { at: 0, error: error.into() })
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

    /// All or none: the messages go into the writer's next transaction together (see [`write`]).
    async fn append_all(&self, messages: Vec<SignedMessage>, received_at: u64) -> Result<Vec<u64>, BatchError> {
        if messages.is_empty() {
            return Ok(Vec::new());
        }
        let stream = StreamKey::of(&messages[0]);
        if let Some(at) = messages.iter().position(|message| StreamKey::of(message) != stream) {
            let error =
                anyhow::anyhow!("a batch goes to one stream; this message is for {}", StreamKey::of(&messages[at]));
            return Err(BatchError { at, error: AppendError::Store(error) });
        }
        let (answer, answered) = oneshot::channel();
        let gone = || BatchError { at: 0, error: AppendError::Store(anyhow::anyhow!("the message store is closing")) };
        self.appends.send(Append { messages, received_at, answer }).await.map_err(|_| gone())?;
        answered.await.map_err(|_| gone())?
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
        Ok(self.feeds.of(stream).subscribe())
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

    async fn keep_bytes(&self, stream: &StreamKey, most: u64, received_from: u64) -> anyhow::Result<u64> {
        let _writing = self.writer.lock().await;
        // The newest message that does not fit (counting it and every newer one), and every older
        // one, but none from the first message received at or after `received_from` on.
        let deleted = sqlx::query(
            "DELETE FROM messages WHERE stream = ?1 AND position <= ( \
                 SELECT position FROM ( \
                     SELECT position, SUM(length(CAST(content AS BLOB)) + length(signature) + ?4) \
                         OVER (ORDER BY position DESC) AS with_newer \
                     FROM messages WHERE stream = ?1) \
                 WHERE with_newer > ?2 ORDER BY position DESC LIMIT 1) \
             AND position < (SELECT COALESCE(MIN(position), ?5) FROM messages WHERE stream = ?1 AND received_at >= ?3)",
        )
        .bind(stream.to_string())
        // Beyond SQLite's integers is as good as no limit, and no time yet.
        .bind(i64::try_from(most).unwrap_or(i64::MAX))
        .bind(i64::try_from(received_from).unwrap_or(i64::MAX))
        .bind(i64::from(ENVELOPE_BYTES))
        .bind(i64::MAX)
        .execute(&self.pool)
        .await?;
        Ok(deleted.rows_affected())
    }
}
