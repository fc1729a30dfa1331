//! One instance at a time holds the chain role (indexer and operator). On PostgreSQL that is a
//! session-level advisory lock held by a connection of its own: if the instance dies, its connection
//! closes and the lock is free for another. SQLite is one file for one instance: it always leads.
//!
//! A host that dies without closing its connection (power, network) must not keep the role: the
//! lease connection asks the database server for TCP keepalives, so the server drops the session
//! (and the lock) about 11 s after the host went silent ([`KEEPALIVES`]); and the leader's own check of the lease gives up after
//! [`CHECK_TIMEOUT`], so a leader cut off from the database stops its work. What a deposed leader
//! still writes after that is refused by the checkpoint's compare-and-set (`append_range`).

use std::time::Duration;

use sqlx::pool::PoolConnection;
use sqlx::{Any, Row};

use super::{Backend, Store, StoreError};

/// The advisory lock's key: "coop" in ASCII.
const ROLE_LOCK: i64 = 0x636f_6f70;

/// How long the leader waits for the database to confirm the lease before it counts the role lost.
pub const CHECK_TIMEOUT: Duration = Duration::from_secs(5);

/// Seconds of silence, probe interval and probes the database server allows the lease connection:
/// a dead leader's session ends after about 5 + 2 × 3 = 11 s.
const KEEPALIVES: [(&str, u32); 3] =
    [("tcp_keepalives_idle", 5), ("tcp_keepalives_interval", 2), ("tcp_keepalives_count", 3)];

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
        if !taken {
            return Ok(None);
        }
        // Only the lease's own connection gets these (it never goes back to the pool): a pooled
        // connection with a short statement timeout would fail a long read of the log. Should they
        // fail, the lease is dropped and its connection closed, which frees the lock.
        let mut lease = Lease { connection: Some(connection) };
        lease.guard_against_silence().await?;
        Ok(Some(lease))
    }
}

impl Lease {
    async fn guard_against_silence(&mut self) -> Result<(), StoreError> {
        let Some(connection) = &mut self.connection else { return Ok(()) };
        for (setting, value) in KEEPALIVES {
            // `SET` takes no bind parameters; both parts are constants.
            sqlx::query(sqlx::AssertSqlSafe(format!("SET {setting} = {value}"))).execute(&mut **connection).await?;
        }
        // A statement on the lease connection that hangs is a lost lease, not a stuck leader.
        let timeout = format!("SET statement_timeout = {}", CHECK_TIMEOUT.as_millis());
        sqlx::query(sqlx::AssertSqlSafe(timeout)).execute(&mut **connection).await?;
        Ok(())
    }

    /// Whether the lock is still ours: its connection still answers, within [`CHECK_TIMEOUT`].
    pub async fn is_held(&mut self) -> bool {
        match &mut self.connection {
            None => true,
            Some(connection) => {
                let check = sqlx::query("SELECT 1").execute(&mut **connection);
                matches!(tokio::time::timeout(CHECK_TIMEOUT, check).await, Ok(Ok(_)))
            }
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
