//! Indexer scenarios on a real anvil with the contracts deployed: following a Data Union's life,
//! a reorg, a restart in the middle, an RPC that refuses wide block ranges, one that leaves block
//! times out of logs, a load balancer whose log node lags, and a stranger's hostile union.

#[allow(dead_code)]
#[path = "contracts/helpers.rs"]
mod chain;
#[path = "support/faulty_rpc.rs"]
mod faulty_rpc;

use std::net::SocketAddr;

use alloy::primitives::{Address, B256, U256};
use alloy::providers::ext::AnvilApi;
use alloy::providers::{DynProvider, Provider, ProviderBuilder};
use axum::Json;
use axum::extract::State;
use chain::{AGENT, BUYER, Chain, DEPLOYER, MEMBER, OTHER, OWNER, send, tokens};
use coop_server::indexer::{Indexer, STREAM, Step, Watched};
use coop_server::live;
use coop_server::store::Store;
use faulty_rpc::{Fault, FaultyRpc};
use serde_json::{Value, json};

async fn fresh_store() -> (Store, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&format!("sqlite://{}?mode=rwc", dir.path().join("coop.db").display())).await.unwrap();
    (store, dir)
}

async fn indexer_for(chain: &Chain, store: &Store, rpc: DynProvider) -> Indexer {
    let watched = Watched {
        factory: chain.deployment.data_union_factory,
        marketplace: chain.deployment.marketplace,
        data_token: chain.deployment.data_token,
    };
    Indexer::new(store.clone(), rpc, watched, chain.deployment.deploy_block, 0).await.unwrap()
}

fn provider(url: &url::Url) -> DynProvider {
    ProviderBuilder::new().connect_client(coop_server::rpc::client(url)).erased()
}

/// Steps until the indexer reports that it has caught up; returns every step it took.
async fn catch_up(indexer: &mut Indexer) -> Vec<Step> {
    let mut steps = Vec::new();
    for _ in 0..10_000 {
        let step = indexer.step().await.expect("an indexing step");
        let done = matches!(step, Step::CaughtUp { .. });
        steps.push(step);
        if done {
            return steps;
        }
    }
    panic!("never caught up: {steps:?}")
}

/// A DU with a 10 % fee, members MEMBER and OTHER, and `revenue` DATA paid into it.
async fn union_with_revenue(chain: &Chain, revenue: U256) -> Address {
    let du = chain.create_data_union(U256::from(10u64).pow(U256::from(17)), 0).await;
    send(chain.du(du, AGENT).addMembers(vec![chain.address(MEMBER), chain.address(OTHER)])).await;
    chain.mint_data(du, revenue).await;
    du
}

async fn earnings(store: &Store, du: Address, member: Address) -> U256 {
    let unions = live::load(store).await.unwrap().0.unions;
    unions.get(&du).expect("the union is indexed").state().member(&member).map(|m| m.earnings).unwrap_or_default()
}

#[tokio::test]
async fn a_union_is_discovered_and_its_revenue_split_exactly() {
    let chain = Chain::start().await;
    let du = union_with_revenue(&chain, U256::from(1001u64)).await;
    let (store, _dir) = fresh_store().await;
    let mut indexer = indexer_for(&chain, &store, chain.wallet(DEPLOYER)).await;

    catch_up(&mut indexer).await;

    // fee = floor(1001 / 10) = 100 to the owner; 901 split between two members, 1 wei carried.
    assert_eq!(earnings(&store, du, chain.address(OWNER)).await, U256::from(100));
    assert_eq!(earnings(&store, du, chain.address(MEMBER)).await, U256::from(450));
    assert_eq!(earnings(&store, du, chain.address(OTHER)).await, U256::from(450));
    let unions = live::load(&store).await.unwrap().0.unions;
    let union = unions.get(&du).unwrap();
    assert_eq!(union.state().carry(), U256::from(1));
    assert_eq!(union.state().totals().revenue, U256::from(1001));
    assert_eq!(store.checkpoint(STREAM).await.unwrap().unwrap().block, chain.block_number().await);
}

