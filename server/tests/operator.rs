//! The operator on anvil: it commits the book of a confirmed block only when it changed, batched
//! by its policy, only for the unions whose operator it is now, and members withdraw exactly their
//! earnings with the proofs the server computes.

#[allow(dead_code)]
#[path = "contracts/helpers.rs"]
mod chain;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use alloy::primitives::{Address, B256, U256};
use alloy::providers::Provider;
use alloy::providers::ext::AnvilApi;
use chain::{AGENT, BUYER, Chain, DEPLOYER, MEMBER, OPERATOR, OTHER, OWNER, send};
use coop_server::guard::Guard;
use coop_server::indexer::{Indexer, Step, Watched};
use coop_server::live;
use coop_server::operator::{CommitPolicy, Operator};
use coop_server::policy::{Key, Policy, Refusal, Serving, Spending};
use coop_server::sender::{self, Patience, signing_provider};
use coop_server::store::Store;

struct Server {
    store: Store,
    indexer: Indexer,
    operator: Operator,
    models: live::ReadModels,
    _dir: tempfile::TempDir,
}

impl Server {
    async fn start(chain: &Chain, policy: CommitPolicy) -> Server {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&format!("sqlite://{}?mode=rwc", dir.path().join("coop.db").display())).await.unwrap();
        let watched = Watched {
            factory: chain.deployment.data_union_factory,
            marketplace: chain.deployment.marketplace,
            data_token: chain.deployment.data_token,
        };
        let indexer = Indexer::new(store.clone(), chain.wallet(DEPLOYER), watched, chain.deployment.deploy_block, 0)
            .await
            .unwrap();
        let operator = Operator::new(store.clone(), &chain.anvil.endpoint(), chain.signer(OPERATOR), policy, 0);
        Server { store, indexer, operator, models: live::ReadModels::default(), _dir: dir }
    }

    /// Indexes to the head and reloads the unions from the log.
    async fn sync(&mut self) {
        while !matches!(self.indexer.step().await.unwrap(), Step::CaughtUp { .. }) {}
        self.models.replace(live::load(&self.store).await.unwrap().0).await;
    }

    async fn commit(&mut self) -> Vec<u64> {
        self.sync().await;
        let committed = self.operator.step(&self.models).await.unwrap();
        committed.into_iter().map(|c| c.block).collect()
    }
}

const EVERY_TEN: CommitPolicy = CommitPolicy { every_blocks: 10, revenue_threshold: None };

async fn union_with_members(chain: &Chain) -> Address {
    let du = chain.create_data_union(U256::ZERO, 0).await;
    send(chain.du(du, AGENT).addMembers(vec![chain.address(MEMBER), chain.address(OTHER)])).await;
    du
}

#[tokio::test]
async fn a_changed_book_is_committed_and_an_unchanged_one_is_not() {
    let chain = Chain::start().await;
    let du = union_with_members(&chain).await;
    let mut server = Server::start(&chain, EVERY_TEN).await;
    assert_eq!(server.commit().await, Vec::<u64>::new(), "no earnings yet, nothing to commit");

    chain.mint_data(du, U256::from(1000u64)).await;
    let first = server.commit().await;
    assert_eq!(first, vec![chain.block_number().await - 1], "the book of the head before the commit");
    let root = chain.du(du, DEPLOYER).committedRoot(U256::from(first[0])).call().await.unwrap();
    let stored = server.store.book(du, first[0]).await.unwrap().expect("the book is stored");
    assert_eq!(stored.root, root);

    chain.wallet(DEPLOYER).anvil_mine(Some(20), None).await.unwrap();
    assert_eq!(server.commit().await, Vec::<u64>::new(), "20 blocks later, but nothing changed");
}

#[tokio::test]
async fn small_revenue_waits_for_the_interval_unless_it_passes_the_threshold() {
    let chain = Chain::start().await;
    let du = union_with_members(&chain).await;
    let policy = CommitPolicy { every_blocks: 10, revenue_threshold: Some(U256::from(5000u64)) };
    let mut server = Server::start(&chain, policy).await;
    chain.mint_data(du, U256::from(100u64)).await;
    assert_eq!(server.commit().await.len(), 1, "the first book");

    chain.mint_data(du, U256::from(100u64)).await;
    assert_eq!(server.commit().await.len(), 0, "small and soon after: waits");
    chain.mint_data(du, U256::from(5000u64)).await;
    assert_eq!(server.commit().await.len(), 1, "past the threshold: commits at once");
    chain.mint_data(du, U256::from(10u64)).await;
    chain.wallet(DEPLOYER).anvil_mine(Some(10), None).await.unwrap();
    assert_eq!(server.commit().await.len(), 1, "small, but the interval has passed");
}

