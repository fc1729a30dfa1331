//! Join requests, shared secrets (hashed) and removals waiting for the join-part agent.
//!
//! Addresses are stored as lower-case 0x hex, times as Unix seconds.

use alloy::primitives::{Address, B256};
use sqlx::Row;

use super::{Store, StoreError, from_db, hex, to_db};

/// Where a join request stands, stored as its lower-case name. A request is `Pending` until the owner
/// decides (or `Approved` at once by a shared secret); the join-part agent moves an approved one to
/// `Sent` when its `addMembers` goes out and to `Joined` when the chain says so.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum JoinState {
    Pending,
    Approved,
    Rejected,
    Sent,
    Joined,
}

impl JoinState {
    pub const ALL: [JoinState; 5] =
        [JoinState::Pending, JoinState::Approved, JoinState::Rejected, JoinState::Sent, JoinState::Joined];
    /// The names, as the API's `status` filter takes them.
    pub const NAMES: [&'static str; 5] = ["pending", "approved", "rejected", "sent", "joined"];

    pub fn as_str(self) -> &'static str {
        Self::NAMES[self as usize]
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::NAMES.iter().position(|name| *name == text).map(|at| Self::ALL[at])
    }

    /// A new request: approved at once by a shared secret, else waiting for the owner.
    pub fn of_new_request(by_secret: bool) -> Self {
        if by_secret { JoinState::Approved } else { JoinState::Pending }
    }

    /// The states an owner's approval takes a request from (a rejection can be reconsidered).
    pub const APPROVABLE: &'static [JoinState] = &[JoinState::Pending, JoinState::Rejected];
    /// The states an owner's rejection takes a request from (until the agent sent it).
    pub const REJECTABLE: &'static [JoinState] = &[JoinState::Pending, JoinState::Approved];

    /// Whether a newer signed request may replace this one: after a rejection, or after the member
    /// joined and was removed since (`parted`).
    pub fn replaceable(self, parted: bool) -> bool {
        self == JoinState::Rejected || (parted && self == JoinState::Joined)
    }
}

impl std::fmt::Display for JoinState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One member's latest join request to one union.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JoinRequest {
    pub union: Address,
    pub member: Address,
    pub status: JoinState,
    pub issued_at: i64,
    pub secret_id: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    /// For a sent request: the block its `addMembers` was mined in, once it was.
    pub sent_block: Option<u64>,
}

/// A shared secret, without its value (only its hash is kept).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JoinSecret {
    pub id: String,
    pub union: Address,
    pub name: String,
    pub created_at: i64,
}

/// What happened to a new join request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Filed {
    /// Stored with this status.
    Stored(JoinRequest),
    /// Not newer than the member's last request: a replay or a stale one.
    NotNewer,
    /// The member already has a request that is not rejected.
    AlreadyRequested(JoinRequest),
}

fn request(row: &sqlx::any::AnyRow) -> Result<JoinRequest, StoreError> {
    let parse = |text: String| {
        text.parse::<Address>().map_err(|_| StoreError::Corrupt { column: "address", value: text.clone() })
    };
    Ok(JoinRequest {
        union: parse(row.try_get("union_address")?)?,
        member: parse(row.try_get("member")?)?,
        status: {
            let text: String = row.try_get("status")?;
            JoinState::parse(&text).ok_or(StoreError::Corrupt { column: "join_requests.status", value: text })?
        },
        issued_at: row.try_get("issued_at")?,
        secret_id: row.try_get("secret_id")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
        sent_block: row
            .try_get::<Option<i64>, _>("sent_block")?
            .map(|block| from_db("sent_block", block))
            .transpose()?,
    })
}

impl Store {
    /// Files a join request with `status` (pending, or approved by a secret). A member may file again
    /// only with a newer `issued_at`, and only after a rejection or, when `parted` (the caller found it
    /// is no longer an active member), after it joined and was removed.
    #[allow(clippy::too_many_arguments)]
    pub async fn file_join_request(
        &self,
        union: Address,
        member: Address,
        status: JoinState,
        issued_at: i64,
        signature: &str,
        secret_id: Option<&str>,
        parted: bool,
        now: i64,
    ) -> Result<Filed, StoreError> {
        if let Some(existing) = self.join_request(union, member).await? {
            if issued_at <= existing.issued_at {
                return Ok(Filed::NotNewer);
            }
            if !existing.status.replaceable(parted) {
                return Ok(Filed::AlreadyRequested(existing));
            }
            let updated = sqlx::query(
                "UPDATE join_requests SET status = $1, issued_at = $2, signature = $3, secret_id = $4, \
                 updated_at = $5, sent_block = NULL WHERE union_address = $6 AND member = $7 AND issued_at = $8",
            )
            .bind(status.as_str())
            .bind(issued_at)
            .bind(signature)
            .bind(secret_id)
            .bind(now)
            .bind(hex(&union))
            .bind(hex(&member))
            .bind(existing.issued_at)
            .execute(&self.pool)
            .await?;
            if updated.rows_affected() != 1 {
                return Ok(Filed::NotNewer);
            }
        } else {
            let inserted = sqlx::query(
                "INSERT INTO join_requests (union_address, member, status, issued_at, signature, secret_id, \
                 created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
                 ON CONFLICT (union_address, member) DO NOTHING",
            )
            .bind(hex(&union))
            .bind(hex(&member))
            .bind(status.as_str())
            .bind(issued_at)
            .bind(signature)
            .bind(secret_id)
            .bind(now)
            .bind(now)
            .execute(&self.pool)
            .await?;
            if inserted.rows_affected() != 1 {
                return Ok(Filed::NotNewer);
            }
        }
        let stored = self
            .join_request(union, member)
            .await?
            .ok_or_else(|| StoreError::Corrupt { column: "member", value: format!("{member:#x}") })?;
        Ok(Filed::Stored(stored))
    }

