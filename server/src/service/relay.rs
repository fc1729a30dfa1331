//! Withdrawals a member signs and this server sends (`DataUnion.withdrawAllToSigned`), so that a
//! member without ETH can withdraw: the relayer key pays the gas and takes the fee the member signed,
//! in DATA, from what is withdrawn. The fee asked covers the gas at today's price, converted through
//! the DATA/WETH pool, with a margin; the relayer works only for the unions the policy admits, within
//! its daily gas budget.

use alloy::primitives::{Address, Bytes, Signature, U256};
use alloy::providers::{DynProvider, Provider};
use alloy::rpc::types::TransactionRequest;
use alloy::signers::local::PrivateKeySigner;
use alloy::sol_types::{SolCall, SolStruct};
use coop::contracts::{DataUnion, UniswapV2Pair, Withdrawal, withdrawal_domain};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::Wei;
use super::unions::{at_chain_time, figures, find};
use crate::api::openapi::schemas::{Address as AnyAddress, AnswerAddress};
use crate::http::{ApiError, ErrorCode, Services};
use crate::policy::Key;
use crate::sender::{self, Patience};

/// Gas a relayed withdrawal takes, over-counted: 185,515 with a one-leaf book on anvil (see
/// docs/contracts.md), and a proof step costs about 1,000.
const BASE_GAS: u64 = 230_000;
const GAS_PER_PROOF_STEP: u64 = 2_000;
/// The fee asked is the gas cost times this, in percent: gas prices move between quote and send.
const MARGIN_PERCENT: u64 = 150;

/// The key that sends relayed withdrawals. Its sends are one at a time: each reads the key's next
/// nonce from the node.
pub struct Relayer {
    address: Address,
    chain: DynProvider,
    sending: tokio::sync::Mutex<()>,
    /// The members whose withdrawal is on its way, by union: a second one would only revert.
    in_flight: std::sync::Mutex<std::collections::HashSet<(Address, Address)>>,
}

impl Relayer {
    pub fn new(rpc_url: &url::Url, key: PrivateKeySigner) -> Self {
        Relayer {
            address: key.address(),
            chain: sender::signing_provider(rpc_url, key),
            sending: Default::default(),
            in_flight: Default::default(),
        }
    }

    pub fn address(&self) -> Address {
        self.address
    }

    fn in_flight(&self) -> std::sync::MutexGuard<'_, std::collections::HashSet<(Address, Address)>> {
        self.in_flight.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// What a member signs to have its withdrawal relayed, and what it gets.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RelayQuote {
    #[schema(value_type = AnswerAddress)]
    pub union: Address,
    #[schema(value_type = AnswerAddress)]
    pub member: Address,
    /// The address that sends the withdrawal and receives the fee.
    #[schema(value_type = AnswerAddress)]
    pub relayer: Address,
    /// The least fee (DATA wei) the relayer takes now.
    pub fee: Wei,
    /// What the member withdraws in all, fee included.
    pub withdrawable: Wei,
    /// The `nonce` to sign: the union's `withdrawalNonce(member)`.
    pub nonce: Wei,
    /// The EIP-712 domain: `Coop Data Union`, version `2`, this chain, the union as verifying contract.
    pub chain_id: u64,
}

/// A member's signed withdrawal, as sent to the relayer.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SignedWithdrawal {
    /// Where the withdrawal goes (the member itself, or any other address): an address, EIP-55
    /// checksummed or all one case.
    #[schema(value_type = AnyAddress)]
    pub recipient: String,
    /// The fee the member signed, DATA wei as a decimal string.
    #[schema(value_type = Wei)]
    pub fee: String,
    /// Unix seconds after which the signature is void.
    pub deadline: u64,
    /// The member's 65-byte signature of the EIP-712 `Withdrawal`, hex.
    #[schema(value_type = crate::api::openapi::schemas::Signature)]
    pub signature: String,
}

/// A relayed withdrawal on its way: it passed every check and a dry run, and the relayer sends it.
/// The member's figures show it once it is mined (`withdrawn`).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Relayed {
    /// DATA wei the recipient gets.
    pub amount: Wei,
    /// DATA wei the relayer takes.
    pub fee: Wei,
}

fn no_relayer() -> ApiError {
    ApiError::Conflict { code: ErrorCode::NotServed, message: "this server relays no withdrawals".to_owned() }
}