#[tokio::test]
async fn a_marketplace_purchase_of_a_union_product_is_revenue_of_the_union() {
    let chain = Chain::start().await;
    let du = union_with_revenue(&chain, U256::ZERO).await;
    let id = chain.create_product(OWNER, "Weather", du, U256::from(3u64), U256::from(10u64)).await;
    chain.mint_data(chain.address(BUYER), tokens(1)).await;
    send(chain.data(BUYER).approve(chain.deployment.marketplace, U256::MAX)).await;
    send(chain.marketplace(BUYER).buy(id, U256::from(100u64), U256::from(3u64), du)).await;
    let (store, _dir) = fresh_store().await;
    let mut indexer = indexer_for(&chain, &store, chain.wallet(DEPLOYER)).await;

    catch_up(&mut indexer).await;

    let unions = live::load(&store).await.unwrap().0.unions;
    assert_eq!(unions.get(&du).unwrap().state().totals().revenue, U256::from(300));
    let kinds: Vec<&str> = store.events(0, u64::MAX).await.unwrap().iter().map(|e| e.event.kind()).collect();
    assert!(kinds.contains(&"productCreated") && kinds.contains(&"purchased"), "{kinds:?}");
}

#[tokio::test]
async fn a_reorg_rolls_back_what_left_the_chain_and_indexes_the_new_blocks() {
    let chain = Chain::start().await;
    let du = union_with_revenue(&chain, U256::from(1000u64)).await;
    let (store, _dir) = fresh_store().await;
    let rpc = chain.wallet(DEPLOYER);
    let mut indexer = indexer_for(&chain, &store, rpc.clone()).await;
    catch_up(&mut indexer).await;
    // A second revenue, indexed, then taken off the chain by a fork that is longer.
    let fork_point = rpc.anvil_snapshot().await.unwrap();
    chain.mint_data(du, U256::from(5000u64)).await;
    catch_up(&mut indexer).await;
    assert_eq!(earnings(&store, du, chain.address(MEMBER)).await, U256::from(450 + 2250));
    assert!(rpc.anvil_revert(fork_point).await.unwrap());
    rpc.anvil_mine(Some(3), None).await.unwrap();

    let steps = catch_up(&mut indexer).await;

    assert!(matches!(steps[0], Step::RolledBack { removed: 1, .. }), "{steps:?}");
    assert_eq!(earnings(&store, du, chain.address(MEMBER)).await, U256::from(450));
    assert_eq!(store.checkpoint(STREAM).await.unwrap().unwrap().block, chain.block_number().await);
}

#[tokio::test]
async fn a_restart_in_the_middle_ends_with_the_same_log_as_one_uninterrupted_run() {
    let chain = Chain::start().await;
    let du = union_with_revenue(&chain, U256::from(777u64)).await;
    for round in 1..=5u64 {
        chain.mint_data(du, U256::from(round * 1000)).await;
        send(chain.du(du, AGENT).partMembers(vec![chain.address(OTHER)])).await;
        send(chain.du(du, AGENT).addMembers(vec![chain.address(OTHER)])).await;
    }
    let (whole, _dir1) = fresh_store().await;
    catch_up(&mut indexer_for(&chain, &whole, chain.wallet(DEPLOYER)).await).await;

    let (resumed, _dir2) = fresh_store().await;
    let mut first = indexer_for(&chain, &resumed, chain.wallet(DEPLOYER)).await;
    first.set_max_span(3);
    for _ in 0..4 {
        first.step().await.unwrap();
    }
    drop(first);
    let mut second = indexer_for(&chain, &resumed, chain.wallet(DEPLOYER)).await;
    second.set_max_span(2);
    catch_up(&mut second).await;

    assert_eq!(resumed.events(0, u64::MAX).await.unwrap(), whole.events(0, u64::MAX).await.unwrap());
    assert_eq!(resumed.checkpoint(STREAM).await.unwrap(), whole.checkpoint(STREAM).await.unwrap());
}

#[tokio::test]
async fn ranges_an_rpc_refuses_are_read_in_smaller_pieces_with_nothing_lost() {
    let chain = Chain::start().await;
    let du = union_with_revenue(&chain, U256::from(10u64)).await;
    for _ in 0..6 {
        chain.mint_data(du, U256::from(10u64)).await;
    }
    let proxy = refusing_proxy(chain.anvil.endpoint(), 4).await;
    let (store, _dir) = fresh_store().await;
    let mut indexer = indexer_for(&chain, &store, provider(&proxy)).await;

    let steps = catch_up(&mut indexer).await;

    assert!(steps.iter().any(|s| matches!(s, Step::Retry { .. })), "the proxy refused something: {steps:?}");
    let unions = live::load(&store).await.unwrap().0.unions;
    assert_eq!(unions.get(&du).unwrap().state().totals().revenue, U256::from(70));
}

