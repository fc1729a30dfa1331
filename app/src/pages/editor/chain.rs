//! The transactions the editor asks the wallet to send: the Marketplace's product calls and the
//! Data Union factory's and union's.

use alloy_primitives::{Address, B256, U256};
use alloy_sol_types::SolCall;
use coop::contracts::{DataUnion, DataUnionFactory, Marketplace};

use crate::products::ProductInput;
use crate::wallet::UnsignedTx;

fn call(to: Address, data: Vec<u8>) -> UnsignedTx {
    UnsignedTx { to, data: data.into(), value: U256::ZERO }
}

/// Lists the product whose id is `productIdOf(seller, salt)` (see [`crate::products::product_id`]).
pub fn create_product(marketplace: Address, salt: B256, input: &ProductInput) -> UnsignedTx {
    let data = Marketplace::createProductCall {
        salt,
        name: input.name.clone(),
        beneficiary: input.beneficiary,
        pricePerSecond: input.price_per_second,
        minimumSubscriptionSeconds: input.minimum_seconds,
    };
    call(marketplace, data.abi_encode())
}

pub fn update_product(marketplace: Address, id: B256, input: &ProductInput) -> UnsignedTx {
    let data = Marketplace::updateProductCall {
        productId: id,
        name: input.name.clone(),
        beneficiary: input.beneficiary,
        pricePerSecond: input.price_per_second,
        minimumSubscriptionSeconds: input.minimum_seconds,
    };
    call(marketplace, data.abi_encode())
}

/// Takes the product off the marketplace; running subscriptions go on.
pub fn delete_product(marketplace: Address, id: B256) -> UnsignedTx {
    call(marketplace, Marketplace::deleteProductCall { productId: id }.abi_encode())
}

/// Lists an unlisted product again.
pub fn redeploy_product(marketplace: Address, id: B256) -> UnsignedTx {
    call(marketplace, Marketplace::redeployProductCall { productId: id }.abi_encode())
}

/// A new Data Union owned by the sender, run by this server's operator and join-part agent, whose
/// commits stay frozen for `freeze_period` seconds (the factory refuses less than its minimum: a day
/// on a public chain). It names this server's validator, if it runs one, which vetoes wrong commits;
/// the owner may add others it trusts on the union.
pub fn create_data_union(
    factory: Address,
    operator: Address,
    agent: Address,
    validators: Vec<Address>,
    admin_fee: U256,
    freeze_period: U256,
) -> UnsignedTx {
    let data = DataUnionFactory::createDataUnionCall {
        operator,
        joinPartAgents: vec![agent],
        validators,
        adminFee: admin_fee,
        freezePeriod: freeze_period,
    };
    call(factory, data.abi_encode())
}

pub fn set_admin_fee(union: Address, admin_fee: U256) -> UnsignedTx {
    call(union, DataUnion::setAdminFeeCall { newAdminFee: admin_fee }.abi_encode())
}
