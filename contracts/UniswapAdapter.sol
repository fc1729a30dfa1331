// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Permit.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Marketplace} from "./Marketplace.sol";

/// The parts of Uniswap V2's Router02 the adapter uses.
interface IUniswapV2Router02 {
    function WETH() external view returns (address);

    function getAmountsIn(uint256 amountOut, address[] calldata path) external view returns (uint256[] memory);

    function swapETHForExactTokens(uint256 amountOut, address[] calldata path, address to, uint256 deadline)
        external
        payable
        returns (uint256[] memory amounts);

    function swapTokensForExactTokens(
        uint256 amountOut,
        uint256 amountInMax,
        address[] calldata path,
        address to,
        uint256 deadline
    ) external returns (uint256[] memory amounts);
}

/// @title Buys Marketplace subscriptions with ETH, any ERC-20 with a Uniswap V2 route, or DATA with permit
/// @notice Every swap is exact-output: the adapter asks the router for exactly the DATA price and pays
/// exactly the input the router needs, which the buyer bounds (`msg.value` or `maxAmountIn`). Unused ETH
/// goes back to the buyer and ERC-20 input is pulled to the wei, so the adapter holds nothing after a call.
/// Routes: ETH -> WETH -> DATA, token -> WETH -> DATA (`pathFrom`).
///
/// Every purchase carries the terms the buyer agreed to (the most it pays per second and the
/// beneficiary), which the marketplace checks.
contract UniswapAdapter {
    using SafeERC20 for IERC20;

    Marketplace public immutable marketplace;
    IUniswapV2Router02 public immutable router;
    IERC20 public immutable dataToken;
    address public immutable weth;

    error DeadlineExpired(uint256 deadline, uint256 timestamp);
    error MaxInputTooSmall(uint256 requiredInput, uint256 maxInput);
    error PermitFailed();
    error RefundFailed(address buyer, uint256 amount);

    constructor(Marketplace marketplace_, IUniswapV2Router02 router_) {
        marketplace = marketplace_;
        router = router_;
        dataToken = marketplace_.token();
        weth = router_.WETH();
    }

    /// The swap route from `tokenIn` (WETH or `address(0)` for ETH) to DATA.
    function pathFrom(address tokenIn) public view returns (address[] memory path) {
        if (tokenIn == address(0) || tokenIn == weth) {
            path = new address[](2);
            path[0] = weth;
            path[1] = address(dataToken);
        } else {
            path = new address[](3);
            path[0] = tokenIn;
            path[1] = weth;
            path[2] = address(dataToken);
        }
    }

    /// What a purchase of `subscriptionSeconds` costs in `tokenIn` now (`address(0)`: ETH; DATA: the price).
    function quote(bytes32 productId, uint256 subscriptionSeconds, address tokenIn) external view returns (uint256) {
        uint256 price = marketplace.priceOf(productId, subscriptionSeconds);
        if (tokenIn == address(dataToken)) return price;
        return router.getAmountsIn(price, pathFrom(tokenIn))[0];
    }

    /// Pays with ETH: at most `msg.value`, the rest is refunded.
    function buyWithETH(
        bytes32 productId,
        uint256 subscriptionSeconds,
        uint256 maxPricePerSecond,
        address beneficiary,
        uint256 deadline
    ) external payable {
        _checkDeadline(deadline);
        uint256 price = marketplace.priceOf(productId, subscriptionSeconds);
        address[] memory path = pathFrom(weth);
        uint256 amountIn = router.getAmountsIn(price, path)[0];
        if (amountIn > msg.value) revert MaxInputTooSmall(amountIn, msg.value);
        // Sending exactly what the router needs means it has nothing to refund to us.
        router.swapETHForExactTokens{value: amountIn}(price, path, address(this), deadline);
        _buyFor(productId, subscriptionSeconds, price, maxPricePerSecond, beneficiary);
        uint256 refund = msg.value - amountIn;
        if (refund > 0) {
            (bool ok,) = msg.sender.call{value: refund}("");
            if (!ok) revert RefundFailed(msg.sender, refund);
        }
    }

    /// Pays with an ERC-20 approved to this adapter: pulls exactly the swap's input, at most `maxAmountIn`.
    function buyWithERC20(
        bytes32 productId,
        uint256 subscriptionSeconds,
        uint256 maxPricePerSecond,
        address beneficiary,
        IERC20 tokenIn,
        uint256 maxAmountIn,
        uint256 deadline
    ) external {
        _checkDeadline(deadline);
        uint256 price = marketplace.priceOf(productId, subscriptionSeconds);
        if (address(tokenIn) == address(dataToken)) {
            if (price > maxAmountIn) revert MaxInputTooSmall(price, maxAmountIn);
            dataToken.safeTransferFrom(msg.sender, address(this), price);
        } else {
            address[] memory path = pathFrom(address(tokenIn));
            uint256 amountIn = router.getAmountsIn(price, path)[0];
            if (amountIn > maxAmountIn) revert MaxInputTooSmall(amountIn, maxAmountIn);
            tokenIn.safeTransferFrom(msg.sender, address(this), amountIn);
            tokenIn.forceApprove(address(router), amountIn);
            router.swapTokensForExactTokens(price, amountIn, path, address(this), deadline);
        }
        _buyFor(productId, subscriptionSeconds, price, maxPricePerSecond, beneficiary);
    }

    /// Pays with DATA in one transaction: an EIP-2612 permit to this adapter for the agreed price
    /// (`maxPricePerSecond * subscriptionSeconds`). If the permit was already used (for example
    /// front-run), an existing allowance is enough; the agreed terms still bound what is paid.
    function buyWithDataPermit(
        bytes32 productId,
        uint256 subscriptionSeconds,
        uint256 maxPricePerSecond,
        address beneficiary,
        uint256 deadline,
        uint8 v,
        bytes32 r,
        bytes32 s
    ) external {
        _checkDeadline(deadline);
        uint256 price = marketplace.priceOf(productId, subscriptionSeconds);
        uint256 agreed = maxPricePerSecond * subscriptionSeconds;
        try IERC20Permit(address(dataToken)).permit(msg.sender, address(this), agreed, deadline, v, r, s) {}
        catch {
            if (dataToken.allowance(msg.sender, address(this)) < price) revert PermitFailed();
        }
        dataToken.safeTransferFrom(msg.sender, address(this), price);
        _buyFor(productId, subscriptionSeconds, price, maxPricePerSecond, beneficiary);
    }

    function _buyFor(
        bytes32 productId,
        uint256 subscriptionSeconds,
        uint256 price,
        uint256 maxPricePerSecond,
        address beneficiary
    ) private {
        dataToken.forceApprove(address(marketplace), price);
        marketplace.buyFor(productId, subscriptionSeconds, msg.sender, maxPricePerSecond, beneficiary);
    }

    function _checkDeadline(uint256 deadline) private view {
        if (deadline < block.timestamp) revert DeadlineExpired(deadline, block.timestamp);
    }
}
