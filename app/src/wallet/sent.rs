//! Transactions sent from these pages, remembered in the browser's storage until they are mined or
//! dropped: a reload or another page still shows them in the header, with their hash and progress.

use alloy_primitives::B256;
use alloy_sol_types::SolCall;
use coop::contracts::{DataUnion, DataUnionFactory, Marketplace, TestDai, UniswapAdapter};
use serde::{Deserialize, Serialize};

/// A transaction as remembered: its hash and what it does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SentTx {
    pub hash: B256,
    /// What it does, in words ("Granting access").
    pub what: String,
    /// The chain it was sent on; `None` for one remembered before chains were kept.
    #[serde(default)]
    pub chain_id: Option<u64>,
}

impl SentTx {
    /// Whether the wallet, on chain `wallet_chain`, can say where the transaction stands. A
    /// transaction of another chain is unknown to the wallet's node: asking would count it as
    /// dropped, so it waits until the wallet is on its chain again.
    pub fn followed_on(&self, wallet_chain: Option<u64>) -> bool {
        match (self.chain_id, wallet_chain) {
            (Some(sent_on), Some(wallet_on)) => sent_on == wallet_on,
            (None, _) => true,
            (Some(_), None) => false,
        }
    }
}

/// Where a remembered transaction stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SentState {
    Pending,
    Mined {
        block: u64,
    },
    Reverted {
        block: u64,
    },
    /// The node no longer knows it (replaced or dropped): it will not be mined.
    Dropped,
}

impl SentState {
    /// How a mined transaction ended, from its JSON-RPC receipt.
    pub fn of_receipt(receipt: &serde_json::Value) -> Self {
        let block = receipt["blockNumber"]
            .as_str()
            .and_then(|n| u64::from_str_radix(n.trim_start_matches("0x"), 16).ok())
            .unwrap_or_default();
        match receipt["status"].as_str() {
            Some("0x1") => SentState::Mined { block },
            _ => SentState::Reverted { block },
        }
    }
}

/// A remembered transaction and where it stands; settled ones stay on the page until dismissed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tracked {
    pub tx: SentTx,
    pub state: SentState,
}

impl Tracked {
    /// One sentence for the header.
    pub fn describe(&self) -> String {
        let what = &self.tx.what;
        match self.state {
            SentState::Pending => format!("{what}: waiting to be mined."),
            SentState::Mined { block } => format!("{what}: confirmed in block {block}."),
            SentState::Reverted { block } => format!("{what}: failed in block {block}; nothing changed."),
            SentState::Dropped => format!("{what}: dropped by the network; it will not be mined."),
        }
    }
}

/// What a call does, from its selector, in the words the header uses.
pub fn describe_call(data: &[u8]) -> &'static str {
    let Some(selector) = data.get(..4) else { return "A transfer" };
    let known: [([u8; 4], &'static str); 18] = [
        (Marketplace::createProductCall::SELECTOR, "Publishing a product"),
        (Marketplace::updateProductCall::SELECTOR, "Updating a product"),
        (Marketplace::deleteProductCall::SELECTOR, "Unpublishing a product"),
        (Marketplace::redeployProductCall::SELECTOR, "Republishing a product"),
        (Marketplace::grantSubscriptionCall::SELECTOR, "Granting access"),
        (Marketplace::buyCall::SELECTOR, "Subscribing"),
        (UniswapAdapter::buyWithETHCall::SELECTOR, "A purchase"),
        (UniswapAdapter::buyWithERC20Call::SELECTOR, "A purchase"),
        (UniswapAdapter::buyWithDataPermitCall::SELECTOR, "A purchase"),
        (TestDai::approveCall::SELECTOR, "Allowing the payment"),
        (DataUnionFactory::createDataUnionCall::SELECTOR, "Deploying a Data Union"),
        (DataUnion::setAdminFeeCall::SELECTOR, "Changing the admin fee"),
        (DataUnion::applyAdminFeeChangeCall::SELECTOR, "Applying the admin fee"),
        (DataUnion::applyOperatorChangeCall::SELECTOR, "Applying the new operator"),
        (DataUnion::applyValidatorRemovalCall::SELECTOR, "Applying a validator's removal"),
        (DataUnion::withdrawAllCall::SELECTOR, "A withdrawal"),
        (DataUnion::withdrawAllToCall::SELECTOR, "A withdrawal"),
        (DataUnion::withdrawAllToSignedCall::SELECTOR, "A withdrawal"),
    ];
    known.iter().find(|(known, _)| known == selector).map_or("A transaction", |(_, what)| what)
}

