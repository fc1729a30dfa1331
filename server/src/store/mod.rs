//! One storage API over SQLite (the embedded default) and PostgreSQL (for several servers), through
//! sqlx's `Any` driver so both run the same SQL and the same migrations.
//!
//! Writes that belong together (a range of events, its block hashes and the checkpoint; or a
//! rollback and the checkpoint) happen in one transaction, so a crash leaves either all or none.

mod books;
mod chain_log;
mod joins;
mod leadership;
mod products;
mod sessions;
mod streams;

use std::str::FromStr;

use alloy::primitives::Address;
use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::{AnyPool, Row};

pub use crate::chain_event::StoredEvent;
pub use books::StoredBook;
pub use chain_log::{Checkpoint, IndexedRange, LogPosition};
pub use joins::{Filed, JoinRequest, JoinSecret, JoinState};
pub use leadership::{CHECK_TIMEOUT, Lease};
pub use sessions::NonceUse;
pub use streams::Contribution;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database url `{0}` is neither sqlite: nor postgres://")]
    UnsupportedUrl(String),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("database migration: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    #[error("event at block {block} log {log_index} is already stored")]
    DuplicateEvent { block: u64, log_index: u64 },
    #[error("stored value in column `{column}` is not valid: {value}")]
    Corrupt { column: &'static str, value: String },
    #[error("block number {0} does not fit the database")]
    BlockOutOfRange(u64),
    #[error("the stored checkpoint is no longer {}: another instance wrote the log meanwhile", expected.map_or("empty".to_owned(), |block| format!("at block {block}")))]
    Fenced { expected: Option<u64> },
}

/// A handle to the database; cheap to clone.
#[derive(Debug, Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
}

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations");

impl Store {
    /// Connects (creating a SQLite file and its folder if needed) and applies pending migrations.
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else {
            return Err(StoreError::UnsupportedUrl(url.to_owned()));
        };
        if backend == Backend::Sqlite {
            create_sqlite_folder(url);
        }
        let pool = AnyPoolOptions::new()
            // One writer at a time is what SQLite allows anyway; more connections only add lock waits.
            .max_connections(if backend == Backend::Sqlite { 1 } else { 10 })
            .connect(url)
            .await?;
        if backend == Backend::Sqlite {
            sqlx::query("PRAGMA journal_mode = WAL").execute(&pool).await?;
        }
        MIGRATOR.run(&pool).await?;
        Ok(Self { pool, backend })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Checks that the database answers.
    pub async fn ping(&self) -> Result<(), StoreError> {
        let row = sqlx::query("SELECT CAST(1 AS BIGINT)").fetch_one(&self.pool).await?;
        let _: i64 = row.try_get(0)?;
        Ok(())
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

fn create_sqlite_folder(url: &str) {
    let path = url.trim_start_matches("sqlite://").trim_start_matches("sqlite:");
    let path = path.split('?').next().unwrap_or_default();
    if path.is_empty() || path == ":memory:" {
        return;
    }
    if let Some(parent) = std::path::Path::new(path).parent() {
        // An error here resurfaces, with the path, when sqlx opens the file.
        let _ = std::fs::create_dir_all(parent);
    }
}

fn to_db(block: u64) -> Result<i64, StoreError> {
    i64::try_from(block).map_err(|_| StoreError::BlockOutOfRange(block))
}

/// An address as the tables keep it: lower-case 0x hex.
fn hex(address: &Address) -> String {
    format!("{address:#x}")
}

fn from_db(column: &'static str, value: i64) -> Result<u64, StoreError> {
    u64::try_from(value).map_err(|_| StoreError::Corrupt { column, value: value.to_string() })
}

fn parse_db<T: FromStr>(column: &'static str, value: String) -> Result<T, StoreError> {
    value.parse().map_err(|_| StoreError::Corrupt { column, value })
}
