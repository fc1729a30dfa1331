//! Committed books, as the operator sent them.

use alloy::primitives::{Address, B256};
use sqlx::Row;

use super::{Store, StoreError, parse_db, to_db};

/// A committed book: its root and hash, and the canonical JSON they were computed from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredBook {
    pub root: B256,
    pub book_hash: B256,
    pub canonical_json: String,
}

impl Store {
    /// Keeps a book; storing the same block again replaces it (a resent commit after a crash).
    pub async fn save_book(&self, union: Address, block: u64, book: &StoredBook) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO books (union_address, block_number, root, book_hash, book) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (union_address, block_number) DO UPDATE SET root = excluded.root, \
             book_hash = excluded.book_hash, book = excluded.book",
        )
        .bind(union.to_checksum(None))
        .bind(to_db(block)?)
        .bind(book.root.to_string())
        .bind(book.book_hash.to_string())
        .bind(&book.canonical_json)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn book(&self, union: Address, block: u64) -> Result<Option<StoredBook>, StoreError> {
        let row = sqlx::query("SELECT root, book_hash, book FROM books WHERE union_address = $1 AND block_number = $2")
            .bind(union.to_checksum(None))
            .bind(to_db(block)?)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|row| {
            Ok(StoredBook {
                root: parse_db("root", row.try_get(0)?)?,
                book_hash: parse_db("book_hash", row.try_get(1)?)?,
                canonical_json: row.try_get(2)?,
            })
        })
        .transpose()
    }
}
