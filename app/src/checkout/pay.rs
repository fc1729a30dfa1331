//! Paying, step by step: check the quote against the latest block, then DATA signs a permit and buys in
//! one transaction, DAI approves (unless the allowance suffices) then buys, ETH buys in one transaction
//! and gets back what the swap did not use.

use alloy_primitives::{B256, U256};
use alloy_sol_types::SolCall;
use coop::contracts::{TestDai, UniswapAdapter};

use super::port::CheckoutQuote;
use super::quote::{Currency, show_bps};
use crate::wallet::{TxProgress, UnsignedTx};

/// What the buyer agreed to on the page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Order {
    /// The quote the page showed.
    pub quote: CheckoutQuote,
    pub slippage_bps: u64,
    /// The most the buyer pays, in the quote's currency.
    pub maximum: U256,
    /// Unix seconds; the transaction reverts after it.
    pub deadline: u64,
}

/// One step of a checkout as the page lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub label: String,
    pub status: StepStatus,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StepStatus {
    /// Not reached yet.
    Waiting,
    /// Not needed, and why.
    Skipped(String),
    /// A transaction's progress (or a signature's, which only waits for the wallet).
    Progress(TxProgress),
    Signed,
}

impl StepStatus {
    pub fn describe(&self) -> String {
        match self {
            StepStatus::Waiting => "Waiting for the step before.".to_owned(),
            StepStatus::Skipped(why) => why.clone(),
            StepStatus::Progress(TxProgress::WaitingForSignature) => "Confirm in your wallet.".to_owned(),
            StepStatus::Progress(progress) => progress.describe(),
            StepStatus::Signed => "Signed.".to_owned(),
        }
    }
}

/// The steps of paying with `currency`, before any has started.
pub fn steps(currency: Currency, approve: bool, maximum: U256) -> Vec<Step> {
    let step = |label: String| Step { label, status: StepStatus::Waiting };
    match currency {
        Currency::Eth => vec![step(format!(
            "Buy with up to {}; what the swap does not use comes back",
            currency.show_exact(maximum)
        ))],
        Currency::Dai => {
            let mut approve_step = step(format!("Allow the checkout to take up to {}", currency.show_exact(maximum)));
            if !approve {
                approve_step.status = StepStatus::Skipped("Not needed: your allowance already covers it.".to_owned());
            }
            vec![approve_step, step(format!("Buy with up to {}", currency.show_exact(maximum)))]
        }
        Currency::Data => vec![
            step(format!("Sign a permit for exactly {}", currency.show_exact(maximum))),
            step("Buy with DATA (one transaction)".to_owned()),
        ],
    }
}

/// Why a checkout stopped before anything was paid; `fresh` is the newer quote to show instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub reason: String,
    pub fresh: Option<Box<CheckoutQuote>>,
    /// The transaction that was mined and reverted (so only the network fee was spent).
    pub reverted: Option<B256>,
}

/// Compares the quote the buyer saw with a fresh one: a newer block may have moved the price past the
/// buyer's maximum, and a deadline may have passed on the buyer's clock.
pub fn check_fresh(order: &Order, fresh: &CheckoutQuote, clock: u64) -> Result<(), Refusal> {
    let currency = order.quote.request.currency;
    let refuse = |reason: String| Err(Refusal { reason, fresh: Some(Box::new(fresh.clone())), reverted: None });
    if fresh.terms.beneficiary != order.quote.terms.beneficiary {
        return refuse(format!(
            "The seller changed who is paid since your quote: it is now {}. Nothing was signed; check the new quote.",
            fresh.terms.beneficiary.to_checksum(None)
        ));
    }
    if fresh.price != order.quote.price {
        return refuse(format!(
            "The seller changed the price since your quote: it is now {}. Nothing was signed; check the new quote.",
            Currency::Data.show_exact(fresh.price)
        ));
    }
    if fresh.amount_in > order.maximum {
        return refuse(format!(
            "The price moved past your slippage limit of {}: it is now {}, more than your maximum of {}. Nothing was \
             signed or paid; check the new quote.",
            show_bps(order.slippage_bps),
            currency.show_exact(fresh.amount_in),
            currency.show_exact(order.maximum)
        ));
    }
    if clock.max(fresh.block_timestamp) > order.deadline {
        return refuse("The quote's deadline has passed. Nothing was signed or paid; check the new quote.".to_owned());
    }
    Ok(())
}

/// `buyWithETH` carrying `maximum`; the adapter refunds what the swap did not need.
pub fn buy_with_eth(order: &Order) -> UnsignedTx {
    let call = UniswapAdapter::buyWithETHCall {
        productId: order.quote.request.product,
        subscriptionSeconds: order.quote.request.seconds,
        maxPricePerSecond: order.quote.terms.price_per_second,
        beneficiary: order.quote.terms.beneficiary,
        deadline: U256::from(order.deadline),
    };
    UnsignedTx { to: order.quote.adapter, data: call.abi_encode().into(), value: order.maximum }
}

