//! The demo marketplace `coop dev` starts with: a plain data product, a Data Union product with
//! three members, and a purchase of each, all made with anvil's development accounts.

use alloy::primitives::{Address, U256};
use alloy::providers::{DynProvider, Provider, ProviderBuilder};
use alloy::signers::SignerSync;
use anyhow::Context;
use app::products::{Category, Licence, ProductMetadata, product_id, product_salt};
use coop::contracts::{DataToken, DataUnion, DataUnionFactory, Marketplace};
use coop::stream::{Message, SignedMessage, StreamDefinition, StreamName};

use crate::streams::store::StreamStore;

use super::{AGENT, OPERATOR, VALIDATOR};
use crate::deploy::{Deployment, confirmed};
use crate::devnet::DevChain;

const SELLER: usize = 1;
const UNION_OWNER: usize = 2;
const MEMBERS: [usize; 3] = [3, 4, 5];
const BUYER: usize = 6;

/// One DATA in wei, and a day in seconds.
const DATA: u128 = 1_000_000_000_000_000_000;
const DAY: u64 = 86_400;

pub async fn demo(chain: &DevChain, deployment: &Deployment) -> anyhow::Result<()> {
    let wallet = |account: usize| -> DynProvider {
        ProviderBuilder::new()
            .wallet(chain.signer(account))
            .connect_client(crate::rpc::client(&chain.endpoint()))
            .erased()
    };
    let address = |account: usize| chain.addresses()[account];
    let per_day = |data: u128| U256::from(data / u128::from(DAY));

    let seller_market = Marketplace::new(deployment.marketplace, wallet(SELLER));
    let weather = product_id(address(SELLER), "Helsinki weather stations");
    confirmed(
        seller_market.createProduct(
            product_salt("Helsinki weather stations"),
            "Helsinki weather stations".into(),
            address(SELLER),
            per_day(5 * DATA),
            U256::from(DAY),
        ),
        "creating the demo data product",
    )
    .await?;

    let factory = DataUnionFactory::new(deployment.data_union_factory, wallet(UNION_OWNER));
    let receipt = confirmed(
        factory.createDataUnion(
            address(OPERATOR),
            vec![address(AGENT)],
            vec![address(VALIDATOR)],
            U256::from(DATA / 10), // a 10 % admin fee
            U256::from(60u64),
        ),
        "creating the demo Data Union",
    )
    .await?;
    let union = created_union(&receipt)?;
    let owner_market = Marketplace::new(deployment.marketplace, wallet(UNION_OWNER));
    let commuting = product_id(address(UNION_OWNER), "Commuter journeys");
    let salt = product_salt("Commuter journeys");
    confirmed(
        owner_market.createProduct(salt, "Commuter journeys".into(), union, per_day(20 * DATA), U256::from(DAY)),
        "creating the demo Data Union product",
    )
    .await?;
    let agent = DataUnion::new(union, wallet(AGENT));
    confirmed(agent.addMembers(MEMBERS.iter().map(|&m| address(m)).collect()), "adding the demo members").await?;

    let buyer_data = DataToken::new(deployment.data_token, wallet(BUYER));
    confirmed(buyer_data.approve(deployment.marketplace, U256::MAX), "approving DATA for the demo purchases").await?;
    let buyer_market = Marketplace::new(deployment.marketplace, wallet(BUYER));
    let (weather_price, seller) = (per_day(5 * DATA), address(SELLER));
    confirmed(buyer_market.buy(weather, U256::from(7 * DAY), weather_price, seller), "buying the demo data product")
        .await?;
    confirmed(
        buyer_market.buy(commuting, U256::from(30 * DAY), per_day(20 * DATA), union),
        "buying the demo Data Union product",
    )
    .await?;
    tracing::info!(target: "dev", %union, "seeded a data product, a Data Union with 3 members, and 2 purchases");
    Ok(())
}

