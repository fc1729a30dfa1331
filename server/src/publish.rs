//! `coop publish`: the reference publisher. Reads JSON Lines (one JSON object per line) and publishes
//! each line to a product stream, signed with an app key (or the publisher's own key), in order. A
//! line that is not a JSON object, or a message the server refuses, stops it with the line's number
//! and the server's reason; a 429 waits as long as the server says and tries again.

use std::io::BufRead;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use alloy::primitives::{Address, B256, hex};
use alloy::signers::SignerSync;
use alloy::signers::local::PrivateKeySigner;
use anyhow::{Context, bail};
use coop::stream::{Content, Message, StreamName};
use serde_json::{Value, json};

/// How many times one message is offered to a server that asks to slow down.
const RETRIES: u32 = 30;

#[derive(Debug, clap::Args)]
pub struct PublishArgs {
    /// The server, such as http://127.0.0.1:3000.
    #[arg(long, env = "COOP_SERVER_URL")]
    pub server: url::Url,
    /// The product id (0x and 64 hex digits).
    #[arg(long)]
    pub product: B256,
    /// The stream's name.
    #[arg(long)]
    pub stream: StreamName,
    /// Whose messages they are; default: the key's own address.
    #[arg(long)]
    pub publisher: Option<Address>,
    /// The first sequence number; default: the time in milliseconds, which is after any earlier run's.
    #[arg(long)]
    pub first_sequence: Option<u64>,
}

/// What a run published.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Published {
    pub messages: u64,
    /// The first and last offsets the server gave, if any message was published.
    pub offsets: Option<(u64, u64)>,
}

fn millis() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

/// Publishes every line of `lines` with `key`.
pub async fn run(args: &PublishArgs, key: &PrivateKeySigner, lines: impl BufRead) -> anyhow::Result<Published> {
    let client = reqwest::Client::builder().timeout(Duration::from_secs(30)).build()?;
    let url = args
        .server
        .join(&format!("api/v1/products/{}/streams/{}/messages", args.product, args.stream))
        .context("building the stream's URL")?;
    let publisher = args.publisher.unwrap_or(key.address());
    let mut sequence = args.first_sequence.unwrap_or_else(millis);
    let mut published = Published { messages: 0, offsets: None };
    for (index, line) in lines.lines().enumerate() {
        let number = index + 1;
        let line = line.with_context(|| format!("reading line {number}"))?;
        if line.trim().is_empty() {
            continue;
        }
        let content: Content = line.trim().parse().with_context(|| format!("line {number}"))?;
        let message = Message {
            product: args.product,
            stream: args.stream.clone(),
            publisher,
            sequence,
            timestamp: millis(),
            content,
        };
        let offset = send(&client, &url, key, &message).await.with_context(|| format!("line {number}"))?;
        published.messages += 1;
        published.offsets = Some((published.offsets.map_or(offset, |(first, _)| first), offset));
        sequence += 1;
    }
    Ok(published)
}

async fn send(
    client: &reqwest::Client,
    url: &url::Url,
    key: &PrivateKeySigner,
    message: &Message,
) -> anyhow::Result<u64> {
    let signature = key.sign_message_sync(message.digest().as_slice()).context("signing")?;
    let body = json!({
        "publisher": message.publisher,
        "sequence": message.sequence,
        "timestamp": message.timestamp,
        "content": message.content.as_str(),
        "signer": key.address(),
        "signature": hex::encode_prefixed(signature.as_bytes()),
    });
    for _ in 0..RETRIES {
        let response =
            client.post(url.clone()).json(&body).send().await.with_context(|| format!("posting to {url}"))?;
        let status = response.status();
        let wait = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|value| value.to_str().ok()?.parse::<u64>().ok())
            .unwrap_or(1);
        let answer: Value = response.json().await.unwrap_or(Value::Null);
        if status == reqwest::StatusCode::TOO_MANY_REQUESTS {
            tokio::time::sleep(Duration::from_secs(wait.clamp(1, 60))).await;
            continue;
        }
        if !status.is_success() {
            let reason = answer["error"]["message"].as_str().unwrap_or("no reason given");
            let code = answer["error"]["code"].as_str().unwrap_or("unknown");
            bail!("the server refused the message ({status}, {code}): {reason}");
        }
        return answer["offset"].as_u64().context("the server's answer has no offset");
    }
    bail!("the server kept asking to slow down, {RETRIES} times")
}
