// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {UniswapAdapter} from "../UniswapAdapter.sol";

/// @title Test only: a buyer contract that cannot take ETH back
/// @notice It has no `receive`, so the adapter's refund of unused ETH to it fails.
contract EtherRefusingBuyer {
    function buyWithETH(
        UniswapAdapter adapter,
        bytes32 productId,
        uint256 subscriptionSeconds,
        uint256 maxPricePerSecond,
        address beneficiary,
        uint256 deadline
    ) external payable {
        adapter.buyWithETH{value: msg.value}(productId, subscriptionSeconds, maxPricePerSecond, beneficiary, deadline);
    }
}
