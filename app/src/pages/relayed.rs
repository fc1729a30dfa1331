//! Withdrawing without ETH: the member signs an EIP-712 `Withdrawal` and the server's relayer sends
//! it (`withdrawAllToSigned`), paying the gas and taking the fee shown before signing, in DATA.

use alloy_primitives::Address;
use leptos::prelude::*;
use serde_json::{Value, json};

use crate::components::error_notice::ErrorNotice;
use crate::pages::union::format::data_exact;
use crate::unions::{MemberFigures, RelayOffer};
use crate::wallet::typed_data::{self, Domain};
use crate::wallet::use_wallet;

/// How long a signed withdrawal stays valid.
#[cfg(feature = "hydrate")]
const VALID_SECONDS: u64 = 10 * 60;

/// The typed data as `eth_signTypedData_v4` takes it (numbers as decimal strings): the union's domain
/// (`coop::contracts::withdrawal_domain`) and the `Withdrawal` it checks.
pub fn typed_data(offer: &RelayOffer, union: Address, member: Address, recipient: Address, deadline: u64) -> Value {
    let (name, version) = coop::contracts::UNION_DOMAIN;
    let domain = Domain { name, version, chain_id: offer.chain_id, verifying_contract: union };
    let fields = [
        ("member", "address"),
        ("recipient", "address"),
        ("fee", "uint256"),
        ("nonce", "uint256"),
        ("deadline", "uint256"),
    ];
    let message = json!({
        "member": member.to_checksum(None),
        "recipient": recipient.to_checksum(None),
        "fee": offer.fee.to_string(),
        "nonce": offer.nonce.to_string(),
        "deadline": deadline.to_string(),
    });
    typed_data::typed_data(domain, "Withdrawal", &fields, message)
}

/// Where the relayed withdrawal stands.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Stage {
    Idle,
    Asking,
    Offered(RelayOffer),
    Signing,
    // Set only in the browser, once the wallet signed.
    #[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
    Relaying,
    Done(String),
}

#[component]
pub fn RelayedWithdraw(figures: Signal<Option<MemberFigures>>) -> impl IntoView {
    let wallet = use_wallet();
    let stage = RwSignal::new(Stage::Idle);
    let problem = RwSignal::new(None::<String>);
    let own = move || figures.with(|f| f.as_ref().map(|f| f.member)) == wallet.address.get();
    let withdrawable = move || figures.with(|f| f.as_ref().map(|f| f.withdrawable).unwrap_or_default());
    let ids = move || figures.with_untracked(|f| f.as_ref().map(|f| (f.union, f.member)));
    let ask = move |_| {
        let Some((union, member)) = ids() else { return };
        problem.set(None);
        stage.set(Stage::Asking);
        leptos::task::spawn_local(async move {
            match crate::unions::get_relay_offer(union, member).await {
                Ok(offer) => stage.set(Stage::Offered(offer)),
                Err(error) => {
                    problem.set(Some(reason(error)));
                    stage.set(Stage::Idle);
                }
            }
        });
    };
    let sign = move |_| {
        let (Some((union, member)), Stage::Offered(offer)) = (ids(), stage.get_untracked()) else { return };
        stage.set(Stage::Signing);
        leptos::task::spawn_local(async move {
            match sign_and_relay(wallet, union, member, offer, stage).await {
                Ok(done) => stage.set(Stage::Done(done)),
                Err(reason) => {
                    problem.set(Some(reason));
                    stage.set(Stage::Idle);
                }
            }
        });
    };
    view! {
        <div class="flex flex-col gap-2 border-t border-stone-100 pt-3 text-sm" data-relay>
            <p class="text-stone-600">
                "No ETH for gas? Sign the withdrawal and Coop's relayer sends it, taking a fee in DATA from it."
            </p>
            {move || match stage.get() {
                Stage::Idle | Stage::Asking => view! {
                    <button
                        type="button"
                        class="min-h-11 self-start rounded-full border border-stone-300 px-4 font-medium hover:bg-stone-50 disabled:opacity-60"
                        disabled=move || !own() || withdrawable().is_zero() || stage.get() == Stage::Asking
                        on:click=ask
                    >
                        "Without ETH: use the relayer"
                    </button>
                }.into_any(),
                Stage::Offered(offer) => view! {
                    <p data-relay-offer>
                        {format!(
                            "Fee {}; you get {} in your wallet. The signature is valid for 10 minutes.",
                            data_exact(offer.fee),
                            data_exact(offer.withdrawable.saturating_sub(offer.fee)),
                        )}
                    </p>
                    <button
                        type="button"
                        class="min-h-11 self-start rounded-full bg-emerald-700 px-4 font-medium text-white hover:bg-emerald-800"
                        on:click=sign
                    >
                        "Sign and withdraw"
                    </button>
                }.into_any(),
                Stage::Signing => view! { <p role="status">"Confirm the signature in your wallet."</p> }.into_any(),
                Stage::Relaying => view! { <p role="status">"The relayer is sending it…"</p> }.into_any(),
                Stage::Done(done) => view! { <p role="status">{done}</p> }.into_any(),
            }}
            {move || problem.get().map(|error| view! { <ErrorNotice message=error /> })}
        </div>
    }
}