/// What relaying `member`'s withdrawal from `union` costs now.
pub async fn quote(services: &Services, union: Address, member: Address) -> Result<RelayQuote, ApiError> {
    let relayer = services.relayer.as_deref().ok_or_else(no_relayer)?;
    let (owner, proof_steps, withdrawable) = at_chain_time(services, |models, now| {
        let found = find(&models.unions, &union)?;
        let figures = figures(found, member, now)
            .ok_or_else(|| ApiError::NotFound(format!("{member} never was a member of {union}")))?;
        let steps = figures.proof.as_ref().map_or(0, |proof| proof.proof.len());
        Ok((found.state().owner(), steps, figures.withdrawable.0))
    })
    .await?;
    if !services.serving.policy.admits(owner) {
        return Err(ApiError::Conflict {
            code: ErrorCode::NotServed,
            message: format!("this server does not relay for data union {union}: its owner is not served"),
        });
    }
    if withdrawable.is_zero() {
        return Err(ApiError::Conflict {
            code: ErrorCode::NothingToWithdraw,
            message: format!("{member} has nothing withdrawable in {union} yet"),
        });
    }
    let fee = fee(services, proof_steps).await?;
    let nonce = DataUnion::new(union, services.chain.clone())
        .withdrawalNonce(member)
        .call()
        .await
        .map_err(|error| ApiError::Unexpected(anyhow::anyhow!("reading the withdrawal nonce: {error}")))?;
    Ok(RelayQuote {
        union,
        member,
        relayer: relayer.address,
        fee: Wei(fee),
        withdrawable: Wei(withdrawable),
        nonce: Wei(nonce),
        chain_id: services.chain_id,
    })
}

/// Checks `signed` and sends it; answers once it is mined.
pub async fn relay(
    services: &Services,
    union: Address,
    member: Address,
    signed: SignedWithdrawal,
) -> Result<Relayed, ApiError> {
    let relayer = services.relayer.as_deref().ok_or_else(no_relayer)?;
    let recipient = crate::api::params::address(&signed.recipient, "recipient")?;
    let fee = crate::api::params::positive_amount(&signed.fee, "fee")?;
    let signature = parse_signature(&signed.signature)?;
    let quote = quote(services, union, member).await?;
    check_fee(fee, &quote)?;
    let withdrawal = Withdrawal { member, recipient, fee, nonce: quote.nonce.0, deadline: U256::from(signed.deadline) };
    let digest = withdrawal.eip712_signing_hash(&withdrawal_domain(services.chain_id, union));
    if signature.recover_address_from_prehash(&digest).ok() != Some(member) {
        return Err(ApiError::BadRequest {
            code: ErrorCode::BadSignature,
            message: format!("signature: not {member}'s signature of this withdrawal (nonce {})", quote.nonce.0),
            field: Some("signature"),
        });
    }
    let proof = at_chain_time(services, |models, now| {
        let found = find(&models.unions, &union)?;
        Ok(figures(found, member, now).and_then(|figures| figures.proof))
    })
    .await?
    .ok_or_else(|| ApiError::Conflict {
        code: ErrorCode::NothingToWithdraw,
        message: format!("{member} has no unfrozen commit to withdraw with in {union}"),
    })?;
    let owner = services.models.unions().await.get(&union).map(|u| u.state().owner()).unwrap_or_default();
    if let Err(refusal) = services.serving.allowance(Key::Relayer, union, owner, 1) {
        return Err(ApiError::Unavailable {
            code: ErrorCode::Busy,
            reason: format!("the relayer is held back for now ({}); try again later", refusal.name()),
        });
    }
    let call = DataUnion::withdrawAllToSignedCall {
        member,
        recipient,
        fee,
        deadline: withdrawal.deadline,
        blockNumber: U256::from(proof.block),
        totalEarnings: proof.earnings.0,
        proof: proof.proof,
        signature: Bytes::from(signature.as_bytes().to_vec()),
    };
    let input = call.abi_encode();
    // A dry run first: whatever the union would refuse is answered now, and costs no gas.
    let dry_run = TransactionRequest::default().from(relayer.address).to(union).input(input.clone().into());
    if let Err(error) = relayer.chain.call(dry_run).await {
        return Err(ApiError::Conflict {
            code: ErrorCode::RelayFailed,
            message: format!("the union refuses this withdrawal: {}", revert_reason(&error)),
        });
    }
    if !relayer.in_flight().insert((union, member)) {
        return Err(ApiError::Conflict {
            code: ErrorCode::RelayFailed,
            message: format!("a withdrawal of {member} from {union} is already on its way"),
        });
    }
    send_later(services, union, member, input)?;
    Ok(Relayed { amount: Wei(quote.withdrawable.0 - fee), fee: Wei(fee) })
}

