//! Property tests: random sequences of everything that moves a union's DATA, driven through alloy against
//! one anvil, with the union's money invariants read from the chain after every step.
//!
//! A sequence runs on one of four unions (a freeze period of 600 s or 0 as on dev chains, each fresh or
//! primed by [`prelude`] with members, revenue and commits; all with a 10 % admin fee and a validator)
//! and mixes up to [`MAX_STEPS`] of: members joining and parting (the join-part agent); revenue
//! minted or transferred into the union; purchases of the union's product through every path
//! (`Marketplace.buy` with DATA, `UniswapAdapter.buyWithETH`, `buyWithERC20` with DAI,
//! `buyWithDataPermit`); purchases with [`HostileToken`], whose transfers call back into the adapter or
//! the union; commits by the operator of the book the server's own code builds from the chain's logs
//! (`coop_server::indexer::decode` and `coop::engine`), wrong commits a validator vetoes at once, and
//! vetoes of correct ones; proofs by a stranger; withdrawals (`withdrawAll`, `withdraw`, `withdrawAllFor`
//! by a stranger); admin fee and operator changes and their application; time passing.
//!
//! Every step's outcome (success, or the exact custom error) is predicted by a model written from
//! docs/contracts.md and DESIGN.md section 4, and after every step these hold on chain:
//! 1. the sum of `Withdrawn` events equals `totalWithdrawn()`, at most the DATA the union ever received
//!    (the `Transfer` events into it);
//! 2. each address's `earnings()` equals the largest `EarningsProven` for it, and its `withdrawn()` (the
//!    sum of its `Withdrawn` events) is at most that;
//! 3. `totalProven() - totalWithdrawn() <= ` the union's DATA balance (and that balance is exactly what
//!    it received less what it paid out);
//! 4. the adapter holds no ETH, DATA, WETH, DAI or HOSTILE and has no allowance left to the marketplace
//!    or the router.
//!
//! The model also has to agree with the chain on every figure: received revenue, each address's proven
//! and withdrawn earnings (never more than its lifetime earnings in the correct book, unless a wrong
//! root was left standing on the union without a freeze period), members, fee and operator.
//!
//! One anvil serves a whole run: the set-up is snapshotted and every sequence starts from it
//! (`evm_revert`). Block times are exact (`anvil_setBlockTimestampInterval(1)`: each block one second
//! after the previous, time jumps with `evm_setNextBlockTimestamp`), so a sequence replays identically.
//! `COOP_CONTRACT_SEQUENCES` (default 200) sets the number of sequences and `COOP_CONTRACT_SEED` the
//! seed (default below); a failure prints the smallest failing sequence and the command that replays it.

use std::{
    cell::{Cell, RefCell},
    collections::{BTreeMap, HashMap, HashSet},
    time::Instant,
};

use alloy::{
    contract::{CallBuilder, CallDecoder},
    network::Ethereum,
    primitives::{Address, B256, Bytes, U256},
    providers::{DynProvider, Provider, ext::AnvilApi},
    rpc::types::{BlockId, Filter, TransactionReceipt},
    sol,
    sol_types::{SolCall, SolEvent, SolEventInterface, SolInterface},
};
use coop::{
    book::Book,
    contracts::{
        DataToken,
        DataUnion::{self, DataUnionErrors as E, DataUnionEvents},
        DataUnionFactory, Marketplace, UniswapAdapter, UniswapV2Router02,
    },
    engine::{Event, UnionState},
};
use coop_server::indexer::decode::{self, Watched};
use proptest::{
    prelude::*,
    test_runner::{Config, RngSeed, TestRunner},
};

use crate::helpers::*;

sol!(
    #[sol(rpc)]
    HostileToken,
    "../contracts/artifacts/HostileToken.json"
);

sol! {
    #[sol(rpc)]
    interface Erc20 {
        function balanceOf(address account) external view returns (uint256);
        function allowance(address owner, address spender) external view returns (uint256);
    }
}

/// More of anvil's accounts, beside those of `helpers`.
const VALIDATOR: usize = 7;
const OPERATOR2: usize = 8;
const MEMBER2: usize = 9;

/// Who may join: the owner, two members with keys, two addresses nobody holds the key of (a stranger
/// pays them out with `withdrawAllFor`) and the hostile token (its callbacks withdraw).
const CANDIDATES: usize = 6;
/// The candidates with keys, in this order: `OWNER`, `MEMBER`, `MEMBER2`.
const KEYED: [usize; 3] = [OWNER, MEMBER, MEMBER2];
/// The candidate index of the hostile token.
const HOSTILE_MEMBER: usize = 5;
/// Whom the owner may name operator.
const OPERATORS: [usize; 3] = [OPERATOR, OPERATOR2, OWNER];

/// 0.01 DATA a second, at least a minute.
const PRICE_PER_SECOND: u128 = TOKEN / 100;
const MINIMUM_SECONDS: u64 = 60;
/// What a purchase nested in a hostile callback buys.
const NESTED_SECONDS: u64 = 60;
/// 10 %.
const ADMIN_FEE: u128 = TOKEN / 10;
/// The unions a sequence runs on: their freeze periods, and whether the set-up runs [`prelude`] on them
/// (members with earnings, a provable commit, and a second one frozen where there is a freeze period).
const UNIONS: [(u64, bool); 4] = [(600, false), (0, false), (600, true), (0, true)];

const DEFAULT_SEQUENCES: u32 = 200;
const DEFAULT_SEED: u64 = 0xc00b_5eed;
const MAX_STEPS: usize = 12;

// ---- the steps ----

/// How a buyer pays for the union's product.
#[derive(Debug, Clone, Copy)]
enum Path {
    /// `Marketplace.buy`, after approving DATA to the marketplace.
    Marketplace,
    /// `UniswapAdapter.buyWithETH`, 1 % over the quote (refunded).
    Eth,
    /// `UniswapAdapter.buyWithERC20` with DAI, at most 1 % over the quote.
    Dai,
    /// `UniswapAdapter.buyWithDataPermit`.
    Permit,
    /// `UniswapAdapter.buyWithERC20` with DATA, after approving the price to the adapter.
    AdapterData,
}

/// What the hostile token calls, as itself, from its transfers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Callback {
    /// Nothing: a plain token.
    None,
    /// `adapter.buyWithERC20` paying with the hostile token again (the token holds some and approved).
    NestedBuy,
    /// `adapter.buyWithERC20` paying with DATA (the token holds some and approved).
    NestedDataBuy,
    /// `union.withdraw(what the model says the token may withdraw)`: the token is a member candidate.
    UnionWithdraw,
}

/// How much a wrong book gives one leaf on top of its earnings.
#[derive(Debug, Clone, Copy)]
enum Inflation {
    OneWei,
    /// The union's whole balance.
    Balance,
    /// 10^18 DATA, far more than there is.
    Huge,
}

/// Which of the commits made so far a step uses.
#[derive(Debug, Clone, Copy)]
enum Pick {
    /// The newest one not vetoed (the newest of all if every one was).
    Latest,
    /// Any: the `n % count`-th in order.
    Any(usize),
}

/// Which candidate a proof or withdrawal is for.
#[derive(Debug, Clone, Copy)]
enum Who {
    /// `candidates[i]`.
    Candidate(usize),
    /// The `n % count`-th candidate that has earned something (by the model); any if none has.
    Earner(usize),
}

/// How much of its withdrawable earnings a member asks for with `withdraw(amount)`.
#[derive(Debug, Clone, Copy)]
enum Portion {
    Nothing,
    Quarter,
    All,
    OneMore,
}

#[derive(Debug, Clone)]
enum Step {
    /// `addMembers` by the agent (candidate indices).
    Join(Vec<usize>),
    /// `partMembers` by the agent.
    Part(Vec<usize>),
    /// DATA minted into the union.
    Mint(U256),
    /// DATA transferred into the union by the buyer.
    Transfer(U256),
    Buy {
        path: Path,
        seconds: u64,
    },
    /// The buyer pays with the hostile token (`buyWithERC20`), which calls back up to `shots` times.
    HostileBuy {
        seconds: u64,
        callback: Callback,
        shots: u8,
    },
    /// A commit of the correct book of the latest block, by the operator (`None`) or by `OPERATORS[i]`,
    /// who may not be the operator.
    Commit {
        by: Option<usize>,
    },
    /// The operator commits a wrong book, inflating a candidate's leaf; the validator vetoes at once.
    WrongCommit {
        member: usize,
        inflation: Inflation,
    },
    /// The validator vetoes a commit.
    Veto {
        commit: Pick,
    },
    /// A stranger proves a candidate's earnings from a commit.
    Prove {
        member: Who,
        commit: Pick,
    },
    /// `withdrawAll` by a member with a key, `withdrawAllFor` by a stranger for one without.
    WithdrawAll {
        member: Who,
        commit: Pick,
    },
    /// `withdrawAllFor` by a stranger.
    WithdrawAllFor {
        member: Who,
        commit: Pick,
    },
    /// `withdraw(amount)` by a member with a key: the `n % count`-th of those with something to
    /// withdraw (by the model), or `KEYED[n % 3]` if none has.
    Withdraw {
        member: usize,
        portion: Portion,
    },
    SetAdminFee(U256),
    ApplyAdminFeeChange,
    /// The owner names `OPERATORS[i]`.
    SetOperator(usize),
    ApplyOperatorChange,
    /// Time passes (seconds), one block.
    Advance(u64),
}