/// Why the server refused, in plain words.
fn reason(error: crate::error::AppError) -> String {
    match crate::error::answer_or::<()>(Err(error), || "The server does not answer; try again shortly.".to_owned()) {
        Ok(()) => String::new(),
        Err(reason) => reason,
    }
}

#[cfg(feature = "hydrate")]
async fn sign_and_relay(
    wallet: crate::wallet::Wallet,
    union: Address,
    member: Address,
    offer: RelayOffer,
    stage: RwSignal<Stage>,
) -> Result<String, String> {
    let deadline = (js_sys::Date::now() / 1_000.0) as u64 + VALID_SECONDS;
    let data = typed_data(&offer, union, member, member, deadline).to_string();
    let signed = wallet
        .request("eth_signTypedData_v4", json!([member.to_checksum(None), data]))
        .await
        .map_err(|error| error.to_string())?;
    let signature = signed.as_str().ok_or("The wallet gave no signature. Nothing was withdrawn.")?.to_owned();
    stage.set(Stage::Relaying);
    let signed = crate::unions::SignedWithdrawal { recipient: member, fee: offer.fee, deadline, signature };
    let relayed = crate::unions::relay_withdrawal(union, member, signed).await.map_err(reason)?;
    Ok(format!(
        "On its way: {} to your wallet, {} to the relayer. Your figures change once it is mined.",
        data_exact(relayed.amount),
        data_exact(relayed.fee)
    ))
}

#[cfg(not(feature = "hydrate"))]
async fn sign_and_relay(
    _wallet: crate::wallet::Wallet,
    _union: Address,
    _member: Address,
    _offer: RelayOffer,
    _stage: RwSignal<Stage>,
) -> Result<String, String> {
    Err("Signing needs the page's script.".to_owned())
}

#[cfg(test)]
mod tests {
    use alloy_primitives::{U256, address};

    use super::*;

    #[test]
    fn the_typed_data_names_the_unions_domain_and_every_field() {
        let offer = RelayOffer {
            relayer: Address::repeat_byte(1),
            fee: U256::from(5),
            withdrawable: U256::from(100),
            nonce: U256::from(2),
            chain_id: 31_337,
        };
        let union = address!("0x00000000000000000000000000000000000000aa");
        let member = address!("0x00000000000000000000000000000000000000bb");
        let data = typed_data(&offer, union, member, member, 1_000);
        assert_eq!(data["domain"]["verifyingContract"], union.to_checksum(None));
        assert_eq!(data["domain"]["chainId"], 31_337);
        assert_eq!(data["message"]["fee"], "5");
        assert_eq!(data["message"]["nonce"], "2");
        assert_eq!(data["message"]["deadline"], "1000");
        // The type string the contract hashes, field for field.
        let fields: Vec<String> = data["types"]["Withdrawal"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| format!("{} {}", f["type"].as_str().unwrap(), f["name"].as_str().unwrap()))
            .collect();
        use alloy_sol_types::SolStruct;
        assert_eq!(format!("Withdrawal({})", fields.join(",")), coop::contracts::Withdrawal::eip712_root_type());
        assert_eq!(data["domain"]["name"], coop::contracts::UNION_DOMAIN.0);
    }
}
