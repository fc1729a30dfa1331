//! `coop read-token`: makes a read token (`coop::read_token`) for a server with a key, and prints the
//! `Authorization` header's value, for a program or a shell to read streams without a session:
//!
//! ```sh
//! curl -sN -H "Authorization: $(coop read-token --server https://coop.example)" \
//!   https://coop.example/api/v1/products/0x…/streams/gps/live
//! ```

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use alloy::primitives::Bytes;
use alloy::signers::SignerSync;
use alloy::signers::local::PrivateKeySigner;
use anyhow::{Context, bail};
use app::wallet::{CHAIN_INFO_PATH, ChainInfo};
use coop::read_token::{MAX_READ_TOKEN_SECONDS, ReadToken};

#[derive(Debug, clap::Args)]
pub struct ReadTokenArgs {
    /// The server as its readers reach it, such as https://coop.example: its host (and port) is
    /// signed into the token.
    #[arg(long, env = "COOP_SERVER_URL")]
    pub server: url::Url,
    /// How long the token lasts, at most 60.
    #[arg(long, default_value_t = 60)]
    pub minutes: u64,
}

/// The header value `Bearer coop-read.…`, signed by `key` for the server's domain and chain.
pub async fn make(args: &ReadTokenArgs, key: &PrivateKeySigner) -> anyhow::Result<String> {
    if !(1..=MAX_READ_TOKEN_SECONDS / 60).contains(&args.minutes) {
        bail!("--minutes is {}; a read token lasts 1 to {} minutes", args.minutes, MAX_READ_TOKEN_SECONDS / 60);
    }
    let domain = crate::auth::authority(&args.server).context("the server URL has no host")?;
    let client = reqwest::Client::builder().timeout(Duration::from_secs(30)).build()?;
    let chain_url = args.server.join(CHAIN_INFO_PATH).context("building the chain's URL")?;
    let response = client.get(chain_url.clone()).send().await.with_context(|| format!("asking {chain_url}"))?;
    if !response.status().is_success() {
        bail!("{chain_url} answered {}", response.status());
    }
    let chain: ChainInfo = response.json().await.with_context(|| format!("reading {chain_url}"))?;
    let now = SystemTime::now().duration_since(UNIX_EPOCH).context("the clock is before 1970")?.as_secs();
    let expires = now + args.minutes * 60;
    let text = ReadToken::text(key.address(), &domain, chain.chain_id, expires);
    let signature = key.sign_message_sync(text.as_bytes()).context("signing the token")?;
    let token = ReadToken { reader: key.address(), expires, signature: Bytes::from(signature.as_bytes().to_vec()) };
    Ok(format!("Bearer {token}"))
}
