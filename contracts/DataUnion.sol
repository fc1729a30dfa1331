// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {Ownable2Step} from "@openzeppelin/contracts/access/Ownable2Step.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";

/// @title A Data Union vault in the Monoplasma style
/// @notice Revenue is any transfer of `token` into this contract. An off-chain engine splits it among the
/// members and the operator commits the Merkle root of every member's lifetime earnings at a block.
/// After the freeze period a member proves its earnings against a commit and withdraws them.
///
/// Leaf: `keccak256(abi.encodePacked(account, earnings, blockNumber))`; inner nodes hash the sorted pair
/// (OpenZeppelin `MerkleProof`). A commit is frozen while `block.timestamp <= commitTimestamp + freezePeriod`
/// and provable after that, as in Monoplasma (`provableAt` is the first provable second).
///
/// Members are protected from the owner and the operator (docs/threat-model.md):
/// - the owner's changes that could hurt members (a new operator, a higher admin fee, a validator fewer)
///   take effect one freeze period after they are announced, so members see them coming;
/// - validators named by the owner can veto a commit while it is frozen, and anyone can prove a member's
///   earnings from an older commit, which the bank-run guard then keeps for it;
/// - a commit names the hash of the block whose book it is, so it cannot be replayed on another fork.
///
/// Each union is a minimal proxy (EIP-1167) of one implementation, set up once by `initialize`, which
/// emits only OpenZeppelin's `OwnershipTransferred(0, owner)`, `JoinPartAgentAdded` and `ValidatorAdded`,
/// after the factory's `DataUnionCreated` that carries the initial operator, admin fee and freeze period.
contract DataUnion is Ownable2Step, EIP712 {
    using SafeERC20 for IERC20;

    /// 100 % as an admin fee fraction.
    uint256 public constant FULL_FEE = 1e18;

    /// What a member signs (EIP-712) so that anyone may withdraw its earnings for it.
    bytes32 public constant WITHDRAWAL_TYPEHASH =
        keccak256("Withdrawal(address member,address recipient,uint256 fee,uint256 nonce,uint256 deadline)");

    /// The longest freeze period: longer ones would push `provableAt` past any timestamp.
    uint256 public constant MAX_FREEZE_PERIOD = 365 days;

    IERC20 public token;
    /// Seconds after a commit before it can be proven; also how long the owner's changes wait.
    uint256 public freezePeriod;
    bool private initialized;

    address public operator;
    /// Fraction of each revenue credited to the owner, in 1e18 units.
    uint256 public adminFee;

    /// An operator announced by the owner, and the first second it may take over (0: none).
    address public pendingOperator;
    uint256 public operatorChangeAt;
    /// A higher admin fee announced by the owner, and the first second it may apply (0: none).
    uint256 public pendingAdminFee;
    uint256 public adminFeeChangeAt;

    /// Validators may veto a frozen commit. Adding one is at once; removing one waits.
    mapping(address => bool) public isValidator;
    /// When a validator's announced removal may be applied (0: none announced).
    mapping(address => uint256) public validatorRemovalAt;

    mapping(address => bool) public isJoinPartAgent;
    /// Whether an address is an active member (parted members are false).
    mapping(address => bool) public isMember;
    uint256 public activeMemberCount;

    mapping(uint256 => bytes32) public committedRoot;
    mapping(uint256 => bytes32) public committedBookHash;
    mapping(uint256 => uint256) public commitTimestamp;
    /// The block number of the newest commit (meaningful when `commitCount > 0`; vetoed ones count).
    uint256 public latestCommitBlock;
    uint256 public commitCount;

    /// Lifetime earnings proven on chain, per member.
    mapping(address => uint256) public earnings;
    mapping(address => uint256) public withdrawn;
    uint256 public totalProven;
    uint256 public totalWithdrawn;
    /// The nonce a member's next signed withdrawal carries.
    mapping(address => uint256) public withdrawalNonce;

    /// The union this one took over from (`startMigration`; zero: none), the earnings carried over
    /// from it so far, and whether that carry is closed.
    address public predecessor;
    uint256 public carriedTotal;
    bool public carryClosed;

    event MemberJoined(address indexed member);
    event MemberParted(address indexed member);
    event JoinPartAgentAdded(address indexed agent);
    event JoinPartAgentRemoved(address indexed agent);
    event OperatorChanged(address indexed previousOperator, address indexed newOperator);
    event OperatorChangeAnnounced(address indexed newOperator, uint256 effectiveAt);
    event AdminFeeChanged(uint256 adminFee);
    event AdminFeeChangeAnnounced(uint256 adminFee, uint256 effectiveAt);
    event ValidatorAdded(address indexed validator);
    event ValidatorRemovalAnnounced(address indexed validator, uint256 effectiveAt);
    event ValidatorRemoved(address indexed validator);
    event NewCommit(uint256 indexed blockNumber, bytes32 root, bytes32 bookHash);
    event CommitVetoed(uint256 indexed blockNumber, address indexed validator);
    event EarningsProven(address indexed member, uint256 indexed blockNumber, uint256 totalEarnings);
    event Withdrawn(address indexed member, address indexed recipient, uint256 amount);
    event MigrationStarted(address indexed predecessor);
    event EarningsCarried(address indexed member, uint256 amount);
    event CarryClosed(uint256 carriedTotal);

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
    error AlreadyInitialized();
    error FreezePeriodTooLong(uint256 freezePeriod, uint256 maximum);
    error NoChangeAnnounced();
    error ChangeNotDue(uint256 effectiveAt, uint256 timestamp);
    error BlockHashMismatch(uint256 blockNumber, bytes32 expected, bytes32 actual);
    error NotValidator(address caller);
    error CommitNotFrozen(uint256 blockNumber);
    error SignatureExpired(uint256 deadline, uint256 timestamp);
    error InvalidSignature();
    error FeeTooHigh(uint256 fee, uint256 available);
    error MigrationAlreadyStarted(address predecessor);
    error NoMigration();
    error CarryIsClosed();
    error LengthMismatch(uint256 members, uint256 amounts);
    error CarryNotReceived(uint256 carried, uint256 received);

    modifier onlyJoinPartAgent() {
        if (!isJoinPartAgent[msg.sender]) revert NotJoinPartAgent(msg.sender);
        _;
    }

    /// The implementation itself is never set up; only its clones are.
    /// Every clone shares the implementation's name and version; its own address is the verifying contract.
    constructor() Ownable(msg.sender) EIP712("Coop Data Union", "2") {
        initialized = true;
    }

    /// Sets a fresh clone up, once: the factory calls it in the transaction that creates the clone.
    function initialize(
        IERC20 token_,
        address owner_,
        address operator_,
        address[] calldata joinPartAgents,
        address[] calldata validators,
        uint256 adminFee_,
        uint256 freezePeriod_
    ) external {
        if (initialized) revert AlreadyInitialized();
        initialized = true;
        if (address(token_) == address(0) || operator_ == address(0) || owner_ == address(0)) revert ZeroAddress();
        if (adminFee_ > FULL_FEE) revert AdminFeeTooHigh(adminFee_);
        if (freezePeriod_ > MAX_FREEZE_PERIOD) revert FreezePeriodTooLong(freezePeriod_, MAX_FREEZE_PERIOD);
        _transferOwnership(owner_);
        token = token_;
        operator = operator_;
        adminFee = adminFee_;
        freezePeriod = freezePeriod_;
        for (uint256 i = 0; i < joinPartAgents.length; i++) {
            _addJoinPartAgent(joinPartAgents[i]);
        }
        for (uint256 i = 0; i < validators.length; i++) {
            _addValidator(validators[i]);
        }
    }

    // ---- administration (owner) ----

    /// A lower fee applies at once; a higher one is announced and applies a freeze period later
    /// (`applyAdminFeeChange`), so no purchase is split under a fee its members did not see coming.
    /// With no active member a rise applies at once too: the fee splits only later revenue, and with
    /// nobody to share it the owner gets all of it anyway.
    function setAdminFee(uint256 newAdminFee) external onlyOwner {
        if (newAdminFee > FULL_FEE) revert AdminFeeTooHigh(newAdminFee);
        if (newAdminFee <= adminFee || freezePeriod == 0 || activeMemberCount == 0) {
            delete pendingAdminFee;
            delete adminFeeChangeAt;
            _setAdminFee(newAdminFee);
            return;
        }
        pendingAdminFee = newAdminFee;
        adminFeeChangeAt = block.timestamp + freezePeriod;
        emit AdminFeeChangeAnnounced(newAdminFee, adminFeeChangeAt);
    }

    /// Anyone applies an announced fee once it is due.
    function applyAdminFeeChange() external {
        uint256 effectiveAt = adminFeeChangeAt;
        if (effectiveAt == 0) revert NoChangeAnnounced();
        if (block.timestamp < effectiveAt) revert ChangeNotDue(effectiveAt, block.timestamp);
        uint256 newAdminFee = pendingAdminFee;
        delete pendingAdminFee;
        delete adminFeeChangeAt;
        _setAdminFee(newAdminFee);
    }

    /// Announces a new operator, who takes over a freeze period later (`applyOperatorChange`): members
    /// have that long, and the freeze period of the new operator's first commit, to prove their earnings.
    /// A new announcement replaces the pending one; announcing the current operator cancels it.
    function setOperator(address newOperator) external onlyOwner {
        if (newOperator == address(0)) revert ZeroAddress();
        if (newOperator == operator || freezePeriod == 0) {
            delete pendingOperator;
            delete operatorChangeAt;
            _setOperator(newOperator);
            return;
        }
        pendingOperator = newOperator;
        operatorChangeAt = block.timestamp + freezePeriod;
        emit OperatorChangeAnnounced(newOperator, operatorChangeAt);
    }

    /// Anyone applies an announced operator change once it is due.
    function applyOperatorChange() external {
        uint256 effectiveAt = operatorChangeAt;
        if (effectiveAt == 0) revert NoChangeAnnounced();
        if (block.timestamp < effectiveAt) revert ChangeNotDue(effectiveAt, block.timestamp);
        address newOperator = pendingOperator;
        delete pendingOperator;
        delete operatorChangeAt;
        _setOperator(newOperator);
    }

    function addValidator(address validator) external onlyOwner {
        delete validatorRemovalAt[validator];
        _addValidator(validator);
    }

    /// Announces a validator's removal, which applies a freeze period later (`applyValidatorRemoval`):
    /// an owner cannot silence the validators right before a bad commit.
    function removeValidator(address validator) external onlyOwner {
        if (!isValidator[validator]) revert NotValidator(validator);
        uint256 effectiveAt = block.timestamp + freezePeriod;
        validatorRemovalAt[validator] = effectiveAt;
        emit ValidatorRemovalAnnounced(validator, effectiveAt);
        if (freezePeriod == 0) applyValidatorRemoval(validator);
    }

    function applyValidatorRemoval(address validator) public {
        uint256 effectiveAt = validatorRemovalAt[validator];
        if (effectiveAt == 0) revert NoChangeAnnounced();
        if (block.timestamp < effectiveAt) revert ChangeNotDue(effectiveAt, block.timestamp);
        delete validatorRemovalAt[validator];
        isValidator[validator] = false;
        emit ValidatorRemoved(validator);
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

    function _setAdminFee(uint256 newAdminFee) private {
        adminFee = newAdminFee;
        emit AdminFeeChanged(newAdminFee);
    }

    function _setOperator(address newOperator) private {
        emit OperatorChanged(operator, newOperator);
        operator = newOperator;
    }

    function _addValidator(address validator) private {
        if (validator == address(0)) revert ZeroAddress();
        if (!isValidator[validator]) {
            isValidator[validator] = true;
            emit ValidatorAdded(validator);
        }
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
    /// so a batch never fails because of a duplicate. The union itself is skipped too: it could never
    /// withdraw what it earned, since paying itself would look like revenue.
    function addMembers(address[] calldata members) external onlyJoinPartAgent {
        uint256 added = 0;
        for (uint256 i = 0; i < members.length; i++) {
            address member = members[i];
            if (member == address(0)) revert ZeroAddress();
            if (!isMember[member] && member != address(this)) {
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

    // ---- migration from a union of the previous version (owner) ----
    //
    // The previous union's owner and operator make a final commit there that gives this union everything
    // no member has proven; this union withdraws it (`withdrawAllFor` on the predecessor) and the owner
    // declares, per member, the earnings the final book gave it beyond what it proved there. Those are
    // credited in this union's book, so a member withdraws old and new earnings with one proof. The
    // engine credits carried earnings only out of what actually arrived from the predecessor, and what
    // arrives beyond them, or after `closeCarry`, is revenue (docs/contracts.md, "Migration").

    /// Names the union this one takes over from; once, before the first commit.
    function startMigration(address previousUnion) external onlyOwner {
        if (predecessor != address(0)) revert MigrationAlreadyStarted(predecessor);
        if (previousUnion == address(0)) revert ZeroAddress();
        if (previousUnion == address(this)) revert InvalidRecipient(previousUnion);
        if (commitCount > 0) revert CommitExists(latestCommitBlock);
        predecessor = previousUnion;
        emit MigrationStarted(previousUnion);
    }

    /// Declares earnings carried over from the predecessor, never more in all than it has paid this
    /// union. Zero amounts are skipped; batches keep a large union within the block gas limit.
    function carryEarnings(address[] calldata members, uint256[] calldata amounts) external onlyOwner {
        if (predecessor == address(0)) revert NoMigration();
        if (carryClosed) revert CarryIsClosed();
        if (members.length != amounts.length) revert LengthMismatch(members.length, amounts.length);
        uint256 total = carriedTotal;
        for (uint256 i = 0; i < members.length; i++) {
            address member = members[i];
            if (member == address(0)) revert ZeroAddress();
            if (member == address(this)) revert InvalidRecipient(member);
            if (amounts[i] == 0) continue;
            total += amounts[i];
            emit EarningsCarried(member, amounts[i]);
        }
        uint256 received = IPredecessor(predecessor).withdrawn(address(this));
        if (total > received) revert CarryNotReceived(total, received);
        carriedTotal = total;
    }

    /// Ends the carry: whatever the predecessor sent beyond the carried earnings, and everything it
    /// sends later, is revenue of this union.
    function closeCarry() external onlyOwner {
        if (predecessor == address(0)) revert NoMigration();
        if (carryClosed) revert CarryIsClosed();
        carryClosed = true;
        emit CarryClosed(carriedTotal);
    }

    // ---- commits (operator) ----

    /// Commits the root of the earnings book at `blockNumber`, a block already mined whose hash is
    /// `blockHash` (one of the last 256: a commit built on a block that a reorganisation dropped is
    /// refused). Commits never overwrite one another and come in increasing block order; a vetoed
    /// commit's block may be committed again.
    function commit(uint256 blockNumber, bytes32 blockHash, bytes32 root, bytes32 bookHash) external {
        if (msg.sender != operator) revert NotOperator(msg.sender);
        if (root == bytes32(0)) revert EmptyRoot();
        if (committedRoot[blockNumber] != bytes32(0)) revert CommitExists(blockNumber);
        if (commitCount > 0 && blockNumber < latestCommitBlock) {
            revert CommitOutOfOrder(blockNumber, latestCommitBlock);
        }
        if (blockNumber >= block.number) revert BlockNotMined(blockNumber);
        bytes32 actual = blockhash(blockNumber);
        if (actual != blockHash) revert BlockHashMismatch(blockNumber, blockHash, actual);
        committedRoot[blockNumber] = root;
        committedBookHash[blockNumber] = bookHash;
        commitTimestamp[blockNumber] = block.timestamp;
        latestCommitBlock = blockNumber;
        commitCount++;
        emit NewCommit(blockNumber, root, bookHash);
    }

    /// A validator stops a commit it found wrong, while the commit is still frozen. Members keep
    /// proving against older commits; the operator commits a correct book again.
    function vetoCommit(uint256 blockNumber) external {
        if (!isValidator[msg.sender]) revert NotValidator(msg.sender);
        if (committedRoot[blockNumber] == bytes32(0)) revert CommitNotFound(blockNumber);
        if (block.timestamp >= provableAt(blockNumber)) revert CommitNotFrozen(blockNumber);
        delete committedRoot[blockNumber];
        delete committedBookHash[blockNumber];
        delete commitTimestamp[blockNumber];
        emit CommitVetoed(blockNumber, msg.sender);
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

    /// Withdraws everything proven for `member` (proving `totalEarnings` first when it is newer), as the
    /// member signed (EIP-712 `Withdrawal`, or EIP-1271 for a contract wallet): `fee` to the sender, who
    /// pays the gas, and the rest to `recipient`. A member without ETH withdraws through a relayer so.
    /// The signature is used once (`withdrawalNonce`) and only until `deadline`.
    function withdrawAllToSigned(
        address member,
        address recipient,
        uint256 fee,
        uint256 deadline,
        uint256 blockNumber,
        uint256 totalEarnings,
        bytes32[] calldata proof,
        bytes calldata signature
    ) external {
        if (block.timestamp > deadline) revert SignatureExpired(deadline, block.timestamp);
        uint256 nonce = withdrawalNonce[member];
        bytes32 digest =
            _hashTypedDataV4(keccak256(abi.encode(WITHDRAWAL_TYPEHASH, member, recipient, fee, nonce, deadline)));
        if (!SignatureChecker.isValidSignatureNow(member, digest, signature)) revert InvalidSignature();
        withdrawalNonce[member] = nonce + 1;
        _proveIfNewer(blockNumber, member, totalEarnings, proof);
        uint256 available = earnings[member] - withdrawn[member];
        if (available == 0) revert ZeroWithdraw();
        if (fee >= available) revert FeeTooHigh(fee, available);
        if (fee > 0) _withdraw(member, msg.sender, fee);
        _withdraw(member, recipient, available - fee);
    }

    /// Withdraws `amount` of the sender's proven earnings to the sender.
    function withdraw(uint256 amount) external {
        _withdraw(msg.sender, msg.sender, amount);
    }

    /// Withdraws `amount` of the sender's proven earnings to `recipient`.
    function withdrawTo(address recipient, uint256 amount) external {
        _withdraw(msg.sender, recipient, amount);
    }

    /// A claim no larger than what is already proven needs no proof: someone may have proven a newer
    /// commit for the member first, which must not make the member's withdrawal fail.
    function _proveIfNewer(uint256 blockNumber, address account, uint256 totalEarnings, bytes32[] calldata proof)
        private
    {
        if (totalEarnings > earnings[account]) prove(blockNumber, account, totalEarnings, proof);
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

/// What a migration reads from the union it takes over from (the previous version's `withdrawn`).
interface IPredecessor {
    function withdrawn(address member) external view returns (uint256);
}
