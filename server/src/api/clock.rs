//! Chain time: the timestamp of the block an answer is as of. Freeze periods and subscriptions are
//! judged by it, never by the wall clock, so every replica at the same block gives the same answer.

use std::collections::BTreeMap;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use alloy::eips::BlockNumberOrTag;
use alloy::providers::{DynProvider, Provider};

use crate::http::ApiError;

const TIMEOUT: Duration = Duration::from_secs(3);

/// Block timestamps kept: the blocks answers stand at, and the blocks unions were created in.
const KEPT: usize = 4096;

/// The timestamps of the blocks asked for, kept so that repeated reads of one block ask the chain
/// once. The oldest (lowest) blocks are forgotten first. A block a reorg replaced keeps the time of
/// the block it replaced (in practice seconds apart).
#[derive(Debug, Default)]
pub struct ChainClock {
    times: Mutex<BTreeMap<u64, u64>>,
}

impl ChainClock {
    /// The timestamp (seconds) of `block`.
    pub async fn time_of(&self, chain: &DynProvider, block: u64) -> Result<u64, ApiError> {
        if let Some(time) = self.times.lock().unwrap_or_else(PoisonError::into_inner).get(&block) {
            return Ok(*time);
        }
        let header = tokio::time::timeout(TIMEOUT, chain.get_block_by_number(BlockNumberOrTag::Number(block)))
            .await
            .map_err(|_| ApiError::chain_unavailable(format!("no answer within {} s", TIMEOUT.as_secs())))?
            .map_err(ApiError::chain_unavailable)?
            .ok_or_else(|| ApiError::chain_unavailable(format!("block {block} is not on the chain (a reorg?)")))?;
        let time = header.header.timestamp;
        let mut times = self.times.lock().unwrap_or_else(PoisonError::into_inner);
        times.insert(block, time);
        if times.len() > KEPT {
            times.pop_first();
        }
        Ok(time)
    }
}