/// The fee pays the gas now and leaves the member something.
fn check_fee(fee: U256, quote: &RelayQuote) -> Result<(), ApiError> {
    let too_low = |message: String| ApiError::BadRequest { code: ErrorCode::FeeTooLow, message, field: Some("fee") };
    if fee < quote.fee.0 {
        return Err(too_low(format!("fee: at least {} DATA wei is needed to pay the gas now", quote.fee.0)));
    }
    if fee >= quote.withdrawable.0 {
        return Err(too_low(format!("fee: it would take all of the {} DATA wei withdrawable", quote.withdrawable.0)));
    }
    Ok(())
}

/// Sends the withdrawal `input` to `union` from the relayer's key, after the request is answered:
/// mining can take longer than a request may. The relayer sends one at a time; `(union, member)`
/// stays in flight until the withdrawal is mined or fails.
fn send_later(services: &Services, union: Address, member: Address, input: Vec<u8>) -> Result<(), ApiError> {
    let (sending, serving) = (services.relayer.clone().ok_or_else(no_relayer)?, services.serving.clone());
    tokio::spawn(async move {
        let _one_at_a_time = sending.sending.lock().await;
        let what = format!("the relayed withdrawal of {member}");
        match sender::send(&sending.chain, sending.address, union, input, &what, Patience::default()).await {
            Ok(mined) => {
                serving.record(Key::Relayer, union, 1, mined.cost);
                tracing::info!(target: "relay", %union, %member, block = mined.block, "relayed a withdrawal");
            }
            Err(error) => tracing::warn!(target: "relay", %union, %member, "a relayed withdrawal failed: {error:#}"),
        }
        sending.in_flight().remove(&(union, member));
    });
    Ok(())
}

/// The union's custom error, named, when the node passed it on; else the node's message.
fn revert_reason(error: &alloy::transports::TransportError) -> String {
    use alloy::sol_types::SolInterface;
    error
        .as_error_resp()
        .and_then(|response| response.as_revert_data())
        .and_then(|data| DataUnion::DataUnionErrors::abi_decode(&data).ok())
        .map_or_else(|| error.to_string(), |decoded| format!("{decoded:?}"))
}

fn parse_signature(text: &str) -> Result<Signature, ApiError> {
    let bad = || ApiError::BadRequest {
        code: ErrorCode::MalformedSignature,
        message: "signature: 65 bytes as hex expected".to_owned(),
        field: Some("signature"),
    };
    let bytes = alloy::primitives::hex::decode(text.trim()).map_err(|_| bad())?;
    Signature::try_from(bytes.as_slice()).map_err(|_| bad())
}

/// The fee that pays a relayed withdrawal's gas now, in DATA wei at the DATA/WETH pool's price.
async fn fee(services: &Services, proof_steps: usize) -> Result<U256, ApiError> {
    let deployment = services.deployment.as_ref().ok_or_else(no_relayer)?;
    let gas = BASE_GAS + GAS_PER_PROOF_STEP * proof_steps as u64;
    let gas_price = services
        .chain
        .get_gas_price()
        .await
        .map_err(|_| ApiError::chain_unavailable("reading the DATA/WETH pool for a relay fee"))?;
    let wei = U256::from(gas) * U256::from(gas_price) * U256::from(MARGIN_PERCENT) / U256::from(100);
    let pool = UniswapV2Pair::new(deployment.data_weth_pair, services.chain.clone());
    let token0 = pool
        .token0()
        .call()
        .await
        .map_err(|_| ApiError::chain_unavailable("reading the DATA/WETH pool for a relay fee"))?;
    let reserves = pool
        .getReserves()
        .call()
        .await
        .map_err(|_| ApiError::chain_unavailable("reading the DATA/WETH pool for a relay fee"))?;
    let (r0, r1) = (U256::from(reserves._reserve0.to::<u128>()), U256::from(reserves._reserve1.to::<u128>()));
    let (data, weth) = if token0 == deployment.data_token { (r0, r1) } else { (r1, r0) };
    if weth.is_zero() {
        return Err(ApiError::Conflict {
            code: ErrorCode::InsufficientLiquidity,
            message: "the DATA/WETH pool is empty: the fee cannot be priced".to_owned(),
        });
    }
    // Rounded up: the relayer never takes less than the gas costs.
    Ok((wei * data).div_ceil(weth))
}