impl Step {
    fn name(&self) -> &'static str {
        match self {
            Step::Join(_) => "join",
            Step::Part(_) => "part",
            Step::Mint(_) => "mint",
            Step::Transfer(_) => "transfer",
            Step::Buy { path: Path::Marketplace, .. } => "buy with DATA",
            Step::Buy { path: Path::Eth, .. } => "buy with ETH",
            Step::Buy { path: Path::Dai, .. } => "buy with DAI",
            Step::Buy { path: Path::Permit, .. } => "buy with DATA permit",
            Step::Buy { path: Path::AdapterData, .. } => "buy with DATA through the adapter",
            Step::HostileBuy { callback: Callback::None, .. } => "hostile buy, no callback",
            Step::HostileBuy { callback: Callback::NestedBuy, .. } => "hostile buy, nested buy",
            Step::HostileBuy { callback: Callback::NestedDataBuy, .. } => "hostile buy, nested DATA buy",
            Step::HostileBuy { callback: Callback::UnionWithdraw, .. } => "hostile buy, union withdraw",
            Step::Commit { by: None } => "commit",
            Step::Commit { by: Some(_) } => "commit by a named account",
            Step::WrongCommit { .. } => "wrong commit and veto",
            Step::Veto { .. } => "veto",
            Step::Prove { .. } => "prove",
            Step::WithdrawAll { .. } => "withdrawAll",
            Step::WithdrawAllFor { .. } => "withdrawAllFor",
            Step::Withdraw { .. } => "withdraw",
            Step::SetAdminFee(_) => "setAdminFee",
            Step::ApplyAdminFeeChange => "applyAdminFeeChange",
            Step::SetOperator(_) => "setOperator",
            Step::ApplyOperatorChange => "applyOperatorChange",
            Step::Advance(_) => "advance time",
        }
    }
}

/// 1 to 1,000 wei (remainders of the split), or up to 100 DATA.
fn amount() -> impl Strategy<Value = U256> {
    prop_oneof![
        (1u64..=1000).prop_map(U256::from),
        (1u64..=100_000_000).prop_map(|micro| U256::from(micro) * U256::from(1_000_000_000_000u64)),
    ]
}

fn candidates() -> impl Strategy<Value = Vec<usize>> {
    prop::collection::vec(0..CANDIDATES, 1..=3)
}

fn step() -> impl Strategy<Value = Step> {
    let seconds = MINIMUM_SECONDS..=3600u64;
    let path = prop_oneof![
        Just(Path::Marketplace),
        Just(Path::Eth),
        Just(Path::Dai),
        Just(Path::Permit),
        Just(Path::AdapterData)
    ];
    let callback = prop_oneof![
        Just(Callback::None),
        Just(Callback::NestedBuy),
        Just(Callback::NestedDataBuy),
        Just(Callback::UnionWithdraw)
    ];
    let inflation = prop_oneof![Just(Inflation::OneWei), Just(Inflation::Balance), Just(Inflation::Huge)];
    let portion =
        prop_oneof![Just(Portion::Nothing), Just(Portion::Quarter), Just(Portion::All), Just(Portion::OneMore)];
    let fee = prop::sample::select(vec![0u128, TOKEN / 100, TOKEN / 10, TOKEN / 2, TOKEN]).prop_map(U256::from);
    // Around the 600 s freeze period: just before, at and just after it unlocks.
    let advance = prop::sample::select(vec![1u64, 60, 599, 600, 601, 3600]);
    let who = prop_oneof![
        1 => (0..CANDIDATES).prop_map(Who::Candidate),
        2 => any::<u8>().prop_map(|n| Who::Earner(n.into()))
    ];
    let commit = prop_oneof![3 => Just(Pick::Latest), 1 => any::<u8>().prop_map(|n| Pick::Any(n.into()))];
    prop_oneof![
        3 => candidates().prop_map(Step::Join),
        1 => candidates().prop_map(Step::Part),
        3 => amount().prop_map(Step::Mint),
        1 => amount().prop_map(Step::Transfer),
        3 => (path, seconds.clone()).prop_map(|(path, seconds)| Step::Buy { path, seconds }),
        2 => (seconds, callback, 1u8..=2)
            .prop_map(|(seconds, callback, shots)| Step::HostileBuy { seconds, callback, shots }),
        4 => prop::option::weighted(0.2, 0..OPERATORS.len()).prop_map(|by| Step::Commit { by }),
        1 => (0..CANDIDATES, inflation).prop_map(|(member, inflation)| Step::WrongCommit { member, inflation }),
        1 => commit.clone().prop_map(|commit| Step::Veto { commit }),
        2 => (who.clone(), commit.clone()).prop_map(|(member, commit)| Step::Prove { member, commit }),
        4 => (who.clone(), commit.clone()).prop_map(|(member, commit)| Step::WithdrawAll { member, commit }),
        2 => (who, commit).prop_map(|(member, commit)| Step::WithdrawAllFor { member, commit }),
        2 => (any::<u8>(), portion).prop_map(|(member, portion)| Step::Withdraw { member: member.into(), portion }),
        1 => fee.prop_map(Step::SetAdminFee),
        1 => Just(Step::ApplyAdminFeeChange),
        1 => (0..OPERATORS.len()).prop_map(Step::SetOperator),
        1 => Just(Step::ApplyOperatorChange),
        4 => advance.prop_map(Step::Advance),
    ]
}

/// Which union (index into [`UNIONS`]) and the steps.
fn sequence() -> impl Strategy<Value = (usize, Vec<Step>)> {
    (0..UNIONS.len(), prop::collection::vec(step(), 2..=MAX_STEPS))
}

/// What the set-up does on the unions it primes: four members (one of them the hostile token), revenue
/// of every kind, a commit that is provable once the freeze period has passed, more revenue in a second
/// commit, a fee rise and a new operator.
fn prelude() -> Vec<Step> {
    vec![
        Step::Join(vec![1, 2, 3, HOSTILE_MEMBER]),
        Step::Mint(tokens(100)),
        Step::Buy { path: Path::Marketplace, seconds: 600 },
        Step::Transfer(U256::from(1234)),
        Step::Commit { by: None },
        Step::Advance(601),
        Step::Mint(tokens(50)),
        Step::Commit { by: None },
        // A higher fee and another operator: at once without a freeze period, announced with one.
        Step::SetAdminFee(U256::from(TOKEN / 5)),
        Step::SetOperator(1),
    ]
}

// ---- the model ----

#[derive(Debug, Clone)]
struct Leaf {
    address: Address,
    earned: U256,
    active: bool,
}

/// A commit made in the sequence, with the book it committed.
#[derive(Debug, Clone)]
struct CommitRecord {
    book: Book,
    timestamp: u64,
    vetoed: bool,
    /// For a wrong book: the inflated leaf and its correct earnings.
    inflated: Option<(Address, U256)>,
}

/// What the union should hold and do, from docs/contracts.md and DESIGN.md section 4.
#[derive(Debug, Clone)]
struct Model {
    freeze: u64,
    fee: U256,
    pending_fee: Option<(U256, u64)>,
    operator: Address,
    pending_operator: Option<(Address, u64)>,
    /// Leaf 0 is the owner; then every member in order of first joining.
    leaves: Vec<Leaf>,
    carry: U256,
    revenue: U256,
    proven: HashMap<Address, U256>,
    withdrawn: HashMap<Address, U256>,
    total_proven: U256,
    total_withdrawn: U256,
    commits: Vec<CommitRecord>,
    /// Addresses that proved more than their correct earnings from a wrong root nobody vetoed.
    overproven: HashSet<Address>,
}

