//! Stream definitions and app keys (migration 0011), and how many messages each member contributed
//! to a union's streams a day (0012). The messages are not here: they sit behind the `StreamStore`
//! port (`crate::streams`).

use alloy::primitives::{Address, B256, Bytes};
use coop::stream::{AppKey, AppKeyGrant, StreamDefinition};
use sqlx::Row;

use super::{Store, StoreError, hex};

/// Messages one publisher sent to the streams of one union's products on one day (days since the
/// epoch): the union dashboard's "who contributes".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Contribution {
    pub union: Address,
    pub day: u64,
    pub publisher: Address,
    pub messages: u64,
}

fn corrupt(column: &'static str, value: impl ToString) -> StoreError {
    StoreError::Corrupt { column, value: value.to_string() }
}

fn definition(row: &sqlx::any::AnyRow) -> Result<StreamDefinition, StoreError> {
    let product: String = row.try_get("product_id")?;
    let name: String = row.try_get("name")?;
    let example: String = row.try_get("example")?;
    let retention_days: i64 = row.try_get("retention_days")?;
    let public_preview: i64 = row.try_get("public_preview")?;
    let retention_bytes: i64 = row.try_get("retention_bytes")?;
    Ok(StreamDefinition {
        product: product.parse().map_err(|_| corrupt("stream_definitions.product_id", &product))?,
        name: name.parse().map_err(|_| corrupt("stream_definitions.name", &name))?,
        description: row.try_get("description")?,
        example: match example.as_str() {
            "" => None,
            text => Some(text.parse().map_err(|_| corrupt("stream_definitions.example", text))?),
        },
        retention_days: u32::try_from(retention_days)
            .map_err(|_| corrupt("stream_definitions.retention_days", retention_days))?,
        retention_bytes: u64::try_from(retention_bytes)
            .map_err(|_| corrupt("stream_definitions.retention_bytes", retention_bytes))?,
        public_preview: u32::try_from(public_preview)
            .map_err(|_| corrupt("stream_definitions.public_preview", public_preview))?,
    })
}

fn app_key(row: &sqlx::any::AnyRow) -> Result<AppKey, StoreError> {
    let address = |column: &'static str| -> Result<Address, StoreError> {
        let text: String = row.try_get(column)?;
        text.parse().map_err(|_| corrupt("app_keys.address", text))
    };
    let number = |column: &'static str| -> Result<u64, StoreError> {
        let value: i64 = row.try_get(column)?;
        u64::try_from(value).map_err(|_| corrupt("app_keys.time", value))
    };
    let signature: String = row.try_get("signature")?;
    let revoked_at = number("revoked_at")?;
    Ok(AppKey {
        grant: AppKeyGrant {
            key: address("app_key")?,
            publisher: address("publisher")?,
            union: address("union_address")?,
            chain_id: number("chain_id")?,
            expires: number("expires_at")?,
        },
        signature: signature.parse::<Bytes>().map_err(|_| corrupt("app_keys.signature", &signature))?,
        created_at: number("created_at")?,
        revoked_at: (revoked_at != 0).then_some(revoked_at),
    })
}

fn to_db(value: u64, column: &'static str) -> Result<i64, StoreError> {
    i64::try_from(value).map_err(|_| corrupt(column, value))
}

impl Store {
    /// A product's streams, by name.
    pub async fn stream_definitions(&self, product: &B256) -> Result<Vec<StreamDefinition>, StoreError> {
        let rows = sqlx::query("SELECT * FROM stream_definitions WHERE product_id = $1 ORDER BY name")
            .bind(product.to_string())
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(definition).collect()
    }

    /// Every product's streams.
    pub async fn all_stream_definitions(&self) -> Result<Vec<StreamDefinition>, StoreError> {
        let rows =
            sqlx::query("SELECT * FROM stream_definitions ORDER BY product_id, name").fetch_all(&self.pool).await?;
        rows.iter().map(definition).collect()
    }

