//! Snapshots: the whole state as bytes, to store and resume from.
//!
//! The encoding is canonical: fixed-width big-endian integers in a fixed order, so a state has exactly
//! one encoding. Version 2:
//!
//! ```text
//! "COOPDU" 0x01
//! block u64, block_closed u8, last_key (block u64, transaction_index u64, log_index u64)
//! owner leaf u64, admin_fee u256, acc u256, carry u256
//! totals: revenue u256, admin_fees u256, owner_without_members u256, member_shares u256, carried u256
//! reserve u256, carry_closed u8
//! commit count u64, then per commit: key (3 x u64), book_block u64, root b256, book_hash b256, timestamp u64
//! leaf count u64, then per leaf: address b160, settled u256, acc_at_join u256, active u8
//! ```
//!
//! # Invariants
//! - `UnionState::from_snapshot(&state.to_snapshot()) == Ok(state)`.
//! - For any bytes `b` that restore, `restored.to_snapshot() == b` (restore refuses non-canonical
//!   bytes: flags other than 0 or 1, trailing bytes, inconsistent totals).
//! - Restoring costs O(n) and checks the state's invariants, so a restored state behaves like the
//!   original for every later event.

use alloy_primitives::{Address, B256, U256, map::AddressMap};

use super::{
    event::{Commit, EventKey},
    fee::AdminFee,
    state::{Member, Totals, UnionState},
};

const MAGIC: &[u8; 6] = b"COOPDU";
const VERSION: u8 = 2;
const COMMIT_LEN: usize = 8 * 4 + 32 * 2 + 8;
const MEMBER_LEN: usize = 20 + 32 * 2 + 1;

/// Why bytes are not a snapshot.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SnapshotError {
    /// Does not start with the magic bytes.
    #[error("not a union snapshot (bad magic bytes)")]
    BadMagic,
    /// A version this code does not read.
    #[error("snapshot version {version} is not supported (expected {VERSION})")]
    UnsupportedVersion {
        /// The version byte.
        version: u8,
    },
    /// Ends early.
    #[error("snapshot ends at byte {len}, but {needed} more bytes are needed at byte {at}")]
    Truncated {
        /// Where reading stopped.
        at: usize,
        /// How many bytes were missing.
        needed: usize,
        /// The snapshot's length.
        len: usize,
    },
    /// Bytes after the last leaf.
    #[error("{count} unexpected bytes after the snapshot")]
    TrailingBytes {
        /// How many.
        count: usize,
    },
    /// A flag byte other than 0 or 1.
    #[error("byte {at} is a flag but holds {value}")]
    BadFlag {
        /// Its offset.
        at: usize,
        /// Its value.
        value: u8,
    },
    /// The owner is not a leaf.
    #[error("owner leaf {owner} is not one of the {leaves} leaves")]
    OwnerOutOfRange {
        /// The owner's leaf index.
        owner: u64,
        /// The number of leaves.
        leaves: usize,
    },
    /// An admin fee above 1e18.
    #[error("admin fee {value} is above 1e18")]
    AdminFee {
        /// The value.
        value: U256,
    },
    /// An address on two leaves.
    #[error("address {address} is on two leaves")]
    DuplicateLeaf {
        /// The repeated address.
        address: Address,
    },
    /// A leaf that joined at an accumulator value above the current one.
    #[error("leaf {address} joined at an accumulator value above the current one")]
    AccumulatorAhead {
        /// The leaf's address.
        address: Address,
    },
    /// A commit after the last event, or the state's block before its last event.
    #[error("the snapshot's event keys and block are not in order")]
    KeyOrder,
    /// Totals that do not add up (revenue would not be conserved).
    #[error("the snapshot's totals do not add up to the leaves' earnings and the carry")]
    Inconsistent,
}

impl UnionState {
    /// The canonical bytes of this state (see the module docs).
    pub fn to_snapshot(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(7 + 200 + self.commits.len() * COMMIT_LEN + self.members.len() * MEMBER_LEN);
        out.extend_from_slice(MAGIC);
        out.push(VERSION);
        out.extend_from_slice(&self.block.to_be_bytes());
        out.push(u8::from(self.block_closed));
        put_key(&mut out, self.last_key);
        out.extend_from_slice(&(self.owner as u64).to_be_bytes());
        let totals = self.totals;
        for value in [
            self.admin_fee.value(),
            self.acc,
            self.carry,
            totals.revenue,
            totals.admin_fees,
            totals.owner_without_members,
            totals.member_shares,
            totals.carried,
            self.reserve,
        ] {
            out.extend_from_slice(&value.to_be_bytes::<32>());
        }
        out.push(u8::from(self.carry_closed));
        out.extend_from_slice(&(self.commits.len() as u64).to_be_bytes());
        for commit in &self.commits {
            put_key(&mut out, commit.key);
            out.extend_from_slice(&commit.book_block.to_be_bytes());
            out.extend_from_slice(commit.root.as_slice());
            out.extend_from_slice(commit.book_hash.as_slice());
            out.extend_from_slice(&commit.timestamp.to_be_bytes());
        }
        out.extend_from_slice(&(self.members.len() as u64).to_be_bytes());
        for member in &self.members {
            out.extend_from_slice(member.address.as_slice());
            out.extend_from_slice(&member.settled.to_be_bytes::<32>());
            out.extend_from_slice(&member.acc_at_join.to_be_bytes::<32>());
            out.push(u8::from(member.active));
        }
        out
    }