impl Model {
    fn new(owner: Address, operator: Address, freeze: u64) -> Model {
        Model {
            freeze,
            fee: U256::from(ADMIN_FEE),
            pending_fee: None,
            operator,
            pending_operator: None,
            leaves: vec![Leaf { address: owner, earned: U256::ZERO, active: false }],
            carry: U256::ZERO,
            revenue: U256::ZERO,
            proven: HashMap::new(),
            withdrawn: HashMap::new(),
            total_proven: U256::ZERO,
            total_withdrawn: U256::ZERO,
            commits: Vec::new(),
            overproven: HashSet::new(),
        }
    }

    fn active_count(&self) -> usize {
        self.leaves.iter().filter(|leaf| leaf.active).count()
    }

    fn earned(&self, address: Address) -> U256 {
        self.leaves.iter().find(|leaf| leaf.address == address).map_or(U256::ZERO, |leaf| leaf.earned)
    }

    fn proven(&self, address: Address) -> U256 {
        self.proven.get(&address).copied().unwrap_or_default()
    }

    fn withdrawn(&self, address: Address) -> U256 {
        self.withdrawn.get(&address).copied().unwrap_or_default()
    }

    fn available(&self, address: Address) -> U256 {
        self.proven(address) - self.withdrawn(address)
    }

    /// What the union holds: every revenue, less every withdrawal.
    fn balance(&self) -> U256 {
        self.revenue - self.total_withdrawn
    }

    fn book(&self, block: u64) -> Book {
        Book::new(block, self.leaves.iter().map(|leaf| (leaf.address, leaf.earned)).collect()).unwrap()
    }

    /// Joins each address that is not active, in order; answers those that joined.
    fn join(&mut self, members: &[Address]) -> Vec<Address> {
        let mut joined = Vec::new();
        for &member in members {
            match self.leaves.iter_mut().find(|leaf| leaf.address == member) {
                Some(leaf) if leaf.active => continue,
                Some(leaf) => leaf.active = true,
                None => self.leaves.push(Leaf { address: member, earned: U256::ZERO, active: true }),
            }
            joined.push(member);
        }
        joined
    }

    fn part(&mut self, members: &[Address]) -> Vec<Address> {
        let mut parted = Vec::new();
        for &member in members {
            if let Some(leaf) = self.leaves.iter_mut().find(|leaf| leaf.address == member && leaf.active) {
                leaf.active = false;
                parted.push(member);
            }
        }
        parted
    }

    /// DESIGN.md section 4: the fee to the owner, the rest and the carry in equal shares to the active
    /// members, the remainder carried; with no active member everything (and the carry) to the owner.
    fn add_revenue(&mut self, amount: U256) {
        self.revenue += amount;
        let active = self.active_count();
        if active == 0 {
            self.leaves[0].earned += amount + self.carry;
            self.carry = U256::ZERO;
            return;
        }
        let fee = amount * self.fee / U256::from(TOKEN);
        self.leaves[0].earned += fee;
        let (share, carry) = (amount - fee + self.carry).div_rem(U256::from(active));
        for leaf in self.leaves.iter_mut().filter(|leaf| leaf.active) {
            leaf.earned += share;
        }
        self.carry = carry;
    }

    /// The index of the commit `pick` names; `None` before the first commit.
    fn pick(&self, pick: Pick) -> Option<usize> {
        let count = self.commits.len();
        match pick {
            _ if count == 0 => None,
            Pick::Latest => Some(self.commits.iter().rposition(|commit| !commit.vetoed).unwrap_or(count - 1)),
            Pick::Any(n) => Some(n % count),
        }
    }

    fn provable_at(&self, commit: &CommitRecord) -> u64 {
        commit.timestamp + self.freeze + 1
    }

    /// `prove(block, account, claim, proof)` with a valid proof from commit `index`, at time `now`.
    fn predict_prove(&self, index: usize, account: Address, claim: U256, now: u64) -> Result<(), E> {
        let commit = &self.commits[index];
        let block = U256::from(commit.book.block());
        if commit.vetoed {
            return Err(E::CommitNotFound(DataUnion::CommitNotFound { blockNumber: block }));
        }
        let provable_at = self.provable_at(commit);
        if now < provable_at {
            let provable_at = U256::from(provable_at);
            return Err(E::CommitFrozen(DataUnion::CommitFrozen { blockNumber: block, provableAt: provable_at }));
        }
        let previous = self.proven(account);
        if claim <= previous {
            return Err(E::EarningsNotIncreased(DataUnion::EarningsNotIncreased {
                member: account,
                provenEarnings: previous,
                claimedEarnings: claim,
            }));
        }
        let owed = self.total_proven + (claim - previous) - self.total_withdrawn;
        let balance = self.balance();
        if owed > balance {
            return Err(E::InsufficientBalance(DataUnion::InsufficientBalance { owed, balance }));
        }
        Ok(())
    }

    fn apply_prove(&mut self, index: usize, account: Address, claim: U256) {
        self.total_proven += claim - self.proven(account);
        self.proven.insert(account, claim);
        if let Some((inflated, correct)) = self.commits[index].inflated
            && inflated == account
            && claim > correct
        {
            self.overproven.insert(account);
        }
    }

    /// `withdraw(amount)` by `member`.
    fn predict_withdraw(&self, member: Address, amount: U256) -> Result<(), E> {
        if amount.is_zero() {
            return Err(E::ZeroWithdraw(DataUnion::ZeroWithdraw {}));
        }
        let available = self.available(member);
        if amount > available {
            return Err(E::Overdraft(DataUnion::Overdraft { member, amount, available }));
        }
        Ok(())
    }

    fn apply_withdraw(&mut self, member: Address, amount: U256) {
        *self.withdrawn.entry(member).or_default() += amount;
        self.total_withdrawn += amount;
    }

    /// `withdrawAll`/`withdrawAllFor` claiming `claim` (from commit `index`, when there is a proof):
    /// the amount paid out.
    fn predict_withdraw_all(&self, index: Option<usize>, member: Address, claim: U256, now: u64) -> Result<U256, E> {
        let mut proven = self.proven(member);
        if claim > proven {
            self.predict_prove(index.expect("a claim above zero comes from a commit"), member, claim, now)?;
            proven = claim;
        }
        let amount = proven - self.withdrawn(member);
        if amount.is_zero() {
            return Err(E::ZeroWithdraw(DataUnion::ZeroWithdraw {}));
        }
        Ok(amount)
    }

    fn predict_veto(&self, index: usize, now: u64) -> Result<(), E> {
        let commit = &self.commits[index];
        let block = U256::from(commit.book.block());
        if commit.vetoed {
            return Err(E::CommitNotFound(DataUnion::CommitNotFound { blockNumber: block }));
        }
        if now >= self.provable_at(commit) {
            return Err(E::CommitNotFrozen(DataUnion::CommitNotFrozen { blockNumber: block }));
        }
        Ok(())
    }
}

// ---- what a step did ----

/// What a step came to: done (with what each hostile callback did), or refused with this error.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Outcome {
    Done { callbacks: Vec<Result<(), String>> },
    Refused(String),
}

impl Outcome {
    fn done() -> Outcome {
        Outcome::Done { callbacks: Vec::new() }
    }

    fn short(&self) -> String {
        match self {
            Outcome::Done { callbacks } if callbacks.is_empty() => "done".into(),
            Outcome::Done { callbacks } => {
                let each: Vec<String> = callbacks
                    .iter()
                    .map(|callback| match callback {
                        Ok(()) => "ok".to_owned(),
                        Err(error) => error.clone(),
                    })
                    .collect();
                format!("done, callbacks [{}]", each.join(", "))
            }
            Outcome::Refused(error) => format!("refused: {error}"),
        }
    }
}

/// A custom error's name, without its fields.
fn error_name(error: &impl std::fmt::Debug) -> String {
    let text = format!("{error:?}");
    text.split('(').next().unwrap_or_default().to_owned()
}

type Sent = Result<TransactionReceipt, alloy::contract::Error>;