/// A JSON-RPC proxy in front of anvil that refuses `eth_getLogs` over more than `max_blocks`
/// blocks, as hosted RPCs do.
async fn refusing_proxy(upstream: url::Url, max_blocks: u64) -> url::Url {
    #[derive(Clone)]
    struct Upstream(url::Url, u64);
    async fn forward(State(Upstream(url, max)): State<Upstream>, Json(request): Json<Value>) -> Json<Value> {
        // A query by block hash names one block.
        if request["method"] == "eth_getLogs" && request["params"][0]["fromBlock"].is_string() {
            let block = |key: &str| {
                u64::from_str_radix(request["params"][0][key].as_str().unwrap().trim_start_matches("0x"), 16).unwrap()
            };
            if block("toBlock") - block("fromBlock") + 1 > max {
                return Json(
                    json!({ "jsonrpc": "2.0", "id": request["id"], "error": { "code": -32005, "message": "query returned more than 10000 results" } }),
                );
            }
        }
        let answer = reqwest::Client::new().post(url).json(&request).send().await.unwrap();
        Json(answer.json().await.unwrap())
    }
    let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await.unwrap();
    let address = listener.local_addr().unwrap();
    let app = axum::Router::new().route("/", axum::routing::post(forward)).with_state(Upstream(upstream, max_blocks));
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{address}/").parse().unwrap()
}

#[tokio::test]
async fn a_union_with_the_longest_freeze_period_stops_nothing_and_a_restart_loads_it() {
    let chain = Chain::start().await;
    // A stranger's union, with the longest freeze period there is (a longer one is refused).
    let longest = 365 * 86_400u64;
    let receipt = send(chain.du_factory(OTHER).createDataUnion(
        chain.address(AGENT),
        vec![],
        vec![],
        U256::ZERO,
        U256::from(longest),
    ))
    .await;
    let stranger = chain::event::<coop::contracts::DataUnionFactory::DataUnionCreated>(&receipt).du;
    let du = union_with_revenue(&chain, U256::from(1001u64)).await;
    let (store, _dir) = fresh_store().await;
    let mut indexer = indexer_for(&chain, &store, chain.wallet(DEPLOYER)).await;

    catch_up(&mut indexer).await;

    // What a restart does: build the models from the stored log.
    let (models, _) = live::load(&store).await.expect("a restart loads the log");
    assert_eq!(models.unions.as_of(), chain.block_number().await);
    assert_eq!(models.unions.get(&stranger).expect("served").freeze_period, longest);
    assert_eq!(models.unions.get(&du).unwrap().state().totals().revenue, U256::from(1001u64));
}

#[tokio::test]
async fn union_logs_are_asked_for_by_the_unions_addresses_only() {
    let chain = Chain::start().await;
    let du = union_with_revenue(&chain, U256::from(10u64)).await;
    let proxy = FaultyRpc::start(chain.anvil.endpoint(), Fault::None).await;
    let (store, _dir) = fresh_store().await;
    let mut indexer = indexer_for(&chain, &store, provider(&proxy.url)).await;

    catch_up(&mut indexer).await;

    let queries = proxy.log_queries();
    assert!(!queries.is_empty());
    for filter in &queries {
        let addresses = &filter["address"];
        let named = addresses.as_array().map_or(addresses.is_string(), |list| !list.is_empty());
        assert!(named, "a log query without addresses: {filter}");
    }
    let unions = live::load(&store).await.unwrap().0.unions;
    assert_eq!(unions.get(&du).unwrap().state().member(&chain.address(MEMBER)).unwrap().earnings, U256::from(4));
}

#[tokio::test]
async fn a_commit_gets_its_block_time_when_the_node_leaves_it_out_of_the_log() {
    let chain = Chain::start().await;
    let du = chain.create_data_union(U256::ZERO, 3600).await;
    let book_block = chain.block_number().await;
    let hash = chain.block_hash(book_block).await;
    let receipt =
        send(chain.du(du, chain::OPERATOR).commit(U256::from(book_block), hash, B256::repeat_byte(1), B256::ZERO))
            .await;
    let committed_at = chain
        .wallet(DEPLOYER)
        .get_block_by_number(receipt.block_number.unwrap().into())
        .await
        .unwrap()
        .unwrap()
        .header
        .timestamp;
    let proxy = FaultyRpc::start(chain.anvil.endpoint(), Fault::NoBlockTimes).await;
    let (store, _dir) = fresh_store().await;
    let mut indexer = indexer_for(&chain, &store, provider(&proxy.url)).await;

    catch_up(&mut indexer).await;

    let unions = live::load(&store).await.unwrap().0.unions;
    let union = unions.get(&du).unwrap();
    let commit = union.state().commits()[0];
    assert_eq!(commit.timestamp, committed_at);
    let on_chain = chain.du(du, MEMBER).provableAt(U256::from(book_block)).call().await.unwrap();
    assert_eq!(U256::from(commit.provable_at(union.freeze_period)), on_chain);
}

