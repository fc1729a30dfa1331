//! The naive reference: DESIGN.md section 4 read literally, looping over every member on every
//! revenue. The O(1) engine must agree with it on every input.

use alloy_primitives::{Address, U256};

use super::{Event, EventKind, fee::FEE_SCALE};

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Leaf {
    pub(super) address: Address,
    pub(super) earnings: U256,
    pub(super) active: bool,
}

#[derive(Debug, Clone, Default)]
pub(super) struct Reference {
    pub(super) leaves: Vec<Leaf>,
    pub(super) owner: Address,
    pub(super) admin_fee: U256,
    pub(super) carry: U256,
    pub(super) total_revenue: U256,
    /// Sent by the predecessor, not yet carried; and whether the carry is closed.
    pub(super) reserve: U256,
    pub(super) carry_closed: bool,
}

impl Reference {
    fn position(&self, address: Address) -> Option<usize> {
        self.leaves.iter().position(|leaf| leaf.address == address)
    }

    fn ensure_leaf(&mut self, address: Address) {
        if self.position(address).is_none() {
            self.leaves.push(Leaf { address, earnings: U256::ZERO, active: false });
        }
    }

    pub(super) fn apply(&mut self, event: &Event) {
        match event.kind {
            EventKind::Created { owner, admin_fee } => {
                self.owner = owner;
                self.admin_fee = admin_fee.value();
                self.ensure_leaf(owner);
            }
            EventKind::MemberJoined { member } => {
                self.ensure_leaf(member);
                let i = self.position(member).unwrap();
                self.leaves[i].active = true;
            }
            EventKind::MemberParted { member } => {
                if let Some(i) = self.position(member) {
                    self.leaves[i].active = false;
                }
            }
            EventKind::AdminFeeChanged { admin_fee } => self.admin_fee = admin_fee.value(),
            EventKind::OwnerChanged { owner } => {
                self.owner = owner;
                self.ensure_leaf(owner);
            }
            EventKind::Revenue { amount } => self.revenue(amount),
            EventKind::Committed { .. } | EventKind::CommitVetoed { .. } => {}
            EventKind::FromPredecessor { amount } if self.carry_closed => self.revenue(amount),
            EventKind::FromPredecessor { amount } => self.reserve += amount,
            EventKind::Carried { member, amount } if !self.carry_closed => {
                let credit = amount.min(self.reserve);
                self.reserve -= credit;
                self.ensure_leaf(member);
                let i = self.position(member).unwrap();
                self.leaves[i].earnings += credit;
            }
            EventKind::Carried { .. } => {}
            EventKind::CarryClosed if !self.carry_closed => {
                self.carry_closed = true;
                let rest = std::mem::take(&mut self.reserve);
                self.revenue(rest);
            }
            EventKind::CarryClosed => {}
        }
    }

    fn revenue(&mut self, amount: U256) {
        self.total_revenue += amount;
        let owner = self.position(self.owner).unwrap();
        let active: Vec<usize> = (0..self.leaves.len()).filter(|&i| self.leaves[i].active).collect();
        if active.is_empty() {
            self.leaves[owner].earnings += amount + self.carry;
            self.carry = U256::ZERO;
            return;
        }
        // floor(amount * fee / 1e18), computed in 512 bits.
        let wide = alloy_primitives::aliases::U512::from(amount)
            * alloy_primitives::aliases::U512::from(self.admin_fee)
            / alloy_primitives::aliases::U512::from(FEE_SCALE);
        let fee = U256::from(wide);
        self.leaves[owner].earnings += fee;
        let pool = amount - fee + self.carry;
        let count = U256::from(active.len());
        let share = pool / count;
        for &i in &active {
            self.leaves[i].earnings += share;
        }
        self.carry = pool % count;
    }
}