/// Sends a call, or answers the node's refusal to estimate it (a revert: nothing is mined then). anvil
/// mines each transaction as it comes, so the receipt is asked for directly: alloy's block watcher
/// (`get_receipt`) would be lost when the chain goes back to the snapshot.
async fn attempt<P: Provider, D: CallDecoder>(call: CallBuilder<P, D, Ethereum>) -> Sent {
    let call = call.block(BlockId::pending());
    let estimate = call.estimate_gas().await?;
    let pending = call.gas(estimate + estimate / 4).send().await?;
    let hash = *pending.tx_hash();
    let mut receipt = None;
    for _ in 0..1000 {
        receipt = pending.provider().get_transaction_receipt(hash).await.expect("asking for a receipt");
        if receipt.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    let receipt = receipt.unwrap_or_else(|| panic!("transaction {hash} was not mined"));
    assert!(receipt.status(), "transaction {hash} reverted although its estimate passed");
    Ok(receipt)
}

/// A union call's result as the model predicts it: done, or the union's custom error.
fn union_result(sent: &Sent) -> Result<(), E> {
    match sent {
        Ok(_) => Ok(()),
        Err(error) => Err(error
            .as_decoded_interface_error::<E>()
            .unwrap_or_else(|| panic!("expected a DataUnion error, got: {error}"))),
    }
}

/// Why a call other than a union's reverted: a custom error of ours, or a revert string.
fn reason(error: &alloy::contract::Error) -> String {
    if let Some(error) = error.as_decoded_interface_error::<UniswapAdapter::UniswapAdapterErrors>() {
        return error_name(&error);
    }
    if let Some(error) = error.as_decoded_interface_error::<Marketplace::MarketplaceErrors>() {
        return error_name(&error);
    }
    if let Some(error) = error.as_decoded_interface_error::<E>() {
        return error_name(&error);
    }
    match error.as_revert_data() {
        Some(data) => revert_reason(&data),
        None => error.to_string(),
    }
}

/// A revert string (`Error(string)`), or the raw revert data.
fn revert_reason(data: &[u8]) -> String {
    match alloy::sol_types::decode_revert_reason(data) {
        Some(reason) => reason.strip_prefix("revert: ").unwrap_or(&reason).to_owned(),
        None => format!("revert data {}", Bytes::copy_from_slice(data)),
    }
}

fn must<'a>(sent: &'a Sent, what: &str) -> &'a TransactionReceipt {
    match sent {
        Ok(receipt) => receipt,
        Err(error) => panic!("{what} failed: {}", reason(error)),
    }
}

// ---- the chain ----

/// A union of the set-up, with its product.
#[derive(Debug, Clone, Copy)]
struct Union {
    address: Address,
    product: B256,
    freeze: u64,
    /// The block of its creation: its logs start there.
    created: u64,
}

/// One anvil with everything deployed, the hostile token and its pool, the unions of [`UNIONS`] and
/// their products, snapshotted; every sequence starts from the snapshot.
struct World {
    chain: Chain,
    /// A provider per anvil account, kept (each new one would open new connections).
    providers: Vec<DynProvider>,
    hostile: Address,
    unions: Vec<Union>,
    /// The model of each union at the snapshot.
    starts: Vec<Model>,
    candidates: Vec<Address>,
    snapshot: Cell<U256>,
    /// How often each step kind came to each outcome over the run.
    stats: RefCell<BTreeMap<String, usize>>,
}

impl World {
    async fn new() -> World {
        let chain = Chain::start().await;
        // The set-up's providers wait for receipts with alloy's block watcher, which must not outlive
        // them: it would see the chain go back at each revert.
        let deployer = chain.wallet(DEPLOYER);
        // Each block one second after the previous, whatever the wall clock says.
        deployer.anvil_set_block_timestamp_interval(1).await.unwrap();
        let d = chain.deployment.clone();

        // The hostile token, a HOSTILE/WETH pool (100,000 : 100 ETH) by the deployer, HOSTILE for the
        // buyer, and HOSTILE and DATA for the token itself, approved to the adapter for nested purchases.
        let hostile = HostileToken::deploy(deployer.clone()).await.unwrap();
        let token = *hostile.address();
        let pool = tokens(100_000);
        send(hostile.mint(chain.address(DEPLOYER), pool)).await;
        send(hostile.approve(d.uniswap_router, pool)).await;
        let router = UniswapV2Router02::new(d.uniswap_router, deployer.clone());
        let deadline = U256::from(chain.timestamp().await + 365 * 24 * 3600);
        let liquidity = router.addLiquidityETH(token, pool, pool, tokens(100), chain.address(DEPLOYER), deadline);
        send(liquidity.value(tokens(100))).await;
        send(hostile.mint(chain.address(BUYER), tokens(10_000))).await;
        send(hostile.mint(token, tokens(10_000))).await;
        chain.mint_data(token, tokens(1_000)).await;
        for erc20 in [token, d.data_token] {
            let approve = DataToken::approveCall { spender: d.uniswap_adapter, value: U256::MAX };
            send(hostile.execute(erc20, approve.abi_encode().into())).await;
        }

        // The buyer approves once: DATA to the marketplace, DAI and HOSTILE to the adapter.
        send(chain.data(BUYER).approve(d.marketplace, U256::MAX)).await;
        send(chain.dai(BUYER).approve(d.uniswap_adapter, U256::MAX)).await;
        send(HostileToken::new(token, chain.wallet(BUYER)).approve(d.uniswap_adapter, U256::MAX)).await;

        let mut unions = Vec::new();
        for (index, (freeze, _)) in UNIONS.into_iter().enumerate() {
            let validators = vec![chain.address(VALIDATOR)];
            let address = chain.create_data_union_with_validators(U256::from(ADMIN_FEE), freeze, validators).await;
            let created = chain.block_number().await;
            let (price, minimum) = (U256::from(PRICE_PER_SECOND), U256::from(MINIMUM_SECONDS));
            let product = chain.create_product(OWNER, &format!("Union {index}"), address, price, minimum).await;
            unions.push(Union { address, product, freeze, created });
        }

        let candidates = vec![
            chain.address(OWNER),
            chain.address(MEMBER),
            chain.address(MEMBER2),
            Address::repeat_byte(0xa1),
            Address::repeat_byte(0xb2),
            token,
        ];
        let providers: Vec<DynProvider> = (0..10).map(|account| chain.wallet(account)).collect();
        let (owner, operator) = (chain.address(OWNER), chain.address(OPERATOR));
        let starts = unions.iter().map(|union| Model::new(owner, operator, union.freeze)).collect();
        let mut world = World {
            chain,
            providers,
            hostile: token,
            unions,
            starts,
            candidates,
            snapshot: Cell::new(U256::ZERO),
            stats: RefCell::default(),
        };
        for (index, (_, primed)) in UNIONS.into_iter().enumerate() {
            if primed {
                let mut run = Run { world: &world, union: world.unions[index], model: world.starts[index].clone() };
                for step in prelude() {
                    run.step(&step).await;
                    run.check(&format!("in the prelude, after {step:?}")).await;
                }
                world.starts[index] = run.model;
            }
        }
        world.snapshot.set(deployer.anvil_snapshot().await.unwrap());
        world
    }

    fn address(&self, account: usize) -> Address {
        self.chain.address(account)
    }

    /// The anvil account holding `address`, if it is one.
    fn account(&self, address: Address) -> Option<usize> {
        (0..self.providers.len()).find(|&account| self.address(account) == address)
    }

    fn account_of(&self, address: Address) -> usize {
        self.account(address).expect("one of anvil's accounts")
    }

    fn du(&self, union: &Union, account: usize) -> DataUnion::DataUnionInstance<DynProvider> {
        DataUnion::new(union.address, self.providers[account].clone())
    }

    fn data(&self, account: usize) -> DataToken::DataTokenInstance<DynProvider> {
        DataToken::new(self.chain.deployment.data_token, self.providers[account].clone())
    }

    fn erc20(&self, token: Address) -> Erc20::Erc20Instance<DynProvider> {
        Erc20::new(token, self.providers[DEPLOYER].clone())
    }

    async fn latest_block(&self) -> (u64, B256, u64) {
        let block = self.providers[DEPLOYER]
            .get_block_by_number(alloy::eips::BlockNumberOrTag::Latest)
            .await
            .unwrap()
            .expect("a latest block");
        (block.header.number, block.header.hash, block.header.timestamp)
    }

    /// The time of the block the next transaction lands in.
    async fn next_time(&self) -> u64 {
        self.latest_block().await.2 + 1
    }

    async fn deadline(&self) -> U256 {
        U256::from(self.next_time().await + 3600)
    }

    /// Back to the state right after the set-up.
    async fn reset(&self) {
        let provider = &self.providers[DEPLOYER];
        assert!(provider.anvil_revert(self.snapshot.get()).await.unwrap(), "reverting to the snapshot");
        self.snapshot.set(provider.anvil_snapshot().await.unwrap());
        // anvil (1.7.1) forgets the hash of the snapshot's block on a revert: until a block is mined on
        // it, BLOCKHASH of that block is keccak256 of its number as text, and a commit of its book fails
        // with `BlockHashMismatch`. One empty block puts the hash back.
        provider.anvil_mine(Some(1), None).await.unwrap();
    }

    fn count(&self, step: &Step, outcome: &Outcome) {
        let key = format!("{}: {}", step.name(), outcome.short());
        *self.stats.borrow_mut().entry(key).or_default() += 1;
    }