#[tokio::test]
async fn a_load_balanced_node_whose_logs_lag_never_makes_the_indexer_skip_a_block() {
    const LAG: u64 = 3;
    let chain = Chain::start().await;
    let du = union_with_revenue(&chain, U256::ZERO).await;
    let rpc = chain.wallet(DEPLOYER);
    rpc.anvil_mine(Some(20), None).await.unwrap();
    let mut revenue_at = Vec::new();
    for amount in [100u64, 20, 3] {
        chain.mint_data(du, U256::from(amount)).await;
        revenue_at.push((chain.block_number().await, amount));
    }
    let proxy = FaultyRpc::start(chain.anvil.endpoint(), Fault::LaggingLogs(LAG)).await;
    let (store, _dir) = fresh_store().await;
    let mut indexer = indexer_for(&chain, &store, provider(&proxy.url)).await;

    // As far as the lagging node lets it: whatever it checkpoints, it has read.
    index_while_it_can(&mut indexer).await;
    let checkpoint = store.checkpoint(STREAM).await.unwrap().unwrap().block;
    let expected: u64 = revenue_at.iter().filter(|(block, _)| *block <= checkpoint).map(|(_, amount)| amount).sum();
    let unions = live::load(&store).await.unwrap().0.unions;
    assert_eq!(unions.get(&du).unwrap().state().totals().revenue, U256::from(expected), "checkpoint {checkpoint}");
    assert_eq!(checkpoint, chain.block_number().await - LAG, "the lagging node held it back");

    // Once the node has those blocks, everything in them is read.
    rpc.anvil_mine(Some(LAG), None).await.unwrap();
    index_while_it_can(&mut indexer).await;
    let unions = live::load(&store).await.unwrap().0.unions;
    assert_eq!(unions.get(&du).unwrap().state().totals().revenue, U256::from(123u64));
}

#[tokio::test]
async fn a_node_lagging_further_than_the_reorg_window_never_makes_the_indexer_skip_a_block() {
    const LAG: u64 = 30;
    let chain = Chain::start().await;
    let du = union_with_revenue(&chain, U256::ZERO).await;
    chain.mint_data(du, U256::from(7u64)).await;
    let revenue_block = chain.block_number().await;
    // The revenue ends up below the window (18 blocks here) but above the lagging node's head.
    let rpc = chain.wallet(DEPLOYER);
    rpc.anvil_mine(Some(25), None).await.unwrap();
    let proxy = FaultyRpc::start(chain.anvil.endpoint(), Fault::LaggingLogs(LAG)).await;
    let (store, _dir) = fresh_store().await;
    let mut indexer = indexer_for(&chain, &store, provider(&proxy.url)).await;

    index_while_it_can(&mut indexer).await;

    let checkpoint = store.checkpoint(STREAM).await.unwrap().map_or(0, |c| c.block);
    let revenue = live::load(&store).await.unwrap().0.unions.get(&du).map(|u| u.state().totals().revenue);
    assert!(checkpoint < revenue_block || revenue == Some(U256::from(7u64)), "checkpoint {checkpoint}, {revenue:?}");
    rpc.anvil_mine(Some(LAG), None).await.unwrap();
    index_while_it_can(&mut indexer).await;
    let unions = live::load(&store).await.unwrap().0.unions;
    assert_eq!(unions.get(&du).unwrap().state().totals().revenue, U256::from(7u64));
}

/// Steps until the indexer has caught up, or has only been told to retry many times in a row (a
/// range the node cut short halves each time).
async fn index_while_it_can(indexer: &mut Indexer) {
    let mut retries = 0;
    for _ in 0..1_000 {
        match indexer.step().await.unwrap() {
            Step::CaughtUp { .. } => return,
            Step::Retry { .. } => retries += 1,
            _ => retries = 0,
        }
        if retries == 30 {
            return;
        }
    }
    panic!("the indexer neither caught up nor stopped at the lagging node");
}
