//! The validator acting on chain: with the validator key, it vetoes every commit whose book the
//! validator rebuilds differently (`validator::check`), while the commit is still frozen, in the unions
//! that name this key as a validator. A wrong root then never becomes provable; members go on
//! withdrawing with older commits, and the operator commits the book again.
//!
//! A veto answers a commit, so the policy's commits per union per day also bound the vetoes, and the
//! key's gas counts against the daily budget like the operator's and the agent's.

use std::collections::HashSet;
use std::time::Duration;

use alloy::eips::BlockNumberOrTag;
use alloy::primitives::{Address, U256};
use alloy::providers::{DynProvider, Provider};
use alloy::signers::local::PrivateKeySigner;
use alloy::sol_types::SolCall;
use anyhow::Context;
use coop::contracts::DataUnion;
use tokio::sync::watch;

use crate::live::ReadModels;
use crate::policy::{Key, Serving};
use crate::sender::{self, Patience};
use crate::validator;

/// How often the guard looks for new wrong commits.
const EVERY: Duration = Duration::from_secs(2);

/// A commit the guard vetoed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Vetoed {
    pub union: Address,
    pub book_block: u64,
    /// The block the veto was mined in.
    pub block: u64,
}

pub struct Guard {
    chain: DynProvider,
    address: Address,
    serving: Serving,
    patience: Patience,
    /// Commits already vetoed (or tried), by union and book block: each is sent once per role.
    tried: HashSet<(Address, u64)>,
}

impl Guard {
    pub fn new(rpc_url: &url::Url, key: PrivateKeySigner) -> Self {
        Guard {
            address: key.address(),
            chain: sender::signing_provider(rpc_url, key),
            serving: Serving::default(),
            patience: Patience::default(),
            tried: HashSet::new(),
        }
    }

    pub fn serving(mut self, serving: Serving) -> Self {
        self.serving = serving;
        self
    }

    pub fn address(&self) -> Address {
        self.address
    }

    /// Vetoes every wrong commit still frozen in a union that names this key as a validator.
    pub async fn step(&mut self, models: &ReadModels) -> anyhow::Result<Vec<Vetoed>> {
        let latest = self
            .chain
            .get_block_by_number(BlockNumberOrTag::Latest)
            .await
            .context("asking for the latest block")?
            .context("the node has no latest block")?;
        // The next block's time is at least this: a commit frozen now may still be vetoed in it.
        let now = latest.header.timestamp;
        let due = {
            let unions = models.unions().await;
            let mut due = Vec::new();
            for mismatch in validator::check(&unions).mismatches {
                let Some(union) = unions.get(&mismatch.union) else { continue };
                let guarded =
                    union.validators.get(&self.address).is_some_and(|removal| removal.is_none_or(|at| at > now));
                let frozen = union.state().commits().iter().any(|commit| {
                    commit.book_block == mismatch.book_block && !commit.is_unlocked(now, union.freeze_period)
                });
                if guarded && frozen && !self.tried.contains(&(mismatch.union, mismatch.book_block)) {
                    due.push((mismatch.union, union.state().owner(), mismatch.book_block));
                }
            }
            due
        };
        let mut vetoed = Vec::new();
        for (union, owner, book_block) in due {
            if let Err(refusal) = self.serving.allowance(Key::Validator, union, owner, 1) {
                tracing::warn!(target: "guard", %union, book_block, reason = refusal.name(), "a wrong commit is not vetoed: held back");
                continue;
            }
            self.tried.insert((union, book_block));
            let call = DataUnion::vetoCommitCall { blockNumber: U256::from(book_block) };
            let what = format!("the veto of the commit of block {book_block}");
            match sender::send(&self.chain, self.address, union, call.abi_encode(), &what, self.patience).await {
                Ok(mined) => {
                    self.serving.record(Key::Validator, union, 1, mined.cost);
                    tracing::warn!(target: "guard", %union, book_block, block = mined.block, "vetoed a wrong commit");
                    vetoed.push(Vetoed { union, book_block, block: mined.block });
                }
                Err(error) => {
                    tracing::warn!(target: "guard", %union, book_block, "could not veto a wrong commit: {error:#}")
                }
            }
        }
        Ok(vetoed)
    }

    /// Steps every few seconds until `stopped`.
    pub async fn run(mut self, models: ReadModels, mut stopped: watch::Receiver<bool>) {
        tracing::info!(target: "guard", validator = %self.address, "guarding the unions that name this validator");
        loop {
            if let Err(error) = self.step(&models).await {
                tracing::warn!(target: "guard", "checking for wrong commits failed, will retry: {error:#}");
            }
            tokio::select! {
                () = tokio::time::sleep(EVERY) => {}
                _ = stopped.changed() => return,
            }
        }
    }
}