    /// The book of `union` at block `through`, as the server builds it: the union's logs, its DATA
    /// revenue and its creation decoded by `coop_server::indexer::decode`, then replayed by the engine.
    async fn engine_book(&self, union: &Union, through: u64) -> Book {
        let d = &self.chain.deployment;
        let provider = &self.providers[DEPLOYER];
        let span = Filter::new().from_block(union.created).to_block(through);
        let filters = [
            span.clone()
                .address(d.data_union_factory)
                .event_signature(DataUnionFactory::DataUnionCreated::SIGNATURE_HASH)
                .topic1(union.address.into_word()),
            span.clone()
                .address(d.data_token)
                .event_signature(DataToken::Transfer::SIGNATURE_HASH)
                .topic2(union.address.into_word()),
            span.address(union.address),
        ];
        let mut logs = Vec::new();
        for filter in &filters {
            logs.extend(provider.get_logs(filter).await.unwrap());
        }
        logs.sort_by_key(|log| (log.block_number, log.log_index));
        let watched = Watched { factory: d.data_union_factory, marketplace: d.marketplace, data_token: d.data_token };
        let mut unions = HashSet::new();
        let mut events = Vec::new();
        for log in &logs {
            let mut at = decode::position(log).unwrap();
            // Every kept event carries its block's time; a node may leave it out of the log.
            if at.timestamp.is_none() {
                let block = provider.get_block_by_number(at.key.block.into()).await.unwrap().unwrap();
                at.timestamp = Some(block.header.timestamp);
            }
            let Some(stored) = decode::decode(log, &at, &watched, &mut unions).unwrap() else { continue };
            if stored.contract != union.address {
                continue;
            }
            if let Some(kind) = stored.event.engine_input(None) {
                events.push(Event { key: stored.key(), kind });
            }
        }
        UnionState::replay(&events, Some(through)).unwrap().book()
    }

    /// Runs one sequence on `UNIONS[union]` from the snapshot, checking every invariant after
    /// every step; answers what each step came to.
    async fn run(&self, union: usize, steps: &[Step]) -> Vec<Outcome> {
        self.reset().await;
        let mut run = Run { world: self, union: self.unions[union], model: self.starts[union].clone() };
        run.check("at the start").await;
        let mut outcomes = Vec::new();
        for (index, step) in steps.iter().enumerate() {
            let outcome = run.step(step).await;
            self.count(step, &outcome);
            run.check(&format!("after step {index} ({step:?}: {})", outcome.short())).await;
            outcomes.push(outcome);
        }
        outcomes
    }
}

/// One sequence on one union, with its model.
struct Run<'w> {
    world: &'w World,
    union: Union,
    model: Model,
}

