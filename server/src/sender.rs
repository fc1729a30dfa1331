//! The transactions the server's own keys send (the operator's commits, the join-part agent's joins
//! and parts). A node may drop a transaction or leave it in its pool for good (fees too low after a
//! rise, a pool full of better offers), and a reorg may take a mined one out, so none is waited for
//! without end: each has a receipt deadline, and once it passes, or once the node knows the
//! transaction no more, it is sent again with the same nonce and fees a quarter higher (nodes ask at
//! least a tenth more of a replacement). After the last try the send fails and the worker goes on;
//! whichever of the tries is mined later is seen by the indexer like any other transaction.

use std::time::{Duration, Instant};

use alloy::eips::BlockId;
use alloy::primitives::{Address, B256, U256};
use alloy::providers::{DynProvider, Provider, ProviderBuilder};
use alloy::rpc::types::{TransactionReceipt, TransactionRequest};
use alloy::signers::local::PrivateKeySigner;
use anyhow::{Context, bail};

/// How long a send waits, and how often it raises its fees.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Patience {
    /// How long each try waits for its receipt.
    pub deadline: Duration,
    /// Tries after the first, each with higher fees.
    pub replacements: u32,
    /// How often the receipts are asked for.
    pub poll: Duration,
}

impl Default for Patience {
    fn default() -> Self {
        Patience { deadline: Duration::from_secs(90), replacements: 3, poll: Duration::from_millis(500) }
    }
}

/// A mined transaction: its block, and what it cost (gas used times the price paid), in wei.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mined {
    pub block: u64,
    pub cost: U256,
}

/// Sends `input` to `to` from `from` (the key `chain` signs with) and waits for it to be mined,
/// replacing it when it is not; a revert is an error naming `what`.
pub async fn send(
    chain: &DynProvider,
    from: Address,
    to: Address,
    input: Vec<u8>,
    what: &str,
    patience: Patience,
) -> anyhow::Result<Mined> {
    let request = TransactionRequest::default().from(from).to(to).input(input.into());
    let nonce = chain.get_transaction_count(from).pending().await.with_context(|| format!("{what}: nonce"))?;
    // Estimated at the pending block, where it lands, with a quarter more: state can change between
    // the estimate and the block; only the gas used is paid.
    let estimate = chain
        .estimate_gas(request.clone())
        .block(BlockId::pending())
        .await
        .with_context(|| format!("estimating the gas of {what} to {to}"))?;
    let fees = chain.estimate_eip1559_fees().await.with_context(|| format!("{what}: fees"))?;
    let request = request.nonce(nonce).gas_limit(estimate + estimate / 4);
    let mut tries: Vec<B256> = Vec::new();
    for attempt in 0..=patience.replacements {
        let raise = |fee: u128| fee.saturating_mul(5u128.pow(attempt)) / 4u128.pow(attempt);
        let this_try = request
            .clone()
            .max_fee_per_gas(raise(fees.max_fee_per_gas))
            .max_priority_fee_per_gas(raise(fees.max_priority_fee_per_gas));
        match chain.send_transaction(this_try).await {
            Ok(pending) => tries.push(*pending.tx_hash()),
            // The first try must go out; a replacement may be refused because an earlier try was
            // mined meanwhile, which the receipts below show.
            Err(error) if tries.is_empty() => return Err(error).with_context(|| format!("sending {what} to {to}")),
            Err(error) => tracing::warn!(target: "sender", %to, nonce, "{what}: replacement refused: {error}"),
        }
        if let Some(receipt) = first_receipt(chain, &tries, patience).await? {
            if !receipt.status() {
                bail!("{what} to {to} reverted (transaction {})", receipt.transaction_hash);
            }
            let block = receipt.block_number.with_context(|| format!("{what} to {to}: a receipt without a block"))?;
            let cost = U256::from(receipt.gas_used) * U256::from(receipt.effective_gas_price);
            return Ok(Mined { block, cost });
        }
        tracing::warn!(target: "sender", %to, nonce, attempt, "{what}: not mined; sending it again with higher fees");
    }
    bail!("{what} to {to} was not mined after {} tries (nonce {nonce}); giving up for now", tries.len())
}

/// The receipt of whichever try is mined first, or `None` once the deadline passed or the node no
/// longer knows any of them (dropped from its pool, or taken out of the chain by a reorg): then there
/// is nothing to wait for.
async fn first_receipt(
    chain: &DynProvider,
    tries: &[B256],
    patience: Patience,
) -> anyhow::Result<Option<TransactionReceipt>> {
    let deadline = Instant::now() + patience.deadline;
    loop {
        let mut known = false;
        for hash in tries {
            let receipt = chain.get_transaction_receipt(*hash).await.with_context(|| format!("receipt of {hash}"))?;
            if receipt.is_some() {
                return Ok(receipt);
            }
            known |=
                chain.get_transaction_by_hash(*hash).await.with_context(|| format!("transaction {hash}"))?.is_some();
        }
        if !known {
            tracing::warn!(target: "sender", "the node no longer knows the transaction (dropped, or reorganised away)");
            return Ok(None);
        }
        if Instant::now() >= deadline {
            return Ok(None);
        }
        tokio::time::sleep(patience.poll).await;
    }
}

/// A provider that signs with `key` and asks the node for the nonce of every transaction. The
/// default filler caches nonces and spends one even when a call reverts before it is sent, after which
/// every later transaction from the key waits behind the gap forever.
pub fn signing_provider(rpc_url: &url::Url, key: PrivateKeySigner) -> DynProvider {
    ProviderBuilder::new()
        .disable_recommended_fillers()
        .with_gas_estimation()
        .with_simple_nonce_management()
        .fetch_chain_id()
        .wallet(key)
        .connect_client(crate::rpc::client(rpc_url))
        .erased()
}