/// `approve(adapter, maximum)` on the ERC-20 paid with: exactly what this purchase may take.
pub fn approve(order: &Order) -> Option<UnsignedTx> {
    let token = order.quote.token?;
    let call = TestDai::approveCall { spender: order.quote.adapter, value: order.maximum };
    Some(UnsignedTx { to: token, data: call.abi_encode().into(), value: U256::ZERO })
}

/// `buyWithERC20` taking at most `maximum`.
pub fn buy_with_token(order: &Order) -> Option<UnsignedTx> {
    let call = UniswapAdapter::buyWithERC20Call {
        productId: order.quote.request.product,
        subscriptionSeconds: order.quote.request.seconds,
        maxPricePerSecond: order.quote.terms.price_per_second,
        beneficiary: order.quote.terms.beneficiary,
        tokenIn: order.quote.token?,
        maxAmountIn: order.maximum,
        deadline: U256::from(order.deadline),
    };
    Some(UnsignedTx { to: order.quote.adapter, data: call.abi_encode().into(), value: U256::ZERO })
}

/// `buyWithDataPermit` with the permit's signature.
pub fn buy_with_permit(order: &Order, (v, r, s): (u8, B256, B256)) -> UnsignedTx {
    let call = UniswapAdapter::buyWithDataPermitCall {
        productId: order.quote.request.product,
        subscriptionSeconds: order.quote.request.seconds,
        maxPricePerSecond: order.quote.terms.price_per_second,
        beneficiary: order.quote.terms.beneficiary,
        deadline: U256::from(order.deadline),
        v,
        r,
        s,
    };
    UnsignedTx { to: order.quote.adapter, data: call.abi_encode().into(), value: U256::ZERO }
}

#[cfg(feature = "hydrate")]
pub use run::pay;

#[cfg(feature = "hydrate")]
mod run {
    use leptos::prelude::*;
    use serde_json::json;

    use super::*;
    use crate::checkout::permit::{Permit, split_signature, typed_data};
    use crate::checkout::port::quote_checkout;
    use crate::error::AppError;
    use crate::wallet::{Wallet, transaction::Confirmed};

    /// Pays for `order`, reporting each step in `steps` (as [`super::steps`] laid them out).
    pub async fn pay(wallet: Wallet, order: Order, steps: RwSignal<Vec<Step>>) -> Result<Confirmed, Refusal> {
        let deadline = order.deadline;
        match send_steps(wallet, order, steps).await {
            // A revert replayed at the block before may not say why; a passed deadline is the usual cause.
            Err(refusal) if refusal.reverted.is_some() && !refusal.reason.contains("deadline expired") => {
                match mined_at(wallet, refusal.reverted).await {
                    Some(time) if time > deadline => Err(Refusal {
                        reason: "The transaction failed: the deadline expired before it was mined. Nothing was paid \
                                 apart from the network fee; check the new quote."
                            .to_owned(),
                        ..refusal
                    }),
                    _ => Err(refusal),
                }
            }
            outcome => outcome,
        }
    }

    /// The timestamp of the block that mined `hash`, as the wallet's node tells.
    async fn mined_at(wallet: Wallet, hash: Option<B256>) -> Option<u64> {
        let receipt = wallet.request("eth_getTransactionReceipt", json!([hash?])).await.ok()?;
        let block = receipt["blockNumber"].as_str()?.to_owned();
        let header = wallet.request("eth_getBlockByNumber", json!([block, false])).await.ok()?;
        u64::from_str_radix(header["timestamp"].as_str()?.trim_start_matches("0x"), 16).ok()
    }