    /// Creates a stream or replaces what its seller said about it; `now` is Unix seconds.
    pub async fn save_stream_definition(&self, definition: &StreamDefinition, now: i64) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO stream_definitions \
             (product_id, name, description, example, retention_days, public_preview, created_at, updated_at, \
             retention_bytes) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $8) \
             ON CONFLICT (product_id, name) DO UPDATE SET description = $3, example = $4, retention_days = $5, \
             public_preview = $6, updated_at = $7, retention_bytes = $8",
        )
        .bind(definition.product.to_string())
        .bind(definition.name.as_str())
        .bind(&definition.description)
        .bind(definition.example.as_ref().map_or("", |example| example.as_str()))
        .bind(i64::from(definition.retention_days))
        .bind(i64::from(definition.public_preview))
        .bind(now)
        // At most `MAX_RETENTION_BYTES` (checked before a save), so it fits.
        .bind(i64::try_from(definition.retention_bytes).unwrap_or(i64::MAX))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Removes a stream's definition; whether there was one.
    pub async fn delete_stream_definition(&self, product: &B256, name: &str) -> Result<bool, StoreError> {
        let deleted = sqlx::query("DELETE FROM stream_definitions WHERE product_id = $1 AND name = $2")
            .bind(product.to_string())
            .bind(name)
            .execute(&self.pool)
            .await?;
        Ok(deleted.rows_affected() == 1)
    }

    /// Keeps an app key; a grant given again (a new expiry, say) replaces the old one and stands
    /// again if it was revoked.
    pub async fn save_app_key(&self, key: &AppKey) -> Result<(), StoreError> {
        let grant = &key.grant;
        sqlx::query(
            "INSERT INTO app_keys \
             (app_key, publisher, union_address, chain_id, expires_at, signature, created_at, revoked_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, 0) \
             ON CONFLICT (app_key, publisher, union_address) DO UPDATE SET chain_id = $4, expires_at = $5, \
             signature = $6, created_at = $7, revoked_at = 0",
        )
        .bind(hex(&grant.key))
        .bind(hex(&grant.publisher))
        .bind(hex(&grant.union))
        .bind(to_db(grant.chain_id, "app_keys.chain_id")?)
        .bind(to_db(grant.expires, "app_keys.expires_at")?)
        .bind(key.signature.to_string())
        .bind(to_db(key.created_at, "app_keys.created_at")?)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// One publisher's grant of `key` for `union`, revoked or not.
    pub async fn app_key(
        &self,
        key: Address,
        publisher: Address,
        union: Address,
    ) -> Result<Option<AppKey>, StoreError> {
        let row = sqlx::query("SELECT * FROM app_keys WHERE app_key = $1 AND publisher = $2 AND union_address = $3")
            .bind(hex(&key))
            .bind(hex(&publisher))
            .bind(hex(&union))
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(app_key).transpose()
    }

    /// A publisher's app keys, newest first.
    pub async fn app_keys(&self, publisher: Address) -> Result<Vec<AppKey>, StoreError> {
        let rows = sqlx::query("SELECT * FROM app_keys WHERE publisher = $1 ORDER BY created_at DESC, app_key")
            .bind(hex(&publisher))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(app_key).collect()
    }

    /// Revokes every grant of `key` by `publisher`; how many stood.
    pub async fn revoke_app_key(&self, key: Address, publisher: Address, now: u64) -> Result<u64, StoreError> {
        let revoked =
            sqlx::query("UPDATE app_keys SET revoked_at = $1 WHERE app_key = $2 AND publisher = $3 AND revoked_at = 0")
                .bind(to_db(now.max(1), "app_keys.revoked_at")?)
                .bind(hex(&key))
                .bind(hex(&publisher))
                .execute(&self.pool)
                .await?;
        Ok(revoked.rows_affected())
    }

    /// Adds each of `counts` to what its publisher sent to the streams of its union's products on its
    /// day, in one transaction.
    pub async fn count_contributions(&self, counts: &[Contribution]) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        for &Contribution { union, day, publisher, messages } in counts {
            sqlx::query(
                "INSERT INTO stream_contributions (union_address, publisher, day, messages) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (union_address, day, publisher) \
                 DO UPDATE SET messages = stream_contributions.messages + excluded.messages",
            )
            .bind(hex(&union))
            .bind(hex(&publisher))
            .bind(to_db(day, "stream_contributions.day")?)
            .bind(to_db(messages, "stream_contributions.messages")?)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// For each day from `since` (days since the epoch) on that `union` received messages: the day,
    /// how many, and from how many publishers; oldest first.
    pub async fn contributions_by_day(&self, union: Address, since: u64) -> Result<Vec<(u64, u64, u64)>, StoreError> {
        let rows = sqlx::query(
            "SELECT day, CAST(SUM(messages) AS BIGINT) AS total, COUNT(*) AS publishers FROM stream_contributions \
             WHERE union_address = $1 AND day >= $2 GROUP BY day ORDER BY day",
        )
        .bind(hex(&union))
        .bind(to_db(since, "stream_contributions.day")?)
        .fetch_all(&self.pool)
        .await?;
        let number = |row: &sqlx::any::AnyRow, column: &'static str| -> Result<u64, StoreError> {
            let value: i64 = row.try_get(column)?;
            u64::try_from(value).map_err(|_| corrupt("stream_contributions", value))
        };
        rows.iter().map(|row| Ok((number(row, "day")?, number(row, "total")?, number(row, "publishers")?))).collect()
    }

    /// The `most` publishers that sent `union` the most messages from day `since` on, with how many;
    /// most first, then by address.
    pub async fn top_contributors(
        &self,
        union: Address,
        since: u64,
        most: u64,
    ) -> Result<Vec<(Address, u64)>, StoreError> {
        let rows = sqlx::query(
            "SELECT publisher, CAST(SUM(messages) AS BIGINT) AS total FROM stream_contributions \
             WHERE union_address = $1 AND day >= $2 GROUP BY publisher ORDER BY total DESC, publisher LIMIT $3",
        )
        .bind(hex(&union))
        .bind(to_db(since, "stream_contributions.day")?)
        .bind(to_db(most, "limit")?)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let publisher: String = row.try_get("publisher")?;
                let messages: i64 = row.try_get("total")?;
                Ok((
                    publisher.parse().map_err(|_| corrupt("stream_contributions.publisher", &publisher))?,
                    u64::try_from(messages).map_err(|_| corrupt("stream_contributions.messages", messages))?,
                ))
            })
            .collect()
    }
}
