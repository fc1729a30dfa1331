//! `GET /api/v1/chain`: the chain this server runs on, as a wallet needs it to switch to it (or add
//! it), Coop's contract addresses there, and the server's operator, join-part agent and validator,
//! whom a Data Union deployed from the editor names.

use std::collections::BTreeMap;

use std::sync::Arc;

use alloy::primitives::Address;
use app::wallet::{ChainInfo, NativeCurrency};
use axum::{Extension, Json};
use url::{Host, Url};

use crate::config::Config;
use crate::deploy::Deployment;

/// The addresses of the keys this server signs with, for Data Unions it should serve.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Roles {
    pub operator: Option<Address>,
    pub join_agent: Option<Address>,
    pub validator: Option<Address>,
}

impl Roles {
    /// From the configured keys (addresses only; the keys stay in the config).
    pub fn of(config: &Config) -> Self {
        let address =
            |key: &Option<crate::config::Secret>| key.as_ref().and_then(|key| key.signer()).map(|s| s.address());
        Self {
            operator: address(&config.operator_key),
            join_agent: address(&config.agent_key),
            validator: address(&config.validator_key),
        }
    }
}

/// Describes the chain. The RPC endpoint is handed out only when it is a local one (a development
/// chain): a remote endpoint's URL often carries an API key, and wallets know public chains anyway.
pub fn describe(chain_id: u64, rpc_url: &Url, deployment: Option<&Deployment>, roles: Roles) -> ChainInfo {
    ChainInfo {
        chain_id,
        name: chain_name(chain_id),
        rpc_url: is_local(rpc_url).then(|| rpc_url.as_str().trim_end_matches('/').to_owned()),
        native_currency: NativeCurrency { name: "Ether".to_owned(), symbol: "ETH".to_owned(), decimals: 18 },
        contracts: deployment
            .map(|deployment| deployment.contracts().into_iter().map(|(name, address)| (name.to_owned(), address)))
            .into_iter()
            .flatten()
            .collect::<BTreeMap<_, _>>(),
        operator: roles.operator,
        join_agent: roles.join_agent,
        validator: roles.validator,
    }
}

/// The chain
///
/// The chain this server runs on, as a wallet needs it to switch to it or add it (EIP-3326,
/// EIP-3085), and Coop's contracts there. The RPC URL is given only for a local development chain.
/// Answered from the description the router holds as an extension.
#[utoipa::path(
    get,
    path = "/api/v1/chain",
    operation_id = "getChain",
    responses((status = 200, description = "The chain", body = ChainInfo))
)]
pub async fn chain(Extension(info): Extension<Arc<ChainInfo>>) -> Json<ChainInfo> {
    Json(ChainInfo::clone(&info))
}

fn chain_name(chain_id: u64) -> String {
    match chain_id {
        1 => "Ethereum".to_owned(),
        10 => "OP Mainnet".to_owned(),
        100 => "Gnosis".to_owned(),
        137 => "Polygon".to_owned(),
        8453 => "Base".to_owned(),
        42161 => "Arbitrum One".to_owned(),
        11155111 => "Sepolia".to_owned(),
        17000 => "Holesky".to_owned(),
        31337 | 1337 => "Coop dev chain".to_owned(),
        other => format!("Chain {other}"),
    }
}

fn is_local(url: &Url) -> bool {
    match url.host() {
        Some(Host::Domain(domain)) => domain == "localhost",
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_local_rpc_url_is_handed_out_and_a_remote_one_is_not() {
        let local = describe(31337, &"http://127.0.0.1:8545/".parse().unwrap(), None, Roles::default());
        assert_eq!(local.rpc_url.as_deref(), Some("http://127.0.0.1:8545"));
        assert_eq!(local.name, "Coop dev chain");
        let remote = describe(11155111, &"https://rpc.example/v3/secret-key".parse().unwrap(), None, Roles::default());
        assert_eq!(remote.rpc_url, None);
        assert_eq!(remote.name, "Sepolia");
        assert!(remote.contracts.is_empty());
    }
}