    async fn send_steps(wallet: Wallet, order: Order, steps: RwSignal<Vec<Step>>) -> Result<Confirmed, Refusal> {
        let refused = |reason: String| Refusal { reason, fresh: None, reverted: None };
        let buyer = wallet.address.get_untracked().ok_or_else(|| refused("Connect your wallet first.".to_owned()))?;
        if order.quote.request.buyer != Some(buyer) {
            return Err(refused("The wallet's account changed; check the new quote.".to_owned()));
        }
        // The quote may be older than the latest block: ask again, and stop if it moved past what was agreed.
        let fresh = match quote_checkout(order.quote.request.clone(), None).await {
            Ok(fresh) => fresh,
            Err(AppError::Unreachable(_)) => {
                return Err(refused("Could not reach Coop to check the price. Nothing was signed.".to_owned()));
            }
            Err(error) => return Err(refused(format!("Could not check the price: {error}. Nothing was signed."))),
        };
        check_fresh(&order, &fresh, crate::checkout::form::clock())?;
        let report = move |index: usize| {
            move |progress: TxProgress| steps.update(|steps| steps[index].status = StepStatus::Progress(progress))
        };
        let failed =
            |failure: crate::wallet::TxFailure| Refusal { reverted: failure.hash, reason: failure.reason, fresh: None };
        let allowance = fresh.buyer.as_ref().map(|buyer| buyer.funds.allowance).unwrap_or_default();
        match order.quote.request.currency {
            Currency::Eth => wallet.send_transaction_and_wait(buy_with_eth(&order), report(0)).await.map_err(failed),
            Currency::Dai => {
                let (Some(approve), Some(buy)) = (approve(&order), buy_with_token(&order)) else {
                    return Err(refused("The quote names no token to pay with.".to_owned()));
                };
                if allowance < order.maximum {
                    wallet.send_transaction_and_wait(approve, report(0)).await.map_err(failed)?;
                } else {
                    steps.update(|steps| {
                        steps[0].status = StepStatus::Skipped("Not needed: your allowance already covers it.".into())
                    });
                }
                wallet.send_transaction_and_wait(buy, report(1)).await.map_err(failed)
            }
            Currency::Data => {
                let (Some(domain), Some(state)) = (fresh.permit.as_ref(), fresh.buyer.as_ref()) else {
                    return Err(refused("The quote has no permit details for DATA.".to_owned()));
                };
                let permit = Permit {
                    owner: buyer,
                    spender: order.quote.adapter,
                    value: fresh.price,
                    nonce: state.permit_nonce,
                    deadline: U256::from(order.deadline),
                };
                report(0)(TxProgress::WaitingForSignature);
                let data = typed_data(domain, &permit).to_string();
                let signed = wallet
                    .request("eth_signTypedData_v4", json!([buyer.to_checksum(None), data]))
                    .await
                    .map_err(|error| error.to_string());
                let signature = match signed.map(|value| value.as_str().and_then(split_signature)) {
                    Ok(Some(signature)) => signature,
                    Ok(None) => Err(refused("The wallet gave no usable signature. Nothing was paid.".to_owned()))?,
                    Err(reason) => {
                        report(0)(TxProgress::Failed(crate::wallet::TxFailure { hash: None, reason: reason.clone() }));
                        return Err(refused(reason));
                    }
                };
                steps.update(|steps| steps[0].status = StepStatus::Signed);
                wallet.send_transaction_and_wait(buy_with_permit(&order, signature), report(1)).await.map_err(failed)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use alloy_primitives::{Address, B256};

    use super::*;
    use crate::checkout::port::{QuoteRequest, Terms};

    fn order(amount_in: u64, maximum: u64) -> Order {
        let quote = CheckoutQuote {
            request: QuoteRequest {
                product: B256::repeat_byte(7),
                seconds: U256::from(3_600),
                currency: Currency::Eth,
                buyer: Some(Address::repeat_byte(6)),
            },
            price: U256::from(1_000),
            terms: Terms { price_per_second: U256::from(1), beneficiary: Address::repeat_byte(5) },
            amount_in: U256::from(amount_in),
            hops: Vec::new(),
            block: 10,
            block_timestamp: 1_000,
            gas_price: U256::from(1),
            adapter: Address::repeat_byte(9),
            token: None,
            permit: None,
            buyer: None,
        };
        Order { quote, slippage_bps: 50, maximum: U256::from(maximum), deadline: 2_200 }
    }

    #[test]
    fn a_beneficiary_changed_since_the_quote_is_refused_before_signing() {
        let order = order(1_000, 1_005);
        let mut fresh = order.quote.clone();
        fresh.terms.beneficiary = Address::repeat_byte(0xee);
        let refusal = check_fresh(&order, &fresh, 1_500).unwrap_err();
        assert!(refusal.reason.contains("changed who is paid"), "{}", refusal.reason);
        assert_eq!(refusal.fresh.as_deref(), Some(&fresh));
    }

    #[test]
    fn a_fresh_quote_within_the_maximum_goes_ahead() {
        let order = order(1_000, 1_005);
        let mut fresh = order.quote.clone();
        fresh.block = 11;
        fresh.amount_in = U256::from(1_005);
        assert_eq!(check_fresh(&order, &fresh, 1_500), Ok(()));
    }

    #[test]
    fn a_price_past_the_slippage_or_a_passed_deadline_is_refused() {
        let order = order(1_000, 1_005);
        let mut fresh = order.quote.clone();
        fresh.amount_in = U256::from(1_006);
        let refusal = check_fresh(&order, &fresh, 1_500).unwrap_err();
        assert!(refusal.reason.contains("moved past your slippage limit of 0.5 %"), "{}", refusal.reason);
        assert_eq!(refusal.fresh, Some(Box::new(fresh)));
        let late = check_fresh(&order, &order.quote, 2_201).unwrap_err();
        assert!(late.reason.contains("deadline has passed"));
    }

    #[test]
    fn an_eth_purchase_sends_the_maximum_and_a_dai_one_approves_exactly_it() {
        let mut order = order(1_000, 1_005);
        let tx = buy_with_eth(&order);
        assert_eq!(tx.value, U256::from(1_005));
        assert_eq!(&tx.data[..4], UniswapAdapter::buyWithETHCall::SELECTOR.as_slice());
        assert_eq!(approve(&order), None, "ETH approves nothing");
        order.quote.token = Some(Address::repeat_byte(0xda));
        let approval = TestDai::approveCall::abi_decode(&approve(&order).unwrap().data).unwrap();
        assert_eq!(approval.value, U256::from(1_005));
        let buy = UniswapAdapter::buyWithERC20Call::abi_decode(&buy_with_token(&order).unwrap().data).unwrap();
        assert_eq!((buy.maxAmountIn, buy.deadline), (U256::from(1_005), U256::from(2_200)));
    }
}
