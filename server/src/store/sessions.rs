//! Sign-in nonces and browser sessions. `Store` is the `tower_sessions::SessionStore`, so sessions live
//! in the same database as everything else (SQLite or PostgreSQL) and survive restarts.
//!
//! A session id is a secret (it is the cookie): it is never logged.

use async_trait::async_trait;
use sqlx::Row;
use tower_sessions::SessionStore;
use tower_sessions::cookie::time::OffsetDateTime;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store;

use super::{Store, StoreError};

/// Used nonces are kept this long past their expiry, to tell a replay from an unknown nonce.
const KEEP_USED_NONCES_SECS: i64 = 24 * 60 * 60;

/// What happened when a sign-in tried to use a nonce.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NonceUse {
    /// Issued, unused and unexpired: it is now used, and the sign-in may go on.
    Fresh,
    /// Already used by an earlier sign-in: a replay.
    AlreadyUsed,
    /// Issued, but its time is up.
    Expired,
    /// Never issued here (or forgotten long ago).
    Unknown,
}

impl Store {
    /// Records a newly issued nonce and forgets those long expired. Times are Unix seconds.
    pub async fn issue_nonce(&self, nonce: &str, expires_at: i64, now: i64) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM sign_in_nonces WHERE expires_at < $1")
            .bind(now - KEEP_USED_NONCES_SECS)
            .execute(&self.pool)
            .await?;
        sqlx::query("INSERT INTO sign_in_nonces (nonce, expires_at) VALUES ($1, $2)")
            .bind(nonce)
            .bind(expires_at)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Marks `nonce` used if it is fresh, atomically: of two sign-ins racing with one nonce, one wins.
    pub async fn use_nonce(&self, nonce: &str, now: i64) -> Result<NonceUse, StoreError> {
        let marked =
            sqlx::query("UPDATE sign_in_nonces SET used_at = $1 WHERE nonce = $2 AND used_at = 0 AND expires_at > $3")
                .bind(now)
                .bind(nonce)
                .bind(now)
                .execute(&self.pool)
                .await?;
        if marked.rows_affected() == 1 {
            return Ok(NonceUse::Fresh);
        }
        let row = sqlx::query("SELECT used_at FROM sign_in_nonces WHERE nonce = $1")
            .bind(nonce)
            .fetch_optional(&self.pool)
            .await?;
        Ok(match row {
            None => NonceUse::Unknown,
            Some(row) if row.try_get::<i64, _>(0)? != 0 => NonceUse::AlreadyUsed,
            Some(_) => NonceUse::Expired,
        })
    }

    async fn insert_session(&self, record: &Record) -> Result<bool, StoreError> {
        let inserted =
            sqlx::query("INSERT INTO sessions (id, data, expires_at) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING")
                .bind(record.id.to_string())
                .bind(encode_data(record)?)
                .bind(record.expiry_date.unix_timestamp())
                .execute(&self.pool)
                .await?;
        Ok(inserted.rows_affected() == 1)
    }
}

fn encode_data(record: &Record) -> Result<String, StoreError> {
    serde_json::to_string(&record.data)
        .map_err(|error| StoreError::Corrupt { column: "sessions.data", value: error.to_string() })
}

fn backend(error: StoreError) -> session_store::Error {
    session_store::Error::Backend(error.to_string())
}

#[async_trait]
impl SessionStore for Store {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        let now = OffsetDateTime::now_utc().unix_timestamp();
        sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
            .bind(now)
            .execute(&self.pool)
            .await
            .map_err(|error| backend(error.into()))?;
        // A 128-bit random id practically never collides; if it does, draw another.
        while !self.insert_session(record).await.map_err(backend)? {
            record.id = Id::default();
        }
        Ok(())
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        sqlx::query(
            "INSERT INTO sessions (id, data, expires_at) VALUES ($1, $2, $3) \
             ON CONFLICT (id) DO UPDATE SET data = excluded.data, expires_at = excluded.expires_at",
        )
        .bind(record.id.to_string())
        .bind(encode_data(record).map_err(backend)?)
        .bind(record.expiry_date.unix_timestamp())
        .execute(&self.pool)
        .await
        .map_err(|error| backend(error.into()))?;
        Ok(())
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let now = OffsetDateTime::now_utc().unix_timestamp();
        let row = sqlx::query("SELECT data, expires_at FROM sessions WHERE id = $1 AND expires_at > $2")
            .bind(id.to_string())
            .bind(now)
            .fetch_optional(&self.pool)
            .await
            .map_err(|error| backend(error.into()))?;
        let Some(row) = row else { return Ok(None) };
        let data: String = row.try_get(0).map_err(|error| backend(error.into()))?;
        let expires_at: i64 = row.try_get(1).map_err(|error| backend(error.into()))?;
        Ok(Some(Record {
            id: *id,
            data: serde_json::from_str(&data).map_err(|error| session_store::Error::Decode(error.to_string()))?,
            expiry_date: OffsetDateTime::from_unix_timestamp(expires_at)
                .map_err(|error| session_store::Error::Decode(error.to_string()))?,
        }))
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        sqlx::query("DELETE FROM sessions WHERE id = $1")
            .bind(id.to_string())
            .execute(&self.pool)
            .await
            .map_err(|error| backend(error.into()))?;
        Ok(())
    }
}