    pub async fn join_request(&self, union: Address, member: Address) -> Result<Option<JoinRequest>, StoreError> {
        let row = sqlx::query("SELECT union_address, member, status, issued_at, secret_id, created_at, updated_at, sent_block FROM join_requests WHERE union_address = $1 AND member = $2")
            .bind(hex(&union))
            .bind(hex(&member))
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(request).transpose()
    }

    /// One page of a union's requests (all, or those with `status`), oldest first, and how many
    /// there are on all pages.
    pub async fn join_requests_page(
        &self,
        union: Address,
        status: Option<JoinState>,
        offset: u64,
        limit: u64,
    ) -> Result<(Vec<JoinRequest>, u64), StoreError> {
        let rows = sqlx::query(
            "SELECT union_address, member, status, issued_at, secret_id, created_at, updated_at, sent_block \
             FROM join_requests WHERE union_address = $1 AND ($2 = '' OR status = $2) \
             ORDER BY created_at, member LIMIT $3 OFFSET $4",
        )
        .bind(hex(&union))
        .bind(status.map_or("", JoinState::as_str))
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .bind(i64::try_from(offset).unwrap_or(i64::MAX))
        .fetch_all(&self.pool)
        .await?;
        let total: i64 = sqlx::query(
            "SELECT COUNT(*) AS n FROM join_requests WHERE union_address = $1 AND ($2 = '' OR status = $2)",
        )
        .bind(hex(&union))
        .bind(status.map_or("", JoinState::as_str))
        .fetch_one(&self.pool)
        .await?
        .try_get("n")?;
        Ok((rows.iter().map(request).collect::<Result<_, _>>()?, from_db("total", total)?))
    }

    /// How many requests wait for an owner's decision in `union`, and how many of `member`'s wait in
    /// any union: what the quotas on filing count.
    pub async fn waiting_join_requests(&self, union: Address, member: Address) -> Result<(u64, u64), StoreError> {
        let row = sqlx::query(
            "SELECT COUNT(CASE WHEN union_address = $1 THEN 1 END) AS in_union, \
             COUNT(CASE WHEN member = $2 THEN 1 END) AS of_member \
             FROM join_requests WHERE status = 'pending' AND (union_address = $1 OR member = $2)",
        )
        .bind(hex(&union))
        .bind(hex(&member))
        .fetch_one(&self.pool)
        .await?;
        Ok((from_db("in_union", row.try_get("in_union")?)?, from_db("of_member", row.try_get("of_member")?)?))
    }

    /// Every request of `status` in every union (what the agent works on).
    pub async fn join_requests_with_status(&self, status: JoinState) -> Result<Vec<JoinRequest>, StoreError> {
        let rows =
            sqlx::query("SELECT union_address, member, status, issued_at, secret_id, created_at, updated_at, sent_block FROM join_requests WHERE status = $1 ORDER BY created_at, member")
                .bind(status.as_str())
                .fetch_all(&self.pool)
                .await?;
        rows.iter().map(request).collect()
    }

