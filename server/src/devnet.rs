//! The local development chain: anvil from the npm package `@foundry-rs/anvil`, started on a free
//! port and killed when the handle is dropped, so neither `coop dev` nor a test leaves one behind;
//! and the signing provider and send-and-confirm step the operator and the join-part agent share.

use std::path::{Path, PathBuf};

use alloy::node_bindings::{Anvil, AnvilInstance};
use alloy::signers::local::PrivateKeySigner;
use anyhow::Context;

/// anvil's first well-known development key (account 0), which deploys the contracts in development.
/// Public knowledge: never use it on a real chain.
pub const DEV_DEPLOYER_KEY: &str = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";

/// Where `npm ci` puts the anvil binary, relative to the workspace root.
pub const ANVIL_IN_NODE_MODULES: &str = "node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil";

/// Finds the anvil binary: `COOP_ANVIL` if set, else the npm package under the workspace root
/// (searched from the current directory upwards, so tests run from `server/` find it too).
pub fn anvil_path() -> anyhow::Result<PathBuf> {
    if let Some(path) = std::env::var_os("COOP_ANVIL") {
        return Ok(PathBuf::from(path));
    }
    let start = std::env::current_dir().context("reading the current directory")?;
    start.ancestors().map(|dir| dir.join(ANVIL_IN_NODE_MODULES)).find(|candidate| candidate.is_file()).with_context(
        || format!("anvil not found under {} or its parents (run `npm ci`, or set COOP_ANVIL)", start.display()),
    )
}

/// Starts anvil on a free port of 127.0.0.1 with the given block time (`None`: mine on demand).
pub fn spawn_anvil(block_time_secs: Option<u64>) -> anyhow::Result<DevChain> {
    spawn_anvil_at(&anvil_path()?, block_time_secs)
}

pub fn spawn_anvil_at(path: &Path, block_time_secs: Option<u64>) -> anyhow::Result<DevChain> {
    let mut anvil = Anvil::at(path).arg("--host").arg("127.0.0.1");
    if let Some(secs) = block_time_secs {
        anvil = anvil.block_time(secs);
    }
    let instance = anvil.try_spawn().with_context(|| format!("starting anvil from {}", path.display()))?;
    Ok(DevChain { instance })
}

/// A running anvil; dropping it kills the process.
pub struct DevChain {
    instance: AnvilInstance,
}

impl DevChain {
    pub fn endpoint(&self) -> url::Url {
        self.instance.endpoint_url()
    }

    pub fn chain_id(&self) -> u64 {
        self.instance.chain_id()
    }

    /// anvil's well-known development keys, funded with 10,000 ETH each.
    pub fn keys(&self) -> &[alloy::signers::k256::SecretKey] {
        self.instance.keys()
    }

    /// A signer for development account `index` (0 to 9).
    pub fn signer(&self, index: usize) -> PrivateKeySigner {
        PrivateKeySigner::from_signing_key(self.instance.keys()[index].clone().into())
    }

    pub fn addresses(&self) -> &[alloy::primitives::Address] {
        self.instance.addresses()
    }
}

/// Sends `input` to `to` from the provider's key and waits for it to be mined successfully; `what`
/// names the transaction in errors.
pub async fn send_and_confirm(
    chain: &alloy::providers::DynProvider,
    to: alloy::primitives::Address,
    input: Vec<u8>,
    what: &str,
) -> anyhow::Result<()> {
    use alloy::providers::Provider;
    use anyhow::Context;
    let request = alloy::rpc::types::TransactionRequest::default().to(to).input(input.into());
    let receipt = chain
        .send_transaction(request)
        .await
        .with_context(|| format!("sending {what} to {to}"))?
        .get_receipt()
        .await
        .with_context(|| format!("waiting for {what} to {to}"))?;
    anyhow::ensure!(receipt.status(), "{what} to {to} reverted");
    Ok(())
}

/// A provider that signs with `key` and asks the node for the nonce of every transaction. The
/// default filler caches nonces and spends one even when a call reverts before it is sent, after which
/// every later transaction from the key waits behind the gap forever.
pub fn signing_provider(rpc_url: &url::Url, key: PrivateKeySigner) -> alloy::providers::DynProvider {
    use alloy::providers::{Provider, ProviderBuilder};
    ProviderBuilder::new()
        .disable_recommended_fillers()
        .with_gas_estimation()
        .with_simple_nonce_management()
        .fetch_chain_id()
        .wallet(key)
        .connect_http(rpc_url.clone())
        .erased()
}
