//! The canonical JSON of a book and its `bookHash`.
//!
//! The form is fixed to the byte so that anyone can recompute the hash of a book served by any replica
//! and compare it with the `bookHash` committed on chain:
//!
//! ```text
//! {"block":123,"leaves":[{"address":"0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed","earnings":"1000"}, ...]}
//! ```
//!
//! No whitespace; keys in this order; `block` a JSON integer; leaves in leaf order; addresses lowercase
//! `0x` hex; earnings decimal strings of wei without leading zeros; UTF-8 (in fact ASCII).
//!
//! # Invariants
//! - `book.book_hash() == keccak256(book.to_canonical_json())`.
//! - `parse_book(&book.to_canonical_json(), None)` gives back an equal book.

use std::fmt::Write;

use alloy_primitives::{B256, Keccak256};

use super::Book;
use crate::text::lowercase_address;

/// The hasher is fed in chunks of about this size.
const CHUNK: usize = 1 << 16;

impl Book {
    /// The canonical JSON form (see the module docs).
    pub fn to_canonical_json(&self) -> String {
        let mut json = String::with_capacity(self.len() * 100 + 32);
        write_canonical(self, |chunk| json.push_str(chunk));
        json
    }

    /// `keccak256` of the canonical JSON, computed without holding the whole text in memory.
    pub fn book_hash(&self) -> B256 {
        let mut hasher = Keccak256::new();
        write_canonical(self, |chunk| hasher.update(chunk.as_bytes()));
        hasher.finalize()
    }
}

/// Writes the canonical JSON to `sink` in chunks.
fn write_canonical(book: &Book, mut sink: impl FnMut(&str)) {
    let mut buffer = String::with_capacity(CHUNK + 128);
    // Writing to a String cannot fail.
    let _ = write!(buffer, r#"{{"block":{},"leaves":["#, book.block());
    for (i, (address, earnings)) in book.leaves().iter().enumerate() {
        if i > 0 {
            buffer.push(',');
        }
        let _ = write!(buffer, r#"{{"address":"{}","earnings":"{earnings}"}}"#, lowercase_address(address));
        if buffer.len() >= CHUNK {
            sink(&buffer);
            buffer.clear();
        }
    }
    buffer.push_str("]}");
    sink(&buffer);
}

#[cfg(test)]
mod tests {
    use alloy_primitives::{U256, address, keccak256};

    use super::*;

    #[test]
    fn the_canonical_json_is_exactly_the_documented_form() {
        let book = Book::new(
            7,
            vec![
                (address!("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"), U256::from(1000)),
                (address!("0x0000000000000000000000000000000000000001"), U256::ZERO),
            ],
        )
        .unwrap();
        assert_eq!(
            book.to_canonical_json(),
            r#"{"block":7,"leaves":[{"address":"0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed","earnings":"1000"},{"address":"0x0000000000000000000000000000000000000001","earnings":"0"}]}"#
        );
    }

    #[test]
    fn the_book_hash_is_the_keccak_of_the_canonical_json_even_across_chunks() {
        let leaves = (1..=3000u64)
            .map(|i| (alloy_primitives::Address::from_word(keccak256(i.to_be_bytes())), U256::from(i) << 100))
            .collect();
        let book = Book::new(u64::MAX, leaves).unwrap();
        let json = book.to_canonical_json();
        assert!(json.len() > 2 * CHUNK);
        assert_eq!(book.book_hash(), keccak256(json.as_bytes()));
    }
}
