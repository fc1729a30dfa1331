//! Offline commands over files: `coop replay` and `coop book`. They read a file, call the core
//! (`coop::report`), print JSON to stdout and errors to stderr. Exit status: 0 done, 1 a root mismatch,
//! 2 bad input (unreadable file, malformed content, bad argument).

use std::{
    io::{BufWriter, Write},
    path::{Path, PathBuf},
    process::ExitCode,
};

use alloy::primitives::{Address, B256};
use coop::{
    report::{self, ReportError},
    text::parse_address,
};
use serde::Serialize;

/// `coop replay EVENTS.jsonl [--block N] [--proof ADDRESS ...]`
#[derive(Debug, clap::Args)]
pub struct ReplayArgs {
    /// The union's events, one JSON object per line, in chain order (see docs/engine.md).
    #[arg(value_name = "EVENTS.jsonl")]
    pub events: PathBuf,
    /// Report the state at the end of this block (default: the last event's block).
    #[arg(long, value_name = "N")]
    pub block: Option<u64>,
    /// Also print the Merkle proof of this address (repeatable).
    #[arg(long = "proof", value_name = "ADDRESS", value_parser = parse_address)]
    pub proofs: Vec<Address>,
}

/// `coop book root|verify`
#[derive(Debug, clap::Subcommand)]
pub enum BookCommand {
    /// Print a book's root and book hash, and the requested proofs.
    Root {
        /// The book: CSV `address,earnings` lines, or the book's JSON form.
        #[arg(value_name = "BOOK")]
        book: PathBuf,
        /// The book's block (required for CSV; must match a JSON book's block).
        #[arg(long, value_name = "N")]
        block: Option<u64>,
        /// Also print the Merkle proof of this address (repeatable).
        #[arg(long = "proof", value_name = "ADDRESS", value_parser = parse_address)]
        proofs: Vec<Address>,
    },
    /// Check a book against a root; exits with status 1 when they differ.
    Verify {
        /// The book: CSV `address,earnings` lines, or the book's JSON form.
        #[arg(value_name = "BOOK")]
        book: PathBuf,
        /// The book's block (required for CSV; must match a JSON book's block).
        #[arg(long, value_name = "N")]
        block: Option<u64>,
        /// The expected root, 0x and 64 hex digits.
        #[arg(long, value_name = "ROOT")]
        root: B256,
    },
}

/// Runs `coop replay`.
pub fn run_replay(args: ReplayArgs) -> ExitCode {
    match read(&args.events)
        .and_then(|text| report::replay_report(&text, args.block, &args.proofs).map_err(|e| fail(&args.events, e)))
    {
        Ok(report) => print(&report, ExitCode::SUCCESS),
        Err(code) => code,
    }
}

/// Runs `coop book root` or `coop book verify`.
pub fn run_book(command: BookCommand) -> ExitCode {
    match command {
        BookCommand::Root { book, block, proofs } => {
            match read(&book).and_then(|text| report::book_report(&text, block, &proofs).map_err(|e| fail(&book, e))) {
                Ok(report) => print(&report, ExitCode::SUCCESS),
                Err(code) => code,
            }
        }
        BookCommand::Verify { book, block, root } => {
            match read(&book).and_then(|text| report::verify_report(&text, block, root).map_err(|e| fail(&book, e))) {
                Ok(report) if report.matches => print(&report, ExitCode::SUCCESS),
                Ok(report) => {
                    eprintln!(
                        "coop: {}: root {} does not match the expected {}",
                        book.display(),
                        report.root,
                        report.expected
                    );
                    print(&report, ExitCode::FAILURE)
                }
                Err(code) => code,
            }
        }
    }
}

fn read(path: &Path) -> Result<String, ExitCode> {
    std::fs::read_to_string(path).map_err(|error| {
        eprintln!("coop: {}: {error}", path.display());
        ExitCode::from(2)
    })
}

fn fail(path: &Path, error: ReportError) -> ExitCode {
    eprintln!("coop: {}: {error}", path.display());
    ExitCode::from(2)
}

fn print(report: &impl Serialize, code: ExitCode) -> ExitCode {
    let mut out = BufWriter::new(std::io::stdout().lock());
    match serde_json::to_writer_pretty(&mut out, report)
        .map_err(std::io::Error::from)
        .and_then(|()| writeln!(out))
        .and_then(|()| out.flush())
    {
        Ok(()) => code,
        Err(error) => {
            eprintln!("coop: writing the report: {error}");
            ExitCode::FAILURE
        }
    }
}