#[tokio::test]
async fn a_union_whose_owner_hands_the_operator_role_elsewhere_is_left_alone_until_it_comes_back() {
    let chain = Chain::start().await;
    let du = union_with_members(&chain).await;
    let mut server = Server::start(&chain, EVERY_TEN).await;
    send(chain.du(du, OWNER).setOperator(chain.address(OTHER))).await;
    chain.mint_data(du, U256::from(1000u64)).await;
    assert_eq!(server.commit().await, Vec::<u64>::new(), "not its operator any more: nothing is sent");
    assert_eq!(server.models.unions().await.get(&du).unwrap().operator, chain.address(OTHER));

    send(chain.du(du, OWNER).setOperator(chain.address(OPERATOR))).await;
    assert_eq!(server.commit().await.len(), 1, "its operator again: the changed book is committed");
}

#[tokio::test]
async fn members_withdraw_exactly_their_earnings_with_the_servers_proofs() {
    let chain = Chain::start().await;
    let du = union_with_members(&chain).await;
    let mut server = Server::start(&chain, EVERY_TEN).await;
    chain.mint_data(du, U256::from(1001u64)).await;
    server.commit().await;
    send(chain.du(du, AGENT).partMembers(vec![chain.address(OTHER)])).await;
    // The freeze period is zero, but a commit is provable only after the second it was made in.
    chain.advance_time(1).await;
    server.sync().await;
    let now = chain.timestamp().await;

    for account in [MEMBER, OTHER] {
        let member = chain.address(account);
        let figures = server.models.unions().await.get(&du).unwrap().figures(&member, now);
        assert_eq!(figures.withdrawable, U256::from(500), "parted members keep their earnings");
        let proof = figures.proof.expect("a proof for the withdrawable commit");
        let before = chain.data_balance(member).await;

        send(chain.du(du, account).withdrawAll(U256::from(proof.block), proof.earnings, proof.proof)).await;

        assert_eq!(chain.data_balance(member).await - before, U256::from(500));
        server.sync().await;
        let after = server.models.unions().await.get(&du).unwrap().figures(&member, now);
        assert_eq!((after.withdrawable, after.withdrawn), (U256::ZERO, U256::from(500)));
    }
}

#[tokio::test]
async fn a_strangers_union_gets_no_commits_and_an_admitted_one_no_more_than_its_quota() {
    let chain = Chain::start().await;
    // OTHER deploys a union naming this server's operator: a stranger's.
    let stranger = chain.create_data_union_as(OTHER, U256::ZERO).await;
    send(chain.du(stranger, AGENT).addMembers(vec![chain.address(MEMBER)])).await;
    let du = union_with_members(&chain).await;
    let mut server = Server::start(&chain, EVERY_TEN).await;
    let policy = Policy { owners: vec![chain.address(OWNER)], commits_per_union_per_day: 2, ..Policy::default() };
    let spending = Arc::new(Spending::default());
    server.operator = server.operator.serving(Serving { policy, spending: spending.clone() });

    let mut committed = Vec::new();
    for round in 1..=3u64 {
        chain.mint_data(stranger, U256::from(1u64)).await;
        chain.mint_data(du, U256::from(1000u64 * round)).await;
        chain.wallet(DEPLOYER).anvil_mine(Some(10), None).await.unwrap();
        committed.push(server.commit().await.len());
    }

    assert_eq!(committed, vec![1, 1, 0], "the admitted union's two commits of the day, then none");
    assert_eq!(chain.du(stranger, DEPLOYER).commitCount().call().await.unwrap(), U256::ZERO);
    assert_eq!(chain.du(du, DEPLOYER).commitCount().call().await.unwrap(), U256::from(2u64));
    assert_eq!(
        spending.held_back(),
        BTreeMap::from([((Key::Operator, Refusal::NotAdmitted), 1), ((Key::Operator, Refusal::Quota), 1)])
    );
    assert!(spending.gas_spent(Key::Operator, Instant::now()) > U256::ZERO);
}

fn approval() -> Vec<u8> {
    use alloy::sol_types::SolCall;
    coop::contracts::DataToken::approveCall { spender: Address::repeat_byte(1), value: U256::from(5u64) }.abi_encode()
}

fn impatient() -> Patience {
    Patience { deadline: Duration::from_millis(700), replacements: 3, poll: Duration::from_millis(50) }
}

/// The transactions waiting in anvil's pool, as `txpool_content` lists them.
async fn pool(chain: &Chain) -> Vec<serde_json::Value> {
    let content: serde_json::Value = chain.wallet(DEPLOYER).raw_request("txpool_content".into(), ()).await.unwrap();
    let by_sender = content["pending"].as_object().cloned().unwrap_or_default();
    by_sender.values().flat_map(|by_nonce| by_nonce.as_object().unwrap().values().cloned()).collect()
}