#[cfg(feature = "hydrate")]
pub(crate) use watch::watch;

#[cfg(feature = "hydrate")]
mod watch {
    use leptos::prelude::*;
    use serde_json::{Value, json};

    use super::{SentState, Tracked};
    use crate::wallet::{Wallet, connection, js};

    /// How often remembered transactions are asked after.
    const POLL_MS: i32 = 2_000;
    /// Asks in a row that find the transaction unknown to the node before it counts as dropped.
    const UNKNOWN_TO_DROP: u32 = 3;

    thread_local! {
        static WATCHING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    }

    /// Shows the transactions remembered from before the reload, then follows every pending one
    /// (through the connected wallet) until it is mined or dropped. Runs for the page's lifetime,
    /// from the first call on (a returning visitor's page, or the first transaction sent).
    pub fn watch(wallet: Wallet) {
        if WATCHING.replace(true) {
            return;
        }
        let remembered = js::remembered_sent();
        wallet.sent.update(|all| {
            for tx in remembered {
                if !all.iter().any(|tracked| tracked.tx.hash == tx.hash) {
                    all.push(Tracked { tx, state: SentState::Pending });
                }
            }
        });
        leptos::task::spawn_local(async move {
            let mut unknown: std::collections::HashMap<alloy_primitives::B256, u32> = Default::default();
            loop {
                js::sleep(POLL_MS).await;
                if !wallet.is_connected() {
                    continue;
                }
                let on = wallet.chain_id.get_untracked();
                let pending: Vec<_> = wallet.sent.with_untracked(|all| {
                    let followed = |t: &&Tracked| t.state == SentState::Pending && t.tx.followed_on(on);
                    all.iter().filter(followed).map(|t| t.tx.hash).collect()
                });
                for hash in pending {
                    match connection::request(wallet, "eth_getTransactionReceipt", json!([hash])).await {
                        Ok(Value::Null) => {}
                        Ok(receipt) => {
                            wallet.settle_sent(hash, SentState::of_receipt(&receipt));
                            continue;
                        }
                        // A wallet that loses its connection for a moment should not lose the transaction.
                        Err(_) => continue,
                    }
                    match connection::request(wallet, "eth_getTransactionByHash", json!([hash])).await {
                        Ok(Value::Null) => {
                            let misses = unknown.entry(hash).or_default();
                            *misses += 1;
                            if *misses >= UNKNOWN_TO_DROP {
                                wallet.settle_sent(hash, SentState::Dropped);
                            }
                        }
                        Ok(_) => {
                            unknown.remove(&hash);
                        }
                        Err(_) => {}
                    }
                }
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_call_is_named_by_its_selector_and_anything_else_plainly() {
        let grant = Marketplace::grantSubscriptionCall {
            productId: B256::ZERO,
            addSeconds: alloy_primitives::U256::from(1),
            subscriber: alloy_primitives::Address::ZERO,
        };
        assert_eq!(describe_call(&grant.abi_encode()), "Granting access");
        assert_eq!(describe_call(&[0xde, 0xad, 0xbe, 0xef, 0]), "A transaction");
        assert_eq!(describe_call(&[]), "A transfer");
        let tx = SentTx { hash: B256::ZERO, what: "Granting access".into(), chain_id: Some(1) };
        let tracked = Tracked { tx, state: SentState::Pending };
        assert_eq!(tracked.describe(), "Granting access: waiting to be mined.");
    }

    #[test]
    fn a_transaction_is_asked_after_only_on_the_chain_it_was_sent_on() {
        let on = |chain_id| SentTx { hash: B256::ZERO, what: String::new(), chain_id };
        assert!(on(Some(31_337)).followed_on(Some(31_337)));
        assert!(!on(Some(31_337)).followed_on(Some(1)), "another chain's node would call it dropped");
        assert!(!on(Some(31_337)).followed_on(None));
        assert!(on(None).followed_on(Some(1)), "remembered before chains were kept: asked as before");
        // What the browser kept before knows no chain, and still reads.
        let old: SentTx = serde_json::from_str(&format!(r#"{{"hash":"{}","what":"A purchase"}}"#, B256::ZERO)).unwrap();
        assert_eq!(old.chain_id, None);
    }
}
