// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";

/// @title Time-based subscriptions to data products, paid in DATA
/// @notice Modelled on Streamr's Marketplace (2020) without currencies, whitelists or a marketplace owner.
/// A purchase transfers `pricePerSecond * seconds` DATA from the payer straight to the product's
/// beneficiary; for a Data Union product the beneficiary is the DU contract, so the purchase is its revenue.
/// A product priced at 0 is free: anyone subscribes through `buy` with a maximum of 0, paying nothing, and
/// the subscription is recorded like a paid one.
///
/// A product's id is derived from its owner and a salt the owner picks (`productIdOf`), so nobody can
/// take an id in front of its seller. A purchase names the most it pays per second and the beneficiary
/// the buyer agreed to: an owner who raises the price or repoints the beneficiary in front of it makes it
/// fail instead of charging more or paying someone else.
contract Marketplace {
    using SafeERC20 for IERC20;

    enum ProductState {
        NotDeployed,
        Deployed
    }

    struct Product {
        bytes32 id;
        string name;
        address owner;
        address beneficiary;
        uint256 pricePerSecond;
        uint256 minimumSubscriptionSeconds;
        ProductState state;
        address newOwnerCandidate;
    }

    IERC20 public immutable token;

    mapping(bytes32 => Product) private products;
    mapping(bytes32 => mapping(address => uint256)) private subscriptionEnds;

    event ProductCreated(
        address indexed owner,
        bytes32 indexed id,
        string name,
        address beneficiary,
        uint256 pricePerSecond,
        uint256 minimumSubscriptionSeconds
    );
    event ProductUpdated(
        address indexed owner,
        bytes32 indexed id,
        string name,
        address beneficiary,
        uint256 pricePerSecond,
        uint256 minimumSubscriptionSeconds
    );
    event ProductDeleted(
        address indexed owner,
        bytes32 indexed id,
        string name,
        address beneficiary,
        uint256 pricePerSecond,
        uint256 minimumSubscriptionSeconds
    );
    event ProductRedeployed(
        address indexed owner,
        bytes32 indexed id,
        string name,
        address beneficiary,
        uint256 pricePerSecond,
        uint256 minimumSubscriptionSeconds
    );
    event ProductOwnershipOffered(address indexed owner, bytes32 indexed id, address indexed to);
    event ProductOwnershipChanged(address indexed newOwner, bytes32 indexed id, address indexed oldOwner);
    /// Every purchase or grant; `endTimestamp` is the subscription's new end.
    event Subscribed(bytes32 indexed productId, address indexed subscriber, uint256 endTimestamp);
    /// A subscription that had ended (or never existed) starts again.
    event NewSubscription(bytes32 indexed productId, address indexed subscriber, uint256 endTimestamp);
    /// A running subscription gets longer.
    event SubscriptionExtended(bytes32 indexed productId, address indexed subscriber, uint256 endTimestamp);
    /// What was paid, by whom; not emitted for grants.
    event Purchased(
        bytes32 indexed productId, address indexed subscriber, address indexed payer, uint256 addSeconds, uint256 price
    );

    error ProductExists(bytes32 productId);
    error ProductNotFound(bytes32 productId);
    error NotProductOwner(bytes32 productId, address caller);
    error ZeroAddress();
    error ProductNotDeployed(bytes32 productId);
    error ProductAlreadyDeployed(bytes32 productId);
    error NotOwnershipCandidate(bytes32 productId, address caller);
    error SubscriptionTooShort(uint256 addSeconds, uint256 minimumSubscriptionSeconds);
    error ZeroSeconds();
    error TermsChanged(bytes32 productId, uint256 pricePerSecond, address beneficiary);

    modifier onlyProductOwner(bytes32 productId) {
        Product storage p = products[productId];
        if (p.id == bytes32(0)) revert ProductNotFound(productId);
        if (p.owner != msg.sender) revert NotProductOwner(productId, msg.sender);
        _;
    }

    constructor(IERC20 token_) {
        if (address(token_) == address(0)) revert ZeroAddress();
        token = token_;
    }

    // ---- products ----

    /// The id of the product `owner` creates with `salt`.
    function productIdOf(address owner, bytes32 salt) public pure returns (bytes32) {
        return keccak256(abi.encode(owner, salt));
    }

    /// Lists a product owned by the caller, whose id is `productIdOf(msg.sender, salt)`. Ids are never
    /// reused, even after deletion.
    function createProduct(
        bytes32 salt,
        string calldata name,
        address beneficiary,
        uint256 pricePerSecond,
        uint256 minimumSubscriptionSeconds
    ) external returns (bytes32 id) {
        id = productIdOf(msg.sender, salt);
        if (products[id].id != bytes32(0)) revert ProductExists(id);
        _checkTerms(beneficiary);
        products[id] = Product({
            id: id,
            name: name,
            owner: msg.sender,
            beneficiary: beneficiary,
            pricePerSecond: pricePerSecond,
            minimumSubscriptionSeconds: minimumSubscriptionSeconds,
            state: ProductState.Deployed,
            newOwnerCandidate: address(0)
        });
        emit ProductCreated(msg.sender, id, name, beneficiary, pricePerSecond, minimumSubscriptionSeconds);
    }

    function updateProduct(
        bytes32 productId,
        string calldata name,
        address beneficiary,
        uint256 pricePerSecond,
        uint256 minimumSubscriptionSeconds
    ) external onlyProductOwner(productId) {
        _checkTerms(beneficiary);
        Product storage p = products[productId];
        p.name = name;
        p.beneficiary = beneficiary;
        p.pricePerSecond = pricePerSecond;
        p.minimumSubscriptionSeconds = minimumSubscriptionSeconds;
        emit ProductUpdated(p.owner, productId, name, beneficiary, pricePerSecond, minimumSubscriptionSeconds);
    }

    /// Unlists a product: it cannot be bought until redeployed. Subscriptions keep running.
    function deleteProduct(bytes32 productId) external onlyProductOwner(productId) {
        Product storage p = products[productId];
        if (p.state != ProductState.Deployed) revert ProductNotDeployed(productId);
        p.state = ProductState.NotDeployed;
        emit ProductDeleted(p.owner, productId, p.name, p.beneficiary, p.pricePerSecond, p.minimumSubscriptionSeconds);
    }

    function redeployProduct(bytes32 productId) external onlyProductOwner(productId) {
        Product storage p = products[productId];
        if (p.state != ProductState.NotDeployed) revert ProductAlreadyDeployed(productId);
        p.state = ProductState.Deployed;
        emit ProductRedeployed(
            p.owner, productId, p.name, p.beneficiary, p.pricePerSecond, p.minimumSubscriptionSeconds
        );
    }

    /// First step of an ownership transfer; `address(0)` withdraws a pending offer.
    function offerProductOwnership(bytes32 productId, address newOwnerCandidate)
        external
        onlyProductOwner(productId)
    {
        products[productId].newOwnerCandidate = newOwnerCandidate;
        emit ProductOwnershipOffered(msg.sender, productId, newOwnerCandidate);
    }

    /// Second step: the candidate accepts.
    function claimProductOwnership(bytes32 productId) external {
        Product storage p = products[productId];
        if (p.id == bytes32(0)) revert ProductNotFound(productId);
        if (p.newOwnerCandidate != msg.sender || msg.sender == address(0)) {
            revert NotOwnershipCandidate(productId, msg.sender);
        }
        address oldOwner = p.owner;
        p.owner = msg.sender;
        p.newOwnerCandidate = address(0);
        emit ProductOwnershipChanged(msg.sender, productId, oldOwner);
    }

    function getProduct(bytes32 productId)
        external
        view
        returns (
            string memory name,
            address owner,
            address beneficiary,
            uint256 pricePerSecond,
            uint256 minimumSubscriptionSeconds,
            ProductState state,
            address newOwnerCandidate
        )
    {
        Product storage p = _product(productId);
        return (
            p.name,
            p.owner,
            p.beneficiary,
            p.pricePerSecond,
            p.minimumSubscriptionSeconds,
            p.state,
            p.newOwnerCandidate
        );
    }

    /// The DATA price of `addSeconds` of `productId`.
    function priceOf(bytes32 productId, uint256 addSeconds) public view returns (uint256) {
        return _product(productId).pricePerSecond * addSeconds;
    }

    // ---- subscriptions ----

    /// Buys `addSeconds` at no more than `maxPricePerSecond`, paid to `beneficiary`: the terms the buyer saw.
    function buy(bytes32 productId, uint256 addSeconds, uint256 maxPricePerSecond, address beneficiary) external {
        _buyFor(productId, addSeconds, msg.sender, maxPricePerSecond, beneficiary);
    }

    /// The caller pays; `subscriber` gets the subscription (used by the Uniswap adapter).
    function buyFor(
        bytes32 productId,
        uint256 addSeconds,
        address subscriber,
        uint256 maxPricePerSecond,
        address beneficiary
    ) external {
        _buyFor(productId, addSeconds, subscriber, maxPricePerSecond, beneficiary);
    }

    /// A free subscription from the product's owner.
    function grantSubscription(bytes32 productId, uint256 addSeconds, address subscriber)
        external
        onlyProductOwner(productId)
    {
        _subscribe(productId, addSeconds, subscriber);
    }

    function getSubscription(bytes32 productId, address subscriber)
        external
        view
        returns (bool isValid, uint256 endTimestamp)
    {
        _product(productId);
        endTimestamp = subscriptionEnds[productId][subscriber];
        isValid = endTimestamp > block.timestamp;
    }

    function hasValidSubscription(bytes32 productId, address subscriber) external view returns (bool) {
        return subscriptionEnds[productId][subscriber] > block.timestamp;
    }

    function _buyFor(
        bytes32 productId,
        uint256 addSeconds,
        address subscriber,
        uint256 maxPricePerSecond,
        address beneficiary
    ) private {
        Product storage p = _subscribe(productId, addSeconds, subscriber);
        if (p.pricePerSecond > maxPricePerSecond || p.beneficiary != beneficiary) {
            revert TermsChanged(productId, p.pricePerSecond, p.beneficiary);
        }
        uint256 price = p.pricePerSecond * addSeconds;
        // A free product (price 0) moves no token: anyone subscribes with `buy(id, seconds, 0, beneficiary)`,
        // and a price the seller sets later is refused above, so such a buyer never pays.
        if (price > 0) token.safeTransferFrom(msg.sender, p.beneficiary, price);
        emit Purchased(productId, subscriber, msg.sender, addSeconds, price);
    }

    function _subscribe(bytes32 productId, uint256 addSeconds, address subscriber)
        private
        returns (Product storage p)
    {
        p = _product(productId);
        if (p.state != ProductState.Deployed) revert ProductNotDeployed(productId);
        if (subscriber == address(0)) revert ZeroAddress();
        if (addSeconds == 0) revert ZeroSeconds();
        uint256 end = subscriptionEnds[productId][subscriber];
        if (end > block.timestamp) {
            end += addSeconds;
            emit SubscriptionExtended(productId, subscriber, end);
        } else {
            if (addSeconds < p.minimumSubscriptionSeconds) {
                revert SubscriptionTooShort(addSeconds, p.minimumSubscriptionSeconds);
            }
            end = block.timestamp + addSeconds;
            emit NewSubscription(productId, subscriber, end);
        }
        subscriptionEnds[productId][subscriber] = end;
        emit Subscribed(productId, subscriber, end);
    }

    function _product(bytes32 productId) private view returns (Product storage p) {
        p = products[productId];
        if (p.id == bytes32(0)) revert ProductNotFound(productId);
    }

    /// Any price is allowed, 0 too: open data and trials are free products.
    function _checkTerms(address beneficiary) private pure {
        if (beneficiary == address(0)) revert ZeroAddress();
    }
}