async fn until_pool_holds(chain: &Chain, count: usize) -> Vec<serde_json::Value> {
    for _ in 0..200 {
        let pending = pool(chain).await;
        if pending.len() == count {
            return pending;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("the pool never held {count} transactions: {:?}", pool(chain).await);
}

fn fee(transaction: &serde_json::Value) -> u128 {
    u128::from_str_radix(transaction["maxFeePerGas"].as_str().unwrap().trim_start_matches("0x"), 16).unwrap()
}

#[tokio::test]
async fn a_transaction_the_node_dropped_is_sent_again_with_higher_fees_and_mined() {
    let chain = Chain::start().await;
    let rpc = chain.wallet(DEPLOYER);
    rpc.anvil_set_auto_mine(false).await.unwrap();
    let key = chain.signer(OTHER);
    let from = key.address();
    let provider = signing_provider(&chain.anvil.endpoint(), key);
    let token = chain.deployment.data_token;
    let sending =
        tokio::spawn(async move { sender::send(&provider, from, token, approval(), "an approval", impatient()).await });
    let first = until_pool_holds(&chain, 1).await.remove(0);

    // The node forgets it; past its deadline the sender sends it again.
    rpc.anvil_drop_all_transactions().await.unwrap();
    let again = until_pool_holds(&chain, 1).await.remove(0);
    rpc.anvil_mine(Some(1), None).await.unwrap();
    let mined = tokio::time::timeout(Duration::from_secs(10), sending).await.unwrap().unwrap().unwrap();

    assert_eq!(again["nonce"], first["nonce"]);
    assert!(fee(&again) > fee(&first), "{again} pays more than {first}");
    assert_eq!(mined.block, chain.block_number().await);
    assert!(mined.cost > U256::ZERO);
    assert_eq!(chain.data(OTHER).allowance(from, Address::repeat_byte(1)).call().await.unwrap(), U256::from(5u64));
}

#[tokio::test]
async fn a_transaction_never_mined_ends_the_send_with_an_error_instead_of_a_wait() {
    let chain = Chain::start().await;
    chain.wallet(DEPLOYER).anvil_set_auto_mine(false).await.unwrap();
    let key = chain.signer(OTHER);
    let from = key.address();
    let provider = signing_provider(&chain.anvil.endpoint(), key);
    let patience = Patience { deadline: Duration::from_millis(200), replacements: 2, poll: Duration::from_millis(20) };

    let sent = tokio::time::timeout(
        Duration::from_secs(10),
        sender::send(&provider, from, chain.deployment.data_token, approval(), "an approval", patience),
    )
    .await
    .expect("the send gave up by itself");

    let error = sent.unwrap_err().to_string();
    assert!(error.contains("not mined after 3 tries"), "{error}");
}

#[tokio::test]
async fn the_validator_vetoes_a_wrong_frozen_commit_in_the_unions_that_name_it_and_nothing_else() {
    let chain = Chain::start().await;
    let validator = chain.address(BUYER);
    let guarded = chain.create_data_union_with_validators(U256::ZERO, 3600, vec![validator]).await;
    let unguarded = chain.create_data_union(U256::ZERO, 3600).await;
    for du in [guarded, unguarded] {
        send(chain.du(du, AGENT).addMembers(vec![chain.address(MEMBER)])).await;
        chain.mint_data(du, U256::from(1000u64)).await;
    }
    let mut server = Server::start(&chain, EVERY_TEN).await;
    let mut guard = Guard::new(&chain.anvil.endpoint(), chain.signer(BUYER));
    assert_eq!(guard.address(), validator);

    // The server's own, right commits stand.
    assert_eq!(server.commit().await.len(), 2);
    assert!(guard.step(&server.models).await.unwrap().is_empty(), "a right commit is never vetoed");

    // A wrong root in each union: only the union that names the validator gets a veto.
    let block = chain.block_number().await;
    let hash = chain.block_hash(block).await;
    let wrong = B256::repeat_byte(0x66);
    for du in [guarded, unguarded] {
        send(chain.du(du, OPERATOR).commit(U256::from(block), hash, wrong, wrong)).await;
    }
    server.sync().await;
    let vetoed = guard.step(&server.models).await.unwrap();
    assert_eq!(vetoed.iter().map(|v| (v.union, v.book_block)).collect::<Vec<_>>(), vec![(guarded, block)]);
    assert_eq!(chain.du(guarded, DEPLOYER).committedRoot(U256::from(block)).call().await.unwrap(), B256::ZERO);
    assert_eq!(chain.du(unguarded, DEPLOYER).committedRoot(U256::from(block)).call().await.unwrap(), wrong);
    server.sync().await;
    let unions = server.models.unions().await;
    assert!(unions.get(&guarded).unwrap().state().commits().iter().all(|c| c.book_block != block));
    drop(unions);
    assert!(guard.step(&server.models).await.unwrap().is_empty(), "each veto is sent once");

    // A wrong commit past its freeze can no longer be vetoed, and is not tried.
    let block = chain.block_number().await;
    let hash = chain.block_hash(block).await;
    send(chain.du(guarded, OPERATOR).commit(U256::from(block), hash, wrong, wrong)).await;
    chain.advance_time(3601).await;
    server.sync().await;
    assert!(guard.step(&server.models).await.unwrap().is_empty());
}