    /// Restores a state from [`to_snapshot`](Self::to_snapshot) bytes, checking its invariants.
    pub fn from_snapshot(bytes: &[u8]) -> Result<UnionState, SnapshotError> {
        let mut r = Reader { bytes, at: 0 };
        if r.take(MAGIC.len())? != MAGIC {
            return Err(SnapshotError::BadMagic);
        }
        match r.u8()? {
            VERSION => {}
            version => return Err(SnapshotError::UnsupportedVersion { version }),
        }
        let block = r.u64()?;
        let block_closed = r.flag()?;
        let last_key = r.key()?;
        let owner = r.u64()?;
        let admin_fee = r.u256()?;
        let admin_fee = AdminFee::try_from(admin_fee).map_err(|_| SnapshotError::AdminFee { value: admin_fee })?;
        let acc = r.u256()?;
        let carry = r.u256()?;
        let totals = Totals {
            revenue: r.u256()?,
            admin_fees: r.u256()?,
            owner_without_members: r.u256()?,
            member_shares: r.u256()?,
            carried: r.u256()?,
        };
        let reserve = r.u256()?;
        let carry_closed = r.flag()?;
        let commits = r.commits()?;
        let members = r.members()?;
        if r.at != bytes.len() {
            return Err(SnapshotError::TrailingBytes { count: bytes.len() - r.at });
        }
        let owner = usize::try_from(owner)
            .ok()
            .filter(|&o| o < members.len())
            .ok_or(SnapshotError::OwnerOutOfRange { owner, leaves: members.len() })?;
        if block < last_key.block
            || (!block_closed && block != last_key.block)
            || commits.iter().any(|c| c.key > last_key)
            || commits.windows(2).any(|w| w[0].key >= w[1].key)
        {
            return Err(SnapshotError::KeyOrder);
        }
        let Leaves { index, earnings, active_count } = Leaves::check(&members, acc)?;
        let parts = [totals.admin_fees, totals.owner_without_members, totals.member_shares, carry];
        let split = parts.iter().try_fold(U256::ZERO, |sum, part| sum.checked_add(*part));
        let credited = totals.revenue.checked_add(totals.carried);
        let reserve_left = reserve.is_zero() || !carry_closed;
        if earnings.checked_add(carry) != credited || split != Some(totals.revenue) || !reserve_left {
            return Err(SnapshotError::Inconsistent);
        }
        Ok(UnionState {
            block,
            block_closed,
            last_key,
            owner,
            admin_fee,
            acc,
            carry,
            active_count,
            totals,
            reserve,
            carry_closed,
            commits,
            members,
            index,
        })
    }
}

/// What the members' leaves add up to, checked on the way: one leaf per address, none joined at an
/// accumulator ahead of the union's.
struct Leaves {
    index: AddressMap<usize>,
    earnings: U256,
    active_count: u64,
}

impl Leaves {
    fn check(members: &[Member], acc: U256) -> Result<Leaves, SnapshotError> {
        let mut index = AddressMap::with_capacity_and_hasher(members.len(), Default::default());
        let mut earnings = U256::ZERO;
        let mut active_count = 0u64;
        for (i, member) in members.iter().enumerate() {
            if index.insert(member.address, i).is_some() {
                return Err(SnapshotError::DuplicateLeaf { address: member.address });
            }
            if member.acc_at_join > acc {
                return Err(SnapshotError::AccumulatorAhead { address: member.address });
            }
            let own =
                if member.active { member.settled.checked_add(acc - member.acc_at_join) } else { Some(member.settled) };
            earnings = own.and_then(|own| earnings.checked_add(own)).ok_or(SnapshotError::Inconsistent)?;
            active_count += u64::from(member.active);
        }
        Ok(Leaves { index, earnings, active_count })
    }
}