/// What the demo sellers say of their products: a description (found by the marketplace's search),
/// a category, the terms of use and a contact.
pub async fn descriptions(chain: &DevChain, config: &crate::config::Config) -> anyhow::Result<()> {
    let store = crate::store::Store::open(&config.database_url()).await?;
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_secs() as i64;
    let described = [
        (
            SELLER,
            "Helsinki weather stations",
            Category::Environment,
            "Temperature and wind from a station in Kaisaniemi park, read every minute.",
            Licence::CcBy,
            "weather@example.org",
        ),
        (
            UNION_OWNER,
            "Commuter journeys",
            Category::Transport,
            "How members get to work: mode of travel, minutes and kilometres, shared from their phones.",
            Licence::Own,
            "https://example.org/commuters",
        ),
    ];
    for (owner, product, category, description, licence, contact) in described {
        let owner = chain.addresses()[owner];
        let terms = match licence {
            Licence::Own => "For research and city planning only. Do not try to identify members.".to_owned(),
            _ => String::new(),
        };
        let metadata = ProductMetadata {
            description: description.to_owned(),
            category: Some(category),
            cover: String::new(),
            licence: Some(licence),
            terms,
            contact: contact.to_owned(),
        };
        store.save_metadata(product_id(owner, product), owner, &metadata, now).await?;
    }
    Ok(())
}

/// A stream on each demo product, with messages: the union's members publish commuter journeys (each
/// with its own key), the seller publishes weather readings. The messages are signed as any
/// publisher's are, and stored before the server starts.
pub async fn streams(chain: &DevChain, config: &crate::config::Config) -> anyhow::Result<()> {
    let store = crate::store::Store::open(&config.database_url()).await?;
    let messages = crate::streams::embedded::Embedded::open(&config.data_dir.join("streams.db")).await?;
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_millis() as u64;
    let streams = [
        (
            UNION_OWNER,
            "Commuter journeys",
            "journeys",
            "One journey per message: mode, minutes, kilometres.",
            MEMBERS.to_vec(),
        ),
        (SELLER, "Helsinki weather stations", "readings", "A station's reading: temperature and wind.", vec![SELLER]),
    ];
    for (owner, product, name, description, publishers) in streams {
        let stream_name: StreamName = name.parse()?;
        let definition = StreamDefinition {
            product: product_id(chain.addresses()[owner], product),
            name: stream_name.clone(),
            description: description.to_owned(),
            example: None,
            retention_days: 30,
            retention_bytes: 0,
            public_preview: 3,
        };
        store.save_stream_definition(&definition, (now / 1000) as i64).await?;
        for n in 0..12u64 {
            let account = publishers[n as usize % publishers.len()];
            let key = chain.signer(account);
            let content = match name {
                "journeys" => format!(
                    r#"{{"mode":"{}","minutes":{},"km":{}}}"#,
                    ["bus", "bike", "tram"][n as usize % 3],
                    12 + n * 3,
                    3 + n
                ),
                _ => format!(r#"{{"station":"Kaisaniemi","celsius":{},"windMs":{}}}"#, -3 + n as i64, 2 + n % 5),
            };
            let message = Message {
                product: definition.product,
                stream: stream_name.clone(),
                publisher: key.address(),
                sequence: n,
                timestamp: now - (12 - n) * 60_000,
                content: content.parse()?,
            };
            let signature = key.sign_message_sync(message.digest().as_slice())?;
            let signed = SignedMessage { message, signer: key.address(), signature: signature.as_bytes().into() };
            messages.append(signed, now).await.map_err(|error| anyhow::anyhow!("{error}"))?;
        }
    }
    store.close().await;
    tracing::info!(target: "dev", "seeded a stream with messages on each demo product");
    Ok(())
}

fn created_union(receipt: &alloy::rpc::types::TransactionReceipt) -> anyhow::Result<Address> {
    receipt
        .inner
        .logs()
        .iter()
        .find_map(|log| log.log_decode::<DataUnionFactory::DataUnionCreated>().ok())
        .map(|log| log.inner.data.du)
        .context("the factory did not announce the new Data Union")
}
