//! What the server's keys spend gas on. On a public chain anyone can deploy a union that names this
//! server's operator and join-part agent, and make them pay: a commit for every 1-wei transfer, an
//! unlimited stream of secret-approved joins. So the operator and the agent work only for the unions
//! the configured [`Policy`] admits (an allow-list of owners, or any union when the list is empty),
//! at most so many commits and member changes (joins and parts) per union a day, and within a daily
//! gas budget per key.
//! [`Spending`] keeps the last day's account, shown in `/metrics`; it lives in the memory of the
//! instance that holds the chain role, so a takeover starts a fresh day.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use alloy::primitives::{Address, U256};

/// The window quotas and budgets count over.
pub const DAY: Duration = Duration::from_secs(24 * 60 * 60);

/// The unions the server's keys serve, and how much.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// Owners whose unions are served; empty: any union that names this server.
    pub owners: Vec<Address>,
    pub commits_per_union_per_day: u32,
    pub member_changes_per_union_per_day: u32,
    pub relays_per_union_per_day: u32,
    /// Wei each key may spend on gas in a day; `None`: no limit.
    pub gas_budget_per_day: Option<U256>,
}

impl Default for Policy {
    fn default() -> Self {
        crate::config::Config::default().policy()
    }
}

impl Policy {
    /// Whether a union owned by `owner` is served at all.
    pub fn admits(&self, owner: Address) -> bool {
        self.owners.is_empty() || self.owners.contains(&owner)
    }
}

/// What the operator and the agent share: the policy, and the account kept against it.
#[derive(Debug, Clone, Default)]
pub struct Serving {
    pub policy: Policy,
    pub spending: Arc<Spending>,
}

impl Serving {
    /// [`Spending::allowance`] under this policy, now.
    pub fn allowance(&self, key: Key, union: Address, owner: Address, wanted: u32) -> Result<u32, Refusal> {
        self.spending.allowance(&self.policy, key, union, owner, wanted, Instant::now())
    }

    /// [`Spending::record`], now.
    pub fn record(&self, key: Key, union: Address, count: u32, cost: U256) {
        self.spending.record(key, union, count, cost, Instant::now());
    }
}

/// Which of the server's keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Key {
    Operator,
    Agent,
    /// Sends members' signed withdrawals.
    Relayer,
    /// Vetoes wrong commits.
    Validator,
}

impl Key {
    pub fn name(self) -> &'static str {
        match self {
            Key::Operator => "operator",
            Key::Agent => "agent",
            Key::Relayer => "relayer",
            Key::Validator => "validator",
        }
    }

    /// What the key's per-union quota counts, with its daily allowance under `policy`.
    fn quota(self, policy: &Policy) -> u32 {
        match self {
            Key::Operator => policy.commits_per_union_per_day,
            Key::Agent => policy.member_changes_per_union_per_day,
            Key::Relayer => policy.relays_per_union_per_day,
            // A veto answers a commit: no more vetoes than commits.
            Key::Validator => policy.commits_per_union_per_day,
        }
    }
}

/// Why a transaction was not sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Refusal {
    /// The union's owner is not on the allow-list.
    NotAdmitted,
    /// The union had its commits or member changes for the day.
    Quota,
    /// The key spent its gas budget for the day.
    Budget,
}

impl Refusal {
    pub fn name(self) -> &'static str {
        match self {
            Refusal::NotAdmitted => "not_admitted",
            Refusal::Quota => "quota",
            Refusal::Budget => "budget",
        }
    }
}

/// The last day's gas and actions per key, and which unions each key holds back now, and why.
#[derive(Debug, Default)]
pub struct Spending {
    account: Mutex<Account>,
}

#[derive(Debug, Default)]
struct Account {
    gas: HashMap<Key, VecDeque<(Instant, U256)>>,
    /// Commits (operator) or member changes (agent) per union.
    actions: HashMap<(Key, Address), VecDeque<(Instant, u32)>>,
    /// The reason of each union's last refusal, until it is served again.
    held_back: HashMap<(Key, Address), Refusal>,
}

impl Spending {
    fn account(&self) -> std::sync::MutexGuard<'_, Account> {
        self.account.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// How many of `wanted` actions `key` may take for `union` (owned by `owner`) now: all, fewer
    /// (what is left of the union's quota), or none with the reason, which is kept until the union
    /// is served again.
    pub fn allowance(
        &self,
        policy: &Policy,
        key: Key,
        union: Address,
        owner: Address,
        wanted: u32,
        now: Instant,
    ) -> Result<u32, Refusal> {
        let mut account = self.account();
        account.forget_before(now);
        let refusal = if !policy.admits(owner) {
            Some(Refusal::NotAdmitted)
        } else if policy.gas_budget_per_day.is_some_and(|budget| account.gas_spent(key) >= budget) {
            Some(Refusal::Budget)
        } else {
            None
        };
        let left = key.quota(policy).saturating_sub(account.actions_taken(key, union));
        match refusal.or((left == 0).then_some(Refusal::Quota)) {
            Some(refusal) => {
                account.held_back.insert((key, union), refusal);
                Err(refusal)
            }
            None => {
                account.held_back.remove(&(key, union));
                Ok(wanted.min(left))
            }
        }
    }

