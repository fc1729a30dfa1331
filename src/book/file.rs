//! Reading a book file: CSV `address,earnings` lines, or the book's JSON form.
//!
//! CSV: one leaf per line in leaf order, `address,earnings` with the earnings in wei as a decimal
//! integer; an optional `address,earnings` header line; blank lines and spaces around fields are
//! ignored. The block is not in the file, so it must be given.
//!
//! JSON: `{"block": N, "leaves": [{"address": "0x...", "earnings": "..."}, ...]}`, the canonical form with
//! any whitespace and any address case (mixed case must be a valid checksum). The block comes from the
//! file; a block given as well must be the same.
//!
//! # Invariants
//! - Every error names the CSV line (1-based) or the JSON leaf (0-based) and the field.
//! - A file that parses gives a valid book (non-empty, one leaf per address).

use alloy_primitives::{Address, U256};
use serde::Deserialize;

use super::{Book, BookError};
use crate::text::{TextError, parse_address, parse_amount};

/// Why a book file cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum BookFileError {
    /// A CSV book without a block.
    #[error("a CSV book does not say its block: give the block (--block N)")]
    MissingBlock,
    /// A JSON book whose block differs from the one given.
    #[error("the JSON book is for block {file}, but block {given} was given")]
    BlockMismatch {
        /// The block in the file.
        file: u64,
        /// The block given.
        given: u64,
    },
    /// Not JSON of the book's shape (the message has the line and column).
    #[error("the JSON book is malformed: {0}")]
    Json(#[source] serde_json::Error),
    /// A bad value in a JSON leaf.
    #[error("leaves[{leaf}].{field}: {source}")]
    JsonLeaf {
        /// 0-based leaf index.
        leaf: usize,
        /// `address` or `earnings`.
        field: &'static str,
        /// What is wrong with it.
        source: TextError,
    },
    /// A CSV line without exactly two fields.
    #[error("line {line}: expected 2 fields `address,earnings`, found {found}")]
    Columns {
        /// 1-based line number.
        line: usize,
        /// How many fields it has.
        found: usize,
    },
    /// A bad value in a CSV line.
    #[error("line {line}, field {field}: {source}")]
    CsvField {
        /// 1-based line number.
        line: usize,
        /// `address` or `earnings`.
        field: &'static str,
        /// What is wrong with it.
        source: TextError,
    },
    /// The same address on two CSV lines.
    #[error("line {second_line}, field address: {address} already appears on line {first_line}")]
    DuplicateLine {
        /// The repeated address.
        address: Address,
        /// Where it first appears.
        first_line: usize,
        /// Where it appears again.
        second_line: usize,
    },
    /// The leaves do not make a book (empty, or a repeated JSON leaf).
    #[error(transparent)]
    Book(#[from] BookError),
}

/// Reads a book from the text of a CSV or JSON book file (JSON when it starts with `{`).
pub fn parse_book(text: &str, block: Option<u64>) -> Result<Book, BookFileError> {
    if text.trim_start().starts_with('{') {
        parse_json(text, block)
    } else {
        parse_csv(text, block.ok_or(BookFileError::MissingBlock)?)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct JsonBook {
    block: u64,
    leaves: Vec<JsonLeaf>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct JsonLeaf {
    address: String,
    earnings: String,
}

fn parse_json(text: &str, block: Option<u64>) -> Result<Book, BookFileError> {
    let file: JsonBook = serde_json::from_str(text).map_err(BookFileError::Json)?;
    if let Some(given) = block.filter(|&given| given != file.block) {
        return Err(BookFileError::BlockMismatch { file: file.block, given });
    }
    let leaves = file
        .leaves
        .iter()
        .enumerate()
        .map(|(leaf, entry)| {
            let address = parse_address(&entry.address).map_err(|source| BookFileError::JsonLeaf {
                leaf,
                field: "address",
                source,
            })?;
            let earnings = parse_amount(&entry.earnings).map_err(|source| BookFileError::JsonLeaf {
                leaf,
                field: "earnings",
                source,
            })?;
            Ok((address, earnings))
        })
        .collect::<Result<Vec<_>, BookFileError>>()?;
    Ok(Book::new(file.block, leaves)?)
}

fn parse_csv(text: &str, block: u64) -> Result<Book, BookFileError> {
    let mut leaves: Vec<(Address, U256)> = Vec::new();
    let mut lines = Vec::new();
    for (line, content) in text.lines().enumerate().map(|(i, content)| (i + 1, content.trim())) {
        if content.is_empty() {
            continue;
        }
        let fields: Vec<&str> = content.split(',').map(str::trim).collect();
        if leaves.is_empty() && lines.is_empty() && is_header(&fields) {
            lines.push(line);
            continue;
        }
        let [address, earnings] = fields[..] else {
            return Err(BookFileError::Columns { line, found: fields.len() });
        };
        let address =
            parse_address(address).map_err(|source| BookFileError::CsvField { line, field: "address", source })?;
        let earnings =
            parse_amount(earnings).map_err(|source| BookFileError::CsvField { line, field: "earnings", source })?;
        leaves.push((address, earnings));
        lines.push(line);
    }
    let header = lines.len() - leaves.len();
    Book::new(block, leaves).map_err(|error| match error {
        BookError::DuplicateAddress { address, first, second } => BookFileError::DuplicateLine {
            address,
            first_line: lines[first + header],
            second_line: lines[second + header],
        },
        other => other.into(),
    })
}

fn is_header(fields: &[&str]) -> bool {
    matches!(fields, [a, e] if a.eq_ignore_ascii_case("address") && e.eq_ignore_ascii_case("earnings"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALICE: &str = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed";
    const BOB: &str = "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359";

    #[test]
    fn a_csv_book_with_a_header_blank_lines_and_spaces_parses_in_file_order() {
        let book = parse_book(&format!("address,earnings\n\n{BOB} , 5\r\n{ALICE},0\n"), Some(9)).unwrap();
        assert_eq!(book.block(), 9);
        assert_eq!(
            book.leaves(),
            &[(parse_address(BOB).unwrap(), U256::from(5)), (parse_address(ALICE).unwrap(), U256::ZERO)]
        );
    }

    #[test]
    fn a_csv_book_needs_a_block() {
        assert!(matches!(parse_book(&format!("{ALICE},1"), None), Err(BookFileError::MissingBlock)));
    }

    #[test]
    fn csv_errors_name_the_line_and_the_field() {
        let error = parse_book(&format!("{ALICE},1\n0x12,2"), Some(1)).unwrap_err();
        assert!(matches!(error, BookFileError::CsvField { line: 2, field: "address", .. }), "{error}");
        assert!(error.to_string().starts_with("line 2, field address:"), "{error}");
        let error = parse_book(&format!("\n{ALICE},-1"), Some(1)).unwrap_err();
        assert!(
            matches!(
                error,
                BookFileError::CsvField { line: 2, field: "earnings", source: TextError::AmountNegative { .. } }
            ),
            "{error}"
        );
        let error = parse_book(&format!("{ALICE},1.5"), Some(1)).unwrap_err();
        assert!(
            matches!(
                error,
                BookFileError::CsvField { line: 1, field: "earnings", source: TextError::AmountNotInteger { .. } }
            ),
            "{error}"
        );
        let error = parse_book(&format!("{ALICE},1,2"), Some(1)).unwrap_err();
        assert!(matches!(error, BookFileError::Columns { line: 1, found: 3 }), "{error}");
    }

    #[test]
    fn a_repeated_address_names_both_lines() {
        let error = parse_book(&format!("address,earnings\n{ALICE},1\n{BOB},2\n{},3", ALICE.to_lowercase()), Some(1))
            .unwrap_err();
        assert!(matches!(error, BookFileError::DuplicateLine { first_line: 2, second_line: 4, .. }), "{error}");
    }

    #[test]
    fn an_empty_book_is_refused_in_either_format() {
        assert!(matches!(parse_book("address,earnings\n", Some(1)), Err(BookFileError::Book(BookError::Empty))));
        assert!(matches!(parse_book("", Some(1)), Err(BookFileError::Book(BookError::Empty))));
        assert!(matches!(parse_book(r#"{"block":1,"leaves":[]}"#, None), Err(BookFileError::Book(BookError::Empty))));
    }

    #[test]
    fn a_json_book_round_trips_and_checks_the_given_block() {
        let book = parse_book(
            &format!("{{ \"block\": 4,\n \"leaves\": [ {{\"address\": \"{ALICE}\", \"earnings\": \"12\"}} ] }}"),
            None,
        )
        .unwrap();
        assert_eq!(parse_book(&book.to_canonical_json(), Some(4)).unwrap(), book);
        assert!(matches!(
            parse_book(&book.to_canonical_json(), Some(5)),
            Err(BookFileError::BlockMismatch { file: 4, given: 5 })
        ));
    }

    #[test]
    fn json_errors_name_the_leaf_and_the_field() {
        let error = parse_book(&format!(r#"{{"block":1,"leaves":[{{"address":"{ALICE}","earnings":"1"}},{{"address":"{BOB}","earnings":"x"}}]}}"#), None).unwrap_err();
        assert_eq!(error.to_string(), "leaves[1].earnings: amount \"x\" is not a decimal number");
        let error = parse_book(r#"{"block":1,"leaves":[{"address":"0x1","earnings":5}]}"#, None).unwrap_err();
        assert!(matches!(error, BookFileError::Json(_)), "{error}");
        assert!(error.to_string().contains("line 1"), "{error}");
    }
}