impl Run<'_> {
    fn du(&self, account: usize) -> DataUnion::DataUnionInstance<DynProvider> {
        self.world.du(&self.union, account)
    }

    /// The DATA each transfer into the union in `receipt` carried, in order.
    fn revenue_in(&self, receipt: &TransactionReceipt) -> Vec<U256> {
        receipt
            .inner
            .logs()
            .iter()
            .filter(|log| log.address() == self.world.chain.deployment.data_token)
            .filter_map(|log| log.log_decode::<DataToken::Transfer>().ok())
            .map(|log| log.inner.data)
            .filter(|transfer| transfer.to == self.union.address)
            .map(|transfer| transfer.value)
            .collect()
    }

    fn price(seconds: u64) -> U256 {
        U256::from(PRICE_PER_SECOND) * U256::from(seconds)
    }

    /// Compares a union call's result with the prediction and answers the outcome.
    fn expect(&self, what: &str, sent: &Sent, expected: &Result<(), E>) -> Outcome {
        let actual = union_result(sent);
        assert_eq!(&actual, expected, "{what}: the union did not do what the model predicts");
        match actual {
            Ok(()) => Outcome::done(),
            Err(error) => Outcome::Refused(error_name(&error)),
        }
    }

    async fn step(&mut self, step: &Step) -> Outcome {
        let world = self.world;
        let d = world.chain.deployment.clone();
        let du = self.union.address;
        match step {
            Step::Join(indices) | Step::Part(indices) => {
                let members: Vec<Address> = indices.iter().map(|&i| world.candidates[i]).collect();
                let agent = self.du(AGENT);
                let (sent, expected) = if matches!(step, Step::Join(_)) {
                    (attempt(agent.addMembers(members.clone())).await, self.model.join(&members))
                } else {
                    (attempt(agent.partMembers(members.clone())).await, self.model.part(&members))
                };
                let receipt = must(&sent, step.name());
                let changed: Vec<Address> = if matches!(step, Step::Join(_)) {
                    events::<DataUnion::MemberJoined>(receipt).iter().map(|e| e.member).collect()
                } else {
                    events::<DataUnion::MemberParted>(receipt).iter().map(|e| e.member).collect()
                };
                assert_eq!(changed, expected, "{}: who changed", step.name());
                Outcome::done()
            }
            Step::Mint(amount) | Step::Transfer(amount) => {
                let sent = match step {
                    Step::Mint(_) => attempt(world.data(DEPLOYER).mint(du, *amount)).await,
                    _ => attempt(world.data(BUYER).transfer(du, *amount)).await,
                };
                assert_eq!(self.revenue_in(must(&sent, step.name())), vec![*amount]);
                self.model.add_revenue(*amount);
                Outcome::done()
            }
            Step::Buy { path, seconds } => {
                let (id, secs, max_price) = (self.union.product, U256::from(*seconds), U256::from(PRICE_PER_SECOND));
                let buyer = &world.providers[BUYER];
                let adapter = UniswapAdapter::new(d.uniswap_adapter, buyer.clone());
                let deadline = world.deadline().await;
                let sent = match path {
                    Path::Marketplace => {
                        attempt(Marketplace::new(d.marketplace, buyer.clone()).buy(id, secs, max_price, du)).await
                    }
                    Path::Eth => {
                        let quote = adapter.quote(id, secs, Address::ZERO).call().await.unwrap();
                        let value = quote + quote / U256::from(100);
                        attempt(adapter.buyWithETH(id, secs, max_price, du, deadline).value(value)).await
                    }
                    Path::Dai => {
                        let quote = adapter.quote(id, secs, d.dai_token).call().await.unwrap();
                        let max_in = quote + quote / U256::from(100);
                        attempt(adapter.buyWithERC20(id, secs, max_price, du, d.dai_token, max_in, deadline)).await
                    }
                    Path::Permit => {
                        let (v, r, s) = self.permit(max_price * secs, deadline).await;
                        attempt(adapter.buyWithDataPermit(id, secs, max_price, du, deadline, v, r, s)).await
                    }
                    Path::AdapterData => {
                        let price = Self::price(*seconds);
                        must(&attempt(world.data(BUYER).approve(d.uniswap_adapter, price)).await, "approving DATA");
                        attempt(adapter.buyWithERC20(id, secs, max_price, du, d.data_token, price, deadline)).await
                    }
                };
                let price = Self::price(*seconds);
                assert_eq!(
                    self.revenue_in(must(&sent, step.name())),
                    vec![price],
                    "{}: the union's revenue",
                    step.name()
                );
                self.model.add_revenue(price);
                Outcome::done()
            }
            Step::HostileBuy { seconds, callback, shots } => self.hostile_buy(*seconds, *callback, *shots).await,
            Step::Commit { by } => {
                let caller = match by {
                    None => world.account_of(self.model.operator),
                    Some(i) => OPERATORS[*i],
                };
                let (block, hash, latest_time) = world.latest_block().await;
                let book = self.model.book(block);
                if world.address(caller) == self.model.operator {
                    let engine = world.engine_book(&self.union, block).await;
                    assert_eq!(engine.leaves(), book.leaves(), "the engine's book from the chain and the model's");
                }
                let sent =
                    attempt(self.du(caller).commit(U256::from(block), hash, book.root(), book.book_hash())).await;
                let expected = if world.address(caller) == self.model.operator {
                    Ok(())
                } else {
                    Err(E::NotOperator(DataUnion::NotOperator { caller: world.address(caller) }))
                };
                let outcome = self.expect("commit", &sent, &expected);
                if sent.is_ok() {
                    let timestamp = latest_time + 1;
                    let on_chain = self.du(DEPLOYER).commitTimestamp(U256::from(block)).call().await.unwrap();
                    assert_eq!(on_chain, U256::from(timestamp), "the commit's time");
                    self.model.commits.push(CommitRecord { book, timestamp, vetoed: false, inflated: None });
                }
                outcome
            }
            Step::WrongCommit { member, inflation } => {
                let target = world.candidates[*member];
                let (block, hash, latest_time) = world.latest_block().await;
                let correct = self.model.earned(target);
                let extra = match inflation {
                    Inflation::OneWei => U256::from(1),
                    Inflation::Balance => self.model.balance().max(U256::from(1)),
                    Inflation::Huge => tokens(1_000_000_000_000_000_000),
                };
                let mut leaves = self.model.book(block).leaves().to_vec();
                match leaves.iter_mut().find(|(address, _)| *address == target) {
                    Some(leaf) => leaf.1 += extra,
                    None => leaves.push((target, extra)),
                }
                let book = Book::new(block, leaves).unwrap();
                let operator = world.account_of(self.model.operator);
                let sent =
                    attempt(self.du(operator).commit(U256::from(block), hash, book.root(), book.book_hash())).await;
                must(&sent, "a wrong commit");
                let timestamp = latest_time + 1;
                let index = self.model.commits.len();
                self.model.commits.push(CommitRecord {
                    book,
                    timestamp,
                    vetoed: false,
                    inflated: Some((target, correct)),
                });
                // The validator vetoes it in the next block, which it can only while the commit is frozen.
                let expected = self.model.predict_veto(index, timestamp + 1);
                let sent = attempt(self.du(VALIDATOR).vetoCommit(U256::from(block))).await;
                let outcome = self.expect("the veto of a wrong commit", &sent, &expected);
                if sent.is_ok() {
                    self.model.commits[index].vetoed = true;
                }
                outcome
            }
            Step::Veto { commit } => {
                let now = world.next_time().await;
                let picked = self.model.pick(*commit);
                let (block, expected) = match picked {
                    None => {
                        let block = U256::from(world.latest_block().await.0);
                        (block, Err(E::CommitNotFound(DataUnion::CommitNotFound { blockNumber: block })))
                    }
                    Some(index) => {
                        (U256::from(self.model.commits[index].book.block()), self.model.predict_veto(index, now))
                    }
                };
                let sent = attempt(self.du(VALIDATOR).vetoCommit(block)).await;
                let outcome = self.expect("veto", &sent, &expected);
                if let (Ok(_), Some(index)) = (&sent, picked) {
                    self.model.commits[index].vetoed = true;
                }
                outcome
            }
            Step::Prove { member, commit } => {
                let account = self.who(*member);
                let now = world.next_time().await;
                let (block, claim, proof, index) = self.claim(account, *commit);
                let expected = match index {
                    None if self.model.commits.is_empty() => {
                        Err(E::CommitNotFound(DataUnion::CommitNotFound { blockNumber: block }))
                    }
                    // A leaf this book does not have: no proof shows it.
                    None => {
                        if self.model.commits[self.model.pick(*commit).unwrap()].vetoed {
                            Err(E::CommitNotFound(DataUnion::CommitNotFound { blockNumber: block }))
                        } else {
                            Err(E::InvalidProof(DataUnion::InvalidProof {}))
                        }
                    }
                    Some(index) => self.model.predict_prove(index, account, claim, now),
                };
                let sent = attempt(self.du(OTHER).prove(block, account, claim, proof)).await;
                let outcome = self.expect("prove", &sent, &expected);
                if let Ok(receipt) = &sent {
                    let proven = event::<DataUnion::EarningsProven>(receipt);
                    assert_eq!((proven.member, proven.blockNumber, proven.totalEarnings), (account, block, claim));
                    self.model.apply_prove(index.unwrap(), account, claim);
                }
                outcome
            }
            Step::WithdrawAll { member, commit } | Step::WithdrawAllFor { member, commit } => {
                let account = self.who(*member);
                let now = world.next_time().await;
                let (block, claim, proof, index) = self.claim(account, *commit);
                // A claim of nothing (no commit, or no leaf) only pays out what is proven.
                let (block, claim, proof, index) =
                    if index.is_none() { (block, U256::ZERO, Vec::new(), None) } else { (block, claim, proof, index) };
                let expected = self.model.predict_withdraw_all(index, account, claim, now);
                let keyed = world.account(account).is_some_and(|account| KEYED.contains(&account));
                let by_itself = matches!(step, Step::WithdrawAll { .. }) && keyed;
                let sent = if by_itself {
                    attempt(self.du(world.account_of(account)).withdrawAll(block, claim, proof)).await
                } else {
                    attempt(self.du(OTHER).withdrawAllFor(account, block, claim, proof)).await
                };
                let outcome = self.expect("withdrawAll", &sent, &expected.clone().map(|_| ()));
                if let (Ok(receipt), Ok(amount)) = (&sent, expected) {
                    let withdrawn = event::<DataUnion::Withdrawn>(receipt);
                    assert_eq!((withdrawn.member, withdrawn.recipient, withdrawn.amount), (account, account, amount));
                    if claim > self.model.proven(account) {
                        self.model.apply_prove(index.unwrap(), account, claim);
                    }
                    self.model.apply_withdraw(account, amount);
                }
                outcome
            }
            Step::Withdraw { member, portion } => {
                let with_some: Vec<usize> = KEYED
                    .into_iter()
                    .filter(|&account| !self.model.available(world.address(account)).is_zero())
                    .collect();
                let account = if with_some.is_empty() {
                    KEYED[member % KEYED.len()]
                } else {
                    with_some[member % with_some.len()]
                };
                let address = world.address(account);
                let available = self.model.available(address);
                let amount = match portion {
                    Portion::Nothing => U256::ZERO,
                    Portion::Quarter => available / U256::from(4),
                    Portion::All => available,
                    Portion::OneMore => available + U256::from(1),
                };
                let expected = self.model.predict_withdraw(address, amount);
                let sent = attempt(self.du(account).withdraw(amount)).await;
                let outcome = self.expect("withdraw", &sent, &expected);
                if let Ok(receipt) = &sent {
                    assert_eq!(event::<DataUnion::Withdrawn>(receipt).amount, amount);
                    self.model.apply_withdraw(address, amount);
                }
                outcome
            }
            Step::SetAdminFee(fee) => {
                let now = world.next_time().await;
                let sent = attempt(self.du(OWNER).setAdminFee(*fee)).await;
                let receipt = must(&sent, "setAdminFee");
                if *fee <= self.model.fee || self.model.freeze == 0 || self.model.active_count() == 0 {
                    assert_eq!(event::<DataUnion::AdminFeeChanged>(receipt).adminFee, *fee);
                    self.model.fee = *fee;
                    self.model.pending_fee = None;
                } else {
                    let announced = event::<DataUnion::AdminFeeChangeAnnounced>(receipt);
                    let at = now + self.model.freeze;
                    assert_eq!((announced.adminFee, announced.effectiveAt), (*fee, U256::from(at)));
                    self.model.pending_fee = Some((*fee, at));
                }
                Outcome::done()
            }
            Step::ApplyAdminFeeChange => {
                let now = world.next_time().await;
                let expected = match self.model.pending_fee {
                    None => Err(E::NoChangeAnnounced(DataUnion::NoChangeAnnounced {})),
                    Some((_, at)) if now < at => Err(E::ChangeNotDue(DataUnion::ChangeNotDue {
                        effectiveAt: U256::from(at),
                        timestamp: U256::from(now),
                    })),
                    Some(_) => Ok(()),
                };
                let sent = attempt(self.du(OTHER).applyAdminFeeChange()).await;
                let outcome = self.expect("applyAdminFeeChange", &sent, &expected);
                if sent.is_ok() {
                    self.model.fee = self.model.pending_fee.take().unwrap().0;
                }
                outcome
            }
            Step::SetOperator(i) => {
                let now = world.next_time().await;
                let operator = world.address(OPERATORS[*i]);
                let sent = attempt(self.du(OWNER).setOperator(operator)).await;
                let receipt = must(&sent, "setOperator");
                if operator == self.model.operator || self.model.freeze == 0 {
                    let changed = event::<DataUnion::OperatorChanged>(receipt);
                    assert_eq!((changed.previousOperator, changed.newOperator), (self.model.operator, operator));
                    self.model.operator = operator;
                    self.model.pending_operator = None;
                } else {
                    let announced = event::<DataUnion::OperatorChangeAnnounced>(receipt);
                    let at = now + self.model.freeze;
                    assert_eq!((announced.newOperator, announced.effectiveAt), (operator, U256::from(at)));
                    self.model.pending_operator = Some((operator, at));
                }
                Outcome::done()
            }
            Step::ApplyOperatorChange => {
                let now = world.next_time().await;
                let expected = match self.model.pending_operator {
                    None => Err(E::NoChangeAnnounced(DataUnion::NoChangeAnnounced {})),
                    Some((_, at)) if now < at => Err(E::ChangeNotDue(DataUnion::ChangeNotDue {
                        effectiveAt: U256::from(at),
                        timestamp: U256::from(now),
                    })),
                    Some(_) => Ok(()),
                };
                let sent = attempt(self.du(OTHER).applyOperatorChange()).await;
                let outcome = self.expect("applyOperatorChange", &sent, &expected);
                if sent.is_ok() {
                    self.model.operator = self.model.pending_operator.take().unwrap().0;
                }
                outcome
            }
            Step::Advance(seconds) => {
                let provider = &world.providers[DEPLOYER];
                let latest = world.latest_block().await.2;
                provider.anvil_set_next_block_timestamp(latest + seconds).await.unwrap();
                provider.anvil_mine(Some(1), None).await.unwrap();
                assert_eq!(world.latest_block().await.2, latest + seconds, "the clock moved exactly");
                Outcome::done()
            }
        }
    }

    fn who(&self, who: Who) -> Address {
        let candidates = &self.world.candidates;
        match who {
            Who::Candidate(i) => candidates[i],
            Who::Earner(n) => {
                let earners: Vec<Address> =
                    candidates.iter().copied().filter(|&c| !self.model.earned(c).is_zero()).collect();
                if earners.is_empty() { candidates[n % candidates.len()] } else { earners[n % earners.len()] }
            }
        }
    }

    /// What `account` can claim from the commit `pick` names: `(block, earnings, proof, commit index)`,
    /// the index `None` when there is no commit or the book has no leaf for it (the claim is then 1 wei,
    /// without a proof).
    fn claim(&self, account: Address, pick: Pick) -> (U256, U256, Vec<B256>, Option<usize>) {
        let Some(index) = self.model.pick(pick) else {
            return (U256::ZERO, U256::from(1), Vec::new(), None);
        };
        let book = &self.model.commits[index].book;
        let block = U256::from(book.block());
        match book.index_of(&account) {
            Some(leaf) => (block, book.leaves()[leaf].1, book.proof(leaf).unwrap(), Some(index)),
            None => (block, U256::from(1), Vec::new(), None),
        }
    }

    /// A permit for the adapter to take `value` of the buyer's DATA.
    async fn permit(&self, value: U256, deadline: U256) -> (u8, B256, B256) {
        self.world.chain.adapter_permit(BUYER, value, deadline).await
    }

    /// The buyer pays with the hostile token, armed to call back `shots` times. A purchase's hostile
    /// transfers are the buyer's to the adapter and the router's from the adapter to the pair, so at
    /// most two callbacks come.
    async fn hostile_buy(&mut self, seconds: u64, callback: Callback, shots: u8) -> Outcome {
        let world = self.world;
        let d = world.chain.deployment.clone();
        let (du, token) = (self.union.address, world.hostile);
        let (id, max_price) = (self.union.product, U256::from(PRICE_PER_SECOND));
        let deadline = world.deadline().await;
        let nested = |token_in| UniswapAdapter::buyWithERC20Call {
            productId: id,
            subscriptionSeconds: U256::from(NESTED_SECONDS),
            maxPricePerSecond: max_price,
            beneficiary: du,
            tokenIn: token_in,
            maxAmountIn: U256::MAX,
            deadline,
        };
        // What the token withdraws from the union when it calls back: all it may, or 1 wei too many.
        let withdraw = self.model.available(token).max(U256::from(1));
        let (target, data, shots): (Address, Bytes, u8) = match callback {
            Callback::None => (d.uniswap_adapter, Bytes::new(), 0),
            Callback::NestedBuy => (d.uniswap_adapter, nested(token).abi_encode().into(), shots),
            Callback::NestedDataBuy => (d.uniswap_adapter, nested(d.data_token).abi_encode().into(), shots),
            Callback::UnionWithdraw => (du, DataUnion::withdrawCall { amount: withdraw }.abi_encode().into(), shots),
        };
        let hostile = HostileToken::new(token, world.providers[OTHER].clone());
        must(&attempt(hostile.arm(target, data, U256::from(shots))).await, "arming the hostile token");

        let adapter = UniswapAdapter::new(d.uniswap_adapter, world.providers[BUYER].clone());
        let secs = U256::from(seconds);
        let sent = attempt(adapter.buyWithERC20(id, secs, max_price, du, token, U256::MAX, deadline)).await;
        let receipt = match sent {
            Ok(receipt) => receipt,
            Err(error) => {
                // Only a purchase nested in the swap may make the outer one fail; it then changes nothing.
                assert_eq!(callback, Callback::NestedBuy, "a hostile purchase failed: {}", reason(&error));
                return Outcome::Refused(reason(&error));
            }
        };
        let made: Vec<HostileToken::CallbackMade> = receipt
            .inner
            .logs()
            .iter()
            .filter(|log| log.address() == token)
            .filter_map(|log| log.log_decode::<HostileToken::CallbackMade>().ok())
            .map(|log| log.inner.data)
            .collect();
        assert_eq!(made.len(), usize::from(shots.min(2)), "one callback per armed transfer");
        let mut callbacks = Vec::new();
        let mut revenue = Vec::new();
        for call in &made {
            assert_eq!(call.target, target);
            let result = if call.success { Ok(()) } else { Err(call.returnData.clone()) };
            match callback {
                Callback::None => unreachable!("no callback was armed"),
                Callback::NestedBuy | Callback::NestedDataBuy => {
                    if callback == Callback::NestedDataBuy {
                        assert!(call.success, "a nested DATA purchase failed: {}", call.returnData);
                    }
                    if call.success {
                        revenue.push(Self::price(NESTED_SECONDS));
                    }
                }
                Callback::UnionWithdraw => {
                    let expected = self.model.predict_withdraw(token, withdraw);
                    let actual = result.clone().map_err(|data| E::abi_decode(&data).expect("a DataUnion error"));
                    assert_eq!(actual, expected, "the union withdrawal the token made from its callback");
                    if actual.is_ok() {
                        self.model.apply_withdraw(token, withdraw);
                    }
                }
            }
            callbacks.push(result.map_err(|data| match E::abi_decode(&data) {
                Ok(error) => error_name(&error),
                Err(_) => revert_reason(&data),
            }));
        }
        // The nested purchases land first, then the buyer's.
        revenue.push(Self::price(seconds));
        assert_eq!(self.revenue_in(&receipt), revenue, "the union's revenue from a hostile purchase");
        for amount in revenue {
            self.model.add_revenue(amount);
        }
        Outcome::Done { callbacks }
    }

    /// Every invariant, read from the chain, and the model against the chain.
    async fn check(&self, context: &str) {
        let world = self.world;
        let d = &world.chain.deployment;
        let provider = &world.providers[DEPLOYER];
        let du = self.du(DEPLOYER);
        let model = &self.model;

        // The union's own events and the DATA it ever received.
        let span = Filter::new().from_block(self.union.created);
        let union_logs = provider.get_logs(&span.clone().address(self.union.address)).await.unwrap();
        let transfers = span
            .address(d.data_token)
            .event_signature(DataToken::Transfer::SIGNATURE_HASH)
            .topic2(self.union.address.into_word());
        let received = provider
            .get_logs(&transfers)
            .await
            .unwrap()
            .iter()
            .map(|log| log.log_decode::<DataToken::Transfer>().unwrap().inner.data.value)
            .fold(U256::ZERO, |sum, value| sum + value);
        let mut withdrawn_events: HashMap<Address, U256> = HashMap::new();
        let mut largest_proven: HashMap<Address, U256> = HashMap::new();
        for log in &union_logs {
            match DataUnionEvents::decode_log(&log.inner).map(|log| log.data) {
                Ok(DataUnionEvents::Withdrawn(e)) => *withdrawn_events.entry(e.member).or_default() += e.amount,
                Ok(DataUnionEvents::EarningsProven(e)) => {
                    let largest = largest_proven.entry(e.member).or_default();
                    *largest = (*largest).max(e.totalEarnings);
                }
                _ => {}
            }
        }
        let withdrawn_total = withdrawn_events.values().fold(U256::ZERO, |sum, value| sum + *value);

        let (total_withdrawn, total_proven, balance) =
            tokio::join!(async { du.totalWithdrawn().call().await }, async { du.totalProven().call().await }, async {
                world.erc20(d.data_token).balanceOf(self.union.address).call().await
            });
        let (total_withdrawn, total_proven, balance) =
            (total_withdrawn.unwrap(), total_proven.unwrap(), balance.unwrap());

        // 1. Nothing is paid out but what came in.
        assert_eq!(
            total_withdrawn, withdrawn_total,
            "{context}: invariant 1: totalWithdrawn() is the sum of Withdrawn"
        );
        assert!(
            total_withdrawn <= received,
            "{context}: invariant 1: {total_withdrawn} withdrawn of {received} received"
        );

        // 2. Per address: earnings() is the largest proven, withdrawn() at most that.
        let mut addresses: Vec<Address> = world.candidates.clone();
        addresses
            .extend(withdrawn_events.keys().chain(largest_proven.keys()).filter(|a| !world.candidates.contains(a)));
        let mut sum_of_earnings = U256::ZERO;
        for &address in &addresses {
            let (earnings, withdrawn) =
                tokio::join!(async { du.earnings(address).call().await }, async { du.withdrawn(address).call().await });
            let (earnings, withdrawn) = (earnings.unwrap(), withdrawn.unwrap());
            let proven = largest_proven.get(&address).copied().unwrap_or_default();
            let events = withdrawn_events.get(&address).copied().unwrap_or_default();
            assert_eq!(earnings, proven, "{context}: invariant 2: earnings({address}) is the largest proven");
            assert_eq!(withdrawn, events, "{context}: invariant 2: withdrawn({address}) is the sum of its Withdrawn");
            assert!(withdrawn <= proven, "{context}: invariant 2: {address} withdrew {withdrawn} of {proven} proven");
            sum_of_earnings += earnings;

            // The model: what was proven and paid out, never more than the correct book gives.
            assert_eq!(earnings, model.proven(address), "{context}: the model's proven earnings of {address}");
            assert_eq!(withdrawn, model.withdrawn(address), "{context}: the model's withdrawn of {address}");
            if !model.overproven.contains(&address) {
                let correct = model.earned(address);
                assert!(earnings <= correct, "{context}: {address} proved {earnings}, more than its {correct} earned");
            }
        }
        assert_eq!(total_proven, sum_of_earnings, "{context}: totalProven() is the sum of earnings()");

        // 3. What is proven and not paid out is there.
        assert!(
            total_proven - total_withdrawn <= balance,
            "{context}: invariant 3: {total_proven} proven - {total_withdrawn} withdrawn > balance {balance}"
        );
        assert_eq!(balance, received - total_withdrawn, "{context}: the balance is what came in less what went out");

        // 4. The adapter holds nothing and leaves no allowance.
        assert_adapter_is_empty(world, context).await;

        // The rest of the model.
        assert_eq!(received, model.revenue, "{context}: the model's revenue");
        assert_eq!(total_proven, model.total_proven, "{context}: the model's total proven");
        let (active, fee, operator, fee_at, operator_at) = tokio::join!(
            async { du.activeMemberCount().call().await },
            async { du.adminFee().call().await },
            async { du.operator().call().await },
            async { du.adminFeeChangeAt().call().await },
            async { du.operatorChangeAt().call().await }
        );
        assert_eq!(active.unwrap(), U256::from(model.active_count()), "{context}: active members");
        assert_eq!(fee.unwrap(), model.fee, "{context}: the admin fee");
        assert_eq!(operator.unwrap(), model.operator, "{context}: the operator");
        let pending_fee_at = model.pending_fee.map_or(0, |(_, at)| at);
        assert_eq!(fee_at.unwrap(), U256::from(pending_fee_at), "{context}: the announced fee's time");
        let pending_operator_at = model.pending_operator.map_or(0, |(_, at)| at);
        assert_eq!(operator_at.unwrap(), U256::from(pending_operator_at), "{context}: the announced operator's time");
    }
}