    /// Moves a request from one of `from` to `to`; false when it was in none of them.
    pub async fn move_join_request(
        &self,
        union: Address,
        member: Address,
        from: &[JoinState],
        to: JoinState,
        now: i64,
    ) -> Result<bool, StoreError> {
        for status in from {
            let moved = sqlx::query(
                "UPDATE join_requests SET status = $1, updated_at = $2 \
                 WHERE union_address = $3 AND member = $4 AND status = $5",
            )
            .bind(to.as_str())
            .bind(now)
            .bind(hex(&union))
            .bind(hex(&member))
            .bind(status.as_str())
            .execute(&self.pool)
            .await?;
            if moved.rows_affected() == 1 {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Records the block a sent request's `addMembers` was mined in.
    pub async fn mark_sent(&self, union: Address, member: Address, block: u64) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE join_requests SET sent_block = $1 WHERE union_address = $2 AND member = $3 AND status = 'sent'",
        )
        .bind(to_db(block)?)
        .bind(hex(&union))
        .bind(hex(&member))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Puts a sent request back among the approved ones, to be sent again (its transaction failed,
    /// or a reorg took it out of the chain); false if it was not sent.
    pub async fn unsend(&self, union: Address, member: Address, now: i64) -> Result<bool, StoreError> {
        let moved = sqlx::query(
            "UPDATE join_requests SET status = 'approved', sent_block = NULL, updated_at = $1 \
             WHERE union_address = $2 AND member = $3 AND status = 'sent'",
        )
        .bind(now)
        .bind(hex(&union))
        .bind(hex(&member))
        .execute(&self.pool)
        .await?;
        Ok(moved.rows_affected() == 1)
    }

    /// Stores a secret's hash under a new id.
    pub async fn add_join_secret(
        &self,
        union: Address,
        id: &str,
        name: &str,
        secret_hash: B256,
        now: i64,
    ) -> Result<JoinSecret, StoreError> {
        sqlx::query(
            "INSERT INTO join_secrets (id, union_address, name, secret_hash, created_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(id)
        .bind(hex(&union))
        .bind(name)
        .bind(format!("{secret_hash:#x}"))
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(JoinSecret { id: id.to_owned(), union, name: name.to_owned(), created_at: now })
    }

    pub async fn join_secrets(&self, union: Address) -> Result<Vec<JoinSecret>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, name, created_at FROM join_secrets WHERE union_address = $1 ORDER BY created_at, id",
        )
        .bind(hex(&union))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(JoinSecret {
                    id: row.try_get("id")?,
                    union,
                    name: row.try_get("name")?,
                    created_at: row.try_get("created_at")?,
                })
            })
            .collect()
    }

    /// The id of the union's secret with this hash, if any.
    pub async fn find_join_secret(&self, union: Address, secret_hash: B256) -> Result<Option<String>, StoreError> {
        let row = sqlx::query("SELECT id FROM join_secrets WHERE union_address = $1 AND secret_hash = $2")
            .bind(hex(&union))
            .bind(format!("{secret_hash:#x}"))
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|row| row.try_get("id")).transpose()?)
    }

    /// Deletes a secret; false when the union has none with this id.
    pub async fn delete_join_secret(&self, union: Address, id: &str) -> Result<bool, StoreError> {
        let deleted = sqlx::query("DELETE FROM join_secrets WHERE union_address = $1 AND id = $2")
            .bind(hex(&union))
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(deleted.rows_affected() == 1)
    }

    /// Queues a removal for the agent (once).
    pub async fn request_part(&self, union: Address, member: Address, now: i64) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO part_requests (union_address, member, created_at) VALUES ($1, $2, $3) \
             ON CONFLICT (union_address, member) DO NOTHING",
        )
        .bind(hex(&union))
        .bind(hex(&member))
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn part_requests(&self) -> Result<Vec<(Address, Address)>, StoreError> {
        let rows = sqlx::query("SELECT union_address, member FROM part_requests ORDER BY created_at, member")
            .fetch_all(&self.pool)
            .await?;
        let parse = |text: String| {
            text.parse::<Address>().map_err(|_| StoreError::Corrupt { column: "address", value: text.clone() })
        };
        rows.iter().map(|row| Ok((parse(row.try_get(0)?)?, parse(row.try_get(1)?)?))).collect()
    }

    pub async fn forget_part_request(&self, union: Address, member: Address) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM part_requests WHERE union_address = $1 AND member = $2")
            .bind(hex(&union))
            .bind(hex(&member))
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_state_reads_back_from_its_name_and_only_those_names_are_states() {
        for state in JoinState::ALL {
            assert_eq!(JoinState::parse(state.as_str()), Some(state));
            assert_eq!(serde_json::to_value(state).unwrap(), state.as_str());
        }
        assert_eq!(JoinState::parse("parted"), None, "parted is what the chain says, not a stored state");
    }

    #[test]
    fn owners_decide_only_undecided_or_reconsidered_requests_and_a_new_one_replaces_only_a_finished_one() {
        use JoinState::*;
        assert_eq!(JoinState::APPROVABLE, [Pending, Rejected]);
        assert_eq!(JoinState::REJECTABLE, [Pending, Approved]);
        let replaceable: Vec<_> = JoinState::ALL.into_iter().filter(|state| state.replaceable(false)).collect();
        assert_eq!(replaceable, [Rejected]);
        let after_removal: Vec<_> = JoinState::ALL.into_iter().filter(|state| state.replaceable(true)).collect();
        assert_eq!(after_removal, [Rejected, Joined]);
        assert_eq!((JoinState::of_new_request(true), JoinState::of_new_request(false)), (Approved, Pending));
    }
}
