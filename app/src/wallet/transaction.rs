//! Sending a transaction the server prepared (`to`, `data`, `value`) through the wallet, and following
//! it: waiting for the signature, pending with its hash, then confirmed or failed with the reason.

use alloy_primitives::{Address, B256, Bytes, U256};
use serde::{Deserialize, Serialize};

/// A transaction for the wallet to sign and send; the wallet fills in gas, fees and nonce.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnsignedTx {
    pub to: Address,
    pub data: Bytes,
    /// Wei sent along (ETH checkouts); zero for most calls.
    pub value: U256,
}

/// Where a transaction stands.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum TxProgress {
    #[default]
    Idle,
    /// The wallet shows the transaction; the person has not answered yet.
    WaitingForSignature,
    /// Sent; waiting to be mined.
    Pending {
        hash: B256,
    },
    Confirmed(Confirmed),
    Failed(TxFailure),
}

impl TxProgress {
    /// One plain sentence for the page.
    pub fn describe(&self) -> String {
        match self {
            TxProgress::Idle => String::new(),
            TxProgress::WaitingForSignature => "Confirm the transaction in your wallet.".to_owned(),
            TxProgress::Pending { hash } => format!("Waiting for the network to confirm transaction {hash}."),
            TxProgress::Confirmed(confirmed) => format!("Confirmed in block {}.", confirmed.block),
            TxProgress::Failed(failure) => failure.reason.clone(),
        }
    }

    pub fn is_busy(&self) -> bool {
        matches!(self, TxProgress::WaitingForSignature | TxProgress::Pending { .. })
    }
}

/// A mined, successful transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Confirmed {
    pub hash: B256,
    pub block: u64,
}

/// A transaction that was refused, could not be sent, or reverted; `reason` is for the person.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}")]
pub struct TxFailure {
    /// Set when the transaction was sent (and then reverted or was lost).
    pub hash: Option<B256>,
    pub reason: String,
}

#[cfg(feature = "hydrate")]
pub(crate) use send::send;

#[cfg(feature = "hydrate")]
mod send {
    use super::*;
    use crate::wallet::provider::ProviderError;
    use crate::wallet::reason::revert_reason;
    use crate::wallet::sent::{SentState, SentTx, describe_call};
    use crate::wallet::{Wallet, WalletError, connection, js};
    use leptos::prelude::*;
    use serde_json::{Value, json};

    /// How often to ask for the receipt, and for how long before giving up following it.
    const POLL_MS: i32 = 1_000;
    const FOLLOW_FOR_MS: i32 = 10 * 60 * 1_000;

    pub async fn send(
        wallet: Wallet,
        tx: UnsignedTx,
        report: impl Fn(TxProgress) + 'static,
    ) -> Result<Confirmed, TxFailure> {
        report(TxProgress::WaitingForSignature);
        let outcome = follow(wallet, &tx, &report).await;
        report(match &outcome {
            Ok(confirmed) => TxProgress::Confirmed(confirmed.clone()),
            Err(failure) => TxProgress::Failed(failure.clone()),
        });
        outcome
    }

    async fn follow(wallet: Wallet, tx: &UnsignedTx, report: &impl Fn(TxProgress)) -> Result<Confirmed, TxFailure> {
        let unsent = |error: WalletError| TxFailure { hash: None, reason: error.to_string() };
        let Some(from) = wallet.address.get_untracked() else { return Err(unsent(WalletError::Unauthorized)) };
        connection::ensure_right_chain(wallet).await.map_err(unsent)?;
        let call = json!({
            "from": from.to_checksum(None),
            "to": tx.to.to_checksum(None),
            "data": tx.data.to_string(),
            "value": format!("{:#x}", tx.value),
        });
        let hash = match connection::request_raw(wallet, "eth_sendTransaction", json!([call.clone()])).await {
            Ok(hash) => hash,
            Err(error) => return Err(TxFailure { hash: None, reason: refusal(wallet, &error) }),
        };
        let hash: B256 = hash.as_str().and_then(|hash| hash.parse().ok()).ok_or_else(|| unsent(WalletError::Server))?;
        report(TxProgress::Pending { hash });
        let (what, chain_id) = (describe_call(&tx.data).to_owned(), wallet.chain_id.get_untracked());
        wallet.remember_sent(SentTx { hash, what, chain_id });

        let mut waited = 0;
        let receipt = loop {
            match connection::request(wallet, "eth_getTransactionReceipt", json!([hash])).await {
                Ok(Value::Null) => {}
                Ok(receipt) => break receipt,
                // A wallet that loses its connection for a moment should not lose the transaction.
                Err(_) => {}
            }
            if waited >= FOLLOW_FOR_MS {
                return Err(TxFailure {
                    hash: Some(hash),
                    reason: "The transaction was sent but is not confirmed after ten minutes. It may still go \
                             through: check it in your wallet."
                        .to_owned(),
                });
            }
            js::sleep(POLL_MS).await;
            waited += POLL_MS;
        };
        let block =
            receipt["blockNumber"].as_str().and_then(|n| u64::from_str_radix(n.trim_start_matches("0x"), 16).ok());
        let outcome = SentState::of_receipt(&receipt);
        wallet.settle_sent(hash, outcome);
        if let SentState::Mined { block } = outcome {
            return Ok(Confirmed { hash, block });
        }
        // Replaying the call at the block it failed in gives the revert data the receipt leaves out.
        let replay_block = block.map_or_else(|| "latest".to_owned(), |n| format!("{:#x}", n.saturating_sub(1)));
        let reason = match connection::request_raw(wallet, "eth_call", json!([call, replay_block])).await {
            Err(error) => reverted(&error),
            Ok(_) => None,
        };
        Err(TxFailure {
            hash: Some(hash),
            reason: match reason {
                Some(reason) => format!("The transaction failed: {reason}."),
                None => "The transaction failed on chain. Nothing was changed apart from the network fee.".to_owned(),
            },
        })
    }

    /// Why the wallet did not send: the person said no, or the chain would revert it.
    fn refusal(wallet: Wallet, error: &ProviderError) -> String {
        if let Some(reason) = reverted(error) {
            return format!("The transaction would fail: {reason}. Nothing was sent.");
        }
        error.to_wallet_error(&wallet.chain_name()).to_string()
    }

    fn reverted(error: &ProviderError) -> Option<String> {
        if let Some(reason) = error.revert_data().as_deref().and_then(revert_reason) {
            return Some(reason);
        }
        error.message.strip_prefix("execution reverted: ").map(str::to_owned)
    }
}
