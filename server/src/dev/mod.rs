//! `coop dev`: a whole local marketplace in one command. Starts anvil unless `rpc_url` is set,
//! deploys the contracts (or reuses a deployment still on the chain), seeds a demo marketplace on a
//! chain it started, then serves.

mod seed;

use anyhow::Context;
use url::Url;

use crate::config::{Config, Secret};
use crate::deploy::{Deployment, deploy_all};
use crate::devnet::{self, DevChain};
use crate::startup::{Server, shutdown_signal};

/// anvil mines a block every second, so pages and workers see time pass as on a real chain.
const BLOCK_TIME_SECS: u64 = 1;

pub async fn run(mut config: Config) -> anyhow::Result<()> {
    // Dropping the chain stops anvil, so it lives until the server has stopped.
    let (rpc_url, chain) = match config.rpc_url.clone() {
        Some(url) => (url, None),
        None => {
            let chain = start_chain(&mut config)?;
            (chain.endpoint(), Some(chain))
        }
    };
    let deployment = deploy(&config, &rpc_url, devnet::DEV_DEPLOYER_KEY).await?;
    if let Some(chain) = &chain {
        // The server commits and adds members with anvil keys unless the config names its own.
        config.operator_key.get_or_insert_with(|| key_of(chain, OPERATOR));
        config.agent_key.get_or_insert_with(|| key_of(chain, AGENT));
        config.relayer_key.get_or_insert_with(|| key_of(chain, RELAYER));
        config.validator_key.get_or_insert_with(|| key_of(chain, VALIDATOR));
        seed::demo(chain, &deployment).await.context("seeding the demo marketplace")?;
        seed::streams(chain, &config).await.context("seeding the demo streams")?;
        seed::descriptions(chain, &config).await.context("seeding the demo descriptions")?;
    }
    Server::build(&config, &rpc_url).await?.run(shutdown_signal()).await
}

/// anvil accounts the dev server signs with: 9 commits books, 8 adds members, 10 relays members'
/// signed withdrawals, 11 vetoes wrong commits.
pub const OPERATOR: usize = 9;
pub const AGENT: usize = 8;
pub const RELAYER: usize = 10;
pub const VALIDATOR: usize = 11;

fn key_of(chain: &DevChain, account: usize) -> Secret {
    Secret::new(chain.signer(account).to_bytes().to_string())
}

fn start_chain(config: &mut Config) -> anyhow::Result<DevChain> {
    let chain = devnet::spawn_anvil(Some(BLOCK_TIME_SECS))?;
    tracing::info!(target: "dev", url = %chain.endpoint(), chain_id = chain.chain_id(), "started anvil");
    // A new chain makes an earlier index and deployment meaningless: start from an empty folder.
    config.data_dir = config.data_dir.join("dev");
    if config.database_url.is_none() && config.data_dir.exists() {
        std::fs::remove_dir_all(&config.data_dir).with_context(|| format!("emptying {}", config.data_dir.display()))?;
    }
    Ok(chain)
}

/// Deploys with `deployer_key` unless the deployment file names contracts still on the chain, and
/// writes the file.
pub async fn deploy(config: &Config, rpc_url: &Url, deployer_key: &str) -> anyhow::Result<Deployment> {
    let file = config.deployment_file();
    let existing = Deployment::load(&file)?;
    let deployer = deployer_key.parse().context("the deployer key is not a 32-byte hex private key")?;
    let deployment = deploy_all(rpc_url, deployer, existing).await?;
    std::fs::create_dir_all(file.parent().unwrap_or(&config.data_dir))
        .with_context(|| format!("creating the folder of {}", file.display()))?;
    deployment.save(&file)?;
    tracing::info!(target: "dev", file = %file.display(), marketplace = %deployment.marketplace, "contracts ready");
    Ok(deployment)
}