fn put_key(out: &mut Vec<u8>, key: EventKey) {
    for part in [key.block, key.transaction_index, key.log_index] {
        out.extend_from_slice(&part.to_be_bytes());
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], SnapshotError> {
        let len = self.bytes.len();
        let slice = self.bytes.get(self.at..).and_then(|rest| rest.get(..n)).ok_or(SnapshotError::Truncated {
            at: self.at,
            needed: n,
            len,
        })?;
        self.at += n;
        Ok(slice)
    }

    fn u8(&mut self) -> Result<u8, SnapshotError> {
        Ok(self.take(1)?[0])
    }

    fn flag(&mut self) -> Result<bool, SnapshotError> {
        let at = self.at;
        match self.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            value => Err(SnapshotError::BadFlag { at, value }),
        }
    }

    fn u64(&mut self) -> Result<u64, SnapshotError> {
        let mut word = [0u8; 8];
        word.copy_from_slice(self.take(8)?);
        Ok(u64::from_be_bytes(word))
    }

    fn u256(&mut self) -> Result<U256, SnapshotError> {
        Ok(U256::from_be_slice(self.take(32)?))
    }

    fn b256(&mut self) -> Result<B256, SnapshotError> {
        Ok(B256::from_slice(self.take(32)?))
    }

    fn key(&mut self) -> Result<EventKey, SnapshotError> {
        Ok(EventKey { block: self.u64()?, transaction_index: self.u64()?, log_index: self.u64()? })
    }

    fn commits(&mut self) -> Result<Vec<Commit>, SnapshotError> {
        let count = self.count(COMMIT_LEN)?;
        let mut commits = Vec::with_capacity(count);
        for _ in 0..count {
            commits.push(Commit {
                key: self.key()?,
                book_block: self.u64()?,
                root: self.b256()?,
                book_hash: self.b256()?,
                timestamp: self.u64()?,
            });
        }
        Ok(commits)
    }

    fn members(&mut self) -> Result<Vec<Member>, SnapshotError> {
        let count = self.count(MEMBER_LEN)?;
        let mut members = Vec::with_capacity(count);
        for _ in 0..count {
            members.push(Member {
                address: Address::from_slice(self.take(20)?),
                settled: self.u256()?,
                acc_at_join: self.u256()?,
                active: self.flag()?,
            });
        }
        Ok(members)
    }

    /// A record count, checked against the bytes left so a corrupt count cannot allocate wildly.
    fn count(&mut self, record_len: usize) -> Result<usize, SnapshotError> {
        let at = self.at;
        let count = self.u64()?;
        let left = self.bytes.len() - self.at;
        match usize::try_from(count).ok().and_then(|c| c.checked_mul(record_len)) {
            Some(needed) if needed <= left => Ok(count as usize),
            needed => Err(SnapshotError::Truncated { at, needed: needed.unwrap_or(usize::MAX), len: self.bytes.len() }),
        }
    }
}

#[cfg(test)]
mod tests {
    use alloy_primitives::address;

    use super::*;
    use crate::engine::{Event, EventKind};

    fn sample() -> UnionState {
        let owner = address!("0x00000000000000000000000000000000000000aa");
        let member = address!("0x00000000000000000000000000000000000000bb");
        let mut state = UnionState::new(EventKey::new(1, 0, 0), owner, "100000000000000000".parse().unwrap());
        let events = [
            EventKind::MemberJoined { member },
            EventKind::Revenue { amount: U256::from(1001) },
            EventKind::Committed {
                book_block: 2,
                root: B256::repeat_byte(1),
                book_hash: B256::repeat_byte(2),
                timestamp: 99,
            },
        ];
        for (i, kind) in events.into_iter().enumerate() {
            state.apply(&Event { key: EventKey::new(2, i as u64, 0), kind }).unwrap();
        }
        state
    }

    #[test]
    fn a_snapshot_restores_an_equal_state_with_identical_bytes() {
        let state = sample();
        let bytes = state.to_snapshot();
        let restored = UnionState::from_snapshot(&bytes).unwrap();
        assert_eq!(restored, state);
        assert_eq!(restored.to_snapshot(), bytes);
    }

    #[test]
    fn every_truncation_of_a_snapshot_is_refused() {
        let bytes = sample().to_snapshot();
        for len in 0..bytes.len() {
            assert!(UnionState::from_snapshot(&bytes[..len]).is_err(), "length {len}");
        }
    }

    #[test]
    fn non_canonical_or_corrupt_bytes_are_refused() {
        let bytes = sample().to_snapshot();
        let mut trailing = bytes.clone();
        trailing.push(0);
        assert_eq!(UnionState::from_snapshot(&trailing), Err(SnapshotError::TrailingBytes { count: 1 }));
        let mut flag = bytes.clone();
        flag[15] = 2;
        assert_eq!(UnionState::from_snapshot(&flag), Err(SnapshotError::BadFlag { at: 15, value: 2 }));
        let mut version = bytes.clone();
        version[6] = 9;
        assert_eq!(UnionState::from_snapshot(&version), Err(SnapshotError::UnsupportedVersion { version: 9 }));
        let mut earnings = bytes.clone();
        let last_settled = bytes.len() - 1 - 32 - 1;
        earnings[last_settled] ^= 1;
        assert_eq!(UnionState::from_snapshot(&earnings), Err(SnapshotError::Inconsistent));
        assert_eq!(UnionState::from_snapshot(b"COOPDX\x01"), Err(SnapshotError::BadMagic));
    }

    #[test]
    fn a_huge_leaf_count_is_refused_without_allocating() {
        let mut bytes = sample().to_snapshot();
        let count_at = bytes.len() - 2 * MEMBER_LEN - 8;
        bytes[count_at..count_at + 8].copy_from_slice(&u64::MAX.to_be_bytes());
        assert!(matches!(UnionState::from_snapshot(&bytes), Err(SnapshotError::Truncated { .. })));
    }
}
