// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {Ownable2Step} from "@openzeppelin/contracts/access/Ownable2Step.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";

/// @title The previous version (v1) of the Data Union vault, as deployed
/// @notice Kept, renamed only, to test moving its unions to the current version (`coop migrate`).
/// Revenue is any transfer of `token` into this contract. An off-chain engine splits it among the
/// members and the operator commits the Merkle root of every member's lifetime earnings at a block.
/// After the freeze period a member proves its earnings against a commit and withdraws them.
///
/// Leaf: `keccak256(abi.encodePacked(account, earnings, blockNumber))`; inner nodes hash the sorted pair
/// (OpenZeppelin `MerkleProof`). A commit is frozen while `block.timestamp <= commitTimestamp + freezePeriod`
/// and provable after that, as in Monoplasma (`provableAt` is the first provable second).
///
/// The constructor emits only OpenZeppelin's `OwnershipTransferred(0, owner)` and `JoinPartAgentAdded`;
/// the initial operator, admin fee and freeze period are in the factory's `DataUnionCreated`.
contract DataUnionV1 is Ownable2Step {
    using SafeERC20 for IERC20;

    /// 100 % as an admin fee fraction.
    uint256 public constant FULL_FEE = 1e18;

    IERC20 public immutable token;
    /// Seconds after a commit before it can be proven.
    uint256 public immutable freezePeriod;

    address public operator;
    /// Fraction of each revenue credited to the owner, in 1e18 units.
    uint256 public adminFee;

    mapping(address => bool) public isJoinPartAgent;
    /// Whether an address is an active member (parted members are false).
    mapping(address => bool) public isMember;
    uint256 public activeMemberCount;

    mapping(uint256 => bytes32) public committedRoot;
    mapping(uint256 => bytes32) public committedBookHash;
    mapping(uint256 => uint256) public commitTimestamp;
    /// The block number of the newest commit (meaningful when `commitCount > 0`).
    uint256 public latestCommitBlock;
    uint256 public commitCount;

    /// Lifetime earnings proven on chain, per member.
    mapping(address => uint256) public earnings;
    mapping(address => uint256) public withdrawn;
    uint256 public totalProven;
    uint256 public totalWithdrawn;

    event MemberJoined(address indexed member);
    event MemberParted(address indexed member);
    event JoinPartAgentAdded(address indexed agent);
    event JoinPartAgentRemoved(address indexed agent);
    event OperatorChanged(address indexed previousOperator, address indexed newOperator);
    event AdminFeeChanged(uint256 adminFee);
    event NewCommit(uint256 indexed blockNumber, bytes32 root, bytes32 bookHash);
    event EarningsProven(address indexed member, uint256 indexed blockNumber, uint256 totalEarnings);
    event Withdrawn(address indexed member, address indexed recipient, uint256 amount);

    error ZeroAddress();
    error AdminFeeTooHigh(uint256 adminFee);
    error NotOperator(address caller);
    error NotJoinPartAgent(address caller);
    error EmptyRoot();
    error CommitExists(uint256 blockNumber);
    error CommitOutOfOrder(uint256 blockNumber, uint256 latestCommitBlock);
    error BlockNotMined(uint256 blockNumber);
    error CommitNotFound(uint256 blockNumber);
    error InvalidProof();
    error CommitFrozen(uint256 blockNumber, uint256 provableAt);
    error EarningsNotIncreased(address member, uint256 provenEarnings, uint256 claimedEarnings);
    error InsufficientBalance(uint256 owed, uint256 balance);
    error ZeroWithdraw();
    error Overdraft(address member, uint256 amount, uint256 available);
    error InvalidRecipient(address recipient);
    error RenounceOwnershipDisabled();

    modifier onlyJoinPartAgent() {
        if (!isJoinPartAgent[msg.sender]) revert NotJoinPartAgent(msg.sender);
        _;
    }

    constructor(
        IERC20 token_,
        address owner_,
        address operator_,
        address[] memory joinPartAgents,
        uint256 adminFee_,
        uint256 freezePeriod_
    ) Ownable(owner_) {
        if (address(token_) == address(0) || operator_ == address(0)) revert ZeroAddress();
        if (adminFee_ > FULL_FEE) revert AdminFeeTooHigh(adminFee_);
        token = token_;
        operator = operator_;
        adminFee = adminFee_;
        freezePeriod = freezePeriod_;
        for (uint256 i = 0; i < joinPartAgents.length; i++) {
            _addJoinPartAgent(joinPartAgents[i]);
        }
    }

    // ---- administration (owner) ----

    function setAdminFee(uint256 newAdminFee) external onlyOwner {
        if (newAdminFee > FULL_FEE) revert AdminFeeTooHigh(newAdminFee);
        adminFee = newAdminFee;
        emit AdminFeeChanged(newAdminFee);
    }

    function setOperator(address newOperator) external onlyOwner {
        if (newOperator == address(0)) revert ZeroAddress();
        emit OperatorChanged(operator, newOperator);
        operator = newOperator;
    }

    function addJoinPartAgent(address agent) external onlyOwner {
        _addJoinPartAgent(agent);
    }

    function removeJoinPartAgent(address agent) external onlyOwner {
        if (isJoinPartAgent[agent]) {
            isJoinPartAgent[agent] = false;
            emit JoinPartAgentRemoved(agent);
        }
    }

    /// The owner is credited the admin fee, so the contract must always have one.
    function renounceOwnership() public view override onlyOwner {
        revert RenounceOwnershipDisabled();
    }

    function _addJoinPartAgent(address agent) private {
        if (agent == address(0)) revert ZeroAddress();
        if (!isJoinPartAgent[agent]) {
            isJoinPartAgent[agent] = true;
            emit JoinPartAgentAdded(agent);
        }
    }

    // ---- membership (join-part agents) ----

    /// Activates each address; an address that is already active is skipped without an event,
    /// so a batch never fails because of a duplicate.
    function addMembers(address[] calldata members) external onlyJoinPartAgent {
        uint256 added = 0;
        for (uint256 i = 0; i < members.length; i++) {
            address member = members[i];
            if (member == address(0)) revert ZeroAddress();
            if (!isMember[member]) {
                isMember[member] = true;
                added++;
                emit MemberJoined(member);
            }
        }
        activeMemberCount += added;
    }

    /// Deactivates each address; one that is not active is skipped without an event.
    function partMembers(address[] calldata members) external onlyJoinPartAgent {
        uint256 parted = 0;
        for (uint256 i = 0; i < members.length; i++) {
            address member = members[i];
            if (isMember[member]) {
                isMember[member] = false;
                parted++;
                emit MemberParted(member);
            }
        }
        activeMemberCount -= parted;
    }

    // ---- commits (operator) ----

    /// Commits the root of the earnings book at `blockNumber`, a block already mined. Commits never
    /// overwrite one another and come in increasing block order.
    function commit(uint256 blockNumber, bytes32 root, bytes32 bookHash) external {
        if (msg.sender != operator) revert NotOperator(msg.sender);
        if (root == bytes32(0)) revert EmptyRoot();
        if (committedRoot[blockNumber] != bytes32(0)) revert CommitExists(blockNumber);
        if (commitCount > 0 && blockNumber < latestCommitBlock) {
            revert CommitOutOfOrder(blockNumber, latestCommitBlock);
        }
        if (blockNumber >= block.number) revert BlockNotMined(blockNumber);
        committedRoot[blockNumber] = root;
        committedBookHash[blockNumber] = bookHash;
        commitTimestamp[blockNumber] = block.timestamp;
        latestCommitBlock = blockNumber;
        commitCount++;
        emit NewCommit(blockNumber, root, bookHash);
    }

    // ---- proofs and withdrawals (anyone, for themselves) ----

    function leafHash(address account, uint256 totalEarnings, uint256 blockNumber) public pure returns (bytes32) {
        return keccak256(abi.encodePacked(account, totalEarnings, blockNumber));
    }

    /// Whether `proof` shows `account` had `totalEarnings` in the commit at `blockNumber` (frozen or not).
    function proofIsValid(uint256 blockNumber, address account, uint256 totalEarnings, bytes32[] calldata proof)
        public
        view
        returns (bool)
    {
        bytes32 root = committedRoot[blockNumber];
        return root != bytes32(0)
            && MerkleProof.verifyCalldata(proof, root, leafHash(account, totalEarnings, blockNumber));
    }

    /// The first second at which the commit at `blockNumber` can be proven: strictly after its freeze
    /// period (0 if there is no such commit).
    function provableAt(uint256 blockNumber) public view returns (uint256) {
        uint256 committedAt = commitTimestamp[blockNumber];
        return committedAt == 0 ? 0 : committedAt + freezePeriod + 1;
    }

    /// Proven earnings not yet withdrawn.
    function withdrawable(address member) external view returns (uint256) {
        return earnings[member] - withdrawn[member];
    }

    /// Records `account`'s lifetime earnings from an unfrozen commit. Anyone may prove for anyone.
    function prove(uint256 blockNumber, address account, uint256 totalEarnings, bytes32[] calldata proof) public {
        if (committedRoot[blockNumber] == bytes32(0)) revert CommitNotFound(blockNumber);
        if (!proofIsValid(blockNumber, account, totalEarnings, proof)) revert InvalidProof();
        uint256 unfrozenAt = provableAt(blockNumber);
        if (block.timestamp < unfrozenAt) revert CommitFrozen(blockNumber, unfrozenAt);
        uint256 previous = earnings[account];
        if (totalEarnings <= previous) revert EarningsNotIncreased(account, previous, totalEarnings);
        totalProven += totalEarnings - previous;
        // Bank-run guard: a bad root can never prove more than the contract holds.
        uint256 balance = token.balanceOf(address(this));
        uint256 owed = totalProven - totalWithdrawn;
        if (owed > balance) revert InsufficientBalance(owed, balance);
        earnings[account] = totalEarnings;
        emit EarningsProven(account, blockNumber, totalEarnings);
    }

    /// Proves (when the claim is newer than what is proven) and withdraws everything to the sender.
    function withdrawAll(uint256 blockNumber, uint256 totalEarnings, bytes32[] calldata proof) external {
        _proveIfNewer(blockNumber, msg.sender, totalEarnings, proof);
        _withdraw(msg.sender, msg.sender, earnings[msg.sender] - withdrawn[msg.sender]);
    }

    /// Proves for the sender and sends everything to `recipient`.
    function withdrawAllTo(address recipient, uint256 blockNumber, uint256 totalEarnings, bytes32[] calldata proof)
        external
    {
        _proveIfNewer(blockNumber, msg.sender, totalEarnings, proof);
        _withdraw(msg.sender, recipient, earnings[msg.sender] - withdrawn[msg.sender]);
    }

    /// Anyone may pay a member out, but only to the member itself.
    function withdrawAllFor(address member, uint256 blockNumber, uint256 totalEarnings, bytes32[] calldata proof)
        external
    {
        _proveIfNewer(blockNumber, member, totalEarnings, proof);
        _withdraw(member, member, earnings[member] - withdrawn[member]);
    }

    /// Withdraws `amount` of the sender's proven earnings to the sender.
    function withdraw(uint256 amount) external {
        _withdraw(msg.sender, msg.sender, amount);
    }

    /// Withdraws `amount` of the sender's proven earnings to `recipient`.
    function withdrawTo(address recipient, uint256 amount) external {
        _withdraw(msg.sender, recipient, amount);
    }

    /// A claim equal to what is already proven needs no new proof (someone may have proven for the
    /// member); a smaller one fails in `prove`.
    function _proveIfNewer(uint256 blockNumber, address account, uint256 totalEarnings, bytes32[] calldata proof)
        private
    {
        if (totalEarnings != earnings[account]) prove(blockNumber, account, totalEarnings, proof);
    }

    function _withdraw(address member, address recipient, uint256 amount) private {
        if (amount == 0) revert ZeroWithdraw();
        // A transfer to itself would look like new revenue to the engine.
        if (recipient == address(this) || recipient == address(0)) revert InvalidRecipient(recipient);
        uint256 available = earnings[member] - withdrawn[member];
        if (amount > available) revert Overdraft(member, amount, available);
        withdrawn[member] += amount;
        totalWithdrawn += amount;
        token.safeTransfer(recipient, amount);
        emit Withdrawn(member, recipient, amount);
    }
}
