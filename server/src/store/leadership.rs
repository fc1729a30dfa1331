//! One instance at a time holds the chain role (indexer and operator). On PostgreSQL that is a
//! session-level advisory lock held by a connection of its own: if the instance dies, its connection
//! closes and the lock is free for another. SQLite is one file for one instance: it always leads.

use sqlx::pool::PoolConnection;
use sqlx::{Any, Row};

use super::{Backend, Store, StoreError};

/// The advisory lock's key: "coop" in ASCII.
const ROLE_LOCK: i64 = 0x636f_6f70;

/// Proof of holding the role; dropping it gives the role up.
#[derive(Debug)]
pub struct Lease {
    connection: Option<PoolConnection<Any>>,
}

impl Store {
    /// Takes the role if nobody holds it.
    pub async fn try_lead(&self) -> Result<Option<Lease>, StoreError> {
        if self.backend == Backend::Sqlite {
            return Ok(Some(Lease { connection: None }));
        }
        let mut connection = self.pool.acquire().await?;
        let row = sqlx::query("SELECT pg_try_advisory_lock($1)").bind(ROLE_LOCK).fetch_one(&mut *connection).await?;
        let taken: bool = row.try_get(0)?;
        Ok(taken.then_some(Lease { connection: Some(connection) }))
    }
}

impl Lease {
    /// Whether the lock is still ours: its connection still answers.
    pub async fn is_held(&mut self) -> bool {
        match &mut self.connection {
            None => true,
            Some(connection) => sqlx::query("SELECT 1").execute(&mut **connection).await.is_ok(),
        }
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        // Never return this connection to the pool: it would keep the lock. Detached and dropped, it
        // closes, and the server releases the lock.
        if let Some(connection) = self.connection.take() {
            drop(connection.detach());
        }
    }
}