    /// Records `count` actions for `union` that cost `cost` wei of gas.
    pub fn record(&self, key: Key, union: Address, count: u32, cost: U256, now: Instant) {
        let mut account = self.account();
        account.gas.entry(key).or_default().push_back((now, cost));
        account.actions.entry((key, union)).or_default().push_back((now, count));
    }

    /// Gas `key` spent over the last day, in wei.
    pub fn gas_spent(&self, key: Key, now: Instant) -> U256 {
        let mut account = self.account();
        account.forget_before(now);
        account.gas_spent(key)
    }

    /// How many unions each key holds back now, by reason.
    pub fn held_back(&self) -> BTreeMap<(Key, Refusal), u64> {
        let mut counts = BTreeMap::new();
        for ((key, _), refusal) in &self.account().held_back {
            *counts.entry((*key, *refusal)).or_default() += 1;
        }
        counts
    }
}

impl Account {
    /// Forgets what is more than a day older than `now`.
    fn forget_before(&mut self, now: Instant) {
        let recent = |at: &Instant| now.saturating_duration_since(*at) < DAY;
        for spent in self.gas.values_mut() {
            spent.retain(|(at, _)| recent(at));
        }
        for taken in self.actions.values_mut() {
            taken.retain(|(at, _)| recent(at));
        }
        self.actions.retain(|_, taken| !taken.is_empty());
    }

    fn gas_spent(&self, key: Key) -> U256 {
        self.gas.get(&key).into_iter().flatten().fold(U256::ZERO, |sum, (_, cost)| sum.saturating_add(*cost))
    }

    fn actions_taken(&self, key: Key, union: Address) -> u32 {
        self.actions.get(&(key, union)).into_iter().flatten().map(|(_, count)| count).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const UNION: Address = Address::repeat_byte(0xd0);
    const OWNER: Address = Address::repeat_byte(0x01);
    const STRANGER: Address = Address::repeat_byte(0x66);

    #[test]
    fn only_listed_owners_are_served_when_there_is_a_list() {
        let any = Policy::default();
        let listed = Policy { owners: vec![OWNER], ..Policy::default() };
        let spending = Spending::default();
        let now = Instant::now();

        assert_eq!(spending.allowance(&any, Key::Operator, UNION, STRANGER, 1, now), Ok(1));
        assert_eq!(spending.allowance(&listed, Key::Operator, UNION, OWNER, 1, now), Ok(1));
        assert_eq!(spending.allowance(&listed, Key::Agent, UNION, STRANGER, 5, now), Err(Refusal::NotAdmitted));
        assert_eq!(spending.held_back(), BTreeMap::from([((Key::Agent, Refusal::NotAdmitted), 1)]));
        spending.allowance(&listed, Key::Agent, UNION, STRANGER, 5, now).unwrap_err();
        assert_eq!(spending.held_back(), BTreeMap::from([((Key::Agent, Refusal::NotAdmitted), 1)]), "one union");
    }

    #[test]
    fn a_union_gets_its_quota_a_day_and_more_the_next_day() {
        let policy = Policy { member_changes_per_union_per_day: 10, ..Policy::default() };
        let spending = Spending::default();
        let now = Instant::now();

        assert_eq!(spending.allowance(&policy, Key::Agent, UNION, OWNER, 7, now), Ok(7));
        spending.record(Key::Agent, UNION, 7, U256::from(1u64), now);
        assert_eq!(spending.allowance(&policy, Key::Agent, UNION, OWNER, 7, now), Ok(3), "what is left");
        spending.record(Key::Agent, UNION, 3, U256::from(1u64), now);
        assert_eq!(spending.allowance(&policy, Key::Agent, UNION, OWNER, 1, now), Err(Refusal::Quota));
        assert_eq!(spending.allowance(&policy, Key::Agent, Address::ZERO, OWNER, 1, now), Ok(1), "another union");
        assert_eq!(spending.allowance(&policy, Key::Operator, UNION, OWNER, 1, now), Ok(1), "another key");
        assert_eq!(spending.allowance(&policy, Key::Agent, UNION, OWNER, 7, now + DAY), Ok(7));
    }

    #[test]
    fn a_key_that_spent_its_budget_sends_nothing_until_the_day_has_passed() {
        let policy = Policy { gas_budget_per_day: Some(U256::from(100u64)), ..Policy::default() };
        let spending = Spending::default();
        let now = Instant::now();
        spending.record(Key::Operator, UNION, 1, U256::from(60u64), now);
        spending.record(Key::Operator, Address::ZERO, 1, U256::from(40u64), now + Duration::from_secs(60));

        assert_eq!(spending.allowance(&policy, Key::Operator, UNION, OWNER, 1, now), Err(Refusal::Budget));
        assert_eq!(spending.allowance(&policy, Key::Agent, UNION, OWNER, 1, now), Ok(1), "the other key's budget");
        assert_eq!(spending.gas_spent(Key::Operator, now + DAY), U256::from(40u64), "the first is a day old");
        assert_eq!(spending.allowance(&policy, Key::Operator, UNION, OWNER, 1, now + DAY), Ok(1));
    }
}