/// Invariant 4: the adapter holds no ETH, DATA, WETH, DAI or HOSTILE, and no allowance of them to the
/// marketplace or the router.
async fn assert_adapter_is_empty(world: &World, context: &str) {
    let d = &world.chain.deployment;
    let adapter = d.uniswap_adapter;
    let eth = world.providers[DEPLOYER].get_balance(adapter).await.unwrap();
    assert_eq!(eth, U256::ZERO, "{context}: invariant 4: ETH in the adapter");
    for (name, token) in [("DATA", d.data_token), ("DAI", d.dai_token), ("WETH", d.weth), ("HOSTILE", world.hostile)] {
        let erc20 = world.erc20(token);
        let (balance, to_market, to_router) = tokio::join!(
            async { erc20.balanceOf(adapter).call().await },
            async { erc20.allowance(adapter, d.marketplace).call().await },
            async { erc20.allowance(adapter, d.uniswap_router).call().await }
        );
        assert_eq!(balance.unwrap(), U256::ZERO, "{context}: invariant 4: {name} in the adapter");
        assert_eq!(to_market.unwrap(), U256::ZERO, "{context}: invariant 4: {name} allowance to the marketplace");
        assert_eq!(to_router.unwrap(), U256::ZERO, "{context}: invariant 4: {name} allowance to the router");
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}

fn env_number(name: &str, default: u64) -> u64 {
    match std::env::var(name) {
        Ok(text) => text.parse().unwrap_or_else(|_| panic!("{name} must be a number, not {text:?}")),
        Err(_) => default,
    }
}

#[test]
fn random_sequences_keep_the_unions_money_invariants() {
    let sequences = u32::try_from(env_number("COOP_CONTRACT_SEQUENCES", DEFAULT_SEQUENCES.into())).unwrap();
    let seed = env_number("COOP_CONTRACT_SEED", DEFAULT_SEED);
    let runtime = runtime();
    let started = Instant::now();
    let world = runtime.block_on(World::new());
    let set_up = started.elapsed();

    let config = Config {
        cases: sequences,
        failure_persistence: None,
        rng_seed: RngSeed::Fixed(seed),
        max_shrink_iters: 1_000,
        ..Config::default()
    };
    let mut runner = TestRunner::new(config);
    let result = runner.run(&sequence(), |(union, steps)| {
        runtime.block_on(world.run(union, &steps));
        Ok(())
    });

    eprintln!(
        "properties: {sequences} sequences (seed {seed}) in {:.1?} after a set-up of {set_up:.1?}; outcomes:",
        started.elapsed() - set_up
    );
    for (outcome, count) in world.stats.borrow().iter() {
        eprintln!("  {count:>6}  {outcome}");
    }
    if let Err(error) = result {
        panic!(
            "{error}\nreplay: COOP_CONTRACT_SEED={seed} COOP_CONTRACT_SEQUENCES={sequences} \
             cargo test -p coop-server --test contracts properties -- --nocapture"
        );
    }
}

#[test]
fn a_hostile_token_that_calls_back_leaves_the_invariants_intact() {
    let runtime = runtime();
    let world = runtime.block_on(World::new());
    let hostile = |callback, shots| Step::HostileBuy { seconds: 600, callback, shots };
    let steps = vec![
        // The token is a member with proven earnings it has not withdrawn.
        Step::Join(vec![1, HOSTILE_MEMBER]),
        Step::Mint(tokens(100)),
        Step::Commit { by: None },
        Step::Advance(601),
        Step::Prove { member: Who::Candidate(HOSTILE_MEMBER), commit: Pick::Latest },
        // 5: from its transfers it withdraws from the union: once, and the second time is one too many.
        hostile(Callback::UnionWithdraw, 2),
        // 6, 7: it buys again with itself from inside the purchase: the nested swap moves the pool
        // under the outer one, and the whole purchase reverts.
        hostile(Callback::NestedBuy, 1),
        hostile(Callback::NestedBuy, 2),
        // 8: it buys with DATA from inside the purchase (once from the buyer's transfer, once from the
        // router's): three purchases, all paid to the union.
        hostile(Callback::NestedDataBuy, 2),
        hostile(Callback::None, 0),
        // Everything the token's purchases paid the union is in the next book, and paid out.
        Step::Commit { by: None },
        Step::Advance(601),
        Step::WithdrawAll { member: Who::Candidate(1), commit: Pick::Latest },
        Step::WithdrawAllFor { member: Who::Candidate(HOSTILE_MEMBER), commit: Pick::Latest },
        Step::WithdrawAll { member: Who::Candidate(0), commit: Pick::Latest },
    ];
    let outcomes = runtime.block_on(world.run(0, &steps));
    for (step, outcome) in steps.iter().zip(&outcomes) {
        eprintln!("{:<32} {}", step.name(), outcome.short());
    }

    assert_eq!(outcomes[5], Outcome::Done { callbacks: vec![Ok(()), Err("Overdraft".into())] });
    assert_eq!(outcomes[6], Outcome::Refused("UniswapV2Router: EXCESSIVE_INPUT_AMOUNT".into()));
    assert!(matches!(&outcomes[7], Outcome::Refused(_)), "{:?}", outcomes[7]);
    assert_eq!(outcomes[8], Outcome::Done { callbacks: vec![Ok(()), Ok(())] });
    assert_eq!(outcomes[9], Outcome::done());
    assert!(outcomes[12..].iter().all(|outcome| *outcome == Outcome::done()), "{outcomes:?}");
}
